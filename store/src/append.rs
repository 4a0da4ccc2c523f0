//! Appending a batch of events in one statement, and the set-based reads a batch needs: the
//! events of several operation ids and the last sequences of several aggregates (their
//! streams load from snapshots: `crate::snapshot`).
//!
//! One multi-row INSERT is one implicit transaction: every event of the batch becomes
//! durable in one commit, or none does. A unique violation (an aggregate's next sequence or
//! an operation id taken by another append) refuses the whole batch, which the caller then
//! decides again on fresh state.
//!
//! The reads are planned afresh on every call (`query_typed`, an unnamed statement, still one
//! round trip): a plan cached while the log was small scans it whole once it is large.
//!
//! JSON goes in through `jsonb`, as postgres-es always stored it: the same normalised text,
//! and text PostgreSQL cannot hold (a NUL character) is refused before it becomes an event.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use serde_json::Value;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

use crate::error::StoreError;
use crate::log::{StoredEvent, EVENT_COLUMNS};

/// Most events one append may carry: bounds the statement's size and the time a batch holds
/// its row locks.
pub const MAX_APPEND_EVENTS: usize = 4_096;

/// An event to append, at the sequence after its aggregate's last one.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub aggregate_type: &'static str,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Another append took one of the batch's sequences or operation ids first.
    #[error("another append took a sequence or an operation id of this batch")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<tokio_postgres::Error> for AppendError {
    fn from(error: tokio_postgres::Error) -> Self {
        if error.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            Self::Conflict
        } else {
            Self::Store(StoreError::Database(error))
        }
    }
}

const APPEND: &str = "INSERT INTO events \
       (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
     SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload::jsonb::json, metadata::jsonb::json \
     FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) \
       AS batch (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
     RETURNING aggregate_type, aggregate_id, sequence, global_position, tx_id::text::bigint AS tx, recorded_at";

/// Appends `events` atomically, in order; returns them as stored, in the same order.
pub async fn append(client: &impl GenericClient, events: &[NewEvent]) -> Result<Vec<StoredEvent>, AppendError> {
    assert!(events.len() <= MAX_APPEND_EVENTS, "a batch holds at most {MAX_APPEND_EVENTS} events");
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let column = |field: fn(&NewEvent) -> String| events.iter().map(field).collect::<Vec<String>>();
    let types = column(|event| event.aggregate_type.to_string());
    let ids = column(|event| event.aggregate_id.clone());
    let sequences: Vec<i64> = events.iter().map(|event| event.sequence).collect();
    let event_types = column(|event| event.event_type.clone());
    let versions = column(|event| event.event_version.clone());
    let payloads = column(|event| event.payload.to_string());
    let metadata = column(|event| event.metadata.to_string());
    let statement = client.prepare_cached(APPEND).await.map_err(StoreError::from)?;
    let rows =
        client.query(&statement, &[&types, &ids, &sequences, &event_types, &versions, &payloads, &metadata]).await?;
    assert_eq!(rows.len(), events.len(), "an INSERT returns one row per inserted event");
    let mut slots: HashMap<(String, String, i64), &tokio_postgres::Row> = rows
        .iter()
        .map(|row| ((row.get("aggregate_type"), row.get("aggregate_id"), row.get("sequence")), row))
        .collect();
    let stored = events
        .iter()
        .map(|event| {
            let key = (event.aggregate_type.to_string(), event.aggregate_id.clone(), event.sequence);
            let row = slots.remove(&key).expect("every appended event is returned once");
            StoredEvent {
                position: row.get("global_position"),
                tx_id: row.get("tx"),
                aggregate_type: key.0,
                aggregate_id: key.1,
                sequence: key.2,
                event_type: event.event_type.clone(),
                event_version: event.event_version.clone(),
                payload: event.payload.clone(),
                metadata: event.metadata.clone(),
                recorded_at: row.get("recorded_at"),
            }
        })
        .collect();
    Ok(stored)
}

/// The events appended under any of `operation_ids` (at most one each; migration 0001).
pub async fn find_operations(client: &Client, operation_ids: &[String]) -> Result<Vec<StoredEvent>, StoreError> {
    if operation_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = client.query_typed(&find_operations_sql(), &[(&operation_ids, Type::TEXT_ARRAY)]).await?;
    Ok(rows.iter().map(StoredEvent::from_row).collect())
}

/// The statement of `find_operations`, $1 the ids: one unique-index probe per id, whatever
/// the planner estimates for the array (`OFFSET 0` keeps the subquery from being merged
/// into a join). The IS NOT NULL repeats the partial index's predicate so it can be used.
pub fn find_operations_sql() -> String {
    let columns = EVENT_COLUMNS.replace(", ", ", found.");
    format!(
        "SELECT found.{columns} FROM unnest($1::text[]) AS wanted (operation_id) \
         CROSS JOIN LATERAL (SELECT * FROM events \
           WHERE metadata ->> 'operation_id' = wanted.operation_id \
             AND metadata ->> 'operation_id' IS NOT NULL OFFSET 0) AS found"
    )
}

/// The statement of `last_sequences`, $1 the aggregate type and $2 the ids: the newest
/// entry of each aggregate's primary-key range, read backwards, so its cost does not grow
/// with the aggregate's history (a `max` over `= ANY` reads the whole range).
pub const LAST_SEQUENCES_SQL: &str = "SELECT wanted.aggregate_id, newest.sequence \
     FROM unnest($2::text[]) AS wanted (aggregate_id) \
     CROSS JOIN LATERAL (SELECT sequence FROM events \
       WHERE aggregate_type = $1 AND aggregate_id = wanted.aggregate_id \
       ORDER BY sequence DESC LIMIT 1) AS newest";

/// The last sequence of each named aggregate of one type that has events.
pub async fn last_sequences(
    client: &Client,
    aggregate_type: &str,
    aggregate_ids: &[String],
) -> Result<HashMap<String, i64>, StoreError> {
    let rows = client
        .query_typed(LAST_SEQUENCES_SQL, &[(&aggregate_type, Type::TEXT), (&aggregate_ids, Type::TEXT_ARRAY)])
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}
