//! Each Gradido user's GDD account (`gdd:<user id>`, owner the user, purpose `gradido`),
//! opened on first use. Amounts on the wire are GDD-cent: 1 GDD = 10,000 GDD-cent.

use axum::extract::State;
use axum::response::Response;
use rust_decimal::Decimal;
use serde_json::json;

use super::sessions;
use super::wire::{success, GradidoError, Params};
use super::GradidoState;
use app::AppError;

pub use app::accounts::gradido::{account_id, GDD_DECIMALS};

/// GDD-cent (an integer) to GDD.
pub fn gdd_from_cents(cents: i64) -> Decimal {
    Decimal::new(cents, GDD_DECIMALS)
}

/// GDD to GDD-cent; GDD has exactly four decimals, so this is exact.
pub fn cents_from_gdd(gdd: Decimal) -> i64 {
    let mut cents = gdd;
    cents.rescale(GDD_DECIMALS);
    i64::try_from(cents.mantissa()).unwrap_or(i64::MAX)
}

pub async fn ensure_account(state: &GradidoState, user_id: &str) -> Result<String, AppError> {
    let id = account_id(user_id);
    state.ledger.open_user_account(&id, "GDD", GDD_DECIMALS, user_id, "gradido").await?;
    Ok(id)
}

/// `{"session_id"}` -> the user's GDD balance and what is available of it, in GDD-cent.
#[utoipa::path(method(get, post), path = "/login_api/getBalance", tag = "gradido", request_body(content = super::requests::Session, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn balance(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    let session = sessions::require(&state, &params).await?;
    let account = ensure_account(&state, &session.user_id).await?;
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let amounts = projections::read_models::balances::amounts(&client, std::slice::from_ref(&account))
        .await
        .map_err(AppError::from)?;
    let (_, balance, available) = amounts.into_iter().next().ok_or(AppError::NotFound("account"))?;
    Ok(success(json!({
        "balance": cents_from_gdd(balance),
        "available": cents_from_gdd(available),
    })))
}
