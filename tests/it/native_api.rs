//! The native API over real HTTP against a real PostgreSQL.

use crate::common::TestApp;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn an_opened_account_starts_empty_at_its_asset_scale() {
    let app = TestApp::spawn().await;
    let reply = app
        .post("/v1/accounts", json!({"id": "alice", "asset": "BTC", "owner": "u1", "purpose": "onchain"}), None)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(
        reply.body,
        json!({"id": "alice", "asset": "BTC", "owner": "u1", "purpose": "onchain",
               "balance": "0.00000000", "locked": "0.00000000", "available": "0.00000000"})
    );
    let shown = app.get("/v1/accounts/alice").await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.body, reply.body, "a read right after the write reflects it");
}

#[tokio::test]
async fn opening_an_existing_account_is_a_conflict() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    let reply = app.post("/v1/accounts", json!({"id": "alice", "asset": "BTC"}), None).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.body["error"]["code"], "account_exists");
}

#[tokio::test]
async fn an_account_of_an_unknown_asset_or_a_reserved_id_is_refused() {
    let app = TestApp::spawn().await;
    let unknown = app.post("/v1/accounts", json!({"id": "alice", "asset": "DOGE"}), None).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.body["error"]["code"], "unknown_asset");
    let reserved = app.post("/v1/accounts", json!({"id": "world:BTC", "asset": "BTC"}), None).await;
    assert_eq!(reserved.status, StatusCode::BAD_REQUEST);
    assert_eq!(reserved.body["error"]["code"], "invalid_request");
}

#[tokio::test]
async fn an_unknown_account_is_not_found() {
    let app = TestApp::spawn().await;
    let reply = app.get("/v1/accounts/nobody").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body["error"]["code"], "not_found");
    let deposit = app.post("/v1/deposits", json!({"account": "nobody", "amount": "1"}), Some("k")).await;
    assert_eq!(deposit.status, StatusCode::NOT_FOUND);
    assert_eq!(deposit.body["error"]["code"], "account_not_found");
}

#[tokio::test]
async fn requests_without_the_admin_key_are_unauthorized() {
    let app = TestApp::spawn().await;
    let response = app.http.get(format!("{}/v1/accounts/alice", app.base_url)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let wrong = app.http.get(format!("{}/v1/accounts/alice", app.base_url)).bearer_auth("guess").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn a_deposit_credits_the_account_and_debits_the_world() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    let reply =
        app.post("/v1/deposits", json!({"account": "alice", "amount": "1.5", "reference": "txid-1"}), Some("d1")).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body["amount"], "1.50000000");
    assert_eq!(reply.body["reference"], "txid-1");
    assert_eq!(app.balance("alice").await, "1.50000000");
    assert_eq!(app.balance("world:BTC").await, "-1.50000000");
}

#[tokio::test]
async fn a_withdrawal_beyond_the_balance_is_refused_and_moves_nothing() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "GDD").await;
    app.deposit("alice", "10").await;
    let reply = app.post("/v1/withdrawals", json!({"account": "alice", "amount": "10.0001"}), Some("w1")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["error"]["code"], "insufficient_funds");
    assert_eq!(app.balance("alice").await, "10.0000");
    let ok = app.post("/v1/withdrawals", json!({"account": "alice", "amount": "10"}), Some("w2")).await;
    assert_eq!(ok.status, StatusCode::CREATED);
    assert_eq!(app.balance("alice").await, "0.0000");
    assert_eq!(app.balance("world:GDD").await, "0.0000");
}

#[tokio::test]
async fn a_transfer_moves_money_between_accounts_and_leaves_nothing_in_transit() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "JOY").await;
    app.open_account("bob", "JOY").await;
    app.deposit("alice", "2").await;
    let reply = app
        .post("/v1/transfers", json!({"from": "alice", "to": "bob", "amount": "0.75", "memo": "lunch"}), Some("t1"))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["status"], "completed");
    assert_eq!(reply.body["amount"], "0.750000000000000000");
    assert_eq!(app.balance("alice").await, "1.250000000000000000");
    assert_eq!(app.balance("bob").await, "0.750000000000000000");
    assert_eq!(app.balance("transit:JOY").await, "0.000000000000000000");
}

#[tokio::test]
async fn a_transfer_between_different_assets_is_refused() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    app.open_account("bob", "GDD").await;
    app.deposit("alice", "1").await;
    let reply = app.post("/v1/transfers", json!({"from": "alice", "to": "bob", "amount": "1"}), Some("t1")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["error"]["code"], "asset_mismatch");
    assert_eq!(app.balance("alice").await, "1.00000000");
}

#[tokio::test]
async fn a_transfer_beyond_the_balance_is_refused() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    app.open_account("bob", "BTC").await;
    app.deposit("alice", "1").await;
    let reply =
        app.post("/v1/transfers", json!({"from": "alice", "to": "bob", "amount": "1.00000001"}), Some("t1")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["error"]["code"], "insufficient_funds");
    assert_eq!(app.balance("bob").await, "0.00000000");
}

#[tokio::test]
async fn a_transfer_to_a_missing_account_or_to_itself_is_refused() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    app.deposit("alice", "1").await;
    let missing = app.post("/v1/transfers", json!({"from": "alice", "to": "ghost", "amount": "1"}), Some("t1")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let to_self = app.post("/v1/transfers", json!({"from": "alice", "to": "alice", "amount": "1"}), Some("t2")).await;
    assert_eq!(to_self.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(to_self.body["error"]["code"], "same_account");
}

#[tokio::test]
async fn bad_amounts_get_a_clear_error_and_move_nothing() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    let malformed =
        ["-1", "0", "abc", "1e3", "", " 1", ".5", "5.", "1..2"].map(|amount| (amount, StatusCode::BAD_REQUEST));
    // Well-formed, but past what a BTC account holds: the asset refuses them.
    let unrepresentable =
        ["0.000000001", "99999999999999999999999999999999"].map(|amount| (amount, StatusCode::UNPROCESSABLE_ENTITY));
    for (index, (amount, status)) in malformed.into_iter().chain(unrepresentable).enumerate() {
        let reply =
            app.post("/v1/deposits", json!({"account": "alice", "amount": amount}), Some(&format!("k{index}"))).await;
        assert_eq!(reply.status, status, "amount {amount:?}: {}", reply.body);
        assert_eq!(reply.body["error"]["code"], "invalid_amount", "amount {amount:?}");
    }
    let number = app.post("/v1/deposits", json!({"account": "alice", "amount": 1}), Some("num")).await;
    assert_eq!(number.status, StatusCode::BAD_REQUEST);
    assert_eq!(number.body["error"]["code"], "invalid_json");
    assert_eq!(app.balance("alice").await, "0.00000000");
}

#[tokio::test]
async fn malformed_json_gets_the_native_error_format() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .post(format!("{}/v1/deposits", app.base_url))
        .bearer_auth(crate::common::ADMIN_KEY)
        .header("content-type", "application/json")
        .header("Idempotency-Key", "x")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");
}

#[tokio::test]
async fn a_retry_with_the_same_key_and_body_replays_the_original_and_appends_nothing() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    app.open_account("bob", "BTC").await;
    let first = app.post("/v1/deposits", json!({"account": "alice", "amount": "3"}), Some("dep-1")).await;
    let again = app.post("/v1/deposits", json!({"account": "alice", "amount": "3"}), Some("dep-1")).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert!(again.replayed && !first.replayed);
    assert_eq!(again.body, first.body);
    assert_eq!(app.balance("alice").await, "3.00000000");

    let transfer = json!({"from": "alice", "to": "bob", "amount": "1"});
    let sent = app.post("/v1/transfers", transfer.clone(), Some("tr-1")).await;
    let resent = app.post("/v1/transfers", transfer, Some("tr-1")).await;
    assert!(resent.replayed);
    assert_eq!(resent.body, sent.body);
    assert_eq!(app.balance("bob").await, "1.00000000");
    let events: i64 = app
        .sql()
        .await
        .query_one("SELECT count(*) FROM events WHERE aggregate_type = 'account'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(events, 5, "two openings, one deposit, one debit, one credit");
}

#[tokio::test]
async fn a_retry_that_would_now_be_refused_still_replays_the_original_success() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    app.open_account("bob", "BTC").await;
    app.deposit("alice", "2").await;
    let transfer = json!({"from": "alice", "to": "bob", "amount": "2"});
    let sent = app.post("/v1/transfers", transfer.clone(), Some("all-of-it")).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    // Decided again, the retry would overdraw alice; it is the same operation, so it is
    // answered with its first result, and a different body under the key is still refused.
    let resent = app.post("/v1/transfers", transfer, Some("all-of-it")).await;
    assert_eq!(resent.status, StatusCode::CREATED, "{}", resent.body);
    assert!(resent.replayed);
    assert_eq!(resent.body, sent.body);
    let changed =
        app.post("/v1/transfers", json!({"from": "alice", "to": "bob", "amount": "3"}), Some("all-of-it")).await;
    assert_eq!(changed.status, StatusCode::CONFLICT, "{}", changed.body);
    assert_eq!(changed.body["error"]["code"], "idempotency_key_reused");
    assert_eq!(app.balance("bob").await, "2.00000000");
}

#[tokio::test]
async fn the_same_key_with_a_different_body_is_rejected() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    app.post("/v1/deposits", json!({"account": "alice", "amount": "3"}), Some("dep-1")).await;
    let reused = app.post("/v1/deposits", json!({"account": "alice", "amount": "4"}), Some("dep-1")).await;
    assert_eq!(reused.status, StatusCode::CONFLICT);
    assert_eq!(reused.body["error"]["code"], "idempotency_key_reused");
    assert_eq!(app.balance("alice").await, "3.00000000");
}

#[tokio::test]
async fn concurrent_retries_of_one_key_append_exactly_once() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    let attempts = (0..16).map(|_| app.post("/v1/deposits", json!({"account": "alice", "amount": "1"}), Some("same")));
    let replies = futures::future::join_all(attempts).await;
    assert!(replies.iter().all(|reply| reply.status == StatusCode::CREATED), "every retry succeeds");
    assert_eq!(replies.iter().filter(|reply| !reply.replayed).count(), 1, "exactly one original");
    assert_eq!(app.balance("alice").await, "1.00000000");
}

#[tokio::test]
async fn money_moving_requests_need_an_idempotency_key() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    let reply = app.post("/v1/deposits", json!({"account": "alice", "amount": "1"}), None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["error"]["code"], "idempotency_key_required");
}

#[tokio::test]
async fn accounts_can_be_listed_by_owner_and_asset_page_by_page() {
    let app = TestApp::spawn().await;
    for (id, asset, owner) in [("a1", "BTC", "u1"), ("a2", "BTC", "u1"), ("a3", "GDD", "u1"), ("a4", "BTC", "u2")] {
        let reply = app.post("/v1/accounts", json!({"id": id, "asset": asset, "owner": owner}), None).await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let page = app.get("/v1/accounts?owner=u1&asset=BTC&limit=1").await;
    assert_eq!(page.body["accounts"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["accounts"][0]["id"], "a1");
    assert_eq!(page.body["next"], "a1");
    let next = app.get("/v1/accounts?owner=u1&asset=BTC&limit=1&after=a1").await;
    assert_eq!(next.body["accounts"][0]["id"], "a2");
    let all = app.get("/v1/accounts?owner=u1").await;
    assert_eq!(all.body["accounts"].as_array().unwrap().len(), 3);
    assert_eq!(all.body["next"], serde_json::Value::Null);
    let too_many = app.get("/v1/accounts?limit=100000").await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_event_feed_pages_through_the_log_in_commit_order() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    app.deposit("alice", "1").await;
    app.deposit("alice", "2").await;
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = app.get(&format!("/v1/events?after={after}&limit=2")).await;
        assert_eq!(page.status, StatusCode::OK);
        let events = page.body["events"].as_array().unwrap().clone();
        if events.is_empty() {
            break;
        }
        after = page.body["next"].as_i64().unwrap();
        seen.extend(events);
    }
    let types: Vec<&str> = seen.iter().map(|event| event["event_type"].as_str().unwrap()).collect();
    let seeded =
        ["AssetDefined", "AssetDefined", "AssetDefined", "AssetDefined", "AssetListed", "AssetListed", "GroupCreated"];
    let written = ["AccountOpened", "FundsDeposited", "FundsDeposited"];
    assert_eq!(types, [seeded.as_slice(), written.as_slice()].concat());
    assert_eq!(seen[9]["payload"]["FundsDeposited"]["amount"], "2.00000000");
    let unknown = app.get("/v1/events?after=999999").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn health_reports_the_database_and_every_projector() {
    let app = TestApp::spawn().await;
    let reply = app.get("/health").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["database"], true);
    assert_eq!(reply.body["projectors"]["balances"]["ready"], true);
    assert_eq!(reply.body["projectors"]["transfer_completion"]["ready"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_deposits_to_one_account_all_succeed_without_conflicts_reaching_clients() {
    let app = TestApp::spawn().await;
    app.open_account("hot", "BTC").await;
    let keys: Vec<String> = (0..32).map(|n| format!("hot-{n}")).collect();
    let deposits = keys.iter().map(|key| app.post("/v1/deposits", json!({"account": "hot", "amount": "1"}), Some(key)));
    let replies = futures::future::join_all(deposits).await;
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    assert_eq!(app.balance("hot").await, "32.00000000");
}

#[tokio::test]
async fn an_oversized_body_or_an_unknown_route_gets_the_native_error_format() {
    let app = TestApp::spawn().await;
    let huge = json!({"account": "alice", "amount": "1", "reference": "x".repeat(100_000)});
    let reply = app.post("/v1/deposits", huge, Some("big")).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.body["error"]["code"], "payload_too_large");
    let unknown = app.get("/v1/nothing/here").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["error"]["code"], "not_found");
}

#[tokio::test]
async fn new_assets_can_be_defined_once_with_a_fixed_scale() {
    let app = TestApp::spawn().await;
    let created = app.post("/v1/assets", json!({"code": "EURC", "scale": 2}), None).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let again = app.post("/v1/assets", json!({"code": "EURC", "scale": 2}), None).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert!(again.replayed, "defining it again with the same scale changes nothing");
    let changed = app.post("/v1/assets", json!({"code": "EURC", "scale": 6}), None).await;
    assert_eq!(changed.status, StatusCode::CONFLICT);
    assert_eq!(changed.body["error"]["code"], "asset_exists");
    let invalid = app.post("/v1/assets", json!({"code": "eur", "scale": 2}), None).await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    let too_precise = app.post("/v1/assets", json!({"code": "WIDE", "scale": 19}), None).await;
    assert_eq!(too_precise.status, StatusCode::BAD_REQUEST);

    app.open_account("euro", "EURC").await;
    app.deposit("euro", "12.5").await;
    assert_eq!(app.balance("euro").await, "12.50");
    let list = app.get("/v1/assets").await;
    let codes: Vec<&str> =
        list.body["assets"].as_array().unwrap().iter().map(|asset| asset["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["BTC", "EURC", "GDD", "JOY", "JUSD"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_database_share_the_projectors_and_both_read_their_writes() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(first.database.clone()).await;
    first.open_account("alice", "BTC").await;
    second.open_account("bob", "BTC").await;
    first.deposit("alice", "5").await;
    let transfer = second.post("/v1/transfers", json!({"from": "alice", "to": "bob", "amount": "2"}), Some("t")).await;
    assert_eq!(transfer.status, StatusCode::CREATED, "{}", transfer.body);
    assert_eq!(second.balance("bob").await, "2.00000000", "the server that wrote reads its write");
    assert_eq!(first.balance("alice").await, "3.00000000");
    let replay = first.post("/v1/transfers", json!({"from": "alice", "to": "bob", "amount": "2"}), Some("t")).await;
    assert!(replay.replayed, "an operation id is unique across servers");
    let leaders: i64 = first
        .sql()
        .await
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    // One projection pass for every read model, three process managers, the chain sealer.
    assert_eq!(leaders, 5, "each of the five event handlers runs once across both servers");
    crate::common::assert_read_models_equal_replay(&first.database).await;
}

#[tokio::test]
async fn an_account_balance_can_be_read_as_it_stood_at_a_position_or_a_time() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "GDD").await;
    app.open_account("bob", "GDD").await;
    let rfc3339 = || chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let before = rfc3339();
    let mut positions = Vec::new();
    for (n, amount) in ["1", "2", "3"].iter().enumerate() {
        let reply =
            app.post("/v1/deposits", json!({"account": "alice", "amount": amount}), Some(&format!("d{n}"))).await;
        positions.push(reply.body["position"].as_i64().unwrap());
    }
    let transfer = app.post("/v1/transfers", json!({"from": "alice", "to": "bob", "amount": "4"}), Some("t")).await;
    let transfer_position = transfer.body["position"].as_i64().unwrap();

    // The same cut computed independently, from the events themselves.
    let sql = app.sql().await;
    for position in positions.iter().copied().chain([transfer_position]) {
        let expected: rust_decimal::Decimal = sql
            .query_one(
                "SELECT coalesce(sum(CASE WHEN event_type = 'FundsDeposited' THEN (payload -> 'FundsDeposited' ->> 'amount')::numeric \
                                          ELSE -(payload -> 'TransferSent' ->> 'amount')::numeric END), 0) \
                 FROM events WHERE aggregate_id = 'alice' AND event_type IN ('FundsDeposited', 'TransferSent') \
                   AND (tx_id, global_position) <= ((SELECT tx_id FROM events WHERE global_position = $1), $1)",
                &[&position],
            )
            .await
            .unwrap()
            .get(0);
        let reply = app.get(&format!("/v1/accounts/alice?at={position}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            reply.body["balance"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap(),
            expected,
            "at {position}"
        );
    }
    assert_eq!(app.get(&format!("/v1/accounts/alice?at={}", positions[1])).await.body["balance"], "3.0000");
    assert_eq!(app.get(&format!("/v1/accounts/alice?at={before}")).await.body["balance"], "0.0000");
    assert_eq!(app.get(&format!("/v1/accounts/alice?at={}", rfc3339())).await.body["balance"], "2.0000");
    let garbage = app.get("/v1/accounts/alice?at=yesterday").await;
    assert_eq!((garbage.status, garbage.body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_at")));
    let unknown = app.get("/v1/accounts/alice?at=999999").await;
    assert_eq!(
        (unknown.status, unknown.body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_position"))
    );
}

#[tokio::test]
async fn metrics_count_commands_by_outcome_and_time_requests_appends_and_projectors() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    app.deposit("alice", "1").await;
    let refused = app.post("/v1/withdrawals", json!({"account": "alice", "amount": "5"}), Some("too-much")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);

    let anonymous = app.http.get(format!("{}/metrics", app.base_url)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let response =
        app.http.get(format!("{}/metrics", app.base_url)).bearer_auth(crate::common::ADMIN_KEY).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let value = |prefix: &str| -> f64 {
        text.lines()
            .find(|line| line.starts_with(prefix))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no sample {prefix} in:\n{text}"))
    };
    assert!(value(r#"ledger_commands_total{aggregate="account",command="Deposit",outcome="appended"}"#) >= 1.0);
    assert!(value(r#"ledger_commands_total{aggregate="account",command="Withdraw",outcome="rejected"}"#) >= 1.0);
    assert!(value(r#"ledger_http_requests_total{method="POST",route="/v1/withdrawals",status="422"}"#) >= 1.0);
    assert!(value(r#"ledger_http_request_duration_seconds_count{method="POST",route="/v1/deposits"}"#) >= 1.0);
    assert!(value(r#"ledger_event_append_duration_seconds_count{aggregate="account"}"#) >= 2.0);
    assert!(value(r#"ledger_projector_lag_events{projector="balances"}"#) >= 0.0);
    assert!(value(r#"ledger_projector_checkpoint_position{projector="balances"}"#) >= 1.0);
    assert!(value("ledger_event_log_head_position") >= 1.0);
}
