use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use domain::gradido::GroupCommand;
use serde_json::json;

use super::sessions;
use super::transactions::running_counts;
use super::wire::{parse_object, success, text_field, GradidoError};
use super::GradidoState;
use super::DIALECT;
use crate::client_address::ClientAddress;
use app::credentials::verify_password_or_dummy;
use app::use_cases::users::throttle_key;
use app::AppError;
use projections::read_models::users::{self, UserKey};

/// `{"email","password"}` -> a session id. Unknown e-mail and wrong password answer
/// differently, as the original server did.
#[utoipa::path(post, path = "/login_api/unsecureLogin", tag = "gradido", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn unsecure_login(
    State(state): State<GradidoState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ClientAddress(address): ClientAddress,
    body: Bytes,
) -> Result<Response, GradidoError> {
    let object = parse_object(&body)?;
    let (Some(email), Some(password)) = (text_field(&object, "email"), text_field(&object, "password")) else {
        return Err(GradidoError::new("error", "parameter format unknown"));
    };
    state.credentials.check_address(DIALECT, address)?;
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let user = users::find(&client, UserKey::Email(email)).await.map_err(AppError::from)?;
    drop(client);
    let attempt = state.credentials.begin(
        DIALECT,
        &throttle_key(user.as_ref().map(|user| user.user_id.as_str()), email),
        address,
    )?;
    // An unknown e-mail costs the same time as a wrong password.
    let verified =
        verify_password_or_dummy(user.as_ref().map(|user| user.password_hash.clone()), password.to_string()).await;
    let Some(user) = user else {
        attempt.failed();
        return Err(GradidoError::new("error", "user not found"));
    };
    if !verified {
        attempt.failed();
        return Err(GradidoError::new("error", "password incorrect"));
    }
    attempt.succeeded();
    if user.disabled {
        return Err(GradidoError::new("disabled", "user is disabled"));
    }
    let session_id = sessions::open(&state, &user.user_id, &peer.ip().to_string()).await?;
    Ok(success(json!({ "session_id": session_id })))
}

/// `{"session_id"}` -> the user and the counts of their pending and executing transactions.
#[utoipa::path(post, path = "/login_api/login", tag = "gradido", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn login(State(state): State<GradidoState>, body: Bytes) -> Result<Response, GradidoError> {
    let object = parse_object(&body)?;
    let session = sessions::require(&state, &object).await?;
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let user = users::find(&client, UserKey::Id(&session.user_id))
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound("user"))?;
    let (pending, executing) = running_counts(&state, &session.user_id).await?;
    Ok(success(json!({
        "clientIP": session.client_ip,
        "user": {
            "first_name": user.first_name.unwrap_or_default(),
            "last_name": user.last_name.unwrap_or_default(),
            "email": user.email,
            "created": user.created_at.to_rfc3339(),
            "email_checked": user.email_checked,
            "ident_hash": "",
            "disabled": user.disabled,
            "role": user.role.unwrap_or_default(),
            "public_hex": user.public_hex.unwrap_or_default(),
        },
        "Transaction.pending": pending,
        "Transaction.executing": executing,
        "Transactions.pending": pending,
        "Transactions.executing": executing,
    })))
}

#[utoipa::path(post, path = "/login_api/logout", tag = "gradido", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn logout(State(state): State<GradidoState>, body: Bytes) -> Result<Response, GradidoError> {
    let object = parse_object(&body)?;
    let session = sessions::require(&state, &object).await?;
    sessions::close(&state, session.session_id).await?;
    Ok(success(json!({})))
}

/// Admins create groups: `{"session_id","alias","name","description"?}`.
#[utoipa::path(post, path = "/login_api/createGroup", tag = "gradido", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn create_group(State(state): State<GradidoState>, body: Bytes) -> Result<Response, GradidoError> {
    let object = parse_object(&body)?;
    let session = sessions::require(&state, &object).await?;
    require_admin(&state, &session.user_id).await?;
    let (Some(alias), Some(name)) = (text_field(&object, "alias"), text_field(&object, "name")) else {
        return Err(GradidoError::new("error", "parameter format unknown"));
    };
    let description = text_field(&object, "description").map(str::to_string);
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
    Ok(success(json!({})))
}

pub(super) async fn require_admin(state: &GradidoState, user_id: &str) -> Result<(), GradidoError> {
    let user = state.ledger.bus.load::<domain::user::User>(user_id).await?.registered().cloned();
    match user.and_then(|user| user.role) {
        Some(domain::user::Role::Admin) => Ok(()),
        None => Err(GradidoError::new("error", "user is not admin")),
    }
}
