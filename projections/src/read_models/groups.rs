use deadpool_postgres::Transaction;
use domain::gradido::GroupEvent;

use super::execute;
use crate::engine::EventProjector;
use crate::error::ProjectionError;
use store::StoredEvent;

/// `groups`: Gradido groups by alias.
pub struct GroupsProjector;

impl GroupsProjector {
    pub const NAME: &'static str = "groups";
}

impl EventProjector for GroupsProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn handle(&self, tx: &Transaction<'_>, event: &StoredEvent) -> Result<(), ProjectionError> {
        if event.aggregate_type != "group" {
            return Ok(());
        }
        let GroupEvent::GroupCreated { alias, name, description } = event.decode()?;
        execute(
            tx,
            "INSERT INTO groups (alias, name, description, last_tx_id, last_position, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[&alias, &name, &description, &event.tx_id, &event.position, &event.recorded_at],
        )
        .await?;
        Ok(())
    }
}
