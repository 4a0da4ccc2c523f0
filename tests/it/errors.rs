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
