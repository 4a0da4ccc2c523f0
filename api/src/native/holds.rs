//! Holds: an amount locked on an account until it is released, captured, or expires (the
//! service releases expired holds itself; see `crate::hold_expiry`).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use domain::account::{AccountCommand, AccountEvent};
use projections::read_models::holds::{self, HoldRow};
use serde::Serialize;

use super::dto::{parse_amount, CaptureRequest, HoldRequest, HoldView, TransferView};
use super::error::NativeError;
use super::json::NativeJson;
use super::NativeState;
use crate::idempotency::{created, operation};
use app::use_cases::transfers;
use app::AppError;
use store::{ids, Operation};

/// Most holds listed for one account.
const MAX_HOLDS_LISTED: i64 = 1_000;

#[utoipa::path(post, path = "/v1/holds", tag = "native", params(("Idempotency-Key" = crate::text_schemas::IdempotencyKey, Header, description = "Required: 1 to 255 visible ASCII characters, scoped to the route; the same key and body replay the first answer")), request_body = HoldRequest, security(("admin_bearer" = [])), responses((status = 201, description = "Created; `Idempotency-Replayed: true` when it repeats the first answer to the key", body = HoldView), (status = 200, description = "Success", body = HoldView), (status = 400, description = "Invalid request: `{\"error\":{\"code\",\"message\"}}`"), (status = 401, description = "Missing or wrong admin key"), (status = 404, description = "Not found"), (status = 409, description = "Conflict, e.g. an Idempotency-Key reused with another body"), (status = 422, description = "Refused by the ledger, e.g. insufficient funds")))]
pub async fn place(
    State(state): State<NativeState>,
    headers: HeaderMap,
    NativeJson(request): NativeJson<HoldRequest>,
) -> Result<Response, NativeError> {
    let operation = operation(&headers, "holds", &request, true)?;
    let command = AccountCommand::PlaceHold {
        hold_id: operation.id.clone(),
        amount: parse_amount(&request.amount)?,
        expires_at: request.expires_at,
        memo: request.memo.clone(),
        now: chrono::Utc::now(),
    };
    let outcome = state.ledger.bus.execute(&request.account, command, &operation).await?;
    let event = outcome.event().ok_or_else(|| AppError::Internal("a hold appended nothing".into()))?;
    state.ledger.await_read_models(event).await;
    let AccountEvent::FundsHeld { hold_id, amount, expires_at, memo } = event.decode()? else {
        return Err(AppError::Internal("operation id names another kind of event".into()).into());
    };
    let view = HoldView {
        id: hold_id,
        account: event.aggregate_id.clone(),
        amount: amount.to_string(),
        expires_at,
        memo,
        status: "active".into(),
    };
    Ok(created(view, outcome.is_replay()))
}

#[utoipa::path(post, path = "/v1/accounts/{id}/holds/{hold}/release", tag = "native", params(("id" = crate::text_schemas::AccountId, Path, description = "The account id"), ("hold" = String, Path, description = "The hold id", max_length = 128)), security(("admin_bearer" = [])), responses((status = 200, description = "Released; releasing again answers the same (no Idempotency-Key: a hold is released once)", body = HoldView), (status = 400, description = "Invalid request: `{\"error\":{\"code\",\"message\"}}`"), (status = 401, description = "Missing or wrong admin key"), (status = 404, description = "Not found"), (status = 409, description = "Conflict, e.g. an Idempotency-Key reused with another body"), (status = 422, description = "Refused by the ledger, e.g. insufficient funds")))]
pub async fn release(
    State(state): State<NativeState>,
    Path((account, hold_id)): Path<(String, String)>,
) -> Result<Json<HoldView>, NativeError> {
    let operation = Operation::derived(ids::release_hold(&account, &hold_id));
    let outcome = state.ledger.bus.execute(&account, AccountCommand::ReleaseHold { hold_id }, &operation).await?;
    let event = outcome.event().ok_or_else(|| AppError::Internal("a release appended nothing".into()))?;
    state.ledger.await_read_models(event).await;
    Ok(Json(show_hold(&state, &account, hold_id_of(event)?).await?))
}

#[utoipa::path(post, path = "/v1/accounts/{id}/holds/{hold}/capture", tag = "native", params(("id" = crate::text_schemas::AccountId, Path, description = "The account id"), ("hold" = String, Path, description = "The hold id", max_length = 128)), request_body = CaptureRequest, security(("admin_bearer" = [])), responses((status = 201, description = "Captured; capturing again answers the same with `Idempotency-Replayed: true` (no Idempotency-Key: a hold is captured once)", body = TransferView), (status = 200, description = "Success", body = TransferView), (status = 400, description = "Invalid request: `{\"error\":{\"code\",\"message\"}}`"), (status = 401, description = "Missing or wrong admin key"), (status = 404, description = "Not found"), (status = 409, description = "Conflict, e.g. an Idempotency-Key reused with another body"), (status = 422, description = "Refused by the ledger, e.g. insufficient funds")))]
pub async fn capture(
    State(state): State<NativeState>,
    Path((account, hold_id)): Path<(String, String)>,
    NativeJson(request): NativeJson<CaptureRequest>,
) -> Result<Response, NativeError> {
    let operation = Operation::derived(ids::capture_hold(&account, &hold_id));
    let receipt = transfers::capture_hold(
        &state.ledger.bus,
        &account,
        &hold_id,
        &request.to,
        operation.id.clone(),
        request.memo,
        &operation,
    )
    .await?;
    state.ledger.await_read_models(&receipt.last_event).await;
    Ok(created(TransferView::of(&receipt)?, receipt.replayed))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HoldList {
    holds: Vec<HoldView>,
}

#[utoipa::path(get, path = "/v1/accounts/{id}/holds", tag = "native", params(("id" = crate::text_schemas::AccountId, Path, description = "The account id")), security(("admin_bearer" = [])), responses((status = 200, description = "Success", body = HoldList), (status = 400, description = "Invalid request: `{\"error\":{\"code\",\"message\"}}`"), (status = 401, description = "Missing or wrong admin key"), (status = 404, description = "Not found"), (status = 409, description = "Conflict, e.g. an Idempotency-Key reused with another body"), (status = 422, description = "Refused by the ledger, e.g. insufficient funds")))]
pub async fn list(
    State(state): State<NativeState>,
    Path(account): Path<String>,
) -> Result<Json<HoldList>, NativeError> {
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    projections::read_models::balances::account(&client, &account).await?.ok_or(AppError::NotFound("account"))?;
    let rows = holds::of_account(&client, &account, MAX_HOLDS_LISTED).await.map_err(AppError::from)?;
    Ok(Json(HoldList { holds: rows.into_iter().map(hold_view).collect() }))
}

async fn show_hold(state: &NativeState, account: &str, hold_id: String) -> Result<HoldView, AppError> {
    let client = state.ledger.reads.get().await?;
    let row = holds::hold(&client, account, &hold_id).await?;
    row.map(hold_view).ok_or(AppError::NotFound("hold"))
}

fn hold_id_of(event: &projections::StoredEvent) -> Result<String, AppError> {
    match event.decode()? {
        AccountEvent::HoldReleased { hold_id, .. } => Ok(hold_id),
        _ => Err(AppError::Internal("operation id names another kind of event".into())),
    }
}

fn hold_view(row: HoldRow) -> HoldView {
    HoldView {
        id: row.hold_id,
        account: row.account_id,
        amount: row.amount.to_string(),
        expires_at: row.expires_at,
        memo: row.memo,
        status: row.status,
    }
}
