use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::account::{AccountCommand, AccountEvent};
use domain::AssetCode;
use projections::read_models::balances::{self, AccountBalance};
use projections::read_models::postings;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use store::log::find_by_position;

use super::dto::{AccountShown, AccountView, BalanceAtView, CreateAccountRequest};
use super::error::NativeError;
use super::json::NativeJson;
use super::NativeState;
use crate::idempotency::{created, operation};
use app::AppError;

const DEFAULT_PAGE_SIZE: i64 = 100;
const MAX_PAGE_SIZE: i64 = 1_000;
/// Joined with `assets` for the scale: amounts are shown at exactly the asset's decimals.

#[utoipa::path(post, path = "/v1/accounts", tag = "native", params(("Idempotency-Key" = Option<crate::text_schemas::IdempotencyKey>, Header, description = "Optional: 1 to 255 visible ASCII characters; the same key and body replay the first answer")), request_body = CreateAccountRequest, security(("admin_bearer" = [])), responses((status = 201, description = "Created; `Idempotency-Replayed: true` when it repeats the first answer to the key", body = AccountView), (status = 200, description = "Success", body = AccountView), (status = 400, description = "Invalid request: `{\"error\":{\"code\",\"message\"}}`"), (status = 401, description = "Missing or wrong admin key"), (status = 404, description = "Not found"), (status = 409, description = "Conflict, e.g. an Idempotency-Key reused with another body"), (status = 422, description = "Refused by the ledger, e.g. insufficient funds")))]
pub async fn create(
    State(state): State<NativeState>,
    headers: HeaderMap,
    NativeJson(request): NativeJson<CreateAccountRequest>,
) -> Result<Response, NativeError> {
    let operation = operation(&headers, "accounts", &request, false)?;
    let asset = AssetCode::parse(&request.asset)?;
    let scale = state.ledger.bus.asset_scale(&asset).await?;
    let command = AccountCommand::Open {
        account_id: request.id.clone(),
        asset,
        scale,
        owner: request.owner.clone(),
        purpose: request.purpose.clone(),
    };
    let outcome = state.ledger.bus.execute(&request.id, command, &operation).await?;
    let event = outcome.event().ok_or_else(|| AppError::Internal("opening appended nothing".into()))?;
    state.ledger.await_read_models(event).await;
    let AccountEvent::AccountOpened { account_id, asset, scale, owner, purpose } = event.decode()? else {
        return Err(AppError::Internal("operation id names another kind of event".into()).into());
    };
    let zero = Decimal::new(0, scale.decimals());
    let view = AccountView {
        id: account_id,
        asset: asset.to_string(),
        owner,
        purpose,
        balance: zero,
        locked: zero,
        available: zero,
    };
    Ok(created(view, outcome.is_replay()))
}

/// The schema of `at`: an event position, or a time.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum BalanceAt {
    Position(u64),
    Time(chrono::DateTime<chrono::Utc>),
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShowQuery {
    /// A position of the event log, or an RFC 3339 time: the balance as it stood then.
    #[param(value_type = Option<BalanceAt>)]
    at: Option<String>,
}

#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "native", params(ShowQuery, ("id" = crate::text_schemas::AccountId, Path, description = "The account id")), security(("admin_bearer" = [])), responses((status = 200, description = "Success", body = AccountShown), (status = 400, description = "Invalid request: `{\"error\":{\"code\",\"message\"}}`"), (status = 401, description = "Missing or wrong admin key"), (status = 404, description = "Not found"), (status = 409, description = "Conflict, e.g. an Idempotency-Key reused with another body"), (status = 422, description = "Refused by the ledger, e.g. insufficient funds")))]
pub async fn show(
    State(state): State<NativeState>,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, NativeError> {
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let account = balances::account(&client, &id).await?.ok_or(AppError::NotFound("account"))?;
    let view = account_view(account);
    let Some(at) = query.at else {
        return Ok(Json(AccountShown::Now(view)).into_response());
    };
    // The sum of the account's postings up to that point: in commit-safe order for a
    // position, by the appending transaction's time for a time.
    let mut balance = match at.parse::<i64>() {
        Ok(position) => {
            let event = find_by_position(&client, position).await?.ok_or(AppError::UnknownPosition(position))?;
            postings::balance_at(&client, &id, event.checkpoint()).await?
        }
        Err(_) => {
            let time = chrono::DateTime::parse_from_rfc3339(&at)
                .map_err(|_| AppError::invalid("invalid_at", "at must be an event position or an RFC 3339 time"))?
                .with_timezone(&chrono::Utc);
            postings::balance_at_time(&client, &id, time).await?
        }
    };
    balance.rescale(view.balance.scale());
    Ok(Json(AccountShown::At(BalanceAtView { id: view.id, asset: view.asset, balance, at })).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    owner: Option<String>,
    asset: Option<String>,
    /// Accounts per page: 1 to 1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// The last account id of the previous page.
    after: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountPage {
    accounts: Vec<AccountView>,
    next: Option<String>,
}

#[utoipa::path(get, path = "/v1/accounts", tag = "native", params(ListQuery), security(("admin_bearer" = [])), responses((status = 200, description = "Success", body = AccountPage), (status = 400, description = "Invalid request: `{\"error\":{\"code\",\"message\"}}`"), (status = 401, description = "Missing or wrong admin key"), (status = 404, description = "Not found"), (status = 409, description = "Conflict, e.g. an Idempotency-Key reused with another body"), (status = 422, description = "Refused by the ledger, e.g. insufficient funds")))]
pub async fn list(
    State(state): State<NativeState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<AccountPage>, NativeError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(AppError::invalid("invalid_limit", format!("limit must be 1 to {MAX_PAGE_SIZE}")).into());
    }
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let rows =
        balances::accounts(&client, query.owner.as_deref(), query.asset.as_deref(), query.after.as_deref(), limit)
            .await?;
    let accounts: Vec<AccountView> = rows.into_iter().map(account_view).collect();
    let next = (accounts.len() as i64 == limit).then(|| accounts.last().map(|account| account.id.clone())).flatten();
    Ok(Json(AccountPage { accounts, next }))
}

fn account_view(account: AccountBalance) -> AccountView {
    AccountView {
        id: account.account_id,
        asset: account.asset,
        owner: account.owner,
        purpose: account.purpose,
        balance: account.amount,
        locked: account.locked,
        available: account.available,
    }
}
