//! A batch's writes and its COMMIT go out in one flight (ADR 22). A write that fails on the
//! server must leave nothing committed, and the connection must go back to the pool outside
//! any transaction.

use projections::Writes;
use store::{PipelinedTransaction, TransactionLeaks};

use crate::common::fresh_database;

/// Whether the connection is outside a transaction: inside one, the transaction began
/// before this statement.
async fn is_outside_a_transaction(client: &deadpool_postgres::Object) -> bool {
    store::transaction_leaks::check_tokio_postgres(client).await == store::transaction_leaks::Checkout::Outside
}

fn committer_pool(database: &store::DatabaseTarget) -> deadpool_postgres::Pool {
    store::connect::committer_pool(database, &TransactionLeaks::default()).unwrap()
}

#[tokio::test]
async fn a_write_that_fails_on_the_server_makes_the_commit_in_its_flight_commit_nothing() {
    let database = fresh_database().await;
    let pool = committer_pool(&database);
    let setup = pool.get().await.unwrap();
    setup.batch_execute("CREATE TABLE flight (n int PRIMARY KEY)").await.unwrap();
    drop(setup);

    let tx = PipelinedTransaction::new(pool.get().await.unwrap());
    let mut writes = Writes::default();
    writes.push(tx.client(), "INSERT INTO flight VALUES ($1)", &[&1_i32]).await.unwrap();
    // Breaks the primary key on the server, after the first write went through.
    writes.push(tx.client(), "INSERT INTO flight VALUES ($1)", &[&1_i32]).await.unwrap();
    writes.push(tx.client(), "INSERT INTO flight VALUES ($1)", &[&2_i32]).await.unwrap();
    tx.begin().await.unwrap();
    let outcome = writes.send_then(tx.client(), tx.commit()).await;
    assert!(outcome.is_err(), "the duplicate key is reported as the flight's error");
    tx.roll_back().await;

    let client = pool.get().await.unwrap();
    let rows: i64 = client.query_one("SELECT count(*) FROM flight", &[]).await.unwrap().get(0);
    assert_eq!(rows, 0, "nothing of the flight committed");
    assert!(is_outside_a_transaction(&client).await, "the connection came back outside any transaction");
}

#[tokio::test]
async fn a_flight_whose_writes_all_succeed_commits_them_together() {
    let database = fresh_database().await;
    let pool = committer_pool(&database);
    pool.get().await.unwrap().batch_execute("CREATE TABLE flight (n int PRIMARY KEY)").await.unwrap();

    let tx = PipelinedTransaction::new(pool.get().await.unwrap());
    let mut writes = Writes::default();
    for n in 1..=3_i32 {
        writes.push(tx.client(), "INSERT INTO flight VALUES ($1)", &[&n]).await.unwrap();
    }
    tx.begin().await.unwrap();
    writes.send_then(tx.client(), tx.commit()).await.unwrap().unwrap();
    tx.committed();

    let client = pool.get().await.unwrap();
    let rows: i64 = client.query_one("SELECT count(*) FROM flight", &[]).await.unwrap().get(0);
    assert_eq!(rows, 3);
    assert!(is_outside_a_transaction(&client).await, "the connection came back outside any transaction");
}

#[tokio::test]
async fn a_transaction_dropped_before_it_ended_never_returns_its_connection_to_the_pool() {
    let database = fresh_database().await;
    let pool = committer_pool(&database);
    let tx = PipelinedTransaction::new(pool.get().await.unwrap());
    tx.begin().await.unwrap();
    drop(tx);

    let client = pool.get().await.unwrap();
    assert!(is_outside_a_transaction(&client).await, "a fresh connection, not the one left inside a transaction");
}
