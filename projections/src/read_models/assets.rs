use deadpool_postgres::GenericClient;
use domain::asset::AssetEvent;

use crate::engine::EventProjector;
use crate::error::ProjectionError;
use crate::writes::Writes;
use store::StoredEvent;

/// `assets`: every asset and its fixed scale.
pub struct AssetsProjector;

impl AssetsProjector {
    pub const NAME: &'static str = "assets";
}

impl EventProjector for AssetsProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn handle(
        &self,
        tx: &impl GenericClient,
        writes: &mut Writes,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        if event.aggregate_type != "asset" {
            return Ok(());
        }
        let AssetEvent::AssetDefined { code, scale } = event.decode()? else {
            return Ok(());
        };
        let scale = i32::try_from(scale.decimals()).expect("scales are at most 18");
        writes
            .push(
                tx,
                "INSERT INTO assets (code, scale, last_tx_id, last_position, defined_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[&code.as_str(), &scale, &event.tx_id, &event.position, &event.recorded_at],
            )
            .await?;
        Ok(())
    }
}

/// Every asset and its scale, by code.
pub async fn all(client: &impl GenericClient, limit: i64) -> Result<Vec<(String, u32)>, ProjectionError> {
    let rows = client.query("SELECT code, scale FROM assets ORDER BY code LIMIT $1", &[&limit]).await?;
    Ok(rows.iter().map(|row| (row.get(0), u32::try_from(row.get::<_, i32>(1)).unwrap_or_default())).collect())
}
