//! `GET /locked-balance`, `GET /locked-balance/{id}`, and `POST /locked-balance` (an API key
//! with scope `locked_balance.create`, or the admin): locks part of a balance until
//! `expires_at`; the service releases it then by itself and marks it `processed: 1`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, TimeZone, Utc};
use domain::account::AccountCommand;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_postgres::Row;

use super::auth::Caller;
use super::filters::{address_filter, id_filter, required_address, required_symbol, symbol_filter};
use super::paging::{path_id, Page};
use super::sso::balance_account_id;
use super::wire::{amount_text, data, millis, JoyError, JoyJson};
use super::JoyState;
use crate::idempotency::keyed_operation;
use app::AppError;
use projections::read_models::joy_plus::{self, LockFilter};

pub const LOCK_SCOPE: &str = "locked_balance.create";
/// Furthest ahead a lock may expire.
const MAX_LOCK_DAYS: i64 = 10 * 366;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = joy::LockedBalance)]
pub struct LockedBalanceView {
    id: String,
    #[serde(rename = "balanceID")]
    balance_id: String,
    address: String,
    symbol: String,
    amount: String,
    processed: i16,
    expires_at: Option<i64>,
    created_at: i64,
}

impl LockedBalanceView {
    fn from_row(row: &Row) -> Self {
        Self {
            id: row.get::<_, i64>(0).to_string(),
            balance_id: row.get::<_, i64>(1).to_string(),
            address: row.get(2),
            symbol: row.get(3),
            amount: amount_text(row.get(4), row.get(8)),
            processed: row.get(5),
            expires_at: row.get::<_, Option<DateTime<Utc>>>(6).map(millis),
            created_at: millis(row.get(7)),
        }
    }
}

async fn query_locks(state: &JoyState, filter: &LockFilter, page: Page) -> Result<Vec<LockedBalanceView>, AppError> {
    let client = state.ledger.reads.get().await?;
    let rows = joy_plus::locked_balances(&client, filter, page.after_id, page.limit).await?;
    Ok(rows.iter().map(LockedBalanceView::from_row).collect())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LockQuery {
    #[param(value_type = Option<super::paging::QueryId>)]
    id: Option<String>,
    #[param(value_type = Option<super::paging::QueryId>)]
    balance_id: Option<String>,
    #[param(pattern = r"^(0[xX][0-9a-fA-F]{40})?$")]
    address: Option<String>,
    #[param(pattern = r"^([A-Z0-9]{2,12})?$")]
    symbol: Option<String>,
    /// Rows per page: 1 to 500, default 100.
    #[param(value_type = Option<super::paging::QueryLimit>)]
    limit: Option<String>,
    /// `nextCursor` of the previous page.
    #[param(value_type = Option<super::paging::QueryId>)]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/locked-balance", tag = "joyplus", params(LockQuery), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "The rows", body = super::paging::JoyList<LockedBalanceView>), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn list(
    State(state): State<JoyState>,
    caller: Caller,
    Query(query): Query<LockQuery>,
) -> Result<Response, JoyError> {
    let page_spec = Page::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    let filter = LockFilter {
        id: id_filter(query.id.as_deref(), "id")?,
        balance_id: id_filter(query.balance_id.as_deref(), "balance_id")?,
        address: address_filter(query.address.as_deref(), "address")?,
        symbol: symbol_filter(query.symbol.as_deref())?,
        user_id: caller.sees(&state).await?.user_filter(),
    };
    let rows = query_locks(&state, &filter, page_spec).await?;
    Ok(page_spec.respond(rows, |row| row.id.parse().ok()))
}

#[utoipa::path(get, path = "/api/v1/locked-balance/{id}", tag = "joyplus", params(("id" = String, Path, description = "The id")), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "The rows", body = super::paging::JoyList<LockedBalanceView>), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn get_one(
    State(state): State<JoyState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, JoyError> {
    let filter = LockFilter {
        id: Some(path_id(&id, "locked balance")?),
        user_id: caller.sees(&state).await?.user_filter(),
        ..Default::default()
    };
    let rows = query_locks(&state, &filter, Page::ONE).await?;
    Page::single(rows, "locked balance")
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct CreateLock {
    #[schema(pattern = r"^0[xX][0-9a-fA-F]{40}$")]
    address: String,
    #[schema(pattern = r"^[A-Z0-9]{2,12}$")]
    symbol: String,
    #[schema(value_type = crate::text_schemas::JoyAmount)]
    amount: String,
    /// UNIX milliseconds, in the future and within ten years.
    #[serde(deserialize_with = "crate::json_integers::i64")]
    expires_at: i64,
}

#[utoipa::path(post, path = "/api/v1/locked-balance", tag = "joyplus", request_body = CreateLock, security(("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn create(
    State(state): State<JoyState>,
    caller: Caller,
    headers: HeaderMap,
    JoyJson(request): JoyJson<CreateLock>,
) -> Result<Response, JoyError> {
    caller.require_scope(LOCK_SCOPE)?;
    let address = required_address(&request.address, "address")?;
    let symbol = required_symbol(&request.symbol)?;
    let amount = super::filters::parse_value(&request.amount, "amount")?;
    let now = Utc::now();
    let expires_at = Utc
        .timestamp_millis_opt(request.expires_at)
        .single()
        .filter(|expiry| *expiry <= now + chrono::Duration::days(MAX_LOCK_DAYS))
        .ok_or_else(|| {
            JoyError::new(StatusCode::UNPROCESSABLE_ENTITY, "expires_at must be UNIX milliseconds within ten years")
        })?;
    let user_id = super::sso::user_of_address(&state, &address).await?;
    let account_id = balance_account_id(&user_id, &symbol);
    let operation = keyed_operation(&headers, "joyplus/locked-balance", &request, false)?;
    let command = AccountCommand::PlaceHold {
        hold_id: operation.id.clone(),
        amount,
        expires_at: Some(expires_at),
        memo: None,
        now,
    };
    let outcome = state.ledger.bus.execute(&account_id, command, &operation).await.map_err(|error| match error {
        AppError::Domain(domain::DomainError::AccountNotOpened) => JoyError::not_found("balance"),
        other => other.into(),
    })?;
    let event = outcome.event().ok_or_else(|| AppError::Internal("a lock appended nothing".into()))?;
    state.ledger.await_read_models(event).await;
    Ok(data(json!({ "message": format!("LockedBalance {} added", event.position) })))
}
