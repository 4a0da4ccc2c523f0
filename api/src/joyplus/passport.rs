//! Passport, the single sign-on provider Joy Plus trusts. The wallet only ever redeems a
//! one-time code for a profile, through the `Passport` trait. The embedded default is a
//! small Passport this service hosts itself under `/passport` (register, log in, get a code),
//! over the ledger's own users, so the whole flow runs locally.

use axum::extract::State;
use axum::response::Response;
use domain::user::{validate_mobile, UserCommand};
use serde::Deserialize;
use serde_json::json;

use super::wire::{data, JoyError, JoyJson};
use super::JoyState;
use crate::client_address::ClientAddress;
use crate::tokens::{random_token, sha256_hex};
use app::use_cases::users::{authenticate, register, NewUser};
use store::{ids, Operation};

/// How long a code from Passport may be redeemed.
const CODE_LIFETIME_SECONDS: i64 = 60;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PassportRegistration)]
pub struct RegisterRequest {
    #[schema(value_type = crate::text_schemas::Email)]
    email: String,
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    username: String,
    #[schema(min_length = 8, max_length = 1024)]
    password: String,
    #[schema(max_length = 128)]
    first_name: Option<String>,
    #[schema(max_length = 128)]
    last_name: Option<String>,
    #[schema(pattern = r"^\+?[0-9]{4,15}$")]
    mobile: Option<String>,
}

/// `POST /passport/register`: a new Passport (and ledger) user.
#[utoipa::path(post, path = "/passport/register", tag = "passport", request_body = RegisterRequest, responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn register_user(
    State(state): State<JoyState>,
    JoyJson(request): JoyJson<RegisterRequest>,
) -> Result<Response, JoyError> {
    if let Some(mobile) = &request.mobile {
        validate_mobile(mobile)?;
    }
    let new_user = NewUser {
        email: request.email,
        username: request.username,
        password: request.password,
        first_name: request.first_name,
        last_name: request.last_name,
        admin: false,
    };
    let user = register(&state.ledger, new_user).await?;
    if let Some(mobile) = request.mobile {
        let operation = Operation::derived(ids::joy_mobile(&user.id, &mobile));
        let outcome = state.ledger.bus.execute(&user.id, UserCommand::SetMobile { mobile }, &operation).await?;
        if let Some(event) = outcome.event() {
            state.ledger.await_read_models(event).await;
        }
    }
    Ok(data(json!({ "id": user.id })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PassportLogin)]
pub struct LoginRequest {
    username: String,
    password: String,
}

/// `POST /passport/login`: a one-time code for `sso.html`, and where to redeem it.
#[utoipa::path(post, path = "/passport/login", tag = "passport", request_body = LoginRequest, responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn login(
    State(state): State<JoyState>,
    ClientAddress(address): ClientAddress,
    JoyJson(request): JoyJson<LoginRequest>,
) -> Result<Response, JoyError> {
    let user_id =
        authenticate(&state.ledger.reads, &state.credentials, "passport", &request.username, request.password, address)
            .await?
            .ok_or_else(|| JoyError::new(axum::http::StatusCode::UNAUTHORIZED, "invalid username or password"))?;
    let client = state.ledger.reads.get().await?;
    let code = random_token();
    client
        .execute(
            "INSERT INTO passport_codes (code_sha256, user_id, expires_at) VALUES ($1, $2, now() + $3::bigint * interval '1 second')",
            &[&sha256_hex(&code), &user_id, &CODE_LIFETIME_SECONDS],
        )
        .await?;
    Ok(data(json!({ "code": code, "redirect": format!("/api/v1/sso.html?code={code}") })))
}
