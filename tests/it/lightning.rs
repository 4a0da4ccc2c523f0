//! The myLightning dialect over HTTP: cookie sessions with CSRF, wallet data, QR images.

use std::str::FromStr;

use crate::common::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub(crate) struct Browser<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) cookie: Option<String>,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        Self { app, cookie: None }
    }

    pub(crate) async fn login(&mut self, username: &str, password: &str) -> reqwest::Response {
        let response = self
            .app
            .http
            .post(format!("{}/rest/v1/login", self.app.base_url))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        if let Some(set_cookie) = response.headers().get("set-cookie") {
            let set_cookie = set_cookie.to_str().unwrap().to_string();
            assert!(set_cookie.contains("HttpOnly"), "the session cookie is HttpOnly: {set_cookie}");
            self.cookie = set_cookie.split(';').next().map(str::to_string);
        }
        response
    }

    pub(crate) fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self.app.http.request(method, format!("{}/rest/v1/{path}", self.app.base_url));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        request
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self.request(reqwest::Method::GET, path).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn post(&self, path: &str, csrf: Option<&str>, body: Value) -> (StatusCode, Value) {
        let path = match csrf {
            Some(token) => format!("{path}?_csrf={token}"),
            None => path.to_string(),
        };
        let response = self.request(reqwest::Method::POST, &path).json(&body).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn csrf(&self) -> String {
        let (status, data) = self.get("getalldata").await;
        assert_eq!(status, StatusCode::OK, "{data}");
        data["_csrf"].as_str().expect("a csrf token").to_string()
    }
}

pub(crate) async fn user(app: &TestApp, name: &str) -> String {
    crate::common::register_user(app, name, false).await
}

#[tokio::test]
async fn a_session_cookie_gates_the_wallet_and_every_post_needs_the_csrf_token() {
    let app = TestApp::spawn().await;
    user(&app, "alice").await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.get("ping").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(browser.get("getalldata").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(browser.login("alice", "wrong-password").await.status(), StatusCode::UNAUTHORIZED);
    assert!(browser.cookie.is_none());

    assert_eq!(browser.login("alice", "alice-password").await.status(), StatusCode::OK);
    assert_eq!(browser.get("ping").await.0, StatusCode::OK);
    let csrf = browser.csrf().await;
    let refusal = json!({"error": {"message": "Could not verify connection.  Please logout and try again."}});
    let (status, body) = browser.post("logout", None, json!({})).await;
    assert_eq!((status, body), (StatusCode::OK, refusal.clone()), "refused as the original server refused it");
    assert_eq!(browser.post("logout", Some("forged"), json!({})).await, (StatusCode::OK, refusal));
    assert_eq!(browser.get("ping").await.0, StatusCode::OK, "a rejected logout ends nothing");
    assert_eq!(browser.post("logout", Some(&csrf), json!({})).await.0, StatusCode::OK);
    assert_eq!(browser.get("ping").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn get_all_data_shows_the_node_a_receive_address_and_exact_balances() {
    let app = TestApp::spawn().await;
    let alice = user(&app, "alice").await;
    let mut browser = Browser::new(&app);
    browser.login("alice@example.com", "alice-password").await;
    let (status, data) = browser.get("getalldata").await;
    assert_eq!(status, StatusCode::OK, "{data}");
    assert_eq!(data["balances"], json!({"btcfunds": 0, "lntfunds": 0}));
    let node_id = data["info"]["nodeId"].as_str().unwrap();
    assert_eq!(node_id.len(), 66, "a 33-byte compressed public key");
    assert!(node_id.starts_with("02") || node_id.starts_with("03"));
    assert_eq!(data["info"]["synchronized"], true);
    assert!(data["info"]["blockheight"].as_u64().unwrap() >= 100);
    let address = data["address"].as_str().unwrap();
    let parsed = bitcoin::Address::from_str(address).expect("a valid address");
    assert!(parsed.require_network(bitcoin::Network::Regtest).is_ok(), "a regtest bech32 address: {address}");
    assert!(address.starts_with("bcrt1q"));

    // The chain watcher's part: the native deposit funds the on-chain account.
    let accounts = app.get(&format!("/v1/accounts?owner={alice}")).await;
    let purposes: Vec<&str> = accounts.body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|account| account["purpose"].as_str().unwrap())
        .collect();
    assert_eq!(purposes, ["lightning", "onchain"]);
    app.deposit(&format!("btc:{alice}:onchain"), "0.12345678").await;
    let (_, data) = browser.get("getalldata").await;
    assert_eq!(data["balances"]["btcfunds"].to_string(), "12345678", "in satoshis, exact, never a float");
    assert_eq!(browser.get("getalldata").await.1["address"], address, "the address is stable");
}

#[tokio::test]
async fn a_qr_image_decodes_back_to_its_input_and_bad_input_is_a_400() {
    let app = TestApp::spawn().await;
    user(&app, "alice").await;
    let mut browser = Browser::new(&app);
    let input = "lnbcrt1500n1pjexampleinvoicetext";
    let (status, _) = browser.get(&format!("getqrimage?inputcode={input}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    browser.login("alice", "alice-password").await;
    let response =
        browser.request(reqwest::Method::GET, &format!("getqrimage?inputcode={input}")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    let png = response.bytes().await.unwrap();

    let decoder = png::Decoder::new(std::io::Cursor::new(png.to_vec()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    let (width, height) = (frame.width as usize, frame.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_, content) = grids[0].decode().expect("a standard QR reader decodes it");
    assert_eq!(content, input);

    assert_eq!(browser.get("getqrimage?inputcode=").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(browser.get("getqrimage").await.0, StatusCode::BAD_REQUEST);
    let oversized = "x".repeat(3_000);
    assert_eq!(browser.get(&format!("getqrimage?inputcode={oversized}")).await.0, StatusCode::BAD_REQUEST);
    // Few enough characters, but more bytes than one image holds.
    let wide = "%C3%A9".repeat(1_500);
    assert_eq!(browser.get(&format!("getqrimage?inputcode={wide}")).await.0, StatusCode::UNPROCESSABLE_ENTITY);
}

fn sign_invoice(
    currency: lightning_invoice::Currency,
    secret: &bitcoin::secp256k1::SecretKey,
    msat: Option<u64>,
    expiry_secs: u64,
    age_secs: u64,
) -> String {
    use bitcoin::hashes::{sha256, Hash};
    let builder = lightning_invoice::InvoiceBuilder::new(currency)
        .description("test".into())
        .payment_hash(sha256::Hash::hash(&rand::random::<[u8; 32]>()))
        .payment_secret(lightning_invoice::PaymentSecret(rand::random()))
        .timestamp(std::time::SystemTime::now() - std::time::Duration::from_secs(age_secs))
        .min_final_cltv_expiry_delta(144)
        .expiry_time(std::time::Duration::from_secs(expiry_secs));
    let builder = match msat {
        Some(msat) => builder.amount_milli_satoshis(msat),
        None => builder,
    };
    builder
        .build_signed(|hash| bitcoin::secp256k1::Secp256k1::new().sign_ecdsa_recoverable(hash, secret))
        .unwrap()
        .to_string()
}

async fn node_secret(app: &TestApp) -> bitcoin::secp256k1::SecretKey {
    let hex: String = app.sql().await.query_one("SELECT secret_key_hex FROM lightning_node", &[]).await.unwrap().get(0);
    bitcoin::secp256k1::SecretKey::from_str(&hex).unwrap()
}

/// A registered user, logged in, counting in BTC (the tests' amounts are in BTC): the
/// browser, the session's CSRF token and the user id.
pub(crate) async fn logged_in<'a>(app: &'a TestApp, name: &str) -> (Browser<'a>, String, String) {
    let user_id = user(app, name).await;
    let mut browser = Browser::new(app);
    assert_eq!(browser.login(name, &format!("{name}-password")).await.status(), StatusCode::OK);
    let csrf = browser.csrf().await;
    let (status, reply) = browser.post("setdenomination", Some(&csrf), json!({"denomination": "BTC"})).await;
    assert_eq!((status, reply), (StatusCode::OK, json!({})));
    (browser, csrf, user_id)
}

pub(crate) async fn funds(browser: &Browser<'_>) -> (String, String) {
    let (_, data) = browser.get("getalldata").await;
    (data["balances"]["btcfunds"].to_string(), data["balances"]["lntfunds"].to_string())
}

#[tokio::test]
async fn an_invoice_of_this_node_is_paid_once_between_two_users() {
    let app = TestApp::spawn().await;
    let (bob, bob_csrf, _) = logged_in(&app, "bob").await;
    let (alice_browser, csrf, alice) = logged_in(&app, "alice").await;
    let (status, created) =
        bob.post("createinvoice", Some(&bob_csrf), json!({"amount": 0.001, "memo": "coffee", "quickpay": false})).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let payment_request = created["payment_request"].as_str().unwrap().to_string();

    let invoice =
        lightning_invoice::Bolt11Invoice::from_str(&payment_request).expect("a standard BOLT11 decoder accepts it");
    assert_eq!(invoice.currency(), lightning_invoice::Currency::Regtest);
    assert_eq!(invoice.amount_milli_satoshis(), Some(100_000_000));
    assert_eq!(invoice.expiry_time(), std::time::Duration::from_secs(86_400));
    assert!(invoice.check_signature().is_ok());
    let node_id = bob.get("getalldata").await.1["info"]["nodeId"].as_str().unwrap().to_string();
    assert_eq!(hex::encode(invoice.recover_payee_pub_key().serialize()), node_id, "signed by the node key");
    match invoice.description() {
        lightning_invoice::Bolt11InvoiceDescriptionRef::Direct(description) => {
            assert_eq!(description.to_string(), "coffee")
        }
        other => panic!("unexpected description {other:?}"),
    }

    app.deposit(&format!("btc:{alice}:lightning"), "0.01").await;
    let wrong =
        alice_browser.post("sendinvoice", Some(&csrf), json!({"invoiceid": payment_request, "password": "nope"})).await;
    assert_eq!(wrong.1["error"]["message"], "invalid password");
    let (status, paid) = alice_browser
        .post(
            "sendinvoice",
            Some(&csrf),
            json!({"invoiceid": payment_request, "alias": "bob", "password": "alice-password"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(paid.get("error").is_none(), "{paid}");
    assert_eq!(funds(&alice_browser).await, ("0".into(), "0.009".into()));
    assert_eq!(funds(&bob).await, ("0".into(), "0.001".into()));
    let again = alice_browser
        .post("sendinvoice", Some(&csrf), json!({"invoiceid": payment_request, "password": "alice-password"}))
        .await;
    assert_eq!(again.1["error"]["message"], "invoice is already paid");
    assert_eq!(funds(&alice_browser).await, ("0".into(), "0.009".into()), "paying twice moves nothing");

    let (_, alice_data) = alice_browser.get("getalldata").await;
    assert_eq!(
        alice_data["quickpaynodes"],
        json!({node_id.as_str(): {"alias": "bob", "server": "", "channelserver": ""}})
    );
    let newest = &alice_data["transactions"][0];
    assert_eq!(
        (newest["type"].as_str(), newest["amount"].to_string()),
        (Some("payment"), "0.001".to_string()),
        "newest first"
    );
    let quick = alice_browser
        .post(
            "quickpay",
            Some(&csrf),
            json!({"dest": "bob", "amount": 0.0001, "memo": "tip", "password": "alice-password"}),
        )
        .await;
    assert!(quick.1.get("error").is_none(), "{}", quick.1);
    assert_eq!(funds(&bob).await, ("0".into(), "0.0011".into()));
    let unknown = alice_browser
        .post("quickpay", Some(&csrf), json!({"dest": "carol", "amount": 0.0001, "password": "alice-password"}))
        .await;
    assert_eq!(unknown.1["error"]["message"], "Cannot find address to request invoice.");
    crate::common::assert_read_models_equal_replay(&app.database).await;
}

#[tokio::test]
async fn invoices_that_cannot_be_paid_are_refused_and_move_nothing() {
    let app = TestApp::spawn().await;
    let (bob, bob_csrf, _) = logged_in(&app, "bob").await;
    let (alice_browser, csrf, alice) = logged_in(&app, "alice").await;
    app.deposit(&format!("btc:{alice}:lightning"), "0.001").await;
    let pay = |invoice: String| json!({"invoiceid": invoice, "password": "alice-password"});
    let secret = node_secret(&app).await;
    let stranger = bitcoin::secp256k1::SecretKey::from_slice(&[7; 32]).unwrap();

    let cases = [
        ("not an invoice".to_string(), "invalid invoice"),
        (
            sign_invoice(lightning_invoice::Currency::Bitcoin, &secret, Some(1_000), 3_600, 0),
            "invoice is for another network",
        ),
        (sign_invoice(lightning_invoice::Currency::Regtest, &secret, Some(1_000), 60, 120), "invoice is expired"),
        (
            sign_invoice(lightning_invoice::Currency::Regtest, &stranger, Some(1_000), 3_600, 0),
            "no route to the destination node",
        ),
        (sign_invoice(lightning_invoice::Currency::Regtest, &secret, Some(1_000), 3_600, 0), "invoice not found"),
    ];
    for (invoice, message) in cases {
        let (status, reply) = alice_browser.post("sendinvoice", Some(&csrf), pay(invoice)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(reply["error"]["message"], message);
    }
    let (_, amountless) = bob.post("createinvoice", Some(&bob_csrf), json!({"memo": "any amount"})).await;
    let reply = alice_browser
        .post("sendinvoice", Some(&csrf), pay(amountless["payment_request"].as_str().unwrap().to_string()))
        .await;
    assert_eq!(reply.1["error"]["message"], "invoice has no amount");
    let (_, big) = bob.post("createinvoice", Some(&bob_csrf), json!({"amount": 0.002, "memo": "too much"})).await;
    let reply =
        alice_browser.post("sendinvoice", Some(&csrf), pay(big["payment_request"].as_str().unwrap().to_string())).await;
    assert_eq!(reply.1["error"]["message"], "insufficient funds");
    assert_eq!(funds(&alice_browser).await, ("0".into(), "0.001".into()));
    assert_eq!(funds(&bob).await, ("0".into(), "0".into()));
}

#[tokio::test]
async fn amounts_are_shown_and_taken_in_the_users_denomination() {
    let app = TestApp::spawn().await;
    let alice = user(&app, "alice").await;
    let mut browser = Browser::new(&app);
    browser.login("alice", "alice-password").await;
    app.deposit(&format!("btc:{alice}:onchain"), "0.015").await;
    let csrf = browser.csrf().await;
    assert_eq!(browser.get("getalldata").await.1["denomination"], "sat", "as the original showed amounts");
    let unknown = browser.post("setdenomination", Some(&csrf), json!({"denomination": "wei"})).await;
    assert!(unknown.1["error"]["message"].as_str().unwrap().contains("unknown denomination"), "{}", unknown.1);
    for (unit, shown) in [("mBTC", "15"), ("bits", "15000"), ("sat", "1500000"), ("BTC", "0.015")] {
        let (status, reply) = browser.post("setdenomination", Some(&csrf), json!({"denomination": unit})).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
        let (_, data) = browser.get("getalldata").await;
        assert_eq!(data["balances"]["btcfunds"].to_string(), shown, "in {unit}");
    }
    browser.post("setdenomination", Some(&csrf), json!({"denomination": "sat"})).await;
    let (_, created) = browser.post("createinvoice", Some(&csrf), json!({"amount": 1500, "memo": "in sats"})).await;
    let invoice = lightning_invoice::Bolt11Invoice::from_str(created["payment_request"].as_str().unwrap()).unwrap();
    assert_eq!(invoice.amount_milli_satoshis(), Some(1_500_000), "1500 sat");
    let (_, fractional) =
        browser.post("createinvoice", Some(&csrf), json!({"amount": 0.5, "memo": "half a sat"})).await;
    assert!(fractional["error"]["message"].is_string(), "less than a satoshi is refused: {fractional}");
    browser.post("setdenomination", Some(&csrf), json!({"denomination": "BTC"})).await;
    // Past what millisatoshis (or a Decimal) can count: refused, never a panic.
    let (status, reply) = browser.post("createinvoice", Some(&csrf), json!({"amount": 8e20, "memo": "too much"})).await;
    assert_eq!(status, StatusCode::OK, "answered in the dialect's format: {reply}");
    assert!(reply["error"]["message"].is_string(), "an absurd amount is refused: {reply}");
}

#[tokio::test]
async fn a_channel_moves_on_chain_funds_to_lightning_when_active_and_back_when_closed() {
    let app = TestApp::spawn().await;
    let (browser, csrf, alice) = logged_in(&app, "alice").await;
    app.deposit(&format!("btc:{alice}:onchain"), "0.01").await;
    let remote = "02".to_string() + &"11".repeat(32);
    let remote_key = bitcoin::secp256k1::PublicKey::from_secret_key(
        &bitcoin::secp256k1::Secp256k1::new(),
        &bitcoin::secp256k1::SecretKey::from_slice(&[9; 32]).unwrap(),
    )
    .to_string();
    assert_eq!(
        browser.post("openchannel", Some(&csrf), json!({"remotenode": remote, "amount": 0.001})).await.1["error"]
            ["message"],
        "invalid remote node"
    );
    let too_small =
        browser.post("openchannel", Some(&csrf), json!({"remotenode": remote_key, "amount": 0.00019999})).await;
    assert!(
        too_small.1["error"]["message"].as_str().unwrap().contains("between 20000 and 16777215 sat"),
        "{}",
        too_small.1
    );
    let too_big =
        browser.post("openchannel", Some(&csrf), json!({"remotenode": remote_key, "amount": 0.16777216})).await;
    assert!(too_big.1["error"]["message"].is_string());
    let poor = browser.post("openchannel", Some(&csrf), json!({"remotenode": remote_key, "amount": 0.011})).await;
    assert_eq!(poor.1["error"]["message"], "insufficient funds");

    let (status, opened) =
        browser.post("openchannel", Some(&csrf), json!({"remotenode": remote_key, "amount": 0.004})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(opened.get("error").is_none(), "{opened}");
    let (_, data) = browser.get("getalldata").await;
    let channel = data["channels"][0].clone();
    assert_eq!(channel["state"], "Pending (3 blocks)", "as lnd reported it");
    assert_eq!((channel["channel"].as_str(), channel["active"].as_bool()), (Some("N/A"), Some(true)));
    assert_eq!(channel["capacity"].to_string(), "0.004");
    assert_eq!(channel["node"], remote_key.as_str());
    let channelpoint = channel["channelpoint"].as_str().unwrap().to_string();
    let (txid, index) = channelpoint.split_once(':').unwrap();
    assert_eq!((txid.len(), index), (64, "0"), "txid:index");

    crate::common::eventually(20, "the channel is active", || async {
        browser.get("getalldata").await.1["channels"][0]["state"] == "Open"
    })
    .await;
    assert_eq!(funds(&browser).await, ("0.006".into(), "0.004".into()));

    let wrong =
        browser.post("closechannel", Some(&csrf), json!({"channelpoint": channelpoint, "password": "nope"})).await;
    assert_eq!(wrong.1["error"]["message"], "invalid password");
    let closing = browser
        .post("closechannel", Some(&csrf), json!({"channelpoint": channelpoint, "password": "alice-password"}))
        .await;
    assert!(closing.1.get("error").is_none(), "{}", closing.1);
    assert_eq!(browser.get("getalldata").await.1["channels"][0]["state"], "Closing");
    crate::common::eventually(20, "the channel is closed", || async {
        browser.get("getalldata").await.1["channels"] == json!([])
    })
    .await;
    assert_eq!(funds(&browser).await, ("0.01".into(), "0".into()), "the balance returned on chain");
    let again = browser
        .post("closechannel", Some(&csrf), json!({"channelpoint": channelpoint, "password": "alice-password"}))
        .await;
    assert!(again.1.get("error").is_none(), "closing again replays the first close: {}", again.1);
    assert_eq!(funds(&browser).await, ("0.01".into(), "0".into()), "and moves nothing");
    let unknown =
        browser.post("closechannel", Some(&csrf), json!({"channelpoint": "ab:0", "password": "alice-password"})).await;
    assert_eq!(unknown.1["error"]["message"], "channel not found");
    crate::common::assert_read_models_equal_replay(&app.database).await;
}
