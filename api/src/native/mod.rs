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

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{NativeError, RETRY_AFTER_UNAVAILABLE_SECONDS};

/// What the native API's handlers need of the service.
#[derive(Clone)]
pub struct NativeState {
    pub ledger: app::Ledger,
    pub admin_key: std::sync::Arc<crate::admin_key::AdminKey>,
}

pub fn routes(state: NativeState) -> OpenApiRouter<NativeState> {
    OpenApiRouter::new()
        .routes(routes!(assets::define, assets::list))
        .routes(routes!(accounts::create, accounts::list))
        .routes(routes!(accounts::show))
        .routes(routes!(movements::deposit))
        .routes(routes!(movements::withdraw))
        .routes(routes!(movements::transfer))
        .routes(routes!(holds::place))
        .routes(routes!(holds::list))
        .routes(routes!(holds::release))
        .routes(routes!(holds::capture))
        .routes(routes!(events::list))
        .routes(routes!(stream::stream))
        .route("/v1/{*rest}", axum::routing::any(unknown_route))
        .route_layer(axum::middleware::from_fn_with_state(state, auth::require_admin))
}

async fn unknown_route() -> NativeError {
    crate::AppError::NotFound("route").into()
}
