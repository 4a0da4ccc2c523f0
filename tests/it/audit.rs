//! `ledger audit`, `ledger export` and `ledger verify-export`, run as the real binary against
//! a real database: each check passes on a good history and fails, naming the first bad
//! event, on a deliberately broken one.

use std::process::Command;

use crate::common::{wait_until_sealed, TestApp};
use serde_json::json;

const LEDGER: &str = env!("CARGO_BIN_EXE_ledger");

fn ledger(args: &[&str], app: &TestApp) -> (bool, String) {
    let output = Command::new(LEDGER)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("DATABASE_URL", app.database.url())
        .output()
        .expect("run ledger");
    let mut text = String::from_utf8_lossy(&output.stdout).to_string();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// Some history: two accounts, deposits, a transfer, a withdrawal; sealed in the chain.
async fn app_with_history() -> TestApp {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    app.open_account("bob", "BTC").await;
    app.deposit("alice", "1").await;
    app.deposit("bob", "2").await;
    let reply = app.post("/v1/transfers", json!({"from": "alice", "to": "bob", "amount": "0.25"}), Some("t1")).await;
    assert!(reply.status.is_success(), "{}", reply.body);
    let reply = app.post("/v1/withdrawals", json!({"account": "bob", "amount": "0.5"}), Some("w1")).await;
    assert!(reply.status.is_success(), "{}", reply.body);
    wait_until_sealed(&app).await;
    app
}

/// The position of alice's first deposit.
async fn alice_deposit_position(app: &TestApp) -> i64 {
    let sql = app.sql().await;
    sql.query_one(
        "SELECT global_position FROM events WHERE aggregate_id = 'alice' AND event_type = 'FundsDeposited'",
        &[],
    )
    .await
    .unwrap()
    .get(0)
}

/// Runs `statement` with the events' immutability switched off, as a tamperer with
/// superuser rights would.
async fn tamper(app: &TestApp, statement: &str) {
    let sql = app.sql().await;
    sql.batch_execute(&format!(
        "ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete; {statement}; ALTER TABLE events ENABLE TRIGGER events_no_update_or_delete;"
    ))
    .await
    .unwrap();
}

fn failed_check(output: &str, check: &str) -> bool {
    output.lines().any(|line| line.starts_with(check) && line.contains("FAILED"))
}

#[tokio::test]
async fn the_audit_passes_on_an_untouched_history() {
    let app = app_with_history().await;
    let (passed, output) = ledger(&["audit"], &app);
    assert!(passed, "{output}");
    assert!(output.contains("audit passed"), "{output}");
    for check in ["event hashes", "hash chain", "sequences", "no negative balance", "conservation", "read models"] {
        assert!(output.lines().any(|line| line.starts_with(check) && line.ends_with("ok")), "{check}: {output}");
    }
}

#[tokio::test]
async fn the_database_hashes_multibyte_text_and_missing_fields_as_the_audit_does() {
    let app = app_with_history().await;
    let reference = json!({"account": "alice", "amount": "0.1", "reference": "Zahlung für Café ☕ 𝄞"});
    let reply = app.post("/v1/deposits", reference, Some("unicode-deposit")).await;
    assert!(reply.status.is_success(), "{}", reply.body);
    wait_until_sealed(&app).await;
    let (passed, output) = ledger(&["audit"], &app);
    assert!(passed, "{output}");
    // A NULL field contributes nothing, as the first definition's string_agg skipped it.
    let sql = app.sql().await;
    let row = sql
        .query_one(
            "SELECT event_content_hash('a', NULL, 1, 'b', '1', '{}', '{}', '2026-12-01T00:00:00Z') \
                  = sha256(convert_to('15:ledger-event-v1;1:a;1:1;1:b;1:1;2:{};2:{};27:2026-12-01T00:00:00.000000Z;', 'UTF8'))",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
}

#[tokio::test]
async fn editing_one_stored_event_with_sql_is_pinpointed() {
    let app = app_with_history().await;
    let position = alice_deposit_position(&app).await;
    tamper(&app, &format!("UPDATE events SET payload = replace(payload::text, '1.00000000', '9.00000000')::json WHERE global_position = {position}")).await;
    let (passed, output) = ledger(&["audit"], &app);
    assert!(!passed, "{output}");
    assert!(failed_check(&output, "event hashes"), "{output}");
    assert!(output.contains(&format!("first bad position: {position}")), "{output}");
}

#[tokio::test]
async fn an_edited_event_with_a_recomputed_hash_still_breaks_the_chain() {
    let app = app_with_history().await;
    let position = alice_deposit_position(&app).await;
    tamper(
        &app,
        &format!(
            "UPDATE events SET payload = replace(payload::text, '1.00000000', '9.00000000')::json WHERE global_position = {position}; \
             UPDATE events SET event_hash = event_content_hash(aggregate_type, aggregate_id, sequence, event_type, event_version, \
                                                              payload::text, metadata::text, recorded_at) WHERE global_position = {position}"
        ),
    )
    .await;
    let (passed, output) = ledger(&["audit"], &app);
    assert!(!passed, "{output}");
    assert!(!failed_check(&output, "event hashes"), "the event matches its forged hash: {output}");
    assert!(failed_check(&output, "hash chain"), "{output}");
    assert!(output.contains(&format!("first bad position: {position}")), "{output}");
}

/// Appends an account event with plain SQL (the trigger still hashes it, the sealer seals it).
async fn insert_account_event(
    app: &TestApp,
    account: &str,
    sequence_step: i64,
    event_type: &str,
    payload: serde_json::Value,
) -> i64 {
    let sql = app.sql().await;
    let row = sql
        .query_one(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
             SELECT 'account', $1, max(sequence) + $2, $3, '1', $4::text::json, '{}' FROM events WHERE aggregate_type = 'account' AND aggregate_id = $1 \
             RETURNING global_position",
            &[&account, &sequence_step, &event_type, &payload.to_string()],
        )
        .await
        .unwrap();
    wait_until_sealed(app).await;
    row.get(0)
}

#[tokio::test]
async fn a_gap_in_an_aggregates_sequence_is_pinpointed() {
    let app = app_with_history().await;
    let payload = json!({"FundsDeposited": {"amount": "0.10000000", "source": "world", "reference": null}});
    let position = insert_account_event(&app, "alice", 2, "FundsDeposited", payload).await;
    let (passed, output) = ledger(&["audit"], &app);
    assert!(!passed, "{output}");
    assert!(failed_check(&output, "sequences"), "{output}");
    assert!(output.contains(&format!("first bad position: {position}")), "{output}");
}

#[tokio::test]
async fn a_user_balance_that_once_went_below_zero_is_pinpointed() {
    let app = app_with_history().await;
    let payload = json!({"FundsWithdrawn": {"amount": "5.00000000", "destination": "world", "reference": null}});
    let position = insert_account_event(&app, "alice", 1, "FundsWithdrawn", payload).await;
    let (passed, output) = ledger(&["audit"], &app);
    assert!(!passed, "{output}");
    assert!(failed_check(&output, "no negative balance"), "{output}");
    assert!(
        !failed_check(&output, "sequences") && !failed_check(&output, "hash chain"),
        "only the money is wrong: {output}"
    );
    assert!(output.contains(&format!("first bad position: {position}")), "{output}");
}

#[tokio::test]
async fn a_read_model_edited_by_hand_fails_the_rebuild_and_conservation_checks() {
    let app = app_with_history().await;
    app.sql().await.execute("UPDATE balances SET amount = amount + 1 WHERE account_id = 'bob'", &[]).await.unwrap();
    let (passed, output) = ledger(&["audit"], &app);
    assert!(!passed, "{output}");
    assert!(failed_check(&output, "read models") && output.contains("balances"), "{output}");
    assert!(failed_check(&output, "conservation"), "{output}");
    assert!(!failed_check(&output, "event hashes"), "the events are untouched: {output}");
}

#[tokio::test]
async fn an_export_verifies_on_its_own_and_a_changed_line_does_not() {
    let app = app_with_history().await;
    let dir = std::env::temp_dir().join(format!(
        "ledger-export-{}-{}",
        std::process::id(),
        app.base_url.rsplit(':').next().unwrap()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("events.ndjson");
    let (exported, output) = ledger(&["export", "--after", "0", "--output", file.to_str().unwrap()], &app);
    assert!(exported, "{output}");
    let lines = std::fs::read_to_string(&file).unwrap();
    let events: i64 = app.sql().await.query_one("SELECT count(*) FROM events", &[]).await.unwrap().get(0);
    assert_eq!(lines.lines().count() as i64, events, "every event, once");

    let (intact, verdict) = ledger(&["verify-export", file.to_str().unwrap()], &app);
    assert!(intact && verdict.contains(&format!("export intact: {events} events")), "{verdict}");
    let (_, audit) = ledger(&["audit"], &app);
    let head =
        audit.lines().find_map(|line| line.strip_prefix("chain head: ")).expect("the audit names the chain head");
    assert!(verdict.contains(head), "the export ends at the audited head: {verdict} / {audit}");

    let second_position: i64 =
        serde_json::from_str::<serde_json::Value>(lines.lines().nth(1).unwrap()).unwrap()["position"].as_i64().unwrap();
    let tail = dir.join("tail.ndjson");
    let (exported, output) =
        ledger(&["export", "--after", &second_position.to_string(), "--output", tail.to_str().unwrap()], &app);
    assert!(exported, "{output}");
    assert_eq!(std::fs::read_to_string(&tail).unwrap().lines().count() as i64, events - 2);
    let (intact, verdict) = ledger(&["verify-export", tail.to_str().unwrap()], &app);
    assert!(intact, "a partial export verifies from its anchor: {verdict}");

    let forged = lines.replacen("1.00000000", "9.00000000", 1);
    assert_ne!(forged, lines);
    let forged_file = dir.join("forged.ndjson");
    std::fs::write(&forged_file, forged).unwrap();
    let (intact, verdict) = ledger(&["verify-export", forged_file.to_str().unwrap()], &app);
    assert!(!intact && verdict.contains("BROKEN at line"), "{verdict}");
    let _ = std::fs::remove_dir_all(&dir);
}
