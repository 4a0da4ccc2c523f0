//! The Gradido login-server dialect under `/login_api`. Every answer is HTTP 200 with a
//! `state` field and the original server's exact `msg` strings.

mod cors;
mod email_codes;
mod login;
mod profile;
mod requests;
mod root_listener;
mod sessions;
mod transactions;
mod user_object;
mod users;
mod wallet;
mod wire;

pub use cors::any_origin;
pub use root_listener::at_root;

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
    pub cookies: crate::tokens::CookiePolicy,
    pub settings: GradidoSettings,
}

/// How the login-server dialect is served.
#[derive(Debug, Clone, Copy)]
pub struct GradidoSettings {
    /// Answer every origin (`Access-Control-Allow-Origin: *`), as the shipped login server
    /// did, so a web frontend on another origin can call it.
    pub cors_any_origin: bool,
}

impl Default for GradidoSettings {
    fn default() -> Self {
        Self { cors_any_origin: true }
    }
}

impl axum::extract::FromRef<GradidoState> for std::sync::Arc<app::credentials::CredentialGuard> {
    fn from_ref(state: &GradidoState) -> Self {
        state.credentials.clone()
    }
}

pub fn routes(state: &GradidoState) -> OpenApiRouter<GradidoState> {
    OpenApiRouter::new()
        .routes(routes!(login::unsecure_login))
        .routes(routes!(login::login))
        .routes(routes!(login::check_session_state))
        .routes(routes!(login::logout))
        .routes(routes!(login::has_elopage))
        .routes(routes!(email_codes::login_via_code))
        .routes(routes!(email_codes::send_email))
        .routes(routes!(email_codes::reset_password))
        .routes(routes!(email_codes::verify_email_code))
        .routes(routes!(profile::get_user_infos))
        .routes(routes!(profile::update_user_infos))
        .routes(routes!(profile::check_username))
        .routes(routes!(network_infos))
        .routes(routes!(transactions::create))
        .routes(routes!(transactions::sign))
        .routes(routes!(transactions::cancel))
        .routes(routes!(transactions::running_tasks))
        .routes(routes!(wallet::balance))
        .routes(routes!(transactions::list))
        .routes(routes!(login::create_group))
        .routes(routes!(users::create_user))
        .routes(routes!(users::get_users))
        .routes(routes!(users::search))
        .routes(routes!(users::admin_email_verification_resend))
        .routes(routes!(users::admin_set_user_disabled))
        .layer(axum::middleware::from_fn_with_state(state.cookies, set_session_cookie))
}

/// `{"ask":["groups"]}` -> the aliases of every group, as the community server lists them.
#[utoipa::path(method(get, post), path = "/login_api/networkInfos", tag = "gradido", request_body(content = requests::NetworkInfos, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
async fn network_infos(
    axum::extract::State(state): axum::extract::State<GradidoState>,
    params: wire::Params,
) -> Result<axum::response::Response, wire::GradidoError> {
    let ask = params.array("ask").ok_or_else(|| wire::GradidoError::new("error", "ask is zero or not an array"))?;
    let mut data = serde_json::Map::new();
    let mut errors = Vec::new();
    for item in ask {
        match item.as_str() {
            Some("groups") => {
                let client = state.ledger.reads.get().await.map_err(app::AppError::from)?;
                let groups = projections::read_models::groups::all(&client).await.map_err(app::AppError::from)?;
                let aliases: Vec<String> = groups.into_iter().map(|group| group.alias).collect();
                data.insert("groups".into(), serde_json::json!(aliases));
            }
            Some(_) => {}
            None => errors.push("ask parameter invalid"),
        }
    }
    Ok(wire::success(serde_json::json!({ "data": data, "errors": errors })))
}

/// Sets `GRADIDO_LOGIN` on every answer that names a session, as the original server did.
async fn set_session_cookie(
    axum::extract::State(cookies): axum::extract::State<crate::tokens::CookiePolicy>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    if let Some(wire::SessionIssued(session_id)) = response.extensions().get::<wire::SessionIssued>().copied() {
        let cookie = cookies.session(wire::SESSION_COOKIE, &session_id.to_string(), "/");
        if let Ok(value) = axum::http::HeaderValue::from_str(&cookie) {
            response.headers_mut().append(axum::http::header::SET_COOKIE, value);
        }
    }
    response
}

/// A request the dialect cannot take (no such call, a body over the limit): its envelope at
/// HTTP 200, like every other error of this dialect.
pub(crate) fn refusal(status: axum::http::StatusCode, message: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    match status {
        // The original answered an unknown call with no details.
        axum::http::StatusCode::NOT_FOUND | axum::http::StatusCode::METHOD_NOT_ALLOWED => {
            wire::GradidoError::new("error", "unknown call").into_response()
        }
        axum::http::StatusCode::INTERNAL_SERVER_ERROR => {
            wire::GradidoError::new("error", "internal error").into_response()
        }
        _ => wire::GradidoError::with_details("error", "invalid request", message).into_response(),
    }
}

/// The group a ledger without groups starts with, so it is group 1: sign-ups join group 1
/// and the frontend checks usernames in it, as every login server had one from its setup.
pub const DEFAULT_GROUP_ALIAS: &str = "gradido";
const DEFAULT_GROUP_NAME: &str = "Gradido";

/// Creates the default group when there is no group yet (a fresh ledger); a ledger whose
/// operator created groups keeps them as they are.
pub async fn seed_default_group(ledger: &app::Ledger) -> Result<(), app::AppError> {
    let client = ledger.reads.get().await?;
    if !projections::read_models::groups::all(&client).await?.is_empty() {
        return Ok(());
    }
    drop(client);
    let command = domain::gradido::GroupCommand::Create {
        alias: DEFAULT_GROUP_ALIAS.to_string(),
        name: DEFAULT_GROUP_NAME.to_string(),
        description: Some("the default group (group 1)".to_string()),
    };
    match ledger.bus.execute(DEFAULT_GROUP_ALIAS, command, &store::Operation::fresh()).await {
        Ok(outcome) => {
            if let Some(event) = outcome.event() {
                ledger.await_read_models(event).await;
            }
            Ok(())
        }
        Err(app::AppError::Domain(domain::DomainError::GroupExists)) => Ok(()),
        Err(error) => Err(error),
    }
}
