//! The `ledger` command line: serve, migrate, replay, audit, export, verify-export, admin.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;
use tracing::{error, info};
use tracing_subscriber::EnvFilter;

use crate::embedded_pg::{Durability, EmbeddedPostgres};
use crate::service::{Service, ServiceConfig, DEFAULT_GRADIDO_CONFIRM_DELAY_MS, DEFAULT_READ_YOUR_WRITES_TIMEOUT_MS};
use api::admin_key::{load_or_generate, AdminKey};
use api::router::router;
use app::use_cases::users::{register, NewUser};
use app::AppError;
use store::DatabaseTarget;

#[derive(Debug, Parser)]
#[command(
    name = "ledger",
    version,
    about = "Event-sourced wallet ledger",
    after_help = "Quick start: README.md. Backups, upgrades, key rotation, monitoring: docs/operations.md."
)]
pub struct Cli {
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct StorageArgs {
    /// Use this PostgreSQL server instead of a private cluster in the data dir.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Where the private cluster and the admin key digest live.
    #[arg(long, env = "LEDGER_DATA_DIR", global = true, default_value = "ledger-data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    Serve {
        /// Address and port to listen on (port 0: any free port, announced on stdout).
        #[arg(long, env = "LEDGER_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// The admin key; generated, stored as a digest and printed once if absent.
        #[arg(long, env = "LEDGER_ADMIN_KEY", hide_env_values = true)]
        admin_key: Option<String>,
        /// A previous admin key, accepted beside the current one while clients move to the
        /// new key; restart without it to retire it.
        #[arg(long, env = "LEDGER_PREVIOUS_ADMIN_KEY", hide_env_values = true)]
        previous_admin_key: Option<String>,
        /// How long a write waits for the read models before answering anyway.
        #[arg(long, env = "LEDGER_READ_YOUR_WRITES_TIMEOUT_MS", default_value_t = DEFAULT_READ_YOUR_WRITES_TIMEOUT_MS)]
        read_your_writes_timeout_ms: u64,
        /// How long the built-in Gradido network takes to confirm a signed transaction.
        #[arg(long, env = "LEDGER_GRADIDO_CONFIRM_DELAY_MS", default_value_t = DEFAULT_GRADIDO_CONFIRM_DELAY_MS)]
        gradido_confirm_delay_ms: u64,
        /// `host:port` of an SMTP relay; without one, mail is written to the mail_outbox table.
        #[arg(long, env = "LEDGER_SMTP_RELAY")]
        smtp_relay: Option<String>,
        /// A reverse proxy whose `X-Forwarded-For` names the client (repeat, or separate with
        /// commas); without one the header is ignored and the socket's peer is the client.
        #[arg(long = "trusted-proxy", env = "LEDGER_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// Mark session cookies `Secure`: set it when clients reach the server over HTTPS
        /// (TLS at a proxy in front of it).
        #[arg(long, env = "LEDGER_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Also serve the Gradido login-server calls at the root of this address, as the
        /// login server's own port (1201) did: the community server calls `host:port/<call>`.
        #[arg(long, env = "LEDGER_GRADIDO_LISTEN")]
        gradido_listen: Option<SocketAddr>,
        /// Answer the Gradido calls to every origin (CORS `*`), as the shipped login server
        /// did; `--gradido-cors false` to turn it off.
        #[arg(long, env = "LEDGER_GRADIDO_CORS", default_value_t = true, action = clap::ArgAction::Set)]
        gradido_cors: bool,
        /// How often the embedded Lightning node's regtest chain makes a block.
        #[arg(long, env = "LEDGER_BLOCK_INTERVAL_MS", default_value_t = app::ports::node::DEFAULT_BLOCK_INTERVAL_MS)]
        block_interval_ms: u64,
        /// Serve a built myLightning web client from this directory at `/`, behind the
        /// session (`/login` shows its `views/login.html`).
        #[arg(long, env = "LEDGER_WEB_ROOT")]
        web_root: Option<PathBuf>,
        /// Serve HTTPS with this certificate chain (PEM); needs `--tls-key`.
        #[arg(long, env = "LEDGER_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key of `--tls-cert` (PEM).
        #[arg(long, env = "LEDGER_TLS_KEY", requires = "tls_cert", hide_env_values = true)]
        tls_key: Option<PathBuf>,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Rebuild every read model from the events and compare it with the live tables.
    Replay {
        /// Replace the live read tables instead of comparing (the server must be stopped).
        #[arg(long)]
        rebuild: bool,
        /// Events read and applied at a time: smaller pages hold less in memory.
        #[arg(long, default_value_t = projections::rebuild::DEFAULT_PAGE_EVENTS,
              value_parser = clap::value_parser!(i64).range(1..=projections::rebuild::MAX_PAGE_EVENTS))]
        page_events: i64,
    },
    /// Verify the whole history: hashes and chain, sequences, conservation, no negative
    /// user balance ever, read models equal to a rebuild, snapshots equal to their events.
    /// Exits 1 naming the first bad event.
    Audit,
    /// Check every aggregate snapshot against the events (exit 1 if one differs).
    Snapshots {
        /// Delete every snapshot and take them again from the events (safe while a server
        /// runs: a snapshot only caches what the events say).
        #[arg(long)]
        rebuild: bool,
    },
    /// Write the sealed event history as NDJSON (with hashes and chain links).
    Export {
        /// Start after this event (a global position); 0 for the whole history.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// Write here instead of to standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Check an export's hashes and chain, offline (no database needed).
    VerifyExport {
        /// The NDJSON file `ledger export` wrote.
        file: PathBuf,
    },
    /// Administrative commands.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Give the read-only role `ledger_analyst` a new password and print its connection URL
    /// (it may read the views in schema `analyst` and nothing else).
    AnalystUrl,
    /// Create a Gradido group (community) and print it as JSON.
    CreateGroup {
        #[arg(long)]
        alias: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Create a user and print it as JSON.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        #[arg(long)]
        admin: bool,
    },
}

pub async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .with_writer(std::io::stderr)
        .init();
    match run(cli).await {
        Ok(code) => code,
        Err(error) => {
            error!("{error}");
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<std::process::ExitCode, AppError> {
    if let Command::VerifyExport { file } = &cli.command {
        return verify_export(file);
    }
    let role = if matches!(cli.command, Command::Serve { .. }) { Role::Server } else { Role::Tool };
    let storage = Storage::open(&cli.storage, role).await?;
    let result = match cli.command {
        Command::Serve {
            listen,
            admin_key,
            previous_admin_key,
            read_your_writes_timeout_ms,
            gradido_confirm_delay_ms,
            smtp_relay,
            trusted_proxies,
            secure_cookies,
            gradido_listen,
            gradido_cors,
            block_interval_ms,
            web_root,
            tls_cert,
            tls_key,
        } => {
            let options = ServeOptions {
                previous_admin_key,
                trusted_proxies,
                secure_cookies,
                gradido_listen,
                gradido: api::gradido::GradidoSettings { cors_any_origin: gradido_cors },
                block_interval: Duration::from_millis(block_interval_ms.max(1)),
                web_root,
                tls: tls_cert.zip(tls_key),
                read_your_writes_timeout: Duration::from_millis(read_your_writes_timeout_ms),
                gradido_confirm_delay: Duration::from_millis(gradido_confirm_delay_ms),
                smtp_relay,
            };
            serve(&storage, listen, admin_key, options).await
        }
        Command::Migrate => migrate(&storage).await,
        Command::Replay { rebuild, page_events } => replay(&storage, rebuild, page_events).await,
        Command::Audit => audit(&storage).await,
        Command::Snapshots { rebuild } => snapshots(&storage, rebuild).await,
        Command::Export { after, output } => export(&storage, after, output).await,
        Command::VerifyExport { .. } => unreachable!("handled before storage is opened"),
        Command::Admin {
            command: AdminCommand::CreateUser { email, username, password, first_name, last_name, admin },
        } => create_user(&storage, NewUser { email, username, password, first_name, last_name, admin }).await,
        Command::Admin { command: AdminCommand::AnalystUrl } => analyst_url(&storage).await,
        Command::Admin { command: AdminCommand::CreateGroup { alias, name, description } } => {
            create_group(&storage, alias, name, description).await
        }
    };
    storage.close().await;
    result
}

/// The database every subcommand uses: `DATABASE_URL`, else the private cluster, started if
/// needed. `serve` owns the cluster: it holds `serve.lock` in the data dir and stops the
/// cluster on shutdown, even one a killed server left running. Other subcommands stop it only
/// if they started it and no server has taken it meanwhile.
struct Storage {
    target: DatabaseTarget,
    data_dir: PathBuf,
    cluster: Option<OwnedCluster>,
}

struct OwnedCluster {
    postgres: EmbeddedPostgres,
    started_here: bool,
    /// Held for the server's whole life; its presence tells tools a server uses the cluster.
    serve_lock: Option<std::fs::File>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Server,
    Tool,
}

const SERVE_LOCK_FILE: &str = "serve.lock";

impl Storage {
    async fn open(args: &StorageArgs, role: Role) -> Result<Self, AppError> {
        if let Some(url) = &args.database_url {
            return Ok(Self {
                target: DatabaseTarget::Url(url.clone()),
                data_dir: args.data_dir.clone(),
                cluster: None,
            });
        }
        let unavailable = |error: crate::embedded_pg::EmbeddedError| AppError::Unavailable(error.to_string());
        let postgres = EmbeddedPostgres::prepare(&args.data_dir, Durability::Durable).await.map_err(unavailable)?;
        let serve_lock = match role {
            Role::Server => Some(take_serve_lock(&args.data_dir)?),
            Role::Tool => None,
        };
        let started_here = postgres.start_daemon().await.map_err(unavailable)?;
        let target = postgres.target();
        Ok(Self {
            target,
            data_dir: args.data_dir.clone(),
            cluster: Some(OwnedCluster { postgres, started_here, serve_lock }),
        })
    }

    async fn close(self) {
        let Some(cluster) = self.cluster else { return };
        let owner = cluster.serve_lock.is_some() || (cluster.started_here && !server_running(&self.data_dir));
        if owner {
            info!("stopping the private PostgreSQL cluster");
            if let Err(error) = cluster.postgres.stop().await {
                error!(%error, "could not stop the private PostgreSQL cluster");
            }
        }
    }
}

fn take_serve_lock(data_dir: &std::path::Path) -> Result<std::fs::File, AppError> {
    let file =
        std::fs::File::create(data_dir.join(SERVE_LOCK_FILE)).map_err(|error| AppError::Internal(error.to_string()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(_) => Err(AppError::Unavailable(format!("another `ledger serve` is using {}", data_dir.display()))),
    }
}

fn server_running(data_dir: &std::path::Path) -> bool {
    std::fs::File::open(data_dir.join(SERVE_LOCK_FILE)).is_ok_and(|file| file.try_lock_shared().is_err())
}

struct ServeOptions {
    read_your_writes_timeout: Duration,
    gradido_confirm_delay: Duration,
    smtp_relay: Option<String>,
    previous_admin_key: Option<String>,
    trusted_proxies: Vec<std::net::IpAddr>,
    secure_cookies: bool,
    gradido_listen: Option<SocketAddr>,
    gradido: api::gradido::GradidoSettings,
    block_interval: Duration,
    web_root: Option<PathBuf>,
    /// Certificate chain and key files (PEM) for HTTPS.
    tls: Option<(PathBuf, PathBuf)>,
}

async fn serve(
    storage: &Storage,
    listen: SocketAddr,
    admin_key: Option<String>,
    options: ServeOptions,
) -> Result<std::process::ExitCode, AppError> {
    let (admin_key, generated) = load_or_generate(&storage.data_dir, admin_key.as_deref())
        .map_err(|error| AppError::Internal(format!("admin key: {error}")))?;
    if let Some(secret) = generated {
        println!("Generated admin key (shown once, stored only as a digest): {secret}");
    }
    let admin_key = admin_key.also_accepting(options.previous_admin_key.as_deref());
    let service = Service::start(ServiceConfig {
        read_your_writes_timeout: options.read_your_writes_timeout,
        gradido_confirm_delay: options.gradido_confirm_delay,
        smtp_relay: options.smtp_relay,
        trusted_proxies: app::credentials::TrustedProxies(options.trusted_proxies),
        secure_cookies: options.secure_cookies,
        gradido: options.gradido,
        node: app::ports::node::NodeSettings { block_interval: options.block_interval, ..Default::default() },
        web_root: options.web_root,
        ..ServiceConfig::new(storage.target.clone(), admin_key)
    })
    .await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| AppError::Unavailable(format!("bind {listen}: {error}")))?;
    let address = listener.local_addr().map_err(|error| AppError::Internal(error.to_string()))?;
    // Bound before the main address is announced: whoever waits for that finds both ready.
    let gradido_root = match options.gradido_listen {
        Some(address) => Some(serve_gradido_root(address, &service).await?),
        None => None,
    };
    let tls = match &options.tls {
        Some((cert, key)) => Some(crate::tls::server_config(cert, key)?),
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    info!("listening on {scheme}://{address}");
    println!("listening on {scheme}://{address}");
    let (stop_supervising, supervising) = watch::channel(false);
    let supervisor = storage
        .cluster
        .as_ref()
        .filter(|cluster| cluster.serve_lock.is_some())
        .map(|cluster| tokio::spawn(crate::supervisor::supervise(cluster.postgres.clone(), supervising)));
    let served = match tls {
        Some(config) => {
            let listener = crate::tls::TlsListener::new(listener, config)
                .map_err(|error| AppError::Unavailable(format!("tls listener: {error}")))?;
            api::router::serve(listener, router(service.state.clone()), shutdown_signal()).await
        }
        None => {
            api::router::serve(api::router::without_nagle(listener), router(service.state.clone()), shutdown_signal())
                .await
        }
    };
    served.map_err(|error| AppError::Internal(error.to_string()))?;
    if let Some(gradido_root) = gradido_root {
        gradido_root.abort();
    }
    info!("shutting down");
    // Stop supervising first: the cluster is about to be stopped on purpose.
    let _ = stop_supervising.send(true);
    if let Some(supervisor) = supervisor {
        let _ = supervisor.await;
    }
    service.stop().await;
    Ok(std::process::ExitCode::SUCCESS)
}

/// The Gradido calls at the root of `address`, in the background until the server stops.
async fn serve_gradido_root(address: SocketAddr, service: &Service) -> Result<tokio::task::JoinHandle<()>, AppError> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|error| AppError::Unavailable(format!("bind {address}: {error}")))?;
    let bound = listener.local_addr().map_err(|error| AppError::Internal(error.to_string()))?;
    info!("serving the Gradido login-server calls at http://{bound}/");
    println!("gradido login server on http://{bound}");
    let app = api::gradido::at_root(router(service.state.clone()));
    Ok(tokio::spawn(async move {
        if let Err(error) = api::router::serve(api::router::without_nagle(listener), app, std::future::pending()).await
        {
            error!(%error, "the Gradido listener stopped");
        }
    }))
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}

async fn migrate(storage: &Storage) -> Result<std::process::ExitCode, AppError> {
    let pools = store::connect(&storage.target).await?;
    store::migrate(&pools.events).await?;
    println!("migrations applied");
    Ok(std::process::ExitCode::SUCCESS)
}

/// A progress callback, (done, to do in all), that moves `bar`.
fn progress_of(bar: &ProgressBar) -> impl Fn(u64, u64) + Sync + '_ {
    move |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    }
}

/// A bar counting `unit` (`events`, `snapshots`).
fn progress_bar(unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    let template = format!("{{spinner}} {{msg}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{per_sec}}, eta {{eta}})");
    bar.set_style(ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}

async fn audit(storage: &Storage) -> Result<std::process::ExitCode, AppError> {
    let pools = store::connect(&storage.target).await?;
    store::migrate(&pools.events).await?;
    let bar = progress_bar("events");
    bar.set_message("auditing");
    let progress = progress_of(&bar);
    let report = crate::ops::audit::audit(&pools.reads, &progress).await?;
    bar.finish_and_clear();
    println!(
        "audit: {} events, {} sealed in the hash chain, {} snapshots",
        report.events, report.sealed, report.snapshots
    );
    if let Some(head) = &report.head_chain_hash {
        println!("chain head: {head}");
    }
    for check in [
        "event hashes",
        "hash chain",
        "sequences",
        "money",
        "no negative balance",
        "conservation",
        "read models",
        "snapshots",
    ] {
        match report.findings.iter().find(|finding| finding.check == check) {
            Some(finding) => println!("{check:<20} FAILED: {}", finding.detail),
            None => println!("{check:<20} ok"),
        }
    }
    if report.findings.is_empty() {
        println!("audit passed");
        return Ok(std::process::ExitCode::SUCCESS);
    }
    match report.first_bad_position() {
        Some(position) => println!("audit FAILED; first bad position: {position}"),
        None => println!("audit FAILED"),
    }
    Ok(std::process::ExitCode::FAILURE)
}

async fn snapshots(storage: &Storage, rebuild: bool) -> Result<std::process::ExitCode, AppError> {
    let pools = store::connect(&storage.target).await?;
    store::migrate(&pools.events).await?;
    let bar = progress_bar("aggregates");
    let progress = progress_of(&bar);
    if rebuild {
        bar.set_message("taking snapshots from the events");
        let saved = app::snapshots::rebuild_all(&pools.reads, &progress).await?;
        bar.finish_and_clear();
        println!("snapshots: {saved} taken from the events");
        return Ok(std::process::ExitCode::SUCCESS);
    }
    bar.set_message("checking snapshots");
    let checks = app::snapshots::check_all(&pools.reads, &progress).await?;
    bar.finish_and_clear();
    let checked: u64 = checks.iter().map(|check| check.checked).sum();
    let other_version: u64 = checks.iter().map(|check| check.other_version).sum();
    let bad: Vec<_> = checks.iter().flat_map(|check| &check.bad).collect();
    for snapshot in &bad {
        println!(
            "BAD {} {} at sequence {}: {}",
            snapshot.aggregate_type, snapshot.aggregate_id, snapshot.sequence, snapshot.problem
        );
    }
    println!(
        "snapshots: {checked} checked, {} bad, {other_version} at another state version (ignored by loads)",
        bad.len()
    );
    if bad.is_empty() {
        Ok(std::process::ExitCode::SUCCESS)
    } else {
        println!("run `ledger snapshots --rebuild` to take them again from the events");
        Ok(std::process::ExitCode::FAILURE)
    }
}

async fn export(storage: &Storage, after: i64, output: Option<PathBuf>) -> Result<std::process::ExitCode, AppError> {
    let pools = store::connect(&storage.target).await?;
    store::migrate(&pools.events).await?;
    let bar = progress_bar("events");
    bar.set_message("exporting");
    let progress = progress_of(&bar);
    let io_error = |error: std::io::Error| AppError::Internal(error.to_string());
    let written = match &output {
        Some(path) => {
            let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(io_error)?);
            crate::ops::export::export(&pools.reads, after, &mut file, &progress).await?
        }
        None => {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            crate::ops::export::export(&pools.reads, after, &mut stdout, &progress).await?
        }
    };
    bar.finish_and_clear();
    eprintln!("exported {written} events");
    Ok(std::process::ExitCode::SUCCESS)
}

fn verify_export(file: &std::path::Path) -> Result<std::process::ExitCode, AppError> {
    let input = std::fs::File::open(file)
        .map_err(|error| AppError::invalid("unreadable_file", format!("{}: {error}", file.display())))?;
    match crate::ops::export::verify(std::io::BufReader::new(input)) {
        crate::ops::export::Verdict::Intact { events, head } => {
            println!("export intact: {events} events; chain head {}", head.unwrap_or_else(|| "(empty)".into()));
            Ok(std::process::ExitCode::SUCCESS)
        }
        crate::ops::export::Verdict::Broken { line, position, reason } => {
            let at = position.map(|position| format!(" (event {position})")).unwrap_or_default();
            println!("export BROKEN at line {line}{at}: {reason}");
            Ok(std::process::ExitCode::FAILURE)
        }
    }
}

async fn replay(storage: &Storage, rebuild: bool, page_events: i64) -> Result<std::process::ExitCode, AppError> {
    let pools = store::connect(&storage.target).await?;
    store::migrate(&pools.events).await?;
    let bar = progress_bar("events");
    let progress = progress_of(&bar);
    if rebuild {
        bar.set_message("rebuilding read models");
        let applied = projections::rebuild::rebuild_in_place(&pools.reads, page_events, &progress).await?;
        bar.finish_and_clear();
        println!("rebuilt every read model ({applied} event applications)");
        return Ok(std::process::ExitCode::SUCCESS);
    }
    bar.set_message("replaying into a scratch schema");
    let comparisons = projections::rebuild::verify(&pools.reads, page_events, &progress).await?;
    bar.finish_and_clear();
    let mut all_identical = true;
    for comparison in &comparisons {
        let verdict = if comparison.identical { "identical" } else { "DIFFERENT" };
        println!(
            "{:<12} live {:>8} rows, rebuilt {:>8} rows: {verdict}",
            comparison.table, comparison.live_rows, comparison.rebuilt_rows
        );
        all_identical &= comparison.identical;
    }
    if all_identical {
        println!("replay: every read model equals a rebuild from the events");
        Ok(std::process::ExitCode::SUCCESS)
    } else {
        println!("replay: read models differ from a rebuild; run `ledger replay --rebuild` with the server stopped");
        Ok(std::process::ExitCode::from(2))
    }
}

/// The analysts' role; created by migration 0008.
const ANALYST_ROLE: &str = "ledger_analyst";

async fn analyst_url(storage: &Storage) -> Result<std::process::ExitCode, AppError> {
    let pools = store::connect(&storage.target).await?;
    store::migrate(&pools.events).await?;
    let client = pools.reads.get().await?;
    let exists = client.query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&ANALYST_ROLE]).await?.is_some();
    if !exists {
        return Err(AppError::Unavailable(format!(
            "role {ANALYST_ROLE} does not exist: migrate as a user with CREATEROLE"
        )));
    }
    // Hex only, so it is safe inside the literal (ALTER ROLE takes no parameters).
    let password = app::tokens::random_token();
    client.batch_execute(&format!("ALTER ROLE {ANALYST_ROLE} WITH LOGIN PASSWORD '{password}'")).await?;
    println!("{}", storage.target.url_as(ANALYST_ROLE, &password)?);
    Ok(std::process::ExitCode::SUCCESS)
}

/// The service without HTTP, for administrative commands.
async fn admin_service(storage: &Storage) -> Result<Service, AppError> {
    Service::start(ServiceConfig::new(storage.target.clone(), AdminKey::from_secret(""))).await
}

async fn create_group(
    storage: &Storage,
    alias: String,
    name: String,
    description: Option<String>,
) -> Result<std::process::ExitCode, AppError> {
    let service = admin_service(storage).await?;
    let command = domain::gradido::GroupCommand::Create {
        alias: alias.clone(),
        name: name.clone(),
        description: description.clone(),
    };
    let result = service.state.ledger.bus.execute(&alias, command, &store::Operation::fresh()).await;
    if let Ok(Some(event)) = result.as_ref().map(|outcome| outcome.event().cloned()) {
        service.state.ledger.await_read_models(&event).await;
    }
    service.stop().await;
    result?;
    println!("{}", serde_json::json!({ "alias": alias, "name": name, "description": description }));
    Ok(std::process::ExitCode::SUCCESS)
}

async fn create_user(storage: &Storage, user: NewUser) -> Result<std::process::ExitCode, AppError> {
    let service = admin_service(storage).await?;
    let result = register(&service.state.ledger, user).await;
    service.stop().await;
    let view = result?;
    println!("{}", serde_json::to_string_pretty(&view).map_err(|error| AppError::Internal(error.to_string()))?);
    Ok(std::process::ExitCode::SUCCESS)
}
