//! HTTP side of the metrics (the registry is `store::metrics`): the middleware that counts
//! every request and `GET /metrics`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::warn;

use crate::router::AppState;

/// Counts and times every request, by its route pattern (never the raw path: ids would
/// make unbounded label sets).
pub async fn track_requests(request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let started = Instant::now();
    let response = next.run(request).await;
    store::metrics::request_finished(method, route, response.status().as_u16(), started.elapsed());
    response
}

/// `GET /metrics`: the Prometheus text format; needs `Authorization: Bearer <admin key>`.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(("admin_bearer" = [])), responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String), (status = 401, description = "Missing or wrong admin key")))]
pub async fn scrape(State(state): State<AppState>, request: Request) -> Response {
    if !state.admin_key.verify_bearer(request.headers()) {
        return (StatusCode::UNAUTHORIZED, "admin key required\n").into_response();
    }
    match state.ledger.reads.get().await {
        Ok(client) => {
            if let Err(error) = store::metrics::read_progress(&client).await {
                warn!(%error, "metrics: projector progress unavailable");
            }
        }
        Err(error) => warn!(%error, "metrics: projector progress unavailable"),
    }
    let Ok(text) = store::metrics::encode_text() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    ([(CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}
