//! The composition root: builds the service from a database target and serves the router.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use app::process_managers::transfer_completion::TransferCompletion;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Json, Router};
use domain::asset::{AssetCommand, SEEDED_ASSETS};
use domain::{AssetCode, Scale};
use projections::read_models::{
    AssetsProjector, BalancesProjector, ChannelsProjector, GradidoTransactionsProjector, GroupsProjector,
    HoldsProjector, JoyPlusProjector, PostingsProjector, QuickpayContactsProjector, UsersProjector,
};
use projections::{PerEvent, ProjectionEngine};
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::info;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::admin_key::AdminKey;
use crate::joyplus::JoyPlusServices;
use crate::openapi::{ApiDoc, DOCS_PATH, OPENAPI_PATH};
use app::ports::chain::SimulatedChain;
use app::ports::gradido_network::LocalNetwork;
use app::ports::mail::{Mailer, OutboxMailer, SmtpMailer};
use app::ports::node::{EmbeddedNode, NodeSettings};
use app::ports::passport::EmbeddedPassport;
use app::ports::sms::OutboxSms;
use app::process_managers::gradido_settlement::GradidoSettlement;
use app::AppError;
use app::{CommandBus, Ledger};
use store::DatabaseTarget;

/// Largest request body accepted by any route.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// How long a write waits for the read models before answering anyway.
pub const DEFAULT_READ_YOUR_WRITES_TIMEOUT_MS: u64 = 5_000;

#[derive(Clone)]
pub struct AppState {
    pub ledger: Ledger,
    pub admin_key: Arc<AdminKey>,
    pub mailer: Arc<dyn Mailer>,
    pub node: Arc<EmbeddedNode>,
    pub joy: JoyPlusServices,
}

pub fn router(state: AppState) -> Router {
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(crate::metrics::scrape))
        .merge(crate::native::routes(state.clone()))
        .merge(crate::gradido::routes())
        .merge(crate::lightning::routes())
        .merge(crate::joyplus::routes())
        .split_for_parts();
    router
        .merge(SwaggerUi::new(DOCS_PATH).url(OPENAPI_PATH, openapi))
        .layer(axum::middleware::from_fn(crate::metrics::track_requests))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Whether the database answers and every projector has started.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "Healthy"), (status = 503, description = "Database or a projector not ready")))]
async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let database_up = match state.ledger.reads.get().await {
        Ok(client) => client.query_one("SELECT 1", &[]).await.is_ok(),
        Err(_) => false,
    };
    let projectors: serde_json::Map<String, serde_json::Value> = state
        .ledger
        .status
        .names()
        .into_iter()
        .map(|name| (name.to_string(), json!({ "ready": state.ledger.status.is_ready(name) })))
        .collect();
    let all_ready = state.ledger.status.names().iter().all(|name| state.ledger.status.is_ready(name));
    let status = if database_up && all_ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(json!({ "database": database_up, "projectors": projectors })))
}

pub struct ServiceConfig {
    pub database: DatabaseTarget,
    pub admin_key: AdminKey,
    pub read_your_writes_timeout: Duration,
    /// How long the built-in Gradido network takes to confirm a signed transaction.
    pub gradido_confirm_delay: Duration,
    /// `host:port` of an SMTP relay; without one, mail goes to the `mail_outbox` table.
    pub smtp_relay: Option<String>,
    pub node: NodeSettings,
    /// The blockchain Joy Plus withdrawals go to; `None`: the simulated chain.
    pub chain: Option<Arc<dyn app::ports::chain::Chain>>,
}

/// The sender of the service's e-mail.
pub const MAIL_FROM: &str = "ledger <noreply@localhost>";

/// The built-in Gradido network's default confirmation delay.
pub const DEFAULT_GRADIDO_CONFIRM_DELAY_MS: u64 = 2_000;

/// Serves `router` on `listener` with peers' addresses available to handlers.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// A running service: its state for the router, and how to stop its background work.
pub struct Service {
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Service {
    /// Connects, migrates, seeds the standard assets and starts the projectors.
    pub async fn start(config: ServiceConfig) -> Result<Self, AppError> {
        let pools = store::connect(&config.database).await?;
        store::migrate(&pools.events).await?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut engine = ProjectionEngine::new(pools.reads.clone(), shutdown_rx);
        let bus = CommandBus::new(pools.events.clone(), pools.reads.clone(), engine.wakers());
        engine.spawn(BalancesProjector::default());
        engine.spawn(PostingsProjector::default());
        engine.spawn(PerEvent(HoldsProjector));
        engine.spawn(PerEvent(AssetsProjector));
        engine.spawn(PerEvent(UsersProjector));
        engine.spawn(PerEvent(GroupsProjector));
        engine.spawn(PerEvent(GradidoTransactionsProjector));
        engine.spawn(PerEvent(QuickpayContactsProjector));
        engine.spawn(PerEvent(ChannelsProjector));
        engine.spawn(PerEvent(JoyPlusProjector::default()));
        engine.spawn(TransferCompletion::new(bus.clone()));
        engine.spawn(projections::chain::ChainSealer);
        let network = LocalNetwork { confirm_delay: config.gradido_confirm_delay };
        engine.spawn(GradidoSettlement::new(bus.clone(), network));
        let chain: Arc<dyn app::ports::chain::Chain> = match config.chain.clone() {
            Some(chain) => chain,
            None => Arc::new(SimulatedChain { pool: pools.reads.clone() }),
        };
        engine.spawn(app::process_managers::chain_broadcaster::ChainBroadcaster { chain: chain.clone() });
        let (status, mut tasks) = engine.start();
        tasks.push(tokio::spawn(app::process_managers::hold_expiry::run(
            bus.clone(),
            pools.reads.clone(),
            shutdown.subscribe(),
        )));
        let orphans =
            app::use_cases::gradido::release_orphaned_holds(bus.clone(), pools.reads.clone(), shutdown.subscribe());
        tasks.push(tokio::spawn(orphans));
        seed_assets(&bus).await?;
        let ledger =
            Ledger { bus, status, reads: pools.reads, read_your_writes_timeout: config.read_your_writes_timeout };
        crate::joyplus::seed_listings(&ledger).await?;
        let mailer: Arc<dyn Mailer> = match &config.smtp_relay {
            Some(relay) => Arc::new(SmtpMailer::new(relay, MAIL_FROM)?),
            None => Arc::new(OutboxMailer { pool: ledger.reads.clone() }),
        };
        let node = Arc::new(EmbeddedNode::load_or_create(&ledger.reads, config.node).await?);
        let watcher = app::process_managers::channel_watch::run(
            ledger.bus.clone(),
            ledger.reads.clone(),
            node.clone(),
            shutdown.subscribe(),
        );
        tasks.push(tokio::spawn(watcher));
        tasks.push(tokio::spawn(app::housekeeping::run(ledger.reads.clone(), shutdown.subscribe())));
        let joy = JoyPlusServices {
            passport: Arc::new(EmbeddedPassport { pool: ledger.reads.clone() }),
            sms: Arc::new(OutboxSms { pool: ledger.reads.clone() }),
            chain,
        };
        let state = AppState { ledger, admin_key: Arc::new(config.admin_key), mailer, node, joy };
        Ok(Self { state, shutdown, tasks })
    }

    /// Stops the projectors after their current batch.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        info!("background work stopped");
    }
}

async fn seed_assets(bus: &CommandBus) -> Result<(), AppError> {
    for (code, decimals) in SEEDED_ASSETS {
        let code = AssetCode::parse(code)?;
        bus.execute(
            code.as_str(),
            AssetCommand::Define { code: code.clone(), scale: Scale::new(decimals)? },
            &store::Operation::fresh(),
        )
        .await?;
    }
    Ok(())
}

/// Where `serve` and every other subcommand keep their files.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from("ledger-data")
}
