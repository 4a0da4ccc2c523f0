//! Channels. Opening holds the capacity on the user's on-chain funds (pending); once the
//! funding has `CHANNEL_CONFIRMATIONS` blocks the watcher moves it into the user's Lightning
//! funds (active). Closing waits as many blocks, then moves the channel's balance (its
//! capacity, or the Lightning funds left if less) back on chain. Every step has a derived
//! operation id, so a watcher restarted at any point repeats nothing.

use axum::extract::State;
use axum::Json;
use chrono::Utc;
use domain::account::AccountCommand;
use domain::lightning::ChannelCommand;
use rand::RngCore;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::denomination;
use super::payments::{exact, require_password, sat_from_btc};
use super::session::SignedPost;
use super::wallet::{account_id, ensure_accounts, Purpose};
use super::wire::LightningError;
use super::LightningState;
use crate::client_address::ClientAddress;
use app::accounts::lightning::btc_of_sat;
use store::{ids, Operation};

/// A pending channel's hold lasts this long; activation comes long before.
const FUNDING_HOLD_HOURS: i64 = 24;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct OpenChannelRequest {
    remotenode: Option<String>,
    /// A plain decimal number in the user's unit.
    #[schema(value_type = Option<f64>)]
    amount: Option<Box<RawValue>>,
}

/// `channelpoint` names the channel by its channel point or by the `channel` id
/// `getalldata` lists (the wallet sends either under that name); `channel` is read too.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct CloseChannelRequest {
    channelpoint: Option<String>,
    channel: Option<String>,
    password: Option<String>,
}

#[utoipa::path(post, path = "/rest/v1/openchannel", tag = "mylightning", request_body = OpenChannelRequest, security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session"), (status = 401, description = "No session; a bad CSRF token is a 200 business failure")))]
pub async fn open_channel(
    State(state): State<LightningState>,
    SignedPost { session, body }: SignedPost,
) -> Result<Json<Value>, LightningError> {
    let request: OpenChannelRequest = super::payments::parse(&body)?;
    // `pubkey@host:port` (as the wallet sends a contact's node) or a bare key.
    let remote = super::contacts::parse_node_code(request.remotenode.as_deref().unwrap_or_default())
        .map_err(|_| LightningError::business("invalid remote node"))?
        .node_id;
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
        remote_node: remote,
        capacity_sat,
        height: state.node.block_height(),
    };
    // The channel decides its capacity bounds before any money is held.
    domain::lightning::validate_capacity(capacity_sat)?;
    bus.execute(
        &account_id(&session.user_id, Purpose::Onchain),
        hold,
        &Operation::derived(ids::channel_hold(&channelpoint)),
    )
    .await?;
    let outcome = bus.execute(&channelpoint, command, &Operation::derived(ids::channel_open(&channelpoint))).await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(Json(json!({})))
}

#[utoipa::path(post, path = "/rest/v1/closechannel", tag = "mylightning", request_body = CloseChannelRequest, security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session"), (status = 401, description = "No session; a bad CSRF token is a 200 business failure"), (status = 429, description = "Too many wrong passwords")))]
pub async fn close_channel(
    State(state): State<LightningState>,
    ClientAddress(address): ClientAddress,
    SignedPost { session, body }: SignedPost,
) -> Result<Json<Value>, LightningError> {
    let request: CloseChannelRequest = super::payments::parse(&body)?;
    require_password(&state, &session, request.password, address).await?;
    let named = request.channelpoint.or(request.channel).unwrap_or_default();
    let channelpoint = own_channel(&state, &session.user_id, named.trim()).await?;
    let command = ChannelCommand::Close { owner: session.user_id.clone(), height: state.node.block_height() };
    let outcome = state
        .ledger
        .bus
        .execute(&channelpoint, command, &Operation::derived(ids::channel_close(&channelpoint)))
        .await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(Json(json!({})))
}

/// The channel point of the session user's channel named by its channel point or by a
/// prefix of it (the short `channel` id); a name that fits none, or several, is refused.
async fn own_channel(state: &LightningState, owner: &str, named: &str) -> Result<String, LightningError> {
    if named.len() < super::wallet::SHORT_CHANNEL_ID_LEN {
        return Err(LightningError::business("channel not found"));
    }
    let client = state.ledger.reads.get().await.map_err(app::AppError::from)?;
    let rows = client
        .query(
            "SELECT channelpoint FROM channels WHERE owner = $1 AND starts_with(channelpoint, $2) LIMIT 2",
            &[&owner, &named],
        )
        .await
        .map_err(app::AppError::from)?;
    match rows.as_slice() {
        [row] => Ok(row.get(0)),
        _ => Err(LightningError::business("channel not found")),
    }
}
