//! `getalldata` and each user's two BTC accounts: on-chain funds (`btcfunds`) and Lightning
//! funds (`lntfunds`), opened on first use, owned by the user, with purposes `onchain` and
//! `lightning`.

use axum::extract::State;
use axum::Json;
use projections::read_models::{balances, channels, postings, quickpay_contacts};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;

use super::session::WebSession;
use super::wire::LightningError;
use super::LightningState;
use app::ports::node::{LightningNode, NodeInfo};
use app::AppError;

pub use app::accounts::lightning::{account_id, Purpose, BTC_DECIMALS};

pub async fn ensure_accounts(state: &LightningState, user_id: &str) -> Result<(), AppError> {
    for purpose in [Purpose::Onchain, Purpose::Lightning] {
        state
            .ledger
            .open_user_account(&account_id(user_id, purpose), "BTC", BTC_DECIMALS, user_id, purpose.name())
            .await?;
    }
    Ok(())
}

/// A BTC amount in the user's unit as an exact JSON number (the spec's BigDecimal).
pub(super) fn number(btc: Decimal, unit: &str) -> Result<Box<RawValue>, AppError> {
    let value =
        super::denomination::from_btc(btc, unit).ok_or_else(|| AppError::Internal("amount out of range".into()))?;
    RawValue::from_string(value.normalize().to_string()).map_err(|error| AppError::Internal(error.to_string()))
}

#[derive(Serialize)]
pub struct Balances {
    btcfunds: Box<RawValue>,
    lntfunds: Box<RawValue>,
}

#[derive(Serialize)]
pub struct DataResponse {
    balances: Balances,
    address: String,
    info: NodeInfo,
    channels: Vec<ChannelView>,
    quickpaynodes: Vec<QuickpayNode>,
    transactions: Vec<TransactionView>,
    /// The unit every amount here is in.
    denomination: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

/// Most history entries `getalldata` shows.
const MAX_TRANSACTIONS_SHOWN: i64 = 50;

/// The channel view: the spec's Channel model.
#[derive(Serialize)]
pub struct ChannelView {
    node: String,
    channel: String,
    state: String,
    balance: Box<RawValue>,
    capacity: Box<RawValue>,
    channelpoint: String,
}

#[derive(Serialize)]
pub struct QuickpayNode {
    alias: String,
    node: String,
}

#[derive(Serialize)]
pub struct TransactionView {
    date: String,
    /// Signed: positive received, negative sent.
    amount: Box<RawValue>,
    /// `onchain` or `lightning`.
    account: String,
    #[serde(rename = "type")]
    kind: String,
    /// The transfer id or deposit reference.
    reference: Option<String>,
}

#[utoipa::path(get, path = "/rest/v1/getalldata", tag = "mylightning", security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session"), (status = 401, description = "No session; a bad CSRF token is a 200 business failure")))]
pub async fn get_all_data(
    State(state): State<LightningState>,
    session: WebSession,
) -> Result<Json<DataResponse>, LightningError> {
    ensure_accounts(&state, &session.user_id).await?;
    let unit = super::denomination::of_user(&state, &session.user_id).await?;
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let funds = |purpose: Purpose| account_id(&session.user_id, purpose);
    let accounts = vec![funds(Purpose::Onchain), funds(Purpose::Lightning)];
    let amounts = balances::amounts(&client, &accounts).await.map_err(AppError::from)?;
    let balance_of = |purpose: Purpose| {
        amounts.iter().find(|(id, _, _)| *id == funds(purpose)).map(|(_, amount, _)| *amount).unwrap_or_default()
    };
    let channel_rows =
        channels::of_owner(&client, &session.user_id, MAX_TRANSACTIONS_SHOWN).await.map_err(AppError::from)?;
    let channels = channel_rows
        .into_iter()
        .map(|row| {
            Ok(ChannelView {
                node: row.remote_node,
                channel: row.channelpoint.chars().take(16).collect(),
                state: row.state,
                balance: number(row.balance, &unit)?,
                capacity: number(row.capacity, &unit)?,
                channelpoint: row.channelpoint,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let contacts = quickpay_contacts::of_owner(&client, &session.user_id).await.map_err(AppError::from)?;
    let history = postings::history(&client, &accounts, MAX_TRANSACTIONS_SHOWN).await.map_err(AppError::from)?;
    let transactions = history
        .into_iter()
        .map(|entry| {
            Ok(TransactionView {
                date: entry.recorded_at.to_rfc3339(),
                amount: number(entry.amount, &unit)?,
                kind: entry.event_type,
                reference: entry.reference,
                account: entry.purpose.unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(Json(DataResponse {
        balances: Balances {
            btcfunds: number(balance_of(Purpose::Onchain), &unit)?,
            lntfunds: number(balance_of(Purpose::Lightning), &unit)?,
        },
        address: state.node.receive_address(&session.user_id)?,
        info: state.node.info(),
        channels,
        quickpaynodes: contacts.into_iter().map(|(alias, node)| QuickpayNode { alias, node }).collect(),
        transactions,
        denomination: unit,
        csrf: session.csrf,
    }))
}
