//! Transfers complete exactly once from the durable log (docs/design.md invariant 4).

use crate::common::{eventually, TestApp};
use domain::account::{AccountCommand, TransferDestination};
use domain::AssetCode;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;
use store::Operation;

#[tokio::test]
async fn a_debited_transfer_whose_credit_never_ran_is_completed_by_the_process_manager() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "GDD").await;
    app.open_account("bob", "GDD").await;
    app.deposit("alice", "5").await;

    // Only the debit, as if the process that took it died before crediting.
    let bus = &app.service().state.ledger.bus;
    let to =
        TransferDestination { account_id: "bob".into(), asset: AssetCode::parse("GDD").unwrap(), is_system: false };
    let command =
        AccountCommand::SendTransfer { transfer_id: "orphan-1".into(), to, amount: Decimal::new(2, 0), memo: None };
    bus.execute("alice", command, &Operation::fresh()).await.unwrap();

    eventually(10, "bob is credited", || async { app.balance("bob").await == "2.0000" }).await;
    assert_eq!(app.balance("alice").await, "3.0000");
    assert_eq!(app.balance("transit:GDD").await, "0.0000");
    let credits: i64 = app
        .sql()
        .await
        .query_one("SELECT count(*) FROM events WHERE event_type = 'TransferReceived'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(credits, 1, "credited exactly once");
}

#[tokio::test]
async fn a_transfer_the_destination_cannot_hold_is_returned_to_the_sender() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "JOY").await;
    app.open_account("whale", "JOY").await;
    app.deposit("alice", "5").await;
    app.deposit("whale", "1000000000").await;
    let reply = app.post("/v1/transfers", json!({"from": "alice", "to": "whale", "amount": "1"}), Some("t1")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["status"], "returned");
    assert_eq!(app.balance("alice").await, "5.000000000000000000");
    assert_eq!(app.balance("whale").await, "1000000000.000000000000000000");
    assert_eq!(app.balance("transit:JOY").await, "0.000000000000000000");
}

#[tokio::test]
async fn a_deposit_past_the_balance_limit_is_refused() {
    let app = TestApp::spawn().await;
    app.open_account("whale", "JOY").await;
    app.deposit("whale", "1000000000").await;
    let reply =
        app.post("/v1/deposits", json!({"account": "whale", "amount": "0.000000000000000001"}), Some("d")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["error"]["code"], "balance_limit_exceeded");
}
