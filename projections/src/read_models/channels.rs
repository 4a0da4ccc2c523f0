use deadpool_postgres::GenericClient;
use domain::lightning::ChannelEvent;
use domain::Scale;
use rust_decimal::Decimal;

use super::at_scale;
use crate::engine::EventProjector;
use crate::error::ProjectionError;
use crate::writes::Writes;
use store::StoredEvent;

/// `channels`: each Lightning channel, its state, capacity and balance.
pub struct ChannelsProjector;

impl ChannelsProjector {
    pub const NAME: &'static str = "channels";
}

fn btc(sat: u64) -> String {
    let scale = Scale::new(8).expect("BTC has 8 decimals");
    at_scale(Decimal::from(sat) / Decimal::from(100_000_000_u64), scale)
}

impl EventProjector for ChannelsProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn handle(
        &self,
        tx: &impl GenericClient,
        writes: &mut Writes,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        if event.aggregate_type != "channel" {
            return Ok(());
        }
        let decoded: ChannelEvent = event.decode()?;
        let state = decoded.state().name();
        let state_height = i64::try_from(decoded.height()).unwrap_or(i64::MAX);
        match decoded {
            ChannelEvent::ChannelOpened { owner, remote_node, capacity_sat, .. } => {
                writes.push(
                    tx,
                    "INSERT INTO channels (channelpoint, owner, remote_node, state, capacity, balance, last_tx_id, last_position, updated_at, state_height) \
                     VALUES ($1, $2, $3, $4, $5::text::numeric, $5::text::numeric, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                    &[&event.aggregate_id, &owner, &remote_node, &state, &btc(capacity_sat), &event.tx_id, &event.position, &event.recorded_at, &state_height],
                )
                .await?;
            }
            ChannelEvent::ChannelClosed { returned_sat, .. } => {
                writes.push(
                    tx,
                    "UPDATE channels SET state = $2, balance = $3::text::numeric, last_tx_id = $4, last_position = $5, updated_at = $6, state_height = $7 \
                     WHERE channelpoint = $1 AND (last_tx_id, last_position) < ($4, $5)",
                    &[&event.aggregate_id, &state, &btc(returned_sat), &event.tx_id, &event.position, &event.recorded_at, &state_height],
                )
                .await?;
            }
            _ => {
                writes.push(
                    tx,
                    "UPDATE channels SET state = $2, last_tx_id = $3, last_position = $4, updated_at = $5, state_height = $6 \
                     WHERE channelpoint = $1 AND (last_tx_id, last_position) < ($3, $4)",
                    &[&event.aggregate_id, &state, &event.tx_id, &event.position, &event.recorded_at, &state_height],
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// One channel as a user's wallet lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelRow {
    pub channelpoint: String,
    pub remote_node: String,
    pub state: String,
    pub balance: Decimal,
    pub capacity: Decimal,
    /// The block height at which the channel entered its state.
    pub state_height: i64,
}

/// A user's channels, most recently changed first.
pub async fn of_owner(
    client: &impl GenericClient,
    owner: &str,
    limit: i64,
) -> Result<Vec<ChannelRow>, ProjectionError> {
    let rows = client
        .query(
            "SELECT channelpoint, remote_node, state, balance, capacity, state_height FROM channels WHERE owner = $1 \
             ORDER BY updated_at DESC LIMIT $2",
            &[&owner, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| ChannelRow {
            channelpoint: row.get(0),
            remote_node: row.get(1),
            state: row.get(2),
            balance: row.get(3),
            capacity: row.get(4),
            state_height: row.get(5),
        })
        .collect())
}

/// Channel points of channels still opening or closing.
pub async fn in_flight(client: &impl GenericClient, limit: i64) -> Result<Vec<String>, ProjectionError> {
    let rows = client
        .query("SELECT channelpoint FROM channels WHERE state IN ('pending', 'closing') LIMIT $1", &[&limit])
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}
