//! A corpus of bad requests sent to every route the OpenAPI document lists, signed in where
//! a route wants it (so the input, not the missing credentials, is what gets judged). Every
//! answer must be a client error or a success in the dialect's own format, never a 5xx; a
//! refused request must append nothing; the server must stay healthy.

use crate::common::{TestApp, ADMIN_KEY};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Field names the routes read, each given the same hostile value.
const FIELDS: [&str; 24] = [
    "id",
    "account",
    "from",
    "to",
    "amount",
    "memo",
    "asset",
    "owner",
    "email",
    "password",
    "username",
    "alias",
    "session_id",
    "transaction_type",
    "target_email",
    "invoiceid",
    "payment_request",
    "remotenode",
    "channelpoint",
    "dest",
    "nodeid",
    "pub_key",
    "code",
    "denomination",
];

/// Bodies every POST and PUT gets.
fn hostile_bodies(csrf: &str, session_id: i64) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let with = |value: Value| {
        let mut object = serde_json::Map::new();
        for field in FIELDS {
            object.insert(field.to_string(), value.clone());
        }
        object.insert("_csrf".into(), json!(csrf));
        object.insert("session_id".into(), json!(session_id));
        serde_json::to_vec(&Value::Object(object)).unwrap()
    };
    let json = "application/json";
    vec![
        ("not JSON", b"{not json".to_vec(), json),
        ("an array", b"[1,2,3]".to_vec(), json),
        ("NUL in every text field", with(json!("a\u{0}b")), json),
        ("control characters", with(json!("a\u{1}\u{7f}b")), json),
        ("wrong types", with(json!({"nested": [1, {}]})), json),
        ("a number past any amount", with(json!(8e20)), json),
        ("a negative amount", with(json!("-1")), json),
        ("a number JSON cannot hold", br#"{"amount": 1e400, "id": "x"}"#.to_vec(), json),
        ("invalid UTF-8", b"{\"id\": \"\xff\xfe\"}".to_vec(), json),
        ("a body over the limit", vec![b' '; 70 * 1024], json),
        ("JSON sent as text", with(json!("x")), "text/plain"),
    ]
}

/// Queries every route gets.
const HOSTILE_QUERIES: [&str; 4] =
    ["?limit=abc", "?limit=1&limit=2", "?after=%00&cursor=%ff", "?limit=-1&offset=99999999999999999999"];

/// Longest any answer may take.
const ANSWER_TIMEOUT_SECONDS: u64 = 20;

/// Path parameters every templated route gets.
const HOSTILE_SEGMENTS: [&str; 4] = ["%00", "%ff", "a%2Fb", "..%2F..%2Fetc"];

fn credentials(path: &str, request: reqwest::RequestBuilder, cookie: &str, csrf: &str) -> reqwest::RequestBuilder {
    if path.starts_with("/v1") {
        request.bearer_auth(ADMIN_KEY)
    } else if path.starts_with("/api/v1") {
        request.header("authorization", ADMIN_KEY)
    } else if path.starts_with("/rest/v1") || path == "/" {
        request.header("cookie", cookie).header("x-csrf-token", csrf)
    } else {
        request
    }
}

/// The answer is in the format of the dialect `path` belongs to.
fn assert_dialect_format(path: &str, status: StatusCode, body: &str, what: &str) {
    assert!(!status.is_server_error(), "{what}: {status} {body}");
    let api = ["/v1", "/rest/v1", "/login_api", "/api/v1", "/passport"].iter().any(|prefix| path.starts_with(prefix));
    if !api || status.is_redirection() || body.is_empty() && status.is_success() {
        return;
    }
    // Binary answers (a QR image) are successes; every error is JSON.
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        assert!(status.is_success(), "{what}: {status} is not JSON: {body:.200}");
        return;
    };
    if path.starts_with("/login_api") {
        assert_eq!(status, StatusCode::OK, "{what}: the login server answers 200: {body}");
        assert!(value["state"].is_string(), "{what}: a state: {body}");
    } else if status.is_client_error() {
        let error = &value["error"];
        let message = error["message"].as_str().or(error.as_str()).or(value["message"].as_str());
        assert!(message.is_some() || value["msg"].is_string(), "{what}: an error message: {body}");
    }
}

async fn event_count(app: &TestApp) -> i64 {
    app.sql().await.query_one("SELECT count(*) FROM events", &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn no_bad_request_to_any_route_is_a_server_error_or_changes_the_log() {
    // Its sign-in routes verify passwords by the hundred.
    let _hashing = crate::common::PASSWORD_HASHING.lock().await;
    let app = TestApp::spawn().await;
    let (browser, csrf, _) = crate::lightning::logged_in(&app, "mallory").await;
    let cookie = browser.cookie.clone().unwrap();
    let session_id = crate::common::gradido_session(&app, "mallory").await;
    let spec: Value =
        app.http.get(format!("{}/openapi.json", app.base_url)).send().await.unwrap().json().await.unwrap();
    let bodies = hostile_bodies(&csrf, session_id);
    let mut sent = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        let templated = template.contains('{');
        let paths: Vec<String> = if templated {
            HOSTILE_SEGMENTS
                .iter()
                .map(|segment| {
                    template
                        .split('/')
                        .map(|part| if part.starts_with('{') { *segment } else { part })
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .collect()
        } else {
            vec![template.clone()]
        };
        for method in ["get", "post", "put", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for path in &paths {
                let mut requests: Vec<(String, reqwest::RequestBuilder)> = HOSTILE_QUERIES
                    .iter()
                    .map(|query| {
                        let url = format!("{}{path}{query}", app.base_url);
                        (format!("{method} {path}{query}"), app.http.request(method.clone(), url))
                    })
                    .collect();
                if method == Method::POST || method == Method::PUT {
                    for (name, body, content_type) in &bodies {
                        let request = app
                            .http
                            .request(method.clone(), format!("{}{path}", app.base_url))
                            .header("content-type", *content_type)
                            .header("idempotency-key", format!("hostile-{sent}-{name}"))
                            .body(body.clone());
                        requests.push((format!("{method} {path} with {name}"), request));
                    }
                }
                for (what, request) in requests {
                    let before = event_count(&app).await;
                    let response = credentials(template, request, &cookie, &csrf).send().await.unwrap();
                    let status = response.status();
                    let streaming = response
                        .headers()
                        .get("content-type")
                        .is_some_and(|value| value.as_bytes().starts_with(b"text/event-stream"));
                    if streaming {
                        // An event stream that opened never ends: it took the query.
                        assert_eq!(status, StatusCode::OK, "{what}");
                        sent += 1;
                        continue;
                    }
                    let bytes =
                        tokio::time::timeout(std::time::Duration::from_secs(ANSWER_TIMEOUT_SECONDS), response.bytes())
                            .await
                            .unwrap_or_else(|_| panic!("{what}: no complete answer in {ANSWER_TIMEOUT_SECONDS} s"))
                            .unwrap();
                    let body = String::from_utf8_lossy(&bytes).to_string();
                    assert_dialect_format(template, status, &body, &what);
                    let refused = status.is_client_error()
                        || serde_json::from_str::<Value>(&body).is_ok_and(|value| {
                            value.get("error").is_some()
                                || value["state"].as_str().is_some_and(|state| state != "success")
                        });
                    if refused {
                        assert_eq!(
                            event_count(&app).await,
                            before,
                            "{what} was refused ({status} {body:.200}) but appended events"
                        );
                    }
                    sent += 1;
                }
            }
        }
    }
    assert!(sent > 500, "the corpus reached the routes: {sent} requests");
    let health = app.http.get(format!("{}/health", app.base_url)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK, "the server is still healthy");
    crate::common::assert_read_models_equal_replay(&app.database).await;
}

/// The README's rule for `Idempotency-Key`: 1 to 255 visible ASCII characters.
#[tokio::test]
async fn an_idempotency_key_with_a_tab_a_space_or_too_many_characters_is_refused() {
    let app = TestApp::spawn().await;
    let body = json!({"id": "acc-1", "asset": "BTC"});
    let before = event_count(&app).await;
    for key in ["a\tb", "a b", &"k".repeat(256)] {
        let reply = app.post("/v1/accounts", body.clone(), Some(key)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{key:?}: {}", reply.body);
        assert_eq!(reply.body["error"]["code"], "invalid_idempotency_key");
    }
    assert_eq!(event_count(&app).await, before, "a refused key appends nothing");
    assert_eq!(app.post("/v1/accounts", body, Some("a-visible-key")).await.status, StatusCode::CREATED);
}

/// A client that never finishes its headers is cut off, instead of holding a connection.
#[tokio::test]
async fn a_connection_whose_headers_never_end_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let address = app.base_url.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
    let limit = std::time::Duration::from_millis(api::router::HEADER_READ_TIMEOUT_MS + 5_000);
    let mut answer = Vec::new();
    let read = tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server still holds the connection after {limit:?}");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "closed, or told it took too long: {answer}");
}
