//! Group commit (ADR 17): decisions batched per aggregate type, one append per batch, a
//! transfer as one decision over both accounts, conflicts with another server decided again.

use std::collections::HashSet;

use app::use_cases::transfers;
use app::AppError;
use domain::DomainError;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;
use store::Operation;

use crate::common::{assert_read_models_equal_replay, assert_sequences_contiguous, eventually, TestApp};

/// Distinct appending transactions among the events of `event_type` on `aggregate_id`.
async fn commits_of(app: &TestApp, event_type: &str, aggregate_id: &str) -> (i64, i64) {
    let row = app
        .sql()
        .await
        .query_one(
            "SELECT count(*), count(DISTINCT tx_id) FROM events WHERE event_type = $1 AND aggregate_id = $2",
            &[&event_type, &aggregate_id],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// Holds the events table against inserts while `queue` runs, so that the committer's
/// batch in progress (started before) waits in its INSERT and every decision `queue`
/// submits is queued behind it; they then make the next batch together.
async fn batched_behind_a_blocked_append<T>(
    app: &TestApp,
    blocked: impl std::future::Future<Output = ()> + Send + 'static,
    queue: impl std::future::Future<Output = T>,
) -> T {
    let lock = app.sql().await;
    lock.batch_execute("BEGIN; LOCK TABLE events IN EXCLUSIVE MODE").await.unwrap();
    let blocked = tokio::spawn(blocked);
    eventually(10, "an append waits for the lock on events", || async {
        let waiting: i64 = lock
            .query_one("SELECT count(*) FROM pg_locks WHERE relation = 'events'::regclass AND NOT granted", &[])
            .await
            .unwrap()
            .get(0);
        waiting > 0
    })
    .await;
    let release = async {
        // Every submission is queued within its first poll; the sleep only makes sure.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        lock.batch_execute("COMMIT").await.unwrap();
    };
    let (queued, ()) = tokio::join!(queue, release);
    blocked.await.unwrap();
    queued
}

#[tokio::test]
async fn a_refused_transfer_in_a_batch_appends_nothing_while_the_others_commit_together() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    app.open_account("bob", "BTC").await;
    app.open_account("carol", "BTC").await;
    app.deposit("alice", "5").await;
    app.deposit("carol", "1").await;
    let bus = app.service().state.ledger.bus.clone();
    let first = {
        let bus = bus.clone();
        async move {
            transfers::send(&bus, "carol", "bob", Decimal::ONE, None, &Operation::fresh()).await.unwrap();
        }
    };
    let amounts = [1, 1, 100, 1, 1, 1].map(Decimal::from);
    let operations: Vec<Operation> = amounts.iter().map(|_| Operation::fresh()).collect();
    let sends = amounts
        .iter()
        .zip(&operations)
        .map(|(amount, operation)| transfers::send(&bus, "alice", "bob", *amount, None, operation));
    let results = batched_behind_a_blocked_append(&app, first, futures::future::join_all(sends)).await;

    for (index, result) in results.iter().enumerate() {
        match (index, result) {
            (2, Err(AppError::Domain(DomainError::InsufficientFunds { .. }))) => {}
            (2, other) => panic!("the transfer of 100 must be refused, got {other:?}"),
            (_, Ok(receipt)) => assert_eq!(receipt.status, transfers::TransferStatus::Completed),
            (_, Err(error)) => panic!("transfer {index} failed: {error}"),
        }
    }
    let refused_id = &operations[2].id;
    let refused_events: i64 = app
        .sql()
        .await
        .query_one(
            "SELECT count(*) FROM events WHERE metadata ->> 'operation_id' IN ($1, 'receive:' || $1, 'return:' || $1)",
            &[refused_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(refused_events, 0, "the refused transfer appended nothing");
    assert_eq!(commits_of(&app, "TransferSent", "alice").await, (5, 1), "five debits in one commit");
    let credits_with_the_debits: (i64, i64) = {
        let row = app
            .sql()
            .await
            .query_one(
                "SELECT count(*), count(DISTINCT tx_id) FROM events \
                 WHERE event_type = 'TransferReceived' AND aggregate_id = 'bob' AND tx_id IN ( \
                   SELECT tx_id FROM events WHERE event_type = 'TransferSent' AND aggregate_id = 'alice')",
                &[],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(credits_with_the_debits, (5, 1), "their credits in the same commit");
    // The bus does not wait for the read models (the HTTP layer does); give them a moment.
    eventually(10, "the read models show the batch", || async {
        app.balance("alice").await == "0.00000000" && app.balance("bob").await == "6.00000000"
    })
    .await;
    assert_sequences_contiguous(&app.sql().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_payers_to_one_account_batch_together_instead_of_conflicting() {
    const PAYERS: usize = 32;
    const PAYMENTS_EACH: usize = 5;
    let app = TestApp::spawn().await;
    app.open_account("shop", "BTC").await;
    for payer in 0..PAYERS {
        app.open_account(&format!("payer-{payer}"), "BTC").await;
        app.deposit(&format!("payer-{payer}"), "10").await;
    }
    let app = std::sync::Arc::new(app);
    let payers = (0..PAYERS).map(|payer| {
        let app = app.clone();
        tokio::spawn(async move {
            for n in 0..PAYMENTS_EACH {
                let body = json!({"from": format!("payer-{payer}"), "to": "shop", "amount": "1"});
                let reply = app.post("/v1/transfers", body, Some(&format!("pay-{payer}-{n}"))).await;
                assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
                assert_eq!(reply.body["status"], "completed");
            }
        })
    });
    for payer in payers.collect::<Vec<_>>() {
        payer.await.unwrap();
    }

    let payments = (PAYERS * PAYMENTS_EACH) as i64;
    assert_eq!(app.balance("shop").await, format!("{payments}.00000000"));
    let (credits, commits) = commits_of(&app, "TransferReceived", "shop").await;
    assert_eq!(credits, payments);
    assert!(commits < payments, "concurrent credits to one account share commits ({commits} for {credits})");
    let metrics = app.get("/metrics").await.body.to_string();
    assert!(!metrics.contains("outcome=\\\"contention\\\""), "no payment gave up on contention");
    assert_sequences_contiguous(&app.sql().await).await;
    assert_read_models_equal_replay(&app.database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_deciding_on_accounts_another_server_moved_decides_again_on_fresh_state() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(first.database.clone()).await;
    first.open_account("alice", "BTC").await;
    first.open_account("bob", "BTC").await;
    first.deposit("alice", "5").await;
    let spend_all = first.post("/v1/transfers", json!({"from": "alice", "to": "bob", "amount": "5"}), Some("a")).await;
    assert_eq!(spend_all.status, StatusCode::CREATED, "{}", spend_all.body);

    // The first server now holds alice at 0 and bob at 5 in memory; the second moves both.
    second.deposit("alice", "3").await;
    second.deposit("bob", "4").await;

    // A refusal decided on the stale alice would be wrong; a credit appended after the stale
    // bob would collide with the second server's deposit.
    let transfer = first.post("/v1/transfers", json!({"from": "alice", "to": "bob", "amount": "2"}), Some("b")).await;
    assert_eq!(transfer.status, StatusCode::CREATED, "{}", transfer.body);
    assert_eq!(first.balance("alice").await, "1.00000000");
    assert_eq!(first.balance("bob").await, "11.00000000");
    let overdraft = first.post("/v1/transfers", json!({"from": "alice", "to": "bob", "amount": "2"}), Some("c")).await;
    assert_eq!(overdraft.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", overdraft.body);

    let sql = first.sql().await;
    assert_sequences_contiguous(&sql).await;
    let senders: HashSet<String> = sql
        .query("SELECT DISTINCT aggregate_id FROM events WHERE event_type = 'TransferSent'", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(senders, HashSet::from(["alice".to_string()]));
    assert_read_models_equal_replay(&first.database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_models_left_at_different_checkpoints_catch_up_without_applying_anything_twice() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    app.open_account("bob", "BTC").await;
    app.deposit("alice", "5").await;
    let database = app.database.clone();
    app.stop().await;
    // Balances as they stood halfway, kept aside.
    let sql = crate::common::connect(&database).await;
    let columns: String = sql
        .query_one(
            "SELECT string_agg(column_name, ', ') FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = 'balances' AND is_generated = 'NEVER'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    sql.batch_execute(
        "CREATE TABLE halfway_balances AS SELECT * FROM balances; \
         CREATE TABLE halfway_checkpoint AS SELECT * FROM projector_checkpoints WHERE projector = 'balances';",
    )
    .await
    .unwrap();

    let app = TestApp::spawn_on(database.clone()).await;
    let transfer = app.post("/v1/transfers", json!({"from": "alice", "to": "bob", "amount": "2"}), Some("t")).await;
    assert_eq!(transfer.status, StatusCode::CREATED, "{}", transfer.body);
    app.stop().await;

    // As an older version could leave them: balances halfway, postings never projected,
    // every other read model at the head. Balances add up, so a transfer applied to them
    // twice would show.
    sql.batch_execute(&format!(
        "TRUNCATE balances; \
         INSERT INTO balances ({columns}) SELECT {columns} FROM halfway_balances; \
         UPDATE projector_checkpoints c SET last_tx_id = h.last_tx_id, last_position = h.last_position \
           FROM halfway_checkpoint h WHERE c.projector = h.projector; \
         TRUNCATE postings; \
         UPDATE projector_checkpoints SET last_tx_id = 0, last_position = 0 WHERE projector = 'postings'; \
         DROP TABLE halfway_balances, halfway_checkpoint;"
    ))
    .await
    .unwrap();

    let app = TestApp::spawn_on(database).await;
    // Applied twice, the transfer would leave alice at 1 and bob at 4: never these.
    eventually(10, "the pass catches up", || async {
        app.balance("alice").await == "3.00000000" && app.balance("bob").await == "2.00000000"
    })
    .await;
    let positions: i64 = app
        .sql()
        .await
        .query_one(
            "SELECT count(DISTINCT (last_tx_id, last_position)) FROM projector_checkpoints \
             WHERE projector IN ('balances', 'postings', 'holds', 'users', 'assets')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(positions, 1, "after one page past the newest, the read models move as one");
    assert_read_models_equal_replay(&app.database).await;
}
