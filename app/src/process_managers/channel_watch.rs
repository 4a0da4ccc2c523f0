//! Moves channels on as the node's blocks pass: a pending channel whose funding has enough
//! confirmations becomes active (its funding moves from on-chain to Lightning funds); a
//! closing one becomes closed (its balance returns on chain). Every step has a derived
//! operation id, so several servers watching at once move each channel once.

use std::sync::Arc;
use std::time::Duration;

use domain::account::AccountEvent;
use domain::lightning::{ChannelCommand, ChannelState};
use projections::read_models::{balances, channels};
use rust_decimal::Decimal;
use store::{ids, Operation, StoredEvent};
use tokio::sync::watch;

use crate::accounts::lightning::{account_id, btc_of_sat, Purpose, BTC_DECIMALS};
use crate::bus::CommandBus;
use crate::error::AppError;
use crate::ports::node::EmbeddedNode;
use crate::use_cases::transfers;

const WATCH_INTERVAL_MS: u64 = 250;
/// Most channels moved on in one round; the next round takes the rest.
const MAX_CHANNELS_PER_ROUND: i64 = 500;

/// Moves channels on as blocks pass, until shutdown.
pub async fn run(
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
    let in_flight = channels::in_flight(&reads.get().await?, MAX_CHANNELS_PER_ROUND).await?;
    let height = node.block_height();
    for channelpoint in in_flight {
        let channel = bus.load::<domain::lightning::Channel>(&channelpoint).await?;
        let Some(opened) = channel.opened().cloned() else { continue };
        if !channel.is_confirmed_at(height) {
            continue;
        }
        match channel.state() {
            Some(ChannelState::Pending) => {
                transfers::capture_hold(
                    bus,
                    &account_id(&opened.owner, Purpose::Onchain),
                    &channelpoint,
                    &account_id(&opened.owner, Purpose::Lightning),
                    ids::channel_fund(&channelpoint),
                    None,
                    &Operation::derived(ids::channel_fund(&channelpoint)),
                )
                .await?;
                bus.execute(
                    &channelpoint,
                    ChannelCommand::Activate { height },
                    &Operation::derived(ids::channel_active(&channelpoint)),
                )
                .await?;
            }
            Some(ChannelState::Closing) => {
                let returned_sat =
                    return_on_chain(bus, reads, &channelpoint, &opened.owner, opened.capacity_sat).await?;
                let finish = ChannelCommand::Finish { height, returned_sat };
                bus.execute(&channelpoint, finish, &Operation::derived(ids::channel_closed(&channelpoint))).await?;
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
    let operation = Operation::derived(ids::channel_return(channelpoint));
    if let Some(done) = bus.find_operation(&operation.id).await? {
        return Ok(returned_sat(&done));
    }
    let lightning = account_id(owner, Purpose::Lightning);
    let amounts = balances::amounts(&reads.get().await?, std::slice::from_ref(&lightning)).await?;
    let available = amounts.first().map(|(_, _, available)| *available).unwrap_or_default();
    let amount = btc_of_sat(capacity_sat).min(available);
    if amount <= Decimal::ZERO {
        return Ok(0);
    }
    let memo = Some(format!("close of {channelpoint}"));
    let receipt =
        transfers::send(bus, &lightning, &account_id(owner, Purpose::Onchain), amount, memo, &operation).await?;
    Ok(returned_sat(&receipt.debit))
}

fn returned_sat(event: &StoredEvent) -> u64 {
    match event.decode::<AccountEvent>() {
        Ok(AccountEvent::TransferSent { amount, .. }) => {
            let mut sats = amount.value();
            sats.rescale(BTC_DECIMALS);
            u64::try_from(sats.mantissa()).unwrap_or(0)
        }
        _ => 0,
    }
}
