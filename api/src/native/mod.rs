//! The native ledger API under `/v1`, for operators and the other dialects' back offices.
//! Admin only (`Authorization: Bearer $LEDGER_ADMIN_KEY`); amounts are decimal strings;
//! errors are `{"error":{"code","message"}}`.

mod accounts;
mod assets;
mod auth;
mod dto;
mod error;
mod events;
mod holds;
mod json;
mod movements;
mod stream;

use axum::routing::{get, post};
use axum::Router;

use crate::app::AppState;
pub use error::NativeError;

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/assets", post(assets::define).get(assets::list))
        .route("/v1/accounts", post(accounts::create).get(accounts::list))
        .route("/v1/accounts/{id}", get(accounts::show))
        .route("/v1/deposits", post(movements::deposit))
        .route("/v1/withdrawals", post(movements::withdraw))
        .route("/v1/transfers", post(movements::transfer))
        .route("/v1/holds", post(holds::place))
        .route("/v1/accounts/{id}/holds", get(holds::list))
        .route("/v1/accounts/{id}/holds/{hold}/release", post(holds::release))
        .route("/v1/accounts/{id}/holds/{hold}/capture", post(holds::capture))
        .route("/v1/events", get(events::list))
        .route("/v1/events/stream", get(stream::stream))
        .route("/v1/{*rest}", axum::routing::any(unknown_route))
        .route_layer(axum::middleware::from_fn_with_state(state, auth::require_admin))
}

async fn unknown_route() -> NativeError {
    crate::AppError::NotFound("route").into()
}
