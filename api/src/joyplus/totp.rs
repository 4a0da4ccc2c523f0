//! Google Authenticator (RFC 6238 TOTP, SHA-1, 6 digits, 30-second steps):
//! `google/request` makes a secret and a QR code of its `otpauth://` URI, `google/register`
//! binds it after proof (a code from the app or an SMS code), `google/check` tells whether
//! one is bound, `google/confirm` checks a code. Each code is accepted once, and wrong codes
//! are limited per window.

use axum::extract::State;
use axum::response::Response;
use base64::Engine;
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;
use totp_rs::{Algorithm, Secret, TOTP};

use super::auth::Caller;
use super::sms::consume_sms_code;
use super::wire::{data, JoyError, JoyJson};
use super::JoyState;
use crate::client_address::ClientAddress;
use app::AppError;
use projections::read_models::users::{self, UserKey};

const TOTP_DIGITS: usize = 6;
const TOTP_STEP_SECONDS: u64 = 30;
/// Steps of clock drift tolerated either way.
const TOTP_SKEW_STEPS: u64 = 1;
/// 160 bits, as RFC 4226 recommends.
const TOTP_SECRET_BYTES: usize = 20;
const TOTP_ISSUER: &str = "JoyPlus";
/// Wrong codes allowed per window before confirmations are refused for the rest of it.
const MAX_TOTP_FAILURES: i32 = 5;
const TOTP_FAILURE_WINDOW_SECONDS: i64 = 5 * 60;

fn totp(secret_base32: &str, account: &str) -> Result<TOTP, AppError> {
    let bytes = Secret::Encoded(secret_base32.to_string())
        .to_bytes()
        .map_err(|_| AppError::invalid("invalid_secret", "secret is not base32"))?;
    TOTP::new(
        Algorithm::SHA1,
        TOTP_DIGITS,
        1,
        TOTP_STEP_SECONDS,
        bytes,
        Some(TOTP_ISSUER.to_string()),
        account.to_string(),
    )
    .map_err(|error| AppError::invalid("invalid_secret", error.to_string()))
}

/// The time step whose code `code` is (within the skew), if any.
fn matching_step(totp: &TOTP, code: &str) -> Option<i64> {
    let now = u64::try_from(chrono::Utc::now().timestamp()).ok()?;
    let current = now / TOTP_STEP_SECONDS;
    (current.saturating_sub(TOTP_SKEW_STEPS)..=current + TOTP_SKEW_STEPS)
        .find(|step| totp.generate(step * TOTP_STEP_SECONDS) == code)
        .and_then(|step| i64::try_from(step).ok())
}

async fn account_label(state: &JoyState, user_id: &str) -> Result<String, AppError> {
    let client = state.ledger.reads.get().await?;
    let user = users::find(&client, UserKey::Id(user_id)).await?;
    Ok(user.map_or_else(|| user_id.to_string(), |user| user.email).replace(':', "_"))
}

/// Checks `code` against the user's registered secret, spending it; wrong codes count.
async fn verify_registered(state: &JoyState, user_id: &str, code: &str) -> Result<bool, JoyError> {
    let client = state.ledger.reads.get().await?;
    let row = client
        .query_opt(
            "UPDATE joy_totp SET failed_attempts = CASE WHEN window_started_at < now() - $2::bigint * interval '1 second' THEN 0 ELSE failed_attempts END, \
                                 window_started_at = CASE WHEN window_started_at < now() - $2::bigint * interval '1 second' THEN now() ELSE window_started_at END \
             WHERE user_id = $1 AND secret IS NOT NULL RETURNING secret, failed_attempts, last_used_step",
            &[&user_id, &TOTP_FAILURE_WINDOW_SECONDS],
        )
        .await?;
    let row = row.ok_or_else(|| JoyError::bad_request("Google Authenticator is not enabled"))?;
    let (secret, failures, last_used_step): (String, i32, i64) = (row.get(0), row.get(1), row.get(2));
    if failures >= MAX_TOTP_FAILURES {
        return Err(JoyError::too_many("too many wrong codes; try again in a few minutes"));
    }
    let step = matching_step(&totp(&secret, "")?, code).filter(|step| *step > last_used_step);
    match step {
        Some(step) => {
            // Compare-and-set: of two requests with the same code, one wins.
            let spent = client
                .execute(
                    "UPDATE joy_totp SET last_used_step = $2 WHERE user_id = $1 AND last_used_step < $2",
                    &[&user_id, &step],
                )
                .await?;
            Ok(spent == 1)
        }
        None => {
            client
                .execute("UPDATE joy_totp SET failed_attempts = failed_attempts + 1 WHERE user_id = $1", &[&user_id])
                .await?;
            Ok(false)
        }
    }
}

async fn is_enabled(state: &JoyState, user_id: &str) -> Result<bool, AppError> {
    let client = state.ledger.reads.get().await?;
    let row = client.query_opt("SELECT secret IS NOT NULL FROM joy_totp WHERE user_id = $1", &[&user_id]).await?;
    Ok(row.is_some_and(|row| row.get(0)))
}

#[utoipa::path(post, path = "/api/v1/google/check", tag = "joyplus", security(("joy_session" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn check(State(state): State<JoyState>, caller: Caller) -> Result<Response, JoyError> {
    let user_id = caller.require_user()?;
    Ok(data(json!({ "enabled": is_enabled(&state, user_id).await? })))
}

#[derive(Deserialize)]
pub struct RequestBody {
    /// A code of the authenticator already registered; required to replace it.
    code: Option<String>,
}

/// The body is optional: empty, or JSON.
#[utoipa::path(post, path = "/api/v1/google/request", tag = "joyplus", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), security(("joy_session" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn request(
    State(state): State<JoyState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, JoyError> {
    let user_id = caller.require_user()?;
    let body: RequestBody = if body.is_empty() {
        RequestBody { code: None }
    } else {
        serde_json::from_slice(&body).map_err(|error| JoyError::bad_request(error.to_string()))?
    };
    if is_enabled(&state, user_id).await? {
        let code = body.code.ok_or_else(|| JoyError::bad_request("code of the current authenticator is required"))?;
        if !verify_registered(&state, user_id, &code).await? {
            return Err(JoyError::bad_request("wrong authenticator code"));
        }
    }
    let mut bytes = [0_u8; TOTP_SECRET_BYTES];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = match Secret::Raw(bytes.to_vec()).to_encoded() {
        Secret::Encoded(text) => text,
        Secret::Raw(_) => return Err(AppError::Internal("secret encoding".into()).into()),
    };
    let uri = totp(&secret, &account_label(&state, user_id).await?)?.get_url();
    let png = crate::qr_image::qr_png(&uri).map_err(|error| AppError::Internal(format!("QR code: {error}")))?;
    let qrcode = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png));
    let client = state.ledger.reads.get().await?;
    client
        .execute(
            "INSERT INTO joy_totp (user_id, pending_secret) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET pending_secret = $2, updated_at = now()",
            &[&user_id, &secret],
        )
        .await?;
    Ok(data(json!({ "secret": secret, "qrcode": qrcode })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegisterBody {
    secret: String,
    sms_code: Option<String>,
    code: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/google/register", tag = "joyplus", request_body = RegisterBody, security(("joy_session" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn register(
    State(state): State<JoyState>,
    caller: Caller,
    JoyJson(body): JoyJson<RegisterBody>,
) -> Result<Response, JoyError> {
    let user_id = caller.require_user()?;
    let client = state.ledger.reads.get().await?;
    let pending: Option<String> = client
        .query_opt("SELECT pending_secret FROM joy_totp WHERE user_id = $1", &[&user_id])
        .await?
        .and_then(|row| row.get(0));
    if pending.as_deref() != Some(body.secret.as_str()) {
        return Err(JoyError::bad_request("secret does not match the one requested last"));
    }
    let mut first_step = 0_i64;
    match (&body.code, &body.sms_code) {
        (Some(code), _) => {
            first_step = matching_step(&totp(&body.secret, "")?, code)
                .ok_or_else(|| JoyError::bad_request("wrong authenticator code"))?;
        }
        (None, Some(sms_code)) => consume_sms_code(&state, user_id, sms_code).await?,
        (None, None) => return Err(JoyError::bad_request("either code or sms_code is required")),
    }
    let registered = client
        .execute(
            "UPDATE joy_totp SET secret = pending_secret, pending_secret = NULL, last_used_step = $3, failed_attempts = 0, updated_at = now() \
             WHERE user_id = $1 AND pending_secret = $2",
            &[&user_id, &body.secret, &first_step],
        )
        .await?;
    if registered == 0 {
        return Err(JoyError::bad_request("secret does not match the one requested last"));
    }
    Ok(data(json!({})))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ConfirmBody {
    code: String,
}

#[utoipa::path(post, path = "/api/v1/google/confirm", tag = "joyplus", request_body = ConfirmBody, security(("joy_session" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn confirm(
    State(state): State<JoyState>,
    ClientAddress(address): ClientAddress,
    caller: Caller,
    JoyJson(body): JoyJson<ConfirmBody>,
) -> Result<Response, JoyError> {
    let user_id = caller.require_user()?;
    // Wrong TOTP codes are limited per user already; across users they count against the address.
    let attempt = state.credentials.begin_from("joyplus", address).map_err(JoyError::from)?;
    let confirmed = verify_registered(&state, user_id, &body.code).await?;
    if confirmed {
        attempt.succeeded();
    } else {
        attempt.failed();
    }
    Ok(data(json!({ "confirmed": confirmed })))
}
