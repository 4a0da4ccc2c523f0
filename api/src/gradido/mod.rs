//! The Gradido login-server dialect under `/login_api`. Every answer is HTTP 200 with a
//! `state` field and the original server's exact `msg` strings.

mod login;
mod sessions;
mod transactions;
mod users;
mod wallet;
mod wire;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How this dialect's sign-in attempts are counted and logged.
pub const DIALECT: &str = "gradido";

/// What the Gradido handlers need of the service.
#[derive(Clone)]
pub struct GradidoState {
    pub ledger: app::Ledger,
    pub mailer: std::sync::Arc<dyn app::ports::mail::Mailer>,
    pub credentials: std::sync::Arc<app::credentials::CredentialGuard>,
}

impl axum::extract::FromRef<GradidoState> for std::sync::Arc<app::credentials::CredentialGuard> {
    fn from_ref(state: &GradidoState) -> Self {
        state.credentials.clone()
    }
}

pub fn routes() -> OpenApiRouter<GradidoState> {
    OpenApiRouter::new()
        .routes(routes!(login::unsecure_login))
        .routes(routes!(login::login))
        .routes(routes!(login::logout))
        .routes(routes!(transactions::create))
        .routes(routes!(transactions::sign))
        .routes(routes!(transactions::cancel))
        .routes(routes!(transactions::running_tasks))
        .routes(routes!(wallet::balance))
        .routes(routes!(transactions::list))
        .routes(routes!(login::create_group))
        .routes(routes!(users::create_user))
        .routes(routes!(users::get_user_infos))
        .routes(routes!(users::update_user_infos))
        .routes(routes!(users::get_users))
        .routes(routes!(users::search))
        .routes(routes!(users::admin_email_verification_resend))
        .routes(routes!(users::admin_set_user_disabled))
        .routes(routes!(users::verify_email))
}

/// A request the dialect cannot take (no such call, a body over the limit): its envelope at
/// HTTP 200, like every other error of this dialect.
pub(crate) fn refusal(status: axum::http::StatusCode, message: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let msg = match status {
        axum::http::StatusCode::NOT_FOUND | axum::http::StatusCode::METHOD_NOT_ALLOWED => "unknown call",
        _ => "invalid request",
    };
    wire::GradidoError::with_details("error", msg, message).into_response()
}
