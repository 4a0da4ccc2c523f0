//! What the benches that build long logs share: the service started in the bench's own
//! process, deposits through the committers, and a connection for SQL.

// Each bench is a crate of its own and uses a part of this.
#![allow(dead_code)]

pub mod database_cost;

use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

use api::admin_key::AdminKey;
use domain::account::AccountCommand;
use domain::system_account::SystemAccountKind;
use futures::StreamExt;
use ledger::embedded_pg::{Durability, EmbeddedPostgres};
use ledger::service::{Service, ServiceConfig};
use rust_decimal::Decimal;
use serde_json::json;
use store::{DatabaseTarget, Operation};

pub const ADMIN_KEY: &str = "bench";
/// Deposits in flight while a log is built: they share the committers' batches.
const BUILD_CONCURRENCY: usize = 1_024;

/// A durable private cluster with one database, for one bench run; `finish` removes it.
pub struct BenchCluster {
    root: PathBuf,
    postgres: EmbeddedPostgres,
    attached: Child,
    pub target: DatabaseTarget,
}

impl BenchCluster {
    /// Logs to stderr as `RUST_LOG` says, and starts a cluster under `/tmp/ledger-<name>-<pid>`
    /// with a database `name`.
    pub async fn start(name: &str) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
        let root = PathBuf::from(format!("/tmp/ledger-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let postgres = EmbeddedPostgres::prepare(&root, Durability::Durable).await.expect("prepare cluster");
        enable_statement_statistics(&root);
        let attached = postgres.start_attached().await.expect("start cluster");
        postgres.create_database_named(name).await.expect("database");
        let target = postgres.target_for(name);
        Self { root, postgres, attached, target }
    }

    /// Another database of the same cluster.
    pub async fn create_database(&self, name: &str) -> DatabaseTarget {
        self.postgres.create_database_named(name).await.expect("database");
        self.postgres.target_for(name)
    }

    /// Stops the cluster (it stops when its stdin closes) and removes its files: a durable
    /// cluster of a long log holds gigabytes.
    pub fn finish(mut self) {
        drop(self.attached.stdin.take());
        let _ = self.attached.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Loads pg_stat_statements and WAL timing at the cluster's start (a bench's private
/// cluster only), so a bench can say what each operation cost the database; adds the
/// settings `LEDGER_BENCH_POSTGRES_SETTINGS` names, to measure a tuning.
pub fn enable_statement_statistics(root: &std::path::Path) {
    let auto_conf = root.join("postgres").join("postgresql.auto.conf");
    let mut settings = std::fs::read_to_string(&auto_conf).unwrap_or_default();
    settings.push_str(
        "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track_utility = on\n\
         track_wal_io_timing = on\n",
    );
    // For example LEDGER_BENCH_POSTGRES_SETTINGS="max_wal_size=8GB;checkpoint_timeout=15min".
    if let Ok(extra) = std::env::var("LEDGER_BENCH_POSTGRES_SETTINGS") {
        for setting in extra.split(';').filter(|setting| !setting.trim().is_empty()) {
            settings.push_str(&format!("{}\n", setting.trim()));
        }
    }
    std::fs::write(&auto_conf, settings).expect("write postgresql.auto.conf");
}

/// The service over `target`, serving HTTP on a loopback port.
pub async fn start(target: &DatabaseTarget) -> (Service, String, tokio::task::JoinHandle<()>) {
    let service = Service::start(ServiceConfig {
        read_your_writes_timeout: Duration::from_secs(10),
        ..ServiceConfig::new(target.clone(), AdminKey::from_secret(ADMIN_KEY))
    })
    .await
    .expect("service");
    let (base, serving) = service.serve_on_loopback().await.expect("serve");
    (service, base, serving)
}

/// One deposit of 1 to each of `accounts` (repeats allowed), many in flight at once,
/// through the committers: the real write path without HTTP.
pub async fn deposit_many(service: &Service, accounts: impl IntoIterator<Item = String>) {
    let bus = &service.state.ledger.bus;
    let deposits = futures::stream::iter(accounts).map(|account| async move {
        let command =
            AccountCommand::Deposit { amount: Decimal::ONE, source: SystemAccountKind::World, reference: None };
        bus.execute(&account, command, &Operation::fresh()).await.expect("deposit");
    });
    deposits.buffer_unordered(BUILD_CONCURRENCY).collect::<Vec<()>>().await;
}

pub async fn open(http: &reqwest::Client, base: &str, account: &str) {
    let response = http
        .post(format!("{base}/v1/accounts"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"id": account, "asset": "BTC"}))
        .send()
        .await
        .expect("open");
    assert!(response.status().is_success(), "open {account}: {}", response.status());
}

/// A deposit of `amount` to `account` over HTTP, under a fresh Idempotency-Key.
pub async fn deposit(http: &reqwest::Client, base: &str, account: &str, amount: &str) {
    let response = http
        .post(format!("{base}/v1/deposits"))
        .bearer_auth(ADMIN_KEY)
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"account": account, "amount": amount}))
        .send()
        .await
        .expect("deposit");
    assert!(response.status().is_success(), "deposit to {account}: {}", response.status());
}

pub async fn count_events(sql: &tokio_postgres::Client) -> i64 {
    sql.query_one("SELECT count(*) FROM events", &[]).await.unwrap().get(0)
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub async fn connect(target: &DatabaseTarget) -> tokio_postgres::Client {
    let (client, connection) = target.postgres_config().unwrap().connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}
