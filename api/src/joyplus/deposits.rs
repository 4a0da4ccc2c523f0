//! `POST /deposit` (admin): records a deposit seen on the chain, what a chain watcher calls.
//! The txid is the idempotency key: the same deposit again credits nothing more; the same
//! txid with other details is a 409.

use axum::extract::State;
use axum::response::Response;
use domain::account::AccountCommand;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::Caller;
use super::filters::{parse_value, required_address, required_symbol, txid_filter};
use super::movements::{query_movements, Shape};
use super::paging::Page;
use super::sso::{balance_account_id, open_balances, user_of_address};
use super::wire::{data, JoyError, JoyJson};
use super::JoyState;
use crate::tokens::sha256_hex;
use app::AppError;
use projections::read_models::joy_plus::MovementFilter;
use store::{ids, Operation};

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct RecordDeposit {
    #[schema(pattern = r"^0[xX][0-9a-fA-F]{64}$")]
    txid: String,
    #[schema(pattern = r"^0[xX][0-9a-fA-F]{40}$")]
    from_address: String,
    #[schema(pattern = r"^0[xX][0-9a-fA-F]{40}$")]
    to_address: String,
    #[schema(pattern = r"^[A-Z0-9]{2,12}$")]
    symbol: String,
    #[schema(value_type = crate::text_schemas::JoyAmount)]
    amount: String,
}

#[utoipa::path(post, path = "/api/v1/deposit", tag = "joyplus", request_body = RecordDeposit, security(("joy_admin_key" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn record_deposit(
    State(state): State<JoyState>,
    caller: Caller,
    JoyJson(request): JoyJson<RecordDeposit>,
) -> Result<Response, JoyError> {
    caller.require_admin()?;
    let txid = txid_filter(Some(&request.txid))?.ok_or_else(|| JoyError::bad_request("txid is required"))?;
    let from_address = required_address(&request.from_address, "from_address")?;
    let to_address = required_address(&request.to_address, "to_address")?;
    let symbol = required_symbol(&request.symbol)?;
    let amount = parse_value(&request.amount, "amount")?;
    let user_id = user_of_address(&state, &to_address).await?;
    open_balances(&state, &user_id).await?;
    let normalized = json!({ "txid": txid, "from": from_address, "to": to_address, "symbol": symbol, "amount": amount.normalize().to_string() });
    let operation = Operation::keyed(ids::joy_deposit(&txid), sha256_hex(&normalized.to_string()));
    let command = AccountCommand::CreditChainDeposit { amount, txid, from_address, to_address };
    let outcome = state.ledger.bus.execute(&balance_account_id(&user_id, &symbol), command, &operation).await.map_err(
        |error| match error {
            AppError::Domain(domain::DomainError::AccountNotOpened) => JoyError::not_found("asset"),
            AppError::IdempotencyKeyReused => {
                JoyError::new(axum::http::StatusCode::CONFLICT, "this txid was recorded with other details")
            }
            other => other.into(),
        },
    )?;
    let event = outcome.event().ok_or_else(|| AppError::Internal("a deposit appended nothing".into()))?;
    state.ledger.await_read_models(event).await;
    let filter = MovementFilter { id: Some(event.position), ..Default::default() };
    let mut rows = query_movements(&state, &filter, Page::ONE, Shape::Deposits).await?;
    let row = rows.pop().ok_or(AppError::NotFound("deposit"))?;
    Ok(data(row))
}
