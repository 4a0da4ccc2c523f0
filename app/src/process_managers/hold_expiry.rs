//! Releases holds whose time has come. The account aggregate decides (`ExpireHold` with the
//! current time); this task only finds candidates in the `holds` read model. Each expiry has
//! a derived operation id, so several servers sweeping at once release each hold once.

use std::time::Duration;

use domain::account::AccountCommand;
use domain::DomainError;
use projections::read_models::holds;
use tokio::sync::watch;

use crate::bus::CommandBus;
use crate::error::AppError;
use store::{ids, Operation};

const SWEEP_INTERVAL_MS: u64 = 250;
/// Most holds expired in one sweep; the next sweep takes the rest.
const MAX_EXPIRIES_PER_SWEEP: i64 = 500;

pub async fn run(bus: CommandBus, reads: deadpool_postgres::Pool, shutdown: watch::Receiver<bool>) {
    crate::periodic::every(Duration::from_millis(SWEEP_INTERVAL_MS), "hold expiry sweep", shutdown, || {
        sweep(&bus, &reads)
    })
    .await;
}

async fn sweep(bus: &CommandBus, reads: &deadpool_postgres::Pool) -> Result<(), AppError> {
    let due = holds::due_for_expiry(&reads.get().await?, MAX_EXPIRIES_PER_SWEEP).await?;
    for (account_id, hold_id) in due {
        let operation = Operation::derived(ids::expire_hold(&account_id, &hold_id));
        let command = AccountCommand::ExpireHold { hold_id, now: chrono::Utc::now() };
        match bus.execute(&account_id, command, &operation).await {
            Ok(_) | Err(AppError::Domain(DomainError::HoldNotFound(_) | DomainError::HoldNotExpired(_))) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
