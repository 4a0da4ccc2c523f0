//! `POST /api-key` (admin): a new key for an e-mail address, shown once; issuing again
//! rotates it. `PUT /api-key` (admin): adds or removes one scope.

use axum::extract::State;
use axum::response::Response;
use domain::joyplus::ApiKeyCommand;
use domain::user::validate_email;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::Caller;
use super::wire::{data, JoyError, JoyJson};
use super::JoyState;
use crate::tokens::sha256_hex;

/// Groups of random hex in a key: five of eight, 160 bits.
const KEY_GROUPS: usize = 5;
const KEY_GROUP_BYTES: usize = 4;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateRequest {
    #[schema(value_type = crate::text_schemas::Email)]
    email: String,
}

fn new_key() -> String {
    let mut rng = rand::thread_rng();
    (0..KEY_GROUPS)
        .map(|_| {
            let mut bytes = [0_u8; KEY_GROUP_BYTES];
            rng.fill_bytes(&mut bytes);
            hex::encode(bytes)
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[utoipa::path(post, path = "/api/v1/api-key", tag = "joyplus", request_body = CreateRequest, security(("joy_admin_key" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn create(
    State(state): State<JoyState>,
    caller: Caller,
    JoyJson(request): JoyJson<CreateRequest>,
) -> Result<Response, JoyError> {
    caller.require_admin()?;
    validate_email(&request.email)?;
    let key = new_key();
    let command = ApiKeyCommand::Issue { email: request.email.clone(), key_sha256: sha256_hex(&key) };
    let outcome = state.ledger.bus.execute(&request.email.to_lowercase(), command, &store::Operation::fresh()).await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(data(json!({ "apiKey": key, "message": "Save this API Key. It will not be shown again." })))
}

/// What `PUT /api/v1/api-key` takes: exactly one of `scope_add` and `scope_remove`
/// (the handler reads it as `ScopeRequest` to name a wrong combination in its answer).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum ScopeChange {
    Add(ScopeAdd),
    Remove(ScopeRemove),
}

#[derive(Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ScopeAdd {
    #[schema(value_type = crate::text_schemas::Email)]
    email: String,
    /// `resource.action`: lower-case letters, digits and `_`.
    #[schema(pattern = r"^[a-z0-9_]+\.[a-z0-9_]+$", max_length = 64)]
    scope_add: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ScopeRemove {
    #[schema(value_type = crate::text_schemas::Email)]
    email: String,
    #[schema(pattern = r"^[a-z0-9_]+\.[a-z0-9_]+$", max_length = 64)]
    scope_remove: String,
}

#[derive(Deserialize)]
pub struct ScopeRequest {
    email: String,
    scope_add: Option<String>,
    scope_remove: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/api-key", tag = "joyplus", request_body = ScopeChange, security(("joy_admin_key" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn change_scope(
    State(state): State<JoyState>,
    caller: Caller,
    JoyJson(request): JoyJson<ScopeRequest>,
) -> Result<Response, JoyError> {
    caller.require_admin()?;
    let (command, message) = match (request.scope_add, request.scope_remove) {
        (Some(scope), None) => (ApiKeyCommand::AddScope { scope: scope.clone() }, format!("Scope added: {scope}")),
        (None, Some(scope)) => (ApiKeyCommand::RemoveScope { scope: scope.clone() }, format!("Scope removed: {scope}")),
        _ => return Err(JoyError::bad_request("exactly one of scope_add and scope_remove is required")),
    };
    let outcome = state.ledger.bus.execute(&request.email.to_lowercase(), command, &store::Operation::fresh()).await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(data(json!({ "message": message })))
}
