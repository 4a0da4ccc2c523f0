//! The analysts' read-only role: it reads the documented views and nothing else.

use std::process::Command;

use crate::common::TestApp;
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;

const LEDGER: &str = env!("CARGO_BIN_EXE_ledger");

async fn analyst(app: &TestApp) -> tokio_postgres::Client {
    let output = Command::new(LEDGER)
        .args(["admin", "analyst-url"])
        .env("RUST_LOG", "warn")
        .env("DATABASE_URL", app.database.url())
        .output()
        .expect("run ledger");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let url = String::from_utf8(output.stdout).unwrap().trim().to_string();
    assert!(url.starts_with("postgresql://ledger_analyst:"), "{url}");
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.expect("the analyst connects");
    tokio::spawn(connection);
    client
}

#[tokio::test]
async fn the_analyst_role_reads_the_views_but_no_secret_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.open_account("alice", "BTC").await;
    app.deposit("alice", "1.5").await;
    let client = analyst(&app).await;

    let row =
        client.query_one("SELECT amount::text FROM analyst.balances WHERE account_id = 'alice'", &[]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "1.50000000");
    let flows =
        client.query_one("SELECT deposited::text FROM analyst.daily_flows WHERE asset = 'BTC'", &[]).await.unwrap();
    assert_eq!(flows.get::<_, String>(0), "1.50000000");
    for view in [
        "postings",
        "holds",
        "assets",
        "users",
        "groups",
        "gradido_transactions",
        "gradido_open_counts",
        "quickpay_contacts",
        "channels",
        "joy_wallets",
        "joy_assets",
        "joy_balances",
        "joy_locked_balances",
        "joy_chain_transfers",
        "event_chain",
    ] {
        client
            .query(&format!("SELECT * FROM analyst.{view} LIMIT 1"), &[])
            .await
            .unwrap_or_else(|error| panic!("{view}: {error}"));
    }

    for secret in [
        "SELECT password_hash FROM public.users",
        "SELECT * FROM public.joy_api_keys",
        "SELECT * FROM public.sessions",
        "SELECT * FROM public.web_sessions",
        "SELECT * FROM public.joy_sessions",
        "SELECT * FROM public.joy_totp",
        "SELECT * FROM public.lightning_node",
        "SELECT * FROM public.email_verifications",
        "SELECT * FROM public.events",
        "SELECT * FROM public.balances",
    ] {
        let error = client.query(secret, &[]).await.expect_err(secret);
        assert_eq!(error.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{secret}: {error:?}");
    }
    let columns: Vec<String> = client
        .query(
            "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'analyst'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(columns.len() > 50, "{columns:?}");
    for column in &columns {
        for secret in ["password", "sha256", "secret", "token", "csrf"] {
            assert!(!column.contains(secret), "view column {column} looks like a secret");
        }
    }

    for write in [
        "INSERT INTO analyst.assets (code, scale, defined_at) VALUES ('ZZZ', 2, now())",
        "DELETE FROM analyst.balances",
        "CREATE TABLE analyst.scratch (x int)",
        "CREATE TABLE public.scratch (x int)",
    ] {
        assert!(client.batch_execute(write).await.is_err(), "{write} must fail");
    }
    let balance: String = app
        .sql()
        .await
        .query_one("SELECT amount::text FROM balances WHERE account_id = 'alice'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(balance, "1.50000000", "nothing changed");
}
