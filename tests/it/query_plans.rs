//! The write path's reads of the log stay index lookups however long the histories grow:
//! each statement is checked with EXPLAIN on a log whose statistics tempt the planner to
//! read all of it (few aggregates with long histories, histories of unknown length).

use futures::future::join_all;
use store::append::{find_operations_sql, LAST_SEQUENCES_SQL};
use store::snapshot::events_from_sql;
use tokio_postgres::types::ToSql;

use crate::common::TestApp;

const ACCOUNTS: usize = 16;
const DEPOSITS_PER_ACCOUNT: usize = 48;

/// The plan of `sql` bound to `params`, one line per node.
async fn plan(sql: &tokio_postgres::Client, statement: &str, params: &[&(dyn ToSql + Sync)]) -> String {
    let rows = sql.query(&format!("EXPLAIN {statement}"), params).await.unwrap();
    rows.iter().map(|row| row.get::<_, String>(0)).collect::<Vec<_>>().join("\n")
}

fn assert_reads_by_index(name: &str, plan: &str) {
    assert!(!plan.contains("Seq Scan on events"), "{name} reads the whole log:\n{plan}");
    assert!(!plan.contains("Hash Join"), "{name} hashes the log instead of probing it:\n{plan}");
    assert!(plan.contains("Index"), "{name} uses no index:\n{plan}");
}

#[tokio::test]
async fn loads_retry_lookups_and_sequence_checks_probe_the_log_by_index_on_long_histories() {
    let app = TestApp::spawn().await;
    let ids: Vec<String> = (0..ACCOUNTS).map(|n| format!("plan-{n}")).collect();
    for id in &ids {
        app.open_account(id, "BTC").await;
    }
    for _ in 0..DEPOSITS_PER_ACCOUNT {
        join_all(ids.iter().map(|id| app.deposit(id, "1"))).await;
    }
    let sql = app.sql().await;
    sql.batch_execute("ANALYZE events").await.unwrap();
    let operation_ids: Vec<String> = sql
        .query(
            "SELECT metadata ->> 'operation_id' FROM events WHERE aggregate_type = 'account' \
             ORDER BY global_position DESC LIMIT $1",
            &[&(ACCOUNTS as i64)],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(operation_ids.len(), ACCOUNTS);
    let from_the_start = vec![0_i64; ACCOUNTS];

    let load = plan(&sql, &events_from_sql(), &[&"account", &ids, &from_the_start]).await;
    assert_reads_by_index("a cold load", &load);
    let sequences = plan(&sql, LAST_SEQUENCES_SQL, &[&"account", &ids]).await;
    assert_reads_by_index("the last-sequence check", &sequences);
    assert!(
        sequences.contains("Backward") && sequences.contains("Limit"),
        "the last sequence is one entry per aggregate, not its whole range:\n{sequences}"
    );
    let retries = plan(&sql, &find_operations_sql(), &[&operation_ids]).await;
    assert_reads_by_index("the retry lookup", &retries);
}
