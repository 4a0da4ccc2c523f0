//! Sends withdrawals to the chain from the durable log. `withdraw-joy` answers once the
//! debit (which names the txid) is committed; this process manager then broadcasts every
//! `ChainWithdrawalDebited`, retrying with the engine's backoff until the chain takes it, so
//! a crash or a chain outage delays a withdrawal but never loses it. Broadcasting is
//! idempotent per withdrawal, so a retried batch is harmless.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Transaction;
use domain::account::AccountEvent;
use projections::{EventHandler, ProjectionError, StoredEvent};

use super::PROCESS_MANAGER_INTERVAL_MS;
use crate::ports::chain::{Chain, ChainWithdrawal};

pub struct ChainBroadcaster {
    pub chain: Arc<dyn Chain>,
}

impl ChainBroadcaster {
    pub const NAME: &'static str = "chain_broadcaster";
}

/// The withdrawal a debit event stands for; its id is the operation that debited.
pub fn withdrawal_of(event: &StoredEvent) -> Result<Option<(ChainWithdrawal, String)>, ProjectionError> {
    if event.aggregate_type != "account" || event.event_type != "ChainWithdrawalDebited" {
        return Ok(None);
    }
    let AccountEvent::ChainWithdrawalDebited { amount, txid, from_address, to_address } = event.decode()? else {
        return Ok(None);
    };
    let asset = event.aggregate_id.rsplit(':').next().unwrap_or_default().to_string();
    let withdrawal = ChainWithdrawal {
        withdrawal_id: event.operation_id().unwrap_or_default().to_string(),
        from_address,
        to_address,
        asset,
        amount: amount.value().normalize().to_string(),
    };
    Ok(Some((withdrawal, txid)))
}

impl EventHandler for ChainBroadcaster {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn wants(&self, batch: &[StoredEvent]) -> bool {
        batch.iter().any(|event| event.aggregate_type == "account" && event.event_type == "ChainWithdrawalDebited")
    }

    fn min_batch_interval(&self) -> Duration {
        Duration::from_millis(PROCESS_MANAGER_INTERVAL_MS)
    }

    async fn handle_batch(&self, _tx: &Transaction<'_>, events: &[StoredEvent]) -> Result<(), ProjectionError> {
        for event in events {
            if let Some((withdrawal, txid)) = withdrawal_of(event)? {
                self.chain.broadcast(&withdrawal, &txid).await.map_err(|error| ProjectionError::CommandFailed {
                    position: event.position,
                    reason: format!("broadcasting {txid}: {error}"),
                })?;
            }
        }
        Ok(())
    }
}
