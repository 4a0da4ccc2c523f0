use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use domain::account::{AccountCommand, AccountEvent};
use domain::system_account::SystemAccountKind;
use projections::StoredEvent;

use super::dto::{parse_amount, MovementRequest, MovementView, TransferRequest, TransferView};
use super::error::NativeError;
use super::json::NativeJson;
use super::NativeState;
use crate::idempotency::{created, operation};
use app::use_cases::transfers;
use app::AppError;

#[utoipa::path(post, path = "/v1/deposits", tag = "native", params(("Idempotency-Key" = crate::text_schemas::IdempotencyKey, Header, description = "Required: 1 to 255 visible ASCII characters, scoped to the route; the same key and body replay the first answer")), request_body = MovementRequest, security(("admin_bearer" = [])), responses((status = 201, description = "Created; `Idempotency-Replayed: true` when it repeats the first answer to the key", body = MovementView), (status = 200, description = "Success", body = MovementView), (status = 400, description = "Invalid request: `{\"error\":{\"code\",\"message\"}}`"), (status = 401, description = "Missing or wrong admin key"), (status = 404, description = "Not found"), (status = 409, description = "Conflict, e.g. an Idempotency-Key reused with another body"), (status = 422, description = "Refused by the ledger, e.g. insufficient funds")))]
pub async fn deposit(
    State(state): State<NativeState>,
    headers: HeaderMap,
    NativeJson(request): NativeJson<MovementRequest>,
) -> Result<Response, NativeError> {
    movement(&state, &headers, "deposits", request, |amount, reference| AccountCommand::Deposit {
        amount,
        source: SystemAccountKind::World,
        reference,
    })
    .await
}

#[utoipa::path(post, path = "/v1/withdrawals", tag = "native", params(("Idempotency-Key" = crate::text_schemas::IdempotencyKey, Header, description = "Required: 1 to 255 visible ASCII characters, scoped to the route; the same key and body replay the first answer")), request_body = MovementRequest, security(("admin_bearer" = [])), responses((status = 201, description = "Created; `Idempotency-Replayed: true` when it repeats the first answer to the key", body = MovementView), (status = 200, description = "Success", body = MovementView), (status = 400, description = "Invalid request: `{\"error\":{\"code\",\"message\"}}`"), (status = 401, description = "Missing or wrong admin key"), (status = 404, description = "Not found"), (status = 409, description = "Conflict, e.g. an Idempotency-Key reused with another body"), (status = 422, description = "Refused by the ledger, e.g. insufficient funds")))]
pub async fn withdraw(
    State(state): State<NativeState>,
    headers: HeaderMap,
    NativeJson(request): NativeJson<MovementRequest>,
) -> Result<Response, NativeError> {
    movement(&state, &headers, "withdrawals", request, |amount, reference| AccountCommand::Withdraw {
        amount,
        destination: SystemAccountKind::World,
        reference,
    })
    .await
}

/// A deposit or withdrawal between one account and the world.
async fn movement(
    state: &NativeState,
    headers: &HeaderMap,
    route: &str,
    request: MovementRequest,
    command: impl FnOnce(rust_decimal::Decimal, Option<String>) -> AccountCommand,
) -> Result<Response, NativeError> {
    let operation = operation(headers, route, &request, true)?;
    let command = command(parse_amount(&request.amount)?, request.reference.clone());
    let outcome = state.ledger.bus.execute(&request.account, command, &operation).await?;
    let event = outcome.event().ok_or_else(|| AppError::Internal("a movement appended nothing".into()))?;
    state.ledger.await_read_models(event).await;
    let (amount, reference) = match event.decode()? {
        AccountEvent::FundsDeposited { amount, reference, .. }
        | AccountEvent::FundsWithdrawn { amount, reference, .. } => (amount, reference),
        _ => return Err(AppError::Internal("operation id names another kind of event".into()).into()),
    };
    let view = MovementView {
        id: operation_id(event),
        account: event.aggregate_id.clone(),
        amount: amount.to_string(),
        reference,
        position: event.position,
    };
    Ok(created(view, outcome.is_replay()))
}

#[utoipa::path(post, path = "/v1/transfers", tag = "native", params(("Idempotency-Key" = crate::text_schemas::IdempotencyKey, Header, description = "Required: 1 to 255 visible ASCII characters, scoped to the route; the same key and body replay the first answer")), request_body = TransferRequest, security(("admin_bearer" = [])), responses((status = 201, description = "Created; `Idempotency-Replayed: true` when it repeats the first answer to the key", body = TransferView), (status = 200, description = "Success", body = TransferView), (status = 400, description = "Invalid request: `{\"error\":{\"code\",\"message\"}}`"), (status = 401, description = "Missing or wrong admin key"), (status = 404, description = "Not found"), (status = 409, description = "Conflict, e.g. an Idempotency-Key reused with another body"), (status = 422, description = "Refused by the ledger, e.g. insufficient funds")))]
pub async fn transfer(
    State(state): State<NativeState>,
    headers: HeaderMap,
    NativeJson(request): NativeJson<TransferRequest>,
) -> Result<Response, NativeError> {
    let operation = operation(&headers, "transfers", &request, true)?;
    let amount = parse_amount(&request.amount)?;
    let receipt =
        transfers::send(&state.ledger.bus, &request.from, &request.to, amount, request.memo.clone(), &operation)
            .await?;
    state.ledger.await_read_models(&receipt.last_event).await;
    Ok(created(TransferView::of(&receipt)?, receipt.replayed))
}

fn operation_id(event: &StoredEvent) -> String {
    event.operation_id().unwrap_or_default().to_string()
}
