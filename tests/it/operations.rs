//! What `docs/operations.md` promises an operator: a backup restores into a copy that passes
//! `ledger audit` and takes new writes; an admin key rotates with both keys working during
//! the window; `ledger --help` tells the same settings as the README; the project stands
//! alone (nothing points outside it).

use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;

use crate::binary::{run_cli, Server, LEDGER};
use crate::common::{cluster_tool, connect, fresh_database, TestApp};

#[tokio::test]
async fn a_dump_restored_into_a_new_database_passes_the_audit_and_takes_new_writes() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    app.open_account("bob", "BTC").await;
    app.deposit("alice", "2").await;
    let transfer = json!({"from": "alice", "to": "bob", "amount": "0.5"});
    assert_eq!(app.post("/v1/transfers", transfer, Some("drill")).await.status, StatusCode::CREATED);

    let dump = std::env::temp_dir().join(format!("ledger-drill-{}.dump", std::process::id()));
    let dumped = Command::new(cluster_tool("pg_dump").await)
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(format!("--dbname={}", app.database.url()))
        .status()
        .expect("pg_dump runs");
    assert!(dumped.success(), "pg_dump");
    let restored = fresh_database().await;
    let loaded = Command::new(cluster_tool("pg_restore").await)
        .args(["--no-owner", "--no-privileges", "--exit-on-error"])
        .arg(format!("--dbname={}", restored.url()))
        .arg(&dump)
        .status()
        .expect("pg_restore runs");
    let _ = std::fs::remove_file(&dump);
    assert!(loaded.success(), "pg_restore");

    let (passed, report) = run_cli(&["audit"], &[("DATABASE_URL", &restored.url())]);
    assert!(passed && report.contains("audit passed"), "the restored copy passes the audit:\n{report}");
    let copy = TestApp::spawn_on(restored).await;
    assert_eq!(copy.balance("bob").await, "0.50000000");
    copy.deposit("bob", "1").await;
    assert_eq!(copy.balance("bob").await, "1.50000000", "the restored copy takes new writes and reads them");
}

#[tokio::test]
async fn a_server_refuses_a_log_whose_transaction_ids_are_ahead_of_its_cluster() {
    let database = fresh_database().await;
    let app = TestApp::spawn_on(database.clone()).await;
    app.open_account("alice", "BTC").await;
    drop(app);
    let client = connect(&database).await;
    // What a dump restored into a younger cluster looks like: ids this cluster never issued.
    client
        .batch_execute(
            "ALTER TABLE events DISABLE TRIGGER USER; \
             UPDATE events SET tx_id = (pg_snapshot_xmax(pg_current_snapshot())::text::bigint + 1000000)::text::xid8 \
             WHERE global_position = (SELECT max(global_position) FROM events); \
             ALTER TABLE events ENABLE TRIGGER USER;",
        )
        .await
        .expect("move the newest event ahead");
    // `timeout` ends a server that wrongly starts, so the test fails instead of hanging.
    let output = Command::new("timeout")
        .args(["60", LEDGER, "serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", database.url())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run ledger");
    assert_eq!(output.status.code(), Some(1), "serve refuses to start");
    let output = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.contains("transaction ids ahead of this PostgreSQL cluster"), "{output}");
}

#[tokio::test]
async fn during_a_key_rotation_the_old_and_the_new_admin_key_both_work() {
    let database = fresh_database().await;
    let server = Server::start(
        &[],
        &[
            ("DATABASE_URL", &database.url()),
            ("LEDGER_ADMIN_KEY", "the-new-admin-key"),
            ("LEDGER_PREVIOUS_ADMIN_KEY", "the-old-admin-key"),
        ],
    );
    let http = reqwest::Client::new();
    for (key, expected) in [
        ("the-new-admin-key", StatusCode::OK),
        ("the-old-admin-key", StatusCode::OK),
        ("a-guess", StatusCode::UNAUTHORIZED),
    ] {
        let response = http.get(format!("{}/v1/assets", server.base_url)).bearer_auth(key).send().await.unwrap();
        assert_eq!(response.status(), expected, "{key}");
    }
}

const README: &str = include_str!("../../README.md");

#[test]
fn the_help_of_serve_names_every_setting_and_default_the_readme_lists() {
    let help = Command::new(LEDGER).args(["serve", "--help"]).output().expect("help");
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    let table = README.lines().skip_while(|line| !line.starts_with("| setting | flag | env | default |")).skip(2);
    let mut checked = 0;
    for row in table.take_while(|line| line.starts_with('|')) {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let [_, flag, env, default] = cells[..] else { panic!("a settings row has four cells: {row}") };
        let Some(flag) = flag.trim_matches('`').split_whitespace().last().filter(|flag| flag.starts_with("--")) else {
            continue;
        };
        assert!(help.contains(flag), "`ledger serve --help` lacks {flag}");
        let env = env.trim_matches('`');
        assert!(help.contains(&format!("[env: {env}")), "`ledger serve --help` lacks the variable {env}");
        let literal = default.trim_matches('`').trim_start_matches("./");
        if literal.chars().next().is_some_and(|first| first.is_ascii_digit()) || default.starts_with('`') {
            assert!(help.contains(&format!("[default: {literal}]")), "{flag}: README default {default}");
        }
        checked += 1;
    }
    assert!(checked >= 8, "the README's settings table lost its rows");
}

#[test]
fn every_subcommand_the_readme_shows_is_one_the_binary_has() {
    let help = Command::new(LEDGER).arg("--help").output().expect("help");
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    let shown: Vec<&str> = README
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("ledger "))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    assert!(shown.len() >= 6, "the README shows its subcommands");
    for subcommand in shown {
        assert!(help.lines().any(|line| line.trim_start().starts_with(subcommand)), "no subcommand {subcommand}");
    }
}

#[test]
fn no_file_of_the_project_points_outside_it() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("git").arg("-C").arg(root).args(["ls-files", "-z"]).output().expect("git ls-files");
    let outside = ["..", "shared"].join("/");
    let mut offenders = Vec::new();
    for path in String::from_utf8_lossy(&output.stdout).split('\0').filter(|path| !path.is_empty()) {
        let Ok(text) = std::fs::read_to_string(root.join(path)) else { continue };
        if text.contains(&outside) {
            offenders.push(path.to_string());
        }
    }
    assert!(offenders.is_empty(), "these files point outside the project: {offenders:?}");
}
