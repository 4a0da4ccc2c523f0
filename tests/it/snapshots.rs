//! Snapshots: after a restart an aggregate starts from its newest snapshot and applies only
//! the events after it; a snapshot the code cannot trust is passed over; the audit checks
//! every snapshot against the events and `ledger snapshots --rebuild` takes them again.

use futures::future::join_all;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;
use store::DatabaseTarget;

use crate::binary::run_cli;
use crate::common::{assert_read_models_equal_replay, eventually, TestApp};

/// Deposits of 1 each: past two snapshot intervals (an account's first event is its opening).
const DEPOSITS: usize = 230;
/// Deposits sent at once, so they share batches as real traffic would.
const CONCURRENT_DEPOSITS: usize = 10;

async fn account_with_history(app: &TestApp, id: &str) {
    app.open_account(id, "BTC").await;
    for _ in 0..DEPOSITS / CONCURRENT_DEPOSITS {
        join_all((0..CONCURRENT_DEPOSITS).map(|_| app.deposit(id, "1"))).await;
    }
}

/// The sequence of `id`'s account snapshot, 0 if it has none.
async fn snapshot_sequence(sql: &tokio_postgres::Client, id: &str) -> i64 {
    sql.query_opt(
        "SELECT sequence FROM aggregate_snapshots WHERE aggregate_type = 'account' AND aggregate_id = $1",
        &[&id],
    )
    .await
    .unwrap()
    .map_or(0, |row| row.get(0))
}

/// A server over `id`'s history whose account snapshot is at least at sequence 200, stopped.
async fn history_with_snapshot(id: &str) -> DatabaseTarget {
    let app = TestApp::spawn().await;
    account_with_history(&app, id).await;
    let sql = app.sql().await;
    eventually(10, "the committer saves a snapshot at sequence 200 or later", || async {
        snapshot_sequence(&sql, id).await >= 200
    })
    .await;
    let database = app.database.clone();
    app.stop().await;
    database
}

/// Adds 1000 to the balance a snapshot holds.
const ADD_1000: &str =
    "state = jsonb_set(state, '{open,balance}', to_jsonb(((state -> 'open' ->> 'balance')::numeric + 1000)::text))";

/// Changes the account snapshot of `id` by `set` (an UPDATE's SET list).
async fn doctor_snapshot(sql: &tokio_postgres::Client, id: &str, set: &str) {
    let changed = sql
        .execute(
            &format!("UPDATE aggregate_snapshots SET {set} WHERE aggregate_type = 'account' AND aggregate_id = $1"),
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(changed, 1);
}

async fn withdraw(app: &TestApp, account: &str, amount: &str) -> StatusCode {
    let key = uuid::Uuid::new_v4().to_string();
    app.post("/v1/withdrawals", json!({"account": account, "amount": amount}), Some(&key)).await.status
}

#[tokio::test]
async fn after_a_restart_an_account_decides_from_its_snapshot_exactly_as_from_its_whole_history() {
    let database = history_with_snapshot("snap-honest").await;
    let app = TestApp::spawn_on(database).await;
    assert_eq!(withdraw(&app, "snap-honest", "0.00000001").await, StatusCode::CREATED);
    assert_eq!(
        withdraw(&app, "snap-honest", "230").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "one unit short of the balance"
    );
    assert_eq!(withdraw(&app, "snap-honest", "229.99999999").await, StatusCode::CREATED);
    assert_eq!(app.balance("snap-honest").await.parse::<Decimal>().unwrap(), Decimal::ZERO);
    let database = app.database.clone();
    app.stop().await;
    assert_read_models_equal_replay(&database).await;
    let url = database.url();
    let (ok, output) = run_cli(&["snapshots"], &[("DATABASE_URL", url.as_str())]);
    assert!(ok, "{output}");
    assert!(output.contains("0 bad"), "{output}");
}

#[tokio::test]
async fn a_doctored_snapshot_decides_the_next_command_and_the_audit_names_it_until_a_rebuild() {
    let database = history_with_snapshot("snap-doctored").await;
    let sql = crate::common::connect(&database).await;
    doctor_snapshot(&sql, "snap-doctored", ADD_1000).await;
    let url = database.url();
    let env = [("DATABASE_URL", url.as_str())];
    let (ok, output) = run_cli(&["snapshots"], &env);
    assert!(!ok, "{output}");
    assert!(output.contains("BAD account snap-doctored"), "{output}");

    // The load starts from the snapshot: the money it invented can leave. This is what the
    // audit is there to catch.
    let app = TestApp::spawn_on(database.clone()).await;
    assert_eq!(withdraw(&app, "snap-doctored", "1000").await, StatusCode::CREATED);
    app.stop().await;
    let (ok, output) = run_cli(&["audit"], &env);
    assert!(!ok, "{output}");
    assert!(output.contains("snapshots") && output.contains("FAILED: 1 of"), "{output}");
    assert!(output.contains("snap-doctored"), "{output}");

    let (ok, output) = run_cli(&["snapshots", "--rebuild"], &env);
    assert!(ok, "{output}");
    let (ok, output) = run_cli(&["snapshots"], &env);
    assert!(ok, "after a rebuild every snapshot equals its events: {output}");
    // The fold cannot take 1000 from 230: the account is marked inconsistent and refuses
    // every command from now on, instead of deciding on wrong numbers.
    let row = sql
        .query_one(
            "SELECT state -> 'open' ->> 'balance', (state -> 'open' ->> 'inconsistent')::boolean \
             FROM aggregate_snapshots WHERE aggregate_id = 'snap-doctored'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0).parse::<Decimal>().unwrap(), Decimal::new(230, 0));
    assert!(row.get::<_, bool>(1));
    let app = TestApp::spawn_on(database).await;
    let key = uuid::Uuid::new_v4().to_string();
    let refused = app.post("/v1/withdrawals", json!({"account": "snap-doctored", "amount": "1"}), Some(&key)).await;
    assert_eq!(refused.body["error"]["code"], "account_inconsistent", "{}", refused.body);
    app.stop().await;
}

#[tokio::test]
async fn a_snapshot_at_another_state_version_past_the_log_or_unreadable_is_passed_over() {
    let database = history_with_snapshot("snap-passed").await;
    let sql = crate::common::connect(&database).await;
    let untrusted = [
        ("at another state version", format!("{ADD_1000}, state_version = state_version + 1")),
        ("past the end of the log", format!("{ADD_1000}, sequence = 100000")),
        ("unreadable as an account", "state = '[1, 2]'".to_string()),
    ];
    for (why, doctoring) in untrusted {
        doctor_snapshot(&sql, "snap-passed", &doctoring).await;
        let app = TestApp::spawn_on(database.clone()).await;
        assert_eq!(
            withdraw(&app, "snap-passed", "230.00000001").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a snapshot {why} is not used"
        );
        // The load folded the whole history, so the committer takes the snapshot again.
        eventually(10, &format!("a snapshot {why} is taken again"), || async {
            let row = sql
                .query_one(
                    "SELECT sequence, state_version, state -> 'open' ->> 'balance' FROM aggregate_snapshots \
                     WHERE aggregate_id = 'snap-passed'",
                    &[],
                )
                .await
                .unwrap();
            let balance = row.get::<_, Option<String>>(2).and_then(|balance| balance.parse::<Decimal>().ok());
            (row.get::<_, i64>(0), row.get::<_, i32>(1), balance)
                == (DEPOSITS as i64 + 1, 1, Some(Decimal::new(230, 0)))
        })
        .await;
        app.stop().await;
    }
    let url = database.url();
    let (ok, output) = run_cli(&["snapshots"], &[("DATABASE_URL", url.as_str())]);
    assert!(ok, "{output}");
}

#[tokio::test]
async fn a_load_for_another_decision_starts_from_the_snapshot_too() {
    use domain::user::{User, UserCommand};
    use store::Operation;

    let app = TestApp::spawn().await;
    let bus = app.service().state.ledger.bus.clone();
    let register = UserCommand::Register {
        user_id: "snap-user".into(),
        email: "snap@example.com".into(),
        username: "snap".into(),
        first_name: None,
        last_name: None,
        password_hash: "$argon2id$unused".into(),
        role: None,
    };
    bus.execute("snap-user", register, &Operation::fresh()).await.unwrap();
    for index in 0..120 {
        let command = UserCommand::SetDisabled { disabled: index % 2 == 0 };
        bus.execute("snap-user", command, &Operation::fresh()).await.unwrap();
    }
    let sql = app.sql().await;
    eventually(10, "the user's snapshot is saved", || async {
        sql.query_opt(
            "SELECT 1 FROM aggregate_snapshots WHERE aggregate_type = 'user' AND aggregate_id = 'snap-user'",
            &[],
        )
        .await
        .unwrap()
        .is_some()
    })
    .await;
    let database = app.database.clone();
    app.stop().await;
    sql.batch_execute(
        "UPDATE aggregate_snapshots SET state = jsonb_set(state, '{registered,email}', '\"doctored@example.com\"') \
         WHERE aggregate_type = 'user' AND aggregate_id = 'snap-user'",
    )
    .await
    .unwrap();

    let app = TestApp::spawn_on(database).await;
    let user = app.service().state.ledger.bus.load::<User>("snap-user").await.unwrap();
    assert_eq!(user.registered().unwrap().email, "doctored@example.com", "the load read the snapshot");
    app.stop().await;
}
