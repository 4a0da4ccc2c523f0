//! The hash chain over the event log (migration 0007, ADR 13). `content_hash` mirrors the
//! SQL function `event_content_hash` byte for byte, so anyone holding an export can check
//! every event and every link without the database.

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use sha2::{Digest, Sha256};

use crate::engine::EventHandler;
use crate::error::ProjectionError;
use store::StoredEvent;

pub type Hash = [u8; 32];

/// The link before the first event.
pub const GENESIS: Hash = [0; 32];

/// The fields an event's hash covers, with its JSON exactly as stored.
#[derive(Debug, Clone)]
pub struct EventContent<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub sequence: i64,
    pub event_type: &'a str,
    pub event_version: &'a str,
    pub payload_json: &'a str,
    pub metadata_json: &'a str,
    pub recorded_at: DateTime<Utc>,
}

pub fn content_hash(content: &EventContent<'_>) -> Hash {
    let sequence = content.sequence.to_string();
    let recorded_at = content.recorded_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let fields = [
        "ledger-event-v1",
        content.aggregate_type,
        content.aggregate_id,
        &sequence,
        content.event_type,
        content.event_version,
        content.payload_json,
        content.metadata_json,
        &recorded_at,
    ];
    let mut hasher = Sha256::new();
    for field in fields {
        hasher.update(format!("{}:", field.len()).as_bytes());
        hasher.update(field.as_bytes());
        hasher.update(b";");
    }
    hasher.finalize().into()
}

/// The chain hash of the event at `position` after the link `previous`.
pub fn link(previous: &Hash, position: i64, event_hash: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(position.to_be_bytes());
    hasher.update(event_hash);
    hasher.finalize().into()
}

pub fn to_hash(bytes: &[u8]) -> Option<Hash> {
    bytes.try_into().ok()
}

/// Seals events into `event_chain` in commit order. Runs once per cluster (the engine's
/// leader election); each batch, its links and its checkpoint commit together.
pub struct ChainSealer;

/// Least time between two sealed batches.
pub const SEAL_INTERVAL_MS: u64 = 100;

impl ChainSealer {
    pub const NAME: &'static str = "event_chain";
}

impl EventHandler for ChainSealer {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    /// Sealing can trail the log by a moment; sealing larger batches costs fewer statements.
    fn min_batch_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(SEAL_INTERVAL_MS)
    }

    async fn handle_batch(&self, tx: &Transaction<'_>, events: &[StoredEvent]) -> Result<(), ProjectionError> {
        if events.is_empty() {
            return Ok(());
        }
        let head = tx
            .query_opt("SELECT chain_index, chain_hash FROM event_chain ORDER BY chain_index DESC LIMIT 1", &[])
            .await?;
        let (mut index, mut previous) = match head {
            Some(row) => (row.get::<_, i64>(0), to_hash(row.get::<_, &[u8]>(1)).ok_or_else(|| corrupt(0))?),
            None => (0, GENESIS),
        };
        let positions: Vec<i64> = events.iter().map(|event| event.position).collect();
        let rows = tx
            .query("SELECT global_position, event_hash FROM events WHERE global_position = ANY($1)", &[&positions])
            .await?;
        let hashes: std::collections::HashMap<i64, Vec<u8>> = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
        let (mut indexes, mut event_hashes, mut chain_hashes) = (Vec::new(), Vec::new(), Vec::new());
        for position in &positions {
            let event_hash = hashes.get(position).and_then(|bytes| to_hash(bytes)).ok_or_else(|| corrupt(*position))?;
            index += 1;
            previous = link(&previous, *position, &event_hash);
            indexes.push(index);
            event_hashes.push(event_hash.to_vec());
            chain_hashes.push(previous.to_vec());
        }
        tx.execute(
            "INSERT INTO event_chain (chain_index, global_position, event_hash, chain_hash) \
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[])",
            &[&indexes, &positions, &event_hashes, &chain_hashes],
        )
        .await?;
        Ok(())
    }
}

fn corrupt(position: i64) -> ProjectionError {
    ProjectionError::Store(store::StoreError::Undecodable {
        position,
        event_type: String::new(),
        version: String::new(),
        reason: "missing or malformed hash".into(),
    })
}
