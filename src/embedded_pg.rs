//! A private PostgreSQL cluster in the data dir, for `ledger` without `DATABASE_URL`.
//!
//! It uses the installed server binaries (PATH, else the newest `/usr/lib/postgresql/*/bin`),
//! listens only on a unix socket inside the data dir, and runs as the `postgres` user via
//! `runuser` when started as root (PostgreSQL refuses to run as root). A cluster left
//! running by a killed process is found and reused on the next start.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use thiserror::Error;
use tokio::process::Command;
use tracing::info;

use store::DatabaseTarget;

/// The cluster's port: only names the socket file, since TCP is off.
const SOCKET_PORT: u16 = 5432;
const SUPERUSER: &str = "postgres";
pub const DATABASE_NAME: &str = "ledger";
const START_TIMEOUT_SECONDS: u32 = 60;
const MAX_CONNECTIONS: u32 = 300;

#[derive(Debug, Error)]
pub enum EmbeddedError {
    #[error(
        "no PostgreSQL server binaries found (looked for initdb on PATH and in /usr/lib/postgresql/*/bin). \
         Install them, e.g. `apt-get install postgresql` on Debian, or set DATABASE_URL to use an existing server"
    )]
    BinariesNotFound,
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("`{command}` failed: {output}")]
    CommandFailed { command: String, output: String },
    #[error(
        "the postgres user cannot reach {0}: running as root, the cluster runs as `postgres`, which needs \
         execute permission on every parent directory. Choose a --data-dir elsewhere (e.g. under /var/lib or /tmp)"
    )]
    NotTraversable(PathBuf),
    #[error("cannot connect to the private cluster: {0}")]
    Connect(String),
}

/// Durable for real use; tests may trade durability for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Durable,
    /// fsync off: a machine crash can lose acknowledged data. Tests only.
    Throwaway,
}

#[derive(Debug, Clone)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    as_postgres_user: bool,
}

impl EmbeddedPostgres {
    /// Prepares (and initialises if new) the cluster under `data_dir`. Does not start it.
    pub async fn prepare(data_dir: &Path, durability: Durability) -> Result<Self, EmbeddedError> {
        let bin_dir = find_binaries().ok_or(EmbeddedError::BinariesNotFound)?;
        std::fs::create_dir_all(data_dir)?;
        let data_dir = data_dir.canonicalize()?;
        let cluster = Self {
            bin_dir,
            pgdata: data_dir.join("postgres"),
            socket_dir: data_dir.join("run"),
            as_postgres_user: running_as_root(),
        };
        cluster.prepare_directories(&data_dir)?;
        if !cluster.pgdata.join("PG_VERSION").exists() {
            info!(pgdata = %cluster.pgdata.display(), "initialising a private PostgreSQL cluster");
            let pgdata = cluster.pgdata.display().to_string();
            cluster
                .run_tool("initdb", &["-D", &pgdata, "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C"])
                .await?;
        }
        cluster.write_settings(durability)?;
        Ok(cluster)
    }

    /// Starts the cluster as a daemon unless it is already running. Returns whether this
    /// call started it (and so should stop it).
    pub async fn start_daemon(&self) -> Result<bool, EmbeddedError> {
        if self.is_running().await {
            info!("reusing the private PostgreSQL cluster that is already running");
            return Ok(false);
        }
        let pgdata = self.pgdata.display().to_string();
        let log = self.pgdata.join("server.log").display().to_string();
        let timeout = START_TIMEOUT_SECONDS.to_string();
        self.run_tool("pg_ctl", &["-D", &pgdata, "-l", &log, "-w", "-t", &timeout, "start"]).await?;
        self.create_database().await?;
        Ok(true)
    }

    /// Starts the server as a child that stops when this process exits, whatever the way:
    /// it watches its stdin, which only this process holds. For test harnesses.
    pub async fn start_attached(&self) -> Result<std::process::Child, EmbeddedError> {
        let postgres = self.bin_dir.join("postgres");
        let script = format!(
            "'{}' -D '{}' & pid=$!; cat >/dev/null; kill -INT $pid; wait $pid",
            postgres.display(),
            self.pgdata.display()
        );
        let mut command = self.as_cluster_owner("sh");
        command.args(["-c", &script]).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
        let child = command.into_std().spawn()?;
        for _ in 0..(START_TIMEOUT_SECONDS * 10) {
            if self.create_database().await.is_ok() {
                return Ok(child);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(EmbeddedError::Connect("the server did not accept connections in time".to_string()))
    }

    /// Stops the cluster as a crash would: no checkpoint, recovery from the WAL on start.
    /// Does not wait: a supervisor may start it again before the old pid file is gone, and
    /// `pg_ctl -w` would then wait for a stop that already happened.
    pub async fn stop_immediately(&self) -> Result<(), EmbeddedError> {
        let pgdata = self.pgdata.display().to_string();
        self.run_tool("pg_ctl", &["-D", &pgdata, "-m", "immediate", "-W", "stop"]).await
    }

    pub async fn stop(&self) -> Result<(), EmbeddedError> {
        let pgdata = self.pgdata.display().to_string();
        self.run_tool("pg_ctl", &["-D", &pgdata, "-m", "fast", "-w", "stop"]).await?;
        Ok(())
    }

    /// The path of one of the installed PostgreSQL programs (`pg_dump`, `pg_restore`, ...).
    pub fn tool(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    pub fn target(&self) -> DatabaseTarget {
        self.target_for(DATABASE_NAME)
    }

    pub fn target_for(&self, dbname: &str) -> DatabaseTarget {
        DatabaseTarget::Socket {
            dir: self.socket_dir.clone(),
            port: SOCKET_PORT,
            user: SUPERUSER.to_string(),
            dbname: dbname.to_string(),
        }
    }

    pub async fn is_running(&self) -> bool {
        let pgdata = self.pgdata.display().to_string();
        self.run_tool("pg_ctl", &["-D", &pgdata, "status"]).await.is_ok()
    }

    /// Creates a database (the ledger's, or a test's) if it does not exist yet.
    pub async fn create_database_named(&self, dbname: &str) -> Result<(), EmbeddedError> {
        let config =
            self.target_for("postgres").postgres_config().map_err(|error| EmbeddedError::Connect(error.to_string()))?;
        let (client, connection) =
            config.connect(tokio_postgres::NoTls).await.map_err(|error| EmbeddedError::Connect(error.to_string()))?;
        let driver = tokio::spawn(connection);
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&dbname])
            .await
            .map_err(|error| EmbeddedError::Connect(error.to_string()))?
            .is_some();
        if !exists {
            let sql = format!("CREATE DATABASE \"{}\"", dbname.replace('"', "\"\""));
            client.batch_execute(&sql).await.map_err(|error| EmbeddedError::Connect(error.to_string()))?;
        }
        drop(client);
        let _ = driver.await;
        Ok(())
    }

    async fn create_database(&self) -> Result<(), EmbeddedError> {
        self.create_database_named(DATABASE_NAME).await
    }

    fn prepare_directories(&self, data_dir: &Path) -> Result<(), EmbeddedError> {
        std::fs::create_dir_all(&self.socket_dir)?;
        if !self.pgdata.exists() {
            std::fs::create_dir_all(&self.pgdata)?;
        }
        if self.as_postgres_user {
            for ancestor in data_dir.ancestors() {
                if !world_traversable(ancestor) && ancestor != data_dir {
                    return Err(EmbeddedError::NotTraversable(ancestor.to_path_buf()));
                }
            }
            set_mode(data_dir, 0o711)?;
            chown_to_postgres(&self.pgdata)?;
            chown_to_postgres(&self.socket_dir)?;
        }
        set_mode(&self.pgdata, 0o700)?;
        set_mode(&self.socket_dir, 0o700)?;
        Ok(())
    }

    /// Settings this service relies on, rewritten on every start (the data dir may move).
    fn write_settings(&self, durability: Durability) -> Result<(), EmbeddedError> {
        let mut settings = format!(
            "# Written by ledger on every start; edit postgresql.conf instead.\n\
             listen_addresses = ''\n\
             unix_socket_directories = '{}'\n\
             port = {SOCKET_PORT}\n\
             max_connections = {MAX_CONNECTIONS}\n",
            self.socket_dir.display()
        );
        if durability == Durability::Throwaway {
            settings.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        std::fs::write(self.pgdata.join("ledger.conf"), settings)?;
        let main_conf = self.pgdata.join("postgresql.conf");
        let include = "include_if_exists = 'ledger.conf'";
        let current = std::fs::read_to_string(&main_conf)?;
        if !current.contains(include) {
            std::fs::write(&main_conf, format!("{current}\n{include}\n"))?;
        }
        if self.as_postgres_user {
            chown_to_postgres(&self.pgdata.join("ledger.conf"))?;
        }
        Ok(())
    }

    fn as_cluster_owner(&self, program: &str) -> Command {
        let program =
            if program.contains('/') || program == "sh" { PathBuf::from(program) } else { self.bin_dir.join(program) };
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", SUPERUSER, "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    async fn run_tool(&self, tool: &str, args: &[&str]) -> Result<(), EmbeddedError> {
        let mut command = self.as_cluster_owner(tool);
        command.args(args).stdin(Stdio::null()).current_dir(&self.socket_dir);
        let output = command.output().await?;
        if output.status.success() {
            return Ok(());
        }
        let mut text = String::from_utf8_lossy(&output.stdout).to_string();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Err(EmbeddedError::CommandFailed {
            command: format!("{tool} {}", args.join(" ")),
            output: text.trim().to_string(),
        })
    }
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`.
fn find_binaries() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("initdb"))
        .find(|initdb| initdb.is_file())
        .and_then(|initdb| initdb.canonicalize().ok())
        .and_then(|initdb| initdb.parent().map(Path::to_path_buf));
    let has_server = |dir: &PathBuf| dir.join("postgres").is_file() && dir.join("pg_ctl").is_file();
    on_path.filter(has_server).or_else(|| {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin"))))
            .filter(|(_, bin)| has_server(bin))
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    })
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find(|line| line.starts_with("Uid:")).map(|line| line.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[cfg(unix)]
fn world_traversable(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(dir).is_ok_and(|metadata| metadata.permissions().mode() & 0o001 != 0)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), EmbeddedError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

fn chown_to_postgres(path: &Path) -> Result<(), EmbeddedError> {
    let status = std::process::Command::new("chown").args(["-R", "postgres:postgres"]).arg(path).status()?;
    if !status.success() {
        return Err(EmbeddedError::CommandFailed {
            command: format!("chown -R postgres {}", path.display()),
            output: String::new(),
        });
    }
    Ok(())
}
