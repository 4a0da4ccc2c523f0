//! Reading the event log. Order is (tx_id, global_position), fenced below the oldest running
//! transaction: an append that took position 16 but commits after the one that took 17 has a
//! smaller tx_id, so it can never be passed over (docs/adr/0002-commit-order.md).

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_postgres::Row;

use crate::checkpoint::Checkpoint;
use crate::error::StoreError;

/// Largest batch a reader takes from the log at once.
pub const MAX_BATCH_EVENTS: i64 = 1_000;
/// Largest page a replay (`ledger replay`, a rebuild) reads at once: fewer, larger
/// transactions when nobody waits for the next event.
pub const MAX_REPLAY_BATCH_EVENTS: i64 = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub position: i64,
    pub tx_id: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
}

impl StoredEvent {
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint { tx_id: self.tx_id, position: self.position }
    }

    /// Decodes the payload into a domain event: read as its `event_type` at its
    /// `event_version`, upcast to today's shape (`crate::upcast`).
    pub fn decode<E: DeserializeOwned>(&self) -> Result<E, StoreError> {
        let undecodable = |reason: String| StoreError::Undecodable {
            position: self.position,
            event_type: self.event_type.clone(),
            version: self.event_version.clone(),
            reason,
        };
        let payload =
            crate::upcast::upcast(&self.event_type, &self.event_version, &self.payload).map_err(undecodable)?;
        // Deserialised from the borrowed value: no copy of the payload per decode.
        E::deserialize(payload.as_ref()).map_err(|error| undecodable(error.to_string()))
    }

    pub fn operation_id(&self) -> Option<&str> {
        self.metadata.get("operation_id").and_then(Value::as_str)
    }

    pub(crate) fn from_row(row: &Row) -> Self {
        Self {
            position: row.get("global_position"),
            tx_id: row.get("tx"),
            aggregate_type: row.get("aggregate_type"),
            aggregate_id: row.get("aggregate_id"),
            sequence: row.get("sequence"),
            event_type: row.get("event_type"),
            event_version: row.get("event_version"),
            payload: row.get("payload"),
            metadata: row.get("metadata"),
            recorded_at: row.get("recorded_at"),
        }
    }
}

pub(crate) const EVENT_COLUMNS: &str = "global_position, tx_id::text::bigint AS tx, aggregate_type, aggregate_id, \
     sequence, event_type, event_version, payload, metadata, recorded_at";

/// The next events after `after`, up to `limit`, that are final: every transaction that
/// could still add an event before them has ended. `until` bounds the read (inclusive).
pub async fn read_after(
    client: &impl GenericClient,
    after: Checkpoint,
    until: Option<Checkpoint>,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let until = until.unwrap_or(Checkpoint { tx_id: i64::MAX, position: i64::MAX });
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events \
         WHERE (tx_id, global_position) > ($1::text::xid8, $2) \
           AND (tx_id, global_position) <= ($3::text::xid8, $4) \
           AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
         ORDER BY tx_id, global_position LIMIT $5"
    );
    let rows = client
        .query(
            &client.prepare_cached(&sql).await?,
            &[
                &after.tx_id.to_string(),
                &after.position,
                &until.tx_id.to_string(),
                &until.position,
                &limit.min(MAX_REPLAY_BATCH_EVENTS),
            ],
        )
        .await?;
    Ok(rows.iter().map(StoredEvent::from_row).collect())
}

/// The event at `position`, if it exists and is final.
pub async fn find_by_position(client: &impl GenericClient, position: i64) -> Result<Option<StoredEvent>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE global_position = $1 \
           AND tx_id < pg_snapshot_xmin(pg_current_snapshot())"
    );
    Ok(client.query_opt(&client.prepare_cached(&sql).await?, &[&position]).await?.as_ref().map(StoredEvent::from_row))
}

/// The last final checkpoint in the log: where a reader that has read everything stands.
pub async fn head(client: &impl GenericClient) -> Result<Checkpoint, StoreError> {
    let row = client
        .query_one(
            "SELECT coalesce(max(tx_id::text::bigint), 0) AS tx, coalesce(max(global_position), 0) AS position \
             FROM (SELECT tx_id, global_position FROM events \
                   WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
                   ORDER BY tx_id DESC, global_position DESC LIMIT 1) last",
            &[],
        )
        .await?;
    Ok(Checkpoint { tx_id: row.get("tx"), position: row.get("position") })
}

/// How many final events lie after `after`: the work left for a reader.
pub async fn count_after(client: &impl GenericClient, after: Checkpoint) -> Result<i64, StoreError> {
    let row = client
        .query_one(
            "SELECT count(*) FROM events WHERE (tx_id, global_position) > ($1::text::xid8, $2) \
               AND tx_id < pg_snapshot_xmin(pg_current_snapshot())",
            &[&after.tx_id.to_string(), &after.position],
        )
        .await?;
    Ok(row.get(0))
}

/// Whether the log holds transaction ids this cluster has not handed out yet. That happens
/// when a logical dump is restored into another cluster whose transaction counter is behind:
/// new appends would then sort before old events in commit order, and readers that already
/// passed those positions would never see them. A server must not append to such a log.
pub async fn is_ahead_of_cluster(client: &impl GenericClient) -> Result<bool, StoreError> {
    let row = client
        .query_opt(
            "SELECT tx_id >= pg_snapshot_xmax(pg_current_snapshot()) FROM events ORDER BY tx_id DESC LIMIT 1",
            &[],
        )
        .await?;
    Ok(row.is_some_and(|row| row.get(0)))
}
