//! Clients that go away mid-request: a command either commits once or never starts, and no
//! connection is left inside a transaction.

use std::time::Duration;

use futures::future::join_all;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;

use crate::common::{
    assert_no_negative_user_balance, assert_read_models_equal_replay, asset_totals, eventually, TestApp, ADMIN_KEY,
};

const ACCOUNTS: [&str; 4] = ["gone-a", "gone-b", "gone-c", "gone-d"];
/// Clients at once, each sending this many transfers it abandons after a random wait.
const CLIENTS: usize = 16;
const TRANSFERS_PER_CLIENT: usize = 25;
/// The longest a client waits for an answer before it drops the request.
const MAX_PATIENCE_US: u64 = 4_000;

fn transfer_body(client: usize, n: usize) -> serde_json::Value {
    let from = ACCOUNTS[(client + n) % ACCOUNTS.len()];
    let to = ACCOUNTS[(client + n + 1) % ACCOUNTS.len()];
    json!({"from": from, "to": to, "amount": "0.01"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transfers_whose_clients_go_away_mid_request_commit_once_or_not_at_all() {
    let app = TestApp::spawn().await;
    for account in ACCOUNTS {
        app.open_account(account, "BTC").await;
        app.deposit(account, "100").await;
    }
    let impatient = |client: usize| {
        let base = app.base_url.clone();
        async move {
            let http = reqwest::Client::new();
            let mut random = rand::rngs::StdRng::seed_from_u64(client as u64);
            let mut answered = 0;
            for n in 0..TRANSFERS_PER_CLIENT {
                let patience = Duration::from_micros(random.gen_range(0..MAX_PATIENCE_US));
                let sent = http
                    .post(format!("{base}/v1/transfers"))
                    .bearer_auth(ADMIN_KEY)
                    .header("Idempotency-Key", format!("gone-{client}-{n}"))
                    .json(&transfer_body(client, n))
                    .timeout(patience)
                    .send()
                    .await;
                if let Ok(response) = sent {
                    assert_eq!(response.status(), StatusCode::CREATED, "an answered transfer succeeded");
                    answered += 1;
                }
            }
            answered
        }
    };
    let answered: usize = join_all((0..CLIENTS).map(impatient)).await.into_iter().sum();
    assert!(answered < CLIENTS * TRANSFERS_PER_CLIENT, "some clients went away before their answer");

    let sql = app.sql().await;
    eventually(10, "no connection of the ledger's database is left inside a transaction", || async {
        let open: i64 = sql
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND state IN ('idle in transaction', 'idle in transaction (aborted)')",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        open == 0
    })
    .await;
    let leaks = app.service().state.ledger.bus.transaction_leaks().count();
    assert_eq!(leaks, 0, "no pooled connection was handed out inside a transaction");

    // Each abandoned transfer either committed (its retry replays it) or never started
    // (its retry commits it now): afterwards every key names exactly one transfer.
    let mut transfer_ids = Vec::new();
    for client in 0..CLIENTS {
        for n in 0..TRANSFERS_PER_CLIENT {
            let key = format!("gone-{client}-{n}");
            let reply = app.post("/v1/transfers", transfer_body(client, n), Some(&key)).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{key}: {}", reply.body);
            transfer_ids.push(reply.body["id"].as_str().expect("transfer id").to_string());
        }
    }
    let keys = CLIENTS * TRANSFERS_PER_CLIENT;
    transfer_ids.sort_unstable();
    transfer_ids.dedup();
    assert_eq!(transfer_ids.len(), keys, "one transfer per key");
    let sent: i64 =
        sql.query_one("SELECT count(*) FROM events WHERE event_type = 'TransferSent'", &[]).await.unwrap().get(0);
    assert_eq!(sent, keys as i64, "no transfer was sent twice");
    let mut total = Decimal::ZERO;
    for account in ACCOUNTS {
        total += app.balance(account).await.parse::<Decimal>().unwrap();
    }
    assert_eq!(total, Decimal::new(400, 0), "money moved between the accounts only");
    for (asset, sum, _) in asset_totals(&sql).await {
        assert!(sum.is_zero(), "{asset} sums to {sum}");
    }
    assert_no_negative_user_balance(&sql).await;
    let database = app.database.clone();
    app.stop().await;
    assert_read_models_equal_replay(&database).await;
}
