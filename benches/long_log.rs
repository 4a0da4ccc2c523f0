//! Throughput and p99 of `POST /v1/transfers` at 1 and 32 clients on a log of 0, 1,000,000
//! and 10,000,000 prior events, side by side. Run with `cargo bench --bench long_log`;
//! prints a table. `LEDGER_BENCH_LOG_SIZES=0,1000000` picks the sizes,
//! `LEDGER_BENCH_RUN_SECONDS` the seconds per run (default 8).
//!
//! The log grows through the committers (deposits to 1,000 other accounts, many a batch)
//! between the measurements, with the same server running throughout; the measured
//! transfers go between 64 accounts of their own, as in the throughput bench.

use std::time::{Duration, Instant};

use futures::future::join_all;
use rand::{Rng, SeedableRng};
use serde_json::json;

mod support;
use support::{connect, count_events, deposit, deposit_many, open, start, BenchCluster, ADMIN_KEY};

const DEFAULT_LOG_SIZES: [usize; 3] = [0, 1_000_000, 10_000_000];
const ACCOUNTS: usize = 64;
const FILLER_ACCOUNTS: usize = 1_000;
const CLIENTS: [usize; 2] = [1, 32];
const DEFAULT_SECONDS_PER_RUN: u64 = 8;
/// Deposits handed to the committers at a time while the log grows, so progress shows.
const GROWTH_STEP_EVENTS: usize = 250_000;

/// The server's own allocator (src/main.rs): the bench runs the server in this process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn log_sizes() -> Vec<usize> {
    match std::env::var("LEDGER_BENCH_LOG_SIZES") {
        Ok(sizes) => sizes.split(',').filter_map(|size| size.trim().parse().ok()).collect(),
        Err(_) => DEFAULT_LOG_SIZES.to_vec(),
    }
}

fn seconds_per_run() -> u64 {
    std::env::var("LEDGER_BENCH_RUN_SECONDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(DEFAULT_SECONDS_PER_RUN)
}

struct Run {
    transfers_per_second: f64,
    p99_ms: f64,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let cluster = BenchCluster::start("long-log").await;
    let target = cluster.target.clone();
    let sql = connect(&target).await;
    let (service, base, _serving) = start(&target).await;
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    for account in 0..ACCOUNTS {
        open(&http, &base, &format!("acct-{account}")).await;
        deposit(&http, &base, &format!("acct-{account}"), "1000000").await;
    }
    for account in 0..FILLER_ACCOUNTS {
        open(&http, &base, &format!("filler-{account}")).await;
    }

    let mut rows = Vec::new();
    for size in log_sizes() {
        let started = Instant::now();
        loop {
            let missing = size.saturating_sub(count_events(&sql).await as usize);
            if missing == 0 {
                break;
            }
            let step = missing.min(GROWTH_STEP_EVENTS);
            deposit_many(&service, (0..step).map(|n| format!("filler-{}", n % FILLER_ACCOUNTS))).await;
            eprintln!("log at {} events", count_events(&sql).await);
        }
        let grown_s = started.elapsed().as_secs_f64();
        // Let the checkpoint the growth caused pass before measuring.
        sql.batch_execute("CHECKPOINT").await.unwrap();
        let events = count_events(&sql).await;
        let mut runs = Vec::new();
        for clients in CLIENTS {
            runs.push(run_transfers(&http, &base, clients).await);
        }
        eprintln!("measured at {events} events (grown in {grown_s:.0} s)");
        rows.push((events, runs));
    }

    println!();
    println!("transfers on a long log (POST /v1/transfers over {ACCOUNTS} accounts, {}s per run)", seconds_per_run());
    println!(
        "{:>12} | {:>14} | {:>9} | {:>8} | {:>15} | {:>9} | {:>8}",
        "log events", "1 client tx/s", "p99 ms", "vs empty", "32 clients tx/s", "p99 ms", "vs empty"
    );
    println!("{}", "-".repeat(96));
    let empty: Vec<f64> =
        rows.first().map(|(_, runs)| runs.iter().map(|run| run.transfers_per_second).collect()).unwrap_or_default();
    for (events, runs) in &rows {
        println!(
            "{events:>12} | {:>14.0} | {:>9.2} | {:>7.2}x | {:>15.0} | {:>9.2} | {:>7.2}x",
            runs[0].transfers_per_second,
            runs[0].p99_ms,
            runs[0].transfers_per_second / empty[0],
            runs[1].transfers_per_second,
            runs[1].p99_ms,
            runs[1].transfers_per_second / empty[1],
        );
    }
    println!("target: every row within 10 % of the empty log's (0.90x or more)");
    service.stop().await;
    cluster.finish();
}

/// `clients` closed loops of transfers between random pairs of the 64 accounts.
async fn run_transfers(http: &reqwest::Client, base: &str, clients: usize) -> Run {
    let deadline = Instant::now() + Duration::from_secs(seconds_per_run());
    let started = Instant::now();
    let loops = (0..clients).map(|client| async move {
        let mut random = rand::rngs::StdRng::seed_from_u64(client as u64);
        let mut latencies_ms = Vec::new();
        while Instant::now() < deadline {
            let from = random.gen_range(0..ACCOUNTS);
            let to = (from + random.gen_range(1..ACCOUNTS)) % ACCOUNTS;
            let body = json!({"from": format!("acct-{from}"), "to": format!("acct-{to}"), "amount": "0.01"});
            let sent = Instant::now();
            let response = http
                .post(format!("{base}/v1/transfers"))
                .bearer_auth(ADMIN_KEY)
                .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                .json(&body)
                .send()
                .await
                .expect("transfer");
            assert!(response.status().is_success(), "transfer: {}", response.status());
            latencies_ms.push(sent.elapsed().as_secs_f64() * 1e3);
        }
        latencies_ms
    });
    let mut latencies_ms: Vec<f64> = join_all(loops).await.into_iter().flatten().collect();
    let seconds = started.elapsed().as_secs_f64();
    latencies_ms.sort_by(f64::total_cmp);
    let p99_ms = latencies_ms.get(latencies_ms.len() * 99 / 100).copied().unwrap_or(0.0);
    Run { transfers_per_second: latencies_ms.len() as f64 / seconds, p99_ms }
}
