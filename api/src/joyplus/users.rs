//! `GET /user`, `/user/{id}`, `/wallet`, `/wallet/{id}`. A user's id and its wallet's id are
//! the same number. Sessions see themselves, API keys their e-mail's user, the admin all.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;

use super::auth::Caller;
use super::balances::{query_balances, BalanceView};
use super::filters::{address_filter, id_filter, text_filter};
use super::paging::{path_id, Page, MAX_PAGE_ROWS};
use super::wire::{millis, JoyError};
use super::JoyState;
use app::AppError;
use projections::read_models::joy_plus::BalanceFilter;
use projections::read_models::joy_plus::{self, WalletFilter};

/// Balances listed per user: one per listed asset, so this bounds listed assets too.
const MAX_BALANCES_PER_USER: i64 = 100;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = joy::User)]
pub struct UserView {
    id: String,
    #[serde(rename = "openID")]
    open_id: String,
    first_name: Option<String>,
    last_name: Option<String>,
    email: String,
    mobile: Option<String>,
    status: i16,
    created_at: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = joy::Wallet)]
pub struct WalletView {
    id: String,
    address: String,
    created_at: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = joy::UserEntry)]
pub struct UserEntry {
    balance: Vec<BalanceView>,
    user: UserView,
    wallet: WalletView,
}

struct WalletRow {
    user_id: String,
    user: UserView,
    wallet: WalletView,
}

impl WalletRow {
    fn from_row(row: &Row) -> Self {
        let wallet_id: i64 = row.get(0);
        let created_at = millis(row.get::<_, DateTime<Utc>>(8));
        let disabled: bool = row.get(9);
        Self {
            user_id: row.get(1),
            user: UserView {
                id: wallet_id.to_string(),
                open_id: row.get(2),
                first_name: row.get(3),
                last_name: row.get(4),
                email: row.get(5),
                mobile: row.get(6),
                status: if disabled { 0 } else { 1 },
                created_at,
            },
            wallet: WalletView { id: wallet_id.to_string(), address: row.get(7), created_at },
        }
    }
}

async fn query_wallets(state: &JoyState, filter: &WalletFilter, page: Page) -> Result<Vec<WalletRow>, AppError> {
    let client = state.ledger.reads.get().await?;
    let rows = joy_plus::wallets(&client, filter, page.after_id, page.limit).await?;
    Ok(rows.iter().map(WalletRow::from_row).collect())
}

async fn user_entries(state: &JoyState, wallets: Vec<WalletRow>) -> Result<Vec<UserEntry>, AppError> {
    let user_ids: Vec<String> = wallets.iter().map(|wallet| wallet.user_id.clone()).collect();
    let limit = (i64::try_from(user_ids.len()).unwrap_or(MAX_PAGE_ROWS) * MAX_BALANCES_PER_USER).max(1);
    let filter = BalanceFilter { user_ids: Some(user_ids), ..Default::default() };
    let mut balances: HashMap<String, Vec<BalanceView>> = HashMap::new();
    for balance in query_balances(state, &filter, Page { limit, after_id: 0 }).await? {
        balances.entry(balance.user_id.clone()).or_default().push(balance);
    }
    Ok(wallets
        .into_iter()
        .map(|wallet| UserEntry {
            balance: balances.remove(&wallet.user_id).unwrap_or_default(),
            user: wallet.user,
            wallet: wallet.wallet,
        })
        .collect())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    #[param(value_type = Option<super::paging::QueryId>)]
    id: Option<String>,
    openid: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    mobile: Option<String>,
    /// Rows per page: 1 to 500, default 100.
    #[param(value_type = Option<super::paging::QueryLimit>)]
    limit: Option<String>,
    /// `nextCursor` of the previous page.
    #[param(value_type = Option<super::paging::QueryId>)]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/user", tag = "joyplus", params(UserQuery), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "The rows", body = super::paging::JoyList<UserEntry>), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn list_users(
    State(state): State<JoyState>,
    caller: Caller,
    Query(query): Query<UserQuery>,
) -> Result<Response, JoyError> {
    let page_spec = Page::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    let filter = WalletFilter {
        id: id_filter(query.id.as_deref(), "id")?,
        open_id: text_filter(query.openid.as_deref()),
        first_name: text_filter(query.first_name.as_deref()),
        last_name: text_filter(query.last_name.as_deref()),
        email: text_filter(query.email.as_deref()),
        mobile: text_filter(query.mobile.as_deref()),
        address: None,
        user_id: caller.sees(&state).await?.user_filter(),
    };
    let wallets = query_wallets(&state, &filter, page_spec).await?;
    Ok(page_spec.respond(user_entries(&state, wallets).await?, |entry| entry.wallet.id.parse().ok()))
}

#[utoipa::path(get, path = "/api/v1/user/{id}", tag = "joyplus", params(("id" = String, Path, description = "The id")), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "The rows", body = super::paging::JoyList<UserEntry>), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn get_user(
    State(state): State<JoyState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, JoyError> {
    let filter = WalletFilter {
        id: Some(path_id(&id, "user")?),
        user_id: caller.sees(&state).await?.user_filter(),
        ..Default::default()
    };
    let wallets = query_wallets(&state, &filter, Page::ONE).await?;
    Page::single(user_entries(&state, wallets).await?, "user")
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WalletQuery {
    #[param(pattern = r"^(0[xX][0-9a-fA-F]{40})?$")]
    address: Option<String>,
    /// Rows per page: 1 to 500, default 100.
    #[param(value_type = Option<super::paging::QueryLimit>)]
    limit: Option<String>,
    /// `nextCursor` of the previous page.
    #[param(value_type = Option<super::paging::QueryId>)]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/wallet", tag = "joyplus", params(WalletQuery), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "The rows", body = super::paging::JoyList<WalletView>), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn list_wallets(
    State(state): State<JoyState>,
    caller: Caller,
    Query(query): Query<WalletQuery>,
) -> Result<Response, JoyError> {
    let page_spec = Page::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    let filter = WalletFilter {
        address: address_filter(query.address.as_deref(), "address")?,
        user_id: caller.sees(&state).await?.user_filter(),
        ..Default::default()
    };
    let wallets = query_wallets(&state, &filter, page_spec).await?;
    Ok(page_spec.respond(wallets.into_iter().map(|wallet| wallet.wallet).collect(), |wallet| wallet.id.parse().ok()))
}

#[utoipa::path(get, path = "/api/v1/wallet/{id}", tag = "joyplus", params(("id" = String, Path, description = "The id")), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "The rows", body = super::paging::JoyList<WalletView>), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn get_wallet(
    State(state): State<JoyState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, JoyError> {
    let filter = WalletFilter {
        id: Some(path_id(&id, "wallet")?),
        user_id: caller.sees(&state).await?.user_filter(),
        ..Default::default()
    };
    let wallets = query_wallets(&state, &filter, Page::ONE).await?;
    Page::single(wallets.into_iter().map(|wallet| wallet.wallet).collect(), "wallet")
}
