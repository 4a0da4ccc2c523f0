//! What the original myLightning web client (GitHub seregost/mylightning, `www/`, served by
//! its Node server's `src/server.ts` and `src/routes/v1-wallet.ts`) sends and reads, over
//! HTTP against this server: CSRF as csurf took it, the pay dialog's invoice details, ...

use crate::common::TestApp;
use crate::lightning::logged_in;
use reqwest::StatusCode;
use serde_json::{json, Value};

const CSRF_REFUSAL: &str = "Could not verify connection.  Please logout and try again.";

/// `www/services/lightning.service.ts` puts `_csrf` in every POST body; csurf also took the
/// query and four headers.
#[tokio::test]
async fn the_csrf_token_counts_in_the_body_the_query_or_csurfs_headers() {
    let app = TestApp::spawn().await;
    let (browser, csrf, _) = logged_in(&app, "alice").await;
    let invoice = |memo: &str| json!({"amount": 0.001, "memo": memo, "quickpay": false});

    let mut in_body = invoice("body");
    in_body["_csrf"] = json!(csrf);
    let (status, reply) = browser.post("createinvoice", None, in_body).await;
    assert_eq!(status, StatusCode::OK);
    assert!(reply["payment_request"].is_string(), "{reply}");
    assert!(browser.post("createinvoice", Some(&csrf), invoice("query")).await.1["payment_request"].is_string());
    for header in ["csrf-token", "xsrf-token", "x-csrf-token", "x-xsrf-token"] {
        let response = browser
            .request(reqwest::Method::POST, "createinvoice")
            .header(header, &csrf)
            .json(&invoice(header))
            .send()
            .await
            .unwrap();
        let reply: Value = response.json().await.unwrap();
        assert!(reply["payment_request"].is_string(), "{header}: {reply}");
    }
    let mut forged = invoice("forged");
    forged["_csrf"] = json!("forged");
    let (status, reply) = browser.post("createinvoice", None, forged).await;
    assert_eq!((status, reply), (StatusCode::OK, json!({"error": {"message": CSRF_REFUSAL}})));
}

/// `www/controllers/sendpayment.controller.ts` asks `getinvoicedetails` and shows
/// `amount.toFixed(2)` and `memo` before it calls `sendinvoice`.
#[tokio::test]
async fn the_pay_dialog_reads_an_invoices_amount_and_memo() {
    let app = TestApp::spawn().await;
    let (bob, bob_csrf, _) = logged_in(&app, "bob").await;
    let (alice, alice_csrf, _) = logged_in(&app, "alice").await;
    let (_, created) = bob
        .post("createinvoice", Some(&bob_csrf), json!({"amount": 0.00012, "memo": "coffee", "quickpay": false}))
        .await;
    let payment_request = created["payment_request"].as_str().unwrap().to_string();
    for pasted in [payment_request.clone(), format!("lightning:{payment_request}")] {
        let (status, details) =
            alice.post("getinvoicedetails", Some(&alice_csrf), json!({"payment_request": pasted})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(details["memo"], "coffee", "{details}");
        assert!(details["amount"].is_number(), "a number the client formats: {details}");
        assert_eq!(details["amount"].to_string(), "0.00012");
        assert_eq!(details["destination"].as_str().map(str::len), Some(66));
        assert!(details["timestamp"].is_u64());
    }
    let (status, bad) = alice.post("getinvoicedetails", Some(&alice_csrf), json!({"payment_request": "nope"})).await;
    assert_eq!((status, bad), (StatusCode::OK, json!({"error": {"message": "invalid invoice"}})));
}

/// `www/services/lightning.service.ts` reads `user.id` (sent on the WebSocket), and
/// `home.controller.js` keys `addressbook` and `quickpaynodes` by node key; the transaction
/// list reads `time_stamp`, `type`, `amount`, `total_fees`, `memo`, `hash`.
#[tokio::test]
async fn get_all_data_has_the_shapes_the_wallet_page_reads() {
    let app = TestApp::spawn().await;
    let (alice, alice_csrf, alice_id) = logged_in(&app, "alice").await;
    let (bob, bob_csrf, bob_id) = logged_in(&app, "bob").await;
    let (_, data) = alice.get("getalldata").await;
    assert_eq!(data["user"], json!({"id": alice_id}));
    let alice_node = data["info"]["nodeId"].as_str().unwrap().to_string();
    let code = data["info"]["addresscode"].as_str().unwrap();
    let parts: Vec<&str> = code.split('@').collect();
    assert_eq!(parts.len(), 3, "pubkey@host:port@webhost:webport: {code}");
    assert_eq!(parts[0], alice_node);
    assert!(parts[1].ends_with(":9735"), "{code}");
    assert_eq!(parts[2], app.base_url.trim_start_matches("http://"), "where this wallet was reached");
    let bob_node = bob.get("getalldata").await.1["info"]["nodeId"].as_str().unwrap().to_string();
    assert_ne!(alice_node, bob_node, "each user has a node of their own, as the original ran one per user");

    // Bob adds Alice by her address code, as the new-contact dialog sends it.
    let (_, added) =
        bob.post("addcontact", Some(&bob_csrf), json!({"alias": "Alice", "nodeid": code, "server": ""})).await;
    assert_eq!(added, json!({}));
    let (_, data) = bob.get("getalldata").await;
    assert_eq!(
        data["quickpaynodes"][&alice_node],
        json!({"alias": "Alice", "server": parts[2], "channelserver": parts[1]})
    );
    let entry = &data["addressbook"][&alice_node];
    assert_eq!(entry["id"], alice_node.as_str());
    assert_eq!(entry["alias"], "Alice");
    assert_eq!(entry["status"], "Connected");
    assert_eq!((entry["unknownpeer"].as_bool(), entry["channels"].as_array().map(Vec::len)), (Some(false), Some(0)));
    let (_, refused) = bob.post("addcontact", Some(&bob_csrf), json!({"alias": "x", "nodeid": "not-a-key@h:1"})).await;
    assert_eq!(refused["error"]["message"], "invalid node id");

    // Quickpay names the contact by node key.
    app.deposit(&format!("btc:{bob_id}:lightning"), "0.01").await;
    let (_, paid) = bob
        .post(
            "quickpay",
            Some(&bob_csrf),
            json!({"dest": alice_node, "amount": 0.002, "memo": "lunch", "password": "bob-password"}),
        )
        .await;
    assert_eq!(paid, json!({}));
    let (_, data) = alice.get("getalldata").await;
    let received = &data["transactions"][0];
    assert_eq!(received["type"], "invoice");
    assert_eq!(received["amount"].to_string(), "0.002");
    assert!(received["time_stamp"].is_i64() && received["total_fees"].is_number() && received["hash"].is_string());
    assert!(received["memo"].is_string());
    assert_eq!(bob.post("reconnect", Some(&bob_csrf), json!({"nodeid": code})).await.1, json!({}));
    let _ = alice_csrf;
}

/// `src/lightning/lnd.ts` `QuickPay`: another wallet asks this server for an invoice of the
/// user whose node has `pub_key`, with no session.
#[tokio::test]
async fn another_wallet_requests_an_invoice_by_node_key_without_a_session() {
    let app = TestApp::spawn().await;
    let (alice, _, _) = logged_in(&app, "alice").await;
    let alice_node = alice.get("getalldata").await.1["info"]["nodeId"].as_str().unwrap().to_string();
    let request = |body: Value| app.http.post(format!("{}/rest/v1/requestinvoice", app.base_url)).json(&body).send();
    let response = request(json!({"pub_key": alice_node, "memo": "from afar", "amount": 0.0005})).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let invoice: Value = response.json().await.unwrap();
    let text = invoice["payment_request"].as_str().expect("an invoice");
    let decoded: lightning_invoice::Bolt11Invoice = text.parse().unwrap();
    assert_eq!(hex::encode(decoded.recover_payee_pub_key().serialize()), alice_node, "payable to Alice's node");
    assert_eq!(decoded.amount_milli_satoshis(), Some(50_000_000));
    let unknown = request(json!({"pub_key": "02".to_string() + &"11".repeat(32), "amount": 1})).await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND, "as the original answered a key of no user");
}

/// `openchannel.controller.ts` sends `remotenode` as `pubkey@channelserver`;
/// `home.controller.js` closes with the channel value `getalldata` lists.
#[tokio::test]
async fn channels_open_to_a_node_code_and_close_by_the_listed_channel() {
    let app = TestApp::spawn().await;
    let (alice, csrf, alice_id) = logged_in(&app, "alice").await;
    app.deposit(&format!("btc:{alice_id}:onchain"), "0.01").await;
    let remote = format!("02{}@10.0.0.7:9735", "22".repeat(32));
    let (_, opened) = alice.post("openchannel", Some(&csrf), json!({"remotenode": remote, "amount": 0.001})).await;
    assert_eq!(opened, json!({}));
    let (_, data) = alice.get("getalldata").await;
    let channel = &data["channels"][0];
    assert_eq!(channel["node"], format!("02{}", "22".repeat(32)), "the key, without where it listens");
    let waiting = channel["waitblocks"].as_u64().unwrap();
    assert_eq!(channel["state"], format!("Pending ({waiting} blocks)"));
    let unknown = &data["addressbook"][channel["node"].as_str().unwrap()];
    assert_eq!((unknown["unknownpeer"].as_bool(), unknown["status"].as_str()), (Some(true), channel["state"].as_str()));
    crate::common::eventually(20, "the channel is open", || async {
        alice.get("getalldata").await.1["channels"][0]["state"] == "Open"
    })
    .await;
    let listed = alice.get("getalldata").await.1["channels"][0]["channel"].as_str().unwrap().to_string();
    assert_ne!(listed, "N/A");
    let (_, closing) = alice
        .post(
            "closechannel",
            Some(&csrf),
            json!({"channelpoint": listed, "password": "alice-password", "force": false}),
        )
        .await;
    assert_eq!(closing, json!({}));
    assert_eq!(alice.get("getalldata").await.1["channels"][0]["state"], "Closing");
}

/// `src/server.ts`: `GET /login` is the login page, `POST /login` takes its form-encoded
/// `username` and `password` and answers `OK` (`www/views/login.html` checks that text).
#[tokio::test]
async fn the_login_page_and_its_form_sign_in_at_the_root() {
    let app = TestApp::spawn().await;
    crate::lightning::user(&app, "alice").await;
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let root = no_redirects.get(format!("{}/", app.base_url)).send().await.unwrap();
    assert_eq!(root.status(), StatusCode::FOUND, "the app is behind the session");
    assert_eq!(root.headers()["location"], "/login");
    let page = app.http.get(format!("{}/login", app.base_url)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("name=\"password\""));
    let form = |password: &str| {
        app.http
            .post(format!("{}/login", app.base_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("username=alice%40example.com&password={password}"))
            .send()
    };
    let wrong = form("nope").await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("set-cookie").is_none());
    let signed_in = form("alice-password").await.unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert!(cookie.starts_with("connect.sid="));
    assert_eq!(signed_in.text().await.unwrap(), "OK");
    let ping = app.http.get(format!("{}/rest/v1/ping", app.base_url)).header("cookie", cookie).send().await.unwrap();
    assert_eq!(ping.status(), StatusCode::OK, "the form's session is the wallet's");
}

/// `www/services/lightning.service.ts` opens `wss://<origin>/`, sends its user id, and on
/// `newtransactions` (`params[0].memo`, `params[0].value`), `newchannels`
/// (`params[0].capacity`) or `refresh` reloads `getalldata`.
#[tokio::test]
async fn the_wallet_socket_pushes_a_received_payment_and_a_refresh_to_its_user_only() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    let app = TestApp::spawn().await;
    let (bob, bob_csrf, bob_id) = logged_in(&app, "bob").await;
    let (alice, alice_csrf, alice_id) = logged_in(&app, "alice").await;
    let socket_url = app.base_url.replace("http://", "ws://") + "/";
    let refused = tokio_tungstenite::connect_async(socket_url.clone()).await;
    assert!(refused.is_err(), "no socket without a session");
    let open = |cookie: String| {
        let mut request = socket_url.clone().into_client_request().unwrap();
        request.headers_mut().insert("cookie", cookie.parse().unwrap());
        tokio_tungstenite::connect_async(request)
    };
    let (mut socket, _) = open(bob.cookie.clone().unwrap()).await.expect("a socket for the session");
    socket.send(Message::text(bob_id.clone())).await.unwrap();
    let (mut alice_socket, _) = open(alice.cookie.clone().unwrap()).await.unwrap();
    // The original switched to whatever user id a socket sent; this one keeps its session's.
    alice_socket.send(Message::text(bob_id.clone())).await.unwrap();

    app.deposit(&format!("btc:{alice_id}:lightning"), "0.01").await;
    let (_, invoice) =
        bob.post("createinvoice", Some(&bob_csrf), json!({"amount": 0.0002, "memo": "pizza", "quickpay": false})).await;
    let payment_request = invoice["payment_request"].as_str().unwrap().to_string();
    let (_, paid) = alice
        .post("sendinvoice", Some(&alice_csrf), json!({"invoiceid": payment_request, "password": "alice-password"}))
        .await;
    assert_eq!(paid, json!({}));

    let mut methods = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !(methods.contains(&"newtransactions".to_string()) && methods.contains(&"refresh".to_string())) {
        let message =
            tokio::time::timeout_at(deadline, socket.next()).await.expect("messages in time").unwrap().unwrap();
        let message: Value = serde_json::from_str(message.to_text().unwrap()).unwrap();
        let method = message["method"].as_str().unwrap().to_string();
        if method == "newtransactions" {
            let received = &message["params"][0];
            assert_eq!(received["memo"], "pizza");
            assert!((received["value"].as_f64().unwrap() - 0.0002).abs() < 1e-12, "{received}");
            assert_eq!(received["payment_request"], payment_request.as_str());
        }
        methods.push(method);
    }
    // Alice's socket hears of her own wallet changing, never of Bob's payment received.
    let mut alice_methods = Vec::new();
    while let Ok(Some(Ok(message))) =
        tokio::time::timeout(std::time::Duration::from_millis(1_500), alice_socket.next()).await
    {
        let message: Value = serde_json::from_str(message.to_text().unwrap()).unwrap();
        alice_methods.push(message["method"].as_str().unwrap().to_string());
    }
    assert!(alice_methods.contains(&"refresh".to_string()), "{alice_methods:?}");
    assert!(!alice_methods.contains(&"newtransactions".to_string()), "{alice_methods:?}");
}
