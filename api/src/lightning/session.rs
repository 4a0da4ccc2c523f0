//! Cookie sessions: `login` sets an HttpOnly `connect.sid`; every other POST must carry the
//! session's CSRF token as `_csrf` (given out by `getalldata`).

use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::wire::LightningError;
use crate::app::AppState;
use crate::error::AppError;
use crate::users::verify_password;

pub const COOKIE_NAME: &str = "connect.sid";
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

impl FromRequestParts<AppState> for WebSession {
    type Rejection = LightningError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = cookie_token(parts).ok_or_else(LightningError::unauthorized)?;
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

fn cookie_token(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_string())
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[derive(Deserialize)]
pub struct LoginRequest {
    username: Option<String>,
    password: Option<String>,
}

/// `{"username","password"}` (the username or the e-mail address) -> 200 and the cookie.
pub async fn login(State(state): State<AppState>, body: axum::body::Bytes) -> Result<Response, LightningError> {
    let request: LoginRequest = serde_json::from_slice(&body).map_err(|error| LightningError::bad_request(error.to_string()))?;
    let (Some(username), Some(password)) = (request.username, request.password) else {
        return Err(LightningError::bad_request("username and password are required"));
    };
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let row = client
        .query_opt(
            "SELECT user_id, password_hash, disabled FROM users WHERE lower(username) = lower($1) OR lower(email) = lower($1)",
            &[&username],
        )
        .await
        .map_err(AppError::from)?;
    let invalid = || LightningError { status: axum::http::StatusCode::UNAUTHORIZED, message: "invalid username or password".into() };
    let row = row.ok_or_else(invalid)?;
    if row.get::<_, bool>(2) || !verify_password(row.get(1), password).await {
        return Err(invalid());
    }
    let user_id: String = row.get(0);
    super::wallet::ensure_accounts(&state, &user_id).await?;
    let token = random_token();
    client
        .execute(
            "INSERT INTO web_sessions (token_sha256, user_id, csrf) VALUES ($1, $2, $3)",
            &[&sha256_hex(&token), &user_id, &random_token()],
        )
        .await
        .map_err(AppError::from)?;
    let cookie = format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict");
    let mut response = Json(json!({})).into_response();
    response.headers_mut().insert(SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|error| AppError::Internal(error.to_string()))?);
    Ok(response)
}

pub async fn logout(State(state): State<AppState>, session: WebSession) -> Result<Response, LightningError> {
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    client.execute("DELETE FROM web_sessions WHERE token_sha256 = $1", &[&session.token_sha256]).await.map_err(AppError::from)?;
    let mut response = Json(json!({})).into_response();
    let expired = format!("{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    response.headers_mut().insert(SET_COOKIE, HeaderValue::from_str(&expired).map_err(|error| AppError::Internal(error.to_string()))?);
    Ok(response)
}

/// 200 with a valid session, 401 otherwise.
pub async fn ping(_session: WebSession) -> Json<serde_json::Value> {
    Json(json!({}))
}
