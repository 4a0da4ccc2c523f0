//! Throughput and p99 of `POST /v1/transfers` at 1 and 32 clients on a log of 0, 1,000,000
//! and 10,000,000 prior events, each beside an empty log measured in the same minutes. Run
//! with `cargo bench --bench long_log`; prints a table. `LEDGER_BENCH_LOG_SIZES=0,1000000`
//! picks the sizes, `LEDGER_BENCH_RUN_SECONDS` the seconds per run (default 8) and
//! `LEDGER_BENCH_REPEATS` the runs per cell (default 3, the median is printed).
//!
//! The log grows through the committers (deposits to 1,000 other accounts, many a batch)
//! between the measurements, with the same server running throughout; the measured
//! transfers go between 64 accounts of their own, as in the throughput bench. The empty log
//! is a fresh database of the same cluster with a server of its own, started at each size
//! and measured in turns with the long one, so a machine that is slower for a minute
//! slows both sides of the ratio. Each run also prints what it cost the database, and each
//! size compares the shared blocks every statement touched per call on the two logs.

use std::time::{Duration, Instant};

use futures::future::join_all;
use rand::{Rng, SeedableRng};
use serde_json::json;

mod support;
use support::database_cost::{blocks_per_call, growth_report, reset_statements, Watch};
use support::{connect, count_events, deposit, deposit_many, median, open, start, BenchCluster, ADMIN_KEY};

const DEFAULT_LOG_SIZES: [usize; 3] = [0, 1_000_000, 10_000_000];
const ACCOUNTS: usize = 64;
const FILLER_ACCOUNTS: usize = 1_000;
const CLIENTS: [usize; 2] = [1, 32];
const DEFAULT_SECONDS_PER_RUN: u64 = 8;
const DEFAULT_REPEATS: usize = 3;
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

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

fn seconds_per_run() -> u64 {
    setting("LEDGER_BENCH_RUN_SECONDS", DEFAULT_SECONDS_PER_RUN)
}

struct Run {
    transfers: usize,
    transfers_per_second: f64,
    p99_ms: f64,
}

/// A server over one database, with a connection for its counters and one for sampling.
struct Side {
    label: &'static str,
    base: String,
    sql: tokio_postgres::Client,
    target: store::DatabaseTarget,
}

impl Side {
    async fn measure(&self, http: &reqwest::Client, clients: usize) -> Run {
        let watch = Watch::start(&self.sql, connect(&self.target).await).await;
        let run = run_transfers(http, &self.base, clients).await;
        let cost = watch.finish(&self.sql, run.transfers).await;
        eprintln!(
            "  {:>5} log, {clients:>2} clients: {:>6.0} transfers/s, p99 {:>6.2} ms; {}",
            self.label,
            run.transfers_per_second,
            run.p99_ms,
            cost.summary()
        );
        run
    }
}

/// Opens and funds the 64 accounts the transfers move between.
async fn fund_accounts(http: &reqwest::Client, base: &str) {
    for account in 0..ACCOUNTS {
        open(http, base, &format!("acct-{account}")).await;
        deposit(http, base, &format!("acct-{account}"), "1000000").await;
    }
}

/// Medians of one cell: (long log, empty log) transfers/s and p99 ms.
struct Cell {
    long: (f64, f64),
    empty: (f64, f64),
}

fn cell(long: &[Run], empty: &[Run]) -> Cell {
    let medians = |runs: &[Run]| {
        (
            median(runs.iter().map(|run| run.transfers_per_second).collect()),
            median(runs.iter().map(|run| run.p99_ms).collect()),
        )
    };
    Cell { long: medians(long), empty: medians(empty) }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let cluster = BenchCluster::start("long-log").await;
    let target = cluster.target.clone();
    let sql = connect(&target).await;
    let (service, base, _serving) = start(&target).await;
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    fund_accounts(&http, &base).await;
    for account in 0..FILLER_ACCOUNTS {
        open(&http, &base, &format!("filler-{account}")).await;
    }
    let long = Side { label: "long", base, sql, target };
    let repeats = setting("LEDGER_BENCH_REPEATS", DEFAULT_REPEATS as u64).max(1) as usize;

    let mut rows = Vec::new();
    for (index, size) in log_sizes().into_iter().enumerate() {
        let started = Instant::now();
        loop {
            let missing = size.saturating_sub(count_events(&long.sql).await as usize);
            if missing == 0 {
                break;
            }
            let step = missing.min(GROWTH_STEP_EVENTS);
            deposit_many(&service, (0..step).map(|n| format!("filler-{}", n % FILLER_ACCOUNTS))).await;
            eprintln!("log at {} events", count_events(&long.sql).await);
        }
        let grown_s = started.elapsed().as_secs_f64();
        // Let the checkpoint the growth caused pass before measuring.
        long.sql.batch_execute("CHECKPOINT").await.unwrap();
        let events = count_events(&long.sql).await;
        eprintln!("measuring at {events} events (grown in {grown_s:.0} s)");

        let empty_target = cluster.create_database(&format!("empty_{index}")).await;
        let (empty_service, empty_base, _empty_serving) = start(&empty_target).await;
        fund_accounts(&http, &empty_base).await;
        let empty = Side { label: "empty", base: empty_base, sql: connect(&empty_target).await, target: empty_target };
        reset_statements(&long.sql).await;
        reset_statements(&empty.sql).await;

        let mut cells = Vec::new();
        for clients in CLIENTS {
            let (mut long_runs, mut empty_runs) = (Vec::new(), Vec::new());
            // Which side goes first alternates, so neither always follows the other's load.
            for repeat in 0..repeats {
                if repeat % 2 == 0 {
                    long_runs.push(long.measure(&http, clients).await);
                    empty_runs.push(empty.measure(&http, clients).await);
                } else {
                    empty_runs.push(empty.measure(&http, clients).await);
                    long_runs.push(long.measure(&http, clients).await);
                }
            }
            cells.push(cell(&long_runs, &empty_runs));
        }
        let growth = growth_report(&blocks_per_call(&long.sql).await, &blocks_per_call(&empty.sql).await);
        empty_service.stop().await;
        rows.push((events, cells, growth));
    }

    println!();
    println!(
        "transfers on a long log beside an empty one (POST /v1/transfers over {ACCOUNTS} accounts, \
         median of {repeats} runs of {}s each, taken in turns)",
        seconds_per_run()
    );
    println!(
        "{:>12} | {:>7} | {:>12} | {:>8} | {:>13} | {:>8} | {:>9}",
        "log events", "clients", "long tx/s", "p99 ms", "empty tx/s", "p99 ms", "long/empty"
    );
    println!("{}", "-".repeat(90));
    for (events, cells, _) in &rows {
        for (clients, cell) in CLIENTS.iter().zip(cells) {
            println!(
                "{events:>12} | {clients:>7} | {:>12.0} | {:>8.2} | {:>13.0} | {:>8.2} | {:>8.2}x",
                cell.long.0,
                cell.long.1,
                cell.empty.0,
                cell.empty.1,
                cell.long.0 / cell.empty.0,
            );
        }
    }
    println!("target: every long log within 10 % of the empty one (0.90x or more)");
    for (events, _, growth) in &rows {
        println!();
        println!("at {events} events: {growth}");
    }
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
    Run { transfers: latencies_ms.len(), transfers_per_second: latencies_ms.len() as f64 / seconds, p99_ms }
}
