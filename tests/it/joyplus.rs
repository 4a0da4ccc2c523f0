//! The Joy Plus dialect over HTTP: Passport sign-on, SMS and TOTP verification, API keys and
//! scopes, lists and filters, locks that expire, chain deposits and withdrawals.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::{eventually, TestApp, ADMIN_KEY};
use app::ports::chain::{Chain, ChainFuture, ChainWithdrawal, SimulatedChain};
use domain::joyplus::EthAddress;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const ZEROS_18: &str = "0.000000000000000000";

/// Someone talking to `/api/v1`: with a session cookie, a key, or nothing.
#[derive(Clone)]
struct Client<'a> {
    app: &'a TestApp,
    cookie: Option<String>,
    authorization: Option<String>,
}

impl<'a> Client<'a> {
    fn anonymous(app: &'a TestApp) -> Self {
        Self { app, cookie: None, authorization: None }
    }

    fn admin(app: &'a TestApp) -> Self {
        Self::with_key(app, ADMIN_KEY)
    }

    fn with_key(app: &'a TestApp, key: &str) -> Self {
        Self { app, cookie: None, authorization: Some(key.to_string()) }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        idempotency_key: Option<&str>,
    ) -> (StatusCode, Value) {
        let url = if path.starts_with('/') {
            format!("{}{path}", self.app.base_url)
        } else {
            format!("{}/api/v1/{path}", self.app.base_url)
        };
        let mut request = self.app.http.request(method, url);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        if let Some(key) = &self.authorization {
            request = request.header("authorization", key);
        }
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body), None).await
    }

    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PUT, path, Some(body), None).await
    }

    /// The rows of a list, failing on anything but 200.
    async fn list(&self, path: &str) -> Vec<Value> {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body["data"].as_array().unwrap_or_else(|| panic!("{path}: {body}")).clone()
    }
}

/// A signed-on user: its session, numeric id and address.
struct Member<'a> {
    client: Client<'a>,
    id: i64,
    address: String,
    email: String,
}

async fn register(app: &TestApp, name: &str, mobile: Option<&str>) {
    let body = json!({
        "email": format!("{name}@example.com"), "username": name, "password": "correct horse battery",
        "first_name": name, "last_name": "Tester", "mobile": mobile,
    });
    let (status, reply) = Client::anonymous(app).post("/passport/register", body).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
}

async fn passport_code(app: &TestApp, name: &str) -> String {
    let (status, reply) = Client::anonymous(app)
        .post("/passport/login", json!({"username": name, "password": "correct horse battery"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    reply["data"]["code"].as_str().unwrap().to_string()
}

async fn sign_on<'a>(app: &'a TestApp, name: &str) -> Member<'a> {
    let code = passport_code(app, name).await;
    let response = app.http.get(format!("{}/api/v1/sso.html?code={code}", app.base_url)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response.headers().get("set-cookie").expect("a session cookie").to_str().unwrap().to_string();
    assert!(set_cookie.starts_with("joy.sid=") && set_cookie.contains("HttpOnly"), "{set_cookie}");
    let body: Value = response.json().await.unwrap();
    let client = Client { app, cookie: set_cookie.split(';').next().map(str::to_string), authorization: None };
    Member {
        client,
        id: body["data"]["id"].as_i64().expect("a numeric id"),
        address: body["data"]["address"].as_str().unwrap().to_string(),
        email: format!("{name}@example.com"),
    }
}

async fn member<'a>(app: &'a TestApp, name: &str) -> Member<'a> {
    register(app, name, Some("+4915112345678")).await;
    sign_on(app, name).await
}

fn txid(n: u8) -> String {
    format!("0x{}", format!("{n:02x}").repeat(32))
}

const OUTSIDER: &str = "0xd5d087daabc73fc6cc5d9c1131b93acbd53a2428";

async fn chain_deposit(app: &TestApp, n: u8, to: &str, amount: &str) -> (StatusCode, Value) {
    let body = json!({"txid": txid(n), "from_address": OUTSIDER, "to_address": to, "symbol": "JOY", "amount": amount});
    Client::admin(app).post("deposit", body).await
}

async fn joy_balance(member: &Member<'_>) -> Value {
    let rows = member.client.list("balance?symbol=JOY").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows[0].clone()
}

#[tokio::test]
async fn the_first_sign_on_creates_a_wallet_with_a_checksummed_address_and_a_balance_per_asset() {
    let app = TestApp::spawn().await;
    let deric = member(&app, "deric").await;
    let parsed = EthAddress::parse(&deric.address).expect("a valid address");
    assert_eq!(parsed.checksummed(), deric.address, "the address carries its EIP-55 checksum");

    let (status, info) = deric.client.get("user-info").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["data"], json!({"id": deric.id, "address": deric.address}));

    let balances = deric.client.list("balance").await;
    let symbols: Vec<&str> = balances.iter().map(|row| row["symbol"].as_str().unwrap()).collect();
    assert_eq!(symbols, ["JOY", "JUSD"]);
    let joy = &balances[0];
    assert_eq!(joy["amount"], ZEROS_18);
    assert_eq!(joy["lockedAmount"], ZEROS_18);
    assert_eq!(joy["stakedAmount"], ZEROS_18);
    assert_eq!(joy["address"], deric.address);
    assert_eq!(joy["assetName"], "JOY Token");
    assert_eq!(joy["assetDecimals"], 18);
    assert_eq!(joy["assetUsdPrice"], "0.500");
    assert!(joy["id"].is_string() && joy["createdAt"].as_i64().unwrap() > 1_600_000_000_000, "{joy}");
    assert_eq!(balances[1]["assetContractAddress"], "0x28d7fEecd1aB9Dae7d83cbB986f2A2Ecb127183d");

    let again = sign_on(&app, "deric").await;
    assert_eq!(
        (again.id, again.address.as_str()),
        (deric.id, deric.address.as_str()),
        "a later sign-on finds the same wallet"
    );
    assert_eq!(again.client.list("balance").await.len(), 2, "no second set of balances");

    let code = passport_code(&app, "deric").await;
    let first = app.http.get(format!("{}/api/v1/sso.html?code={code}", app.base_url)).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let reused = app.http.get(format!("{}/api/v1/sso.html?code={code}", app.base_url)).send().await.unwrap();
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED, "a Passport code works once");
    let body: Value = reused.json().await.unwrap();
    assert!(body["error"]["message"].is_string(), "{body}");

    let (status, _) = Client::anonymous(&app).get("user-info").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = Client::anonymous(&app)
        .post("/passport/login", json!({"username": "deric", "password": "wrong password"}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_session_never_reads_another_users_data() {
    let app = TestApp::spawn().await;
    let alice = member(&app, "alice").await;
    let bob = member(&app, "bob").await;
    chain_deposit(&app, 1, &bob.address, "3").await;

    for path in ["user", "wallet", "balance", "locked-balance", "deposit", "withdraw", "transaction"] {
        let rows = alice.client.list(path).await;
        let leaked = rows.iter().any(|row| row.to_string().to_lowercase().contains(&bob.address.to_lowercase()));
        assert!(!leaked, "{path} shows bob's data to alice: {rows:?}");
    }
    assert_eq!(alice.client.list("user").await.len(), 1);
    assert_eq!(alice.client.list("deposit").await.len(), 0);
    assert_eq!(bob.client.list("deposit").await.len(), 1);

    let bob_balance_id = joy_balance(&bob).await["id"].as_str().unwrap().to_string();
    let bob_deposit_id = bob.client.list("deposit").await[0]["id"].as_str().unwrap().to_string();
    for path in [
        format!("user/{}", bob.id),
        format!("wallet/{}", bob.id),
        format!("balance/{bob_balance_id}"),
        format!("deposit/{bob_deposit_id}"),
    ] {
        let (status, body) = alice.client.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        let (status, _) = bob.client.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path} is bob's own");
    }
    let (status, body) =
        alice.client.post("withdraw-joy", json!({"from": bob.address, "to": OUTSIDER, "value": "1"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(joy_balance(&bob).await["amount"], "3.000000000000000000");

    let everyone = Client::admin(&app).list("user").await;
    assert_eq!(everyone.len(), 2, "the admin sees every user");
    let (status, _) = alice.client.post("api-key", json!({"email": "x@example.com"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the admin issues keys");
}

async fn sms_code(app: &TestApp, mobile: &str) -> String {
    let client = app.sql().await;
    let row = client
        .query_one("SELECT body FROM sms_outbox WHERE mobile = $1 ORDER BY id DESC LIMIT 1", &[&mobile])
        .await
        .unwrap();
    let body: String = row.get(0);
    let code: String =
        body.split("code is ").nth(1).unwrap_or_default().chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "{body}");
    code
}

#[tokio::test]
async fn sms_codes_are_real_expire_and_allow_a_few_attempts() {
    let app = TestApp::spawn().await;
    let carol = member(&app, "carol").await;
    let (status, body) = carol.client.post("sms/request", json!({})).await;
    assert_eq!((status, body["data"]["message"].as_str()), (StatusCode::OK, Some("SMS sent")));
    let code = sms_code(&app, "+4915112345678").await;
    let wrong = if code == "000000" { "000001" } else { "000000" };

    let (status, body) = carol.client.post("sms/confirm", json!({"code": wrong.parse::<u64>().unwrap()})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = carol.client.post("sms/confirm", json!({"code": code.parse::<u64>().unwrap()})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ticket = body["data"]["ticket"].as_str().unwrap();
    assert_eq!(ticket.len(), 64);
    let (status, _) = carol.client.post("sms/confirm", json!({"code": code})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a code works once");

    let (status, _) = carol.client.post("sms/request", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = carol.client.post("sms/request", json!({})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "no second code within seconds");
    let code = sms_code(&app, "+4915112345678").await;
    app.sql().await.execute("UPDATE joy_sms_codes SET expires_at = now() - interval '1 second'", &[]).await.unwrap();
    let (status, _) = carol.client.post("sms/confirm", json!({"code": code})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an expired code is refused");

    app.sql().await.execute("DELETE FROM joy_sms_codes", &[]).await.unwrap();
    carol.client.post("sms/request", json!({})).await;
    let code = sms_code(&app, "+4915112345678").await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..5 {
        let (status, _) = carol.client.post("sms/confirm", json!({"code": wrong})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let (status, _) = carol.client.post("sms/confirm", json!({"code": code})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "after five wrong guesses even the right code is void");

    register(&app, "dave", None).await;
    let dave = sign_on(&app, "dave").await;
    let (status, body) = dave.client.post("sms/request", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

fn totp_code(secret: &str, at_unix: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_string()).to_bytes().unwrap();
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, None, String::new()).unwrap().generate(at_unix)
}

fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn google_authenticator_enrols_with_a_real_totp_code_and_accepts_each_code_once() {
    let app = TestApp::spawn().await;
    let erin = member(&app, "erin").await;
    let (_, body) = erin.client.post("google/check", json!({})).await;
    assert_eq!(body["data"]["enabled"], false);

    let (status, body) = erin.client.post("google/request", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let secret = body["data"]["secret"].as_str().unwrap().to_string();
    let qr = body["data"]["qrcode"].as_str().unwrap();
    let png = base64_decode(qr.strip_prefix("data:image/png;base64,").expect("a PNG data URL"));
    let uri = decode_qr(&png);
    assert!(uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")), "{uri}");

    let (status, _) = erin.client.post("google/register", json!({"secret": secret, "code": "000000"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a wrong code registers nothing");
    let (status, body) =
        erin.client.post("google/register", json!({"secret": secret, "code": totp_code(&secret, now_unix())})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = erin.client.post("google/check", json!({})).await;
    assert_eq!(body["data"]["enabled"], true);

    let (_, body) = erin.client.post("google/confirm", json!({"code": totp_code(&secret, now_unix())})).await;
    assert_eq!(body["data"]["confirmed"], false, "the code used to register is spent");
    let next = totp_code(&secret, now_unix() + 30);
    let (_, body) = erin.client.post("google/confirm", json!({"code": next})).await;
    assert_eq!(body["data"]["confirmed"], true);
    let (_, body) = erin.client.post("google/confirm", json!({"code": next})).await;
    assert_eq!(body["data"]["confirmed"], false, "a code is accepted once");

    let (status, _) = erin.client.post("google/request", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "replacing the authenticator needs a code of the current one");
    for _ in 0..5 {
        erin.client.post("google/confirm", json!({"code": "123456x"})).await;
    }
    let (status, _) = erin.client.post("google/confirm", json!({"code": totp_code(&secret, now_unix())})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    let frank = member(&app, "frank").await;
    let (_, body) = frank.client.post("google/request", json!({})).await;
    let secret = body["data"]["secret"].as_str().unwrap().to_string();
    frank.client.post("sms/request", json!({})).await;
    let sms = sms_code(&app, "+4915112345678").await;
    let (status, body) = frank.client.post("google/register", json!({"secret": secret, "sms_code": sms})).await;
    assert_eq!(status, StatusCode::OK, "an SMS code also proves the user: {body}");
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).expect("base64")
}

fn decode_qr(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let (width, height) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    grids[0].decode().unwrap().1
}

#[tokio::test]
async fn api_keys_are_shown_once_stored_hashed_and_limited_by_scope() {
    let app = TestApp::spawn().await;
    let grace = member(&app, "grace").await;
    chain_deposit(&app, 1, &grace.address, "5").await;
    let admin = Client::admin(&app);

    let (status, body) = admin.post("api-key", json!({"email": "partner@example.com"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["message"], "Save this API Key. It will not be shown again.");
    let key = body["data"]["apiKey"].as_str().unwrap().to_string();
    let sql = app.sql().await;
    let stored: i64 = sql
        .query_one(
            "SELECT count(*) FROM joy_api_keys WHERE key_sha256 = encode(sha256(convert_to($1, 'UTF8')), 'hex')",
            &[&key],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 1, "the key is stored as its SHA-256");
    let leaked: i64 = sql
        .query_one("SELECT count(*) FROM events WHERE payload::text LIKE '%' || $1 || '%'", &[&key])
        .await
        .unwrap()
        .get(0);
    assert_eq!(leaked, 0, "the key itself is never recorded");

    let partner = Client::with_key(&app, &key);
    let lock = json!({"address": grace.address, "symbol": "JOY", "amount": "1", "expires_at": chrono::Utc::now().timestamp_millis() + 60_000});
    let (status, body) = partner.post("locked-balance", lock.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no scope, no lock: {body}");

    let (status, body) =
        admin.put("api-key", json!({"email": "partner@example.com", "scope_add": "locked_balance.create"})).await;
    assert_eq!(
        (status, body["data"]["message"].as_str()),
        (StatusCode::OK, Some("Scope added: locked_balance.create"))
    );
    let (status, body) = partner.post("locked-balance", lock.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"]["message"].as_str().unwrap().starts_with("LockedBalance "), "{body}");
    assert_eq!(joy_balance(&grace).await["lockedAmount"], "1.000000000000000000");

    let (status, body) =
        admin.put("api-key", json!({"email": "partner@example.com", "scope_remove": "locked_balance.create"})).await;
    assert_eq!(
        (status, body["data"]["message"].as_str()),
        (StatusCode::OK, Some("Scope removed: locked_balance.create"))
    );
    let (status, _) = partner.post("locked-balance", lock.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _) = admin.put("api-key", json!({"email": "partner@example.com", "scope_add": "Not A Scope"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = admin.put("api-key", json!({"email": "nobody@example.com", "scope_add": "a.b"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = Client::with_key(&app, "not-a-key").get("balance").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(partner.list("balance").await.is_empty(), "a key for an e-mail with no wallet sees no balances");

    let (_, body) = admin.post("api-key", json!({"email": grace.email})).await;
    let grace_key = body["data"]["apiKey"].as_str().unwrap().to_string();
    assert_eq!(
        Client::with_key(&app, &grace_key).list("balance").await.len(),
        2,
        "a key sees its e-mail's user's balances"
    );
    let (_, body) = admin.post("api-key", json!({"email": grace.email})).await;
    let rotated = body["data"]["apiKey"].as_str().unwrap().to_string();
    let (status, _) = Client::with_key(&app, &grace_key).get("balance").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "issuing again retires the old key");
    assert_eq!(Client::with_key(&app, &rotated).list("balance").await.len(), 2);
}

#[tokio::test]
async fn a_lock_holds_funds_until_it_expires_and_the_service_releases_it() {
    let app = TestApp::spawn().await;
    let heidi = member(&app, "heidi").await;
    chain_deposit(&app, 7, &heidi.address, "5").await;
    let admin = Client::admin(&app);
    let expires_at = chrono::Utc::now().timestamp_millis() + 2_000;
    let (status, body) = admin
        .post(
            "locked-balance",
            json!({"address": heidi.address, "symbol": "JOY", "amount": "2", "expires_at": expires_at}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lock_id = body["data"]["message"]
        .as_str()
        .unwrap()
        .trim_start_matches("LockedBalance ")
        .trim_end_matches(" added")
        .to_string();

    let balance = joy_balance(&heidi).await;
    assert_eq!(
        (balance["amount"].as_str(), balance["lockedAmount"].as_str()),
        (Some("5.000000000000000000"), Some("2.000000000000000000"))
    );
    let locks = heidi.client.list("locked-balance").await;
    assert_eq!(locks.len(), 1);
    let lock = &locks[0];
    assert_eq!(lock["id"], lock_id.as_str());
    assert_eq!(lock["balanceID"], balance["id"]);
    assert_eq!(
        (lock["amount"].as_str(), lock["processed"].as_i64(), lock["expiresAt"].as_i64()),
        (Some("2.000000000000000000"), Some(0), Some(expires_at))
    );
    for filter in [
        format!("id={lock_id}"),
        format!("balance_id={}", balance["id"].as_str().unwrap()),
        format!("address={}", heidi.address.to_lowercase()),
        "symbol=JOY".into(),
    ] {
        assert_eq!(heidi.client.list(&format!("locked-balance?{filter}")).await.len(), 1, "{filter}");
    }
    assert!(heidi.client.list("locked-balance?symbol=JUSD").await.is_empty());
    let (status, _) = heidi.client.get(&format!("locked-balance/{lock_id}")).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) =
        heidi.client.post("withdraw-joy", json!({"from": heidi.address, "to": OUTSIDER, "value": "4"})).await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (StatusCode::BAD_REQUEST, Some("insufficient funds")),
        "locked funds cannot leave"
    );
    let (status, _) = admin
        .post("locked-balance", json!({"address": heidi.address, "symbol": "JOY", "amount": "1", "expires_at": 1_000}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a lock expiring in the past is refused");

    eventually(10, "the lock is released", || async {
        heidi.client.list(&format!("locked-balance/{lock_id}")).await[0]["processed"] == 1
    })
    .await;
    assert_eq!(joy_balance(&heidi).await["lockedAmount"], ZEROS_18);
    let (status, body) =
        heidi.client.post("withdraw-joy", json!({"from": heidi.address, "to": OUTSIDER, "value": "4"})).await;
    assert_eq!(status, StatusCode::OK, "released funds can leave: {body}");
    crate::common::assert_read_models_equal_replay(&app.database).await;
}

#[tokio::test]
async fn a_chain_deposit_is_credited_once_per_txid() {
    let app = TestApp::spawn().await;
    let ivan = member(&app, "ivan").await;
    let (status, first) = chain_deposit(&app, 9, &ivan.address, "1.5").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["data"]["depositAmount"], "1.500000000000000000");
    assert_eq!(first["data"]["txid"], txid(9));
    let (status, again) = chain_deposit(&app, 9, &ivan.address, "1.5").await;
    assert_eq!(
        (status, &again["data"]),
        (StatusCode::OK, &first["data"]),
        "the same deposit again is the same deposit"
    );
    assert_eq!(joy_balance(&ivan).await["amount"], "1.500000000000000000", "credited once");
    let (status, body) = chain_deposit(&app, 9, &ivan.address, "2").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(joy_balance(&ivan).await["amount"], "1.500000000000000000");

    let (status, _) = ivan.client.post("deposit", json!({"txid": txid(10), "from_address": OUTSIDER, "to_address": ivan.address, "symbol": "JOY", "amount": "1"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the admin records deposits");
    let (status, _) = chain_deposit(&app, 11, OUTSIDER, "1").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no wallet has that address");
    let (status, _) = Client::admin(&app).post("deposit", json!({"txid": "0x12", "from_address": OUTSIDER, "to_address": ivan.address, "symbol": "JOY", "amount": "1"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = chain_deposit(&app, 12, &ivan.address, "0.0000000000000000001").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "more decimals than JOY has");

    let deposits = ivan.client.list("deposit").await;
    assert_eq!(deposits.len(), 1);
    let deposit = &deposits[0];
    assert_eq!(
        (deposit["fromAddress"].as_str(), deposit["toAddress"].as_str()),
        (Some(OUTSIDER), Some(ivan.address.to_lowercase().as_str()))
    );
    assert!(deposit.get("withdrawAmount").is_none(), "{deposit}");
    for filter in [
        format!("txid={}", txid(9)),
        format!("from_address={OUTSIDER}"),
        format!("to_address={}", ivan.address),
        "symbol=JOY".into(),
    ] {
        assert_eq!(ivan.client.list(&format!("deposit?{filter}")).await.len(), 1, "{filter}");
    }
    assert!(ivan.client.list(&format!("deposit?txid={}", txid(8))).await.is_empty());
    assert!(ivan.client.list("deposit?symbol=JUSD").await.is_empty());
    let (status, _) = ivan.client.get("deposit?txid=nonsense").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn withdraw_joy_debits_with_funds_and_moves_nothing_without() {
    let app = TestApp::spawn().await;
    let judy = member(&app, "judy").await;
    let (status, body) =
        judy.client.post("withdraw-joy", json!({"from": judy.address, "to": OUTSIDER, "value": "1"})).await;
    assert_eq!((status, body["error"]["message"].as_str()), (StatusCode::BAD_REQUEST, Some("insufficient funds")));
    assert!(judy.client.list("withdraw").await.is_empty(), "nothing moved");

    chain_deposit(&app, 3, &judy.address, "2").await;
    let request = json!({"from": judy.address, "to": OUTSIDER, "value": "0.75"});
    let (status, body) = judy.client.send(Method::POST, "withdraw-joy", Some(request.clone()), Some("w-1")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let txid = body["data"]["txid"].as_str().unwrap().to_string();
    assert!(txid.len() == 66 && txid.starts_with("0x"), "{txid}");
    let (_, retried) = judy.client.send(Method::POST, "withdraw-joy", Some(request), Some("w-1")).await;
    assert_eq!(retried["data"]["txid"], txid.as_str(), "a retry is the same withdrawal");
    assert_eq!(joy_balance(&judy).await["amount"], "1.250000000000000000", "debited once");

    let withdraws = judy.client.list("withdraw").await;
    assert_eq!(withdraws.len(), 1);
    let sql = app.sql().await;
    eventually(10, "the chain broadcaster sends the withdrawal", || async {
        let row = sql
            .query_opt("SELECT to_address, amount, asset FROM simulated_chain_transactions WHERE txid = $1", &[&txid])
            .await
            .unwrap();
        row.is_some_and(|row| {
            (row.get::<_, String>(0), row.get::<_, String>(1), row.get::<_, String>(2))
                == (OUTSIDER.to_string(), "0.75".to_string(), "JOY".to_string())
        })
    })
    .await;
    assert_eq!(
        (withdraws[0]["txid"].as_str(), withdraws[0]["withdrawAmount"].as_str()),
        (Some(txid.as_str()), Some("0.750000000000000000"))
    );
    assert_eq!(withdraws[0]["toAddress"], OUTSIDER);
    let (status, _) = judy.client.get(&format!("withdraw/{}", withdraws[0]["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::OK);

    let history = judy.client.list(&format!("transaction?address={}", judy.address)).await;
    assert_eq!(history.len(), 2);
    assert_eq!(
        (history[0]["depositAmount"].as_str(), &history[0]["withdrawAmount"]),
        (Some("2.000000000000000000"), &Value::Null)
    );
    assert_eq!(
        (&history[1]["depositAmount"], history[1]["withdrawAmount"].as_str()),
        (&Value::Null, Some("0.750000000000000000"))
    );
    assert!(judy.client.list(&format!("transaction?address={OUTSIDER}")).await.is_empty());

    let (status, _) =
        judy.client.post("withdraw-joy", json!({"from": judy.address, "to": "0xnot", "value": "0.1"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) =
        judy.client.post("withdraw-joy", json!({"from": judy.address, "to": OUTSIDER, "value": "-1"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) =
        Client::admin(&app).post("withdraw-joy", json!({"from": judy.address, "to": OUTSIDER, "value": "0.25"})).await;
    assert_eq!(status, StatusCode::OK, "the admin withdraws from any address");
    assert_eq!(joy_balance(&judy).await["amount"], "1.000000000000000000");
}

#[tokio::test]
async fn lists_take_a_capped_limit_and_a_cursor() {
    let app = TestApp::spawn().await;
    let kim = member(&app, "kim").await;
    for n in 1..=3 {
        chain_deposit(&app, n, &kim.address, "1").await;
    }
    for limit in ["0", "501", "x"] {
        let (status, body) = kim.client.get(&format!("deposit?limit={limit}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{limit}: {body}");
        assert!(body["error"]["message"].is_string());
    }
    let (_, first) = kim.client.get("deposit?limit=2").await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["nextCursor"].as_str().expect("a full page has a cursor");
    let (_, second) = kim.client.get(&format!("deposit?limit=2&cursor={cursor}")).await;
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert!(second.get("nextCursor").is_none());
    let all: Vec<Value> =
        first["data"].as_array().unwrap().iter().chain(second["data"].as_array().unwrap()).cloned().collect();
    let txids: Vec<&str> = all.iter().map(|row| row["txid"].as_str().unwrap()).collect();
    assert_eq!(txids, [txid(1), txid(2), txid(3)], "every deposit once, in order");
}

#[tokio::test]
async fn assets_are_listed_by_the_admin_with_exact_decimals() {
    let app = TestApp::spawn().await;
    let admin = Client::admin(&app);
    let assets = admin.list("asset").await;
    let joy =
        assets.iter().find(|asset| asset["symbol"] == "JOY").unwrap_or_else(|| panic!("JOY is listed: {assets:?}"));
    assert_eq!(
        (joy["name"].as_str(), joy["decimals"].as_i64(), joy["usdPrice"].as_str()),
        (Some("JOY Token"), Some(18), Some("0.500"))
    );
    assert!(joy["id"].is_i64());
    assert_eq!(admin.list("asset?symbol=JUSD").await.len(), 1);
    assert_eq!(admin.list("asset?decimals=18").await.len(), 2);
    assert!(admin.list("asset?decimals=6").await.is_empty());

    let gem = json!({"name": "Gem", "symbol": "GEM", "decimals": 6, "contract_address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "usd_price": 1.25, "icon_url": "https://example.com/gem.png"});
    let (status, body) = admin.post("asset", gem.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id =
        body["data"]["message"].as_str().unwrap().trim_start_matches("Asset ").trim_end_matches(" added").to_string();
    let listed = admin.list(&format!("asset/{id}")).await;
    assert_eq!((listed[0]["symbol"].as_str(), listed[0]["usdPrice"].as_str()), (Some("GEM"), Some("1.250")));
    let (status, _) = admin.post("asset", gem.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = admin.post("asset", json!({"name": "Bad", "symbol": "BAD", "decimals": 6, "contract_address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "usd_price": 1, "icon_url": ""})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a contract address with a wrong checksum");

    let lena = member(&app, "lena").await;
    let (status, _) = lena.client.post("asset", gem).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let gems = lena.client.list("balance?symbol=GEM").await;
    assert_eq!(gems.len(), 1, "a new wallet gets a balance of every listed asset");
    assert_eq!((gems[0]["amount"].as_str(), gems[0]["assetDecimals"].as_i64()), (Some("0.000000"), Some(6)));
    let (status, _) = lena.client.get("asset/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_list_keeps_the_seeds_filters() {
    let app = TestApp::spawn().await;
    let mona = member(&app, "mona").await;
    let nils = member(&app, "nils").await;
    let admin = Client::admin(&app);
    let ids =
        |rows: Vec<Value>, field: &str| -> Vec<String> { rows.iter().map(|row| row[field].to_string()).collect() };

    let mona_user = admin.list(&format!("user?id={}", mona.id)).await;
    assert_eq!(mona_user.len(), 1);
    let user = &mona_user[0]["user"];
    assert_eq!(
        (user["id"].as_str(), user["email"].as_str(), user["status"].as_i64()),
        (Some(mona.id.to_string().as_str()), Some("mona@example.com"), Some(1))
    );
    assert_eq!(mona_user[0]["wallet"]["address"], mona.address);
    assert_eq!(mona_user[0]["balance"].as_array().unwrap().len(), 2, "each user with its balances");
    let open_id = user["openID"].as_str().unwrap().to_string();
    for filter in [
        format!("openid={}", urlencode(&open_id)),
        "first_name=mona".into(),
        "last_name=Tester&email=mona@example.com".into(),
        "email=MONA@example.com".into(),
    ] {
        let rows = admin.list(&format!("user?{filter}")).await;
        assert_eq!(ids(rows, "wallet"), ids(mona_user.clone(), "wallet"), "{filter}");
    }
    assert_eq!(admin.list("user?mobile=%2B4915112345678").await.len(), 2);
    assert_eq!(admin.list("user?last_name=Tester").await.len(), 2);
    assert!(admin.list("user?email=nobody@example.com").await.is_empty());
    let (status, _) = admin.get("user?id=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let wallets = admin.list(&format!("wallet?address={}", nils.address.to_lowercase())).await;
    assert_eq!((wallets.len(), wallets[0]["id"].as_str()), (1, Some(nils.id.to_string().as_str())));
    assert_eq!(admin.list("wallet").await.len(), 2);
    let (status, body) = admin.get(&format!("wallet/{}", nils.id)).await;
    assert_eq!((status, body["data"][0]["address"].as_str()), (StatusCode::OK, Some(nils.address.as_str())));

    let nils_joy = joy_balance(&nils).await;
    let by_id = admin.list(&format!("balance?id={}", nils_joy["id"].as_str().unwrap())).await;
    assert_eq!(by_id, vec![nils_joy.clone()]);
    assert_eq!(admin.list(&format!("balance?address={}", nils.address)).await.len(), 2);
    assert_eq!(admin.list("balance?symbol=JUSD").await.len(), 2);
    assert_eq!(admin.list(&format!("balance?address={}&symbol=JOY", mona.address)).await.len(), 1);

    chain_deposit(&app, 1, &mona.address, "3").await;
    chain_deposit(&app, 2, &nils.address, "3").await;
    mona.client.post("withdraw-joy", json!({"from": mona.address, "to": OUTSIDER, "value": "1"})).await;
    nils.client.post("withdraw-joy", json!({"from": nils.address, "to": mona.address, "value": "2"})).await;
    let withdraws = admin.list("withdraw").await;
    assert_eq!(withdraws.len(), 2);
    assert_eq!(admin.list(&format!("withdraw?from_address={}", nils.address)).await.len(), 1);
    assert_eq!(admin.list(&format!("withdraw?to_address={OUTSIDER}")).await.len(), 1);
    assert_eq!(admin.list(&format!("withdraw?txid={}", withdraws[0]["txid"].as_str().unwrap())).await.len(), 1);
    assert_eq!(admin.list("withdraw?symbol=JOY").await.len(), 2);
    assert_eq!(admin.list("transaction").await.len(), 4);
    assert_eq!(
        admin.list(&format!("transaction?address={}", mona.address)).await.len(),
        2,
        "mona's deposit and mona's withdrawal"
    );
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// A chain that is down for its first `outage` broadcasts, then records what it is sent.
struct FlakyChain {
    ids: SimulatedChain,
    outage: AtomicU32,
    sent: Mutex<Vec<String>>,
}

impl Chain for FlakyChain {
    fn transaction_id(&self, withdrawal: &ChainWithdrawal) -> String {
        self.ids.transaction_id(withdrawal)
    }

    fn broadcast<'a>(&'a self, _withdrawal: &'a ChainWithdrawal, txid: &'a str) -> ChainFuture<'a> {
        Box::pin(async move {
            if self.outage.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1)).is_ok() {
                return Err(api::AppError::Unavailable("chain node unreachable".into()));
            }
            self.sent.lock().unwrap().push(txid.to_string());
            Ok(())
        })
    }
}

#[tokio::test]
async fn a_withdrawal_reaches_the_chain_after_an_outage_without_a_second_debit() {
    let database = crate::common::fresh_database().await;
    let pools = store::connect(&database).await.unwrap();
    let chain = Arc::new(FlakyChain {
        ids: SimulatedChain { pool: pools.reads.clone() },
        outage: AtomicU32::new(3),
        sent: Mutex::default(),
    });
    let app = TestApp::spawn_with(database, Some(chain.clone())).await;
    let olga = member(&app, "olga").await;
    chain_deposit(&app, 1, &olga.address, "2").await;
    let (status, body) =
        olga.client.post("withdraw-joy", json!({"from": olga.address, "to": OUTSIDER, "value": "1.5"})).await;
    assert_eq!(status, StatusCode::OK, "the debit is acknowledged while the chain is down: {body}");
    let txid = body["data"]["txid"].as_str().unwrap().to_string();

    eventually(20, "the broadcaster gets through once the chain is back", || async {
        chain.sent.lock().unwrap().contains(&txid)
    })
    .await;
    assert_eq!(chain.outage.load(Ordering::SeqCst), 0, "it kept trying through the outage");
    assert_eq!(chain.sent.lock().unwrap().len(), 1, "sent once it got through");
    assert_eq!(joy_balance(&olga).await["amount"], "0.500000000000000000", "debited once");
}

#[tokio::test]
async fn guessing_sms_and_totp_codes_across_users_is_throttled_by_address() {
    let settings = app::credentials::ThrottleSettings {
        max_account_failures: 3,
        max_address_failures: 7,
        window: std::time::Duration::from_secs(60),
        first_cooldown: std::time::Duration::from_secs(30),
        max_cooldown: std::time::Duration::from_secs(60),
    };
    let app = TestApp::spawn_throttled(settings, Default::default()).await;
    let mallory = member(&app, "mallory").await;
    let trudy = member(&app, "trudy").await;
    // Each user stays under the per-code limits; together they reach the address's limit.
    for _ in 0..4 {
        let (status, _) = mallory.client.post("google/confirm", json!({"code": "000000"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "no authenticator: the code is wrong");
    }
    for _ in 0..3 {
        let (status, _) = trudy.client.post("sms/confirm", json!({"code": "000000"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let response = app
        .http
        .post(format!("{}/api/v1/sms/confirm", app.base_url))
        .header("cookie", mallory.client.cookie.clone().unwrap())
        .json(&json!({"code": "000000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("too many failed attempts"), "{body}");
}
