//! Connecting to PostgreSQL: two pools on purpose (docs/design.md). postgres-es appends through
//! sqlx; read models, projectors and queries use deadpool-postgres.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio_postgres::NoTls;

use crate::error::StoreError;
use crate::transaction_leaks::{check_sqlx, check_tokio_postgres, TransactionLeaks, CHECKED};

/// Connections for appending events, and for reading (queries plus one per projector).
pub const EVENT_POOL_CONNECTIONS: u32 = 32;
pub const READ_POOL_CONNECTIONS: usize = 48;
const CONNECT_TIMEOUT_MS: u64 = 10_000;

/// Where the database is: a URL (`DATABASE_URL`) or the private cluster's unix socket.
#[derive(Debug, Clone)]
pub enum DatabaseTarget {
    Url(String),
    Socket { dir: std::path::PathBuf, port: u16, user: String, dbname: String },
}

impl DatabaseTarget {
    fn sqlx_options(&self) -> Result<PgConnectOptions, StoreError> {
        match self {
            Self::Url(url) => {
                PgConnectOptions::from_str(url).map_err(|error| StoreError::Config(format!("DATABASE_URL: {error}")))
            }
            Self::Socket { dir, port, user, dbname } => {
                Ok(PgConnectOptions::new().socket(dir).port(*port).username(user).database(dbname))
            }
        }
    }

    pub fn postgres_config(&self) -> Result<tokio_postgres::Config, StoreError> {
        let mut config = match self {
            Self::Url(url) => tokio_postgres::Config::from_str(url)
                .map_err(|error| StoreError::Config(format!("DATABASE_URL: {error}")))?,
            Self::Socket { dir, port, user, dbname } => {
                let mut config = tokio_postgres::Config::new();
                config.host_path(dir).port(*port).user(user).dbname(dbname);
                config
            }
        };
        config.connect_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS)).application_name("ledger");
        Ok(config)
    }

    /// The same database as another role: the URL an analyst connects with.
    pub fn url_as(&self, user: &str, password: &str) -> Result<String, StoreError> {
        match self {
            Self::Url(text) => {
                let mut url =
                    url::Url::parse(text).map_err(|error| StoreError::Config(format!("DATABASE_URL: {error}")))?;
                let invalid = |_| StoreError::Config("DATABASE_URL cannot carry credentials".into());
                url.set_username(user).map_err(invalid)?;
                url.set_password(Some(password)).map_err(invalid)?;
                Ok(url.to_string())
            }
            Self::Socket { dir, port, dbname, .. } => {
                Ok(format!("postgresql://{user}:{password}@localhost:{port}/{dbname}?host={}", dir.display()))
            }
        }
    }

    /// A URL other processes (tests, psql) can use for the same database.
    pub fn url(&self) -> String {
        match self {
            Self::Url(url) => url.clone(),
            Self::Socket { dir, port, user, dbname } => {
                format!("postgresql://{user}@localhost:{port}/{dbname}?host={}", dir.display())
            }
        }
    }
}

pub struct Pools {
    pub events: sqlx::PgPool,
    pub reads: Pool,
    /// Shared with the committers' pools (`committer_pool`).
    pub leaks: TransactionLeaks,
}

pub async fn connect(target: &DatabaseTarget) -> Result<Pools, StoreError> {
    let leaks = TransactionLeaks::default();
    let mut events = PgPoolOptions::new();
    if CHECKED {
        let leaks = leaks.clone();
        events = events.after_release(move |connection, _| {
            let leaks = leaks.clone();
            Box::pin(async move { Ok(leaks.admit("events", check_sqlx(connection).await)) })
        });
    }
    let events = events
        .max_connections(EVENT_POOL_CONNECTIONS)
        // A ping per acquire costs a round trip on every command; a broken connection
        // surfaces as an error on use instead, and commands are retried by the client.
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS))
        .connect_with(target.sqlx_options()?)
        .await
        .map_err(|error| StoreError::Connect(error.to_string()))?;
    let reads = tokio_postgres_pool(target, READ_POOL_CONNECTIONS, "read pool", &leaks)?;
    Ok(Pools { events, reads, leaks })
}

/// A pool of its own for one committer: its connections are made, and their I/O runs, on
/// the runtime that first asks for them (the committer's thread).
pub fn committer_pool(target: &DatabaseTarget, leaks: &TransactionLeaks) -> Result<Pool, StoreError> {
    tokio_postgres_pool(target, COMMITTER_POOL_CONNECTIONS, "committer pool", leaks)
}

/// A deadpool of tokio-postgres connections to `target`; `name` labels a configuration error
/// and the connections it finds inside a transaction (`leaks`, checked in debug builds).
fn tokio_postgres_pool(
    target: &DatabaseTarget,
    max_size: usize,
    name: &'static str,
    leaks: &TransactionLeaks,
) -> Result<Pool, StoreError> {
    let manager = Manager::from_config(
        target.postgres_config()?,
        NoTls,
        ManagerConfig { recycling_method: RecyclingMethod::Fast },
    );
    let mut pool = Pool::builder(manager).max_size(max_size);
    if CHECKED {
        let leaks = leaks.clone();
        pool = pool.pre_recycle(Hook::async_fn(move |client, _| {
            let leaks = leaks.clone();
            Box::pin(async move {
                if leaks.admit(name, check_tokio_postgres(client).await) {
                    Ok(())
                } else {
                    Err(HookError::message("inside a transaction"))
                }
            })
        }));
    }
    pool.build().map_err(|error| StoreError::Config(format!("{name}: {error}")))
}

/// A committer uses one connection at a time and its snapshot writer another; one more
/// covers a connection being replaced.
const COMMITTER_POOL_CONNECTIONS: usize = 3;

/// Applies the numbered migrations in `migrations/` that are not applied yet. Safe to run
/// from several processes at once (sqlx serialises them with an advisory lock).
pub async fn migrate(events: &sqlx::PgPool) -> Result<(), StoreError> {
    sqlx::migrate!("../migrations").run(events).await.map_err(|error| StoreError::Migration(error.to_string()))
}
