//! The catch-up engine. Each handler (read model or process manager) runs as one task that
//! reads the log in commit-safe order and applies each batch and its checkpoint in one
//! transaction. One instance per cluster runs each handler, elected with a session advisory
//! lock on a dedicated connection; the others stand by and publish the leader's progress.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{GenericClient, Object, Pool, Transaction};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tracing::{debug, error, info, warn};

use crate::connection::DedicatedConnection;
use crate::error::ProjectionError;
use crate::inline::{GateState, InlineGate};
use crate::read_models::Projector;
use crate::writes::Writes;
use store::log::{read_after, StoredEvent, MAX_BATCH_EVENTS};
use store::Checkpoint;

/// How long an idle handler waits for a wake-up before looking at the log anyway (events
/// appended by other processes, such as the CLI or another server, wake nobody here).
const IDLE_POLL_MS: u64 = 50;
/// How often a standby instance re-reads the leader's checkpoint and retries the lock.
const STANDBY_POLL_MS: u64 = 200;
/// Backoff after a failed batch, doubling up to the maximum.
const RETRY_BACKOFF_MIN_MS: u64 = 50;
const RETRY_BACKOFF_MAX_MS: u64 = 5_000;

/// A consumer of the event log.
pub trait EventHandler: Send + Sync + 'static {
    /// Stable name: the checkpoint row and the advisory lock are keyed by it.
    fn name(&self) -> &'static str;

    /// Applies a batch of events, in log order, inside the batch transaction `tx`. Read models
    /// write only through `tx`; process managers may act elsewhere, idempotently, since a
    /// batch can be retried. The result must not depend on where batches start and end.
    fn handle_batch(
        &self,
        tx: &Transaction<'_>,
        events: &[StoredEvent],
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;

    /// Whether the batch holds anything for this handler. A batch it does not want costs no
    /// transaction: the checkpoint moves in memory and is saved with the next batch it
    /// wants, when the log goes idle, or after `MAX_UNSAVED_EVENTS`; a restart reads the
    /// skipped events again, which is harmless because they were of no interest.
    fn wants(&self, _batch: &[StoredEvent]) -> bool {
        true
    }

    /// Least time between two batches. A handler that need not react at once reads the log
    /// less often and takes more events per read.
    fn min_batch_interval(&self) -> Duration {
        Duration::ZERO
    }

    /// The names its progress is published under (read-your-writes and health look them up).
    fn published_names(&self) -> Vec<&'static str> {
        vec![self.name()]
    }

    /// Where the handler stands: by default, its own checkpoint row.
    fn load_position(&self, client: &Object) -> impl Future<Output = Result<Checkpoint, ProjectionError>> + Send {
        async move {
            ensure_checkpoint_row(client, self.name()).await?;
            load_checkpoint(client, self.name()).await
        }
    }

    /// Moves the handler's checkpoint from `from` to `to` inside the batch transaction.
    fn save_position(
        &self,
        tx: &Transaction<'_>,
        from: Checkpoint,
        to: Checkpoint,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send {
        save_checkpoint(tx, self.name(), from, to)
    }

    /// The gate through which appends may apply their own batches in this handler's stead
    /// (the projection pass's; `crate::inline`).
    fn gate(&self) -> Option<&InlineGate> {
        None
    }
}

/// A shared handler runs as itself (the projection pass is shared with the appends).
impl<H: EventHandler> EventHandler for Arc<H> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn handle_batch(
        &self,
        tx: &Transaction<'_>,
        events: &[StoredEvent],
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send {
        (**self).handle_batch(tx, events)
    }

    fn wants(&self, batch: &[StoredEvent]) -> bool {
        (**self).wants(batch)
    }

    fn min_batch_interval(&self) -> Duration {
        (**self).min_batch_interval()
    }

    fn published_names(&self) -> Vec<&'static str> {
        (**self).published_names()
    }

    fn load_position(&self, client: &Object) -> impl Future<Output = Result<Checkpoint, ProjectionError>> + Send {
        (**self).load_position(client)
    }

    fn save_position(
        &self,
        tx: &Transaction<'_>,
        from: Checkpoint,
        to: Checkpoint,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send {
        (**self).save_position(tx, from, to)
    }

    fn gate(&self) -> Option<&InlineGate> {
        (**self).gate()
    }
}

/// Most events a handler may skip (see `EventHandler::wants`) before its checkpoint is saved
/// anyway, which bounds what a restart reads again.
pub const MAX_UNSAVED_EVENTS: usize = 50_000;

/// A read model applied one event at a time; `PerEvent` makes it a `Projector`.
pub trait EventProjector: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn handle(
        &self,
        client: &impl GenericClient,
        writes: &mut Writes,
        event: &StoredEvent,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;
}

/// Runs an `EventProjector` over each event of a batch in order.
pub struct PerEvent<P>(pub P);

impl<P: EventProjector> Projector for PerEvent<P> {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    async fn project(
        &self,
        client: &impl GenericClient,
        events: &[StoredEvent],
        writes: &mut Writes,
    ) -> Result<(), ProjectionError> {
        for event in events {
            self.0.handle(client, writes, event).await?;
        }
        Ok(())
    }
}

/// Progress of every running handler, for read-your-writes waits and health checks.
#[derive(Clone)]
pub struct ProjectionStatus {
    progress: Arc<HashMap<&'static str, HandlerProgress>>,
}

#[derive(Clone)]
struct HandlerProgress {
    checkpoint: watch::Receiver<Checkpoint>,
    /// Set once the handler leads or stands by: it has reached the database.
    ready: Arc<AtomicBool>,
}

impl ProjectionStatus {
    /// Waits until every named handler has applied `target`. `false` on timeout, and for a
    /// name no handler runs under (a wiring bug: waiting for it would wait for nothing).
    pub async fn wait_for(&self, names: &[&str], target: Checkpoint, timeout: Duration) -> bool {
        if let Some(unknown) = names.iter().find(|name| !self.progress.contains_key(*name)) {
            debug_assert!(false, "no handler named {unknown} runs");
            tracing::error!(handler = unknown, "read-your-writes waits for a handler that does not run");
            return false;
        }
        let all_reached = async {
            for name in names {
                let Some(progress) = self.progress.get(name) else { continue };
                let mut receiver = progress.checkpoint.clone();
                if receiver.wait_for(|reached| *reached >= target).await.is_err() {
                    return false;
                }
            }
            true
        };
        tokio::time::timeout(timeout, all_reached).await.unwrap_or(false)
    }

    pub fn checkpoint(&self, name: &str) -> Option<Checkpoint> {
        self.progress.get(name).map(|progress| *progress.checkpoint.borrow())
    }

    pub fn is_ready(&self, name: &str) -> bool {
        self.progress.get(name).is_some_and(|progress| progress.ready.load(Ordering::Relaxed))
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.progress.keys().copied().collect()
    }
}

/// Starts handlers and wakes them when this process appends events.
pub struct ProjectionEngine {
    pool: Pool,
    wakers: Wakers,
    progress: HashMap<&'static str, HandlerProgress>,
    tasks: Vec<JoinHandle<()>>,
    shutdown: watch::Receiver<bool>,
}

/// Wakes every handler of this process; cheap, call it after each append.
#[derive(Clone, Default)]
pub struct Wakers(Arc<std::sync::Mutex<Vec<Arc<Notify>>>>);

impl Wakers {
    pub fn wake_all(&self) {
        let notifies = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        notifies.iter().for_each(|notify| notify.notify_one());
    }

    /// Wakes every handler but `skip` (one that has seen the events already).
    pub fn wake_all_except(&self, skip: Option<&Arc<Notify>>) {
        match skip {
            Some(skip) => self.wake_others(skip),
            None => self.wake_all(),
        }
    }

    /// Wakes every handler but the one that owns `me`.
    fn wake_others(&self, me: &Arc<Notify>) {
        let notifies = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        notifies.iter().filter(|notify| !Arc::ptr_eq(notify, me)).for_each(|notify| notify.notify_one());
    }

    fn add(&self, notify: Arc<Notify>) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(notify);
    }
}

impl ProjectionEngine {
    pub fn new(pool: Pool, shutdown: watch::Receiver<bool>) -> Self {
        Self { pool, wakers: Wakers::default(), progress: HashMap::new(), tasks: Vec::new(), shutdown }
    }

    pub fn spawn<H: EventHandler>(&mut self, handler: H) {
        let wake = Arc::new(Notify::new());
        let (progress_tx, progress_rx) = watch::channel(Checkpoint::START);
        let progress_tx = Arc::new(progress_tx);
        if let Some(gate) = handler.gate() {
            gate.attach(progress_tx.clone(), wake.clone());
        }
        let ready = Arc::new(AtomicBool::new(false));
        for name in handler.published_names() {
            let progress = HandlerProgress { checkpoint: progress_rx.clone(), ready: ready.clone() };
            assert!(self.progress.insert(name, progress).is_none(), "two handlers publish as {name}");
        }
        self.wakers.add(wake.clone());
        let runner = Runner {
            pool: self.pool.clone(),
            wake,
            progress: progress_tx,
            ready,
            shutdown: self.shutdown.clone(),
            all_wakers: self.wakers.clone(),
        };
        self.tasks.push(tokio::spawn(runner.run(handler)));
    }

    /// The wakers of every handler spawned on this engine, before or after this call.
    pub fn wakers(&self) -> Wakers {
        self.wakers.clone()
    }

    /// Finishes start-up: hands out the status view and the tasks.
    pub fn start(self) -> (ProjectionStatus, Vec<JoinHandle<()>>) {
        self.wakers.wake_all();
        (ProjectionStatus { progress: Arc::new(self.progress) }, self.tasks)
    }
}

struct Runner {
    pool: Pool,
    wake: Arc<Notify>,
    progress: Arc<watch::Sender<Checkpoint>>,
    ready: Arc<AtomicBool>,
    shutdown: watch::Receiver<bool>,
    all_wakers: Wakers,
}

impl Runner {
    async fn run<H: EventHandler>(mut self, handler: H) {
        let mut backoff_ms = RETRY_BACKOFF_MIN_MS;
        while !*self.shutdown.borrow() {
            match self.lead_or_stand_by(&handler).await {
                Ok(()) => backoff_ms = RETRY_BACKOFF_MIN_MS,
                Err(error) => {
                    error!(projector = handler.name(), %error, "projector failed; retrying");
                    self.pause(Duration::from_millis(backoff_ms)).await;
                    backoff_ms = (backoff_ms * 2).min(RETRY_BACKOFF_MAX_MS);
                }
            }
        }
        debug!(projector = handler.name(), "projector stopped");
    }

    /// One term: tries to become the leader and processes until shutdown or an error.
    async fn lead_or_stand_by<H: EventHandler>(&mut self, handler: &H) -> Result<(), ProjectionError> {
        // A session lock must live on a connection of its own: one that returns to a pool
        // would keep the lock after this task let go of it.
        let gate = handler.gate();
        if let Some(gate) = gate {
            gate.set(GateState::Closed).await;
        }
        let mut client = DedicatedConnection::for_projections(&self.pool).await?;
        if !try_lock_projector(&*client, handler.name()).await? {
            self.progress.send_replace(handler.load_position(&client).await?);
            self.ready.store(true, Ordering::Relaxed);
            self.pause(Duration::from_millis(STANDBY_POLL_MS)).await;
            return Ok(());
        }
        info!(projector = handler.name(), "projector leading");
        // Loaded under the lock: no other leader moves it from here on.
        let mut position = Position::saved_at(handler.load_position(&client).await?);
        self.progress.send_replace(position.reached);
        if let Some(gate) = gate {
            gate.set(GateState::Open(position.saved)).await;
        }
        self.ready.store(true, Ordering::Relaxed);
        while !*self.shutdown.borrow() {
            // The pass's turn at the gate lasts one page: appends of this process may
            // project their own batches in between, and the pass then continues after them.
            let mut turn = match gate {
                Some(gate) => Some(gate.turn().await),
                None => None,
            };
            match turn.as_deref().copied() {
                Some(GateState::Open(moved)) if moved > position.saved => position = Position::saved_at(moved),
                // An append's projection failed after the in-memory checkpoints moved: the
                // saved ones are the truth, read again under the turn.
                Some(GateState::Broken) => {
                    warn!(projector = handler.name(), "reloading checkpoints after an append's projection failed");
                    position = Position::saved_at(handler.load_position(&client).await?);
                }
                _ => {}
            }
            let applied = apply_next_batch(&mut client, handler, &mut position, None, MAX_BATCH_EVENTS).await;
            if let Some(turn) = turn.as_deref_mut() {
                *turn = match applied {
                    Ok(_) if position.unsaved_events == 0 => GateState::Open(position.saved),
                    _ => GateState::Closed,
                };
            }
            match applied? {
                Some(read) => {
                    let committed = position.unsaved_events == 0;
                    self.progress.send_replace(position.reached);
                    drop(turn);
                    // A committed batch ended a transaction that held other readers' fence.
                    if committed {
                        self.all_wakers.wake_others(&self.wake);
                    }
                    let interval = handler.min_batch_interval();
                    if !interval.is_zero() {
                        self.pause(interval).await;
                    } else if read < MAX_BATCH_EVENTS as usize {
                        // Everything final was read: wait for the next append's wake-up (or
                        // the idle poll, for other processes' appends) rather than read an
                        // empty page.
                        self.idle().await;
                    }
                }
                None => {
                    drop(turn);
                    if position.unsaved_events > 0 {
                        save_skipped(&mut client, handler, &mut position).await?;
                    }
                    self.idle().await
                }
            }
        }
        Ok(())
    }

    async fn idle(&mut self) {
        tokio::select! {
            _ = self.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(IDLE_POLL_MS)) => {}
            _ = self.shutdown.changed() => {}
        }
    }

    async fn pause(&mut self, duration: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(duration) => {}
            _ = self.shutdown.changed() => {}
        }
    }
}

/// How far a handler has read, and how far its saved checkpoint is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Position {
    pub(crate) reached: Checkpoint,
    saved: Checkpoint,
    pub(crate) unsaved_events: usize,
}

impl Position {
    pub(crate) fn saved_at(checkpoint: Checkpoint) -> Self {
        Self { reached: checkpoint, saved: checkpoint, unsaved_events: 0 }
    }
}

/// Applies the next batch after `position` (up to `until`) and its checkpoint in one
/// transaction, or skips it if the handler wants none of it. Returns the batch size, or
/// `None` at the end.
pub(crate) async fn apply_next_batch<H: EventHandler>(
    client: &mut deadpool_postgres::Object,
    handler: &H,
    position: &mut Position,
    until: Option<Checkpoint>,
    page_events: i64,
) -> Result<Option<usize>, ProjectionError> {
    let batch = read_after(&*client, position.reached, until, page_events).await?;
    apply_batch(client, handler, position, &batch).await
}

/// Applies `batch`, read right after `position`, and its checkpoint in one transaction, or
/// skips it if the handler wants none of it. Returns the batch size, or `None` if empty.
pub(crate) async fn apply_batch<H: EventHandler>(
    client: &mut deadpool_postgres::Object,
    handler: &H,
    position: &mut Position,
    batch: &[StoredEvent],
) -> Result<Option<usize>, ProjectionError> {
    let Some(last) = batch.last().map(StoredEvent::checkpoint) else {
        store::metrics::log_read(handler.name(), "empty");
        return Ok(None);
    };
    if !handler.wants(batch) {
        store::metrics::log_read(handler.name(), "skipped");
        position.reached = last;
        position.unsaved_events += batch.len();
        if position.unsaved_events >= MAX_UNSAVED_EVENTS {
            save_skipped(client, handler, position).await?;
        }
        return Ok(Some(batch.len()));
    }
    store::metrics::log_read(handler.name(), "events");
    let tx = client.transaction().await?;
    handler.handle_batch(&tx, batch).await?;
    handler.save_position(&tx, position.saved, last).await?;
    tx.commit().await?;
    *position = Position::saved_at(last);
    Ok(Some(batch.len()))
}

/// Saves a checkpoint that moved over skipped batches only.
pub(crate) async fn save_skipped<H: EventHandler>(
    client: &mut deadpool_postgres::Object,
    handler: &H,
    position: &mut Position,
) -> Result<(), ProjectionError> {
    let tx = client.transaction().await?;
    handler.save_position(&tx, position.saved, position.reached).await?;
    tx.commit().await?;
    *position = Position::saved_at(position.reached);
    Ok(())
}

/// The advisory-lock key of a projector: a stable hash of its name in the `ledger` space.
fn lock_key(name: &str) -> i64 {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let hash = name
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    hash as i64
}

pub(crate) async fn try_lock_projector(client: &impl GenericClient, name: &str) -> Result<bool, ProjectionError> {
    let row =
        client.query_one(&client.prepare_cached("SELECT pg_try_advisory_lock($1)").await?, &[&lock_key(name)]).await?;
    Ok(row.get(0))
}

pub(crate) async fn unlock_projector(client: &impl GenericClient, name: &str) -> Result<(), ProjectionError> {
    client.execute("SELECT pg_advisory_unlock($1)", &[&lock_key(name)]).await?;
    Ok(())
}

pub(crate) async fn ensure_checkpoint_row(client: &impl GenericClient, name: &str) -> Result<(), ProjectionError> {
    client
        .execute("INSERT INTO projector_checkpoints (projector) VALUES ($1) ON CONFLICT DO NOTHING", &[&name])
        .await?;
    Ok(())
}

pub(crate) async fn load_checkpoint(client: &impl GenericClient, name: &str) -> Result<Checkpoint, ProjectionError> {
    let statement = client
        .prepare_cached("SELECT last_tx_id, last_position FROM projector_checkpoints WHERE projector = $1")
        .await?;
    let row = client.query_one(&statement, &[&name]).await?;
    Ok(Checkpoint { tx_id: row.get(0), position: row.get(1) })
}

/// Moves the checkpoint from `from` to `to`; refuses if someone else moved it meanwhile.
pub(crate) async fn save_checkpoint(
    tx: &Transaction<'_>,
    name: &str,
    from: Checkpoint,
    to: Checkpoint,
) -> Result<(), ProjectionError> {
    let statement = tx
        .prepare_cached(
            "UPDATE projector_checkpoints SET last_tx_id = $2, last_position = $3, updated_at = now() \
             WHERE projector = $1 AND last_tx_id = $4 AND last_position = $5",
        )
        .await?;
    let moved = tx.execute(&statement, &[&name, &to.tx_id, &to.position, &from.tx_id, &from.position]).await?;
    if moved != 1 {
        warn!(projector = name, "checkpoint moved by another process");
        return Err(ProjectionError::ProjectorBusy(name.to_string()));
    }
    Ok(())
}
