//! Moving money between two accounts: the one transfer protocol every dialect and process
//! manager uses. A transfer is one decision over both accounts, taken by the account
//! committer: the debit (a `SendTransfer`, or the capture of a hold), the credit, and, if
//! the destination refuses, the return, appended in one commit (ADR 17). Transfers that an
//! older version left half done (debit only, ADR 4) are finished by the transfer-completion
//! process manager, and by a retry of the same request.

use chrono::{DateTime, Utc};
use domain::account::{Account, AccountCommand, AccountEvent, TransferDestination};
use domain::system_account::parse_system_account;
use rust_decimal::Decimal;
use store::{Operation, StoredEvent};
use tracing::warn;

use crate::bus::CommandBus;
use crate::committer::{Committed, Decision, Workspace};
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
    let debit = Debit::Send { amount, memo };
    decide(bus, TransferDecision { from: from.to_string(), to: to.to_string(), debit, operation: operation.clone() })
        .await
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
    let debit = Debit::Capture { hold_id: hold_id.to_string(), transfer_id, memo, now: Utc::now() };
    let decision =
        TransferDecision { from: account.to_string(), to: to.to_string(), debit, operation: operation.clone() };
    decide(bus, decision).await
}

async fn decide(bus: &CommandBus, decision: TransferDecision) -> Result<TransferReceipt, AppError> {
    match bus.submit::<Account>(decision).await? {
        Committed::Appended(events) => {
            let debit =
                events.first().cloned().ok_or_else(|| AppError::Internal("a transfer appended nothing".into()))?;
            let last_event = events.last().cloned().unwrap_or_else(|| debit.clone());
            let status = match last_event.decode::<AccountEvent>() {
                Ok(AccountEvent::TransferReturned { .. }) => TransferStatus::Returned,
                _ => TransferStatus::Completed,
            };
            Ok(TransferReceipt { debit, last_event, status, replayed: false })
        }
        // A retry: report how far the transfer got, finishing one an older version left
        // half done.
        Committed::Replayed(debit) => {
            let (status, last_event) = complete_inline(bus, &debit).await;
            Ok(TransferReceipt {
                last_event: last_event.unwrap_or_else(|| debit.clone()),
                debit,
                status,
                replayed: true,
            })
        }
        Committed::Unchanged => Err(AppError::Internal("a transfer appended nothing".into())),
    }
}

/// What leaves the sending account.
enum Debit {
    Send { amount: Decimal, memo: Option<String> },
    Capture { hold_id: String, transfer_id: String, memo: Option<String>, now: DateTime<Utc> },
}

/// A whole transfer as one decision over both accounts.
struct TransferDecision {
    from: String,
    to: String,
    debit: Debit,
    operation: Operation,
}

impl TransferDecision {
    /// Where the money goes: a system account, or an opened user account as the batch
    /// knows it.
    fn destination(&self, workspace: &Workspace<'_, Account>) -> Result<TransferDestination, AppError> {
        if let Some((kind, asset)) = parse_system_account(&self.to) {
            return Ok(TransferDestination::system(kind, &asset));
        }
        let account = workspace.aggregate(&self.to).and_then(Account::open_account);
        let account = account.ok_or(AppError::NotFound("destination account"))?;
        Ok(TransferDestination {
            account_id: account.account_id.clone(),
            asset: account.asset.clone(),
            is_system: false,
        })
    }
}

impl Decision<Account> for TransferDecision {
    fn operation(&self) -> &Operation {
        &self.operation
    }

    fn aggregate_ids(&self) -> Vec<String> {
        match parse_system_account(&self.to) {
            Some(_) => vec![self.from.clone()],
            None => vec![self.from.clone(), self.to.clone()],
        }
    }

    fn name(&self) -> &'static str {
        match self.debit {
            Debit::Send { .. } => "SendTransfer",
            Debit::Capture { .. } => "CaptureHold",
        }
    }

    fn decide(&self, workspace: &mut Workspace<'_, Account>) -> Result<(), AppError> {
        let to = self.destination(workspace)?;
        let command = match &self.debit {
            Debit::Send { amount, memo } => AccountCommand::SendTransfer {
                transfer_id: self.operation.id.clone(),
                to,
                amount: *amount,
                memo: memo.clone(),
            },
            Debit::Capture { hold_id, transfer_id, memo, now } => AccountCommand::CaptureHold {
                hold_id: hold_id.clone(),
                transfer_id: transfer_id.clone(),
                to,
                memo: memo.clone(),
                now: *now,
            },
        };
        let debited = workspace.execute(&self.from, command, &self.operation)?;
        let Some((_, credit)) = debited.first().and_then(|event| outstanding_step(&self.from, event)) else {
            return Ok(()); // paid to a system account: nothing to credit
        };
        let (command, operation) = credit.receive();
        let credited = workspace.execute(&credit.account_id, command, &operation)?;
        let Some((_, give_back)) = credited.first().and_then(|event| outstanding_step(&credit.account_id, event))
        else {
            return Ok(());
        };
        let (command, operation) = give_back.give_back();
        workspace.execute(&give_back.account_id, command, &operation).map(drop)
    }
}

/// Finishes a replayed transfer: the same idempotent steps the transfer-completion process
/// manager takes from the log (each replays if already taken). A failure here leaves the
/// transfer `Pending`, durable, for the process manager to finish.
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
