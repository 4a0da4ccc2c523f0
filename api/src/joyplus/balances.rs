//! `GET /balance`, `GET /balance/{id}`: each user's balance per listed asset, with the amount
//! (the whole balance), the locked part (active locked balances) and the staked part (no
//! staking exists yet: always zero). Sessions see their own, API keys their e-mail's user's,
//! the admin everyone's.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;

use super::auth::Caller;
use super::filters::{address_filter, id_filter, symbol_filter};
use super::paging::{path_id, Page};
use super::wire::{amount_text, millis, price_text, JoyError};
use super::JoyState;
use app::AppError;
use projections::read_models::joy_plus::{self, BalanceFilter};

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = joy::Balance)]
pub struct BalanceView {
    id: String,
    address: String,
    symbol: String,
    amount: String,
    locked_amount: String,
    staked_amount: String,
    created_at: i64,
    asset_id: i64,
    asset_name: String,
    asset_decimals: i32,
    asset_contract_address: String,
    asset_usd_price: String,
    asset_icon_url: String,
    #[serde(skip)]
    pub user_id: String,
}

impl BalanceView {
    fn from_row(row: &Row) -> Self {
        let decimals: i32 = row.get(8);
        Self {
            id: row.get::<_, i64>(0).to_string(),
            address: row.get(1),
            symbol: row.get(2),
            amount: amount_text(row.get(3), decimals),
            locked_amount: amount_text(row.get(4), decimals),
            staked_amount: amount_text(Decimal::ZERO, decimals),
            created_at: millis(row.get::<_, DateTime<Utc>>(5)),
            asset_id: row.get(6),
            asset_name: row.get(7),
            asset_decimals: decimals,
            asset_contract_address: row.get(9),
            asset_usd_price: price_text(row.get(10)),
            asset_icon_url: row.get(11),
            user_id: row.get(12),
        }
    }
}

pub async fn query_balances(
    state: &JoyState,
    filter: &BalanceFilter,
    page: Page,
) -> Result<Vec<BalanceView>, AppError> {
    let client = state.ledger.reads.get().await?;
    let rows = joy_plus::balances(&client, filter, page.after_id, page.limit).await?;
    Ok(rows.iter().map(BalanceView::from_row).collect())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BalanceQuery {
    #[param(value_type = Option<super::paging::QueryId>)]
    id: Option<String>,
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

#[utoipa::path(get, path = "/api/v1/balance", tag = "joyplus", params(BalanceQuery), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "The rows", body = super::paging::JoyList<BalanceView>), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn list(
    State(state): State<JoyState>,
    caller: Caller,
    Query(query): Query<BalanceQuery>,
) -> Result<Response, JoyError> {
    let page_spec = Page::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    let filter = BalanceFilter {
        balance_id: id_filter(query.id.as_deref(), "id")?,
        address: address_filter(query.address.as_deref(), "address")?,
        symbol: symbol_filter(query.symbol.as_deref())?,
        user_id: caller.sees(&state).await?.user_filter(),
        user_ids: None,
    };
    let rows = query_balances(&state, &filter, page_spec).await?;
    Ok(page_spec.respond(rows, |row| row.id.parse().ok()))
}

#[utoipa::path(get, path = "/api/v1/balance/{id}", tag = "joyplus", params(("id" = String, Path, description = "The id")), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "The rows", body = super::paging::JoyList<BalanceView>), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn get_one(
    State(state): State<JoyState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, JoyError> {
    let filter = BalanceFilter {
        balance_id: Some(path_id(&id, "balance")?),
        user_id: caller.sees(&state).await?.user_filter(),
        ..Default::default()
    };
    let rows = query_balances(&state, &filter, Page::ONE).await?;
    Page::single(rows, "balance")
}
