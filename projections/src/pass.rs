//! One projection pass: every read model applied to each page of the log in one
//! transaction, with one checkpoint statement (ADR 17). Read-your-writes then waits for one
//! position instead of one per read model.
//!
//! Each read model keeps its own checkpoint row, all moved together by one statement, so
//! analysts and `ledger replay` see per-model progress as before. A database from before the
//! pass may hold read models at different checkpoints; the pass starts at the oldest and
//! gives each read model only the events after its own checkpoint, so nothing is applied
//! twice, and after the first page past the newest they move as one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use deadpool_postgres::{GenericClient, Object, Transaction};

use crate::engine::EventHandler;
use crate::error::ProjectionError;
use crate::inline::{InlineGate, InlineProjection};
use crate::read_models::Projector;
use crate::registry::{ReadModelProjector, ALL};
use crate::writes::Writes;
use store::{Checkpoint, StoredEvent};

pub struct ProjectionPass {
    models: Vec<ReadModelProjector>,
    /// Each read model's saved checkpoint, as of the last load or save.
    positions: Mutex<HashMap<&'static str, Checkpoint>>,
    /// Turns between this pass and the appends that project their own batch.
    gate: InlineGate,
}

impl Default for ProjectionPass {
    fn default() -> Self {
        Self {
            models: ALL.iter().map(ReadModelProjector::of).collect(),
            positions: Mutex::new(HashMap::new()),
            gate: InlineGate::default(),
        }
    }
}

impl ProjectionPass {
    /// The advisory lock of the pass; each read model's checkpoint row keeps its own name.
    pub const NAME: &'static str = "read_models";

    fn model_names(&self) -> Vec<&'static str> {
        self.models.iter().map(Projector::name).collect()
    }

    fn positions(&self) -> HashMap<&'static str, Checkpoint> {
        self.positions.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// A pass for the engine to run, and the handle appends project their batches through.
    pub fn shared() -> (Arc<Self>, InlineProjection) {
        let pass = Arc::new(Self::default());
        let inline = InlineProjection::of(pass.clone());
        (pass, inline)
    }

    pub(crate) fn inline_gate(&self) -> &InlineGate {
        &self.gate
    }

    /// Whether every read model was last saved at `checkpoint`.
    pub(crate) fn is_saved_at(&self, checkpoint: Checkpoint) -> bool {
        let positions = self.positions();
        self.model_names().iter().all(|name| saved(&positions, name) == checkpoint)
    }
}

/// Where read model `name` stood at the last load or save (a row never saved: the start).
fn saved(positions: &HashMap<&'static str, Checkpoint>, name: &str) -> Checkpoint {
    positions.get(name).copied().unwrap_or(Checkpoint::START)
}

impl EventHandler for ProjectionPass {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn published_names(&self) -> Vec<&'static str> {
        let mut names = self.model_names();
        names.push(Self::NAME);
        names
    }

    fn gate(&self) -> Option<&InlineGate> {
        Some(&self.gate)
    }

    /// The read models write disjoint tables and never read each other's, so all their
    /// writes go out together: a page costs one round trip to PostgreSQL, not one per read
    /// model or per statement.
    async fn handle_batch(&self, tx: &Transaction<'_>, events: &[StoredEvent]) -> Result<(), ProjectionError> {
        self.project(tx, events).await?.send(tx).await
    }

    async fn load_position(&self, client: &Object) -> Result<Checkpoint, ProjectionError> {
        let names = self.model_names();
        client
            .execute(
                "INSERT INTO projector_checkpoints (projector) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
                &[&names],
            )
            .await?;
        let rows = client
            .query(
                "SELECT projector, last_tx_id, last_position FROM projector_checkpoints WHERE projector = ANY($1)",
                &[&names],
            )
            .await?;
        let mut positions = HashMap::with_capacity(names.len());
        for row in rows {
            let name: String = row.get(0);
            let Some(name) = names.iter().find(|known| **known == name) else { continue };
            positions.insert(*name, Checkpoint { tx_id: row.get(1), position: row.get(2) });
        }
        let oldest = names.iter().map(|name| saved(&positions, name)).min();
        *self.positions.lock().unwrap_or_else(PoisonError::into_inner) = positions;
        Ok(oldest.unwrap_or(Checkpoint::START))
    }

    async fn save_position(
        &self,
        tx: &Transaction<'_>,
        _from: Checkpoint,
        to: Checkpoint,
    ) -> Result<(), ProjectionError> {
        let mut writes = Writes::default();
        let Some(moved) = self.move_checkpoints(tx, to, &mut writes).await? else { return Ok(()) };
        writes.send(tx).await.map_err(moved_elsewhere)?;
        // Taken as saved now; if the commit fails, the runner loads the positions again.
        self.checkpoints_saved(moved);
        Ok(())
    }
}

impl ProjectionPass {
    /// The writes that apply `events` to every read model, each from after its own
    /// checkpoint.
    pub(crate) async fn project(
        &self,
        client: &impl GenericClient,
        events: &[StoredEvent],
    ) -> Result<Writes, ProjectionError> {
        let positions = self.positions();
        let mut writes = Writes::default();
        for model in &self.models {
            let saved = saved(&positions, Projector::name(model));
            let first_new = events.partition_point(|event| event.checkpoint() <= saved);
            if first_new < events.len() {
                model.project(client, &events[first_new..], &mut writes).await?;
            }
        }
        Ok(writes)
    }

    /// Adds the statement that moves every read model behind `to` to it, and returns what
    /// to record once it has committed (`None`: every read model is there already). Each row
    /// moves only from where this pass last saw it; a row another process moved fails the
    /// statement (`ledger_require`), so the check can travel with the COMMIT.
    pub(crate) async fn move_checkpoints(
        &self,
        client: &impl GenericClient,
        to: Checkpoint,
        writes: &mut Writes,
    ) -> Result<Option<MovedCheckpoints>, ProjectionError> {
        let positions = self.positions();
        let (behind, from): (Vec<&'static str>, Vec<Checkpoint>) = self
            .model_names()
            .into_iter()
            .map(|name| (name, saved(&positions, name)))
            .filter(|(_, from)| *from < to)
            .unzip();
        if behind.is_empty() {
            return Ok(None);
        }
        let saved_tx: Vec<i64> = from.iter().map(|checkpoint| checkpoint.tx_id).collect();
        let saved_position: Vec<i64> = from.iter().map(|checkpoint| checkpoint.position).collect();
        let expected = behind.len() as i64;
        writes
            .push(
                client,
                "WITH moved AS ( \
                   UPDATE projector_checkpoints c SET last_tx_id = $2, last_position = $3, updated_at = now() \
                   FROM unnest($1::text[], $4::int8[], $5::int8[]) AS saved (projector, tx_id, position) \
                   WHERE c.projector = saved.projector AND c.last_tx_id = saved.tx_id \
                     AND c.last_position = saved.position RETURNING 1) \
                 SELECT ledger_require(count(*) = $6, 'a read model''s checkpoint was moved by another process') \
                 FROM moved",
                &[&behind, &to.tx_id, &to.position, &saved_tx, &saved_position, &expected],
            )
            .await?;
        Ok(Some(MovedCheckpoints { names: behind, to }))
    }

    /// Records checkpoints moved by a statement of `move_checkpoints` that has committed.
    pub(crate) fn checkpoints_saved(&self, moved: MovedCheckpoints) {
        let mut saved = self.positions.lock().unwrap_or_else(PoisonError::into_inner);
        for name in moved.names {
            saved.insert(name, moved.to);
        }
    }
}

/// Read models whose checkpoints a pending statement moves, and where to.
pub(crate) struct MovedCheckpoints {
    names: Vec<&'static str>,
    to: Checkpoint,
}

/// The checkpoint statement's own failure, named; any other error as it is.
pub(crate) fn moved_elsewhere(error: ProjectionError) -> ProjectionError {
    match &error {
        ProjectionError::Database(db) if db.code().map(|code| code.code()) == Some(REQUIRED_CONDITION_FAILED) => {
            tracing::warn!(projector = ProjectionPass::NAME, "a read model's checkpoint moved by another process");
            ProjectionError::ProjectorBusy(ProjectionPass::NAME.to_string())
        }
        _ => error,
    }
}

/// The SQLSTATE `ledger_require` raises (migration 0013).
const REQUIRED_CONDITION_FAILED: &str = "LE001";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pass_publishes_every_read_model_and_itself() {
        let names = ProjectionPass::default().published_names();
        assert_eq!(names.len(), ALL.len() + 1);
        assert!(ALL.iter().all(|model| names.contains(&model.name)));
    }
}
