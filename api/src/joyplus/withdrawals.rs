//! `POST /withdraw-joy` (a signed-in user from its own address, or the admin from any):
//! debits `from` and sends JOY from the hot wallet to `to`; insufficient funds move nothing.
//! The txid is fixed before the debit, which records it; the chain broadcaster sends it.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use domain::account::{AccountCommand, AccountEvent};
use domain::joyplus::EthAddress;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::Caller;
use super::filters::{parse_value, required_address};
use super::sso::{balance_account_id, user_of_address};
use super::wire::{data, JoyError, JoyJson};
use super::JoyState;
use crate::idempotency::keyed_operation;
use app::ports::chain::ChainWithdrawal;
use app::AppError;

/// The asset `withdraw-joy` sends.
const JOY: &str = "JOY";

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct WithdrawJoy {
    #[schema(pattern = r"^0[xX][0-9a-fA-F]{40}$")]
    from: String,
    #[schema(pattern = r"^0x([0-9a-f]{40}|[0-9A-F]{40})$")]
    to: String,
    #[schema(value_type = crate::text_schemas::JoyAmount)]
    value: String,
}

/// A signed-in user from its own address, or the admin from any: debits `from` and sends
/// JOY from the hot wallet to `to`. Insufficient funds move nothing.
#[utoipa::path(post, path = "/api/v1/withdraw-joy", tag = "joyplus", request_body = WithdrawJoy, security(("joy_session" = []), ("joy_admin_key" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn withdraw_joy(
    State(state): State<JoyState>,
    caller: Caller,
    headers: HeaderMap,
    JoyJson(request): JoyJson<WithdrawJoy>,
) -> Result<Response, JoyError> {
    let from = required_address(&request.from, "from")?;
    let to = EthAddress::parse(&request.to).map_err(|error| JoyError::bad_request(format!("to: {error}")))?.lowercase();
    let amount = parse_value(&request.value, "value")?;
    let user_id = user_of_address(&state, &from).await?;
    match &caller {
        Caller::Admin => {}
        Caller::User { user_id: own } if *own == user_id => {}
        Caller::User { .. } => return Err(JoyError::forbidden("from is not your address")),
        Caller::ApiKey { .. } => {
            return Err(JoyError::forbidden("this endpoint requires a signed-in user or the admin key"))
        }
    }
    let operation = keyed_operation(&headers, "joyplus/withdraw-joy", &request, false)?;
    let withdrawal = ChainWithdrawal {
        withdrawal_id: operation.id.clone(),
        from_address: from.clone(),
        to_address: to.clone(),
        asset: JOY.to_string(),
        amount: amount.normalize().to_string(),
    };
    let txid = state.joy.chain.transaction_id(&withdrawal);
    let command = AccountCommand::DebitChainWithdrawal { amount, txid, from_address: from, to_address: to };
    let outcome =
        state.ledger.bus.execute(&balance_account_id(&user_id, JOY), command, &operation).await.map_err(|error| {
            match error {
                AppError::Domain(domain::DomainError::AccountNotOpened) => JoyError::bad_request("insufficient funds"),
                other => other.into(),
            }
        })?;
    let event = outcome.event().ok_or_else(|| AppError::Internal("a withdrawal appended nothing".into()))?;
    let AccountEvent::ChainWithdrawalDebited { txid, .. } = event.decode().map_err(AppError::from)? else {
        return Err(AppError::Internal("operation id names another kind of event".into()).into());
    };
    state.ledger.await_read_models(event).await;
    // The chain broadcaster sends it from the log (it retries until the chain takes it).
    Ok(data(json!({ "txid": txid })))
}
