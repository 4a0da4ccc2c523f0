//! Signing in and out, and the session checks the community server and the backend make
//! before every page: `unsecureLogin`, `login`, `checkSessionState`, `logout`, `hasElopage`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use domain::gradido::GroupCommand;
use serde_json::json;

use super::sessions::{self, Session};
use super::transactions::running_counts;
use super::user_object::user_json;
use super::wire::{success, GradidoError, Params};
use super::GradidoState;
use super::DIALECT;
use crate::client_address::ClientAddress;
use app::credentials::verify_password_or_dummy;
use app::use_cases::users::throttle_key;
use app::AppError;
use projections::read_models::users::{self, UserKey, UserRow};

/// `{"email" | "username", "password"}` -> `session_id` and `user`. An unknown e-mail, an
/// unknown username and a wrong password answer differently, as the original server did.
#[utoipa::path(method(get, post), path = "/login_api/unsecureLogin", tag = "gradido", request_body(content = super::requests::UnsecureLogin, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn unsecure_login(
    State(state): State<GradidoState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ClientAddress(address): ClientAddress,
    params: Params,
) -> Result<Response, GradidoError> {
    let password = params.text("password").unwrap_or_default();
    let (key, typed, not_found) = match (params.text("email"), params.text("username")) {
        (Some(email), _) => (UserKey::Email(email), email, "user with email not found"),
        (None, Some(username)) => (UserKey::Username(username), username, "user with username not found"),
        (None, None) => return Err(GradidoError::new("error", "no email or username given")),
    };
    state.credentials.check_address(DIALECT, address)?;
    let user = find_user(&state, key).await?;
    let attempt = state.credentials.begin(
        DIALECT,
        &throttle_key(user.as_ref().map(|user| user.user_id.as_str()), typed),
        address,
    )?;
    // An unknown user costs the same time as a wrong password.
    let verified =
        verify_password_or_dummy(user.as_ref().map(|user| user.password_hash.clone()), password.to_string()).await;
    let Some(user) = user else {
        attempt.failed();
        return Err(GradidoError::with_details("error", not_found, typed));
    };
    if !verified {
        attempt.failed();
        return Err(GradidoError::new("error", "password incorrect"));
    }
    attempt.succeeded();
    if user.disabled {
        return Err(GradidoError::new("disabled", "user is disabled"));
    }
    let session_id = sessions::open(&state, &user.user_id, &peer.ip().to_string(), "password").await?;
    Ok(success(json!({ "session_id": session_id, "user": user_json(&user), "hasElopage": false })))
}

/// `session_id` (GET query or POST body) -> the user and the counts of their transactions
/// waiting to be signed and being executed.
#[utoipa::path(method(get, post), path = "/login_api/login", tag = "gradido", request_body(content = super::requests::Session, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn login(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    let session = sessions::check_and_load(&state, &params).await?;
    session_state(&state, &session).await
}

/// The same answer as `login`: whether the session lives, and its user.
#[utoipa::path(method(get, post), path = "/login_api/checkSessionState", tag = "gradido", request_body(content = super::requests::Session, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn check_session_state(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    let session = sessions::check_and_load(&state, &params).await?;
    session_state(&state, &session).await
}

async fn session_state(state: &GradidoState, session: &Session) -> Result<Response, GradidoError> {
    let user = session_user(state, session).await?;
    let (pending, executing) = running_counts(state, &session.user_id).await?;
    // Transactions another user must sign: none, every transaction has one signer here.
    let can_signed = 0;
    Ok(success(json!({
        "clientIP": session.client_ip,
        "user": user_json(&user),
        "Transactions.pending": pending,
        "Transactions.executing": executing,
        "Transactions.can_signed": can_signed,
        "Transaction.pending": pending,
        "Transaction.executing": executing,
        "Transaction.can_signed": can_signed,
    })))
}

#[utoipa::path(method(get, post), path = "/login_api/logout", tag = "gradido", request_body(content = super::requests::Session, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn logout(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    let session_id = params.session_id().unwrap_or_default();
    let Some(session) = sessions::find(&state, session_id).await? else {
        return Err(GradidoError::with_details("error", "session not found", session_id.to_string()));
    };
    sessions::close(&state, session.session_id).await?;
    Ok(success(json!({})))
}

/// Whether the user bought through Elopage: this ledger sells nothing, so never.
#[utoipa::path(method(get, post), path = "/login_api/hasElopage", tag = "gradido", request_body(content = super::requests::Session, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn has_elopage(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    sessions::check_and_load(&state, &params).await?;
    Ok(success(json!({ "hasElopage": false })))
}

/// Admins create groups: `{"session_id","alias","name","description"?}`.
#[utoipa::path(method(get, post), path = "/login_api/createGroup", tag = "gradido", request_body(content = super::requests::CreateGroup, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn create_group(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    let session = sessions::require(&state, &params).await?;
    require_admin(&state, &session.user_id).await?;
    let (Some(alias), Some(name)) = (params.text("alias"), params.text("name")) else {
        return Err(GradidoError::new("error", "parameter format unknown"));
    };
    let description = params.text("description").map(str::to_string);
    let outcome = state
        .ledger
        .bus
        .execute(
            alias,
            GroupCommand::Create { alias: alias.to_string(), name: name.to_string(), description },
            &store::Operation::fresh(),
        )
        .await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let group_id = projections::read_models::groups::by_alias(&client, alias)
        .await
        .map_err(AppError::from)?
        .map(|group| group.group_id);
    Ok(success(json!({ "group_id": group_id })))
}

pub(super) async fn require_admin(state: &GradidoState, user_id: &str) -> Result<(), GradidoError> {
    if is_admin(state, user_id).await? {
        Ok(())
    } else {
        Err(GradidoError::new("error", "user is not admin"))
    }
}

pub(super) async fn is_admin(state: &GradidoState, user_id: &str) -> Result<bool, GradidoError> {
    let user = state.ledger.bus.load::<domain::user::User>(user_id).await?.registered().cloned();
    Ok(matches!(user.and_then(|user| user.role), Some(domain::user::Role::Admin)))
}

pub(super) async fn find_user(state: &GradidoState, key: UserKey<'_>) -> Result<Option<UserRow>, GradidoError> {
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    Ok(users::find(&client, key).await.map_err(AppError::from)?)
}

pub(super) async fn session_user(state: &GradidoState, session: &Session) -> Result<UserRow, GradidoError> {
    find_user(state, UserKey::Id(&session.user_id))
        .await?
        .ok_or_else(|| GradidoError::new("not found", "Session didn't contain user"))
}
