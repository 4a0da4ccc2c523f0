//! `GET /sso.html?code=` signs a user in with a Passport code; the first sign-on creates the
//! user's wallet (with a fresh deposit address) and a balance per listed asset.
//! `GET /user-info` answers who is signed in.

use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::HeaderValue;
use axum::response::Response;
use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use domain::joyplus::{EthAddress, JoyWalletCommand, WalletProfile};
use projections::read_models::JOY_PLUS_PURPOSE;
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;

use super::auth::{Caller, SESSION_COOKIE};
use super::wire::{data, JoyError};
use super::JoyState;
use crate::tokens::{random_token, sha256_hex};
use app::AppError;
use projections::read_models::joy_plus;
use store::{ids, Operation};

/// Longest code accepted from a client.
const MAX_CODE_LEN: usize = 256;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SsoQuery {
    #[param(required = true, value_type = String, min_length = 1)]
    code: Option<String>,
}

/// The account of a user's balance of `asset`.
pub fn balance_account_id(user_id: &str, asset: &str) -> String {
    format!("joy:{user_id}:{asset}")
}

#[utoipa::path(get, path = "/api/v1/sso.html", tag = "joyplus", params(SsoQuery), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn sso(State(state): State<JoyState>, Query(query): Query<SsoQuery>) -> Result<Response, JoyError> {
    let code = query.code.filter(|code| !code.is_empty()).ok_or_else(|| JoyError::bad_request("code is required"))?;
    let expired = || JoyError::new(axum::http::StatusCode::UNAUTHORIZED, "invalid or expired code");
    if code.len() > MAX_CODE_LEN {
        return Err(expired());
    }
    let profile = state.joy.passport.redeem(&code).await?.ok_or_else(expired)?;
    let wallet_id = enroll(&state, &profile).await?;
    let token = random_token();
    let client = state.ledger.reads.get().await?;
    client
        .execute(
            "INSERT INTO joy_sessions (token_sha256, user_id) VALUES ($1, $2)",
            &[&sha256_hex(&token), &profile.user_id],
        )
        .await?;
    let mut response = data(json!({ "id": wallet_id.0, "address": wallet_id.1 }));
    let cookie = state.cookies.session(SESSION_COOKIE, &token, "/api/v1");
    response
        .headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|error| AppError::Internal(error.to_string()))?);
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/user-info", tag = "joyplus", security(("joy_session" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn user_info(State(state): State<JoyState>, caller: Caller) -> Result<Response, JoyError> {
    let user_id = caller.require_user()?;
    let (wallet_id, address) = wallet_of(&state, user_id).await?.ok_or_else(|| JoyError::not_found("wallet"))?;
    Ok(data(json!({ "id": wallet_id, "address": address })))
}

/// The wallet id and address of a user, if the user has signed on before.
pub async fn wallet_of(state: &JoyState, user_id: &str) -> Result<Option<(i64, String)>, AppError> {
    let client = state.ledger.reads.get().await?;
    Ok(joy_plus::wallet_of_user(&client, user_id).await?)
}

/// Creates the wallet on first sign-on, and opens any balance the user lacks.
async fn enroll(state: &JoyState, profile: &app::ports::passport::PassportProfile) -> Result<(i64, String), AppError> {
    if wallet_of(state, &profile.user_id).await?.is_none() {
        let command = JoyWalletCommand::Create {
            profile: WalletProfile {
                open_id: profile.open_id.clone(),
                email: profile.email.clone(),
                first_name: profile.first_name.clone(),
                last_name: profile.last_name.clone(),
                mobile: profile.mobile.clone(),
            },
            address: new_deposit_address(),
        };
        let operation = Operation::derived(ids::joy_wallet(&profile.user_id));
        let outcome = state.ledger.bus.execute(&profile.user_id, command, &operation).await?;
        if let Some(event) = outcome.event() {
            state.ledger.await_read_models(event).await;
        }
    }
    open_balances(state, &profile.user_id).await?;
    wallet_of(state, &profile.user_id).await?.ok_or(AppError::NotFound("wallet"))
}

/// Opens the user's balance of every listed asset it does not have yet.
pub async fn open_balances(state: &JoyState, user_id: &str) -> Result<(), AppError> {
    let client = state.ledger.reads.get().await?;
    let missing = joy_plus::assets_without_balance(&client, user_id).await?;
    drop(client);
    for (code, decimals) in missing {
        let decimals = u32::try_from(decimals).map_err(|_| AppError::Internal("negative decimals".into()))?;
        state
            .ledger
            .open_user_account(&balance_account_id(user_id, &code), &code, decimals, user_id, JOY_PLUS_PURPOSE)
            .await?;
    }
    Ok(())
}

/// A fresh secp256k1 key's address. The secret half is dropped: deposits to it are swept by
/// the custody system, which derives or holds keys outside this service (see ADR 12).
fn new_deposit_address() -> EthAddress {
    let secp = Secp256k1::signing_only();
    loop {
        let mut bytes = [0_u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        // Fails only for zero or a value beyond the curve order (probability ~2^-128).
        if let Ok(secret) = SecretKey::from_slice(&bytes) {
            let public = PublicKey::from_secret_key(&secp, &secret);
            return EthAddress::from_uncompressed_public_key(&public.serialize_uncompressed());
        }
    }
}

/// The user whose wallet has `address` (lower case).
pub async fn user_of_address(state: &JoyState, address: &str) -> Result<String, JoyError> {
    let client = state.ledger.reads.get().await?;
    let user = joy_plus::user_of_address(&client, address).await.map_err(AppError::from)?;
    user.ok_or_else(|| JoyError::not_found("wallet"))
}
