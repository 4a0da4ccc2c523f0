//! Holds lock an amount until released, captured, or expired by the service itself.

use crate::common::{eventually, TestApp};
use reqwest::StatusCode;
use serde_json::json;

async fn funded(asset: &str, amount: &str) -> TestApp {
    let app = TestApp::spawn().await;
    app.open_account("alice", asset).await;
    app.open_account("bob", asset).await;
    app.deposit("alice", amount).await;
    app
}

async fn available(app: &TestApp, account: &str) -> String {
    app.get(&format!("/v1/accounts/{account}")).await.body["available"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_hold_locks_funds_until_it_is_released() {
    let app = funded("GDD", "10").await;
    let hold =
        app.post("/v1/holds", json!({"account": "alice", "amount": "6", "memo": "pending tx"}), Some("h1")).await;
    assert_eq!(hold.status, StatusCode::CREATED, "{}", hold.body);
    assert_eq!(hold.body["status"], "active");
    let account = app.get("/v1/accounts/alice").await.body;
    assert_eq!(
        (account["balance"].as_str(), account["locked"].as_str(), account["available"].as_str()),
        (Some("10.0000"), Some("6.0000"), Some("4.0000"))
    );

    let too_much = app.post("/v1/withdrawals", json!({"account": "alice", "amount": "5"}), Some("w1")).await;
    assert_eq!(too_much.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_much.body["error"]["code"], "insufficient_funds");
    let second = app.post("/v1/holds", json!({"account": "alice", "amount": "5"}), Some("h2")).await;
    assert_eq!(second.status, StatusCode::UNPROCESSABLE_ENTITY, "a hold cannot lock more than is available");

    let id = hold.body["id"].as_str().unwrap();
    let released = app.post(&format!("/v1/accounts/alice/holds/{id}/release"), json!({}), None).await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.body);
    assert_eq!(released.body["status"], "released");
    assert_eq!(available(&app, "alice").await, "10.0000");
    let again = app.post(&format!("/v1/accounts/alice/holds/{id}/release"), json!({}), None).await;
    assert_eq!(again.status, StatusCode::OK, "releasing again replays the release");
    assert_eq!(available(&app, "alice").await, "10.0000");
}

#[tokio::test]
async fn an_expired_hold_is_released_by_the_service_itself() {
    let app = funded("BTC", "1").await;
    let expires_at = (chrono::Utc::now() + chrono::Duration::milliseconds(3_000)).to_rfc3339();
    let hold =
        app.post("/v1/holds", json!({"account": "alice", "amount": "0.4", "expires_at": expires_at}), Some("h1")).await;
    assert_eq!(hold.status, StatusCode::CREATED, "{}", hold.body);
    assert_eq!(available(&app, "alice").await, "0.60000000");
    eventually(10, "the hold expires", || async { available(&app, "alice").await == "1.00000000" }).await;
    let holds = app.get("/v1/accounts/alice/holds").await;
    assert_eq!(holds.body["holds"][0]["status"], "expired");
    let capture = app
        .post(
            &format!("/v1/accounts/alice/holds/{}/capture", hold.body["id"].as_str().unwrap()),
            json!({"to": "bob"}),
            None,
        )
        .await;
    assert_eq!(capture.status, StatusCode::NOT_FOUND, "an expired hold cannot be captured: {}", capture.body);
}

#[tokio::test]
async fn a_captured_hold_pays_another_account_exactly_once() {
    let app = funded("JUSD", "3").await;
    let hold = app.post("/v1/holds", json!({"account": "alice", "amount": "2"}), Some("h1")).await;
    let path = format!("/v1/accounts/alice/holds/{}/capture", hold.body["id"].as_str().unwrap());
    let captured = app.post(&path, json!({"to": "bob", "memo": "order 7"}), None).await;
    assert_eq!(captured.status, StatusCode::CREATED, "{}", captured.body);
    assert_eq!(captured.body["status"], "completed");
    let retried = app.post(&path, json!({"to": "bob", "memo": "order 7"}), None).await;
    assert_eq!(retried.status, StatusCode::CREATED);
    assert!(retried.replayed, "a retried capture replays the first");
    assert_eq!(app.balance("alice").await, "1.000000000000000000");
    assert_eq!(app.balance("bob").await, "2.000000000000000000");
    let alice = app.get("/v1/accounts/alice").await.body;
    assert_eq!(alice["locked"], "0.000000000000000000");
    crate::common::assert_read_models_equal_replay(&app.database).await;
}

#[tokio::test]
async fn a_hold_that_expires_in_the_past_is_refused() {
    let app = funded("BTC", "1").await;
    let past = (chrono::Utc::now() - chrono::Duration::seconds(5)).to_rfc3339();
    let reply =
        app.post("/v1/holds", json!({"account": "alice", "amount": "0.1", "expires_at": past}), Some("h1")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["error"]["code"], "invalid_request");
}
