//! Group commit: one committer per aggregate type decides every command waiting while the
//! previous batch commits, in arrival order, on in-memory aggregate state, and appends all
//! their events in one multi-row INSERT: one statement and one commit for the whole batch
//! (docs/adr/0017-group-commit.md).
//!
//! - A lone command commits at once: the committer takes what is queued, never waits for more.
//! - Decisions of one batch see each other's events, so many credits to one account batch
//!   together instead of conflicting.
//! - The cache is trusted for appends: another process's append to the same aggregate makes
//!   the batch's INSERT fail on the (aggregate, sequence) key, and the batch is decided again
//!   on reloaded state. A refusal is only answered once the state it was decided on is
//!   confirmed current.
//! - Answers leave only after the batch is durable: a refusal may depend on an earlier
//!   decision of the same batch, and a failed batch is decided again.

mod workspace;

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::time::Instant;

use cqrs_es::Aggregate;
use deadpool_postgres::Pool;
use domain::snapshot::Snapshotted;
use domain::{Command, DomainError};
use lru::LruCache;
use projections::{InlineProjection, Wakers};
use store::append::{append, find_operations, last_sequences, AppendError, MAX_APPEND_EVENTS};
use store::snapshot::{NewSnapshot, MAX_SNAPSHOTS_PER_SAVE, SNAPSHOT_EVERY_EVENTS};
use store::{NewEvent, Operation, PipelinedTransaction, StoredEvent};
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

pub use store::snapshot::Stream;
pub use workspace::Workspace;

use crate::error::AppError;

/// Most decisions one batch takes: with at most three events each, a batch stays below
/// `MAX_APPEND_EVENTS`.
pub const MAX_BATCH_DECISIONS: usize = 512;
/// Most events one decision may append (a transfer: debit, credit, return).
pub const MAX_EVENTS_PER_DECISION: usize = 3;
/// Decisions waiting for a committer before submitters wait for room.
pub const MAX_QUEUED_DECISIONS: usize = 16_384;
/// Times a batch is decided again after a conflict with another process before its
/// decisions are tried one by one.
const MAX_BATCH_ATTEMPTS: u32 = 8;
/// Aggregates each committer keeps in memory.
pub const MAX_CACHED_AGGREGATES: usize = 100_000;
/// Snapshots waiting to be saved before further ones are left for later batches.
const MAX_QUEUED_SNAPSHOTS: usize = 4_096;

const _: () = assert!(MAX_BATCH_DECISIONS * MAX_EVENTS_PER_DECISION <= MAX_APPEND_EVENTS);

/// One decision over one or more aggregates of one type, taken in a batch.
pub trait Decision<A: Aggregate>: Send + Sync + 'static {
    /// The operation the decision runs under; its id is what a retry finds.
    fn operation(&self) -> &Operation;
    /// Every aggregate the decision reads or writes.
    fn aggregate_ids(&self) -> Vec<String>;
    /// The command's name, for metrics.
    fn name(&self) -> &'static str;
    /// Decides, through `workspace`. An error leaves the workspace's changes unapplied.
    fn decide(&self, workspace: &mut Workspace<'_, A>) -> Result<(), AppError>;
}

/// What a decision did.
#[derive(Debug, Clone)]
pub enum Committed {
    /// It appended these events, in order, in one commit.
    Appended(Vec<StoredEvent>),
    /// Its operation had run before and appended this event; nothing new was appended.
    Replayed(StoredEvent),
    /// It was valid but changed nothing.
    Unchanged,
}

/// A plain command on one aggregate.
pub struct SingleCommand<C> {
    pub aggregate_id: String,
    pub command: C,
    pub operation: Operation,
}

impl<C: Command> Decision<C::Aggregate> for SingleCommand<C>
where
    C::Aggregate: Default + Send + Sync,
{
    fn operation(&self) -> &Operation {
        &self.operation
    }

    fn aggregate_ids(&self) -> Vec<String> {
        vec![self.aggregate_id.clone()]
    }

    fn name(&self) -> &'static str {
        self.command.name()
    }

    fn decide(&self, workspace: &mut Workspace<'_, C::Aggregate>) -> Result<(), AppError> {
        workspace.execute(&self.aggregate_id, self.command.clone(), &self.operation).map(drop)
    }
}

struct Job<A> {
    decision: Box<dyn Decision<A>>,
    reply: oneshot::Sender<Result<Committed, AppError>>,
    queued_at: Instant,
}

/// The queue of one aggregate type's committer. Cheap to clone.
pub struct Committer<A> {
    queue: mpsc::Sender<Job<A>>,
}

impl<A> Clone for Committer<A> {
    fn clone(&self) -> Self {
        Self { queue: self.queue.clone() }
    }
}

impl<A> Committer<A>
where
    A: Aggregate<Error = DomainError, Services = ()> + Snapshotted + Clone + Default + Send + Sync + 'static,
    A::Command: Command,
{
    /// Starts the committer task; it ends when the last `Committer` handle is dropped.
    pub fn spawn(
        target: &store::DatabaseTarget,
        leaks: &store::TransactionLeaks,
        wakers: Wakers,
        inline: Option<InlineProjection>,
    ) -> Self {
        let (queue, jobs) = mpsc::channel(MAX_QUEUED_DECISIONS);
        let capacity = NonZeroUsize::new(MAX_CACHED_AGGREGATES).expect("capacity is positive");
        let (target, leaks) = (target.clone(), leaks.clone());
        std::thread::Builder::new()
            .name(format!("committer-{}", A::TYPE))
            .spawn(move || {
                let runtime =
                    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("committer runtime");
                runtime.block_on(async move {
                    let pool = store::connect::committer_pool(&target, &leaks).expect("committer pool");
                    let (snapshots, to_write) = mpsc::channel(MAX_QUEUED_SNAPSHOTS);
                    tokio::spawn(write_snapshots::<A>(pool.clone(), to_write));
                    let task = Task::<A> { pool, wakers, inline, cache: LruCache::new(capacity), snapshots };
                    task.run(jobs).await;
                });
            })
            .expect("committer thread");
        Self { queue }
    }

    /// Decides `decision` in the next batch and waits until it is durable. Dropping the
    /// future does not withdraw the decision: once queued, it is decided and committed.
    pub async fn submit(&self, decision: impl Decision<A>) -> Result<Committed, AppError> {
        let (reply, answer) = oneshot::channel();
        let job = Job { decision: Box::new(decision), reply, queued_at: Instant::now() };
        self.queue.send(job).await.map_err(|_| AppError::Unavailable("the committer has stopped".into()))?;
        answer.await.map_err(|_| AppError::Internal("the committer dropped a decision".into()))?
    }
}

/// Where a decision stands within one attempt at a batch.
enum Verdict {
    Answered(Result<Committed, AppError>),
    /// Decided; its events are in the batch's append.
    Decided,
    /// It shares its operation id with an earlier decision of the batch: it goes in the next
    /// batch, where it finds that one's result.
    Deferred,
}

enum AttemptError {
    /// Another append took a sequence or operation id first: decide again on fresh state.
    Conflict,
    /// Applying the batch to the read models in its own transaction failed, so nothing was
    /// appended; the batch is appended again for the projection pass to apply.
    ProjectionFailed,
    Failed(AppError),
}

impl<E: Into<AppError>> From<E> for AttemptError {
    fn from(error: E) -> Self {
        Self::Failed(error.into())
    }
}

struct Task<A: Aggregate> {
    pool: Pool,
    wakers: Wakers,
    inline: Option<InlineProjection>,
    /// Each aggregate as of its last durable event.
    cache: LruCache<String, Stream<A>>,
    /// Snapshots due, to the task that saves them.
    snapshots: mpsc::Sender<NewSnapshot>,
}

impl<A> Task<A>
where
    A: Aggregate<Error = DomainError, Services = ()> + Snapshotted + Clone + Default + Send + Sync + 'static,
    A::Command: Command,
{
    async fn run(mut self, mut queue: mpsc::Receiver<Job<A>>) {
        while let Some(first) = queue.recv().await {
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH_DECISIONS {
                match queue.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            for job in &jobs {
                store::metrics::decision_dequeued(A::TYPE, job.queued_at.elapsed());
            }
            self.commit(jobs).await;
        }
    }

    async fn commit(&mut self, mut jobs: Vec<Job<A>>) {
        while !jobs.is_empty() {
            let verdicts = self.decide_and_append(&jobs).await;
            let mut deferred = Vec::new();
            for (job, verdict) in jobs.into_iter().zip(verdicts) {
                match verdict {
                    Verdict::Answered(result) => {
                        store::metrics::command_finished(A::TYPE, job.decision.name(), outcome_label(&result));
                        // The submitter may have gone away; the decision stands regardless.
                        let _ = job.reply.send(result);
                    }
                    Verdict::Decided | Verdict::Deferred => deferred.push(job),
                }
            }
            jobs = deferred;
        }
    }

    /// Decides and appends `jobs`; every verdict returned is `Answered` or `Deferred`.
    async fn decide_and_append(&mut self, jobs: &[Job<A>]) -> Vec<Verdict> {
        let mut attempt = 1;
        loop {
            // The first attempt lets the unique index find retried operations (a retry that
            // appends conflicts on it); later ones look them up before deciding.
            match self.attempt(jobs, attempt > 1).await {
                Ok(verdicts) => return verdicts,
                // After a failed projection the next attempt finds the gate broken and
                // appends without projecting.
                Err(AttemptError::Conflict | AttemptError::ProjectionFailed) if attempt < MAX_BATCH_ATTEMPTS => {
                    attempt += 1
                }
                Err(AttemptError::Failed(error)) if jobs.len() == 1 => return vec![Verdict::Answered(Err(error))],
                Err(AttemptError::Failed(error)) if error_is_shared(&error) => {
                    return jobs.iter().map(|_| Verdict::Answered(Err(copy_of(&error)))).collect();
                }
                Err(AttemptError::Conflict | AttemptError::ProjectionFailed) if jobs.len() == 1 => {
                    warn!(aggregate = A::TYPE, "giving up after {MAX_BATCH_ATTEMPTS} conflicts");
                    return vec![Verdict::Answered(Err(AppError::Contention))];
                }
                // One decision's input broke the batch (or it keeps conflicting): decide each
                // on its own so the others still commit.
                Err(_) => {
                    let mut verdicts = Vec::with_capacity(jobs.len());
                    for job in jobs {
                        verdicts.extend(Box::pin(self.decide_and_append(std::slice::from_ref(job))).await);
                    }
                    return verdicts;
                }
            }
        }
    }

    /// One attempt at the batch. With `look_up_first`, the operations that may have run are
    /// looked up before deciding; without, only those of refused and no-op decisions are,
    /// after deciding (those append nothing, so the unique index cannot tell).
    async fn attempt(&mut self, jobs: &[Job<A>], look_up_first: bool) -> Result<Vec<Verdict>, AttemptError> {
        let client = self.pool.get().await?;
        let (mut batch, from_cache) = self.load(&client, jobs).await?;
        let earlier = if look_up_first { earlier_runs(&client, jobs.iter()).await? } else { HashMap::new() };

        let mut verdicts = Vec::with_capacity(jobs.len());
        let mut appended: Vec<NewEvent> = Vec::new();
        let mut owners: Vec<usize> = Vec::new();
        let mut operations = HashSet::with_capacity(jobs.len());
        let mut refused_any = false;
        for (index, job) in jobs.iter().enumerate() {
            let operation = job.decision.operation();
            if let Some(existing) = earlier.get(&operation.id) {
                verdicts.push(Verdict::Answered(replay(existing.clone(), operation)));
                continue;
            }
            if !operations.insert(operation.id.as_str()) {
                verdicts.push(Verdict::Deferred);
                continue;
            }
            let mut workspace = Workspace::new(&batch);
            match job.decision.decide(&mut workspace) {
                Ok(()) => {
                    let (changed, events) = workspace.into_parts();
                    if events.is_empty() {
                        refused_any = true;
                    }
                    assert!(events.len() <= MAX_EVENTS_PER_DECISION, "a decision appends at most three events");
                    batch.extend(changed);
                    owners.extend(std::iter::repeat_n(index, events.len()));
                    appended.extend(events);
                    verdicts.push(Verdict::Decided);
                }
                Err(error) => {
                    refused_any = true;
                    verdicts.push(Verdict::Answered(Err(error)));
                }
            }
        }
        // A refusal (or a no-op) decided on cached state must not stand if another process
        // has moved one of those aggregates meanwhile; appends are checked by the INSERT.
        if refused_any && !from_cache.is_empty() && !self.is_current(&client, &from_cache).await? {
            from_cache.iter().for_each(|id| drop(self.cache.pop(id)));
            return Err(AttemptError::Conflict);
        }
        if refused_any && !look_up_first {
            replay_refused_retries(&client, jobs, &mut verdicts, &owners).await?;
        }
        let started = Instant::now();
        let (stored, projected) = match self.append(client, &appended).await {
            Ok(appended) => appended,
            Err(AttemptError::ProjectionFailed) => return Err(AttemptError::ProjectionFailed),
            Err(error) => {
                batch.keys().for_each(|id| drop(self.cache.pop(id)));
                return Err(error);
            }
        };
        if !stored.is_empty() {
            store::metrics::append_finished(A::TYPE, started.elapsed());
            store::metrics::batch_committed(A::TYPE, jobs.len());
            let pass_wake = self.inline.as_ref().filter(|_| projected).and_then(InlineProjection::pass_wake);
            self.wakers.wake_all_except(pass_wake.as_ref());
        }
        for (id, mut stream) in batch {
            self.snapshot_if_due(&id, &mut stream);
            self.cache.put(id, stream);
        }
        let mut by_job: HashMap<usize, Vec<StoredEvent>> = HashMap::new();
        for (owner, event) in owners.into_iter().zip(stored) {
            by_job.entry(owner).or_default().push(event);
        }
        Ok(verdicts
            .into_iter()
            .enumerate()
            .map(|(index, verdict)| match verdict {
                Verdict::Decided => Verdict::Answered(Ok(match by_job.remove(&index) {
                    Some(events) => Committed::Appended(events),
                    None => Committed::Unchanged,
                })),
                other => other,
            })
            .collect())
    }

    /// Appends `events` in one commit. When the projection pass would apply them next, they
    /// are applied to the read models in the same transaction (`projections::inline`), and
    /// the second result is `true`.
    async fn append(
        &self,
        client: deadpool_postgres::Object,
        events: &[NewEvent],
    ) -> Result<(Vec<StoredEvent>, bool), AttemptError> {
        let turn = match &self.inline {
            Some(inline) if !events.is_empty() => inline.turn().await,
            _ => None,
        };
        let Some(turn) = turn else {
            return Ok((append(&client, events).await.map_err(from_append)?, false));
        };
        // Two round trips: BEGIN, the INSERT and the check; then the read models, the
        // checkpoints and the COMMIT (ADR 22).
        let tx = PipelinedTransaction::new(client);
        let opened = tokio::try_join!(
            biased;
            async { tx.begin().await.map_err(AttemptError::from) },
            async { append(tx.client(), events).await.map_err(from_append) },
            async {
                turn.is_next(tx.client()).await.map_err(|error| {
                    warn!(aggregate = A::TYPE, %error, "checking whether a batch is next failed; appending it alone");
                    AttemptError::ProjectionFailed
                })
            },
        );
        let (_, stored, is_next) = match opened {
            Ok(opened) => opened,
            Err(error) => {
                tx.roll_back().await;
                match error {
                    AttemptError::ProjectionFailed => turn.failed(),
                    _ => drop(turn),
                }
                return Err(error);
            }
        };
        if !is_next {
            if let Err(error) = tx.commit().await {
                tx.roll_back().await;
                turn.failed();
                return Err(from_append(error.into()));
            }
            tx.committed();
            drop(turn);
            return Ok((stored, false));
        }
        match turn.apply_then(tx.client(), &stored, tx.commit()).await {
            Ok(Ok(last)) => {
                tx.committed();
                turn.committed(last);
                Ok((stored, true))
            }
            Ok(Err(error)) => {
                tx.roll_back().await;
                turn.failed();
                Err(from_append(error.into()))
            }
            Err(error) => {
                warn!(aggregate = A::TYPE, %error, "projecting a batch in its append failed; appending it alone");
                tx.roll_back().await;
                turn.failed();
                Err(AttemptError::ProjectionFailed)
            }
        }
    }

    /// The batch's aggregates: cached ones as they are, the rest loaded in one statement.
    /// Returns the states and the ids that came from the cache.
    async fn load(
        &mut self,
        client: &deadpool_postgres::Object,
        jobs: &[Job<A>],
    ) -> Result<(HashMap<String, Stream<A>>, Vec<String>), AttemptError> {
        let mut ids: Vec<String> = jobs.iter().flat_map(|job| job.decision.aggregate_ids()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut batch = HashMap::with_capacity(ids.len());
        let (mut from_cache, mut missing) = (Vec::new(), Vec::new());
        for id in ids {
            match self.cache.get(&id) {
                Some(stream) => {
                    batch.insert(id.clone(), stream.clone());
                    from_cache.push(id);
                }
                None => missing.push(id),
            }
        }
        batch.extend(store::snapshot::load_streams::<A>(client, A::STATE_VERSION, &missing).await?);
        Ok((batch, from_cache))
    }

    /// Hands the durable `stream` to the snapshot writer once enough events have followed
    /// its last snapshot. A full queue leaves it for a later batch: a snapshot is a cache.
    fn snapshot_if_due(&self, aggregate_id: &str, stream: &mut Stream<A>) {
        if stream.sequence - stream.snapshot_sequence < SNAPSHOT_EVERY_EVENTS {
            return;
        }
        let state = match serde_json::to_value(&stream.aggregate) {
            Ok(state) => state,
            Err(error) => {
                warn!(aggregate = A::TYPE, %error, "an aggregate's state does not serialize; no snapshot");
                return store::metrics::snapshots(A::TYPE, "unserializable", 1);
            }
        };
        let snapshot = NewSnapshot { aggregate_id: aggregate_id.to_string(), sequence: stream.sequence, state };
        match self.snapshots.try_send(snapshot) {
            Ok(()) => stream.snapshot_sequence = stream.sequence,
            Err(_) => store::metrics::snapshots(A::TYPE, "queue_full", 1),
        }
    }

    /// Whether the cached aggregates among `ids` are still at their last sequence.
    async fn is_current(&self, client: &deadpool_postgres::Object, ids: &[String]) -> Result<bool, AttemptError> {
        let latest = last_sequences(client, A::TYPE, ids).await?;
        Ok(ids.iter().all(|id| {
            let cached = self.cache.peek(id).map_or(0, |stream| stream.sequence);
            latest.get(id).copied().unwrap_or(0) == cached
        }))
    }
}

/// Saves the snapshots the committer hands over, as many per statement as are waiting, on
/// a connection of its own: the batches never wait for them.
async fn write_snapshots<A: Snapshotted>(pool: Pool, mut due: mpsc::Receiver<NewSnapshot>) {
    while let Some(first) = due.recv().await {
        let mut newest: HashMap<String, NewSnapshot> = HashMap::from([(first.aggregate_id.clone(), first)]);
        while newest.len() < MAX_SNAPSHOTS_PER_SAVE {
            let Ok(snapshot) = due.try_recv() else { break };
            match newest.get(&snapshot.aggregate_id) {
                Some(kept) if kept.sequence >= snapshot.sequence => {}
                _ => drop(newest.insert(snapshot.aggregate_id.clone(), snapshot)),
            }
        }
        let snapshots: Vec<NewSnapshot> = newest.into_values().collect();
        let saved = match pool.get().await {
            Ok(client) => store::snapshot::save(&client, A::TYPE, A::STATE_VERSION, &snapshots).await,
            Err(error) => Err(error.into()),
        };
        match saved {
            Ok(_) => store::metrics::snapshots(A::TYPE, "written", snapshots.len() as u64),
            Err(error) => {
                warn!(aggregate = A::TYPE, %error, count = snapshots.len(), "saving snapshots failed; later ones will be taken");
                store::metrics::snapshots(A::TYPE, "failed", snapshots.len() as u64);
            }
        }
    }
}

fn from_append(error: AppendError) -> AttemptError {
    match error {
        AppendError::Conflict => AttemptError::Conflict,
        AppendError::Store(error) => AttemptError::Failed(error.into()),
    }
}

/// A refused or no-op decision of a retried operation answers with the operation's first
/// result, if it ran before. Such a decision appended nothing, so the others' are unchanged.
async fn replay_refused_retries<A: Aggregate + 'static>(
    client: &deadpool_postgres::Object,
    jobs: &[Job<A>],
    verdicts: &mut [Verdict],
    owners: &[usize],
) -> Result<(), AttemptError> {
    // Up to MAX_BATCH_DECISIONS jobs and three events each: a set, not a scan per job.
    let appending: HashSet<usize> = owners.iter().copied().collect();
    let appended_nothing = |index: usize| match verdicts[index] {
        Verdict::Answered(Err(_)) => true,
        Verdict::Decided => !appending.contains(&index),
        _ => false,
    };
    let candidates: Vec<usize> = (0..jobs.len()).filter(|index| appended_nothing(*index)).collect();
    let earlier = earlier_runs(client, candidates.iter().map(|index| &jobs[*index])).await?;
    for index in candidates {
        if let Some(existing) = earlier.get(&jobs[index].decision.operation().id) {
            verdicts[index] = Verdict::Answered(replay(existing.clone(), jobs[index].decision.operation()));
        }
    }
    Ok(())
}

/// The earlier appends of the batch's operations that may have run before.
async fn earlier_runs<'a, A: Aggregate + 'static>(
    client: &deadpool_postgres::Object,
    jobs: impl Iterator<Item = &'a Job<A>>,
) -> Result<HashMap<String, StoredEvent>, AttemptError> {
    let retried: Vec<String> = jobs
        .map(|job| job.decision.operation())
        .filter(|operation| operation.may_have_run())
        .map(|operation| operation.id.clone())
        .collect();
    let found = find_operations(client, &retried).await?;
    Ok(found.into_iter().filter_map(|event| Some((event.operation_id()?.to_string(), event))).collect())
}

/// The answer to a retried operation: its first result, if the request is the same.
pub fn replay(existing: StoredEvent, operation: &Operation) -> Result<Committed, AppError> {
    let stored_hash = existing.metadata.get("request_hash").and_then(serde_json::Value::as_str);
    if stored_hash != operation.request_hash.as_deref() {
        return Err(AppError::IdempotencyKeyReused);
    }
    Ok(Committed::Replayed(existing))
}

/// Errors that say nothing about any one decision: every decision of the batch gets them.
fn error_is_shared(error: &AppError) -> bool {
    matches!(error, AppError::Unavailable(_))
}

fn copy_of(error: &AppError) -> AppError {
    match error {
        AppError::Unavailable(detail) => AppError::Unavailable(detail.clone()),
        other => AppError::Internal(other.to_string()),
    }
}

fn outcome_label(result: &Result<Committed, AppError>) -> &'static str {
    match result {
        Ok(Committed::Appended(_)) => "appended",
        Ok(Committed::Replayed(_)) => "replayed",
        Ok(Committed::Unchanged) => "unchanged",
        Err(AppError::Domain(_)) => "rejected",
        Err(AppError::IdempotencyKeyReused) => "key_reused",
        Err(AppError::Contention) => "contention",
        Err(_) => "failed",
    }
}
