//! Transfer latency with and without a concurrent password-guessing flood on
//! `POST /rest/v1/login`, printed as p99 ratios. Run with `cargo bench --bench login_flood`.
//!
//! Two services on one durable cluster: one with the default sign-in limits (the flood is
//! throttled after a few guesses), one with limits too high to matter (every guess costs an
//! argon2 verification, on the bounded hashing pool). Target: p99 under the flood at most
//! 1.5 times the p99 without it.

use std::time::{Duration, Instant};

use api::admin_key::AdminKey;
use app::credentials::ThrottleSettings;
use ledger::embedded_pg::{Durability, EmbeddedPostgres};
use ledger::service::{Service, ServiceConfig};
use serde_json::json;

const ADMIN_KEY: &str = "bench";
const ACCOUNTS: usize = 16;
const TRANSFER_CLIENTS: usize = 8;
const FLOOD_CONNECTIONS: usize = 16;
const SECONDS_PER_RUN: u64 = 6;

struct Measured {
    transfers: usize,
    p50_ms: f64,
    p99_ms: f64,
    guesses: usize,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let root = std::path::PathBuf::from(format!("/tmp/ledger-bench-flood-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let postgres = EmbeddedPostgres::prepare(&root, Durability::Durable).await.expect("prepare cluster");
    let mut server = postgres.start_attached().await.expect("start cluster");
    let unlimited =
        ThrottleSettings { max_account_failures: u32::MAX, max_address_failures: u32::MAX, ..Default::default() };
    let mut lines = Vec::new();
    for (name, throttle) in [("default limits", ThrottleSettings::default()), ("no limits", unlimited)] {
        let database = name.replace(' ', "_");
        postgres.create_database_named(&database).await.expect("database");
        let service = Service::start(ServiceConfig {
            read_your_writes_timeout: Duration::from_secs(10),
            throttle,
            ..ServiceConfig::new(postgres.target_for(&database), AdminKey::from_secret(ADMIN_KEY))
        })
        .await
        .expect("service");
        let (base, _server) = service.serve_on_loopback().await.expect("serve");
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
        prepare(&service, &http, &base).await;
        let quiet = measure(&http, &base, 0).await;
        let flooded = measure(&http, &base, FLOOD_CONNECTIONS).await;
        lines.push((name, quiet, flooded));
        service.stop().await;
    }
    println!();
    println!(
        "transfer latency under a login flood ({TRANSFER_CLIENTS} transfer clients, {FLOOD_CONNECTIONS} guessing connections, {SECONDS_PER_RUN}s per run)"
    );
    println!(
        "{:>15} | {:>10} | {:>9} | {:>9} | {:>10} | {:>9} | {:>9} | {:>9} | {:>9}",
        "sign-in limits", "quiet tx", "p50 ms", "p99 ms", "flooded tx", "p50 ms", "p99 ms", "guesses", "p99 ratio"
    );
    println!("{}", "-".repeat(112));
    for (name, quiet, flooded) in lines {
        println!(
            "{:>15} | {:>10} | {:>9.1} | {:>9.1} | {:>10} | {:>9.1} | {:>9.1} | {:>9} | {:>8.2}x",
            name,
            quiet.transfers,
            quiet.p50_ms,
            quiet.p99_ms,
            flooded.transfers,
            flooded.p50_ms,
            flooded.p99_ms,
            flooded.guesses,
            flooded.p99_ms / quiet.p99_ms
        );
    }
    drop(server.stdin.take());
    let _ = server.wait();
    // A durable cluster holds hundreds of megabytes; a run leaves none of it behind.
    let _ = std::fs::remove_dir_all(&root);
}

async fn prepare(service: &Service, http: &reqwest::Client, base: &str) {
    let victim = app::use_cases::users::NewUser {
        email: "victim@example.com".into(),
        username: "victim".into(),
        password: "the-right-password".into(),
        first_name: None,
        last_name: None,
        admin: false,
    };
    app::use_cases::users::register(&service.state.ledger, victim).await.expect("register");
    for account in 0..ACCOUNTS {
        let open = json!({"id": format!("acct-{account}"), "asset": "BTC"});
        http.post(format!("{base}/v1/accounts")).bearer_auth(ADMIN_KEY).json(&open).send().await.unwrap();
        let fund = json!({"account": format!("acct-{account}"), "amount": "1000"});
        let key = format!("fund-{account}");
        let request = http.post(format!("{base}/v1/deposits")).bearer_auth(ADMIN_KEY).header("Idempotency-Key", key);
        request.json(&fund).send().await.unwrap();
    }
}

async fn measure(http: &reqwest::Client, base: &str, flood_connections: usize) -> Measured {
    let deadline = Instant::now() + Duration::from_secs(SECONDS_PER_RUN);
    let flood: Vec<_> = (0..flood_connections)
        .map(|connection| {
            let (http, base) = (http.clone(), base.to_string());
            tokio::spawn(async move {
                let mut guesses = 0;
                while Instant::now() < deadline {
                    let guess = json!({"username": "victim", "password": format!("guess-{connection}-{guesses}")});
                    let _ = http.post(format!("{base}/rest/v1/login")).json(&guess).send().await;
                    guesses += 1;
                }
                guesses
            })
        })
        .collect();
    let transfers: Vec<_> = (0..TRANSFER_CLIENTS)
        .map(|client| {
            let (http, base) = (http.clone(), base.to_string());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = 0_usize;
                while Instant::now() < deadline {
                    let from = (client + n) % ACCOUNTS;
                    let to = (from + 1 + n % (ACCOUNTS - 1)) % ACCOUNTS;
                    let body = json!({"from": format!("acct-{from}"), "to": format!("acct-{to}"), "amount": "0.00001"});
                    let key = format!("flood-{flood_connections}-{client}-{n}");
                    let sent = Instant::now();
                    let request = http.post(format!("{base}/v1/transfers")).bearer_auth(ADMIN_KEY);
                    let response = request.header("Idempotency-Key", key).json(&body).send().await.unwrap();
                    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
                    latencies.push(sent.elapsed());
                    n += 1;
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in transfers {
        latencies.extend(worker.await.unwrap());
    }
    let mut guesses = 0;
    for worker in flood {
        guesses += worker.await.unwrap();
    }
    latencies.sort();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1).min(latencies.len() - 1);
        latencies[index].as_secs_f64() * 1_000.0
    };
    Measured { transfers: latencies.len(), p50_ms: percentile(0.50), p99_ms: percentile(0.99), guesses }
}
