//! Users through the Gradido dialect: sign-up (`createUser`), the admin search
//! (`getUsers`), and this service's `search`, `adminEmailVerificationResend` and
//! `adminSetUserDisabled`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use domain::user::{ProfileChanges, UserCommand};
use domain::DomainError;
use projections::read_models::groups::{self, GroupRow};
use projections::read_models::users::{self, UserKey, UserRow};
use serde_json::{json, Value};

use super::email_codes::{mail_code, password_invalid, CodeKind};
use super::login::{find_user, is_admin, require_admin};
use super::sessions;
use super::user_object::{generated_username, user_json, LANGUAGES};
use super::wire::{success, GradidoError, Params};
use super::GradidoState;
use app::use_cases::users::{password_length_is_valid, register, NewUser};
use app::AppError;
use store::Operation;

const MAX_USERS_LISTED: i64 = 100;
const MAX_SEARCH_LEN: usize = 128;
/// The group a sign-up without `group_id` joins, as the original defaulted.
pub const DEFAULT_GROUP_ID: i64 = 1;
/// Usernames and descriptions this short were ignored at sign-up by the original.
const MIN_SIGN_UP_TEXT_LEN: usize = 4;

/// `{"email","first_name","last_name","emailType","password"?,"group_id"?,"username"?,
/// "description"?,"language"?,"login_after_register"?}`: signs a user up, mails them a
/// verification code and answers the user (and a session with `login_after_register`).
#[utoipa::path(method(get, post), path = "/login_api/createUser", tag = "gradido", request_body(content = super::requests::CreateUser, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn create_user(
    State(state): State<GradidoState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    params: Params,
) -> Result<Response, GradidoError> {
    let required = |name: &'static str| {
        params.get(name).ok_or_else(|| GradidoError::with_details("error", "json exception", format!("{name} missing")))
    };
    let email = required("email")?.as_str().unwrap_or_default().trim().to_string();
    let first_name = required("first_name")?.as_str().map(str::to_string);
    let last_name = required("last_name")?.as_str().map(str::to_string);
    required("emailType")?;
    if find_user(&state, UserKey::Email(&email)).await?.is_some() {
        return Err(GradidoError::new("exist", "user already exist"));
    }
    let password = params.text("password").map(str::to_string);
    if password.as_deref().is_some_and(|password| !password_length_is_valid(password)) {
        return Err(password_invalid());
    }
    let mut info = Vec::new();
    let group_id = match params.integer("group_id").filter(|id| *id != 0) {
        Some(group_id) => {
            Some(group_by_id(&state, group_id).await?.ok_or_else(|| GradidoError::new("error", "unknown group"))?)
        }
        None => {
            info.push("group_id was not set, use 1 as default!");
            group_by_id(&state, DEFAULT_GROUP_ID).await?
        }
    };
    let username = match params.text("username").filter(|name| name.len() >= MIN_SIGN_UP_TEXT_LEN) {
        Some(username) => {
            if find_user(&state, UserKey::Username(username)).await?.is_some() {
                return Err(GradidoError::new("error", "username already in use"));
            }
            username.to_string()
        }
        None => generated_username(&email),
    };
    let new_user = NewUser {
        email: email.clone(),
        username,
        // A user signed up without a password sets one through a mailed code.
        password: password.clone().unwrap_or_else(crate::tokens::random_token),
        first_name,
        last_name,
        admin: false,
    };
    let view = match register(&state.ledger, new_user).await {
        Ok(view) => view,
        Err(AppError::Domain(DomainError::UserAlreadyRegistered)) => {
            return Err(GradidoError::new("exist", "user already exist"))
        }
        Err(AppError::Domain(DomainError::ClaimTaken { kind })) if kind == "email" => {
            return Err(GradidoError::new("exist", "user already exist"))
        }
        Err(AppError::Domain(DomainError::ClaimTaken { .. })) => {
            return Err(GradidoError::new("error", "username already in use"))
        }
        Err(AppError::Domain(DomainError::EmailInvalid)) => return Err(GradidoError::new("error", "invalid email")),
        Err(error) => return Err(error.into()),
    };
    let changes = ProfileChanges {
        description: params.text("description").filter(|text| text.len() >= MIN_SIGN_UP_TEXT_LEN).map(str::to_string),
        language: params.text("language").filter(|language| LANGUAGES.contains(language)).map(str::to_string),
        ..ProfileChanges::default()
    };
    if changes != ProfileChanges::default() {
        execute(&state, &view.id, UserCommand::UpdateProfile { changes }).await?;
    }
    if let Some(group) = group_id {
        execute(&state, &view.id, UserCommand::JoinGroup { group_alias: group.alias }).await?;
    }
    let user = find_user(&state, UserKey::Id(&view.id)).await?.ok_or(AppError::NotFound("user"))?;
    mail_code(&state, &user, CodeKind::Register, None).await?;
    let mut answer = json!({ "user": user_json(&user), "user_id": user.user_id });
    if !info.is_empty() {
        answer["info"] = json!(info);
    }
    if password.is_some() && params.flag("login_after_register") == Some(true) {
        answer["session_id"] = json!(sessions::open(&state, &user.user_id, &peer.ip().to_string(), "password").await?);
    }
    Ok(success(answer))
}

async fn execute(state: &GradidoState, user_id: &str, command: UserCommand) -> Result<(), AppError> {
    let outcome = state.ledger.bus.execute(user_id, command, &Operation::fresh()).await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(())
}

pub(super) async fn group_by_id(state: &GradidoState, group_id: i64) -> Result<Option<GroupRow>, AppError> {
    let client = state.ledger.reads.get().await?;
    Ok(groups::by_id(&client, group_id).await?)
}

/// Admins: `{"session_id","search","account_state"?}` -> the users whose e-mail, username
/// or name contains `search`.
#[utoipa::path(method(get, post), path = "/login_api/getUsers", tag = "gradido", request_body(content = super::requests::GetUsers, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn get_users(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    let session_id = params.session_id().ok_or_else(|| GradidoError::new("error", "empty session id"))?;
    let session =
        sessions::find(&state, session_id).await?.ok_or_else(|| GradidoError::new("not found", "Session not found"))?;
    let search = params.text("search").filter(|search| *search != "... empty ...").unwrap_or_default();
    let account_state = params.text("account_state").unwrap_or("all");
    if search.is_empty() && account_state == "all" {
        return Err(GradidoError::new("not found", "Search string is empty and account_state is all or empty"));
    }
    if !is_admin(&state, &session.user_id).await? {
        return Err(GradidoError::new("wrong role", "User hasn't correct role"));
    }
    let rows: Vec<UserRow> =
        find_users(&state, search).await?.into_iter().filter(|user| in_account_state(user, account_state)).collect();
    if rows.is_empty() {
        return Ok(success(json!({})));
    }
    Ok(success(json!({ "users": rows.iter().map(user_json).collect::<Vec<_>>() })))
}

/// The original's `account_state` filters.
fn in_account_state(user: &UserRow, account_state: &str) -> bool {
    match account_state {
        "email not activated" => !user.email_checked,
        "no keys" => user.public_hex.is_none(),
        "disabled" => user.disabled,
        _ => true,
    }
}

/// Any user: `{"session_id","search"}` -> public facts of matching users (no e-mail).
#[utoipa::path(method(get, post), path = "/login_api/search", tag = "gradido", request_body(content = super::requests::Search, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn search(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    sessions::require(&state, &params).await?;
    let rows = find_users(&state, params.text("search").unwrap_or_default()).await?;
    let users: Vec<Value> = rows
        .into_iter()
        .filter(|user| !user.disabled)
        .map(|user| {
            json!({
                "username": super::user_object::chosen_username(&user),
                "first_name": user.first_name.unwrap_or_default(),
                "last_name": user.last_name.unwrap_or_default(),
                "public_hex": user.public_hex.unwrap_or_default(),
            })
        })
        .collect();
    Ok(success(json!({ "users": users })))
}

/// Admins: `{"session_id","email"}` -> the verification mail is sent again.
#[utoipa::path(method(get, post), path = "/login_api/adminEmailVerificationResend", tag = "gradido", request_body(content = super::requests::UserByEmail, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn admin_email_verification_resend(
    State(state): State<GradidoState>,
    params: Params,
) -> Result<Response, GradidoError> {
    let session = sessions::require(&state, &params).await?;
    require_admin(&state, &session.user_id).await?;
    let email = params.text("email").ok_or_else(|| GradidoError::new("error", "parameter format unknown"))?;
    let user = user_by_email(&state, email).await?;
    mail_code(&state, &user, CodeKind::Register, None).await?;
    Ok(success(json!({})))
}

/// Admins: `{"session_id","email","disabled":bool}`. A disabled user can neither log in
/// nor receive.
#[utoipa::path(method(get, post), path = "/login_api/adminSetUserDisabled", tag = "gradido", request_body(content = super::requests::SetUserDisabled, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn admin_set_user_disabled(
    State(state): State<GradidoState>,
    params: Params,
) -> Result<Response, GradidoError> {
    let session = sessions::require(&state, &params).await?;
    require_admin(&state, &session.user_id).await?;
    let (Some(email), Some(disabled)) = (params.text("email"), params.flag("disabled")) else {
        return Err(GradidoError::new("error", "parameter format unknown"));
    };
    let user_id = user_by_email(&state, email).await?.user_id;
    execute(&state, &user_id, UserCommand::SetDisabled { disabled }).await?;
    Ok(success(json!({})))
}

async fn find_users(state: &GradidoState, search: &str) -> Result<Vec<UserRow>, GradidoError> {
    if search.len() > MAX_SEARCH_LEN {
        return Err(GradidoError::with_details("error", "invalid parameter", "search text too long"));
    }
    let pattern = format!("%{}%", search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    Ok(users::search(&client, &pattern, MAX_USERS_LISTED).await.map_err(AppError::from)?)
}

pub(super) async fn user_by_email(state: &GradidoState, email: &str) -> Result<UserRow, GradidoError> {
    find_user(state, UserKey::Email(email)).await?.ok_or_else(|| GradidoError::new("not found", "user not found"))
}
