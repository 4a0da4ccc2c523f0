//! Test harness: one throwaway PostgreSQL cluster per test binary, a fresh database per
//! test, and the real router served over real HTTP on port 0.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use api::admin_key::AdminKey;
use ledger::embedded_pg::{Durability, EmbeddedPostgres};
use ledger::service::{Service, ServiceConfig};
use reqwest::StatusCode;
use serde_json::Value;
use store::DatabaseTarget;
use tokio::sync::OnceCell;

pub const ADMIN_KEY: &str = "test-admin-key";
/// The embedded Lightning node makes a block this often, in tests.
pub const BLOCK_INTERVAL_MS: u64 = 500;
/// The built-in Gradido network confirms this long after signing, in tests.
pub const GRADIDO_CONFIRM_DELAY_MS: u64 = 1_500;

struct Cluster {
    postgres: EmbeddedPostgres,
    /// Holding its stdin keeps the server alive; it stops when this process exits.
    _server: std::process::Child,
}

static CLUSTER: OnceCell<Cluster> = OnceCell::const_new();
static NEXT_DATABASE: AtomicU32 = AtomicU32::new(0);

async fn cluster() -> &'static Cluster {
    CLUSTER
        .get_or_init(|| async {
            remove_clusters_of_finished_runs();
            let root = PathBuf::from(format!("/tmp/ledger-tests-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            let postgres = EmbeddedPostgres::prepare(&root, Durability::Throwaway).await.expect("prepare test cluster");
            let server = postgres.start_attached().await.expect("start test cluster");
            Cluster { postgres, _server: server }
        })
        .await
}

/// Earlier test processes leave their cluster's files behind (their server stopped with
/// them); remove those whose process is gone.
fn remove_clusters_of_finished_runs() {
    let Ok(entries) = std::fs::read_dir("/tmp") else { return };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|name| name.strip_prefix("ledger-tests-")) else { continue };
        if !std::path::Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The path of an installed PostgreSQL program of the test cluster (`pg_dump`, ...).
pub async fn cluster_tool(name: &str) -> PathBuf {
    cluster().await.postgres.tool(name)
}

/// A database of its own, migrated by the service on start.
pub async fn fresh_database() -> DatabaseTarget {
    let cluster = cluster().await;
    let name = format!("test_{}_{}", std::process::id(), NEXT_DATABASE.fetch_add(1, Ordering::Relaxed));
    cluster.postgres.create_database_named(&name).await.expect("create test database");
    cluster.postgres.target_for(&name)
}

pub struct TestApp {
    pub base_url: String,
    pub database: DatabaseTarget,
    pub http: reqwest::Client,
    service: Option<Service>,
    server: tokio::task::JoinHandle<()>,
}

/// A test's server stops with its `TestApp`, so tests sharing the process never see it; and
/// every test's service, stopped or dropped, handed out no pooled connection inside a
/// transaction.
impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        if let (Some(service), false) = (&self.service, std::thread::panicking()) {
            let leaks = service.state.ledger.bus.transaction_leaks().count();
            assert_eq!(leaks, 0, "pooled connections found inside a transaction at checkout");
        }
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub replayed: bool,
    pub body: Value,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_on(fresh_database().await).await
    }

    /// Serves a database that may already hold events (a restart).
    pub async fn spawn_on(database: DatabaseTarget) -> Self {
        Self::spawn_with(database, None).await
    }

    /// Serves a database with Joy Plus withdrawals going to `chain`.
    pub async fn spawn_with(
        database: DatabaseTarget,
        chain: Option<std::sync::Arc<dyn app::ports::chain::Chain>>,
    ) -> Self {
        Self::spawn_configured(database, chain, Default::default(), Default::default()).await
    }

    /// Serves a fresh database with these sign-in limits, behind these proxies.
    pub async fn spawn_throttled(
        throttle: app::credentials::ThrottleSettings,
        trusted_proxies: app::credentials::TrustedProxies,
    ) -> Self {
        Self::spawn_configured(fresh_database().await, None, throttle, trusted_proxies).await
    }

    async fn spawn_configured(
        database: DatabaseTarget,
        chain: Option<std::sync::Arc<dyn app::ports::chain::Chain>>,
        throttle: app::credentials::ThrottleSettings,
        trusted_proxies: app::credentials::TrustedProxies,
    ) -> Self {
        let service = Service::start(ServiceConfig {
            read_your_writes_timeout: Duration::from_secs(10),
            gradido_confirm_delay: Duration::from_millis(GRADIDO_CONFIRM_DELAY_MS),
            node: app::ports::node::NodeSettings {
                block_interval: Duration::from_millis(BLOCK_INTERVAL_MS),
                ..Default::default()
            },
            chain,
            throttle,
            trusted_proxies,
            ..ServiceConfig::new(database.clone(), AdminKey::from_secret(ADMIN_KEY))
        })
        .await
        .expect("service starts");
        let (base_url, server) = service.serve_on_loopback().await.expect("serve");
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("client");
        Self { base_url, database, http, service: Some(service), server }
    }

    pub fn service(&self) -> &Service {
        self.service.as_ref().expect("running")
    }

    /// Stops serving and waits for the projectors and process managers to stop.
    pub async fn stop(mut self) {
        self.server.abort();
        if let Some(service) = self.service.take() {
            let leaks = service.state.ledger.bus.transaction_leaks().clone();
            service.stop().await;
            assert_eq!(leaks.count(), 0, "pooled connections found inside a transaction at checkout");
        }
    }

    pub async fn post(&self, path: &str, body: Value, idempotency_key: Option<&str>) -> Reply {
        let mut request = self.http.post(format!("{}{path}", self.base_url)).bearer_auth(ADMIN_KEY).json(&body);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        reply(request.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        let request = self.http.get(format!("{}{path}", self.base_url)).bearer_auth(ADMIN_KEY);
        reply(request.send().await.expect("request")).await
    }

    pub async fn open_account(&self, id: &str, asset: &str) {
        let reply = self.post("/v1/accounts", serde_json::json!({ "id": id, "asset": asset }), None).await;
        assert_eq!(reply.status, StatusCode::CREATED, "open {id}: {}", reply.body);
    }

    pub async fn deposit(&self, account: &str, amount: &str) {
        let key = uuid::Uuid::new_v4().to_string();
        let reply =
            self.post("/v1/deposits", serde_json::json!({ "account": account, "amount": amount }), Some(&key)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "deposit to {account}: {}", reply.body);
    }

    pub async fn balance(&self, account: &str) -> String {
        let reply = self.get(&format!("/v1/accounts/{account}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["balance"].as_str().expect("balance").to_string()
    }

    pub async fn sql(&self) -> tokio_postgres::Client {
        connect(&self.database).await
    }
}

pub async fn connect(database: &DatabaseTarget) -> tokio_postgres::Client {
    let config = database.postgres_config().expect("config");
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    client
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let replayed = response.headers().get("idempotency-replayed").is_some_and(|value| value == "true");
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply { status, replayed, body }
}

/// Per asset: the sum of every balance (system accounts included) and the transit balance.
/// Conservation means the sum is exactly zero; at a quiescent point transit is zero too.
pub async fn asset_totals(
    client: &tokio_postgres::Client,
) -> Vec<(String, rust_decimal::Decimal, rust_decimal::Decimal)> {
    let rows = client
        .query(
            "SELECT asset, sum(amount), coalesce(sum(amount) FILTER (WHERE account_id LIKE 'transit:%'), 0) \
             FROM balances GROUP BY asset ORDER BY asset",
            &[],
        )
        .await
        .expect("totals");
    rows.iter().map(|row| (row.get(0), row.get(1), row.get(2))).collect()
}

/// Fails unless no user account is below zero.
pub async fn assert_no_negative_user_balance(client: &tokio_postgres::Client) {
    let negative: i64 = client
        .query_one("SELECT count(*) FROM balances WHERE NOT is_system AND (amount < 0 OR available < 0)", &[])
        .await
        .expect("negative balances")
        .get(0);
    assert_eq!(negative, 0, "a user account went below zero");
}

/// Fails unless every aggregate's sequence runs 1, 2, 3, ... without a gap (docs/design.md 8).
pub async fn assert_sequences_contiguous(client: &tokio_postgres::Client) {
    let gaps: i64 = client
        .query_one(
            "SELECT count(*) FROM (SELECT aggregate_type, aggregate_id FROM events GROUP BY 1, 2 \
             HAVING min(sequence) <> 1 OR max(sequence) <> count(*)) broken",
            &[],
        )
        .await
        .expect("sequences")
        .get(0);
    assert_eq!(gaps, 0, "an aggregate's sequence has a gap");
}

/// Fails unless every read table equals a fresh rebuild from the events.
pub async fn assert_read_models_equal_replay(database: &DatabaseTarget) {
    let pools = store::connect(database).await.expect("pools");
    let comparisons = projections::rebuild::verify(&pools.reads, projections::rebuild::DEFAULT_PAGE_EVENTS, &|_, _| {})
        .await
        .expect("replay");
    for comparison in comparisons {
        assert!(comparison.identical, "{} differs from its rebuild: {comparison:?}", comparison.table);
    }
}

/// Polls `check` until it holds, for at most `seconds`.
pub async fn eventually<F, Fut>(seconds: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

/// Registers `name` (`name@example.com`, password `name-password`, named `name Tester`);
/// answers the user id.
pub async fn register_user(app: &TestApp, name: &str, admin: bool) -> String {
    let user = app::use_cases::users::NewUser {
        email: format!("{name}@example.com"),
        username: name.to_string(),
        password: format!("{name}-password"),
        first_name: Some(name.to_string()),
        last_name: Some("Tester".to_string()),
        admin,
    };
    app::use_cases::users::register(&app.service().state.ledger, user).await.expect("register").id
}

/// A Gradido session of a user `register_user` made.
pub async fn gradido_session(app: &TestApp, name: &str) -> i64 {
    let reply: Value = app
        .http
        .post(format!("{}/login_api/unsecureLogin", app.base_url))
        .json(&serde_json::json!({"email": format!("{name}@example.com"), "password": format!("{name}-password")}))
        .send()
        .await
        .expect("unsecureLogin")
        .json()
        .await
        .expect("a JSON answer");
    reply["session_id"].as_i64().unwrap_or_else(|| panic!("a session: {reply}"))
}

/// Held by the tests that hash many passwords and by the one that times hashing: argon2 runs
/// on a bounded pool, so a flood of hashing in a parallel test skews the timing.
pub static PASSWORD_HASHING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Waits until the chain sealer has sealed every event (and so holds no transaction open).
pub async fn wait_until_sealed(app: &TestApp) {
    let sql = app.sql().await;
    eventually(10, "every event is sealed in the chain", || async {
        let row = sql
            .query_one("SELECT (SELECT count(*) FROM events) = (SELECT count(*) FROM event_chain)", &[])
            .await
            .unwrap();
        row.get::<_, bool>(0)
    })
    .await;
}
