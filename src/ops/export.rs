//! `ledger export --after <position>`: the sealed history as NDJSON, one event a line in
//! chain order, each with its content hash and chain link; `ledger verify-export <file>`
//! checks such a file with no database at all.

use std::io::{BufRead, Write};

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use projections::chain::{content_hash, link, to_hash, EventContent, Hash, GENESIS};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use app::AppError;

/// Events read per round trip.
const EXPORT_PAGE_EVENTS: i64 = 2_000;
/// Longest line `verify-export` accepts.
const MAX_EXPORT_LINE_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
pub struct ExportedEvent {
    pub chain_index: i64,
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// Exactly as stored: the hash covers this text.
    pub payload: Box<RawValue>,
    pub metadata: Box<RawValue>,
    pub recorded_at: DateTime<Utc>,
    pub event_hash: String,
    pub previous_chain_hash: String,
    pub chain_hash: String,
}

/// Writes every sealed event after the one at `after` (0: from the start); answers how many.
pub async fn export(
    reads: &Pool,
    after: i64,
    out: &mut impl Write,
    progress: &dyn Fn(u64, u64),
) -> Result<u64, AppError> {
    let client = reads.get().await?;
    let start: i64 = if after == 0 {
        0
    } else {
        let row = client.query_opt("SELECT chain_index FROM event_chain WHERE global_position = $1", &[&after]).await?;
        row.map(|row| row.get(0))
            .ok_or_else(|| AppError::invalid("unknown_position", format!("event {after} is not sealed in the chain")))?
    };
    let total: i64 =
        client.query_one("SELECT count(*) FROM event_chain WHERE chain_index > $1", &[&start]).await?.get(0);
    let mut previous: Hash = if start == 0 {
        GENESIS
    } else {
        let row = client.query_one("SELECT chain_hash FROM event_chain WHERE chain_index = $1", &[&start]).await?;
        to_hash(row.get::<_, &[u8]>(0)).ok_or_else(|| AppError::Internal("malformed chain hash".into()))?
    };
    let (mut cursor, mut written) = (start, 0_u64);
    loop {
        let rows = client
            .query(
                "SELECT c.chain_index, e.global_position, e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, e.event_version, \
                        e.payload::text, e.metadata::text, e.recorded_at, c.event_hash, c.chain_hash \
                 FROM event_chain c JOIN events e ON e.global_position = c.global_position \
                 WHERE c.chain_index > $1 ORDER BY c.chain_index LIMIT $2",
                &[&cursor, &EXPORT_PAGE_EVENTS],
            )
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let raw = |text: String| {
                RawValue::from_string(text).map_err(|error| AppError::Internal(format!("stored JSON: {error}")))
            };
            let chain_hash: Vec<u8> = row.get(11);
            let line = ExportedEvent {
                chain_index: row.get(0),
                position: row.get(1),
                aggregate_type: row.get(2),
                aggregate_id: row.get(3),
                sequence: row.get(4),
                event_type: row.get(5),
                event_version: row.get(6),
                payload: raw(row.get(7))?,
                metadata: raw(row.get(8))?,
                recorded_at: row.get(9),
                event_hash: hex::encode(row.get::<_, &[u8]>(10)),
                previous_chain_hash: hex::encode(previous),
                chain_hash: hex::encode(&chain_hash),
            };
            cursor = line.chain_index;
            previous = to_hash(&chain_hash).ok_or_else(|| AppError::Internal("malformed chain hash".into()))?;
            serde_json::to_writer(&mut *out, &line).map_err(|error| AppError::Internal(error.to_string()))?;
            out.write_all(b"\n").map_err(|error| AppError::Internal(error.to_string()))?;
            written += 1;
        }
        progress(written, u64::try_from(total).unwrap_or(0));
    }
    out.flush().map_err(|error| AppError::Internal(error.to_string()))?;
    Ok(written)
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every line checks out; the chain's last link.
    Intact { events: u64, head: Option<String> },
    /// The first line that does not, and why.
    Broken { line: u64, position: Option<i64>, reason: String },
}

/// Checks every line's content hash and the links between lines. The first line's
/// `previous_chain_hash` is the anchor: compare it with a head you trust.
pub fn verify(input: impl BufRead) -> Verdict {
    let mut previous: Option<String> = None;
    let mut index: Option<i64> = None;
    let mut checked = 0_u64;
    for (number, line) in input.lines().enumerate() {
        let number = number as u64 + 1;
        let broken = |position: Option<i64>, reason: String| Verdict::Broken { line: number, position, reason };
        let line = match line {
            Ok(line) if line.len() <= MAX_EXPORT_LINE_BYTES => line,
            Ok(_) => return broken(None, "line too long".into()),
            Err(error) => return broken(None, error.to_string()),
        };
        let event: ExportedEvent = match serde_json::from_str(&line) {
            Ok(event) => event,
            Err(error) => return broken(None, format!("not an exported event: {error}")),
        };
        let position = Some(event.position);
        let content = EventContent {
            aggregate_type: &event.aggregate_type,
            aggregate_id: &event.aggregate_id,
            sequence: event.sequence,
            event_type: &event.event_type,
            event_version: &event.event_version,
            payload_json: event.payload.get(),
            metadata_json: event.metadata.get(),
            recorded_at: event.recorded_at,
        };
        let event_hash = content_hash(&content);
        if hex::encode(event_hash) != event.event_hash {
            return broken(position, "the event does not match its hash".into());
        }
        if previous.as_ref().is_some_and(|previous| *previous != event.previous_chain_hash)
            || index.is_some_and(|index| index + 1 != event.chain_index)
        {
            return broken(position, "the event does not follow the line before it".into());
        }
        let anchor = match hex::decode(&event.previous_chain_hash).ok().and_then(|bytes| to_hash(&bytes)) {
            Some(anchor) => anchor,
            None => return broken(position, "malformed previous_chain_hash".into()),
        };
        if event.chain_index == 1 && anchor != GENESIS {
            return broken(position, "the first link does not start from the genesis hash".into());
        }
        if hex::encode(link(&anchor, event.position, &event_hash)) != event.chain_hash {
            return broken(position, "the chain hash does not follow from the previous link".into());
        }
        previous = Some(event.chain_hash);
        index = Some(event.chain_index);
        checked += 1;
    }
    Verdict::Intact { events: checked, head: previous }
}
