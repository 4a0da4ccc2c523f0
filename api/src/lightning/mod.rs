//! The myLightning web wallet dialect under `/rest/v1`, as the wallet's REST API defines it:
//! a cookie session (`connect.sid`) with a CSRF
//! token on every POST but `login`, business failures as HTTP 200 `{"error":{"message"}}`,
//! and 401 without a session.

mod address_book;
mod channels;
mod contacts;
mod denomination;
mod identity;
mod payments;
mod push;
mod qr;
mod session;
mod socket;
mod wallet;
mod web;
mod wire;

pub use push::WalletPush;
pub use web::{serve_app, WebRoot};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What the myLightning handlers need of the service.
#[derive(Clone)]
pub struct LightningState {
    pub ledger: app::Ledger,
    pub node: std::sync::Arc<app::ports::node::EmbeddedNode>,
    pub credentials: std::sync::Arc<app::credentials::CredentialGuard>,
    pub cookies: crate::tokens::CookiePolicy,
    /// The web client's files, served at `/` behind the session (`--web-root`).
    pub web_root: Option<WebRoot>,
    /// What the web client's WebSocket pushes.
    pub push: std::sync::Arc<WalletPush>,
}

impl axum::extract::FromRef<LightningState> for std::sync::Arc<app::credentials::CredentialGuard> {
    fn from_ref(state: &LightningState) -> Self {
        state.credentials.clone()
    }
}

pub fn routes() -> OpenApiRouter<LightningState> {
    OpenApiRouter::new()
        .routes(routes!(socket::root))
        .routes(routes!(web::login_page, web::login_form))
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(session::ping))
        .routes(routes!(wallet::get_all_data))
        .routes(routes!(qr::get_qr_image))
        .routes(routes!(payments::create_invoice))
        .routes(routes!(payments::send_invoice))
        .routes(routes!(payments::get_invoice_details))
        .routes(routes!(contacts::add_contact))
        .routes(routes!(contacts::reconnect))
        .routes(routes!(contacts::request_invoice))
        .routes(routes!(payments::quickpay))
        .routes(routes!(denomination::set_denomination))
        .routes(routes!(channels::open_channel))
        .routes(routes!(channels::close_channel))
}

/// A request the dialect cannot take (no such route, a query that does not parse).
pub(crate) fn refusal(status: axum::http::StatusCode, message: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    wire::LightningError::new(status, message).into_response()
}
