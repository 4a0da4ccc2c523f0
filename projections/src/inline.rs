//! Projecting a batch in its append's own transaction (docs/adr/0021-projecting-in-the-append.md).
//!
//! The projection pass applies the log in commit-safe order: (tx_id, position), read only
//! below the oldest running transaction. An append may apply its own events to the read
//! models, in its own transaction, exactly when the pass would have applied them next:
//!
//! - no transaction older than the append's is still running, so nothing can still commit
//!   before its events in that order, and
//! - the pass has applied everything before them: the newest event below the append's
//!   transaction id is the pass's checkpoint.
//!
//! Then events, read models and checkpoints commit together, with one WAL flush, and the
//! request needs no second durable commit before it is answered. Whenever either condition
//! fails, the append commits its events alone and the pass projects them, as before. The
//! pass and the appends of this process take turns through one gate, a page or a batch at
//! a time; another process's pass moving the checkpoints makes the checkpoint update come
//! up short, and the batch is appended again without projecting.

use std::borrow::Cow;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use deadpool_postgres::GenericClient;
use tokio::sync::{watch, Mutex, Notify, OwnedMutexGuard};

use crate::error::ProjectionError;
use crate::pass::ProjectionPass;
use store::{Checkpoint, StoredEvent};

/// Where the gate between the pass and the appends stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GateState {
    /// This process's pass does not lead, or is not at one checkpoint for every read model.
    Closed,
    /// This process's pass leads, idle, with every read model saved at this checkpoint.
    Open(Checkpoint),
    /// An append's projection failed in a way that may leave the pass's view of its
    /// checkpoints wrong; the pass reloads them before its next page.
    Broken,
}

/// The turn-taking between the projection pass and the appends of this process.
pub struct InlineGate {
    state: Arc<Mutex<GateState>>,
    /// Whether this process's pass leads: only then is a turn worth waiting for.
    leading: AtomicBool,
    /// The pass's published progress and wake-up, set when the engine spawns it.
    runner: OnceLock<RunnerHandles>,
}

struct RunnerHandles {
    progress: Arc<watch::Sender<Checkpoint>>,
    wake: Arc<Notify>,
}

impl Default for InlineGate {
    fn default() -> Self {
        Self {
            state: Arc::new(Mutex::new(GateState::Closed)),
            leading: AtomicBool::new(false),
            runner: OnceLock::new(),
        }
    }
}

impl InlineGate {
    pub(crate) fn attach(&self, progress: Arc<watch::Sender<Checkpoint>>, wake: Arc<Notify>) {
        let attached = self.runner.set(RunnerHandles { progress, wake }).is_ok();
        assert!(attached, "a gate belongs to one running pass");
    }

    /// The pass's turn: held while it reads, applies and commits one page.
    pub(crate) async fn turn(&self) -> OwnedMutexGuard<GateState> {
        self.state.clone().lock_owned().await
    }

    /// Sets the state as the pass starts to lead (`Open`) or stops (`Closed`).
    pub(crate) async fn set(&self, state: GateState) {
        let mut guard = self.state.lock().await;
        *guard = state;
        self.leading.store(matches!(state, GateState::Open(_)), Ordering::Relaxed);
    }
}

/// What an append uses to project its own batch. Cheap to clone.
#[derive(Clone)]
pub struct InlineProjection {
    pass: Arc<ProjectionPass>,
}

impl InlineProjection {
    pub(crate) fn of(pass: Arc<ProjectionPass>) -> Self {
        Self { pass }
    }

    /// The turn to project the next batch, once the pass has finished the page it is on.
    /// Waiting for that page is what keeps the two from forming a pipeline: an append that
    /// committed alone wakes the pass, whose page would make the next append commit alone.
    /// `None` when this process's pass does not lead or is not at one checkpoint.
    pub async fn turn(&self) -> Option<InlineTurn> {
        let gate = self.pass.inline_gate();
        if !gate.leading.load(Ordering::Relaxed) {
            store::metrics::inline_projection("pass_not_leading");
            return None;
        }
        let guard = gate.turn().await;
        let frontier = match *guard {
            GateState::Open(frontier) => frontier,
            GateState::Closed => {
                store::metrics::inline_projection("pass_not_leading");
                return None;
            }
            GateState::Broken => {
                store::metrics::inline_projection("pass_reloading");
                return None;
            }
        };
        if !self.pass.is_saved_at(frontier) {
            store::metrics::inline_projection("pass_not_aligned");
            return None;
        }
        Some(InlineTurn { pass: self.pass.clone(), guard, frontier })
    }

    /// The pass's wake-up: an append it projected need not wake it.
    pub fn pass_wake(&self) -> Option<Arc<Notify>> {
        self.pass.inline_gate().runner.get().map(|runner| runner.wake.clone())
    }
}

/// One append's turn at the read models; the pass waits until it is over.
pub struct InlineTurn {
    pass: Arc<ProjectionPass>,
    guard: OwnedMutexGuard<GateState>,
    frontier: Checkpoint,
}

impl InlineTurn {
    /// Whether the append's events, in this transaction, are the next the pass would read.
    /// It may run before or after the INSERT (they are sent together): it assigns the
    /// transaction its id if the INSERT has not, and the answer holds either way, since no
    /// transaction can later take a smaller id.
    pub async fn is_next(&self, tx: &impl GenericClient) -> Result<bool, ProjectionError> {
        let statement = tx
            .prepare_cached(
                "SELECT pg_snapshot_xmin(pg_current_snapshot()) = pg_current_xact_id(), before.tx, before.position \
                 FROM (SELECT) AS one LEFT JOIN LATERAL ( \
                   SELECT tx_id::text::bigint AS tx, global_position AS position FROM events \
                   WHERE tx_id < pg_current_xact_id() ORDER BY tx_id DESC, global_position DESC LIMIT 1) AS before ON true",
            )
            .await?;
        let row = tx.query_one(&statement, &[]).await?;
        if !row.get::<_, bool>(0) {
            store::metrics::inline_projection("older_transaction_running");
            return Ok(false);
        }
        let before = match (row.get::<_, Option<i64>>(1), row.get::<_, Option<i64>>(2)) {
            (Some(tx_id), Some(position)) => Checkpoint { tx_id, position },
            _ => Checkpoint::START,
        };
        if before != self.frontier {
            store::metrics::inline_projection("pass_behind");
            return Ok(false);
        }
        Ok(true)
    }

    /// Inside the append's transaction, once `is_next` said so: applies `events` (the
    /// batch, as stored) to every read model, moves the checkpoints to the last of them and
    /// sends `commit`, all in one flight (`Writes::send_then`). The outer error: nothing
    /// was committed; the inner result is the COMMIT's.
    pub async fn apply_then<F>(
        &self,
        client: &impl GenericClient,
        events: &[StoredEvent],
        commit: F,
    ) -> Result<Result<Checkpoint, tokio_postgres::Error>, ProjectionError>
    where
        F: Future<Output = Result<(), tokio_postgres::Error>> + Send,
    {
        // An INSERT returns its rows in position order; the pass needs them so, and a copy
        // is made only if they are not.
        let events = if events.is_sorted_by_key(StoredEvent::checkpoint) {
            Cow::Borrowed(events)
        } else {
            let mut sorted = events.to_vec();
            sorted.sort_by_key(StoredEvent::checkpoint);
            Cow::Owned(sorted)
        };
        let last = events.last().map(StoredEvent::checkpoint).expect("an append projects at least one event");
        let mut writes = self.pass.project(client, &events).await?;
        let moved = self.pass.move_checkpoints(client, last, &mut writes).await?;
        let committed = writes.send_then(client, commit).await.map_err(crate::pass::moved_elsewhere)?;
        if committed.is_ok() {
            if let Some(moved) = moved {
                self.pass.checkpoints_saved(moved);
            }
        }
        Ok(committed.map(|()| last))
    }

    /// The append committed with its projection: the pass continues after `last`, and
    /// read-your-writes waits see it at once.
    pub fn committed(mut self, last: Checkpoint) {
        store::metrics::inline_projection("projected");
        *self.guard = GateState::Open(last);
        if let Some(runner) = self.pass.inline_gate().runner.get() {
            runner.progress.send_replace(last);
        }
    }

    /// The projection or the commit failed: the pass reloads its checkpoints first.
    pub fn failed(mut self) {
        store::metrics::inline_projection("failed");
        *self.guard = GateState::Broken;
    }
}
