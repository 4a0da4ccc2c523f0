//! Users through the Gradido dialect: sign-up, profile, admin search and administration.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use domain::claim::{claim_id, ClaimCommand};
use domain::user::{ProfileChanges, UserCommand};
use domain::DomainError;
use projections::read_models::users::{self, UserKey, UserRow};
use serde_json::{json, Map, Value};

use super::login::require_admin;
use super::sessions;
use super::wire::{parse_object, success, text_field, GradidoError};
use super::GradidoState;
use crate::client_address::ClientAddress;
use app::credentials::{hash_password, verify_password};
use app::ports::mail::Mail;
use app::use_cases::users::{register, NewUser, MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
use app::AppError;
use store::{ids, Operation};

const MAX_USERS_LISTED: i64 = 100;
const VERIFICATION_CODE_DAYS: i64 = 7;
const MAX_SEARCH_LEN: usize = 128;
/// `{"email","password","first_name"?,"last_name"?,"username"?}`: signs a user up and mails
/// them a verification notice.
#[utoipa::path(post, path = "/login_api/createUser", tag = "gradido", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn create_user(State(state): State<GradidoState>, body: Bytes) -> Result<Response, GradidoError> {
    let object = parse_object(&body)?;
    let (Some(email), Some(password)) = (text_field(&object, "email"), text_field(&object, "password")) else {
        return Err(GradidoError::new("error", "parameter format unknown"));
    };
    let username = text_field(&object, "username").map(str::to_string).unwrap_or_else(|| default_username(email));
    let user = NewUser {
        email: email.to_string(),
        username,
        password: password.to_string(),
        first_name: text_field(&object, "first_name").map(str::to_string),
        last_name: text_field(&object, "last_name").map(str::to_string),
        admin: false,
    };
    let view = match register(&state.ledger, user).await {
        Ok(view) => view,
        Err(AppError::Domain(DomainError::UserAlreadyRegistered | DomainError::ClaimTaken { .. })) => {
            return Err(GradidoError::new("exists", "user already exists"))
        }
        Err(error) => return Err(error.into()),
    };
    send_verification(&state, &view.id, &view.email).await?;
    Ok(success(json!({ "user_id": view.id })))
}

/// `{"session_id","ask":[field, ...],"email"?}`: the named fields of the session user (an
/// admin may name another user by e-mail).
#[utoipa::path(post, path = "/login_api/getUserInfos", tag = "gradido", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn get_user_infos(State(state): State<GradidoState>, body: Bytes) -> Result<Response, GradidoError> {
    let object = parse_object(&body)?;
    let session = sessions::require(&state, &object).await?;
    let row = match text_field(&object, "email") {
        Some(email) => {
            require_admin(&state, &session.user_id).await?;
            user_by_email(&state, email).await?
        }
        None => user_by_id(&state, &session.user_id).await?,
    };
    let all = user_view(&row);
    let asked: Vec<&str> = object
        .get("ask")
        .and_then(Value::as_array)
        .map(|ask| ask.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let user_data: Map<String, Value> =
        asked.iter().filter_map(|field| all.get(*field).map(|value| (field.to_string(), value.clone()))).collect();
    Ok(success(json!({ "userData": user_data })))
}

/// `{"session_id","update":{...}}`: changes profile fields; a new `password` needs the
/// `old_password`.
#[utoipa::path(post, path = "/login_api/updateUserInfos", tag = "gradido", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn update_user_infos(
    State(state): State<GradidoState>,
    ClientAddress(address): ClientAddress,
    body: Bytes,
) -> Result<Response, GradidoError> {
    let object = parse_object(&body)?;
    let session = sessions::require(&state, &object).await?;
    let Some(update) = object.get("update").and_then(Value::as_object) else {
        return Err(GradidoError::new("error", "parameter format unknown"));
    };
    let text = |name: &str| update.get(name).and_then(Value::as_str).map(str::to_string);
    let changes = ProfileChanges {
        first_name: text("first_name"),
        last_name: text("last_name"),
        username: text("username"),
        description: text("description"),
        language: text("language"),
    };
    let bus = &state.ledger.bus;
    let mut changed = 0;
    if let Some(password) = text("password") {
        let row = user_by_id(&state, &session.user_id).await?;
        let old = text("old_password").unwrap_or_default();
        let attempt = state.credentials.begin(super::DIALECT, &session.user_id, address)?;
        if !verify_password(row.password_hash, old).await {
            attempt.failed();
            return Err(GradidoError::new("error", "old password incorrect"));
        }
        attempt.succeeded();
        if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&password.len()) {
            return Err(GradidoError::with_details("error", "invalid parameter", "password too short or too long"));
        }
        let password_hash = hash_password(password).await?;
        let outcome =
            bus.execute(&session.user_id, UserCommand::ChangePassword { password_hash }, &Operation::fresh()).await?;
        if let Some(event) = outcome.event() {
            state.ledger.await_read_models(event).await;
        }
        changed += 1;
    }
    if let Some(username) = &changes.username {
        let previous = user_by_id(&state, &session.user_id).await?.username;
        let take = ClaimCommand::Take { kind: "username".into(), owner: session.user_id.clone() };
        bus.execute(&claim_id("username", username), take, &Operation::fresh())
            .await
            .map_err(|_| GradidoError::new("error", "username already in use"))?;
        if !previous.eq_ignore_ascii_case(username) {
            bus.execute(
                &claim_id("username", &previous),
                ClaimCommand::Release { owner: session.user_id.clone() },
                &Operation::fresh(),
            )
            .await?;
        }
    }
    let profile_fields =
        [&changes.first_name, &changes.last_name, &changes.username, &changes.description, &changes.language]
            .iter()
            .filter(|field| field.is_some())
            .count();
    if profile_fields > 0 {
        let outcome =
            bus.execute(&session.user_id, UserCommand::UpdateProfile { changes }, &Operation::fresh()).await?;
        if let Some(event) = outcome.event() {
            state.ledger.await_read_models(event).await;
        }
        changed += profile_fields;
    }
    Ok(success(json!({ "valid_values": changed })))
}

/// Admins: `{"session_id","search"}` -> users whose e-mail, username or name contains it.
#[utoipa::path(post, path = "/login_api/getUsers", tag = "gradido", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn get_users(State(state): State<GradidoState>, body: Bytes) -> Result<Response, GradidoError> {
    let object = parse_object(&body)?;
    let session = sessions::require(&state, &object).await?;
    require_admin(&state, &session.user_id).await?;
    let rows = find_users(&state, &object).await?;
    Ok(success(json!({ "users": rows.iter().map(user_view).collect::<Vec<_>>() })))
}

/// Any user: `{"session_id","search"}` -> public facts of matching users (no e-mail).
#[utoipa::path(post, path = "/login_api/search", tag = "gradido", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn search(State(state): State<GradidoState>, body: Bytes) -> Result<Response, GradidoError> {
    let object = parse_object(&body)?;
    sessions::require(&state, &object).await?;
    let rows = find_users(&state, &object).await?;
    let users: Vec<Value> = rows
        .into_iter()
        .filter(|user| !user.disabled)
        .map(|user| {
            json!({
                "username": user.username,
                "first_name": user.first_name.unwrap_or_default(),
                "last_name": user.last_name.unwrap_or_default(),
                "public_hex": user.public_hex.unwrap_or_default(),
            })
        })
        .collect();
    Ok(success(json!({ "users": users })))
}

/// Admins: `{"session_id","email"}` -> the verification mail is sent again.
#[utoipa::path(post, path = "/login_api/adminEmailVerificationResend", tag = "gradido", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn admin_email_verification_resend(
    State(state): State<GradidoState>,
    body: Bytes,
) -> Result<Response, GradidoError> {
    let object = parse_object(&body)?;
    let session = sessions::require(&state, &object).await?;
    require_admin(&state, &session.user_id).await?;
    let email = text_field(&object, "email").ok_or_else(|| GradidoError::new("error", "parameter format unknown"))?;
    let row = user_by_email(&state, email).await?;
    send_verification(&state, &row.user_id, &row.email).await?;
    Ok(success(json!({})))
}

/// Admins: `{"session_id","email","disabled":bool}`. A disabled user can neither log in
/// nor receive.
#[utoipa::path(post, path = "/login_api/adminSetUserDisabled", tag = "gradido", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn admin_set_user_disabled(State(state): State<GradidoState>, body: Bytes) -> Result<Response, GradidoError> {
    let object = parse_object(&body)?;
    let session = sessions::require(&state, &object).await?;
    require_admin(&state, &session.user_id).await?;
    let (Some(email), Some(disabled)) = (text_field(&object, "email"), object.get("disabled").and_then(Value::as_bool))
    else {
        return Err(GradidoError::new("error", "parameter format unknown"));
    };
    let user_id = user_by_email(&state, email).await?.user_id;
    let outcome =
        state.ledger.bus.execute(&user_id, UserCommand::SetDisabled { disabled }, &Operation::fresh()).await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(success(json!({})))
}

/// Mails a one-time verification code; only its SHA-256 is kept, for `VERIFICATION_CODE_DAYS`.
async fn send_verification(state: &GradidoState, user_id: &str, email: &str) -> Result<(), AppError> {
    use rand::RngCore;
    use sha2::{Digest, Sha256};
    let mut bytes = [0_u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    let code = hex::encode(bytes);
    let client = state.ledger.reads.get().await?;
    client
        .execute(
            "INSERT INTO email_verifications (code_sha256, user_id, expires_at) VALUES ($1, $2, now() + $3::bigint * interval '1 day')",
            &[&hex::encode(Sha256::digest(code.as_bytes())), &user_id, &VERIFICATION_CODE_DAYS],
        )
        .await?;
    state
        .mailer
        .send(Mail {
            to: email.to_string(),
            subject: "Please verify your e-mail address".to_string(),
            body: format!("Hello,\n\nplease confirm {email} with this code: {code}\nIt is valid for {VERIFICATION_CODE_DAYS} days.\n"),
        })
        .await
}

/// `{"code"}` from the verification mail: marks the address as checked.
#[utoipa::path(post, path = "/login_api/verifyEmail", tag = "gradido", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn verify_email(
    State(state): State<GradidoState>,
    ClientAddress(address): ClientAddress,
    body: Bytes,
) -> Result<Response, GradidoError> {
    use sha2::{Digest, Sha256};
    let object = parse_object(&body)?;
    let code = text_field(&object, "code").ok_or_else(|| GradidoError::new("error", "parameter format unknown"))?;
    // A code names no account until it is found: guesses count against the address alone.
    let attempt = state.credentials.begin_from(super::DIALECT, address)?;
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let row = client
        .query_opt(
            "DELETE FROM email_verifications WHERE code_sha256 = $1 AND expires_at > now() RETURNING user_id",
            &[&hex::encode(Sha256::digest(code.as_bytes()))],
        )
        .await
        .map_err(AppError::from)?;
    let Some(row) = row else {
        attempt.failed();
        return Err(GradidoError::new("error", "code not found"));
    };
    attempt.succeeded();
    let user_id: String = row.get(0);
    let outcome = state
        .ledger
        .bus
        .execute(&user_id, UserCommand::VerifyEmail, &Operation::derived(ids::verify_email(&user_id)))
        .await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(success(json!({})))
}

async fn find_users(state: &GradidoState, object: &Map<String, Value>) -> Result<Vec<UserRow>, GradidoError> {
    let search = text_field(object, "search").unwrap_or_default();
    if search.len() > MAX_SEARCH_LEN {
        return Err(GradidoError::with_details("error", "invalid parameter", "search text too long"));
    }
    let pattern = format!("%{}%", search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    Ok(users::search(&client, &pattern, MAX_USERS_LISTED).await.map_err(AppError::from)?)
}

pub(super) async fn user_by_email(state: &GradidoState, email: &str) -> Result<UserRow, GradidoError> {
    find_user(state, UserKey::Email(email)).await
}

async fn user_by_id(state: &GradidoState, user_id: &str) -> Result<UserRow, GradidoError> {
    find_user(state, UserKey::Id(user_id)).await
}

async fn find_user(state: &GradidoState, key: UserKey<'_>) -> Result<UserRow, GradidoError> {
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    users::find(&client, key).await.map_err(AppError::from)?.ok_or_else(|| GradidoError::new("error", "user not found"))
}

/// Every field a client may ask for; never the password hash.
fn user_view(user: &UserRow) -> Value {
    json!({
        "id": user.user_id,
        "email": user.email,
        "username": user.username,
        "first_name": user.first_name.clone().unwrap_or_default(),
        "last_name": user.last_name.clone().unwrap_or_default(),
        "role": user.role.clone().unwrap_or_default(),
        "public_hex": user.public_hex.clone().unwrap_or_default(),
        "group": user.group_alias.clone().unwrap_or_default(),
        "disabled": user.disabled,
        "email_checked": user.email_checked,
        "description": user.description.clone().unwrap_or_default(),
        "language": user.language.clone().unwrap_or_default(),
        "created": user.created_at.to_rfc3339(),
    })
}

/// A username from an e-mail's local part, kept to the allowed characters.
fn default_username(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default();
    local.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).take(64).collect()
}
