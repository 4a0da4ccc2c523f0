//! What the benches that build long logs share: the service started in the bench's own
//! process, deposits through the committers, and a connection for SQL.

// Each bench is a crate of its own and uses a part of this.
#![allow(dead_code)]

use std::time::Duration;

use api::admin_key::AdminKey;
use domain::account::AccountCommand;
use domain::system_account::SystemAccountKind;
use futures::StreamExt;
use ledger::service::{Service, ServiceConfig};
use rust_decimal::Decimal;
use serde_json::json;
use store::{DatabaseTarget, Operation};

pub const ADMIN_KEY: &str = "bench";
/// Deposits in flight while a log is built: they share the committers' batches.
const BUILD_CONCURRENCY: usize = 1_024;

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
