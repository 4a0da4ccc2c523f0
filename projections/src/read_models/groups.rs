use deadpool_postgres::GenericClient;
use domain::gradido::GroupEvent;

use crate::engine::EventProjector;
use crate::error::ProjectionError;
use crate::writes::Writes;
use store::StoredEvent;

/// `groups`: Gradido groups by alias, numbered 1, 2, ... in the order they were created
/// (the login server's `group_id`; a replay numbers them the same).
pub struct GroupsProjector;

impl GroupsProjector {
    pub const NAME: &'static str = "groups";
}

impl EventProjector for GroupsProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn handle(
        &self,
        tx: &impl GenericClient,
        writes: &mut Writes,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        if event.aggregate_type != "group" {
            return Ok(());
        }
        let GroupEvent::GroupCreated { alias, name, description } = event.decode()?;
        writes
            .push(
                tx,
                "INSERT INTO groups (alias, name, description, last_tx_id, last_position, created_at, group_id) \
             SELECT $1, $2, $3, $4, $5, $6, coalesce(max(group_id), 0) + 1 FROM groups ON CONFLICT DO NOTHING",
                &[&alias, &name, &description, &event.tx_id, &event.position, &event.recorded_at],
            )
            .await?;
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    pub group_id: i64,
    pub alias: String,
    pub name: String,
}

/// Most groups one answer lists.
pub const MAX_GROUPS_LISTED: i64 = 1_000;

fn group_row(row: &tokio_postgres::Row) -> GroupRow {
    GroupRow { group_id: row.get("group_id"), alias: row.get("alias"), name: row.get("name") }
}

pub async fn by_id(
    client: &impl deadpool_postgres::GenericClient,
    group_id: i64,
) -> Result<Option<GroupRow>, ProjectionError> {
    let row = client.query_opt("SELECT group_id, alias, name FROM groups WHERE group_id = $1", &[&group_id]).await?;
    Ok(row.as_ref().map(group_row))
}

pub async fn by_alias(
    client: &impl deadpool_postgres::GenericClient,
    alias: &str,
) -> Result<Option<GroupRow>, ProjectionError> {
    let row = client.query_opt("SELECT group_id, alias, name FROM groups WHERE alias = $1", &[&alias]).await?;
    Ok(row.as_ref().map(group_row))
}

/// Every group, oldest first.
pub async fn all(client: &impl deadpool_postgres::GenericClient) -> Result<Vec<GroupRow>, ProjectionError> {
    let rows = client
        .query("SELECT group_id, alias, name FROM groups ORDER BY group_id LIMIT $1", &[&MAX_GROUPS_LISTED])
        .await?;
    Ok(rows.iter().map(group_row).collect())
}
