//! docs/design.md invariant 7: projectors never skip an event, even when an append that took an
//! earlier position commits after appends that took later ones.

use std::time::Duration;

use crate::common::{eventually, TestApp};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_append_held_open_is_projected_after_it_commits_not_skipped() {
    let app = TestApp::spawn().await;
    app.open_account("held", "BTC").await;
    app.open_account("busy", "BTC").await;

    // An append that takes its position now and commits later.
    let mut holder = app.sql().await;
    let held = holder.transaction().await.unwrap();
    held.execute(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('account', 'held', 2, 'FundsDeposited', '1', \
                 '{\"FundsDeposited\":{\"amount\":\"1.00000000\",\"source\":\"world\",\"reference\":null}}', \
                 '{\"operation_id\":\"held-deposit\"}')",
        &[],
    )
    .await
    .unwrap();
    let held_position: i64 = held
        .query_one("SELECT global_position FROM events WHERE aggregate_id = 'held' AND sequence = 2", &[])
        .await
        .unwrap()
        .get(0);

    // Later appends commit while it is open; their positions are after the held one.
    let busy = {
        let app_url = app.base_url.clone();
        let http = app.http.clone();
        tokio::spawn(async move {
            http.post(format!("{app_url}/v1/deposits"))
                .bearer_auth(crate::common::ADMIN_KEY)
                .header("Idempotency-Key", "busy-1")
                .json(&json!({"account": "busy", "amount": "2"}))
                .send()
                .await
                .unwrap()
        })
    };
    let observer = app.sql().await;
    eventually(10, "the later deposit is committed", || async {
        let committed: i64 = observer
            .query_one("SELECT count(*) FROM events WHERE aggregate_id = 'busy' AND sequence = 2", &[])
            .await
            .unwrap()
            .get(0);
        committed == 1
    })
    .await;
    let later_position: i64 = observer
        .query_one("SELECT global_position FROM events WHERE aggregate_id = 'busy' AND sequence = 2", &[])
        .await
        .unwrap()
        .get(0);
    assert!(later_position > held_position, "the committed append took a later position");

    // While the earlier append is open, nothing after it may be applied or served.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.balance("busy").await, "0.00000000", "the projector must not run ahead of an open append");
    let feed = app.get("/v1/events?after=0&limit=1000").await;
    let served: Vec<i64> =
        feed.body["events"].as_array().unwrap().iter().map(|event| event["position"].as_i64().unwrap()).collect();
    assert!(!served.contains(&later_position), "the feed must not serve past an open append");

    held.commit().await.unwrap();
    let reply = busy.await.unwrap();
    assert_eq!(reply.status(), StatusCode::CREATED);
    assert_eq!(app.balance("held").await, "1.00000000", "the late-committing event was applied, not skipped");
    assert_eq!(app.balance("busy").await, "2.00000000");
    let feed = app.get("/v1/events?after=0&limit=1000").await;
    let served: Vec<i64> =
        feed.body["events"].as_array().unwrap().iter().map(|event| event["position"].as_i64().unwrap()).collect();
    assert!(served.contains(&held_position) && served.contains(&later_position), "the feed serves both once final");
    crate::common::assert_read_models_equal_replay(&app.database).await;
}
