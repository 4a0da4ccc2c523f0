//! The first command after a restart, on accounts with 10, 10,000 and 100,000 prior events,
//! with the snapshots the committers took and with none; and the restart time of a server
//! over a log of 1,000,000 events. Run with `cargo bench --bench cold_start`; prints a table.
//!
//! Histories are built through the real write path (the committers, many deposits a batch).
//! Rounds with the snapshots the committers took come first; before each round without,
//! every snapshot is deleted. Each round restarts the service in this process, which starts with empty aggregate
//! caches, sends one deposit to an account of its own (connections and statements warm
//! up), then one deposit over HTTP to each measured account, in a rotating order.

use std::time::Instant;

use store::DatabaseTarget;

mod support;
use support::{connect, count_events, deposit, deposit_many, median, open, start, BenchCluster};

/// Prior events of each measured account (its opening included).
const HISTORIES: [usize; 3] = [10, 10_000, 100_000];
/// Events in the whole log before the restarts, unless `LEDGER_BENCH_LOG_EVENTS` says
/// otherwise (a quick look); the rest of the log spreads over `FILLER_ACCOUNTS`.
const DEFAULT_LOG_EVENTS: usize = 1_000_000;
const FILLER_ACCOUNTS: usize = 1_000;
/// Restarts measured in each mode; the table shows the median.
const ROUNDS: usize = 5;

/// The server's own allocator (src/main.rs): the bench runs the server in this process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn log_events() -> usize {
    std::env::var("LEDGER_BENCH_LOG_EVENTS").ok().and_then(|value| value.parse().ok()).unwrap_or(DEFAULT_LOG_EVENTS)
}

fn history_account(events: usize) -> String {
    format!("history-{events}")
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let cluster = BenchCluster::start("cold-start").await;
    let target = cluster.target.clone();
    let sql = connect(&target).await;

    let started = Instant::now();
    let (service, base, serving) = start(&target).await;
    let http = reqwest::Client::builder().pool_max_idle_per_host(16).build().unwrap();
    for events in HISTORIES {
        open(&http, &base, &history_account(events)).await;
        deposit_many(&service, vec![history_account(events); events - 1]).await;
    }
    let logged = count_events(&sql).await;
    let filler_events = log_events().saturating_sub(logged as usize);
    for account in 0..FILLER_ACCOUNTS {
        open(&http, &base, &format!("filler-{account}")).await;
    }
    let per_account = filler_events.saturating_sub(FILLER_ACCOUNTS) / FILLER_ACCOUNTS;
    let filler: Vec<String> =
        (0..per_account).flat_map(|_| (0..FILLER_ACCOUNTS).map(|account| format!("filler-{account}"))).collect();
    deposit_many(&service, filler).await;
    let events = count_events(&sql).await;
    println!(
        "built a log of {events} events in {:.0} s ({:.0} events/s through the committers)",
        started.elapsed().as_secs_f64(),
        events as f64 / started.elapsed().as_secs_f64()
    );
    serving.abort();
    service.stop().await;

    // The snapshots the committers took while the log was built, then none.
    let snapshots: i64 = sql.query_one("SELECT count(*) FROM aggregate_snapshots", &[]).await.unwrap().get(0);
    let mut with = Vec::new();
    for round in 0..ROUNDS {
        with.push(measure_round(&target, &http, round, "with").await);
    }
    let mut without = Vec::new();
    for round in 0..ROUNDS {
        sql.batch_execute("DELETE FROM aggregate_snapshots").await.unwrap();
        without.push(measure_round(&target, &http, round, "without").await);
    }

    println!();
    println!("first command after a restart (POST /v1/deposits, median of {ROUNDS} restarts, ms)");
    println!("{:>14} | {:>15} | {:>18}", "prior events", "with snapshots", "without snapshots");
    println!("{}", "-".repeat(54));
    for (index, events) in HISTORIES.iter().enumerate() {
        let median_of = |rounds: &[Round]| median(rounds.iter().map(|round| round.first_command_ms[index]).collect());
        println!("{events:>14} | {:>15.2} | {:>18.2}", median_of(&with), median_of(&without));
    }
    let ratio = median(with.iter().map(|round| round.first_command_ms[2]).collect())
        / median(with.iter().map(|round| round.first_command_ms[0]).collect());
    println!("with snapshots, 100,000 prior events against 10: {ratio:.2}x (target: at most 2x)");
    println!(
        "restart over {events} events ({snapshots} snapshots): {:.0} ms with snapshots, {:.0} ms without (median)",
        median(with.iter().map(|round| round.restart_ms).collect()),
        median(without.iter().map(|round| round.restart_ms).collect())
    );
    cluster.finish();
}

struct Round {
    restart_ms: f64,
    /// By `HISTORIES`.
    first_command_ms: Vec<f64>,
}

/// Restarts the service and times the first deposit to each measured account.
async fn measure_round(target: &DatabaseTarget, http: &reqwest::Client, round: usize, mode: &str) -> Round {
    let started = Instant::now();
    let (service, base, serving) = start(target).await;
    let ready = http.get(format!("{base}/health")).send().await.expect("health");
    assert!(ready.status().is_success(), "the restarted server answers");
    let restart_ms = started.elapsed().as_secs_f64() * 1e3;
    let warm_up = format!("warm-{mode}-{round}");
    open(http, &base, &warm_up).await;
    deposit(http, &base, &warm_up, "1").await;
    let mut first_command_ms = vec![0.0; HISTORIES.len()];
    for offset in 0..HISTORIES.len() {
        let index = (round + offset) % HISTORIES.len();
        let started = Instant::now();
        deposit(http, &base, &history_account(HISTORIES[index]), "1").await;
        first_command_ms[index] = started.elapsed().as_secs_f64() * 1e3;
    }
    serving.abort();
    service.stop().await;
    Round { restart_ms, first_command_ms }
}
