//! Passport, the single sign-on provider Joy Plus trusts. The wallet only ever redeems a
//! one-time code for a profile, through the `Passport` trait. The embedded default is a
//! small Passport this service hosts itself under `/passport` (register, log in, get a code),
//! over the ledger's own users, so the whole flow runs locally.

use std::future::Future;
use std::pin::Pin;

use axum::extract::State;
use axum::response::Response;
use base64::Engine;
use deadpool_postgres::Pool;
use domain::user::{validate_mobile, UserCommand};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::wire::{data, JoyError, JoyJson};
use crate::app::AppState;
use crate::commands::Operation;
use crate::error::AppError;
use crate::tokens::{random_token, sha256_hex};
use crate::users::{authenticate, register, NewUser};

/// How long a code from Passport may be redeemed.
const CODE_LIFETIME_SECONDS: i64 = 60;

/// What Passport vouches for. `user_id` is the ledger user this identity is.
#[derive(Debug, Clone)]
pub struct PassportProfile {
    pub user_id: String,
    pub open_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub mobile: Option<String>,
}

pub type PassportFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<PassportProfile>, AppError>> + Send + 'a>>;

pub trait Passport: Send + Sync + 'static {
    /// The profile a code stands for; `None` for an unknown, used or expired code.
    fn redeem<'a>(&'a self, code: &'a str) -> PassportFuture<'a>;
}

pub struct EmbeddedPassport {
    pub pool: Pool,
}

/// Passport's stable, opaque id for a user: the user id is not disclosed by it.
pub fn open_id(user_id: &str) -> String {
    let digest = Sha256::digest(format!("passport-open-id:{user_id}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&digest[..20])
}

impl Passport for EmbeddedPassport {
    fn redeem<'a>(&'a self, code: &'a str) -> PassportFuture<'a> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let row = client
                .query_opt(
                    "WITH redeemed AS (DELETE FROM passport_codes WHERE code_sha256 = $1 RETURNING user_id, expires_at) \
                     SELECT u.user_id, u.email, u.first_name, u.last_name, u.mobile FROM redeemed r \
                     JOIN users u ON u.user_id = r.user_id WHERE r.expires_at > now() AND NOT u.disabled",
                    &[&sha256_hex(code)],
                )
                .await?;
            Ok(row.map(|row| {
                let user_id: String = row.get(0);
                PassportProfile {
                    open_id: open_id(&user_id),
                    user_id,
                    email: row.get(1),
                    first_name: row.get(2),
                    last_name: row.get(3),
                    mobile: row.get(4),
                }
            }))
        })
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegisterRequest {
    email: String,
    username: String,
    password: String,
    first_name: Option<String>,
    last_name: Option<String>,
    mobile: Option<String>,
}

/// `POST /passport/register`: a new Passport (and ledger) user.
#[utoipa::path(post, path = "/passport/register", tag = "passport", request_body = RegisterRequest, responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn register_user(
    State(state): State<AppState>,
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
        let operation = Operation::derived(format!("mobile:{}:{mobile}", user.id));
        let outcome = state.ledger.bus.user(&user.id, UserCommand::SetMobile { mobile }, &operation).await?;
        if let Some(event) = outcome.event() {
            state.ledger.await_read_models(event).await;
        }
    }
    Ok(data(json!({ "id": user.id })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    username: String,
    password: String,
}

/// `POST /passport/login`: a one-time code for `sso.html`, and where to redeem it.
#[utoipa::path(post, path = "/passport/login", tag = "passport", request_body = LoginRequest, responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn login(
    State(state): State<AppState>,
    JoyJson(request): JoyJson<LoginRequest>,
) -> Result<Response, JoyError> {
    let user_id = authenticate(&state.ledger.reads, &request.username, request.password)
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
