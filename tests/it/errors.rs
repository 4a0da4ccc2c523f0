//! Database errors are classified once: retryable ones (a lost connection, an administrator's
//! termination) become `Unavailable` (503), data the database cannot store is the client's
//! mistake (400), everything else `Internal` (500, opaque).

use app::AppError;

use crate::common::{connect, fresh_database};

#[tokio::test]
async fn a_statement_postgres_refuses_is_internal_and_a_terminated_connection_is_unavailable() {
    let database = fresh_database().await;
    let client = connect(&database).await;

    let syntax = client.query("SELEC 1", &[]).await.expect_err("not SQL");
    assert!(matches!(AppError::from(syntax), AppError::Internal(detail) if detail.contains("SQLSTATE 42601")));
    let missing = client.query("SELECT * FROM no_such_table", &[]).await.expect_err("no such table");
    assert!(matches!(AppError::from(missing), AppError::Internal(detail) if detail.contains("SQLSTATE 42P01")));

    let victim = connect(&database).await;
    let pid: i32 = victim.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
    client.execute("SELECT pg_terminate_backend($1)", &[&pid]).await.unwrap();
    let terminated = victim.query("SELECT 1", &[]).await.expect_err("terminated");
    assert!(matches!(AppError::from(terminated), AppError::Unavailable(_)), "an admin termination is worth a retry");
    let closed = victim.query("SELECT 1", &[]).await.expect_err("closed");
    assert!(matches!(AppError::from(closed), AppError::Unavailable(_)), "a closed connection is worth a retry");
}

#[tokio::test]
async fn text_the_database_cannot_store_is_the_clients_mistake_not_a_5xx() {
    let database = fresh_database().await;
    let client = connect(&database).await;
    let nul = client.query("SELECT $1::text", &[&"a\0b"]).await.expect_err("NUL in text");
    assert!(matches!(AppError::from(nul), AppError::InvalidRequest { code: "invalid_input", .. }));

    let app = crate::common::TestApp::spawn_on(database).await;
    let before: i64 = app.sql().await.query_one("SELECT count(*) FROM events", &[]).await.unwrap().get(0);
    let reply =
        app.post("/v1/accounts", serde_json::json!({"id": "nul", "asset": "BTC", "owner": "a\u{0}b"}), None).await;
    assert_eq!(reply.status, reqwest::StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.body["error"]["code"], "invalid_input");
    let after: i64 = app.sql().await.query_one("SELECT count(*) FROM events", &[]).await.unwrap().get(0);
    assert_eq!(after, before, "nothing was appended");
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_in_the_format_of_the_dialect_they_are_under() {
    use reqwest::{Method, StatusCode};
    let app = crate::common::TestApp::spawn().await;
    let send = |method: Method, path: &str| {
        let request = app.http.request(method, format!("{}{path}", app.base_url)).bearer_auth(crate::common::ADMIN_KEY);
        async move {
            let response = request.send().await.expect("request");
            let status = response.status();
            let body: serde_json::Value = response.json().await.expect("a JSON body, not an empty one");
            (status, body)
        }
    };
    for (method, path, status) in [
        (Method::GET, "/v1/no-such-thing", StatusCode::NOT_FOUND),
        (Method::GET, "/no-such-thing", StatusCode::NOT_FOUND),
        (Method::DELETE, "/v1/transfers", StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let (got, body) = send(method.clone(), path).await;
        assert_eq!(got, status, "{method} {path}: {body}");
        assert!(body["error"]["code"].is_string() && body["error"]["message"].is_string(), "native format: {body}");
    }
    for (method, path, status) in [
        (Method::GET, "/rest/v1/no-such-thing", StatusCode::NOT_FOUND),
        (Method::DELETE, "/rest/v1/login", StatusCode::METHOD_NOT_ALLOWED),
        (Method::GET, "/api/v1/no-such-thing", StatusCode::NOT_FOUND),
        (Method::DELETE, "/api/v1/asset", StatusCode::METHOD_NOT_ALLOWED),
        (Method::GET, "/passport/no-such-thing", StatusCode::NOT_FOUND),
    ] {
        let (got, body) = send(method.clone(), path).await;
        assert_eq!(got, status, "{method} {path}: {body}");
        assert!(body["error"]["message"].is_string(), "myLightning and Joy Plus format: {body}");
    }
    for (method, path) in [(Method::POST, "/login_api/noSuchCall"), (Method::DELETE, "/login_api/unsecureLogin")] {
        let (got, body) = send(method.clone(), path).await;
        assert_eq!(got, StatusCode::OK, "the login server answers every call with HTTP 200: {method} {path}");
        assert_eq!(body["state"], "error", "{body}");
        assert_eq!(body["msg"], "unknown call", "{body}");
    }
    // Rejections by axum's extractors, once plain text, now in each dialect's format.
    let (status, body) = send(Method::GET, "/v1/accounts?limit=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_request", "{body}");
    let (status, body) = send(Method::GET, "/v1/accounts/%ff").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_request", "{body}");
    let huge = app
        .http
        .post(format!("{}/login_api/unsecureLogin", app.base_url))
        .body(vec![b' '; 100 * 1024])
        .send()
        .await
        .expect("request");
    assert_eq!(huge.status(), StatusCode::OK, "the login server answers a body over the limit with HTTP 200");
    let body: serde_json::Value = huge.json().await.expect("the envelope");
    assert_eq!(body["state"], "error", "{body}");
}
