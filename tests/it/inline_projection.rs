//! A batch the projection pass would apply next is applied in its append's own transaction
//! (ADR 21): events, read models and checkpoints in one commit. When that projection fails,
//! the batch is appended alone and the pass applies it, so the write still succeeds once.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{assert_read_models_equal_replay, assert_sequences_contiguous, wait_until_sealed, TestApp};

/// Attempts before a test gives up on finding the pass idle: background work (the chain
/// sealer, expiry sweeps) may hold an older transaction open at the moment of an append.
const MAX_TRANSFER_ATTEMPTS: usize = 20;

/// Whether the transfer's credit, the receiver's balance row and the balances checkpoint
/// were all written by one transaction. `xmin` is the 32-bit id of the row's writer.
async fn projected_in_its_append(app: &TestApp, transfer_id: &str, receiver: &str) -> bool {
    let row = app
        .sql()
        .await
        .query_one(
            "SELECT (SELECT (tx_id::text::bigint % 4294967296)::text FROM events \
                     WHERE metadata ->> 'operation_id' = 'receive:' || $1) AS appended, \
                    (SELECT xmin::text FROM balances WHERE account_id = $2) AS balance, \
                    (SELECT xmin::text FROM projector_checkpoints WHERE projector = 'balances') AS checkpoint",
            &[&transfer_id, &receiver],
        )
        .await
        .unwrap();
    let appended: Option<String> = row.get("appended");
    assert!(appended.is_some(), "the transfer {transfer_id} credited {receiver}");
    appended == row.get::<_, Option<String>>("balance") && appended == row.get::<_, Option<String>>("checkpoint")
}

/// Sends transfers of 1 from `payer` to `payee` (keys `<prefix>-<n>`), each once the chain
/// sealer is idle, until one is projected in its own append. Whether one was.
async fn transfer_until_projected_in_its_append(app: &TestApp, prefix: &str) -> bool {
    for attempt in 0..MAX_TRANSFER_ATTEMPTS {
        wait_until_sealed(app).await;
        let body = json!({"from": "payer", "to": "payee", "amount": "1"});
        let reply = app.post("/v1/transfers", body, Some(&format!("{prefix}-{attempt}"))).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        if projected_in_its_append(app, &uuid_of(&reply.body), "payee").await {
            return true;
        }
    }
    false
}

/// How many transfers `payer` has sent, as the log holds them.
async fn debits_of_payer(sql: &tokio_postgres::Client) -> i64 {
    sql.query_one("SELECT count(*) FROM events WHERE event_type = 'TransferSent' AND aggregate_id = 'payer'", &[])
        .await
        .unwrap()
        .get(0)
}

/// A server with `payer` (holding 100) and `payee`, both BTC accounts.
async fn app_with_payer_and_payee() -> TestApp {
    let app = TestApp::spawn().await;
    app.open_account("payer", "BTC").await;
    app.open_account("payee", "BTC").await;
    app.deposit("payer", "100").await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_and_its_read_models_commit_in_one_transaction_when_the_pass_is_idle() {
    let app = app_with_payer_and_payee().await;
    let projected = transfer_until_projected_in_its_append(&app, "inline").await;
    assert!(projected, "no transfer was projected in its own append in {MAX_TRANSFER_ATTEMPTS} attempts");
    let metrics = app.get("/metrics").await.body.to_string();
    assert!(metrics.contains("ledger_inline_projections_total{result=\\\"projected\\\"}"), "{metrics}");
    assert_read_models_equal_replay(&app.database).await;
}

fn uuid_of(body: &serde_json::Value) -> String {
    body["id"].as_str().expect("the transfer's id").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projection_that_fails_inside_the_append_leaves_the_batch_to_the_pass_and_the_write_succeeds_once() {
    let app = app_with_payer_and_payee().await;
    wait_until_sealed(&app).await;

    // The next write to the balances table fails, once: a sequence is not rolled back with
    // the transaction that advanced it.
    app.sql()
        .await
        .batch_execute(
            "CREATE SEQUENCE fail_once; \
             CREATE FUNCTION fail_first_balance_write() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF nextval('fail_once') = 1 THEN RAISE EXCEPTION 'injected read-model failure'; END IF; \
                   RETURN NEW; END $$; \
             CREATE TRIGGER fail_first_balance_write BEFORE INSERT OR UPDATE ON balances \
                 FOR EACH ROW EXECUTE FUNCTION fail_first_balance_write();",
        )
        .await
        .unwrap();

    let reply =
        app.post("/v1/transfers", json!({"from": "payer", "to": "payee", "amount": "7"}), Some("fails-once")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["status"], "completed");
    let sql = app.sql().await;
    let fired: i64 = sql.query_one("SELECT last_value FROM fail_once", &[]).await.unwrap().get(0);
    assert!(fired >= 2, "the injected failure fired, then the pass wrote the balances");
    assert_eq!(debits_of_payer(&sql).await, 1, "the transfer was appended once");
    assert_eq!(app.balance("payee").await, "7.00000000");
    assert_eq!(app.balance("payer").await, "93.00000000");

    // The gate recovers: later transfers are projected in their own append again.
    let projected = transfer_until_projected_in_its_append(&app, "later").await;
    assert!(projected, "appends project their own batches again after a failure");
    sql.batch_execute("DROP TRIGGER fail_first_balance_write ON balances").await.unwrap();
    assert_sequences_contiguous(&sql).await;
    assert_read_models_equal_replay(&app.database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_moved_by_another_process_fails_the_projection_in_the_append_and_the_write_succeeds_once() {
    let app = app_with_payer_and_payee().await;
    wait_until_sealed(&app).await;
    let sql = app.sql().await;

    // Another process moved the assets checkpoint: back by one event, which the assets read
    // model ignores, so applying it again changes nothing. The pass still believes its own.
    let moved = sql
        .execute(
            "UPDATE projector_checkpoints SET last_tx_id = before.tx, last_position = before.position \
             FROM (SELECT tx_id::text::bigint AS tx, global_position AS position FROM events \
                   ORDER BY tx_id DESC, global_position DESC OFFSET 1 LIMIT 1) AS before \
             WHERE projector = 'assets'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(moved, 1);

    let reply =
        app.post("/v1/transfers", json!({"from": "payer", "to": "payee", "amount": "7"}), Some("moved-once")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(debits_of_payer(&sql).await, 1, "the transfer was appended once");
    assert_eq!(app.balance("payee").await, "7.00000000");
    let metrics = app.get("/metrics").await.body.to_string();
    assert!(metrics.contains("ledger_inline_projections_total{result=\\\"failed\\\"}"), "{metrics}");

    let projected = transfer_until_projected_in_its_append(&app, "after-move").await;
    assert!(projected, "appends project their own batches again once the pass has reloaded");
    assert_sequences_contiguous(&sql).await;
    assert_read_models_equal_replay(&app.database).await;
}
