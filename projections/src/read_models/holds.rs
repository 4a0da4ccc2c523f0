use deadpool_postgres::Transaction;
use domain::account::AccountEvent;

use super::execute;
use crate::engine::EventProjector;
use crate::error::ProjectionError;
use store::StoredEvent;

/// `holds`: every hold with its expiry and what became of it.
pub struct HoldsProjector;

impl HoldsProjector {
    pub const NAME: &'static str = "holds";
}

impl EventProjector for HoldsProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn handle(&self, tx: &Transaction<'_>, event: &StoredEvent) -> Result<(), ProjectionError> {
        if event.aggregate_type != "account" {
            return Ok(());
        }
        let (hold_id, status) = match event.decode()? {
            AccountEvent::FundsHeld { hold_id, amount, expires_at, memo } => {
                execute(
                    tx,
                    "INSERT INTO holds (account_id, hold_id, amount, expires_at, memo, status, \
                                        last_tx_id, last_position, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8) ON CONFLICT DO NOTHING",
                    &[
                        &event.aggregate_id,
                        &hold_id,
                        &amount.value(),
                        &expires_at,
                        &memo,
                        &event.tx_id,
                        &event.position,
                        &event.recorded_at,
                    ],
                )
                .await?;
                return Ok(());
            }
            AccountEvent::HoldReleased { hold_id, expired: true, .. } => (hold_id, "expired"),
            AccountEvent::HoldReleased { hold_id, expired: false, .. } => (hold_id, "released"),
            AccountEvent::HoldCaptured { hold_id, .. } => (hold_id, "captured"),
            _ => return Ok(()),
        };
        execute(
            tx,
            "UPDATE holds SET status = $3, last_tx_id = $4, last_position = $5, updated_at = $6 \
             WHERE account_id = $1 AND hold_id = $2 AND (last_tx_id, last_position) < ($4, $5)",
            &[&event.aggregate_id, &hold_id, &status, &event.tx_id, &event.position, &event.recorded_at],
        )
        .await?;
        Ok(())
    }
}
