//! Cookie sessions: `login` sets an HttpOnly `connect.sid`; every other POST must carry the
//! session's CSRF token (given out by `getalldata`) as csurf took it: the body's or the
//! query's `_csrf`, or a `csrf-token`, `xsrf-token`, `x-csrf-token` or `x-xsrf-token` header.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

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

/// The signed-in user of a request; for POSTs, with a verified CSRF token (taken from the
/// query or a header: a POST whose token is in its body uses `SignedPost`).
pub struct WebSession {
    pub user_id: String,
    pub csrf: String,
    token_sha256: String,
}

/// The headers csurf read a CSRF token from, after the body and the query.
const CSRF_HEADERS: [&str; 4] = ["csrf-token", "xsrf-token", "x-csrf-token", "x-xsrf-token"];

/// What the original server answered a POST with a missing or wrong CSRF token.
const CSRF_REFUSAL: &str = "Could not verify connection.  Please logout and try again.";

impl WebSession {
    /// The live session the `connect.sid` cookie names, touched.
    async fn load(parts: &Parts, state: &LightningState) -> Result<Self, LightningError> {
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
        Ok(WebSession { user_id: row.get(0), csrf: row.get(1), token_sha256 })
    }

    fn verify_csrf(&self, presented: Option<&str>) -> Result<(), LightningError> {
        // Digests compared, so timing reveals nothing about the token.
        let presented = presented.map(sha256_hex);
        if presented.as_deref() == Some(sha256_hex(&self.csrf).as_str()) {
            Ok(())
        } else {
            Err(LightningError::business(CSRF_REFUSAL))
        }
    }
}

/// The token of the query's `_csrf` or of one of csurf's headers.
fn csrf_outside_body(parts: &Parts) -> Option<String> {
    let query = parts.uri.query().unwrap_or_default();
    let from_query = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(name, _)| name == "_csrf").map(|(_, value)| value));
    from_query.or_else(|| {
        CSRF_HEADERS
            .iter()
            .find_map(|name| parts.headers.get(*name).and_then(|value| value.to_str().ok()).map(str::to_string))
    })
}

impl FromRequestParts<LightningState> for WebSession {
    type Rejection = LightningError;

    async fn from_request_parts(parts: &mut Parts, state: &LightningState) -> Result<Self, Self::Rejection> {
        let session = WebSession::load(parts, state).await?;
        if parts.method != Method::GET {
            session.verify_csrf(csrf_outside_body(parts).as_deref())?;
        }
        Ok(session)
    }
}

/// A POST of a signed-in user and its body, the CSRF token taken as csurf took it: the
/// body's `_csrf`, the query's `_csrf`, or a header.
pub struct SignedPost {
    pub session: WebSession,
    pub body: Bytes,
}

impl FromRequest<LightningState> for SignedPost {
    type Rejection = LightningError;

    async fn from_request(request: Request, state: &LightningState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let session = WebSession::load(&parts, state).await?;
        let outside = csrf_outside_body(&parts);
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|rejection| LightningError::new(rejection.status(), rejection.body_text()))?;
        let in_body = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|value| value.get("_csrf").and_then(Value::as_str).map(str::to_string));
        session.verify_csrf(in_body.or(outside).as_deref())?;
        Ok(SignedPost { session, body })
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = LightningLogin)]
pub struct LoginRequest {
    #[schema(required = true, value_type = String)]
    username: Option<String>,
    #[schema(required = true, value_type = String)]
    password: Option<String>,
}

/// `{"username","password"}` (the username or the e-mail address) -> 200 and the cookie.
#[utoipa::path(post, path = "/rest/v1/login", tag = "mylightning", request_body = LoginRequest, responses((status = 200, description = "`{}` and the session cookie"), (status = 400, description = "Malformed input"), (status = 401, description = "Wrong username or password"), (status = 429, description = "Too many failed sign-ins")))]
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
    let cookie = sign_in(&state, address, &username, password).await?;
    Ok(([(SET_COOKIE, cookie)], Json(json!({}))).into_response())
}

/// Checks the password and opens a session: the `Set-Cookie` value for it, or 401.
pub async fn sign_in(
    state: &LightningState,
    address: std::net::IpAddr,
    username: &str,
    password: String,
) -> Result<HeaderValue, LightningError> {
    let invalid = || LightningError::new(axum::http::StatusCode::UNAUTHORIZED, "invalid username or password");
    let user_id = authenticate(&state.ledger.reads, &state.credentials, DIALECT, username, password, address)
        .await?
        .ok_or_else(invalid)?;
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    super::wallet::ensure_accounts(state, &user_id).await?;
    let token = random_token();
    client
        .execute(
            "INSERT INTO web_sessions (token_sha256, user_id, csrf) VALUES ($1, $2, $3)",
            &[&sha256_hex(&token), &user_id, &random_token()],
        )
        .await
        .map_err(AppError::from)?;
    let cookie = state.cookies.session(COOKIE_NAME, &token, "/");
    Ok(HeaderValue::from_str(&cookie).map_err(|error| AppError::Internal(error.to_string()))?)
}

/// Whether the request carries a live session (the web app's pages are behind one).
pub async fn has_session(parts: &Parts, state: &LightningState) -> Result<bool, LightningError> {
    match WebSession::load(parts, state).await {
        Ok(_) => Ok(true),
        Err(error) if error.status == axum::http::StatusCode::UNAUTHORIZED => Ok(false),
        Err(error) => Err(error),
    }
}

#[utoipa::path(post, path = "/rest/v1/logout", tag = "mylightning", security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session"), (status = 401, description = "No session; a bad CSRF token is a 200 business failure")))]
pub async fn logout(
    State(state): State<LightningState>,
    SignedPost { session, .. }: SignedPost,
) -> Result<Response, LightningError> {
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
#[utoipa::path(get, path = "/rest/v1/ping", tag = "mylightning", security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session"), (status = 401, description = "No session; a bad CSRF token is a 200 business failure")))]
pub async fn ping(_session: WebSession) -> Json<serde_json::Value> {
    Json(json!({}))
}
