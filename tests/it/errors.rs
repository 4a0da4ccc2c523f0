//! Database errors are classified once: retryable ones (a lost connection, an administrator's
//! termination) become `Unavailable` (503), everything else `Internal` (500, opaque).

use app::AppError;

use crate::common::{connect, fresh_database};

#[tokio::test]
async fn a_statement_postgres_refuses_is_internal_and_a_terminated_connection_is_unavailable() {
    let database = fresh_database().await;
    let client = connect(&database).await;

    let syntax = client.query("SELEC 1", &[]).await.expect_err("not SQL");
    assert!(matches!(AppError::from(syntax), AppError::Internal(detail) if detail.contains("SQLSTATE 42601")));
    let constraint = client.query("SELECT 1 / 0", &[]).await.expect_err("division by zero");
    assert!(matches!(AppError::from(constraint), AppError::Internal(_)));

    let victim = connect(&database).await;
    let pid: i32 = victim.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
    client.execute("SELECT pg_terminate_backend($1)", &[&pid]).await.unwrap();
    let terminated = victim.query("SELECT 1", &[]).await.expect_err("terminated");
    assert!(matches!(AppError::from(terminated), AppError::Unavailable(_)), "an admin termination is worth a retry");
    let closed = victim.query("SELECT 1", &[]).await.expect_err("closed");
    assert!(matches!(AppError::from(closed), AppError::Unavailable(_)), "a closed connection is worth a retry");
}
