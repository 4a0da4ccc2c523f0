//! The composition root: builds the service from a database target — the pools, the
//! projection engine with every read model and process manager, the ports' defaults — and
//! hands the router its state.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use api::admin_key::AdminKey;
use api::joyplus::JoyPlusServices;
use api::tokens::CookiePolicy;
use api::AppState;
use app::credentials::{CredentialGuard, ThrottleSettings, TrustedProxies};
use app::ports::chain::{Chain, SimulatedChain};
use app::ports::gradido_network::LocalNetwork;
use app::ports::mail::{Mailer, OutboxMailer, SmtpMailer};
use app::ports::node::{EmbeddedNode, NodeSettings};
use app::ports::passport::EmbeddedPassport;
use app::ports::sms::OutboxSms;
use app::process_managers::chain_broadcaster::ChainBroadcaster;
use app::process_managers::gradido_settlement::GradidoSettlement;
use app::process_managers::transfer_completion::TransferCompletion;
use app::{AppError, CommandBus, Ledger};
use domain::asset::{AssetCommand, SEEDED_ASSETS};
use domain::{AssetCode, Scale};
use projections::pass::ProjectionPass;
use projections::ProjectionEngine;
use store::DatabaseTarget;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::info;

/// How long a write waits for the read models before answering anyway.
pub const DEFAULT_READ_YOUR_WRITES_TIMEOUT_MS: u64 = 5_000;

pub struct ServiceConfig {
    pub database: DatabaseTarget,
    pub admin_key: AdminKey,
    pub read_your_writes_timeout: Duration,
    /// How long the built-in Gradido network takes to confirm a signed transaction.
    pub gradido_confirm_delay: Duration,
    /// `host:port` of an SMTP relay; without one, mail goes to the `mail_outbox` table.
    pub smtp_relay: Option<String>,
    pub node: NodeSettings,
    /// The blockchain Joy Plus withdrawals go to; `None`: the simulated chain.
    pub chain: Option<Arc<dyn Chain>>,
    /// Limits on failed password and code attempts.
    pub throttle: ThrottleSettings,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// Mark session cookies `Secure`: clients reach the service over HTTPS.
    pub secure_cookies: bool,
    /// How the Gradido login-server dialect is served (CORS).
    pub gradido: api::gradido::GradidoSettings,
    /// The myLightning web client's files, served at `/` behind the session.
    pub web_root: Option<std::path::PathBuf>,
}

impl ServiceConfig {
    /// The shipped defaults for everything but where the database is and the admin key.
    pub fn new(database: DatabaseTarget, admin_key: AdminKey) -> Self {
        Self {
            database,
            admin_key,
            read_your_writes_timeout: Duration::from_millis(DEFAULT_READ_YOUR_WRITES_TIMEOUT_MS),
            gradido_confirm_delay: Duration::from_millis(DEFAULT_GRADIDO_CONFIRM_DELAY_MS),
            smtp_relay: None,
            node: NodeSettings::default(),
            chain: None,
            throttle: ThrottleSettings::default(),
            trusted_proxies: TrustedProxies::default(),
            secure_cookies: false,
            gradido: api::gradido::GradidoSettings::default(),
            web_root: None,
        }
    }
}

/// The sender of the service's e-mail.
pub const MAIL_FROM: &str = "ledger <noreply@localhost>";

/// The built-in Gradido network's default confirmation delay.
pub const DEFAULT_GRADIDO_CONFIRM_DELAY_MS: u64 = 2_000;

/// A running service: its state for the router, and how to stop its background work.
pub struct Service {
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Service {
    /// Connects, migrates, seeds the standard assets and starts the projectors.
    pub async fn start(config: ServiceConfig) -> Result<Self, AppError> {
        let pools = store::connect(&config.database).await?;
        store::migrate(&pools.events).await?;
        if store::log::is_ahead_of_cluster(&pools.reads.get().await?).await? {
            return Err(AppError::Internal(
                "the event log holds transaction ids ahead of this PostgreSQL cluster (a logical dump restored into \
                 another cluster?); advance the cluster's transaction counter first, see docs/operations.md"
                    .into(),
            ));
        }
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut engine = ProjectionEngine::new(pools.reads.clone(), shutdown_rx);
        let (pass, inline) = ProjectionPass::shared();
        let bus = CommandBus::new(&pools, config.database.clone(), engine.wakers(), Some(inline));
        engine.spawn(pass);
        engine.spawn(TransferCompletion::new(bus.clone()));
        engine.spawn(projections::chain::ChainSealer);
        let network = LocalNetwork { confirm_delay: config.gradido_confirm_delay };
        engine.spawn(GradidoSettlement::new(bus.clone(), network));
        let chain: Arc<dyn Chain> = match config.chain.clone() {
            Some(chain) => chain,
            None => Arc::new(SimulatedChain { pool: pools.reads.clone() }),
        };
        engine.spawn(ChainBroadcaster { chain: chain.clone() });
        let (status, mut tasks) = engine.start();
        tasks.push(tokio::spawn(app::process_managers::hold_expiry::run(
            bus.clone(),
            pools.reads.clone(),
            shutdown.subscribe(),
        )));
        let orphans =
            app::use_cases::gradido::release_orphaned_holds(bus.clone(), pools.reads.clone(), shutdown.subscribe());
        tasks.push(tokio::spawn(orphans));
        seed_assets(&bus).await?;
        let ledger =
            Ledger { bus, status, reads: pools.reads, read_your_writes_timeout: config.read_your_writes_timeout };
        api::joyplus::seed_listings(&ledger).await?;
        api::gradido::seed_default_group(&ledger).await?;
        let mailer: Arc<dyn Mailer> = match &config.smtp_relay {
            Some(relay) => Arc::new(SmtpMailer::new(relay, MAIL_FROM)?),
            None => Arc::new(OutboxMailer { pool: ledger.reads.clone() }),
        };
        let node = Arc::new(EmbeddedNode::load_or_create(&ledger.reads, config.node).await?);
        let watcher = app::process_managers::channel_watch::run(
            ledger.bus.clone(),
            ledger.reads.clone(),
            node.clone(),
            shutdown.subscribe(),
        );
        tasks.push(tokio::spawn(watcher));
        tasks.push(tokio::spawn(app::housekeeping::run(ledger.reads.clone(), shutdown.subscribe())));
        let joy = JoyPlusServices {
            passport: Arc::new(EmbeddedPassport { pool: ledger.reads.clone() }),
            sms: Arc::new(OutboxSms { pool: ledger.reads.clone() }),
            chain,
        };
        let credentials = Arc::new(CredentialGuard::new(config.throttle, config.trusted_proxies));
        let cookies = CookiePolicy { secure: config.secure_cookies };
        let wallet_push = api::lightning::WalletPush::new(ledger.clone());
        let state = AppState {
            ledger,
            admin_key: Arc::new(config.admin_key),
            mailer,
            node,
            joy,
            credentials,
            cookies,
            gradido: config.gradido,
            web_root: config.web_root.clone().map(|root| api::lightning::WebRoot(Arc::new(root))),
            wallet_push,
        };
        Ok(Self { state, shutdown, tasks })
    }

    /// Serves the HTTP API on a free loopback port in the background, for tests and
    /// benchmarks. Returns the base URL and the serving task (abort it to stop serving).
    pub async fn serve_on_loopback(&self) -> std::io::Result<(String, JoinHandle<()>)> {
        self.serve_router_on_loopback(api::router::router(self.state.clone())).await
    }

    /// The Gradido calls at the root of a port of their own, as `--gradido-listen` serves
    /// them, on a free loopback port in the background.
    pub async fn serve_gradido_root_on_loopback(&self) -> std::io::Result<(String, JoinHandle<()>)> {
        self.serve_router_on_loopback(api::gradido::at_root(api::router::router(self.state.clone()))).await
    }

    async fn serve_router_on_loopback(&self, app: axum::Router) -> std::io::Result<(String, JoinHandle<()>)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(async move {
            if let Err(error) =
                api::router::serve(api::router::without_nagle(listener), app, std::future::pending()).await
            {
                tracing::error!(%error, "serving on loopback stopped");
            }
        });
        Ok((base_url, server))
    }

    /// Stops the projectors after their current batch.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        info!("background work stopped");
    }
}

async fn seed_assets(bus: &CommandBus) -> Result<(), AppError> {
    for (code, decimals) in SEEDED_ASSETS {
        let code = AssetCode::parse(code)?;
        bus.execute(
            code.as_str(),
            AssetCommand::Define { code: code.clone(), scale: Scale::new(decimals)? },
            &store::Operation::fresh(),
        )
        .await?;
    }
    Ok(())
}

/// Where `serve` and every other subcommand keep their files.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from("ledger-data")
}
