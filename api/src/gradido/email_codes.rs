//! E-mail codes: the numeric codes the login server mailed to verify an address or reset
//! a password, and the calls that use them: `loginViaEmailVerificationCode`, `sendEmail`,
//! `resetPassword`, and this service's `verifyEmail`. Only each code's SHA-256 is kept.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use domain::user::UserCommand;
use rand::Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::login::{find_user, is_admin, session_user};
use super::sessions;
use super::user_object::user_json;
use super::wire::{success, GradidoError, Params};
use super::{GradidoState, DIALECT};
use crate::client_address::ClientAddress;
use app::credentials::hash_password;
use app::ports::mail::Mail;
use app::use_cases::users::{password_length_is_valid, MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
use app::AppError;
use projections::read_models::users::{UserKey, UserRow};
use store::{ids, Operation};

const CODE_VALID_DAYS: i64 = 7;
/// One password-reset mail per user in this many seconds.
const RESET_MAIL_INTERVAL_SECONDS: i64 = 60 * 60;
/// Codes have 16 digits: below 2^53, so a JavaScript client reads them exactly.
const CODES: std::ops::Range<u64> = 1_000_000_000_000_000..9_000_000_000_000_000;

/// What a code was mailed for, in the original's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    Register,
    RegisterDirect,
    ResetPassword,
}

const ALL_KINDS: [CodeKind; 3] = [CodeKind::Register, CodeKind::RegisterDirect, CodeKind::ResetPassword];

impl CodeKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::RegisterDirect => "registerDirect",
            Self::ResetPassword => "resetPassword",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        ALL_KINDS.into_iter().find(|kind| kind.name() == name)
    }

    fn verifies_email(self) -> bool {
        matches!(self, Self::Register | Self::RegisterDirect)
    }
}

fn code_digest(code: &str) -> String {
    hex::encode(Sha256::digest(code.trim().as_bytes()))
}

/// A new code for `user_id`, valid for `CODE_VALID_DAYS`.
pub async fn issue(state: &GradidoState, user_id: &str, kind: CodeKind) -> Result<u64, AppError> {
    let code = rand::thread_rng().gen_range(CODES);
    let client = state.ledger.reads.get().await?;
    client
        .execute(
            "INSERT INTO email_verifications (code_sha256, user_id, kind, expires_at) \
             VALUES ($1, $2, $3, now() + $4::bigint * interval '1 day')",
            &[&code_digest(&code.to_string()), &user_id, &kind.name(), &CODE_VALID_DAYS],
        )
        .await?;
    Ok(code)
}

/// Mails a fresh code: the address check after sign-up, or a password reset.
pub async fn mail_code(
    state: &GradidoState,
    user: &UserRow,
    kind: CodeKind,
    text: Option<&str>,
) -> Result<(), AppError> {
    let code = issue(state, &user.user_id, kind).await?;
    let (subject, purpose) = match kind {
        CodeKind::ResetPassword => ("Reset your Gradido password", "set a new password"),
        CodeKind::Register | CodeKind::RegisterDirect => ("Please verify your e-mail address", "confirm your address"),
    };
    let note = text.map(|text| format!("{text}\n\n")).unwrap_or_default();
    let body = format!(
        "Hello,\n\n{note}to {purpose} for {}, use this code: {code}\nIt is valid for {CODE_VALID_DAYS} days.\n",
        user.email
    );
    state.mailer.send(Mail { to: user.email.clone(), subject: subject.to_string(), body }).await
}

/// The user and kind of a live code of one of `kinds`, which is used up.
async fn consume(state: &GradidoState, code: &str, kinds: &[CodeKind]) -> Result<Option<(String, CodeKind)>, AppError> {
    let kinds: Vec<&str> = kinds.iter().map(|kind| kind.name()).collect();
    let client = state.ledger.reads.get().await?;
    let row = client
        .query_opt(
            "DELETE FROM email_verifications WHERE code_sha256 = $1 AND expires_at > now() AND kind = ANY($2) \
             RETURNING user_id, kind",
            &[&code_digest(code), &kinds],
        )
        .await?;
    Ok(row.and_then(|row| Some((row.get(0), CodeKind::parse(row.get(1))?))))
}

async fn verify_email(state: &GradidoState, user_id: &str) -> Result<(), AppError> {
    let outcome = state
        .ledger
        .bus
        .execute(user_id, UserCommand::VerifyEmail, &Operation::derived(ids::verify_email(user_id)))
        .await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(())
}

/// `GET ?emailVerificationCode=<number>`: signs the code's user in; a registration code
/// also marks the address as checked.
#[utoipa::path(method(get, post), path = "/login_api/loginViaEmailVerificationCode", tag = "gradido", request_body(content = super::requests::EmailCode, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn login_via_code(
    State(state): State<GradidoState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ClientAddress(address): ClientAddress,
    params: Params,
) -> Result<Response, GradidoError> {
    let code = match params.get("emailVerificationCode") {
        None => return Err(GradidoError::new("error", "emailVerificationCode not found")),
        Some(value) => super::wire::lenient_integer(value)
            .filter(|code| *code > 0)
            .ok_or_else(|| GradidoError::new("error", "couldn't parse emailVerificationCode"))?,
    };
    // A code names no account until it is found: guesses count against the address alone.
    let attempt = state.credentials.begin_from(DIALECT, address)?;
    let Some((user_id, kind)) = consume(&state, &code.to_string(), &ALL_KINDS).await? else {
        attempt.failed();
        return Err(GradidoError::new("error", "couldn't login with emailVerificationCode"));
    };
    attempt.succeeded();
    let before = find_user(&state, UserKey::Id(&user_id)).await?.ok_or(AppError::NotFound("user"))?;
    let mut info = Vec::new();
    if kind.verifies_email() {
        if before.email_checked {
            info.push("email already activated");
        } else {
            verify_email(&state, &user_id).await?;
        }
    }
    let user = find_user(&state, UserKey::Id(&user_id)).await?.ok_or(AppError::NotFound("user"))?;
    let session_id = sessions::open(&state, &user_id, &peer.ip().to_string(), kind.name()).await?;
    Ok(success(json!({
        "session_id": session_id,
        "user": user_json(&user),
        "email_verification_code_type": kind.name(),
        "info": info,
    })))
}

/// `{"email", "email_text", "email_verification_code_type"}`: mails a code. A password
/// reset needs no session and answers the same for an unknown address; a registration
/// mail is for admins.
#[utoipa::path(method(get, post), path = "/login_api/sendEmail", tag = "gradido", request_body(content = super::requests::SendEmail, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn send_email(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    let kind = params
        .text("email_verification_code_type")
        .and_then(CodeKind::parse)
        .ok_or_else(|| GradidoError::new("error", "invalid verification code type"))?;
    let email_type = params.integer("email_text").unwrap_or_default();
    if !(EMAIL_TYPES.contains(&email_type)) {
        return Err(GradidoError::new("error", "invalid email type"));
    }
    let custom_text = (email_type == CUSTOM_TEXT_EMAIL).then(|| params.text("email_custom_text")).flatten();
    if kind != CodeKind::ResetPassword {
        let Some(session_id) = params.session_id() else {
            return Err(GradidoError::new("error", "login needed"));
        };
        let session =
            sessions::find(&state, session_id).await?.ok_or_else(|| GradidoError::new("error", "invalid session"))?;
        if !is_admin(&state, &session.user_id).await? {
            return Err(GradidoError::new("error", "admin needed"));
        }
    }
    let Some(user) = find_user(&state, UserKey::Email(params.text("email").unwrap_or_default())).await? else {
        return Ok(success(json!({})));
    };
    if kind == CodeKind::ResetPassword && reset_mailed_recently(&state, &user.user_id).await? {
        return Err(GradidoError::new("error", "email already send less than a hour before"));
    }
    mail_code(&state, &user, kind, custom_text).await?;
    Ok(success(json!({})))
}

/// The original's e-mail types a caller may name (`EMAIL_USER_VERIFICATION_CODE` ...
/// `EMAIL_USER_REGISTER_OLD_ELOPAGE`); 8 sends `email_custom_text`.
const EMAIL_TYPES: std::ops::RangeInclusive<i64> = 2..=10;
const CUSTOM_TEXT_EMAIL: i64 = 8;

async fn reset_mailed_recently(state: &GradidoState, user_id: &str) -> Result<bool, AppError> {
    let client = state.ledger.reads.get().await?;
    let row = client
        .query_one(
            "SELECT count(*) FROM email_verifications WHERE user_id = $1 AND kind = 'resetPassword' \
             AND created_at > now() - $2::bigint * interval '1 second'",
            &[&user_id, &RESET_MAIL_INTERVAL_SECONDS],
        )
        .await?;
    Ok(row.get::<_, i64>(0) > 0)
}

/// `{"session_id", "email", "password"}`: a new password, without the old one, for a
/// session opened by an e-mail code (a password session changes it with
/// `updateUserInfos`, which needs the old one).
#[utoipa::path(method(get, post), path = "/login_api/resetPassword", tag = "gradido", request_body(content = super::requests::ResetPassword, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn reset_password(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    let session = sessions::check_and_load(&state, &params).await?;
    let Some(password) = params.get("password") else {
        return Err(GradidoError::new("error", "password missing"));
    };
    let password = password.as_str().unwrap_or_default();
    if !password_length_is_valid(password) {
        return Err(password_invalid());
    }
    if session.opened_by == "password" {
        return Err(GradidoError::with_details(
            "error",
            "login state invalid",
            "a session opened by an e-mail code resets a password; change it with updateUserInfos",
        ));
    }
    let user = session_user(&state, &session).await?;
    let password_hash = hash_password(password.to_string()).await?;
    let outcome = state
        .ledger
        .bus
        .execute(&user.user_id, UserCommand::ChangePassword { password_hash }, &Operation::fresh())
        .await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(success(json!({})))
}

pub fn password_invalid() -> GradidoError {
    GradidoError::with_details(
        "error",
        "password isn't valid",
        format!("a password has {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} bytes"),
    )
}

/// `{"code"}` from the verification mail: marks the address as checked (this service's
/// call; `loginViaEmailVerificationCode` does the same and signs in).
#[utoipa::path(method(get, post), path = "/login_api/verifyEmail", tag = "gradido", request_body(content = super::requests::VerifyEmail, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn verify_email_code(
    State(state): State<GradidoState>,
    ClientAddress(address): ClientAddress,
    params: Params,
) -> Result<Response, GradidoError> {
    let code = match params.get("code") {
        Some(Value::String(code)) if !code.is_empty() => code.clone(),
        Some(Value::Number(code)) => code.to_string(),
        _ => return Err(GradidoError::new("error", "parameter format unknown")),
    };
    let attempt = state.credentials.begin_from(DIALECT, address)?;
    let Some((user_id, kind)) = consume(&state, &code, &[CodeKind::Register, CodeKind::RegisterDirect]).await? else {
        attempt.failed();
        return Err(GradidoError::new("error", "code not found"));
    };
    attempt.succeeded();
    debug_assert!(kind.verifies_email(), "only registration codes were looked up");
    verify_email(&state, &user_id).await?;
    Ok(success(json!({})))
}
