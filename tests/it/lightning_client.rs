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
