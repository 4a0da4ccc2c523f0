//! `GET /deposit`, `/withdraw` (and by id) and `/transaction` (both kinds, the other side's
//! amount null): chain movements of Joy Plus balances, as the caller may see them.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;

use super::auth::Caller;
use super::filters::{address_filter, symbol_filter, txid_filter};
use super::paging::{path_id, Page};
use super::wire::{amount_text, millis, JoyError};
use super::JoyState;
use app::AppError;
use projections::read_models::joy_plus::{self, MovementFilter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Deposit,
    Withdraw,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Self::Deposit => "deposit",
            Self::Withdraw => "withdraw",
        }
    }
}

/// The seed's Deposit, Withdraw and Transaction rows in one shape; `depositAmount` or
/// `withdrawAmount` is left out (or null, for transactions) as the kind of list wants.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = joy::Movement)]
pub struct MovementView {
    pub id: String,
    pub txid: String,
    pub from_address: String,
    pub to_address: String,
    pub symbol: String,
    /// `None`: not shown; `Some(None)`: null.
    #[serde(skip_serializing_if = "Option::is_none")]
    deposit_amount: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    withdraw_amount: Option<Option<String>>,
    created_at: i64,
}

/// Which amount fields a list shows.
#[derive(Clone, Copy)]
pub enum Shape {
    Deposits,
    Withdraws,
    Transactions,
}

impl MovementView {
    fn from_row(row: &Row, shape: Shape) -> Self {
        let direction: String = row.get(1);
        let amount = Some(amount_text(row.get(6), row.get(8)));
        let (deposit, withdraw) = if direction == Direction::Deposit.name() { (amount, None) } else { (None, amount) };
        let (deposit_amount, withdraw_amount) = match shape {
            Shape::Deposits => (Some(deposit), None),
            Shape::Withdraws => (None, Some(withdraw)),
            Shape::Transactions => (Some(deposit), Some(withdraw)),
        };
        Self {
            id: row.get::<_, i64>(0).to_string(),
            txid: row.get(2),
            from_address: row.get(3),
            to_address: row.get(4),
            symbol: row.get(5),
            deposit_amount,
            withdraw_amount,
            created_at: millis(row.get::<_, DateTime<Utc>>(7)),
        }
    }
}

pub async fn query_movements(
    state: &JoyState,
    filter: &MovementFilter,
    page: Page,
    shape: Shape,
) -> Result<Vec<MovementView>, AppError> {
    let client = state.ledger.reads.get().await?;
    let rows = joy_plus::chain_transfers(&client, filter, page.after_id, page.limit).await?;
    Ok(rows.iter().map(|row| MovementView::from_row(row, shape)).collect())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MovementQuery {
    #[param(pattern = r"^(0[xX][0-9a-fA-F]{64})?$")]
    pub txid: Option<String>,
    #[param(pattern = r"^(0[xX][0-9a-fA-F]{40})?$")]
    pub from_address: Option<String>,
    #[param(pattern = r"^(0[xX][0-9a-fA-F]{40})?$")]
    pub to_address: Option<String>,
    #[param(pattern = r"^([A-Z0-9]{2,12})?$")]
    pub symbol: Option<String>,
    #[param(pattern = r"^(0[xX][0-9a-fA-F]{40})?$")]
    address: Option<String>,
    /// Rows per page: 1 to 500, default 100.
    #[param(value_type = Option<super::paging::QueryLimit>)]
    limit: Option<String>,
    /// `nextCursor` of the previous page.
    #[param(value_type = Option<super::paging::QueryId>)]
    cursor: Option<String>,
}

async fn list(
    state: &JoyState,
    caller: &Caller,
    query: MovementQuery,
    direction: Option<Direction>,
) -> Result<Response, JoyError> {
    let page_spec = Page::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    let shape = match direction {
        Some(Direction::Deposit) => Shape::Deposits,
        Some(Direction::Withdraw) => Shape::Withdraws,
        None => Shape::Transactions,
    };
    let filter = MovementFilter {
        direction: direction.map(Direction::name),
        id: None,
        txid: txid_filter(query.txid.as_deref())?,
        from_address: address_filter(query.from_address.as_deref(), "from_address")?,
        to_address: address_filter(query.to_address.as_deref(), "to_address")?,
        symbol: symbol_filter(query.symbol.as_deref())?,
        user_id: caller.sees(state).await?.user_filter(),
        own_address: address_filter(query.address.as_deref(), "address")?,
    };
    let rows = query_movements(state, &filter, page_spec, shape).await?;
    Ok(page_spec.respond(rows, |row| row.id.parse().ok()))
}

async fn get_one(state: &JoyState, caller: &Caller, id: &str, direction: Direction) -> Result<Response, JoyError> {
    let filter = MovementFilter {
        direction: Some(direction.name()),
        id: Some(path_id(id, direction.name())?),
        user_id: caller.sees(state).await?.user_filter(),
        ..Default::default()
    };
    let shape = if direction == Direction::Deposit { Shape::Deposits } else { Shape::Withdraws };
    let rows = query_movements(state, &filter, Page::ONE, shape).await?;
    Page::single(rows, direction.name())
}

#[utoipa::path(get, path = "/api/v1/deposit", tag = "joyplus", params(MovementQuery), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "The rows", body = super::paging::JoyList<MovementView>), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn list_deposits(
    State(state): State<JoyState>,
    caller: Caller,
    Query(query): Query<MovementQuery>,
) -> Result<Response, JoyError> {
    list(&state, &caller, query, Some(Direction::Deposit)).await
}

#[utoipa::path(get, path = "/api/v1/withdraw", tag = "joyplus", params(MovementQuery), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "The rows", body = super::paging::JoyList<MovementView>), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn list_withdraws(
    State(state): State<JoyState>,
    caller: Caller,
    Query(query): Query<MovementQuery>,
) -> Result<Response, JoyError> {
    list(&state, &caller, query, Some(Direction::Withdraw)).await
}

#[utoipa::path(get, path = "/api/v1/transaction", tag = "joyplus", params(MovementQuery), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "The rows", body = super::paging::JoyList<MovementView>), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn list_transactions(
    State(state): State<JoyState>,
    caller: Caller,
    Query(query): Query<MovementQuery>,
) -> Result<Response, JoyError> {
    list(&state, &caller, query, None).await
}

#[utoipa::path(get, path = "/api/v1/deposit/{id}", tag = "joyplus", params(("id" = String, Path, description = "The id")), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "The rows", body = super::paging::JoyList<MovementView>), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn get_deposit(
    State(state): State<JoyState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, JoyError> {
    get_one(&state, &caller, &id, Direction::Deposit).await
}

#[utoipa::path(get, path = "/api/v1/withdraw/{id}", tag = "joyplus", params(("id" = String, Path, description = "The id")), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "The rows", body = super::paging::JoyList<MovementView>), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn get_withdraw(
    State(state): State<JoyState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, JoyError> {
    get_one(&state, &caller, &id, Direction::Withdraw).await
}
