//! `getalldata` and each user's two BTC accounts: on-chain funds (`btcfunds`) and Lightning
//! funds (`lntfunds`), opened on first use, owned by the user, with purposes `onchain` and
//! `lightning`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use projections::read_models::{balances, channels, postings, quickpay_contacts};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;

use super::address_book::{address_book, Address, QuickpayNode};
use super::session::WebSession;
use super::wire::LightningError;
use super::LightningState;
use app::ports::node::LightningNode;
use app::AppError;

pub use app::accounts::lightning::{account_id, Purpose, BTC_DECIMALS};

pub async fn ensure_accounts(state: &LightningState, user_id: &str) -> Result<(), AppError> {
    super::identity::remember(state, user_id).await?;
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

/// The node as the wallet shows it, with the code another wallet adds it by.
#[derive(Serialize)]
pub struct Info {
    #[serde(rename = "nodeId")]
    node_id: String,
    alias: String,
    port: u16,
    synchronized: bool,
    blockheight: u64,
    /// `pubkey@host:port@webhost:webport`: the node, where it takes channels, and where its
    /// wallet takes invoice requests.
    addresscode: String,
}

#[derive(Serialize)]
pub struct User {
    id: String,
}

#[derive(Serialize)]
pub struct DataResponse {
    user: User,
    balances: Balances,
    address: String,
    info: Info,
    channels: Vec<ChannelView>,
    quickpaynodes: BTreeMap<String, QuickpayNode>,
    addressbook: BTreeMap<String, Address>,
    transactions: Vec<TransactionView>,
    /// The unit every amount here is in.
    denomination: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

/// Most history entries `getalldata` shows.
const MAX_TRANSACTIONS_SHOWN: i64 = 50;

/// A channel as lnd listed it to the original wallet.
#[derive(Serialize, Clone)]
pub struct ChannelView {
    pub node: String,
    /// A short id of an open channel (`closechannel` takes it); `N/A` while pending or
    /// closing, as lnd had no channel id then.
    pub channel: String,
    /// `Open`, `Pending (n blocks)` or `Closing`.
    pub state: String,
    pub balance: Box<RawValue>,
    pub capacity: Box<RawValue>,
    pub channelpoint: String,
    pub waitblocks: u64,
    pub active: bool,
}

/// The characters of a channel point `channel` shows.
pub const SHORT_CHANNEL_ID_LEN: usize = 16;

/// A history entry as the wallet's transaction list reads it.
#[derive(Serialize)]
pub struct TransactionView {
    /// Unix seconds.
    time_stamp: i64,
    /// `transaction` (on chain), `payment` (Lightning, sent) or `invoice` (Lightning, received).
    #[serde(rename = "type")]
    kind: &'static str,
    /// Signed for `transaction` (negative: sent), the amount paid for the others.
    amount: Box<RawValue>,
    total_fees: Box<RawValue>,
    memo: String,
    /// The transfer id, txid or deposit reference.
    hash: String,
    num_confirmations: u64,
}

#[utoipa::path(get, path = "/rest/v1/getalldata", tag = "mylightning", security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 401, description = "No session")))]
pub async fn get_all_data(
    State(state): State<LightningState>,
    headers: HeaderMap,
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
    let height = state.node.block_height();
    let channel_rows =
        channels::of_owner(&client, &session.user_id, MAX_TRANSACTIONS_SHOWN).await.map_err(AppError::from)?;
    let channels = channel_rows
        .into_iter()
        .filter(|row| row.state != "closed")
        .map(|row| channel_view(row, height, &unit))
        .collect::<Result<Vec<_>, AppError>>()?;
    let contacts = quickpay_contacts::of_owner(&client, &session.user_id).await.map_err(AppError::from)?;
    let (quickpaynodes, addressbook) = address_book(contacts, &channels);
    let history = postings::history(&client, &accounts, MAX_TRANSACTIONS_SHOWN).await.map_err(AppError::from)?;
    let transactions =
        history.into_iter().map(|entry| transaction_view(entry, &unit)).collect::<Result<Vec<_>, AppError>>()?;
    let node = state.node.info(&session.user_id)?;
    let web_host = web_host(&headers);
    let node_host = web_host.rsplit_once(':').map_or(web_host.as_str(), |(host, _)| host);
    Ok(Json(DataResponse {
        user: User { id: session.user_id.clone() },
        balances: Balances {
            btcfunds: number(balance_of(Purpose::Onchain), &unit)?,
            lntfunds: number(balance_of(Purpose::Lightning), &unit)?,
        },
        address: state.node.receive_address(&session.user_id)?,
        info: Info {
            addresscode: format!("{}@{node_host}:{}@{web_host}", node.node_id, node.port),
            node_id: node.node_id,
            alias: node.alias,
            port: node.port,
            synchronized: node.synchronized,
            blockheight: node.blockheight,
        },
        channels,
        quickpaynodes,
        addressbook,
        transactions,
        denomination: unit,
        csrf: session.csrf,
    }))
}

/// Where the wallet was reached (`host:port`), as its users' contacts reach it.
pub fn web_host(headers: &HeaderMap) -> String {
    headers
        .get(axum::http::header::HOST)
        .and_then(|host| host.to_str().ok())
        .filter(|host| !host.is_empty())
        .unwrap_or("localhost")
        .to_string()
}

fn channel_view(row: channels::ChannelRow, height: u64, unit: &str) -> Result<ChannelView, AppError> {
    let since = u64::try_from(row.state_height).unwrap_or_default();
    let waitblocks = (since + domain::lightning::CHANNEL_CONFIRMATIONS).saturating_sub(height);
    let (state, channel, active) = match row.state.as_str() {
        "active" => ("Open".to_string(), row.channelpoint.chars().take(SHORT_CHANNEL_ID_LEN).collect(), true),
        "pending" => (format!("Pending ({waitblocks} blocks)"), "N/A".to_string(), true),
        _ => ("Closing".to_string(), "N/A".to_string(), true),
    };
    Ok(ChannelView {
        node: row.remote_node,
        channel,
        state,
        balance: number(row.balance, unit)?,
        capacity: number(row.capacity, unit)?,
        channelpoint: row.channelpoint,
        waitblocks: if row.state == "active" { 0 } else { waitblocks },
        active,
    })
}

fn transaction_view(entry: postings::HistoryEntry, unit: &str) -> Result<TransactionView, AppError> {
    let on_chain = entry.purpose.as_deref() != Some(Purpose::Lightning.name());
    let (kind, amount) = match (on_chain, entry.amount.is_sign_negative()) {
        (true, _) => ("transaction", entry.amount),
        (false, true) => ("payment", entry.amount.abs()),
        (false, false) => ("invoice", entry.amount),
    };
    Ok(TransactionView {
        time_stamp: entry.recorded_at.timestamp(),
        kind,
        amount: number(amount, unit)?,
        total_fees: number(Decimal::ZERO, unit)?,
        memo: String::new(),
        hash: entry.reference.unwrap_or_default(),
        num_confirmations: 0,
    })
}
