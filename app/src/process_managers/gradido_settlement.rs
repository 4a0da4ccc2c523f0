//! Executing Gradido transactions: a process manager sends each signed transaction to the
//! network and settles it on confirmation; rejection or cancellation releases what it
//! reserved. Every step has a derived operation id, so a retry after a crash repeats
//! nothing.

use deadpool_postgres::Transaction;
use domain::account::AccountCommand;
use domain::gradido::{creation_budget_id, BudgetCommand, Created, GradidoKind, TransactionCommand, TransactionEvent};
use domain::system_account::SystemAccountKind;
use domain::DomainError;
use projections::{EventHandler, ProjectionError, StoredEvent};
use tracing::warn;

use store::{ids, Operation};

use crate::bus::CommandBus;
use crate::error::AppError;
use crate::ports::gradido_network::{GradidoNetwork, Verdict};
use crate::use_cases::transfers;

pub struct GradidoSettlement<N> {
    bus: CommandBus,
    network: N,
}

impl<N: GradidoNetwork> GradidoSettlement<N> {
    pub const NAME: &'static str = "gradido_settlement";

    pub fn new(bus: CommandBus, network: N) -> Self {
        Self { bus, network }
    }

    async fn react(&self, event: &StoredEvent) -> Result<(), AppError> {
        let id = event.aggregate_id.as_str();
        match event.decode::<TransactionEvent>()? {
            TransactionEvent::GradidoTransactionSigned { at, .. } => {
                let state = self.bus.load::<domain::gradido::GradidoTransaction>(id).await?;
                let Some(details) = state.details() else { return Ok(()) };
                let verdict = match self.network.submit(id, at, details).await {
                    Verdict::Confirmed => settle(&self.bus, id, details).await?,
                    rejected => rejected,
                };
                let command = match verdict {
                    Verdict::Confirmed => TransactionCommand::Confirm,
                    Verdict::Rejected(reason) => TransactionCommand::Reject { reason },
                };
                self.bus.execute(id, command, &Operation::derived(ids::gradido_verdict(id))).await?;
            }
            TransactionEvent::GradidoTransactionRejected { .. }
            | TransactionEvent::GradidoTransactionCancelled { .. } => {
                let state = self.bus.load::<domain::gradido::GradidoTransaction>(id).await?;
                if let Some(details) = state.details() {
                    release(&self.bus, id, details).await?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl<N: GradidoNetwork> EventHandler for GradidoSettlement<N> {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn wants(&self, batch: &[StoredEvent]) -> bool {
        batch.iter().any(|event| event.aggregate_type == "gradido_transaction")
    }

    fn min_batch_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(super::PROCESS_MANAGER_INTERVAL_MS)
    }

    async fn handle_batch(&self, _tx: &Transaction<'_>, events: &[StoredEvent]) -> Result<(), ProjectionError> {
        for event in events.iter().filter(|event| event.aggregate_type == "gradido_transaction") {
            self.react(event).await.map_err(|error| ProjectionError::CommandFailed {
                position: event.position,
                reason: error.to_string(),
            })?;
        }
        Ok(())
    }
}

/// Moves the money of a confirmed transaction: the held amount to the recipient, or new
/// money from issuance for a creation. A refusal here rejects the transaction.
async fn settle(bus: &CommandBus, id: &str, details: &Created) -> Result<Verdict, AppError> {
    let operation = Operation::derived(ids::gradido_settle(id));
    let outcome = match details.kind {
        GradidoKind::Transfer => {
            let Some(from) = &details.from_account else {
                return Ok(Verdict::Rejected("transfer without a sender".into()));
            };
            transfers::capture_hold(bus, from, id, &details.to_account, operation.id.clone(), None, &operation)
                .await
                .map(drop)
        }
        GradidoKind::Creation => {
            let deposit = AccountCommand::Deposit {
                amount: details.amount.value(),
                source: SystemAccountKind::Issuance,
                reference: Some(id.to_string()),
            };
            bus.execute(&details.to_account, deposit, &operation).await.map(drop)
        }
    };
    match outcome {
        Ok(()) => Ok(Verdict::Confirmed),
        Err(AppError::Domain(refusal)) => Ok(Verdict::Rejected(refusal.to_string())),
        // Not a decision but storage trouble: the batch fails and is retried.
        Err(error) => {
            warn!(transaction = id, %error, "settlement failed; will retry");
            Err(error)
        }
    }
}

/// Gives back what a transaction reserved: the hold of a transfer, the budget of a creation.
/// Returns the event that did it, if any, for read-your-writes waits.
pub async fn release(bus: &CommandBus, id: &str, details: &Created) -> Result<Option<StoredEvent>, AppError> {
    match details.kind {
        GradidoKind::Transfer => match &details.from_account {
            Some(from) => release_hold(bus, from, id).await,
            None => Ok(None),
        },
        GradidoKind::Creation => match details.target_date {
            Some(target_date) => release_budget(bus, &creation_budget_id(&details.recipient, target_date), id).await,
            None => Ok(None),
        },
    }
}

/// Releases the hold transaction `id` placed on `account`, once.
pub async fn release_hold(bus: &CommandBus, account: &str, id: &str) -> Result<Option<StoredEvent>, AppError> {
    let command = AccountCommand::ReleaseHold { hold_id: id.to_string() };
    match bus.execute(account, command, &Operation::derived(ids::gradido_release(id))).await {
        Err(AppError::Domain(DomainError::HoldNotFound(_))) => Ok(None),
        outcome => Ok(outcome?.event().cloned()),
    }
}

/// Gives back what creation `id` reserved of `budget`, once.
pub async fn release_budget(bus: &CommandBus, budget: &str, id: &str) -> Result<Option<StoredEvent>, AppError> {
    let command = BudgetCommand::Release { transaction_id: id.to_string() };
    let outcome = bus.execute(budget, command, &Operation::derived(ids::gradido_unbudget(id))).await?;
    Ok(outcome.event().cloned())
}
