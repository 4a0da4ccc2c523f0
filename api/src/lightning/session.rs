//! Cookie sessions: `login` sets an HttpOnly `connect.sid`; every other POST must carry the
//! session's CSRF token as `_csrf` (given out by `getalldata`).

use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::wire::LightningError;
use super::LightningState;
use crate::client_address::ClientAddress;
use crate::tokens::{cookie_value, random_token, sha256_hex};
use app::use_cases::users::authenticate;
use app::AppError;

pub const COOKIE_NAME: &str = "connect.sid";
/// How this dialect's sign-in attempts are counted and logged.
pub const DIALECT: &str = "mylightning";
/// A session unused this long is gone.
const SESSION_IDLE_TIMEOUT_SECONDS: i64 = 30 * 60;

/// The signed-in user of a request; for POSTs, with a verified CSRF token.
pub struct WebSession {
    pub user_id: String,
    pub csrf: String,
    token_sha256: String,
}

#[derive(Deserialize)]
struct CsrfQuery {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
}

impl FromRequestParts<LightningState> for WebSession {
    type Rejection = LightningError;

    async fn from_request_parts(parts: &mut Parts, state: &LightningState) -> Result<Self, Self::Rejection> {
        let token = cookie_value(parts, COOKIE_NAME).ok_or_else(LightningError::unauthorized)?;
        let token_sha256 = sha256_hex(&token);
        let client = state.ledger.reads.get().await.map_err(AppError::from)?;
        let row = client
            .query_opt(
                "UPDATE web_sessions SET last_used_at = now() \
                 WHERE token_sha256 = $1 AND last_used_at > now() - $2::bigint * interval '1 second' \
                 RETURNING user_id, csrf",
                &[&token_sha256, &SESSION_IDLE_TIMEOUT_SECONDS],
            )
            .await
            .map_err(AppError::from)?;
        let row = row.ok_or_else(LightningError::unauthorized)?;
        let session = WebSession { user_id: row.get(0), csrf: row.get(1), token_sha256 };
        if parts.method != Method::GET {
            let Query(query) = Query::<CsrfQuery>::from_request_parts(parts, state)
                .await
                .map_err(|_| LightningError::forbidden("invalid csrf token"))?;
            // Digests compared, so timing reveals nothing about the token.
            let presented = query.csrf.map(|csrf| sha256_hex(&csrf));
            if presented.as_deref() != Some(sha256_hex(&session.csrf).as_str()) {
                return Err(LightningError::forbidden("invalid csrf token"));
            }
        }
        Ok(session)
    }
}

#[derive(Deserialize)]
pub struct LoginRequest {
    username: Option<String>,
    password: Option<String>,
}

/// `{"username","password"}` (the username or the e-mail address) -> 200 and the cookie.
#[utoipa::path(post, path = "/rest/v1/login", tag = "mylightning", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session"), (status = 403, description = "Bad CSRF token")))]
pub async fn login(
    State(state): State<LightningState>,
    ClientAddress(address): ClientAddress,
    body: axum::body::Bytes,
) -> Result<Response, LightningError> {
    let request: LoginRequest =
        serde_json::from_slice(&body).map_err(|error| LightningError::bad_request(error.to_string()))?;
    let (Some(username), Some(password)) = (request.username, request.password) else {
        return Err(LightningError::bad_request("username and password are required"));
    };
    let invalid = || LightningError::new(axum::http::StatusCode::UNAUTHORIZED, "invalid username or password");
    let user_id = authenticate(&state.ledger.reads, &state.credentials, DIALECT, &username, password, address)
        .await?
        .ok_or_else(invalid)?;
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    super::wallet::ensure_accounts(&state, &user_id).await?;
    let token = random_token();
    client
        .execute(
            "INSERT INTO web_sessions (token_sha256, user_id, csrf) VALUES ($1, $2, $3)",
            &[&sha256_hex(&token), &user_id, &random_token()],
        )
        .await
        .map_err(AppError::from)?;
    let cookie = state.cookies.session(COOKIE_NAME, &token, "/");
    let mut response = Json(json!({})).into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|error| AppError::Internal(error.to_string()))?);
    Ok(response)
}

#[utoipa::path(post, path = "/rest/v1/logout", tag = "mylightning", security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session"), (status = 403, description = "Bad CSRF token")))]
pub async fn logout(State(state): State<LightningState>, session: WebSession) -> Result<Response, LightningError> {
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    client
        .execute("DELETE FROM web_sessions WHERE token_sha256 = $1", &[&session.token_sha256])
        .await
        .map_err(AppError::from)?;
    let mut response = Json(json!({})).into_response();
    let expired = state.cookies.cleared(COOKIE_NAME, "/");
    response
        .headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_str(&expired).map_err(|error| AppError::Internal(error.to_string()))?);
    Ok(response)
}

/// 200 with a valid session, 401 otherwise.
#[utoipa::path(get, path = "/rest/v1/ping", tag = "mylightning", security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session"), (status = 403, description = "Bad CSRF token")))]
pub async fn ping(_session: WebSession) -> Json<serde_json::Value> {
    Json(json!({}))
}
