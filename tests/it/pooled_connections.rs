//! The pools' own check: a connection that comes back inside a transaction anyway (the
//! code that opens transactions is meant to make that impossible) is caught at checkout,
//! counted and closed, in the tokio-postgres pools and in the sqlx pool alike.

use store::transaction_leaks::{check_tokio_postgres, Checkout};
use store::TransactionLeaks;

use crate::common::{connect, eventually, fresh_database};

/// Waits until the server has closed the backend `pid`.
async fn assert_closed(database: &store::DatabaseTarget, pid: i32) {
    let sql = connect(database).await;
    eventually(10, "the connection left inside a transaction is closed", || async {
        let open: i64 =
            sql.query_one("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", &[&pid]).await.unwrap().get(0);
        open == 0
    })
    .await;
}

#[tokio::test]
async fn a_connection_handed_back_inside_a_transaction_is_counted_and_closed_not_handed_out_again() {
    let database = fresh_database().await;
    let leaks = TransactionLeaks::default();
    let pool = store::connect::committer_pool(&database, &leaks).unwrap();
    // What the guard exists to prevent: BEGIN sent on a bare pooled connection, then dropped.
    let careless = pool.get().await.unwrap();
    careless.batch_execute("BEGIN; SELECT 1").await.unwrap();
    let careless_pid: i32 = careless.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
    drop(careless);

    let client = pool.get().await.unwrap();
    assert_eq!(leaks.count(), 1, "the checkout found the connection inside a transaction");
    assert_eq!(check_tokio_postgres(&client).await, Checkout::Outside, "the connection handed out is outside any");
    let pid: i32 = client.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
    assert_ne!(pid, careless_pid, "a new connection, not the one left inside a transaction");
    assert_closed(&database, careless_pid).await;
}

#[tokio::test]
async fn the_event_pool_closes_a_connection_released_inside_a_transaction() {
    let database = fresh_database().await;
    let pools = store::connect(&database).await.unwrap();
    let mut careless = pools.events.acquire().await.unwrap();
    sqlx::Executor::execute(&mut *careless, "BEGIN").await.unwrap();
    let careless_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut *careless).await.unwrap();
    drop(careless);

    assert_closed(&database, careless_pid).await;
    assert_eq!(pools.leaks.count(), 1, "the release found the connection inside a transaction");
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&pools.events).await.unwrap();
    assert_ne!(pid, careless_pid, "a new connection, not the one left inside a transaction");
}

#[tokio::test]
async fn a_connection_left_in_an_aborted_transaction_is_counted_too() {
    let database = fresh_database().await;
    let leaks = TransactionLeaks::default();
    let pool = store::connect::committer_pool(&database, &leaks).unwrap();
    let careless = pool.get().await.unwrap();
    careless.batch_execute("BEGIN").await.unwrap();
    assert!(careless.batch_execute("SELECT 1 / 0").await.is_err(), "the statement fails and aborts the transaction");
    drop(careless);

    let client = pool.get().await.unwrap();
    assert_eq!(leaks.count(), 1, "the checkout found the connection inside an aborted transaction");
    assert_eq!(check_tokio_postgres(&client).await, Checkout::Outside);
}
