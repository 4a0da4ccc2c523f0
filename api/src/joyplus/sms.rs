//! SMS verification: `POST /sms/request` texts a 6-digit code to the user's mobile number;
//! `POST /sms/confirm` trades the right code for a ticket. A code lives 5 minutes and allows
//! a few attempts; only its digest is stored. The sender is a trait; the default writes to
//! the `sms_outbox` table, for a gateway to relay.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Caller;
use super::wire::{data, JoyError, JoyJson};
use super::JoyState;
use crate::client_address::ClientAddress;
use crate::tokens::{random_token, sha256_hex};
use projections::read_models::users::{self, UserKey};

pub const SMS_CODE_LIFETIME_SECONDS: i64 = 5 * 60;
/// Wrong guesses allowed per code; then it is void.
pub const MAX_SMS_CODE_ATTEMPTS: i32 = 5;
/// A new code no sooner than this after the last one.
const SMS_RESEND_INTERVAL_SECONDS: i64 = 30;
const TICKET_LIFETIME_SECONDS: i64 = 10 * 60;
const SMS_CODE_DIGITS: usize = 6;

/// The stored digest names the user too, so equal codes of two users differ.
fn code_digest(user_id: &str, code: &str) -> String {
    sha256_hex(&format!("{user_id}:{code}"))
}

#[utoipa::path(post, path = "/api/v1/sms/request", tag = "joyplus", security(("joy_session" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn request(State(state): State<JoyState>, caller: Caller) -> Result<Response, JoyError> {
    let user_id = caller.require_user()?;
    let client = state.ledger.reads.get().await?;
    let mobile =
        users::find(&client, UserKey::Id(user_id)).await.map_err(app::AppError::from)?.and_then(|user| user.mobile);
    let mobile = mobile.ok_or_else(|| JoyError::bad_request("no mobile number on file"))?;
    let code = format!(
        "{:0width$}",
        rand::thread_rng().gen_range(0..10_u32.pow(SMS_CODE_DIGITS as u32)),
        width = SMS_CODE_DIGITS
    );
    let stored = client
        .execute(
            "INSERT INTO joy_sms_codes (user_id, code_sha256, attempts, expires_at) \
             VALUES ($1, $2, 0, now() + $3::bigint * interval '1 second') \
             ON CONFLICT (user_id) DO UPDATE SET code_sha256 = $2, attempts = 0, expires_at = EXCLUDED.expires_at \
             WHERE joy_sms_codes.expires_at < now() + ($3::bigint - $4::bigint) * interval '1 second'",
            &[&user_id, &code_digest(user_id, &code), &SMS_CODE_LIFETIME_SECONDS, &SMS_RESEND_INTERVAL_SECONDS],
        )
        .await?;
    if stored == 0 {
        return Err(JoyError::too_many("a code was sent moments ago; wait before asking for another"));
    }
    let body = format!("Your Joy Plus verification code is {code}. It expires in 5 minutes.");
    state.joy.sms.send(&mobile, &body).await?;
    Ok(data(json!({ "message": "SMS sent" })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ConfirmRequest {
    /// A number in the seed; a string of digits is accepted too (leading zeros survive).
    code: Value,
}

#[utoipa::path(post, path = "/api/v1/sms/confirm", tag = "joyplus", request_body = ConfirmRequest, security(("joy_session" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn confirm(
    State(state): State<JoyState>,
    ClientAddress(address): ClientAddress,
    caller: Caller,
    JoyJson(request): JoyJson<ConfirmRequest>,
) -> Result<Response, JoyError> {
    let user_id = caller.require_user()?;
    let code = match request.code {
        Value::Number(number) => number.as_u64().map(|code| format!("{code:0width$}", width = SMS_CODE_DIGITS)),
        Value::String(text) => Some(text),
        _ => None,
    }
    .ok_or_else(|| JoyError::bad_request("code must be a 6-digit number"))?;
    // Each code allows a few guesses itself; across codes, guesses count against the address.
    let attempt = state.credentials.begin_from("joyplus", address).map_err(JoyError::from)?;
    if let Err(refused) = consume_sms_code(&state, user_id, &code).await {
        attempt.failed();
        return Err(refused);
    }
    attempt.succeeded();
    let ticket = random_token();
    let client = state.ledger.reads.get().await?;
    client
        .execute(
            "INSERT INTO joy_sms_tickets (ticket_sha256, user_id, expires_at) VALUES ($1, $2, now() + $3::bigint * interval '1 second')",
            &[&sha256_hex(&ticket), &user_id, &TICKET_LIFETIME_SECONDS],
        )
        .await?;
    Ok(data(json!({ "ticket": ticket })))
}

/// Checks `code` against the user's current SMS code; the right code is used up, a wrong one
/// costs an attempt.
pub async fn consume_sms_code(state: &JoyState, user_id: &str, code: &str) -> Result<(), JoyError> {
    let client = state.ledger.reads.get().await?;
    let used = client
        .execute(
            "DELETE FROM joy_sms_codes WHERE user_id = $1 AND code_sha256 = $2 AND expires_at > now() AND attempts < $3",
            &[&user_id, &code_digest(user_id, code), &MAX_SMS_CODE_ATTEMPTS],
        )
        .await?;
    if used == 1 {
        return Ok(());
    }
    let row = client
        .query_opt(
            "UPDATE joy_sms_codes SET attempts = attempts + 1 WHERE user_id = $1 AND expires_at > now() RETURNING attempts",
            &[&user_id],
        )
        .await?;
    match row.map(|row| row.get::<_, i32>(0)) {
        Some(attempts) if attempts > MAX_SMS_CODE_ATTEMPTS => {
            Err(JoyError::new(StatusCode::TOO_MANY_REQUESTS, "too many wrong codes; request a new one"))
        }
        Some(_) => Err(JoyError::bad_request("wrong verification code")),
        None => Err(JoyError::bad_request("no valid verification code; request a new one")),
    }
}
