//! Throughput and latency through HTTP, replay speed, and a raw-SQL baseline on the same
//! PostgreSQL. Run with `cargo bench --bench throughput`; prints a table.
//!
//! The baseline is the smallest transaction that moves money in SQL (two inserts, two
//! updates) run at the same concurrency; our figure is shown as a ratio of it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::admin_key::AdminKey;
use api::router::router;
use ledger::embedded_pg::{Durability, EmbeddedPostgres};
use ledger::service::{Service, ServiceConfig};
use rand::{Rng, SeedableRng};
use serde_json::json;

const ADMIN_KEY: &str = "bench";
const ACCOUNTS: usize = 64;
const CONCURRENCY: [usize; 3] = [1, 8, 32];
const SECONDS_PER_RUN: u64 = 8;

struct Run {
    clients: usize,
    operations: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.operations as f64 / self.seconds
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let root = std::path::PathBuf::from(format!("/tmp/ledger-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let postgres = EmbeddedPostgres::prepare(&root, Durability::Durable).await.expect("prepare cluster");
    let mut server = postgres.start_attached().await.expect("start cluster");
    postgres.create_database_named("bench").await.expect("bench db");
    postgres.create_database_named("baseline").await.expect("baseline db");

    let target = postgres.target_for("bench");
    let service = Service::start(ServiceConfig {
        read_your_writes_timeout: Duration::from_secs(10),
        ..ServiceConfig::new(target.clone(), AdminKey::from_secret(ADMIN_KEY))
    })
    .await
    .expect("service");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(service.state.clone());
    tokio::spawn(async move { api::router::serve(listener, app, std::future::pending()).await.unwrap() });
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    for account in 0..ACCOUNTS {
        post(
            &http,
            &base,
            "/v1/accounts",
            json!({"id": format!("acct-{account}"), "asset": "BTC"}),
            &format!("open-{account}"),
        )
        .await;
        post(
            &http,
            &base,
            "/v1/deposits",
            json!({"account": format!("acct-{account}"), "amount": "1000000"}),
            &format!("fund-{account}"),
        )
        .await;
    }

    let baseline_client = connect(&postgres.target_for("baseline")).await;
    baseline_client
        .batch_execute(
            "CREATE TABLE accounts (id int PRIMARY KEY, balance numeric NOT NULL);
             CREATE TABLE postings (id bigserial PRIMARY KEY, account int NOT NULL, amount numeric NOT NULL);
             INSERT INTO accounts SELECT g, 1000000 FROM generate_series(0, 63) g;",
        )
        .await
        .unwrap();

    let mut rows = Vec::new();
    for clients in CONCURRENCY {
        let ours = run_http(&http, &base, clients).await;
        let baseline = run_sql(&postgres.target_for("baseline"), clients).await;
        rows.push((ours, baseline));
    }

    service.stop().await;
    let reads = store::connect(&target).await.expect("pools").reads;
    let events: i64 = reads.get().await.unwrap().query_one("SELECT count(*) FROM events", &[]).await.unwrap().get(0);
    let started = Instant::now();
    let applications = projections::rebuild::rebuild_in_place(&reads, &|_, _| {}).await.expect("replay");
    let replay_seconds = started.elapsed().as_secs_f64();

    println!();
    println!("ledger throughput (HTTP, POST /v1/transfers with Idempotency-Key, {ACCOUNTS} accounts, {SECONDS_PER_RUN}s per run)");
    println!(
        "{:>7} | {:>12} | {:>8} | {:>8} | {:>14} | {:>7}",
        "clients", "transfers/s", "p50 ms", "p99 ms", "raw SQL tx/s", "ratio"
    );
    println!("{}", "-".repeat(72));
    for (ours, baseline) in &rows {
        println!(
            "{:>7} | {:>12.0} | {:>8.2} | {:>8.2} | {:>14.0} | {:>6.1}%",
            ours.clients,
            ours.per_second(),
            ours.p50_ms,
            ours.p99_ms,
            baseline.per_second(),
            100.0 * ours.per_second() / baseline.per_second()
        );
    }
    println!();
    println!(
        "replay: {events} events into {} read models in {replay_seconds:.2}s = {:.0} events/s ({:.0} event applications/s)",
        projections::registry::ALL.len(),
        events as f64 / replay_seconds,
        applications as f64 / replay_seconds
    );
    // Closing its stdin stops the cluster; wait so it leaves no zombie.
    drop(server.stdin.take());
    let _ = server.wait();
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    body: serde_json::Value,
    key: &str,
) -> reqwest::StatusCode {
    http.post(format!("{base}{path}"))
        .bearer_auth(ADMIN_KEY)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect("request")
        .status()
}

async fn run_http(http: &reqwest::Client, base: &str, clients: usize) -> Run {
    let deadline = Instant::now() + Duration::from_secs(SECONDS_PER_RUN);
    let started = Instant::now();
    let workers = (0..clients).map(|client| {
        let (http, base) = (http.clone(), base.to_string());
        tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(client as u64);
            let mut latencies = Vec::new();
            let mut n = 0;
            while Instant::now() < deadline {
                let from = rng.gen_range(0..ACCOUNTS);
                let to = (from + rng.gen_range(1..ACCOUNTS)) % ACCOUNTS;
                let body = json!({"from": format!("acct-{from}"), "to": format!("acct-{to}"), "amount": "0.00001"});
                let sent = Instant::now();
                let status = post(&http, &base, "/v1/transfers", body, &format!("bench-{clients}-{client}-{n}")).await;
                assert_eq!(status, reqwest::StatusCode::CREATED);
                latencies.push(sent.elapsed());
                n += 1;
            }
            latencies
        })
    });
    let mut latencies: Vec<Duration> = Vec::new();
    for worker in workers.collect::<Vec<_>>() {
        latencies.extend(worker.await.unwrap());
    }
    summarise(clients, latencies, started.elapsed())
}

async fn run_sql(target: &store::DatabaseTarget, clients: usize) -> Run {
    let deadline = Instant::now() + Duration::from_secs(SECONDS_PER_RUN);
    let started = Instant::now();
    let done = Arc::new(AtomicU64::new(0));
    let workers = (0..clients).map(|client| {
        let target = target.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut sql = connect(&target).await;
            let mut rng = rand::rngs::StdRng::seed_from_u64(client as u64);
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let from = rng.gen_range(0..ACCOUNTS as i32);
                let to = (from + rng.gen_range(1..ACCOUNTS as i32)) % ACCOUNTS as i32;
                let amount = rust_decimal::Decimal::new(1, 5);
                let sent = Instant::now();
                let tx = sql.transaction().await.unwrap();
                tx.execute("INSERT INTO postings (account, amount) VALUES ($1, -$2::numeric)", &[&from, &amount])
                    .await
                    .unwrap();
                tx.execute("INSERT INTO postings (account, amount) VALUES ($1, $2::numeric)", &[&to, &amount])
                    .await
                    .unwrap();
                // Lock in id order, as any real implementation must, to avoid deadlocks.
                let (first, second) = if from < to { (from, to) } else { (to, from) };
                for id in [first, second] {
                    let delta = if id == from { -amount } else { amount };
                    tx.execute("UPDATE accounts SET balance = balance + $2 WHERE id = $1", &[&id, &delta])
                        .await
                        .unwrap();
                }
                tx.commit().await.unwrap();
                latencies.push(sent.elapsed());
                done.fetch_add(1, Ordering::Relaxed);
            }
            latencies
        })
    });
    let mut latencies = Vec::new();
    for worker in workers.collect::<Vec<_>>() {
        latencies.extend(worker.await.unwrap());
    }
    summarise(clients, latencies, started.elapsed())
}

fn summarise(clients: usize, mut latencies: Vec<Duration>, elapsed: Duration) -> Run {
    latencies.sort();
    let percentile = |p: f64| {
        let index =
            ((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1).min(latencies.len().saturating_sub(1));
        latencies.get(index).map_or(0.0, |latency| latency.as_secs_f64() * 1_000.0)
    };
    Run {
        clients,
        operations: latencies.len() as u64,
        seconds: elapsed.as_secs_f64(),
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
    }
}

async fn connect(target: &store::DatabaseTarget) -> tokio_postgres::Client {
    let (client, connection) = target.postgres_config().unwrap().connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}
