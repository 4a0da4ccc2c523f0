//! An event store over postgres-es that keeps command cost flat in history length. The
//! service loads through it (`CommandBus::load`); commands append through the committers
//! (`store::append`, ADR 17), so its `commit` serves only callers of the cqrs-es framework.
//!
//! cqrs-es 0.5's snapshot store re-applies events the sink already applied (docs/design.md), so
//! instead this store caches each aggregate as it stood after its last successful commit,
//! keyed by sequence. A load applies only the events after the cached sequence, read from
//! the database every time, so the cache can be stale but never wrong: another process's
//! appends are picked up, and a failed commit evicts the entry. An aggregate not in the
//! cache starts from its snapshot (`crate::snapshot`), as the committers' loads do, and is
//! cached as loaded.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use cqrs_es::persist::{PersistedEventRepository, PersistenceError, SerializedEvent};
use cqrs_es::{Aggregate, AggregateContext, AggregateError, EventEnvelope, EventStore};
use lru::LruCache;
use postgres_es::PostgresEventRepository;

/// How many aggregates each store keeps in memory.
pub const MAX_CACHED_AGGREGATES: usize = 100_000;

pub struct CachedEventStore<A: Aggregate> {
    inner: Arc<Inner<A>>,
}

struct Inner<A: Aggregate> {
    repo: PostgresEventRepository,
    pool: sqlx::PgPool,
    /// Where cold loads read snapshots and the events after them.
    reads: deadpool_postgres::Pool,
    /// The code's snapshot state version for `A`.
    state_version: i32,
    cache: Mutex<LruCache<String, (A, usize)>>,
}

/// postgres-es formats the sequence into its SQL text, so every load would be a new
/// statement to prepare; this one is parameterised and prepared once per connection.
const EVENTS_AFTER_SEQUENCE: &str =
    "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata \
     FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3 ORDER BY sequence";

impl<A: Aggregate> Clone for CachedEventStore<A> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

/// An aggregate loaded for one command, with the sequence its next event must follow.
pub struct CachedContext<A> {
    aggregate_id: String,
    aggregate: A,
    sequence: usize,
}

impl<A: Aggregate> AggregateContext<A> for CachedContext<A> {
    fn aggregate(&mut self) -> &mut A {
        &mut self.aggregate
    }
}

impl<A: Aggregate + Clone> CachedEventStore<A> {
    /// `state_version`: the version of `A`'s snapshot state the code reads.
    pub fn new(pool: sqlx::PgPool, reads: deadpool_postgres::Pool, state_version: i32) -> Self {
        let capacity = NonZeroUsize::new(MAX_CACHED_AGGREGATES).expect("capacity is positive");
        Self {
            inner: Arc::new(Inner {
                repo: PostgresEventRepository::new(pool.clone()),
                pool,
                reads,
                state_version,
                cache: Mutex::new(LruCache::new(capacity)),
            }),
        }
    }

    /// An aggregate not in the cache: its snapshot and the events after it.
    async fn cold_load(&self, aggregate_id: &str) -> Result<(A, usize), PersistenceError> {
        let unavailable = |error: crate::StoreError| PersistenceError::ConnectionError(Box::new(error));
        let client = self.inner.reads.get().await.map_err(|error| unavailable(error.into()))?;
        let ids = [aggregate_id.to_string()];
        let mut loaded =
            crate::snapshot::load_streams::<A>(&client, self.inner.state_version, &ids).await.map_err(unavailable)?;
        let stream = loaded.remove(aggregate_id).unwrap_or_default();
        let sequence =
            usize::try_from(stream.sequence).map_err(|error| PersistenceError::UnknownError(Box::new(error)))?;
        Ok((stream.aggregate, sequence))
    }

    fn cached(&self, aggregate_id: &str) -> Option<(A, usize)> {
        self.inner.cache.lock().unwrap_or_else(PoisonError::into_inner).get(aggregate_id).cloned()
    }

    fn remember(&self, aggregate_id: String, aggregate: A, sequence: usize) {
        self.inner.cache.lock().unwrap_or_else(PoisonError::into_inner).put(aggregate_id, (aggregate, sequence));
    }

    async fn events_after(
        &self,
        aggregate_id: &str,
        sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        use sqlx::Row;
        let after = i64::try_from(sequence).map_err(|error| PersistenceError::UnknownError(Box::new(error)))?;
        let rows = sqlx::query(EVENTS_AFTER_SEQUENCE)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .bind(after)
            .fetch_all(&self.inner.pool)
            .await
            .map_err(|error| PersistenceError::ConnectionError(Box::new(error)))?;
        rows.iter()
            .map(|row| {
                let sequence: i64 =
                    row.try_get("sequence").map_err(|error| PersistenceError::UnknownError(Box::new(error)))?;
                Ok(SerializedEvent::new(
                    row.get("aggregate_id"),
                    usize::try_from(sequence).map_err(|error| PersistenceError::UnknownError(Box::new(error)))?,
                    row.get("aggregate_type"),
                    row.get("event_type"),
                    row.get("event_version"),
                    row.get("payload"),
                    row.get("metadata"),
                ))
            })
            .collect()
    }

    fn forget(&self, aggregate_id: &str) {
        self.inner.cache.lock().unwrap_or_else(PoisonError::into_inner).pop(aggregate_id);
    }
}

fn deserialize<A: Aggregate>(events: Vec<SerializedEvent>) -> Result<Vec<EventEnvelope<A>>, PersistenceError> {
    events.into_iter().map(EventEnvelope::try_from).collect()
}

impl<A: Aggregate + Clone> EventStore<A> for CachedEventStore<A> {
    type AC = CachedContext<A>;

    async fn load_events(&self, aggregate_id: &str) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        let events = self.inner.repo.get_events::<A>(aggregate_id).await?;
        Ok(deserialize(events)?)
    }

    async fn load_aggregate(&self, aggregate_id: &str) -> Result<CachedContext<A>, AggregateError<A::Error>> {
        let (aggregate, sequence) = match self.cached(aggregate_id) {
            Some((mut aggregate, mut sequence)) => {
                let newer = self.events_after(aggregate_id, sequence).await?;
                for envelope in deserialize::<A>(newer)? {
                    debug_assert_eq!(envelope.sequence, sequence + 1, "sequences are contiguous");
                    sequence = envelope.sequence;
                    aggregate.apply(envelope.payload);
                }
                (aggregate, sequence)
            }
            // Already current: the snapshot and every event after it.
            None => self.cold_load(aggregate_id).await?,
        };
        // A state read from the events is as true as one this store committed: the next
        // load starts from it and reads only what is newer.
        self.remember(aggregate_id.to_string(), aggregate.clone(), sequence);
        Ok(CachedContext { aggregate_id: aggregate_id.to_string(), aggregate, sequence })
    }

    async fn commit(
        &self,
        events: Vec<A::Event>,
        context: CachedContext<A>,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        let CachedContext { aggregate_id, aggregate, sequence } = context;
        let envelopes: Vec<EventEnvelope<A>> = events
            .into_iter()
            .enumerate()
            .map(|(offset, payload)| EventEnvelope {
                aggregate_id: aggregate_id.clone(),
                sequence: sequence + offset + 1,
                payload,
                metadata: metadata.clone(),
            })
            .collect();
        if envelopes.is_empty() {
            return Ok(envelopes);
        }
        let serialized = envelopes.iter().map(SerializedEvent::try_from).collect::<Result<Vec<_>, _>>()?;
        let started = std::time::Instant::now();
        let persisted = self.inner.repo.persist::<A>(&serialized, None).await;
        crate::metrics::append_finished(A::TYPE, started.elapsed());
        match persisted {
            Ok(()) => {
                // The sink applied the new events to `aggregate` while the command was handled.
                self.remember(aggregate_id, aggregate, sequence + envelopes.len());
                Ok(envelopes)
            }
            Err(error) => {
                self.forget(&aggregate_id);
                Err(error.into())
            }
        }
    }
}
