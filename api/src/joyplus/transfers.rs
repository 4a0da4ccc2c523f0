//! Chain movements of Joy Plus balances: `GET /deposit`, `/withdraw` (and by id) and
//! `/transaction` (both, the other side's amount null); the admin's `POST /deposit`, which a
//! chain watcher calls and which credits each `txid` once; and `POST /withdraw-joy`, which
//! debits a balance and sends JOY from the hot wallet.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use domain::account::{AccountCommand, AccountEvent};
use domain::joyplus::EthAddress;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio_postgres::Row;

use super::auth::Caller;
use super::chain::ChainWithdrawal;
use super::filters::{address_filter, required_address, required_symbol, symbol_filter};
use super::paging::{path_id, Page};
use super::sso::{balance_account_id, open_balances};
use super::wire::{amount_text, data, millis, JoyError, JoyJson};
use crate::app::AppState;
use crate::commands::Operation;
use crate::error::AppError;
use crate::idempotency::keyed_operation;

/// The asset `withdraw-joy` sends.
const JOY: &str = "JOY";
/// Longest decimal text accepted for an amount.
const MAX_AMOUNT_TEXT_LEN: usize = 64;

/// A plain decimal (`"1"`, `"0.5"`): no sign, no exponent. Range and scale are the
/// account's to check.
pub fn parse_value(text: &str, name: &str) -> Result<Decimal, JoyError> {
    let plain = !text.is_empty() && text.len() <= MAX_AMOUNT_TEXT_LEN && text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let value = plain.then(|| Decimal::from_str_exact(text).ok()).flatten();
    value.ok_or_else(|| JoyError::bad_request(format!("{name} must be a decimal number such as \"1.5\"")))
}

/// The user whose wallet has `address` (lower case).
pub async fn user_of_address(state: &AppState, address: &str) -> Result<String, JoyError> {
    let client = state.ledger.reads.get().await?;
    let row = client.query_opt("SELECT user_id FROM joy_wallets WHERE address_lower = $1", &[&address]).await?;
    row.map(|row| row.get(0)).ok_or_else(|| JoyError::not_found("wallet"))
}

fn txid_filter(text: Option<&str>) -> Result<Option<String>, JoyError> {
    const TXID_HEX_DIGITS: usize = 64;
    match text {
        None | Some("") => Ok(None),
        Some(text) => {
            let lower = text.to_lowercase();
            let valid = lower.strip_prefix("0x").is_some_and(|digits| digits.len() == TXID_HEX_DIGITS && digits.bytes().all(|b| b.is_ascii_hexdigit()));
            valid.then_some(Some(lower)).ok_or_else(|| JoyError::bad_request("txid must be 0x and 64 hex digits"))
        }
    }
}

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
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MovementView {
    id: String,
    txid: String,
    from_address: String,
    to_address: String,
    symbol: String,
    #[serde(skip_serializing_if = "Absent::is_absent")]
    deposit_amount: Absent,
    #[serde(skip_serializing_if = "Absent::is_absent")]
    withdraw_amount: Absent,
    created_at: i64,
}

/// A field that is there (a value or null) or not there at all.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Absent {
    Value(Option<String>),
    #[serde(skip)]
    Missing,
}

impl Absent {
    fn is_absent(&self) -> bool {
        matches!(self, Self::Missing)
    }
}

/// Which amount fields a list shows.
#[derive(Clone, Copy)]
enum Shape {
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
            Shape::Deposits => (Absent::Value(deposit), Absent::Missing),
            Shape::Withdraws => (Absent::Missing, Absent::Value(withdraw)),
            Shape::Transactions => (Absent::Value(deposit), Absent::Value(withdraw)),
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

#[derive(Default)]
struct MovementFilter {
    direction: Option<&'static str>,
    id: Option<i64>,
    txid: Option<String>,
    from_address: Option<String>,
    to_address: Option<String>,
    symbol: Option<String>,
    user_id: Option<String>,
    /// A deposit's to-address or a withdrawal's from-address (the transaction list).
    own_address: Option<String>,
}

async fn query_movements(state: &AppState, filter: &MovementFilter, page: Page, shape: Shape) -> Result<Vec<MovementView>, AppError> {
    let client = state.ledger.reads.get().await?;
    let rows = client
        .query(
            "SELECT t.transfer_id, t.direction, t.txid, t.from_address, t.to_address, t.asset, t.amount, t.created_at, a.decimals \
             FROM joy_chain_transfers t \
             JOIN joy_balances jb ON jb.balance_id = t.balance_id \
             JOIN joy_assets a ON a.code = t.asset \
             WHERE ($1::text IS NULL OR t.direction = $1) AND ($2::bigint IS NULL OR t.transfer_id = $2) \
               AND ($3::text IS NULL OR t.txid = $3) AND ($4::text IS NULL OR t.from_address = $4) \
               AND ($5::text IS NULL OR t.to_address = $5) AND ($6::text IS NULL OR t.asset = $6) \
               AND ($7::text IS NULL OR jb.user_id = $7) \
               AND ($8::text IS NULL OR (t.direction = 'deposit' AND t.to_address = $8) OR (t.direction = 'withdraw' AND t.from_address = $8)) \
               AND t.transfer_id > $9 \
             ORDER BY t.transfer_id LIMIT $10",
            &[
                &filter.direction,
                &filter.id,
                &filter.txid,
                &filter.from_address,
                &filter.to_address,
                &filter.symbol,
                &filter.user_id,
                &filter.own_address,
                &page.after_id,
                &page.limit,
            ],
        )
        .await?;
    Ok(rows.iter().map(|row| MovementView::from_row(row, shape)).collect())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MovementQuery {
    txid: Option<String>,
    from_address: Option<String>,
    to_address: Option<String>,
    symbol: Option<String>,
    address: Option<String>,
    /// Rows per page: 1 to 500, default 100.
    limit: Option<String>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
}

async fn list(state: &AppState, caller: &Caller, query: MovementQuery, direction: Option<Direction>) -> Result<Response, JoyError> {
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

async fn get_one(state: &AppState, caller: &Caller, id: &str, direction: Direction) -> Result<Response, JoyError> {
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

#[utoipa::path(get, path = "/api/v1/deposit", tag = "joyplus", params(MovementQuery), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn list_deposits(State(state): State<AppState>, caller: Caller, Query(query): Query<MovementQuery>) -> Result<Response, JoyError> {
    list(&state, &caller, query, Some(Direction::Deposit)).await
}

#[utoipa::path(get, path = "/api/v1/withdraw", tag = "joyplus", params(MovementQuery), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn list_withdraws(State(state): State<AppState>, caller: Caller, Query(query): Query<MovementQuery>) -> Result<Response, JoyError> {
    list(&state, &caller, query, Some(Direction::Withdraw)).await
}

#[utoipa::path(get, path = "/api/v1/transaction", tag = "joyplus", params(MovementQuery), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn list_transactions(State(state): State<AppState>, caller: Caller, Query(query): Query<MovementQuery>) -> Result<Response, JoyError> {
    list(&state, &caller, query, None).await
}

#[utoipa::path(get, path = "/api/v1/deposit/{id}", tag = "joyplus", params(("id" = String, Path, description = "The id")), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn get_deposit(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, JoyError> {
    get_one(&state, &caller, &id, Direction::Deposit).await
}

#[utoipa::path(get, path = "/api/v1/withdraw/{id}", tag = "joyplus", params(("id" = String, Path, description = "The id")), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn get_withdraw(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, JoyError> {
    get_one(&state, &caller, &id, Direction::Withdraw).await
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct RecordDeposit {
    txid: String,
    from_address: String,
    to_address: String,
    symbol: String,
    amount: String,
}

/// Admin: records a deposit seen on the chain. The txid is the idempotency key: the same
/// deposit again credits nothing more; the same txid with other details is a 409.
#[utoipa::path(post, path = "/api/v1/deposit", tag = "joyplus", request_body = RecordDeposit, security(("joy_admin_key" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn record_deposit(State(state): State<AppState>, caller: Caller, JoyJson(request): JoyJson<RecordDeposit>) -> Result<Response, JoyError> {
    caller.require_admin()?;
    let txid = txid_filter(Some(&request.txid))?.ok_or_else(|| JoyError::bad_request("txid is required"))?;
    let from_address = required_address(&request.from_address, "from_address")?;
    let to_address = required_address(&request.to_address, "to_address")?;
    let symbol = required_symbol(&request.symbol)?;
    let amount = parse_value(&request.amount, "amount")?;
    let user_id = user_of_address(&state, &to_address).await?;
    open_balances(&state, &user_id).await?;
    let normalized = json!({ "txid": txid, "from": from_address, "to": to_address, "symbol": symbol, "amount": amount.normalize().to_string() });
    let operation = Operation {
        id: format!("joyplus/deposit/{txid}"),
        request_hash: Some(hex::encode(Sha256::digest(normalized.to_string().as_bytes()))),
    };
    let command = AccountCommand::CreditChainDeposit { amount, txid, from_address, to_address };
    let outcome = state.ledger.bus.account(&balance_account_id(&user_id, &symbol), command, &operation).await.map_err(|error| match error {
        AppError::Domain(domain::DomainError::AccountNotOpened) => JoyError::not_found("asset"),
        AppError::IdempotencyKeyReused => JoyError::new(axum::http::StatusCode::CONFLICT, "this txid was recorded with other details"),
        other => other.into(),
    })?;
    let event = outcome.event().ok_or_else(|| AppError::Internal("a deposit appended nothing".into()))?;
    state.ledger.await_read_models(event).await;
    let filter = MovementFilter { id: Some(event.position), ..Default::default() };
    let mut rows = query_movements(&state, &filter, Page::ONE, Shape::Deposits).await?;
    let row = rows.pop().ok_or(AppError::NotFound("deposit"))?;
    Ok(data(row))
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct WithdrawJoy {
    from: String,
    to: String,
    value: String,
}

/// A signed-in user from its own address, or the admin from any: debits `from` and sends
/// JOY from the hot wallet to `to`. Insufficient funds move nothing.
#[utoipa::path(post, path = "/api/v1/withdraw-joy", tag = "joyplus", request_body = WithdrawJoy, security(("joy_session" = []), ("joy_admin_key" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn withdraw_joy(
    State(state): State<AppState>,
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
        Caller::ApiKey { .. } => return Err(JoyError::forbidden("this endpoint requires a signed-in user or the admin key")),
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
    let outcome = state.ledger.bus.account(&balance_account_id(&user_id, JOY), command, &operation).await.map_err(|error| match error {
        AppError::Domain(domain::DomainError::AccountNotOpened) => JoyError::bad_request("insufficient funds"),
        other => other.into(),
    })?;
    let event = outcome.event().ok_or_else(|| AppError::Internal("a withdrawal appended nothing".into()))?;
    let AccountEvent::ChainWithdrawalDebited { txid, .. } = event.decode().map_err(AppError::from)? else {
        return Err(AppError::Internal("operation id names another kind of event".into()).into());
    };
    state.ledger.await_read_models(event).await;
    // The chain broadcaster sends it from the log (it retries until the chain takes it).
    Ok(data(json!({ "txid": txid })))
}
