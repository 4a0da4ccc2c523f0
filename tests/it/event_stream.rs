//! The live event stream: server-sent events in commit order that resume after a reconnect
//! with nothing missed or repeated.

use std::time::Duration;

use crate::common::{TestApp, ADMIN_KEY};
use serde_json::Value;

async fn connect(app: &TestApp, last_event_id: Option<i64>) -> reqwest::Response {
    let mut request = app.http.get(format!("{}/v1/events/stream?after=0", app.base_url)).bearer_auth(ADMIN_KEY);
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id.to_string());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    response
}

/// Reads SSE frames until `count` events have arrived; each as (id, data).
async fn read_events(response: &mut reqwest::Response, buffer: &mut String, count: usize) -> Vec<(i64, Value)> {
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while events.len() < count {
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let id = frame.lines().find_map(|line| line.strip_prefix("id: ")).map(|id| id.parse::<i64>().unwrap());
            let data = frame.lines().find_map(|line| line.strip_prefix("data: "));
            if let (Some(id), Some(data)) = (id, data) {
                events.push((id, serde_json::from_str(data).unwrap()));
            }
        }
        if events.len() >= count {
            break;
        }
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .expect("events arrive in time")
            .unwrap()
            .expect("stream open");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    events
}

async fn log_positions(app: &TestApp) -> Vec<i64> {
    let page = app.get("/v1/events?after=0&limit=1000").await;
    page.body["events"].as_array().unwrap().iter().map(|event| event["position"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn the_stream_delivers_every_event_exactly_once_across_a_reconnect() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    app.deposit("alice", "1").await;
    let existing = log_positions(&app).await.len();

    let mut first = connect(&app, None).await;
    let mut buffer = String::new();
    let mut seen = read_events(&mut first, &mut buffer, existing).await;
    assert_eq!(seen.last().unwrap().1["event_type"], "FundsDeposited");
    drop(first);

    for _ in 0..3 {
        app.deposit("alice", "0.1").await;
    }
    let last_seen = seen.last().unwrap().0;
    let mut second = connect(&app, Some(last_seen)).await;
    let mut buffer = String::new();
    let writer = async {
        for _ in 0..2 {
            app.deposit("alice", "0.01").await;
        }
    };
    let (_, resumed) = tokio::join!(writer, read_events(&mut second, &mut buffer, 5));
    assert!(resumed.iter().all(|(id, _)| *id > last_seen), "nothing repeated after the reconnect");
    seen.extend(resumed);

    let streamed: Vec<i64> = seen.iter().map(|(id, _)| *id).collect();
    assert_eq!(streamed, log_positions(&app).await, "the stream is the log: every event once, in commit order");
    let amounts: Vec<&str> =
        seen.iter().filter_map(|(_, event)| event["payload"]["FundsDeposited"]["amount"].as_str()).collect();
    assert_eq!(amounts, ["1.00000000", "0.10000000", "0.10000000", "0.10000000", "0.01000000", "0.01000000"]);

    let refused = app.http.get(format!("{}/v1/events/stream", app.base_url)).send().await.unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED, "the stream needs the admin key");
    let unknown = app
        .http
        .get(format!("{}/v1/events/stream?after=999999", app.base_url))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), reqwest::StatusCode::NOT_FOUND);
}
