//! Moving money between two accounts: the one transfer protocol every dialect and process
//! manager uses. The debit (a `SendTransfer`, or the capture of a hold) is appended first,
//! then the credit is completed inline for latency (ADR 4); whatever the inline completion
//! does not finish, the transfer-completion process manager finishes from the log.

use chrono::Utc;
use domain::account::{AccountCommand, AccountEvent};
use rust_decimal::Decimal;
use store::{Operation, StoredEvent};
use tracing::warn;

use crate::bus::{CommandBus, Outcome};
use crate::error::AppError;
use crate::process_managers::transfer_completion::outstanding_step;

/// Where a transfer stands when its command returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferStatus {
    /// Credited to the destination.
    Completed,
    /// The destination refused it; the money is back with the sender.
    Returned,
    /// Durable and debited; the process manager completes it in the background.
    Pending,
}

/// What a transfer appended, and how far it got.
#[derive(Debug, Clone)]
pub struct TransferReceipt {
    /// The debit: the event the operation appended (or appended before, on a replay).
    pub debit: StoredEvent,
    /// The newest event of the transfer: a read that shows it shows the whole transfer.
    pub last_event: StoredEvent,
    pub status: TransferStatus,
    pub replayed: bool,
}

/// Sends `amount` from account `from` to account `to` (a user or system account id).
pub async fn send(
    bus: &CommandBus,
    from: &str,
    to: &str,
    amount: Decimal,
    memo: Option<String>,
    operation: &Operation,
) -> Result<TransferReceipt, AppError> {
    let to = bus.destination(to).await?;
    let command = AccountCommand::SendTransfer { transfer_id: operation.id.clone(), to, amount, memo };
    let outcome = bus.execute(from, command, operation).await?;
    complete(bus, outcome).await
}

/// Captures hold `hold_id` of `account` as a transfer named `transfer_id` to `to`.
pub async fn capture_hold(
    bus: &CommandBus,
    account: &str,
    hold_id: &str,
    to: &str,
    transfer_id: String,
    memo: Option<String>,
    operation: &Operation,
) -> Result<TransferReceipt, AppError> {
    let to = bus.destination(to).await?;
    let command = AccountCommand::CaptureHold { hold_id: hold_id.to_string(), transfer_id, to, memo, now: Utc::now() };
    let outcome = bus.execute(account, command, operation).await?;
    complete(bus, outcome).await
}

async fn complete(bus: &CommandBus, outcome: Outcome) -> Result<TransferReceipt, AppError> {
    let replayed = outcome.is_replay();
    let debit = outcome.event().cloned().ok_or_else(|| AppError::Internal("a transfer appended nothing".into()))?;
    let (status, last_event) = complete_inline(bus, &debit).await;
    Ok(TransferReceipt { last_event: last_event.unwrap_or_else(|| debit.clone()), debit, status, replayed })
}

/// Completes a transfer inline: the same idempotent steps the transfer-completion process
/// manager takes from the log. A failure here leaves the transfer `Pending`, durable, for
/// the process manager to finish.
async fn complete_inline(bus: &CommandBus, debit: &StoredEvent) -> (TransferStatus, Option<StoredEvent>) {
    let step = match debit.decode::<AccountEvent>().map(|event| outstanding_step(&debit.aggregate_id, &event)) {
        Ok(Some((_, step))) => step,
        Ok(None) => return (TransferStatus::Completed, None),
        Err(error) => {
            warn!(%error, "cannot decode a transfer debit");
            return (TransferStatus::Pending, None);
        }
    };
    let credit = match bus.receive_transfer(&step).await {
        Ok(outcome) => outcome.event().cloned(),
        Err(error) => {
            warn!(transfer_id = step.transfer_id, %error, "inline credit failed; the process manager completes it");
            return (TransferStatus::Pending, None);
        }
    };
    let Some(credit) = credit else { return (TransferStatus::Pending, None) };
    // A received credit leaves nothing outstanding; a refused one leaves its return.
    let give_back = match credit.decode::<AccountEvent>() {
        Ok(event) => outstanding_step(&credit.aggregate_id, &event),
        Err(_) => return (TransferStatus::Pending, Some(credit)),
    };
    let Some((_, give_back)) = give_back else { return (TransferStatus::Completed, Some(credit)) };
    match bus.return_transfer(&give_back).await {
        Ok(outcome) => (TransferStatus::Returned, outcome.event().cloned().or(Some(credit))),
        Err(error) => {
            warn!(transfer_id = step.transfer_id, %error, "inline return failed; the process manager completes it");
            (TransferStatus::Pending, Some(credit))
        }
    }
}
