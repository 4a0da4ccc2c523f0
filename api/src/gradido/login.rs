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
use app::use_cases::users::verify_password;
use app::AppError;

/// `{"email","password"}` -> a session id. Unknown e-mail and wrong password answer
/// differently, as the original server did.
#[utoipa::path(post, path = "/login_api/unsecureLogin", tag = "gradido", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn unsecure_login(
    State(state): State<GradidoState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Response, GradidoError> {
    let object = parse_object(&body)?;
    let (Some(email), Some(password)) = (text_field(&object, "email"), text_field(&object, "password")) else {
        return Err(GradidoError::new("error", "parameter format unknown"));
    };
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let row = client
        .query_opt("SELECT user_id, password_hash, disabled FROM users WHERE lower(email) = lower($1)", &[&email])
        .await
        .map_err(AppError::from)?;
    let Some(row) = row else {
        return Err(GradidoError::new("error", "user not found"));
    };
    let (user_id, hash): (String, String) = (row.get(0), row.get(1));
    if !verify_password(hash, password.to_string()).await {
        return Err(GradidoError::new("error", "password incorrect"));
    }
    if row.get::<_, bool>(2) {
        return Err(GradidoError::new("disabled", "user is disabled"));
    }
    let session_id = sessions::open(&state, &user_id, &peer.ip().to_string()).await?;
    Ok(success(json!({ "session_id": session_id })))
}

/// `{"session_id"}` -> the user and the counts of their pending and executing transactions.
#[utoipa::path(post, path = "/login_api/login", tag = "gradido", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn login(State(state): State<GradidoState>, body: Bytes) -> Result<Response, GradidoError> {
    let object = parse_object(&body)?;
    let session = sessions::require(&state, &object).await?;
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let user = client
        .query_one(
            "SELECT first_name, last_name, email, created_at, role, public_hex, disabled, email_checked FROM users WHERE user_id = $1",
            &[&session.user_id],
        )
        .await
        .map_err(AppError::from)?;
    let (pending, executing) = running_counts(&state, &session.user_id).await?;
    let created: chrono::DateTime<chrono::Utc> = user.get("created_at");
    Ok(success(json!({
        "clientIP": session.client_ip,
        "user": {
            "first_name": user.get::<_, Option<String>>("first_name").unwrap_or_default(),
            "last_name": user.get::<_, Option<String>>("last_name").unwrap_or_default(),
            "email": user.get::<_, String>("email"),
            "created": created.to_rfc3339(),
            "email_checked": user.get::<_, bool>("email_checked"),
            "ident_hash": "",
            "disabled": user.get::<_, bool>("disabled"),
            "role": user.get::<_, Option<String>>("role").unwrap_or_default(),
            "public_hex": user.get::<_, Option<String>>("public_hex").unwrap_or_default(),
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
