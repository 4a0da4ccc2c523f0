//! What request handlers use: the command bus plus read-your-writes.

use std::time::Duration;

use deadpool_postgres::Pool;
use domain::account::AccountCommand;
use domain::{AssetCode, DomainError, Scale};
use projections::registry::READ_YOUR_WRITES;
use projections::ProjectionStatus;
use store::{ids, Operation, StoredEvent};
use tracing::warn;

use crate::bus::CommandBus;
use crate::error::AppError;

/// The command bus plus read-your-writes: what request handlers use.
#[derive(Clone)]
pub struct Ledger {
    pub bus: CommandBus,
    pub status: ProjectionStatus,
    pub reads: Pool,
    pub read_your_writes_timeout: Duration,
}

impl Ledger {
    /// Opens a user's account of `asset` for `purpose` unless it is open already (by this
    /// call's operation or any other), and waits until the read models show it.
    pub async fn open_user_account(
        &self,
        account_id: &str,
        asset: &str,
        decimals: u32,
        owner: &str,
        purpose: &str,
    ) -> Result<(), AppError> {
        let command = AccountCommand::Open {
            account_id: account_id.to_string(),
            asset: AssetCode::parse(asset)?,
            scale: Scale::new(decimals)?,
            owner: Some(owner.to_string()),
            purpose: Some(purpose.to_string()),
        };
        match self.bus.execute(account_id, command, &Operation::derived(ids::open_account(account_id))).await {
            Ok(outcome) => {
                if let Some(event) = outcome.event() {
                    self.await_read_models(event).await;
                }
                Ok(())
            }
            Err(AppError::Domain(DomainError::AccountAlreadyOpened)) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Waits until every read model reflects `event`, so a read after the response sees it.
    pub async fn await_read_models(&self, event: &StoredEvent) {
        let reached = self.status.wait_for(&READ_YOUR_WRITES, event.checkpoint(), self.read_your_writes_timeout).await;
        if !reached {
            warn!(position = event.position, "read models lag behind an acknowledged write");
        }
    }
}
