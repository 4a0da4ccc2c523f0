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
                            let balance: Decimal = body["balance"].as_str().unwrap().parse().unwrap();
                            if balance < seen {
                                backwards.lock().unwrap().push((seen, balance));
                            }
                            seen = seen.max(balance);
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
                    let balance: Decimal = body["balance"].as_str().unwrap().parse().unwrap();
                    if balance < seen {
                        backwards_seen.lock().unwrap().push((seen, balance));
                    }
                    seen = seen.max(balance);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stopped_as_by_a_crash_comes_back_and_no_acknowledged_write_is_lost_or_unread() {
    let data_dir = scratch_dir("crash");
    let server = Server::start(&["--data-dir", data_dir.to_str().unwrap()], &[]);
    let http = client();
    eventually(30, "the server is healthy", || async {
        get(&http, &server.base_url, "/health").await.0 == StatusCode::OK
    })
    .await;
    let (status, _) =
        post(&http, &server.base_url, "/v1/accounts", json!({"id": "pot", "asset": "BTC"}), "open").await.unwrap();
    assert_eq!(status, StatusCode::CREATED);

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
