//! Snapshots (migration 0014, docs/adr/0024-snapshots.md): an aggregate's state after the
//! event at a sequence, so a cold load reads one row and the few events after it instead
//! of the whole history.
//!
//! A snapshot is a cache, never the truth. A load uses one only if it is at the code's
//! state version for its type, reads back as the aggregate, and the event at its sequence
//! still exists; otherwise the aggregate is folded from its first event. The committers
//! write them after their batches are durable, off the requests' path.

use std::collections::{HashMap, HashSet};

use cqrs_es::Aggregate;
use serde_json::Value;
use tokio_postgres::types::Type;
use tokio_postgres::Client;
use tracing::warn;

use crate::error::StoreError;
use crate::log::{StoredEvent, EVENT_COLUMNS};

/// An aggregate gets a new snapshot once this many events have followed its last one: a
/// cold load applies fewer than this many events, whatever the history's length.
pub const SNAPSHOT_EVERY_EVENTS: i64 = 100;
/// Most snapshots one statement saves.
pub const MAX_SNAPSHOTS_PER_SAVE: usize = 1_000;

/// An aggregate as loaded: its state, the sequence of its last event, and the sequence of
/// the snapshot it was loaded from (0: folded from the first event).
#[derive(Debug, Clone, Default)]
pub struct Stream<A> {
    pub aggregate: A,
    pub sequence: i64,
    pub snapshot_sequence: i64,
}

/// A snapshot to save: the state (serialized) after the event at `sequence`.
#[derive(Debug, Clone)]
pub struct NewSnapshot {
    pub aggregate_id: String,
    pub sequence: i64,
    pub state: Value,
}

/// A snapshot as stored, whatever its version.
#[derive(Debug, Clone)]
pub struct StoredSnapshot {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub state_version: i32,
    pub state: Value,
}

/// Each named aggregate of `A`'s type as its events leave it: from its newest usable
/// snapshot, plus the events after it. Aggregates without events load as new.
pub async fn load_streams<A: Aggregate>(
    client: &Client,
    state_version: i32,
    aggregate_ids: &[String],
) -> Result<HashMap<String, Stream<A>>, StoreError> {
    let mut starts: HashMap<String, Stream<A>> =
        aggregate_ids.iter().map(|id| (id.clone(), Stream::default())).collect();
    for snapshot in stored(client, A::TYPE, aggregate_ids).await? {
        if let Some(start) = usable::<A>(snapshot, state_version) {
            starts.insert(start.0, start.1);
        }
    }
    let (mut loaded, orphaned) = fold_from(client, starts).await?;
    if !orphaned.is_empty() {
        let fresh = orphaned.into_iter().map(|id| (id, Stream::default())).collect();
        loaded.extend(fold_from(client, fresh).await?.0);
    }
    Ok(loaded)
}

/// The snapshot as a starting point, if it is at `state_version` and reads back.
fn usable<A: Aggregate>(snapshot: StoredSnapshot, state_version: i32) -> Option<(String, Stream<A>)> {
    if snapshot.state_version != state_version {
        crate::metrics::snapshots(A::TYPE, "other_version", 1);
        return None;
    }
    match serde_json::from_value::<A>(snapshot.state) {
        Ok(aggregate) => {
            crate::metrics::snapshots(A::TYPE, "loaded", 1);
            let sequence = snapshot.sequence;
            Some((snapshot.aggregate_id, Stream { aggregate, sequence, snapshot_sequence: sequence }))
        }
        Err(error) => {
            crate::metrics::snapshots(A::TYPE, "unreadable", 1);
            warn!(aggregate = A::TYPE, id = %snapshot.aggregate_id, %error, "a snapshot does not read back; folding from the first event");
            None
        }
    }
}

/// Applies to each start the events after it. The event at a snapshot's own sequence is
/// read too, to prove the log still holds it; the ids whose event is gone come back apart,
/// for the caller to fold again from the first event.
async fn fold_from<A: Aggregate>(
    client: &Client,
    mut starts: HashMap<String, Stream<A>>,
) -> Result<(HashMap<String, Stream<A>>, HashSet<String>), StoreError> {
    let (ids, from): (Vec<String>, Vec<i64>) = starts.iter().map(|(id, start)| (id.clone(), start.sequence)).unzip();
    // Starts from a snapshot whose own event has not been read yet.
    let mut unconfirmed: HashSet<String> =
        starts.iter().filter(|(_, start)| start.snapshot_sequence > 0).map(|(id, _)| id.clone()).collect();
    let mut orphaned = HashSet::new();
    for event in events_from(client, A::TYPE, &ids, &from).await? {
        if orphaned.contains(&event.aggregate_id) {
            continue;
        }
        let stream = starts.get_mut(&event.aggregate_id).expect("only the named aggregates are read");
        if unconfirmed.remove(&event.aggregate_id) {
            if event.sequence != stream.snapshot_sequence {
                orphaned.insert(event.aggregate_id.clone());
            }
            continue;
        }
        apply_next(stream, &event)?;
    }
    orphaned.extend(unconfirmed);
    for id in &orphaned {
        crate::metrics::snapshots(A::TYPE, "orphaned", 1);
        warn!(aggregate = A::TYPE, %id, "the log no longer holds a snapshot's event; folding from the first event");
    }
    Ok((starts, orphaned))
}

/// Applies `event`, which must be the one after the stream's last.
fn apply_next<A: Aggregate>(stream: &mut Stream<A>, event: &StoredEvent) -> Result<(), StoreError> {
    if event.sequence != stream.sequence + 1 {
        return Err(StoreError::Undecodable {
            position: event.position,
            event_type: event.event_type.clone(),
            version: event.event_version.clone(),
            reason: format!(
                "{} {} skips from sequence {} to {}",
                A::TYPE,
                event.aggregate_id,
                stream.sequence,
                event.sequence
            ),
        });
    }
    stream.aggregate.apply(event.decode()?);
    stream.sequence = event.sequence;
    Ok(())
}

/// The events of each named aggregate from its sequence in `from` on, by aggregate and
/// sequence: one primary-key range scan per aggregate.
async fn events_from(
    client: &Client,
    aggregate_type: &str,
    aggregate_ids: &[String],
    from: &[i64],
) -> Result<Vec<StoredEvent>, StoreError> {
    if aggregate_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = client
        .query_typed(
            &events_from_sql(),
            &[(&aggregate_type, Type::TEXT), (&aggregate_ids, Type::TEXT_ARRAY), (&from, Type::INT8_ARRAY)],
        )
        .await?;
    Ok(rows.iter().map(StoredEvent::from_row).collect())
}

/// The statement of `events_from`: $1 the aggregate type, $2 the ids, $3 the first
/// sequence of each. The `OFFSET 0` keeps the subquery apart, so each aggregate is one
/// range of the primary key: merged into a join, the planner may hash the whole log, which
/// it estimates cheaper once a log holds long histories (the sequences are unknown to it).
pub fn events_from_sql() -> String {
    let columns = EVENT_COLUMNS.replace(", ", ", found.");
    format!(
        "SELECT found.{columns} FROM unnest($2::text[], $3::int8[]) AS wanted (aggregate_id, from_sequence) \
         CROSS JOIN LATERAL (SELECT * FROM events \
           WHERE aggregate_type = $1 AND aggregate_id = wanted.aggregate_id AND sequence >= wanted.from_sequence \
           OFFSET 0) AS found \
         ORDER BY found.aggregate_id, found.sequence"
    )
}

/// The stored snapshots of the named aggregates, at any version.
async fn stored(
    client: &Client,
    aggregate_type: &str,
    aggregate_ids: &[String],
) -> Result<Vec<StoredSnapshot>, StoreError> {
    if aggregate_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = client
        .query_typed(
            "SELECT aggregate_type, aggregate_id, sequence, state_version, state FROM aggregate_snapshots \
             WHERE aggregate_type = $1 AND aggregate_id = ANY($2)",
            &[(&aggregate_type, Type::TEXT), (&aggregate_ids, Type::TEXT_ARRAY)],
        )
        .await?;
    Ok(rows.iter().map(snapshot_from_row).collect())
}

fn snapshot_from_row(row: &tokio_postgres::Row) -> StoredSnapshot {
    StoredSnapshot {
        aggregate_type: row.get(0),
        aggregate_id: row.get(1),
        sequence: row.get(2),
        state_version: row.get(3),
        state: row.get(4),
    }
}

/// Saves `snapshots` of one aggregate type in one statement. A stored snapshot is replaced
/// by one at the same or a later sequence, by one at another version, or when the log no
/// longer holds its event: two writers never step back, and one a load passed over is
/// taken again.
pub async fn save(
    client: &Client,
    aggregate_type: &str,
    state_version: i32,
    snapshots: &[NewSnapshot],
) -> Result<u64, StoreError> {
    assert!(snapshots.len() <= MAX_SNAPSHOTS_PER_SAVE, "at most {MAX_SNAPSHOTS_PER_SAVE} snapshots a statement");
    if snapshots.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&str> = snapshots.iter().map(|snapshot| snapshot.aggregate_id.as_str()).collect();
    let sequences: Vec<i64> = snapshots.iter().map(|snapshot| snapshot.sequence).collect();
    let states: Vec<&Value> = snapshots.iter().map(|snapshot| &snapshot.state).collect();
    let saved = client
        .execute(
            "INSERT INTO aggregate_snapshots (aggregate_type, aggregate_id, sequence, state_version, state) \
             SELECT $1::text, id, sequence, $2::int4, state FROM unnest($3::text[], $4::int8[], $5::jsonb[]) AS new (id, sequence, state) \
             ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE \
               SET sequence = excluded.sequence, state_version = excluded.state_version, state = excluded.state, taken_at = now() \
               WHERE aggregate_snapshots.sequence <= excluded.sequence \
                  OR aggregate_snapshots.state_version <> excluded.state_version \
                  OR NOT EXISTS (SELECT FROM events e WHERE e.aggregate_type = aggregate_snapshots.aggregate_type \
                       AND e.aggregate_id = aggregate_snapshots.aggregate_id AND e.sequence = aggregate_snapshots.sequence)",
            &[&aggregate_type, &state_version, &ids, &sequences, &states],
        )
        .await?;
    Ok(saved)
}

/// What is wrong with one stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSnapshot {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub problem: String,
}

/// The snapshots of one aggregate type, checked against the events.
#[derive(Debug, Default)]
pub struct SnapshotCheck {
    /// Snapshots at the code's state version, each compared with a fold of its events.
    pub checked: u64,
    /// Snapshots at another version: loads ignore them, a rebuild replaces them.
    pub other_version: u64,
    pub bad: Vec<BadSnapshot>,
}

/// Snapshots read per round trip by the check.
const CHECK_PAGE_SNAPSHOTS: i64 = 500;
/// Events read per round trip when an aggregate is folded from its first event.
const FOLD_PAGE_EVENTS: i64 = 10_000;

/// How many snapshots of `aggregate_type` there are.
pub async fn count(client: &Client, aggregate_type: &str) -> Result<u64, StoreError> {
    let row = client
        .query_typed(
            "SELECT count(*) FROM aggregate_snapshots WHERE aggregate_type = $1",
            &[(&aggregate_type, Type::TEXT)],
        )
        .await?;
    Ok(u64::try_from(row[0].get::<_, i64>(0)).unwrap_or(0))
}

/// Compares every snapshot of `A`'s type at `state_version` with the fold of the
/// aggregate's events up to the snapshot's sequence. `on_checked` hears of each snapshot.
pub async fn check<A: Aggregate + PartialEq>(
    client: &Client,
    state_version: i32,
    on_checked: &mut (dyn FnMut() + Send),
) -> Result<SnapshotCheck, StoreError> {
    let mut report = SnapshotCheck::default();
    let mut after = String::new();
    loop {
        let rows = client
            .query_typed(
                "SELECT aggregate_type, aggregate_id, sequence, state_version, state FROM aggregate_snapshots \
                 WHERE aggregate_type = $1 AND aggregate_id > $2 ORDER BY aggregate_id LIMIT $3",
                &[(&A::TYPE, Type::TEXT), (&after, Type::TEXT), (&CHECK_PAGE_SNAPSHOTS, Type::INT8)],
            )
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.get(1);
        for snapshot in rows.iter().map(snapshot_from_row) {
            on_checked();
            if snapshot.state_version != state_version {
                report.other_version += 1;
                continue;
            }
            report.checked += 1;
            if let Some(problem) = compare::<A>(client, &snapshot).await? {
                report.bad.push(BadSnapshot {
                    aggregate_type: snapshot.aggregate_type,
                    aggregate_id: snapshot.aggregate_id,
                    sequence: snapshot.sequence,
                    problem,
                });
            }
        }
    }
    Ok(report)
}

/// What differs between `snapshot` and the fold of its events, if anything.
async fn compare<A: Aggregate + PartialEq>(
    client: &Client,
    snapshot: &StoredSnapshot,
) -> Result<Option<String>, StoreError> {
    let folded = match fold_history::<A>(client, &snapshot.aggregate_id, snapshot.sequence).await {
        Ok(folded) => folded,
        Err(StoreError::Undecodable { reason, .. }) => return Ok(Some(format!("its events do not fold: {reason}"))),
        Err(error) => return Err(error),
    };
    if folded.sequence < snapshot.sequence {
        return Ok(Some(format!("the log ends at sequence {}, before the snapshot", folded.sequence)));
    }
    let stored = match serde_json::from_value::<A>(snapshot.state.clone()) {
        Ok(stored) => stored,
        Err(error) => return Ok(Some(format!("the state does not read back: {error}"))),
    };
    Ok((stored != folded.aggregate).then(|| "the state differs from the fold of its events".to_string()))
}

/// `aggregate_id`'s state after its event at `until` (or its last, if earlier), folded from
/// its first event a page at a time.
pub async fn fold_history<A: Aggregate>(
    client: &Client,
    aggregate_id: &str,
    until: i64,
) -> Result<Stream<A>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 \
         AND sequence > $3 AND sequence <= $4 ORDER BY sequence LIMIT $5"
    );
    let mut stream = Stream::<A>::default();
    loop {
        let rows = client
            .query_typed(
                &sql,
                &[
                    (&A::TYPE, Type::TEXT),
                    (&aggregate_id, Type::TEXT),
                    (&stream.sequence, Type::INT8),
                    (&until, Type::INT8),
                    (&FOLD_PAGE_EVENTS, Type::INT8),
                ],
            )
            .await?;
        if rows.is_empty() {
            return Ok(stream);
        }
        for event in rows.iter().map(StoredEvent::from_row) {
            apply_next(&mut stream, &event)?;
        }
    }
}

/// Replaces every snapshot of `A`'s type by one folded from the events, at the last event
/// of each aggregate with at least `SNAPSHOT_EVERY_EVENTS` events. Returns how many it
/// saved. `on_total` hears how many aggregates qualify, `on_folded` of each aggregate folded.
pub async fn rebuild<A: Aggregate>(
    client: &Client,
    state_version: i32,
    on_total: &mut (dyn FnMut(u64) + Send),
    on_folded: &mut (dyn FnMut() + Send),
) -> Result<u64, StoreError> {
    client.execute_raw("DELETE FROM aggregate_snapshots WHERE aggregate_type = $1", [A::TYPE]).await?;
    let due = client
        .query_typed(
            "SELECT aggregate_id, max(sequence) FROM events WHERE aggregate_type = $1 \
             GROUP BY aggregate_id HAVING max(sequence) >= $2 ORDER BY aggregate_id",
            &[(&A::TYPE, Type::TEXT), (&SNAPSHOT_EVERY_EVENTS, Type::INT8)],
        )
        .await?;
    on_total(due.len() as u64);
    let mut saved = 0;
    let mut pending = Vec::with_capacity(MAX_SNAPSHOTS_PER_SAVE);
    for row in &due {
        let (aggregate_id, last): (String, i64) = (row.get(0), row.get(1));
        let folded = fold_history::<A>(client, &aggregate_id, last).await?;
        let state = serde_json::to_value(&folded.aggregate).map_err(|error| StoreError::Undecodable {
            position: 0,
            event_type: A::TYPE.to_string(),
            version: state_version.to_string(),
            reason: format!("the state of {aggregate_id} does not serialize: {error}"),
        })?;
        pending.push(NewSnapshot { aggregate_id, sequence: folded.sequence, state });
        on_folded();
        if pending.len() == MAX_SNAPSHOTS_PER_SAVE {
            saved += save(client, A::TYPE, state_version, &pending).await?;
            pending.clear();
        }
    }
    saved += save(client, A::TYPE, state_version, &pending).await?;
    Ok(saved)
}
