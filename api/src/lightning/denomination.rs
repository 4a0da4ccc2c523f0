//! The unit a user's Lightning wallet shows and takes amounts in.

use axum::extract::State;
use axum::Json;
use domain::user::UserCommand;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};

use super::session::SignedPost;
use super::wire::LightningError;
use super::LightningState;
use app::AppError;
use projections::read_models::users::{self, UserKey};
use store::Operation;

/// The unit of a user who never chose one: satoshis, as the original server showed amounts.
pub const DEFAULT_DENOMINATION: &str = "sat";

/// How many of the unit make one BTC.
pub fn units_per_btc(denomination: &str) -> Decimal {
    match denomination {
        "mBTC" => Decimal::from(1_000),
        "bits" => Decimal::from(1_000_000),
        "sat" => Decimal::from(100_000_000),
        _ => Decimal::ONE,
    }
}

pub async fn of_user(state: &LightningState, user_id: &str) -> Result<String, AppError> {
    of_user_in(&state.ledger.reads, user_id).await
}

/// `of_user`, for what holds the read pool but no dialect state.
pub async fn of_user_in(reads: &deadpool_postgres::Pool, user_id: &str) -> Result<String, AppError> {
    let client = reads.get().await?;
    let user = users::find(&client, UserKey::Id(user_id)).await?;
    Ok(user.map_or_else(|| DEFAULT_DENOMINATION.to_string(), |user| user.denomination))
}

/// An amount the user typed, in their unit, to BTC.
pub fn to_btc(amount: Decimal, denomination: &str) -> Option<Decimal> {
    amount.checked_div(units_per_btc(denomination))
}

/// A BTC amount in the user's unit, exact (every unit divides a satoshi evenly or is one).
pub fn from_btc(amount: Decimal, denomination: &str) -> Option<Decimal> {
    amount.checked_mul(units_per_btc(denomination)).map(|value| value.normalize())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DenominationRequest {
    denomination: Option<String>,
}

/// `{"denomination": "BTC" | "mBTC" | "bits" | "sat"}`.
#[utoipa::path(post, path = "/rest/v1/setdenomination", tag = "mylightning", request_body = DenominationRequest, security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session"), (status = 401, description = "No session; a bad CSRF token is a 200 business failure")))]
pub async fn set_denomination(
    State(state): State<LightningState>,
    SignedPost { session, body }: SignedPost,
) -> Result<Json<Value>, LightningError> {
    let request: DenominationRequest = super::payments::parse(&body)?;
    let denomination = request.denomination.unwrap_or_default();
    let command = UserCommand::SetDenomination { denomination };
    let outcome = state.ledger.bus.execute(&session.user_id, command, &Operation::fresh()).await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(Json(json!({})))
}
