//! Throughput and latency through HTTP, statements and commits per transfer, replay speed,
//! and raw-SQL baselines on the same PostgreSQL. Run with `cargo bench --bench throughput`;
//! prints a table.
//!
//! Baselines, run on the same cluster at the same concurrency right after ours:
//! - transfers: the smallest transaction that moves money in SQL (two inserts, two updates
//!   in id order); the hot run sends every one of them to the same account row;
//! - replay: `COPY (SELECT * FROM events) TO STDOUT` of the same log.
//!
//! Statements are counted with `pg_stat_statements` (every statement, BEGIN and COMMIT
//! included) in the ledger's database only; commits are `pg_stat_database.xact_commit`
//! (read-only transactions too) and WAL flushes `pg_stat_wal.wal_sync`, both per transfer.

use std::time::{Duration, Instant};

use api::admin_key::AdminKey;
use futures::StreamExt;
use ledger::embedded_pg::{Durability, EmbeddedPostgres};
use ledger::service::{Service, ServiceConfig};
use rand::{Rng, SeedableRng};
use serde_json::json;

mod support;
use support::{connect, enable_statement_statistics};

const ADMIN_KEY: &str = "bench";
const ACCOUNTS: usize = 64;
/// Seconds per run, unless `LEDGER_BENCH_RUN_SECONDS` says otherwise (a quick look).
const DEFAULT_SECONDS_PER_RUN: u64 = 8;

fn seconds_per_run() -> u64 {
    std::env::var("LEDGER_BENCH_RUN_SECONDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(DEFAULT_SECONDS_PER_RUN)
}
/// The statements printed for a run, most called first.
const TOP_STATEMENTS: usize = 8;

#[derive(Clone, Copy)]
enum Load {
    /// `clients` paying random accounts among `ACCOUNTS`.
    Spread(usize),
    /// `clients` all paying account 0.
    Hot(usize),
}

impl Load {
    fn clients(self) -> usize {
        match self {
            Load::Spread(clients) | Load::Hot(clients) => clients,
        }
    }

    fn label(self) -> String {
        match self {
            Load::Spread(clients) => clients.to_string(),
            Load::Hot(clients) => format!("{clients} hot"),
        }
    }

    /// The (from, to) pair of a client's next transfer.
    fn pair(self, rng: &mut rand::rngs::StdRng) -> (usize, usize) {
        match self {
            Load::Spread(_) => {
                let from = rng.gen_range(0..ACCOUNTS);
                (from, (from + rng.gen_range(1..ACCOUNTS)) % ACCOUNTS)
            }
            Load::Hot(_) => (rng.gen_range(1..ACCOUNTS), 0),
        }
    }
}

const LOADS: [Load; 4] = [Load::Spread(1), Load::Spread(8), Load::Spread(32), Load::Hot(32)];

/// The loads to run: all, or those `LEDGER_BENCH_LOADS` names by label (`1,8,32,32 hot`).
fn loads() -> Vec<Load> {
    let Ok(wanted) = std::env::var("LEDGER_BENCH_LOADS") else { return LOADS.to_vec() };
    let wanted: Vec<&str> = wanted.split(',').map(str::trim).collect();
    LOADS.into_iter().filter(|load| wanted.contains(&load.label().as_str())).collect()
}

struct Run {
    operations: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    cpu: CpuUse,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.operations as f64 / self.seconds
    }

    /// CPU time per operation, in µs: the whole machine's, and this process's (the server
    /// and the load generator; the rest is PostgreSQL).
    fn cpu_us_per_operation(&self) -> (f64, f64, f64) {
        let per_operation = |seconds: f64| seconds * 1e6 / self.operations.max(1) as f64;
        (per_operation(self.cpu.machine_s), per_operation(self.cpu.process_s), per_operation(self.cpu.postgres_s))
    }
}

/// Kernel clock ticks per second in `/proc` (USER_HZ, 100 on Linux).
const PROC_TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds spent during a run: by every core of the machine, and by this process.
#[derive(Clone, Copy, Default)]
struct CpuUse {
    machine_s: f64,
    process_s: f64,
    postgres_s: f64,
    cores: usize,
    elapsed_s: f64,
}

impl CpuUse {
    fn busy_share(&self) -> f64 {
        self.machine_s / (self.elapsed_s * self.cores.max(1) as f64)
    }
}

struct CpuClock {
    machine_ticks: f64,
    process_ticks: f64,
    postgres_ticks: f64,
    at: Instant,
}

/// CPU ticks used so far by every live `postgres` process (backends and background workers;
/// a backend that exited during the run is not counted).
fn postgres_ticks() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0.0 };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_str().is_some_and(|name| name.bytes().all(|byte| byte.is_ascii_digit())))
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| stat.contains("(postgres)"))
        .map(|stat| cpu_ticks_of(&stat))
        .sum()
}

/// utime + stime of one `/proc/<pid>/stat` line: the 14th and 15th fields, counted from
/// the pid, so the 12th and 13th after the parenthesised command name (which may hold
/// spaces).
fn cpu_ticks_of(stat: &str) -> f64 {
    let after_name: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let field = |index: usize| after_name.get(index).and_then(|value| value.parse::<f64>().ok()).unwrap_or(0.0);
    field(11) + field(12)
}

impl CpuClock {
    fn now() -> Self {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        // user nice system idle iowait irq softirq steal (guest time is already in user):
        // busy is all of them but idle and iowait.
        let fields: Vec<f64> = stat
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .take(8)
            .filter_map(|n| n.parse().ok())
            .collect();
        let machine_ticks = fields.iter().sum::<f64>() - fields.get(3).unwrap_or(&0.0) - fields.get(4).unwrap_or(&0.0);
        let process_ticks = cpu_ticks_of(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default());
        Self { machine_ticks, process_ticks, postgres_ticks: postgres_ticks(), at: Instant::now() }
    }

    fn since(&self) -> CpuUse {
        let now = Self::now();
        CpuUse {
            machine_s: (now.machine_ticks - self.machine_ticks) / PROC_TICKS_PER_SECOND,
            process_s: (now.process_ticks - self.process_ticks) / PROC_TICKS_PER_SECOND,
            postgres_s: (now.postgres_ticks - self.postgres_ticks) / PROC_TICKS_PER_SECOND,
            cores: std::thread::available_parallelism().map_or(1, |cores| cores.get()),
            elapsed_s: self.at.elapsed().as_secs_f64(),
        }
    }
}

/// What the database did during one of our runs.
struct Cost {
    statements: i64,
    commits: i64,
    wal_syncs: i64,
    /// Mean time of one WAL sync during the run.
    wal_sync_ms: f64,
    /// (calls, mean execution ms, statement), most called first.
    top: Vec<(i64, f64, String)>,
    /// Pages read from the log during the run, by reader and result.
    log_reads: Vec<(String, f64)>,
    /// Server-side mean of each stage of a transfer during the run: (stage, mean).
    stages: Vec<(&'static str, f64)>,
}

/// The server's own allocator (src/main.rs): the bench runs the server in this process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let root = std::path::PathBuf::from(format!("/tmp/ledger-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let postgres = EmbeddedPostgres::prepare(&root, Durability::Durable).await.expect("prepare cluster");
    enable_statement_statistics(&root);
    let mut server = postgres.start_attached().await.expect("start cluster");
    postgres.create_database_named("bench").await.expect("bench db");
    postgres.create_database_named("baseline").await.expect("baseline db");
    let stats = connect(&postgres.target_for("bench")).await;
    stats.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").await.expect("pg_stat_statements");

    let target = postgres.target_for("bench");
    let service = Service::start(ServiceConfig {
        read_your_writes_timeout: Duration::from_secs(10),
        ..ServiceConfig::new(target.clone(), AdminKey::from_secret(ADMIN_KEY))
    })
    .await
    .expect("service");
    let (base, _server) = service.serve_on_loopback().await.expect("serve");
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    for account in 0..ACCOUNTS {
        let open = json!({"id": format!("acct-{account}"), "asset": "BTC"});
        post(&http, &base, "/v1/accounts", open, &format!("open-{account}")).await;
        let fund = json!({"account": format!("acct-{account}"), "amount": "1000000"});
        post(&http, &base, "/v1/deposits", fund, &format!("fund-{account}")).await;
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
    for load in loads() {
        let before = counters(&stats).await;
        let reads_before = log_reads(&http, &base).await;
        stats.batch_execute("SELECT pg_stat_statements_reset()").await.unwrap();
        let ours = run_http(&http, &base, load).await;
        let mut cost = cost_since(&stats, before).await;
        let reads_after = log_reads(&http, &base).await;
        cost.log_reads = reads_after
            .iter()
            .map(|(series, count)| (series.clone(), count - reads_before.get(series).copied().unwrap_or(0.0)))
            .filter(|(_, count)| *count > 0.0)
            .collect();
        cost.stages = stage_means(&reads_before, &reads_after);
        let baseline = run_sql(&postgres.target_for("baseline"), load).await;
        rows.push((load, ours, cost, baseline));
    }

    service.stop().await;
    let reads = store::connect(&target).await.expect("pools").reads;
    let events: i64 = reads.get().await.unwrap().query_one("SELECT count(*) FROM events", &[]).await.unwrap().get(0);
    let started = Instant::now();
    projections::rebuild::rebuild_in_place(&reads, projections::rebuild::DEFAULT_PAGE_EVENTS, &|_, _| {})
        .await
        .expect("replay");
    let replay_seconds = started.elapsed().as_secs_f64();
    // The rebuild (pages pipelined) must equal what each read model's own catch-up builds.
    let comparisons = projections::rebuild::verify(&reads, projections::rebuild::DEFAULT_PAGE_EVENTS, &|_, _| {})
        .await
        .expect("verify");
    let different: Vec<_> = comparisons.iter().filter(|table| !table.identical).collect();
    assert!(different.is_empty(), "a rebuilt read model differs from its own replay: {different:?}");
    let copy_seconds = copy_events(&stats).await;

    println!();
    println!(
        "ledger throughput (HTTP, POST /v1/transfers with Idempotency-Key, {ACCOUNTS} accounts, {}s per run)",
        seconds_per_run()
    );
    println!(
        "{:>7} | {:>11} | {:>7} | {:>7} | {:>8} | {:>10} | {:>9} | {:>8} | {:>12} | {:>6} | {:>7}",
        "clients",
        "transfers/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "stmts/xfer",
        "xacts/xfer",
        "wal sync",
        "raw SQL tx/s",
        "ratio",
        "raw p99"
    );
    println!("{}", "-".repeat(124));
    for (load, ours, cost, baseline) in &rows {
        let transfers = ours.operations.max(1) as f64;
        println!(
            "{:>7} | {:>11.0} | {:>7.2} | {:>7.2} | {:>8.2} | {:>10.2} | {:>9.2} | {:>8.2} | {:>12.0} | {:>5.2}x | {:>7.2}",
            load.label(),
            ours.per_second(),
            ours.p50_ms,
            ours.p99_ms,
            ours.p999_ms,
            cost.statements as f64 / transfers,
            cost.commits as f64 / transfers,
            cost.wal_syncs as f64 / transfers,
            baseline.per_second(),
            ours.per_second() / baseline.per_second(),
            baseline.p99_ms,
        );
    }
    println!();
    println!(
        "CPU per transfer, µs summed over all cores: machine, the bench process (server and load generator), \
         PostgreSQL's processes; busy share of all cores"
    );
    println!(
        "{:>7} | {:>8} {:>8} {:>8} {:>6} | {:>8} {:>8} {:>8} {:>6}",
        "clients", "ours", "process", "postgres", "busy", "raw", "process", "postgres", "busy"
    );
    for (load, ours, _, baseline) in &rows {
        let (ours_total, ours_process, ours_postgres) = ours.cpu_us_per_operation();
        let (raw_total, raw_process, raw_postgres) = baseline.cpu_us_per_operation();
        println!(
            "{:>7} | {:>8.0} {:>8.0} {:>8.0} {:>5.0}% | {:>8.0} {:>8.0} {:>8.0} {:>5.0}%",
            load.label(),
            ours_total,
            ours_process,
            ours_postgres,
            ours.cpu.busy_share() * 100.0,
            raw_total,
            raw_process,
            raw_postgres,
            baseline.cpu.busy_share() * 100.0
        );
    }
    println!();
    println!(
        "replay: {events} events into {} read models in {replay_seconds:.2}s = {:.0} events/s; \
         COPY of the same log: {:.0} events/s; ratio {:.2}",
        projections::registry::ALL.len(),
        events as f64 / replay_seconds,
        events as f64 / copy_seconds,
        copy_seconds / replay_seconds
    );
    for (load, ours, cost, _) in &rows {
        println!();
        println!("most called statements, {} clients (calls per transfer, mean ms):", load.label());
        for (calls, mean_ms, query) in &cost.top {
            let query: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
            let shown: String = query.chars().take(100).collect();
            println!("  {:>7.2} {mean_ms:>7.3}  {shown}", *calls as f64 / ours.operations.max(1) as f64);
        }
        println!(
            "WAL syncs: {:.2} per transfer, {:.2} ms each",
            cost.wal_syncs as f64 / ours.operations.max(1) as f64,
            cost.wal_sync_ms
        );
        println!("log pages read, and batches projected in their append (per transfer):");
        for (series, count) in &cost.log_reads {
            if !STAGES.iter().any(|(_, metric, _)| series.starts_with(metric)) {
                println!("  {:>7.2}  {series}", count / ours.operations.max(1) as f64);
            }
        }
        let stages: Vec<String> = cost.stages.iter().map(|(stage, mean)| format!("{stage} {mean:.2}")).collect();
        println!("server side, means: {}", stages.join(", "));
    }
    // Closing its stdin stops the cluster; wait so it leaves no zombie.
    drop(server.stdin.take());
    let _ = server.wait();
    // A durable cluster holds hundreds of megabytes; a run leaves none of it behind.
    let _ = std::fs::remove_dir_all(&root);
}

/// (xact_commit of the ledger's database, WAL syncs of the cluster, ms spent in them).
async fn counters(stats: &tokio_postgres::Client) -> (i64, i64, f64) {
    let row = stats
        .query_one(
            "SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()), \
                    wal_sync, wal_sync_time FROM pg_stat_wal",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

async fn cost_since(
    stats: &tokio_postgres::Client,
    (commits_before, syncs_before, sync_ms_before): (i64, i64, f64),
) -> Cost {
    // Statistics reach the shared counters when a backend goes idle; give them a moment.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let (commits, syncs, sync_ms) = counters(stats).await;
    let rows = stats
        .query(
            "SELECT calls, mean_exec_time, query FROM pg_stat_statements \
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND query NOT LIKE '%pg_stat%' ORDER BY calls DESC",
            &[],
        )
        .await
        .unwrap();
    let all: Vec<(i64, f64, String)> = rows.iter().map(|row| (row.get(0), row.get(1), row.get(2))).collect();
    Cost {
        statements: all.iter().map(|(calls, _, _)| calls).sum(),
        commits: commits - commits_before,
        wal_syncs: syncs - syncs_before,
        wal_sync_ms: (sync_ms - sync_ms_before) / (syncs - syncs_before).max(1) as f64,
        top: all.into_iter().take(TOP_STATEMENTS).collect(),
        log_reads: Vec::new(),
        stages: Vec::new(),
    }
}

/// Seconds to stream the whole log out with COPY.
async fn copy_events(client: &tokio_postgres::Client) -> f64 {
    let started = Instant::now();
    let stream =
        client.copy_out("COPY (SELECT * FROM events ORDER BY tx_id, global_position) TO STDOUT").await.unwrap();
    let mut stream = std::pin::pin!(stream);
    let mut bytes = 0_usize;
    while let Some(chunk) = stream.next().await {
        bytes += chunk.unwrap().len();
    }
    assert!(bytes > 0, "the log was copied");
    started.elapsed().as_secs_f64()
}

/// The server-side stages of a transfer: what the bench prints, the histogram (seconds are
/// printed as ms) and its labels.
const STAGES: [(&str, &str, &str); 4] = [
    ("request ms", "ledger_http_request_duration_seconds", "{method=\"POST\",route=\"/v1/transfers\"}"),
    ("queued for its batch ms", "ledger_committer_queue_wait_seconds", "{aggregate=\"account\"}"),
    ("batch append ms", "ledger_event_append_duration_seconds", "{aggregate=\"account\"}"),
    ("decisions per batch", "ledger_committer_batch_decisions", "{aggregate=\"account\"}"),
];

/// Each stage's mean between two readings of the service's counters.
fn stage_means(
    before: &std::collections::BTreeMap<String, f64>,
    after: &std::collections::BTreeMap<String, f64>,
) -> Vec<(&'static str, f64)> {
    let delta =
        |series: String| after.get(&series).copied().unwrap_or(0.0) - before.get(&series).copied().unwrap_or(0.0);
    STAGES
        .iter()
        .map(|(stage, metric, labels)| {
            let sum = delta(format!("{metric}_sum{labels}"));
            let count = delta(format!("{metric}_count{labels}"));
            let unit = if metric.ends_with("_seconds") { 1_000.0 } else { 1.0 };
            (*stage, if count > 0.0 { sum / count * unit } else { 0.0 })
        })
        .collect()
}

/// The service's counters of pages read from the log, of batches projected in their own
/// append (or why not), and the sums and counts of the stages of a transfer, by series.
async fn log_reads(http: &reqwest::Client, base: &str) -> std::collections::BTreeMap<String, f64> {
    let text = http.get(format!("{base}/metrics")).bearer_auth(ADMIN_KEY).send().await.unwrap().text().await.unwrap();
    text.lines()
        .filter_map(|line| {
            let (series, count) = line.rsplit_once(' ')?;
            let series = if let Some(rest) = series.strip_prefix("ledger_log_reads_total") {
                rest.to_string()
            } else if series.starts_with("ledger_inline_") {
                series.strip_prefix("ledger_inline_")?.to_string()
            } else if STAGES.iter().any(|(_, metric, _)| series.starts_with(metric)) {
                series.to_string()
            } else {
                return None;
            };
            Some((series, count.parse().ok()?))
        })
        .collect()
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

async fn run_http(http: &reqwest::Client, base: &str, load: Load) -> Run {
    let deadline = Instant::now() + Duration::from_secs(seconds_per_run());
    let started = Instant::now();
    let cpu = CpuClock::now();
    let label = load.label().replace(' ', "-");
    let workers = (0..load.clients()).map(|client| {
        let (http, base, label) = (http.clone(), base.to_string(), label.clone());
        tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(client as u64);
            let mut latencies = Vec::new();
            let mut n = 0;
            while Instant::now() < deadline {
                let (from, to) = load.pair(&mut rng);
                let body = json!({"from": format!("acct-{from}"), "to": format!("acct-{to}"), "amount": "0.00001"});
                let sent = Instant::now();
                let status = post(&http, &base, "/v1/transfers", body, &format!("bench-{label}-{client}-{n}")).await;
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
    summarise(latencies, started.elapsed(), cpu.since())
}

async fn run_sql(target: &store::DatabaseTarget, load: Load) -> Run {
    let deadline = Instant::now() + Duration::from_secs(seconds_per_run());
    let started = Instant::now();
    let cpu = CpuClock::now();
    let workers = (0..load.clients()).map(|client| {
        let target = target.clone();
        tokio::spawn(async move {
            let mut sql = connect(&target).await;
            let mut rng = rand::rngs::StdRng::seed_from_u64(client as u64);
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let (from, to) = load.pair(&mut rng);
                let (from, to) = (from as i32, to as i32);
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
            }
            (latencies, sql)
        })
    });
    let mut latencies = Vec::new();
    // The connections stay open until the CPU is read: a backend that has exited is not
    // counted.
    let mut connections = Vec::new();
    for worker in workers.collect::<Vec<_>>() {
        let (worker_latencies, sql) = worker.await.unwrap();
        latencies.extend(worker_latencies);
        connections.push(sql);
    }
    let cpu = cpu.since();
    drop(connections);
    summarise(latencies, started.elapsed(), cpu)
}

fn summarise(mut latencies: Vec<Duration>, elapsed: Duration, cpu: CpuUse) -> Run {
    latencies.sort();
    let percentile = |p: f64| {
        let index =
            ((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1).min(latencies.len().saturating_sub(1));
        latencies.get(index).map_or(0.0, |latency| latency.as_secs_f64() * 1_000.0)
    };
    Run {
        operations: latencies.len() as u64,
        seconds: elapsed.as_secs_f64(),
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        p999_ms: percentile(0.999),
        cpu,
    }
}
