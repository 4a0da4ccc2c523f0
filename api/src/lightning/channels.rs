//! Channels. Opening holds the capacity on the user's on-chain funds (pending); once the
//! funding has `CHANNEL_CONFIRMATIONS` blocks the watcher moves it into the user's Lightning
//! funds (active). Closing waits as many blocks, then moves the channel's balance (its
//! capacity, or the Lightning funds left if less) back on chain. Every step has a derived
//! operation id, so a watcher restarted at any point repeats nothing.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use bitcoin::secp256k1::PublicKey;
use chrono::Utc;
use domain::account::{AccountCommand, AccountEvent};
use domain::lightning::{ChannelCommand, ChannelState};
use rand::RngCore;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::denomination;
use super::node::EmbeddedNode;
use super::payments::{exact, require_password, sat_from_btc};
use super::session::WebSession;
use super::wallet::{account_id, ensure_accounts, Purpose, BTC_DECIMALS};
use super::wire::LightningError;
use crate::app::AppState;
use crate::commands::{CommandBus, Operation};
use crate::error::AppError;

const WATCH_INTERVAL_MS: u64 = 250;
/// Channels in flight handled per watch round.
const MAX_CHANNELS_PER_ROUND: i64 = 500;
/// A pending channel's hold lasts this long; activation comes long before.
const FUNDING_HOLD_HOURS: i64 = 24;

#[derive(Deserialize)]
pub struct OpenChannelRequest {
    remotenode: Option<String>,
    amount: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
pub struct CloseChannelRequest {
    channelpoint: Option<String>,
    password: Option<String>,
}

fn btc_of_sat(sat: u64) -> Decimal {
    Decimal::from(sat) / Decimal::from(100_000_000_u64)
}

#[utoipa::path(post, path = "/rest/v1/openchannel", tag = "mylightning", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session"), (status = 403, description = "Bad CSRF token")))]
pub async fn open_channel(
    State(state): State<AppState>,
    session: WebSession,
    body: Bytes,
) -> Result<Json<Value>, LightningError> {
    let request: OpenChannelRequest = serde_json::from_slice(&body)
        .map_err(|error| LightningError::bad_request(format!("invalid request: {error}")))?;
    let remote = request.remotenode.unwrap_or_default();
    PublicKey::from_str(remote.trim()).map_err(|_| LightningError::business("invalid remote node"))?;
    let unit = denomination::of_user(&state, &session.user_id).await?;
    let amount = exact(request.amount.as_deref())?.ok_or_else(|| LightningError::business("amount is required"))?;
    let btc = denomination::to_btc(amount, &unit).ok_or_else(|| LightningError::business("amount out of range"))?;
    let capacity_sat = sat_from_btc(btc)?;
    ensure_accounts(&state, &session.user_id).await?;

    let mut funding = [0_u8; 32];
    rand::thread_rng().fill_bytes(&mut funding);
    let channelpoint = format!("{}:0", hex::encode(Sha256::digest(funding)));
    let bus = &state.ledger.bus;
    let hold = AccountCommand::PlaceHold {
        hold_id: channelpoint.clone(),
        amount: btc_of_sat(capacity_sat),
        expires_at: Some(Utc::now() + chrono::Duration::hours(FUNDING_HOLD_HOURS)),
        memo: Some(format!("funding of channel {channelpoint}")),
        now: Utc::now(),
    };
    let command = ChannelCommand::Open {
        owner: session.user_id.clone(),
        remote_node: remote.trim().to_string(),
        capacity_sat,
        height: state.node.block_height(),
    };
    // The channel decides its capacity bounds before any money is held.
    domain::lightning::validate_capacity(capacity_sat)?;
    bus.account(
        &account_id(&session.user_id, Purpose::Onchain),
        hold,
        &Operation::derived(format!("channel-hold:{channelpoint}")),
    )
    .await?;
    let outcome =
        bus.channel(&channelpoint, command, &Operation::derived(format!("channel-open:{channelpoint}"))).await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(Json(json!({})))
}

#[utoipa::path(post, path = "/rest/v1/closechannel", tag = "mylightning", request_body(content = serde_json::Value, description = "A JSON object, as the dialect's spec describes", content_type = "application/json"), security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session"), (status = 403, description = "Bad CSRF token")))]
pub async fn close_channel(
    State(state): State<AppState>,
    session: WebSession,
    body: Bytes,
) -> Result<Json<Value>, LightningError> {
    let request: CloseChannelRequest = serde_json::from_slice(&body)
        .map_err(|error| LightningError::bad_request(format!("invalid request: {error}")))?;
    require_password(&state, &session, request.password).await?;
    let channelpoint = request.channelpoint.unwrap_or_default();
    let command = ChannelCommand::Close { owner: session.user_id.clone(), height: state.node.block_height() };
    let outcome = state
        .ledger
        .bus
        .channel(&channelpoint, command, &Operation::derived(format!("channel-close:{channelpoint}")))
        .await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(Json(json!({})))
}

/// Moves channels on as blocks pass, until shutdown.
pub async fn watch_channels(
    bus: CommandBus,
    reads: deadpool_postgres::Pool,
    node: Arc<EmbeddedNode>,
    shutdown: watch::Receiver<bool>,
) {
    crate::periodic::every(Duration::from_millis(WATCH_INTERVAL_MS), "channel watch", shutdown, || {
        advance(&bus, &reads, &node)
    })
    .await;
}

async fn advance(bus: &CommandBus, reads: &deadpool_postgres::Pool, node: &EmbeddedNode) -> Result<(), AppError> {
    let in_flight = {
        let client = reads.get().await?;
        client
            .query(
                "SELECT channelpoint FROM channels WHERE state IN ('pending', 'closing') LIMIT $1",
                &[&MAX_CHANNELS_PER_ROUND],
            )
            .await?
    };
    let height = node.block_height();
    for row in in_flight {
        let channelpoint: String = row.get(0);
        let channel = bus.channel_state(&channelpoint).await?;
        let Some(opened) = channel.opened().cloned() else { continue };
        if !channel.is_confirmed_at(height) {
            continue;
        }
        match channel.state() {
            Some(ChannelState::Pending) => {
                let to = bus.destination(&account_id(&opened.owner, Purpose::Lightning)).await?;
                let capture = AccountCommand::CaptureHold {
                    hold_id: channelpoint.clone(),
                    transfer_id: format!("channel-fund:{channelpoint}"),
                    to,
                    memo: None,
                    now: Utc::now(),
                };
                let funded = bus
                    .account(
                        &account_id(&opened.owner, Purpose::Onchain),
                        capture,
                        &Operation::derived(format!("channel-fund:{channelpoint}")),
                    )
                    .await?;
                if let Some(debit) = funded.event() {
                    bus.complete_transfer(debit).await;
                }
                bus.channel(
                    &channelpoint,
                    ChannelCommand::Activate { height },
                    &Operation::derived(format!("channel-active:{channelpoint}")),
                )
                .await?;
            }
            Some(ChannelState::Closing) => {
                let returned_sat =
                    return_on_chain(bus, reads, &channelpoint, &opened.owner, opened.capacity_sat).await?;
                let finish = ChannelCommand::Finish { height, returned_sat };
                bus.channel(&channelpoint, finish, &Operation::derived(format!("channel-closed:{channelpoint}")))
                    .await?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Moves the channel's balance (its capacity, or the Lightning funds left if less) back on
/// chain, once; answers how much moved.
async fn return_on_chain(
    bus: &CommandBus,
    reads: &deadpool_postgres::Pool,
    channelpoint: &str,
    owner: &str,
    capacity_sat: u64,
) -> Result<u64, AppError> {
    let operation = Operation::derived(format!("channel-return:{channelpoint}"));
    if let Some(done) = bus.find_operation(&operation.id).await? {
        return Ok(returned_sat(&done));
    }
    let lightning = account_id(owner, Purpose::Lightning);
    let available: Decimal = reads
        .get()
        .await?
        .query_opt("SELECT available FROM balances WHERE account_id = $1", &[&lightning])
        .await?
        .map(|row| row.get(0))
        .unwrap_or_default();
    let amount = btc_of_sat(capacity_sat).min(available);
    if amount <= Decimal::ZERO {
        return Ok(0);
    }
    let to = bus.destination(&account_id(owner, Purpose::Onchain)).await?;
    let command = AccountCommand::SendTransfer {
        transfer_id: operation.id.clone(),
        to,
        amount,
        memo: Some(format!("close of {channelpoint}")),
    };
    let outcome = bus.account(&lightning, command, &operation).await?;
    let event = outcome.event().ok_or_else(|| AppError::Internal("a channel return appended nothing".into()))?;
    bus.complete_transfer(event).await;
    Ok(returned_sat(event))
}

fn returned_sat(event: &projections::StoredEvent) -> u64 {
    match event.decode::<AccountEvent>() {
        Ok(AccountEvent::TransferSent { amount, .. }) => {
            let mut sats = amount.value();
            sats.rescale(BTC_DECIMALS);
            u64::try_from(sats.mantissa()).unwrap_or(0)
        }
        _ => 0,
    }
}
