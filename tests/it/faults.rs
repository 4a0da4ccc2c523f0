//! Faults under load: PostgreSQL stopped as by a crash while the server runs (it brings its
//! private cluster back), connections terminated by an administrator. Every acknowledged
//! write is visible afterwards exactly once, reads never go backwards, and no request is
//! answered 500.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ledger::embedded_pg::{Durability, EmbeddedPostgres};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;

use crate::binary::{client, get, post, scratch_dir, Server};
use crate::common::{connect, eventually, TestApp};

/// Writes deposits of 1 with fresh keys, retrying each key until it is acknowledged, and
/// reads the balance between writes; answers what was acknowledged and the worst status.
struct Load {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<Mutex<u64>>,
    statuses: Arc<Mutex<Vec<StatusCode>>>,
    backwards: Arc<Mutex<Vec<(Decimal, Decimal)>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(base: &str, account: &'static str, writers: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(Mutex::new(0));
        let statuses = Arc::new(Mutex::new(Vec::new()));
        let backwards = Arc::new(Mutex::new(Vec::new()));
        let tasks = (0..writers)
            .map(|writer| {
                let (base, stop, acknowledged, statuses, backwards) =
                    (base.to_string(), stop.clone(), acknowledged.clone(), statuses.clone(), backwards.clone());
                tokio::spawn(async move {
                    let http = client();
                    let mut seen = Decimal::ZERO;
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let key = format!("fault-{writer}-{n}");
                        loop {
                            let body = json!({"account": account, "amount": "1"});
                            match post(&http, &base, "/v1/deposits", body, &key).await {
                                Ok((StatusCode::CREATED, _)) => break,
                                Ok((status, _)) => statuses.lock().unwrap().push(status),
                                Err(_) => {}
                            }
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        *acknowledged.lock().unwrap() += 1;
                        n += 1;
                        let (status, body) = get(&http, &base, &format!("/v1/accounts/{account}")).await;
                        if status == StatusCode::OK {
                            note_balance(&body, &mut seen, &backwards);
                        } else {
                            statuses.lock().unwrap().push(status);
                        }
                    }
                })
            })
            .collect::<Vec<_>>();
        let mut tasks = tasks;
        // A reader that polls on its own, as a client refreshing its balance would, also while
        // the service recovers.
        let (base, stop_reading, statuses_seen, backwards_seen) =
            (base.to_string(), stop.clone(), statuses.clone(), backwards.clone());
        tasks.push(tokio::spawn(async move {
            let http = client();
            let mut seen = Decimal::ZERO;
            while !stop_reading.load(Ordering::Relaxed) {
                let (status, body) = get(&http, &base, &format!("/v1/accounts/{account}")).await;
                if status == StatusCode::OK {
                    note_balance(&body, &mut seen, &backwards_seen);
                } else if status != StatusCode::NOT_FOUND {
                    statuses_seen.lock().unwrap().push(status);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
        Self { stop, acknowledged, statuses, backwards, tasks }
    }

    async fn finish(self) -> (u64, Vec<StatusCode>, Vec<(Decimal, Decimal)>) {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.expect("load task");
        }
        let acknowledged = *self.acknowledged.lock().unwrap();
        let statuses = self.statuses.lock().unwrap().clone();
        let backwards = self.backwards.lock().unwrap().clone();
        (acknowledged, statuses, backwards)
    }
}

/// Records a balance read (`GET /v1/accounts/{id}`) that is lower than one seen before.
fn note_balance(account: &serde_json::Value, seen: &mut Decimal, backwards: &Mutex<Vec<(Decimal, Decimal)>>) {
    let balance: Decimal = account["balance"].as_str().unwrap().parse().unwrap();
    if balance < *seen {
        backwards.lock().unwrap().push((*seen, balance));
    }
    *seen = (*seen).max(balance);
}

/// `ledger serve` on its own private cluster in `data_dir`, healthy, with the account `pot`.
async fn serve_private_with_a_pot(data_dir: &std::path::Path) -> (Server, reqwest::Client) {
    let server = Server::start(&["--data-dir", data_dir.to_str().unwrap()], &[]);
    let http = client();
    eventually(30, "the server is healthy", || async {
        get(&http, &server.base_url, "/health").await.0 == StatusCode::OK
    })
    .await;
    let (status, _) =
        post(&http, &server.base_url, "/v1/accounts", json!({"id": "pot", "asset": "BTC"}), "open").await.unwrap();
    assert_eq!(status, StatusCode::CREATED);
    (server, http)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stopped_as_by_a_crash_comes_back_and_no_acknowledged_write_is_lost_or_unread() {
    let data_dir = scratch_dir("crash");
    let (server, http) = serve_private_with_a_pot(&data_dir).await;

    let load = Load::start(&server.base_url, "pot", 4);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let cluster = EmbeddedPostgres::prepare(&data_dir, Durability::Durable).await.expect("the cluster");
    cluster.stop_immediately().await.expect("an immediate stop");
    let stopped = Instant::now();
    eventually(60, "the server restarted its PostgreSQL and is healthy", || async {
        get(&http, &server.base_url, "/health").await.0 == StatusCode::OK
    })
    .await;
    let recovered_after = stopped.elapsed();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let (acknowledged, statuses, backwards) = load.finish().await;

    assert!(acknowledged > 0);
    assert!(backwards.is_empty(), "reads went backwards: {backwards:?}");
    assert!(
        !statuses.iter().any(|status| status.is_server_error() && *status != StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );
    let (status, account) = get(&http, &server.base_url, "/v1/accounts/pot").await;
    assert_eq!(status, StatusCode::OK);
    let balance: Decimal = account["balance"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        balance,
        Decimal::from(acknowledged),
        "every acknowledged deposit exactly once (back after {recovered_after:?})"
    );
    let metrics = http.get(format!("{}/metrics", server.base_url)).bearer_auth(crate::common::ADMIN_KEY).send().await;
    let metrics = metrics.unwrap().text().await.unwrap();
    assert!(
        metrics.lines().any(|line| line.starts_with("ledger_database_restarts_total") && !line.ends_with(" 0")),
        "{metrics}"
    );
    assert!(server.terminate().success());
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_terminated_by_an_administrator_are_a_503_at_worst_and_lose_nothing() {
    let app = TestApp::spawn().await;
    app.open_account("pot", "BTC").await;
    let load = Load::start(&app.base_url, "pot", 4);
    let admin = connect(&app.database).await;
    let database = match &app.database {
        store::DatabaseTarget::Socket { dbname, .. } => dbname.clone(),
        store::DatabaseTarget::Url(url) => url.rsplit('/').next().unwrap_or_default().to_string(),
    };
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&database],
            )
            .await
            .expect("terminate the service's connections");
    }
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let (acknowledged, statuses, backwards) = load.finish().await;
    assert!(backwards.is_empty(), "reads went backwards: {backwards:?}");
    assert!(!statuses.contains(&StatusCode::INTERNAL_SERVER_ERROR), "{statuses:?}");
    eventually(30, "the projectors caught up", || async {
        app.balance("pot").await.parse::<Decimal>().unwrap() == Decimal::from(acknowledged)
    })
    .await;
}

/// Every process of the cluster in `data_dir`: the postmaster (from its pid file) and its
/// children.
fn cluster_processes(data_dir: &std::path::Path) -> Vec<u32> {
    let pid_file = std::fs::read_to_string(data_dir.join("postgres/postmaster.pid")).expect("a running cluster");
    let postmaster: u32 = pid_file.lines().next().unwrap().trim().parse().unwrap();
    let mut pids = vec![postmaster];
    for entry in std::fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // The parent pid is the second field after the parenthesised command name.
        let parent =
            stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().nth(1)).and_then(|p| p.parse().ok());
        if parent == Some(postmaster) {
            pids.push(pid);
        }
    }
    pids
}

fn signal(pids: &[u32], signal: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .args(pids.iter().map(u32::to_string))
        .status()
        .expect("kill");
    assert!(status.success(), "kill -{signal}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_frozen_for_seconds_makes_requests_wait_and_nothing_hangs_after() {
    let data_dir = scratch_dir("frozen");
    let (server, http) = serve_private_with_a_pot(&data_dir).await;
    let load = Load::start(&server.base_url, "pot", 4);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let frozen = cluster_processes(&data_dir);
    signal(&frozen, "STOP");
    tokio::time::sleep(Duration::from_secs(3)).await;
    signal(&frozen, "CONT");
    eventually(30, "the server is healthy again", || async {
        get(&http, &server.base_url, "/health").await.0 == StatusCode::OK
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let (acknowledged, statuses, backwards) = load.finish().await;
    assert!(backwards.is_empty(), "reads went backwards: {backwards:?}");
    assert!(!statuses.contains(&StatusCode::INTERNAL_SERVER_ERROR), "{statuses:?}");
    let (_, account) = get(&http, &server.base_url, "/v1/accounts/pot").await;
    let balance: Decimal = account["balance"].as_str().unwrap().parse().unwrap();
    assert_eq!(balance, Decimal::from(acknowledged), "every acknowledged deposit exactly once");
    assert!(server.terminate().success());
    let _ = std::fs::remove_dir_all(&data_dir);
}

const BANK_ACCOUNTS: usize = 8;
const BANK_FUNDING: i64 = 1_000;

/// What one bank worker saw: the change it made to each account, and odd answers.
type BankWorker = tokio::task::JoinHandle<([i64; BANK_ACCOUNTS], Vec<StatusCode>)>;

/// Transfers of 1 between random accounts, each key retried until it has a final answer
/// (201 moved, 201 returned, 422 refused); answers the model of every balance.
fn start_bank(base: &str, workers: usize, stop: Arc<AtomicBool>, seed: u64) -> Vec<BankWorker> {
    (0..workers)
        .map(|worker| {
            let (base, stop) = (base.to_string(), stop.clone());
            tokio::spawn(async move {
                use rand::{Rng, SeedableRng};
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed + worker as u64);
                let http = client();
                let mut moved = [0_i64; BANK_ACCOUNTS];
                let mut odd = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let from = rng.gen_range(0..BANK_ACCOUNTS);
                    let to = (from + rng.gen_range(1..BANK_ACCOUNTS)) % BANK_ACCOUNTS;
                    let body = json!({"from": format!("bank-{from}"), "to": format!("bank-{to}"), "amount": "1"});
                    let key = format!("bank-{worker}-{n}");
                    loop {
                        match post(&http, &base, "/v1/transfers", body.clone(), &key).await {
                            Ok((StatusCode::CREATED, reply)) => {
                                if reply["status"] == "completed" {
                                    moved[from] -= 1;
                                    moved[to] += 1;
                                } else if reply["status"] == "pending" {
                                    // Completes in the background; counted as moved.
                                    moved[from] -= 1;
                                    moved[to] += 1;
                                }
                                break;
                            }
                            Ok((StatusCode::UNPROCESSABLE_ENTITY, _)) => break,
                            Ok((status, _)) => odd.push(status),
                            Err(_) => {}
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    n += 1;
                }
                (moved, odd)
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bank_under_random_faults_keeps_every_invariant() {
    use rand::{Rng, SeedableRng};
    // LEDGER_FAULT_RUN_SECONDS=600 makes this the ten-minute run of docs/operations.md.
    let seconds: u64 = std::env::var("LEDGER_FAULT_RUN_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(12);
    let seed: u64 = std::env::var("LEDGER_FAULT_RUN_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(7);
    let data_dir = scratch_dir("bank-faults");
    let server = Server::start(&["--data-dir", data_dir.to_str().unwrap()], &[]);
    let http = client();
    let healthy = || async { get(&http, &server.base_url, "/health").await.0 == StatusCode::OK };
    eventually(30, "the server is healthy", healthy).await;
    for account in 0..BANK_ACCOUNTS {
        let id = format!("bank-{account}");
        post(&http, &server.base_url, "/v1/accounts", json!({"id": id, "asset": "BTC"}), &format!("o{account}"))
            .await
            .unwrap();
        let fund = json!({"account": id, "amount": BANK_FUNDING.to_string()});
        let (status, _) = post(&http, &server.base_url, "/v1/deposits", fund, &format!("f{account}")).await.unwrap();
        assert_eq!(status, StatusCode::CREATED);
    }
    post(&http, &server.base_url, "/v1/accounts", json!({"id": "counter", "asset": "BTC"}), "oc").await.unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let bank = start_bank(&server.base_url, 4, stop.clone(), seed);
    let counter = Load::start(&server.base_url, "counter", 1);
    let cluster = EmbeddedPostgres::prepare(&data_dir, Durability::Durable).await.expect("the cluster");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut faults = Vec::new();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(1_500..4_000))).await;
        let fault = rng.gen_range(0..3);
        match fault {
            0 => cluster.stop_immediately().await.expect("an immediate stop"),
            1 => {
                let admin = connect(&cluster.target()).await;
                admin
                    .execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'", &[])
                    .await
                    .expect("terminate");
            }
            _ => {
                let frozen = cluster_processes(&data_dir);
                signal(&frozen, "STOP");
                tokio::time::sleep(Duration::from_millis(rng.gen_range(500..2_500))).await;
                signal(&frozen, "CONT");
            }
        }
        faults.push(fault);
        eventually(60, "the server recovers from the fault", healthy).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut moved = [0_i64; BANK_ACCOUNTS];
    let mut odd = Vec::new();
    for worker in bank {
        let (worker_moved, worker_odd) = worker.await.unwrap();
        moved.iter_mut().zip(worker_moved).for_each(|(total, change)| *total += change);
        odd.extend(worker_odd);
    }
    let (counted, counter_statuses, backwards) = counter.finish().await;
    odd.extend(counter_statuses);
    assert!(backwards.is_empty(), "reads went backwards: {backwards:?}");
    assert!(!odd.contains(&StatusCode::INTERNAL_SERVER_ERROR), "answers besides 201/422/503: {odd:?}");
    eventually(60, "every transfer completed and every read model caught up", || async {
        let mut all = true;
        for (account, change) in moved.iter().enumerate() {
            let (_, body) = get(&http, &server.base_url, &format!("/v1/accounts/bank-{account}")).await;
            let balance: Option<Decimal> = body["balance"].as_str().and_then(|text| text.parse().ok());
            all &= balance == Some(Decimal::from(BANK_FUNDING + change));
        }
        let (_, body) = get(&http, &server.base_url, "/v1/accounts/counter").await;
        all && body["balance"].as_str().and_then(|text| text.parse::<Decimal>().ok()) == Some(Decimal::from(counted))
    })
    .await;
    let database = cluster.target();
    let (audited, report) = crate::binary::run_cli(&["audit"], &[("DATABASE_URL", &database.url())]);
    assert!(audited, "the history passes the audit after {} faults {faults:?}:\n{report}", faults.len());
    let kinds = [0, 1, 2].map(|kind| faults.iter().filter(|fault| **fault == kind).count());
    println!(
        "bank under faults: {seconds} s, {} faults ({} immediate stops, {} terminations, {} freezes), {counted} counter deposits, audit passed",
        faults.len(),
        kinds[0],
        kinds[1],
        kinds[2]
    );
    assert!(server.terminate().success());
    let _ = std::fs::remove_dir_all(&data_dir);
}
