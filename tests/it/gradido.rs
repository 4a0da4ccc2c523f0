//! The Gradido login-server dialect over HTTP: its exact answers and the transaction
//! lifecycle pending -> executing -> confirmed.

use crate::common::{eventually, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn call(app: &TestApp, endpoint: &str, body: Value) -> Value {
    let response = app.http.post(format!("{}/login_api/{endpoint}", app.base_url)).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "Gradido always answers 200");
    response.json().await.unwrap()
}

async fn user(app: &TestApp, name: &str, admin: bool) -> String {
    crate::common::register_user(app, name, admin).await
}

async fn session(app: &TestApp, name: &str) -> i64 {
    let reply = call(
        app,
        "unsecureLogin",
        json!({"email": format!("{name}@example.com"), "password": format!("{name}-password")}),
    )
    .await;
    assert_eq!(reply["state"], "success", "{reply}");
    reply["session_id"].as_i64().expect("an integer session id")
}

/// Opens and funds the user's GDD account through the native API.
async fn fund(app: &TestApp, user_id: &str, gdd: &str) {
    let account = format!("gdd:{user_id}");
    let reply = app
        .post("/v1/accounts", json!({"id": account, "asset": "GDD", "owner": user_id, "purpose": "gradido"}), None)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    app.deposit(&account, gdd).await;
}

async fn counts(app: &TestApp, session_id: i64) -> (i64, i64) {
    let reply = call(app, "login", json!({"session_id": session_id})).await;
    assert_eq!(reply["Transaction.pending"], reply["Transactions.pending"], "both spellings agree");
    (reply["Transaction.pending"].as_i64().unwrap(), reply["Transaction.executing"].as_i64().unwrap())
}

async fn balance_cents(app: &TestApp, session_id: i64) -> (i64, i64) {
    let reply = call(app, "getBalance", json!({"session_id": session_id})).await;
    (reply["balance"].as_i64().unwrap(), reply["available"].as_i64().unwrap())
}

fn transfer(session_id: i64, to: &str, cents: i64) -> Value {
    json!({"session_id": session_id, "transaction_type": "transfer", "amount": cents, "target_email": format!("{to}@example.com"), "memo": "thanks"})
}

#[tokio::test]
async fn login_returns_the_user_and_sessions_end_with_logout() {
    let app = TestApp::spawn().await;
    user(&app, "alice", false).await;
    let wrong = call(&app, "unsecureLogin", json!({"email": "alice@example.com", "password": "nope"})).await;
    assert_eq!(wrong, json!({"state": "error", "msg": "password incorrect"}));
    let unknown = call(&app, "unsecureLogin", json!({"email": "ghost@example.com", "password": "whatever1"})).await;
    assert_eq!(unknown, json!({"state": "error", "msg": "user with email not found", "details": "ghost@example.com"}));

    let session_id = session(&app, "alice").await;
    let reply = call(&app, "login", json!({"session_id": session_id})).await;
    assert_eq!(reply["state"], "success");
    assert_eq!(reply["clientIP"], "127.0.0.1");
    assert_eq!(reply["user"]["email"], "alice@example.com");
    assert_eq!(reply["user"]["first_name"], "alice");
    assert_eq!(reply["user"]["disabled"], false);
    assert_eq!(reply["user"]["public_hex"].as_str().unwrap().len(), 64, "an ed25519 public key in hex");
    assert_eq!((reply["Transaction.pending"].as_i64(), reply["Transaction.executing"].as_i64()), (Some(0), Some(0)));

    assert_eq!(call(&app, "logout", json!({"session_id": session_id})).await["state"], "success");
    assert_eq!(
        call(&app, "login", json!({"session_id": session_id})).await,
        json!({"state": "not found", "msg": "session not found"})
    );
    assert_eq!(
        call(&app, "logout", json!({"session_id": session_id})).await,
        json!({"state": "error", "msg": "session not found", "details": session_id.to_string()})
    );
    assert_eq!(
        call(&app, "login", json!({"session_id": 0})).await,
        json!({"state": "error", "msg": "empty session id"})
    );
    assert_eq!(call(&app, "login", json!({})).await, json!({"state": "error", "msg": "missing session_id"}));
}

#[tokio::test]
async fn a_session_unused_for_15_minutes_is_not_found() {
    let app = TestApp::spawn().await;
    user(&app, "alice", false).await;
    let session_id = session(&app, "alice").await;
    app.sql().await.execute("UPDATE sessions SET last_used_at = now() - interval '16 minutes'", &[]).await.unwrap();
    assert_eq!(
        call(&app, "login", json!({"session_id": session_id})).await,
        json!({"state": "not found", "msg": "session not found"})
    );
}

#[tokio::test]
async fn housekeeping_removes_sessions_long_expired_and_keeps_live_ones() {
    let app = TestApp::spawn().await;
    user(&app, "alice", false).await;
    let old = session(&app, "alice").await;
    let live = session(&app, "alice").await;
    let sql = app.sql().await;
    sql.execute("UPDATE sessions SET last_used_at = now() - interval '2 days' WHERE session_id = $1", &[&old])
        .await
        .unwrap();
    let removed = app::housekeeping::purge_expired(&app.service().state.ledger.reads).await.unwrap();
    assert_eq!(removed, 1);
    assert_eq!(call(&app, "login", json!({"session_id": live})).await["state"], "success");
}

#[tokio::test]
async fn create_transaction_answers_every_error_of_the_seed() {
    let app = TestApp::spawn().await;
    let bob = user(&app, "bob", false).await;
    user(&app, "alice", false).await;
    user(&app, "carol", false).await;
    let admin = user(&app, "admin", true).await;
    let alice_session = session(&app, "alice").await;
    let admin_session = session(&app, "admin").await;
    let _ = (bob, admin);

    let raw =
        app.http.post(format!("{}/login_api/createTransaction", app.base_url)).body("{not json").send().await.unwrap();
    let unparsable: Value = raw.json().await.unwrap();
    assert_eq!(unparsable, json!({"state": "error", "msg": "empty body"}), "the original read it as no body");
    assert_eq!(
        call(&app, "createTransaction", json!([1, 2])).await,
        json!({"state": "error", "msg": "parameter format unknown"})
    );
    assert_eq!(
        call(&app, "createTransaction", json!({"transaction_type": "transfer"})).await,
        json!({"state": "error", "msg": "session_id invalid"})
    );
    assert_eq!(
        call(&app, "createTransaction", json!({"session_id": 12345, "transaction_type": "transfer"})).await,
        json!({"state": "error", "msg": "session not found"})
    );
    assert_eq!(
        call(&app, "createTransaction", json!({"session_id": alice_session, "transaction_type": "gift"})).await,
        json!({"state": "error", "msg": "transaction_type unknown"})
    );
    assert_eq!(
        call(
            &app,
            "createTransaction",
            json!({"session_id": alice_session, "transaction_type": "groupMemberUpdate", "target_group": "nowhere"})
        )
        .await,
        json!({"state": "error", "msg": "target_group not found"})
    );
    assert_eq!(
        call(&app, "createTransaction", transfer(alice_session, "ghost", 100)).await,
        json!({"state": "not found", "msg": "receiver not found"})
    );

    let group =
        call(&app, "createGroup", json!({"session_id": admin_session, "alias": "gdd1", "name": "Community One"})).await;
    assert_eq!(group["state"], "success", "{group}");
    call(&app, "createGroup", json!({"session_id": admin_session, "alias": "gdd2", "name": "Community Two"})).await;
    let mut in_group = transfer(alice_session, "bob", 100);
    in_group["target_group"] = json!("gdd1");
    assert_eq!(
        call(&app, "createTransaction", in_group.clone()).await,
        json!({"state": "error", "msg": "receiver user hasn't group"})
    );
    let carol_session = session(&app, "carol").await;
    let joined = call(
        &app,
        "createTransaction",
        json!({"session_id": carol_session, "transaction_type": "groupMemberUpdate", "target_group": "gdd2"}),
    )
    .await;
    assert_eq!(joined, json!({"state": "success"}));
    let mut to_carol = transfer(alice_session, "carol", 100);
    to_carol["target_group"] = json!("gdd1");
    assert_eq!(
        call(&app, "createTransaction", to_carol).await,
        json!({"state": "error", "msg": "user not in group", "details": "receiver user isn't in target group"})
    );

    let creation = |cents: i64| {
        json!({"session_id": admin_session, "transaction_type": "creation", "amount": cents,
               "target_date": chrono::Utc::now().date_naive().to_string(), "target_username": "bob", "memo": "welcome"})
    };
    let invalid = json!({"state": "invalid parameter", "msg": "invalid amount", "details": "GDD amount in GDD cent ]0,10000000]"});
    assert_eq!(call(&app, "createTransaction", creation(0)).await, invalid);
    assert_eq!(call(&app, "createTransaction", creation(10_000_001)).await, invalid);
    let created = call(&app, "createTransaction", creation(10_000)).await;
    assert_eq!(created["state"], "success", "{created}");
    assert!(created["transaction_id"].is_string());
}

#[tokio::test]
async fn a_transfer_goes_from_pending_to_executing_to_confirmed_and_only_then_moves_money() {
    let app = TestApp::spawn().await;
    let alice = user(&app, "alice", false).await;
    user(&app, "bob", false).await;
    fund(&app, &alice, "100").await;
    let alice_session = session(&app, "alice").await;
    let bob_session = session(&app, "bob").await;

    let created = call(&app, "createTransaction", transfer(alice_session, "bob", 100_000)).await;
    assert_eq!(created["state"], "success", "{created}");
    let id = created["transaction_id"].as_str().unwrap().to_string();
    assert_eq!(counts(&app, alice_session).await, (1, 0));
    assert_eq!(balance_cents(&app, alice_session).await, (1_000_000, 900_000), "the amount is reserved, not moved");
    assert_eq!(balance_cents(&app, bob_session).await, (0, 0));
    let tasks = call(&app, "getRunningUserTasks", json!({"session_id": alice_session})).await;
    assert_eq!(tasks["tasks"][0]["transaction_id"], id.as_str());
    assert_eq!(tasks["tasks"][0]["amount"], 100_000);

    let bob_signs = call(&app, "signTransaction", json!({"session_id": bob_session, "transaction_id": id})).await;
    assert_eq!(bob_signs["state"], "error", "only the initiator signs");
    let signed = call(&app, "signTransaction", json!({"session_id": alice_session, "transaction_id": id})).await;
    assert_eq!(signed["state"], "success", "{signed}");
    assert_eq!(counts(&app, alice_session).await, (0, 1));

    eventually(10, "the network confirms", || async { counts(&app, alice_session).await == (0, 0) }).await;
    assert_eq!(balance_cents(&app, alice_session).await, (900_000, 900_000));
    assert_eq!(balance_cents(&app, bob_session).await, (100_000, 100_000));
    let history = call(&app, "listTransactions", json!({"session_id": bob_session})).await;
    assert_eq!(history["transactions"][0]["status"], "confirmed");
    crate::common::assert_read_models_equal_replay(&app.database).await;
}

#[tokio::test]
async fn a_cancelled_transfer_releases_its_reservation_and_an_overdraft_is_refused() {
    let app = TestApp::spawn().await;
    let alice = user(&app, "alice", false).await;
    user(&app, "bob", false).await;
    fund(&app, &alice, "10").await;
    let alice_session = session(&app, "alice").await;

    let too_much = call(&app, "createTransaction", transfer(alice_session, "bob", 100_001)).await;
    assert_eq!(
        (too_much["state"].as_str(), too_much["msg"].as_str()),
        (Some("invalid parameter"), Some("invalid amount"))
    );
    let created = call(&app, "createTransaction", transfer(alice_session, "bob", 60_000)).await;
    let id = created["transaction_id"].as_str().unwrap();
    let second = call(&app, "createTransaction", transfer(alice_session, "bob", 50_000)).await;
    assert_eq!(second["msg"], "invalid amount", "a pending transfer's reservation counts: {second}");
    let cancelled = call(&app, "cancelTransaction", json!({"session_id": alice_session, "transaction_id": id})).await;
    assert_eq!(cancelled["state"], "success", "{cancelled}");
    assert_eq!(balance_cents(&app, alice_session).await, (100_000, 100_000));
    assert_eq!(counts(&app, alice_session).await, (0, 0));
    let sign_cancelled =
        call(&app, "signTransaction", json!({"session_id": alice_session, "transaction_id": id})).await;
    assert_eq!(sign_cancelled["state"], "error");
}

#[tokio::test]
async fn the_same_transaction_within_100_seconds_is_refused_as_a_duplicate() {
    let app = TestApp::spawn().await;
    let alice = user(&app, "alice", false).await;
    user(&app, "bob", false).await;
    fund(&app, &alice, "10").await;
    let alice_session = session(&app, "alice").await;
    assert_eq!(call(&app, "createTransaction", transfer(alice_session, "bob", 1_000)).await["state"], "success");
    let again = call(&app, "createTransaction", transfer(alice_session, "bob", 1_000)).await;
    assert_eq!(again, json!({"state": "error", "msg": "transaction are the same as the last (within 100 seconds)"}));
    assert_eq!(call(&app, "createTransaction", transfer(alice_session, "bob", 1_001)).await["state"], "success");
    assert_eq!(balance_cents(&app, alice_session).await, (100_000, 97_999), "the duplicate reserved nothing");

    let refused = call(&app, "createTransaction", transfer(alice_session, "bob", 200_000)).await;
    assert_eq!(refused["msg"], "invalid amount");
    app.deposit(&format!("gdd:{alice}"), "20").await;
    let retried = call(&app, "createTransaction", transfer(alice_session, "bob", 200_000)).await;
    assert_eq!(retried["state"], "success", "a refused transfer does not count as a duplicate: {retried}");
}

const DUPLICATE: &str = "transaction are the same as the last (within 100 seconds)";

async fn event_count(app: &TestApp) -> i64 {
    app.sql().await.query_one("SELECT count(*) FROM events", &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn a_refused_create_transaction_appends_no_event() {
    let app = TestApp::spawn().await;
    let alice = user(&app, "alice", false).await;
    user(&app, "bob", false).await;
    user(&app, "admin", true).await;
    fund(&app, &alice, "10").await;
    let alice_session = session(&app, "alice").await;
    let admin_session = session(&app, "admin").await;
    let first = call(&app, "createTransaction", transfer(alice_session, "bob", 1_000)).await;
    assert_eq!(first["state"], "success", "{first}");
    let today = chrono::Utc::now().date_naive().to_string();
    let creation = |cents: i64| {
        json!({"session_id": admin_session, "transaction_type": "creation", "amount": cents, "target_date": today,
               "target_email": "bob@example.com", "memo": "monthly creation"})
    };
    let created = call(&app, "createTransaction", creation(10_000)).await;
    assert_eq!(created["state"], "success", "{created}");

    let refusals = [
        ("a duplicate transfer", transfer(alice_session, "bob", 1_000), DUPLICATE),
        ("an overdraft", transfer(alice_session, "bob", 200_000), "invalid amount"),
        ("a duplicate creation", creation(10_000), DUPLICATE),
        ("a creation over the monthly limit", creation(9_999_999), "invalid amount"),
    ];
    for (what, request, msg) in refusals {
        let before = event_count(&app).await;
        let refused = call(&app, "createTransaction", request).await;
        assert_ne!(refused["state"], "success", "{what} is refused: {refused}");
        assert_eq!(refused["msg"], msg, "{what}: {refused}");
        assert_eq!(event_count(&app).await, before, "{what} appended an event");
    }
    assert_eq!(balance_cents(&app, alice_session).await, (100_000, 99_000), "only the first transfer holds money");
}

#[tokio::test]
async fn creations_are_for_admins_within_three_months_and_1000_gdd_per_user_and_month() {
    let app = TestApp::spawn().await;
    user(&app, "admin", true).await;
    user(&app, "bob", false).await;
    let admin_session = session(&app, "admin").await;
    let bob_session = session(&app, "bob").await;
    let today = chrono::Utc::now().date_naive();
    let creation = |session_id: i64, cents: i64, date: chrono::NaiveDate| {
        json!({"session_id": session_id, "transaction_type": "creation", "amount": cents, "target_date": date.to_string(),
               "target_email": "bob@example.com", "memo": format!("creation {cents} {date}")})
    };
    let not_admin = call(&app, "createTransaction", creation(bob_session, 10_000, today)).await;
    assert_eq!(not_admin["state"], "error");
    let month_start = chrono::Datelike::with_day(&today, 1).unwrap();
    let three_months_ago = month_start.checked_sub_months(chrono::Months::new(3)).unwrap();
    let too_old = call(&app, "createTransaction", creation(admin_session, 10_000, three_months_ago)).await;
    assert_eq!(too_old["msg"], "invalid target_date");
    let next_month = month_start.checked_add_months(chrono::Months::new(1)).unwrap();
    assert_eq!(
        call(&app, "createTransaction", creation(admin_session, 10_000, next_month)).await["msg"],
        "invalid target_date"
    );
    let two_months_ago = month_start.checked_sub_months(chrono::Months::new(2)).unwrap();
    assert_eq!(
        call(&app, "createTransaction", creation(admin_session, 10_000, two_months_ago)).await["state"],
        "success"
    );

    let first = call(&app, "createTransaction", creation(admin_session, 6_000_000, today)).await;
    assert_eq!(first["state"], "success", "{first}");
    let rest = call(&app, "createTransaction", creation(admin_session, 4_000_000, month_start)).await;
    assert_eq!(rest["state"], "success", "exactly 1000 GDD this month: {rest}");
    let over = call(&app, "createTransaction", creation(admin_session, 1, today)).await;
    assert_eq!(
        (over["state"].as_str(), over["msg"].as_str()),
        (Some("invalid parameter"), Some("invalid amount")),
        "pending creations count: {over}"
    );

    let id = first["transaction_id"].as_str().unwrap();
    assert_eq!(
        call(&app, "signTransaction", json!({"session_id": admin_session, "transaction_id": id})).await["state"],
        "success"
    );
    eventually(10, "the creation is confirmed", || async { balance_cents(&app, bob_session).await.0 == 6_000_000 })
        .await;
    assert_eq!(app.balance("issuance:GDD").await, "-600.0000");
    let cancel =
        call(&app, "cancelTransaction", json!({"session_id": admin_session, "transaction_id": rest["transaction_id"]}))
            .await;
    assert_eq!(cancel["state"], "success");
    // Not 4,000,000 again: on the first of a month `today` is `month_start`, and the same
    // creation within 100 s would be refused as a duplicate.
    let again = call(&app, "createTransaction", creation(admin_session, 3_999_999, today)).await;
    assert_eq!(again["state"], "success", "a cancelled creation gives its budget back: {again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_transfers_from_one_user_never_overdraw_it() {
    let app = TestApp::spawn().await;
    let alice = user(&app, "alice", false).await;
    for name in ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"] {
        user(&app, name, false).await;
    }
    fund(&app, &alice, "100").await;
    let alice_session = session(&app, "alice").await;
    let attempts = (0..10).map(|n| call(&app, "createTransaction", transfer(alice_session, &format!("r{n}"), 200_000)));
    let replies = futures::future::join_all(attempts).await;
    let accepted: Vec<&Value> = replies.iter().filter(|reply| reply["state"] == "success").collect();
    assert_eq!(accepted.len(), 5, "100 GDD cover exactly five transfers of 20 GDD: {replies:?}");
    for reply in &replies {
        assert!(reply["state"] == "success" || reply["msg"] == "invalid amount", "{reply}");
    }
    for reply in &accepted {
        call(&app, "signTransaction", json!({"session_id": alice_session, "transaction_id": reply["transaction_id"]}))
            .await;
    }
    eventually(10, "all five are confirmed", || async { counts(&app, alice_session).await == (0, 0) }).await;
    assert_eq!(balance_cents(&app, alice_session).await, (0, 0));
    crate::common::assert_no_negative_user_balance(&app.sql().await).await;
}

#[tokio::test]
async fn a_disabled_receiver_cannot_receive_and_a_disabled_user_cannot_log_in() {
    let app = TestApp::spawn().await;
    let alice = user(&app, "alice", false).await;
    user(&app, "bob", false).await;
    user(&app, "admin", true).await;
    fund(&app, &alice, "10").await;
    let alice_session = session(&app, "alice").await;
    let admin_session = session(&app, "admin").await;
    let refused = call(
        &app,
        "adminSetUserDisabled",
        json!({"session_id": alice_session, "email": "bob@example.com", "disabled": true}),
    )
    .await;
    assert_eq!(refused, json!({"state": "error", "msg": "user is not admin"}));
    let disabled = call(
        &app,
        "adminSetUserDisabled",
        json!({"session_id": admin_session, "email": "bob@example.com", "disabled": true}),
    )
    .await;
    assert_eq!(disabled["state"], "success", "{disabled}");
    assert_eq!(
        call(&app, "createTransaction", transfer(alice_session, "bob", 100)).await,
        json!({"state": "disabled", "msg": "receiver is disabled"})
    );
    let login = call(&app, "unsecureLogin", json!({"email": "bob@example.com", "password": "bob-password"})).await;
    assert_eq!(login, json!({"state": "disabled", "msg": "user is disabled"}));
}

#[tokio::test]
async fn sign_up_mails_a_verification_that_an_admin_can_resend() {
    let app = TestApp::spawn().await;
    user(&app, "admin", true).await;
    let created = call(
        &app,
        "createUser",
        json!({"email": "dora@example.com", "password": "dora-password", "first_name": "Dora", "last_name": "D", "emailType": 2}),
    )
    .await;
    assert_eq!(created["state"], "success", "{created}");
    let again = call(
        &app,
        "createUser",
        json!({"email": "dora@example.com", "password": "dora-password", "first_name": "Dora", "last_name": "D", "emailType": 2}),
    )
    .await;
    assert_eq!(again, json!({"state": "exist", "msg": "user already exist"}));
    let dora_session = session(&app, "dora").await;
    let not_admin =
        call(&app, "adminEmailVerificationResend", json!({"session_id": dora_session, "email": "dora@example.com"}))
            .await;
    assert_eq!(not_admin["msg"], "user is not admin");
    let admin_session = session(&app, "admin").await;
    let resent =
        call(&app, "adminEmailVerificationResend", json!({"session_id": admin_session, "email": "dora@example.com"}))
            .await;
    assert_eq!(resent["state"], "success");
    let unknown =
        call(&app, "adminEmailVerificationResend", json!({"session_id": admin_session, "email": "nobody@example.com"}))
            .await;
    assert_eq!(unknown["msg"], "user not found");
    let mails: i64 = app
        .sql()
        .await
        .query_one("SELECT count(*) FROM mail_outbox WHERE recipient = 'dora@example.com'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(mails, 2, "one at sign-up, one resent");

    let body: String = app
        .sql()
        .await
        .query_one(
            "SELECT body FROM mail_outbox WHERE recipient = 'dora@example.com' ORDER BY mail_id DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let code = body.split("code: ").nth(1).and_then(|rest| rest.split_whitespace().next()).expect("a code in the mail");
    assert_eq!(call(&app, "login", json!({"session_id": dora_session})).await["user"]["email_checked"], false);
    assert_eq!(
        call(&app, "verifyEmail", json!({"code": "wrong"})).await,
        json!({"state": "error", "msg": "code not found"})
    );
    assert_eq!(call(&app, "verifyEmail", json!({"code": code})).await["state"], "success");
    assert_eq!(call(&app, "login", json!({"session_id": dora_session})).await["user"]["email_checked"], true);
    assert_eq!(call(&app, "verifyEmail", json!({"code": code})).await["msg"], "code not found", "a code works once");
}

#[tokio::test]
async fn users_read_and_change_their_profile_and_a_new_password_needs_the_old_one() {
    let app = TestApp::spawn().await;
    user(&app, "alice", false).await;
    user(&app, "admin", true).await;
    let alice_session = session(&app, "alice").await;
    let update = json!({"session_id": alice_session, "update": {"User.first_name": "Alicia", "User.description": "gardener", "User.language": "en"}});
    let updated = call(&app, "updateUserInfos", update).await;
    assert_eq!(updated, json!({"state": "success", "valid_values": 3, "errors": []}));
    let infos = call(
        &app,
        "getUserInfos",
        json!({"session_id": alice_session, "ask": ["user.first_name", "user.description", "user.language", "user.email"]}),
    )
    .await;
    assert_eq!(
        infos["userData"],
        json!({"first_name": "Alicia", "description": "gardener", "language": "en", "email": "alice@example.com"})
    );

    let wrong = call(
        &app,
        "updateUserInfos",
        json!({"session_id": alice_session, "update": {"User.password": "new-password-1", "User.password_old": "nope"}}),
    )
    .await;
    assert_eq!(wrong["msg"], "User.password_old didn't match", "{wrong}");
    let changed = call(&app, "updateUserInfos", json!({"session_id": alice_session, "update": {"User.password": "new-password-1", "User.password_old": "alice-password"}})).await;
    assert_eq!(changed["state"], "success");
    let relogin =
        call(&app, "unsecureLogin", json!({"email": "alice@example.com", "password": "new-password-1"})).await;
    assert_eq!(relogin["state"], "success", "the new password works at once: {relogin}");

    let admin_session = session(&app, "admin").await;
    let found = call(&app, "getUsers", json!({"session_id": admin_session, "search": "alic"})).await;
    assert_eq!(found["users"][0]["email"], "alice@example.com");
    assert!(found["users"][0].get("password_hash").is_none(), "never the password hash");
    assert_eq!(
        call(&app, "getUsers", json!({"session_id": alice_session, "search": "a"})).await,
        json!({"state": "wrong role", "msg": "User hasn't correct role"})
    );
    let public = call(&app, "search", json!({"session_id": alice_session, "search": "adm"})).await;
    assert_eq!(public["users"][0]["username"], "admin");
    assert!(public["users"][0].get("email").is_none(), "search shows no e-mail addresses");
}

#[tokio::test]
async fn the_creation_limit_is_per_calendar_month() {
    let app = TestApp::spawn().await;
    user(&app, "admin", true).await;
    user(&app, "bob", false).await;
    let admin_session = session(&app, "admin").await;
    let this_month = chrono::Datelike::with_day(&chrono::Utc::now().date_naive(), 1).unwrap();
    let last_day_of_last_month = this_month.pred_opt().unwrap();
    let creation = |cents: i64, date: chrono::NaiveDate| {
        json!({"session_id": admin_session, "transaction_type": "creation", "amount": cents, "target_date": date.to_string(),
               "target_username": "bob", "memo": format!("{date}")})
    };
    assert_eq!(call(&app, "createTransaction", creation(10_000_000, last_day_of_last_month)).await["state"], "success");
    assert_eq!(call(&app, "createTransaction", creation(10_000_000, this_month)).await["state"], "success");
    assert_eq!(call(&app, "createTransaction", creation(1, last_day_of_last_month)).await["msg"], "invalid amount");
    assert_eq!(call(&app, "createTransaction", creation(1, this_month)).await["msg"], "invalid amount");
}

#[tokio::test]
async fn a_transfer_the_network_cannot_settle_is_rejected_and_moves_nothing() {
    let app = TestApp::spawn().await;
    let alice = user(&app, "alice", false).await;
    user(&app, "bob", false).await;
    fund(&app, &alice, "10").await;
    let alice_session = session(&app, "alice").await;
    let created = call(&app, "createTransaction", transfer(alice_session, "bob", 50_000)).await;
    let id = created["transaction_id"].as_str().unwrap();
    // An operator releases the reservation behind the transaction's back.
    let released = app.post(&format!("/v1/accounts/gdd:{alice}/holds/{id}/release"), json!({}), None).await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.body);
    call(&app, "signTransaction", json!({"session_id": alice_session, "transaction_id": id})).await;
    eventually(10, "the transaction is rejected", || async { counts(&app, alice_session).await == (0, 0) }).await;
    let history = call(&app, "listTransactions", json!({"session_id": alice_session})).await;
    assert_eq!(history["transactions"][0]["status"], "rejected");
    assert_eq!(balance_cents(&app, alice_session).await, (100_000, 100_000), "nothing moved");
}

#[tokio::test]
async fn a_receiver_can_be_named_by_username_or_public_key() {
    let app = TestApp::spawn().await;
    let alice = user(&app, "alice", false).await;
    user(&app, "bob", false).await;
    fund(&app, &alice, "10").await;
    let bob_session = session(&app, "bob").await;
    let bob_key = call(&app, "login", json!({"session_id": bob_session})).await["user"]["public_hex"]
        .as_str()
        .unwrap()
        .to_string();
    let alice_session = session(&app, "alice").await;
    let by_key = json!({"session_id": alice_session, "transaction_type": "transfer", "amount": 100, "target_pubkey": bob_key, "memo": "by key"});
    assert_eq!(call(&app, "createTransaction", by_key).await["state"], "success");
    let by_name = json!({"session_id": alice_session, "transaction_type": "transfer", "amount": 200, "target_username": "BOB", "memo": "by name"});
    assert_eq!(call(&app, "createTransaction", by_name).await["state"], "success");
    let tasks = call(&app, "getRunningUserTasks", json!({"session_id": alice_session})).await;
    assert_eq!(tasks["tasks"].as_array().unwrap().len(), 2);
}
