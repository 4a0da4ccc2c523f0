//! The real `ledger` binary: crash recovery, the CLI next to a running server, and the
//! private PostgreSQL cluster's lifecycle.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{
    assert_no_negative_user_balance, assert_read_models_equal_replay, eventually, fresh_database, ADMIN_KEY,
};
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub(crate) const LEDGER: &str = env!("CARGO_BIN_EXE_ledger");

pub(crate) struct Server {
    child: Child,
    pub(crate) base_url: String,
    /// Where `--gradido-listen` serves the Gradido calls, if asked to.
    pub(crate) gradido_url: Option<String>,
}

impl Server {
    pub(crate) fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(LEDGER);
        command
            .args(args)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("LEDGER_ADMIN_KEY", ADMIN_KEY)
            .env("RUST_LOG", "warn");
        command.env_remove("DATABASE_URL");
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("spawn ledger");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = std::sync::mpsc::channel();
        let (gradido_sender, gradido_receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = sender.send(url.to_string());
                } else if let Some(url) = line.strip_prefix("gradido login server on ") {
                    let _ = gradido_sender.send(url.to_string());
                }
            }
        });
        let base_url = receiver.recv_timeout(Duration::from_secs(120)).expect("the server announces its address");
        // Announced before the main address, when asked for.
        let gradido_url = gradido_receiver.try_recv().ok();
        Self { child, base_url, gradido_url }
    }

    fn kill_hard(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success());
        self.child.wait().expect("exit status")
    }
}

/// A test that fails half-way must not leave its server running.
impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

pub(crate) async fn post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    body: Value,
    key: &str,
) -> Result<(StatusCode, Value), reqwest::Error> {
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(ADMIN_KEY)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    Ok((status, response.json().await?))
}

pub(crate) async fn get(http: &reqwest::Client, base: &str, path: &str) -> (StatusCode, Value) {
    let response = http.get(format!("{base}{path}")).bearer_auth(ADMIN_KEY).send().await.expect("get");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) fn run_cli(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(LEDGER);
    command.args(args).env("RUST_LOG", "warn").env_remove("DATABASE_URL");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run ledger");
    let mut text = String::from_utf8_lossy(&output.stdout).to_string();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

const CRASH_ACCOUNTS: [&str; 4] = ["c0", "c1", "c2", "c3"];
/// Enough clients that the server dies in the middle of batches of many transfers.
const CRASH_CLIENTS: usize = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_during_load_loses_no_acknowledged_transfer_and_completes_each_once() {
    let database = fresh_database().await;
    let url = database.url();
    let env = [("DATABASE_URL", url.as_str())];
    let server = Server::start(&[], &env);
    let http = client();
    for account in CRASH_ACCOUNTS {
        let (status, body) =
            post(&http, &server.base_url, "/v1/accounts", json!({"id": account, "asset": "BTC"}), account)
                .await
                .unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, _) = post(
            &http,
            &server.base_url,
            "/v1/deposits",
            json!({"account": account, "amount": "100"}),
            &format!("seed-{account}"),
        )
        .await
        .unwrap();
        assert_eq!(status, StatusCode::CREATED);
    }

    // Clients send transfers until the server dies under them.
    let acknowledged: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
    let unanswered: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let base = server.base_url.clone();
    let load = (0..CRASH_CLIENTS).map(|client_number| {
        let (http, base, acknowledged, unanswered) = (http.clone(), base.clone(), acknowledged.clone(), unanswered.clone());
        tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(client_number as u64);
            for n in 0.. {
                let from = CRASH_ACCOUNTS[rng.gen_range(0..4)];
                let to = CRASH_ACCOUNTS[(CRASH_ACCOUNTS.iter().position(|a| *a == from).unwrap() + rng.gen_range(1..4)) % 4];
                let body = json!({"from": from, "to": to, "amount": Decimal::new(rng.gen_range(1..100_000_000), 8).to_string()});
                let key = format!("crash-{client_number}-{n}");
                match post(&http, &base, "/v1/transfers", body.clone(), &key).await {
                    Ok((status, reply)) if status == StatusCode::CREATED => {
                        acknowledged.lock().unwrap().insert(key, reply);
                    }
                    Ok(_) => {}
                    Err(_) => {
                        unanswered.lock().unwrap().push((key, body));
                        return;
                    }
                }
            }
        })
    });
    let load: Vec<_> = load.collect();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    server.kill_hard();
    for client in load {
        client.await.unwrap();
    }
    let acknowledged_before_crash = acknowledged.lock().unwrap().clone();
    assert!(acknowledged_before_crash.len() >= 10, "the load ran: {} acknowledged", acknowledged_before_crash.len());

    // Restart on the same database; clients retry what got no answer, with the same keys.
    let server = Server::start(&[], &env);
    let mut all_transfers = acknowledged_before_crash.clone();
    let retries = unanswered.lock().unwrap().clone();
    for (key, body) in retries {
        let (status, reply) = post(&http, &server.base_url, "/v1/transfers", body, &key).await.unwrap();
        if status == StatusCode::CREATED {
            all_transfers.insert(key, reply);
        }
    }
    for (key, reply) in &acknowledged_before_crash {
        let (status, replayed) = post(
            &http,
            &server.base_url,
            "/v1/transfers",
            json!({"from": reply["from"], "to": reply["to"], "amount": reply["amount"]}),
            key,
        )
        .await
        .unwrap();
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(replayed["id"], reply["id"], "an acknowledged transfer replays as itself");
    }

    let sql = crate::common::connect(&database).await;
    eventually(30, "every transfer is credited", || async {
        let transit: Decimal = sql
            .query_one("SELECT coalesce(sum(amount), 0) FROM balances WHERE account_id = 'transit:BTC'", &[])
            .await
            .unwrap()
            .get(0);
        transit.is_zero()
    })
    .await;
    // Transfers are decided whole (ADR 17): a crash can cut between batches, never inside a
    // transfer, so every debit has its credit in the same commit.
    let half_applied: i64 = sql
        .query_one(
            "SELECT count(*) FROM events debit WHERE debit.event_type = 'TransferSent' AND NOT EXISTS ( \
               SELECT 1 FROM events credit WHERE credit.tx_id = debit.tx_id \
                 AND credit.event_type = 'TransferReceived' \
                 AND credit.payload -> 'TransferReceived' ->> 'transfer_id' = debit.payload -> 'TransferSent' ->> 'transfer_id')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(half_applied, 0, "no transfer is half applied");
    let batched: i64 = sql
        .query_one(
            "SELECT count(*) FROM (SELECT tx_id FROM events WHERE event_type = 'TransferSent' \
             GROUP BY tx_id HAVING count(*) > 1) shared",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(batched > 0, "the load ran in batches of several transfers");
    let sent: i64 =
        sql.query_one("SELECT count(*) FROM events WHERE event_type = 'TransferSent'", &[]).await.unwrap().get(0);
    assert_eq!(sent as usize, all_transfers.len(), "every acknowledged transfer debited exactly once, nothing else");
    for reply in all_transfers.values() {
        let id = reply["id"].as_str().unwrap();
        let counts = sql
            .query_one(
                "SELECT count(*) FILTER (WHERE event_type = 'TransferSent' AND payload -> 'TransferSent' ->> 'transfer_id' = $1), \
                        count(*) FILTER (WHERE event_type = 'TransferReceived' AND payload -> 'TransferReceived' ->> 'transfer_id' = $1) \
                 FROM events",
                &[&id],
            )
            .await
            .unwrap();
        assert_eq!(
            (counts.get::<_, i64>(0), counts.get::<_, i64>(1)),
            (1, 1),
            "transfer {id} debited and credited once"
        );
    }
    let users: Decimal =
        sql.query_one("SELECT sum(amount) FROM balances WHERE NOT is_system", &[]).await.unwrap().get(0);
    assert_eq!(users, Decimal::new(400, 0));
    assert_no_negative_user_balance(&sql).await;
    assert_read_models_equal_replay(&database).await;
    server.kill_hard();
}

#[tokio::test]
async fn the_cli_works_with_and_without_a_server_running_on_the_same_database() {
    let database = fresh_database().await;
    let url = database.url();
    let env = [("DATABASE_URL", url.as_str())];
    let (ok, output) = run_cli(&["migrate"], &env);
    assert!(ok, "{output}");

    let (ok, output) = run_cli(
        &[
            "admin",
            "create-user",
            "--email",
            "ada@example.com",
            "--username",
            "ada",
            "--password",
            "correct horse",
            "--first-name",
            "Ada",
            "--admin",
        ],
        &env,
    );
    assert!(ok, "{output}");
    let json_start = output.find('{').expect("JSON output");
    let user: Value = serde_json::from_str(output[json_start..].trim()).expect("user JSON");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["role"], "admin");
    assert!(user["id"].as_str().is_some_and(|id| !id.is_empty()));

    let (ok, output) = run_cli(
        &["admin", "create-user", "--email", "ada@example.com", "--username", "ada2", "--password", "correct horse"],
        &env,
    );
    assert!(!ok, "a second user with the same e-mail is refused: {output}");
    let (ok, output) = run_cli(&["admin", "create-group", "--alias", "gdd1", "--name", "Community One"], &env);
    assert!(ok, "{output}");
    assert!(output.contains("\"alias\":\"gdd1\""), "{output}");
    let (ok, output) = run_cli(&["admin", "create-group", "--alias", "gdd1", "--name", "Again"], &env);
    assert!(!ok, "a group alias is taken once: {output}");

    let server = Server::start(&[], &env);
    let http = client();
    let (status, _) =
        post(&http, &server.base_url, "/v1/accounts", json!({"id": "acc", "asset": "BTC", "owner": user["id"]}), "a")
            .await
            .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    let (ok, output) = run_cli(
        &["admin", "create-user", "--email", "bob@example.com", "--username", "bob", "--password", "hunter2hunter2"],
        &env,
    );
    assert!(ok, "creating a user next to a running server works: {output}");
    let (ok, output) = run_cli(&["replay"], &env);
    assert!(ok, "{output}");
    assert!(output.contains("every read model equals a rebuild"), "{output}");
    let (ok, output) = run_cli(&["replay", "--rebuild"], &env);
    assert!(!ok, "rebuilding in place next to a running server is refused: {output}");
    let (status, page) =
        get(&http, &server.base_url, &format!("/v1/accounts?owner={}", user["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["accounts"][0]["id"], "acc");
    assert!(server.terminate().success());

    let sql = crate::common::connect(&database).await;
    sql.batch_execute("UPDATE balances SET amount = 42 WHERE account_id = 'acc'").await.unwrap();
    let (ok, output) = run_cli(&["replay"], &env);
    assert!(!ok, "a tampered read model is reported: {output}");
    assert!(output.contains("DIFFERENT"), "{output}");
    let (ok, output) = run_cli(&["replay", "--rebuild"], &env);
    assert!(ok, "{output}");
    let (ok, output) = run_cli(&["replay"], &env);
    assert!(ok, "after a rebuild the read models are right again: {output}");
}

#[tokio::test]
async fn a_rebuild_in_pages_of_a_few_events_equals_a_replay_in_one_page() {
    let database = fresh_database().await;
    let url = database.url();
    let env = [("DATABASE_URL", url.as_str())];
    let server = Server::start(&[], &env);
    let http = client();
    let accounts = ["pa", "pb", "pc"];
    for account in accounts {
        let (status, body) =
            post(&http, &server.base_url, "/v1/accounts", json!({"id": account, "asset": "BTC"}), account)
                .await
                .unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let deposit = json!({"account": account, "amount": "10"});
        let (status, _) =
            post(&http, &server.base_url, "/v1/deposits", deposit, &format!("d-{account}")).await.unwrap();
        assert_eq!(status, StatusCode::CREATED);
    }
    for n in 0..20 {
        let (from, to) = (accounts[n % 3], accounts[(n + 1) % 3]);
        let body = json!({"from": from, "to": to, "amount": format!("0.{:02}", n + 1)});
        let (status, reply) = post(&http, &server.base_url, "/v1/transfers", body, &format!("t-{n}")).await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{reply}");
    }
    assert!(server.terminate().success());
    let sql = crate::common::connect(&database).await;
    let events: i64 = sql.query_one("SELECT count(*) FROM events", &[]).await.unwrap().get(0);
    assert!(events > 3 * 7, "the log spans several pages of seven: {events} events");
    sql.batch_execute("UPDATE balances SET amount = 42 WHERE account_id = 'pa'").await.unwrap();

    let (ok, output) = run_cli(&["replay", "--rebuild", "--page-events", "7"], &env);
    assert!(ok, "{output}");
    // The comparison replays each read model into a scratch schema in pages of up to 10,000.
    let (ok, output) = run_cli(&["replay"], &env);
    assert!(ok, "a rebuild in pages of seven equals one in a single page: {output}");
    let (ok, output) = run_cli(&["replay", "--page-events", "3"], &env);
    assert!(ok, "so does a comparison in pages of three: {output}");
    let (ok, output) = run_cli(&["replay", "--page-events", "0"], &env);
    assert!(!ok, "a page holds at least one event: {output}");
    let balances: Vec<(String, Decimal)> = sql
        .query("SELECT account_id, amount FROM balances WHERE NOT is_system ORDER BY account_id", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let total: Decimal = balances.iter().map(|(_, amount)| *amount).sum();
    assert_eq!(total, Decimal::new(30, 0), "{balances:?}");
    assert!(balances.iter().all(|(_, amount)| *amount != Decimal::new(42, 0)), "{balances:?}");
}

pub(crate) fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(format!("/tmp/ledger-bin-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn postmaster_running(data_dir: &Path) -> bool {
    data_dir.join("postgres/postmaster.pid").exists()
}

#[tokio::test]
async fn serve_without_a_database_url_runs_a_private_cluster_that_survives_a_kill_and_stops_with_the_server() {
    let data_dir = scratch_dir("private");
    let dir = data_dir.to_str().unwrap();
    let server = Server::start(&["--data-dir", dir], &[]);
    let http = client();
    eventually(30, "health reports the database and every projector up", || async {
        get(&http, &server.base_url, "/health").await.0 == StatusCode::OK
    })
    .await;
    let (status, _) =
        post(&http, &server.base_url, "/v1/accounts", json!({"id": "keep", "asset": "GDD"}), "k").await.unwrap();
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) =
        post(&http, &server.base_url, "/v1/deposits", json!({"account": "keep", "amount": "7"}), "d").await.unwrap();
    assert_eq!(status, StatusCode::CREATED);

    server.kill_hard();
    let server = Server::start(&["--data-dir", dir], &[]);
    let (status, account) = get(&http, &server.base_url, "/v1/accounts/keep").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(account["balance"], "7.0000", "the restart after kill -9 recovered the data");
    let (ok, output) = run_cli(&["--data-dir", dir, "replay"], &[]);
    assert!(ok, "the CLI shares the running server's private cluster: {output}");
    assert!(postmaster_running(&data_dir), "the CLI left the server's cluster running");

    assert!(server.terminate().success(), "graceful shutdown on SIGTERM");
    assert!(!postmaster_running(&data_dir), "the private cluster stopped with the server");
    let (ok, output) = run_cli(&["--data-dir", dir, "replay"], &[]);
    assert!(ok, "the CLI starts the cluster by itself when no server runs: {output}");
    assert!(!postmaster_running(&data_dir), "and stops it again");
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// The community server calls `host:port/<call>` on the login server's own port; a
/// deployment that serves its frontend from the same origin turns CORS off.
#[tokio::test]
async fn serve_answers_the_gradido_calls_at_the_root_of_their_own_port_and_cors_can_be_turned_off() {
    let database = fresh_database().await;
    let url = database.url();
    let env =
        [("DATABASE_URL", url.as_str()), ("LEDGER_GRADIDO_LISTEN", "127.0.0.1:0"), ("LEDGER_GRADIDO_CORS", "false")];
    let server = Server::start(&[], &env);
    let gradido = server.gradido_url.clone().expect("the Gradido port is announced");
    let http = client();
    let (status, body) = get(&http, &gradido, "/login?session_id=42").await;
    assert_eq!((status, body), (StatusCode::OK, json!({"state": "not found", "msg": "session not found"})));
    let response = http.post(format!("{}/login_api/login", server.base_url)).json(&json!({})).send().await.unwrap();
    assert!(response.headers().get("access-control-allow-origin").is_none(), "CORS is off");
    let (status, body) = get(&http, &gradido, "/health").await;
    assert_eq!((status, body["msg"].as_str()), (StatusCode::OK, Some("unknown call")), "only Gradido calls there");
    server.terminate();
}

/// `ledger serve --web-root DIR --tls-cert --tls-key` serves a built myLightning client over
/// HTTPS behind the session, as the original Node server did.
#[tokio::test]
async fn serve_serves_the_web_client_over_https_behind_the_session() {
    let dir = scratch_dir("web");
    std::fs::create_dir_all(dir.join("app/views")).unwrap();
    std::fs::write(dir.join("app/index.html"), "<html>wallet page</html>").unwrap();
    std::fs::write(dir.join("app/views/login.html"), "<html>client login page</html>").unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let database = fresh_database().await;
    let url = database.url();
    let root = dir.join("app");
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("LEDGER_WEB_ROOT", root.to_str().unwrap()),
        ("LEDGER_TLS_CERT", cert.to_str().unwrap()),
        ("LEDGER_TLS_KEY", key.to_str().unwrap()),
    ];
    let server = Server::start(&[], &env);
    let port = server.base_url.strip_prefix("https://127.0.0.1:").expect("an https address").to_string();
    let (ok, _) = run_cli(
        &["admin", "create-user", "--email", "eve@example.com", "--username", "eve", "--password", "eve-password-1"],
        &[("DATABASE_URL", url.as_str())],
    );
    assert!(ok);
    let jar = dir.join("cookies");
    let curl = |path: &str, extra: &[&str]| {
        let output = Command::new("curl")
            .args(["-s", "-o", "-", "-w", "\n%{http_code} %{redirect_url}", "--cacert"])
            .arg(&cert)
            .args(["--resolve", &format!("localhost:{port}:127.0.0.1"), "-b"])
            .arg(&jar)
            .arg("-c")
            .arg(&jar)
            .args(extra)
            .arg(format!("https://localhost:{port}{path}"))
            .output()
            .expect("curl");
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    let without = curl("/", &[]);
    assert!(without.ends_with(&format!("302 https://localhost:{port}/login")), "{without}");
    assert!(curl("/login", &[]).starts_with("<html>client login page</html>"), "the client's own login page");
    let signed_in = curl("/login", &["--data", "username=eve&password=eve-password-1"]);
    assert!(signed_in.starts_with("OK\n200"), "{signed_in}");
    let page = curl("/", &[]);
    assert!(page.starts_with("<html>wallet page</html>") && page.contains("\n200"), "{page}");
    assert!(curl("/rest/v1/ping", &[]).contains("\n200"), "the API over the same origin");
    assert!(curl("/nothing-here.js", &[]).contains("\n404"));
    assert!(curl("/cordova.js", &[]).starts_with("{}\n200"), "as the original answered the client's Cordova script");
    server.terminate();
}

/// `--block-interval-ms` sets the embedded chain's pace; a server started with another
/// interval counts on from the height reached, never back.
#[tokio::test]
async fn the_block_interval_is_configurable_and_a_new_one_counts_on_from_the_height_reached() {
    let database = fresh_database().await;
    let url = database.url();
    let fast = Server::start(&[], &[("DATABASE_URL", url.as_str()), ("LEDGER_BLOCK_INTERVAL_MS", "100")]);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    fast.terminate();
    let sql = crate::common::connect(&database).await;
    let height_at = |row: &tokio_postgres::Row| {
        row.get::<_, i64>(0) + (row.get::<_, f64>(1) * 1000.0) as i64 / row.get::<_, i64>(2)
    };
    let query =
        "SELECT base_height, extract(epoch FROM now() - genesis_at)::float8, block_interval_ms FROM lightning_node";
    let reached = height_at(&sql.query_one(query, &[]).await.unwrap());
    assert!(reached >= 100 + 10, "ten blocks in a second and a half at 100 ms: {reached}");
    let slow = Server::start(&[], &[("DATABASE_URL", url.as_str()), ("LEDGER_BLOCK_INTERVAL_MS", "60000")]);
    let row = sql.query_one(query, &[]).await.unwrap();
    assert_eq!(row.get::<_, i64>(2), 60_000);
    assert!(height_at(&row) >= reached, "the height carried on: {} >= {reached}", height_at(&row));
    slow.terminate();
}
