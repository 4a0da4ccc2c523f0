//! Money invariants under load and under random operation sequences (docs/design.md 1, 2, 3, 6).

use crate::common::{assert_no_negative_user_balance, assert_read_models_equal_replay, asset_totals, TestApp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;

const BANK_ACCOUNTS: [&str; 4] = ["bank-a", "bank-b", "bank-c", "bank-d"];
const BANK_CLIENTS: usize = 16;
const TRANSFERS_PER_CLIENT: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_random_transfers_conserve_money_and_never_overdraw() {
    let app = TestApp::spawn().await;
    for account in BANK_ACCOUNTS {
        app.open_account(account, "BTC").await;
        app.deposit(account, "10").await;
    }
    let clients = (0..BANK_CLIENTS).map(|client| {
        let app = &app;
        async move {
            let mut rng = StdRng::seed_from_u64(client as u64);
            let mut outcomes = Vec::new();
            for transfer in 0..TRANSFERS_PER_CLIENT {
                let from = BANK_ACCOUNTS[rng.gen_range(0..BANK_ACCOUNTS.len())];
                let to = BANK_ACCOUNTS[rng.gen_range(0..BANK_ACCOUNTS.len())];
                let amount = Decimal::new(rng.gen_range(1..400_000_000), 8).to_string();
                let key = format!("bank-{client}-{transfer}");
                let reply =
                    app.post("/v1/transfers", json!({"from": from, "to": to, "amount": amount}), Some(&key)).await;
                outcomes.push((reply.status, reply.body["error"]["code"].clone()));
            }
            outcomes
        }
    });
    let outcomes: Vec<_> = futures::future::join_all(clients).await.into_iter().flatten().collect();
    let completed = outcomes.iter().filter(|(status, _)| *status == StatusCode::CREATED).count();
    for (status, code) in &outcomes {
        let expected_refusal =
            *status == StatusCode::UNPROCESSABLE_ENTITY && (code == "insufficient_funds" || code == "same_account");
        assert!(*status == StatusCode::CREATED || expected_refusal, "unexpected outcome {status} {code}");
    }
    assert!(completed > BANK_CLIENTS * TRANSFERS_PER_CLIENT / 4, "most transfers should go through, {completed} did");

    let sql = app.sql().await;
    let totals = asset_totals(&sql).await;
    assert_eq!(
        totals,
        vec![("BTC".to_string(), Decimal::ZERO, Decimal::ZERO)],
        "conservation per asset, nothing in transit"
    );
    let user_total: Decimal =
        sql.query_one("SELECT sum(amount) FROM balances WHERE NOT is_system", &[]).await.unwrap().get(0);
    assert_eq!(user_total, Decimal::new(40, 0), "transfers neither create nor destroy money");
    assert_no_negative_user_balance(&sql).await;
    crate::common::assert_sequences_contiguous(&sql).await;
    assert_read_models_equal_replay(&app.database).await;
}

/// Blnk-style: a seeded random sequence of valid and invalid operations. After every step
/// money is conserved, and a refused operation appended nothing and changed no balance.
#[tokio::test]
async fn random_operation_sequences_keep_every_invariant_after_every_step() {
    let app = TestApp::spawn().await;
    let accounts = [("f-btc-1", "BTC"), ("f-btc-2", "BTC"), ("f-btc-3", "BTC"), ("f-gdd-1", "GDD"), ("f-gdd-2", "GDD")];
    for (account, asset) in accounts {
        app.open_account(account, asset).await;
    }
    let sql = app.sql().await;
    let mut rng = StdRng::seed_from_u64(0x1ed6e2);
    let mut used_keys: Vec<(String, serde_json::Value, &str)> = Vec::new();
    for step in 0..150 {
        let (account, _) = accounts[rng.gen_range(0..accounts.len())];
        let (other, _) = accounts[rng.gen_range(0..accounts.len())];
        let amount = match rng.gen_range(0..10) {
            0 => "0.000000001".to_string(),
            1 => "-5".to_string(),
            _ => Decimal::new(rng.gen_range(1..50_000), 4).to_string(),
        };
        let key = format!("fuzz-{step}");
        let (path, body) = match rng.gen_range(0..5) {
            0 => ("/v1/deposits", json!({"account": account, "amount": amount})),
            1 => ("/v1/withdrawals", json!({"account": account, "amount": amount})),
            _ => ("/v1/transfers", json!({"from": account, "to": other, "amount": amount})),
        };
        let (path, body, key) = if rng.gen_bool(0.1) && !used_keys.is_empty() {
            // Reuse an earlier key, with its own body (a retry) or with this body (misuse).
            let (old_key, old_body, old_path) = used_keys[rng.gen_range(0..used_keys.len())].clone();
            if rng.gen_bool(0.5) {
                (old_path, old_body, old_key)
            } else {
                (old_path, body, old_key)
            }
        } else {
            (path, body, key)
        };
        let before = snapshot(&sql).await;
        let reply = app.post(path, body.clone(), Some(&key)).await;
        let after = snapshot(&sql).await;
        if reply.status == StatusCode::CREATED {
            if !reply.replayed {
                used_keys.push((key, body, path));
            } else {
                assert_eq!(before, after, "step {step}: a replay changed something");
            }
        } else {
            assert!(reply.status.is_client_error(), "step {step}: {} {}", reply.status, reply.body);
            assert_eq!(before, after, "step {step}: refused {path} {body} changed something: {}", reply.body);
        }
        for (asset, total, in_transit) in asset_totals(&sql).await {
            assert_eq!(total, Decimal::ZERO, "step {step}: {asset} not conserved");
            assert_eq!(in_transit, Decimal::ZERO, "step {step}: {asset} left in transit");
        }
        assert_no_negative_user_balance(&sql).await;
    }
    assert_read_models_equal_replay(&app.database).await;
}

/// The number of events and every balance: what a refused command must leave untouched.
async fn snapshot(sql: &tokio_postgres::Client) -> (i64, Vec<(String, Decimal)>) {
    let events: i64 = sql.query_one("SELECT count(*) FROM events", &[]).await.unwrap().get(0);
    let balances = sql
        .query("SELECT account_id, amount FROM balances ORDER BY account_id", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    (events, balances)
}
