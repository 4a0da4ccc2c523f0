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
    let openapi = crate::openapi_responses::complete(openapi);
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
            crate::lightning::serve_app(LightningState::from_ref(&state), Some(root), request).await
        }
        _ => crate::fallback::no_such_route(request.uri().clone()).await,
    }
}

/// Whether the database answers and every projector has started.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "Healthy: `{\"status\":\"ok\",\"database\":true,\"projectors\":{...}}`", body = serde_json::Value), (status = 503, description = "Database or a projector not ready: `status` is `database_down` or `catching_up`", body = serde_json::Value)))]
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

/// Longest a client may take to send a request's headers: a connection that never finishes
/// them is closed instead of held.
pub const HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// Longest a client may take to send a request's body once its headers are in.
pub const BODY_READ_TIMEOUT_MS: u64 = 30_000;

/// Serves `router` on `listener` (plain TCP, or TLS) with peers' addresses available to
/// handlers, until `shutdown`; then lets the connections finish their requests. Hyper
/// directly rather than `axum::serve`, which sets no header read timeout.
/// A listener whose connections send each write at once: an answer is written in pieces
/// (headers, body), and Nagle's algorithm would hold the second piece for the client's
/// delayed ACK, adding milliseconds to every request on a kept-alive connection.
pub fn without_nagle(listener: tokio::net::TcpListener) -> impl axum::serve::Listener<Addr = std::net::SocketAddr> {
    axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
    })
}

pub async fn serve<L>(
    mut listener: L,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
{
    let router = router.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(std::time::Duration::from_millis(
        BODY_READ_TIMEOUT_MS,
    )));
    let (stop_sender, stop_receiver) = tokio::sync::watch::channel(());
    // Every connection holds a guard; the tracker's `closed` resolves when none is left.
    let (tracker, guard) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let service =
            tower::ServiceExt::map_request(router.clone(), move |request: hyper::Request<hyper::body::Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                request
            });
        let mut stop = stop_receiver.clone();
        let guard = guard.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_millis(HEADER_READ_TIMEOUT_MS))
                .serve_connection(
                    hyper_util::rt::TokioIo::new(io),
                    hyper_util::service::TowerToHyperService::new(service),
                )
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, %peer, "connection ended");
                    }
                }
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(guard);
        });
    }
    drop(stop_receiver);
    drop(guard);
    let _ = stop_sender.send(());
    tracker.closed().await;
    Ok(())
}
