//! The composition root: builds the service from a database target and serves the router.

use std::sync::Arc;

use app::ports::mail::Mailer;
use app::ports::node::EmbeddedNode;
use app::Ledger;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Json, Router};
use serde_json::json;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::admin_key::AdminKey;
use crate::gradido::GradidoState;
use crate::joyplus::{JoyPlusServices, JoyState};
use crate::lightning::LightningState;
use crate::native::NativeState;
use crate::openapi::{ApiDoc, DOCS_PATH, OPENAPI_PATH};

/// Largest request body accepted by any route.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub ledger: Ledger,
    pub admin_key: Arc<AdminKey>,
    pub mailer: Arc<dyn Mailer>,
    pub node: Arc<EmbeddedNode>,
    pub joy: JoyPlusServices,
    pub credentials: Arc<app::credentials::CredentialGuard>,
    pub cookies: crate::tokens::CookiePolicy,
    pub gradido: crate::gradido::GradidoSettings,
    pub web_root: Option<crate::lightning::WebRoot>,
    pub wallet_push: Arc<crate::lightning::WalletPush>,
}

impl FromRef<AppState> for NativeState {
    fn from_ref(state: &AppState) -> Self {
        Self { ledger: state.ledger.clone(), admin_key: state.admin_key.clone() }
    }
}

impl FromRef<AppState> for GradidoState {
    fn from_ref(state: &AppState) -> Self {
        Self {
            ledger: state.ledger.clone(),
            mailer: state.mailer.clone(),
            credentials: state.credentials.clone(),
            cookies: state.cookies,
            settings: state.gradido,
        }
    }
}

impl FromRef<AppState> for LightningState {
    fn from_ref(state: &AppState) -> Self {
        Self {
            ledger: state.ledger.clone(),
            node: state.node.clone(),
            credentials: state.credentials.clone(),
            cookies: state.cookies,
            web_root: state.web_root.clone(),
            push: state.wallet_push.clone(),
        }
    }
}

impl FromRef<AppState> for JoyState {
    fn from_ref(state: &AppState) -> Self {
        Self {
            ledger: state.ledger.clone(),
            admin_key: state.admin_key.clone(),
            joy: state.joy.clone(),
            credentials: state.credentials.clone(),
            cookies: state.cookies,
        }
    }
}

/// The composition of the HTTP surface: each dialect gets its own state, taken from the
/// root state, so no dialect sees what another one holds.
pub fn router(state: AppState) -> Router {
    let native = NativeState::from_ref(&state);
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(crate::metrics::scrape))
        .merge(crate::native::routes(native.clone()).with_state(native))
        .merge({
            let gradido = GradidoState::from_ref(&state);
            crate::gradido::routes(&gradido).with_state(gradido)
        })
        .merge(crate::lightning::routes().with_state(LightningState::from_ref(&state)))
        .merge(crate::joyplus::routes().with_state(JoyState::from_ref(&state)))
        .split_for_parts();
    router
        .merge(SwaggerUi::new(DOCS_PATH).url(OPENAPI_PATH, openapi))
        .fallback(app_or_no_such_route)
        // After every route is in place: it applies to the routes registered so far.
        .method_not_allowed_fallback(crate::fallback::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.gradido, crate::gradido::any_origin))
        // The last line: a bug answers 500 (in the dialect's format, below) and is logged.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(crate::fallback::panicked))
        .layer(axum::middleware::from_fn(crate::fallback::dialect_rejections))
        .layer(axum::middleware::from_fn(crate::metrics::track_requests))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Paths of the APIs and their documents: never the web app's.
const API_PREFIXES: [&str; 8] =
    ["/v1", "/rest", "/login_api", "/api", "/passport", "/docs", "/openapi.json", "/metrics"];

/// The web client's pages where one is configured, else the dialect's "no such route".
async fn app_or_no_such_route(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let path = request.uri().path();
    let api = API_PREFIXES.iter().any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")));
    match (&state.web_root, api) {
        (Some(root), false) => {
            let root = root.clone();
            crate::lightning::serve_app(LightningState::from_ref(&state), root, request).await
        }
        _ => crate::fallback::no_such_route(request.uri().clone()).await,
    }
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
    // An operator needs to tell a database that is down from projectors still catching up.
    let (status, summary) = match (database_up, all_ready) {
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "database_down"),
        (true, false) => (StatusCode::SERVICE_UNAVAILABLE, "catching_up"),
        (true, true) => (StatusCode::OK, "ok"),
    };
    (status, Json(json!({ "status": summary, "database": database_up, "projectors": projectors })))
}

/// Serves `router` on `listener` (plain TCP, or TLS) with peers' addresses available to
/// handlers.
pub async fn serve<L>(
    listener: L,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
{
    use axum::serve::ListenerExt;
    // Tapped, so the peer address is the connection's `ConnectInfo` for any listener.
    let listener = listener.tap_io(|_| {});
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
