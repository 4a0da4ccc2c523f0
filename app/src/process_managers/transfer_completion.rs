//! The process manager that completes transfers. A transfer's debit is acknowledged to the
//! client once durable; its credit (or, if the destination refuses, its return) is driven
//! from here, from the durable log, so it happens exactly once even if the process that
//! took the debit died right after. The API performs the same steps inline for latency;
//! both go through operation ids that the event store accepts only once.

use std::collections::HashSet;
use std::time::Duration;

use deadpool_postgres::Transaction;
use domain::account::{AccountCommand, AccountEvent};
use rust_decimal::Decimal;

use projections::{EventHandler, ProjectionError};
use store::{ids, Operation, StoredEvent};

use crate::bus::CommandBus;

/// One outstanding half of a transfer: credit `account_id` with `amount`.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferStep {
    pub transfer_id: String,
    /// The account to credit.
    pub account_id: String,
    /// The other side: the sender for a receive, the refusing account for a give-back.
    pub counterparty: String,
    pub amount: Decimal,
    pub memo: Option<String>,
}

impl TransferStep {
    /// The credit of a transfer, under the one operation id every path uses for it.
    pub fn receive(&self) -> (AccountCommand, Operation) {
        let command = AccountCommand::ReceiveTransfer {
            transfer_id: self.transfer_id.clone(),
            from: self.counterparty.clone(),
            amount: self.amount,
            memo: self.memo.clone(),
        };
        (command, Operation::derived(ids::receive(&self.transfer_id)))
    }

    /// Giving a refused transfer back, under the one operation id every path uses for it.
    pub fn give_back(&self) -> (AccountCommand, Operation) {
        let command = AccountCommand::ReturnTransfer {
            transfer_id: self.transfer_id.clone(),
            refused_by: self.counterparty.clone(),
            amount: self.amount,
        };
        (command, Operation::derived(ids::give_back(&self.transfer_id)))
    }
}

/// What, if anything, an account event leaves outstanding for the other side.
pub fn outstanding_step(account_id: &str, event: &AccountEvent) -> Option<(bool, TransferStep)> {
    match event {
        AccountEvent::TransferSent { transfer_id, to, to_is_system: false, amount, memo }
        | AccountEvent::HoldCaptured { transfer_id, to, to_is_system: false, amount, memo, .. } => Some((
            true,
            TransferStep {
                transfer_id: transfer_id.clone(),
                account_id: to.clone(),
                counterparty: account_id.to_string(),
                amount: amount.value(),
                memo: memo.clone(),
            },
        )),
        AccountEvent::TransferRefused { transfer_id, from, amount, .. } => Some((
            false,
            TransferStep {
                transfer_id: transfer_id.clone(),
                account_id: from.clone(),
                counterparty: account_id.to_string(),
                amount: amount.value(),
                memo: None,
            },
        )),
        _ => None,
    }
}

/// The steps the batch itself shows taken, as (transfer id, is the credit): a transfer
/// decided whole (ADR 17) has its debit, credit and any return in one commit, so they are
/// adjacent in the log and nearly always in one batch.
fn settled_in(events: &[StoredEvent]) -> HashSet<(String, bool)> {
    events
        .iter()
        .filter(|event| event.aggregate_type == "account")
        .filter_map(|event| match event.decode::<AccountEvent>().ok()? {
            AccountEvent::TransferReceived { transfer_id, .. } | AccountEvent::TransferRefused { transfer_id, .. } => {
                Some((transfer_id, true))
            }
            AccountEvent::TransferReturned { transfer_id, .. } => Some((transfer_id, false)),
            _ => None,
        })
        .collect()
}

/// How long the process manager leaves a fresh transfer to the request that made it, which
/// completes it inline; only transfers older than this are its to finish. A crash therefore
/// delays completion by at most about this much.
pub const INLINE_GRACE_MS: i64 = 1_000;

/// Its steps (`receive_transfer`, `return_transfer`) are idempotent per transfer id, so a
/// batch retried after a crash repeats nothing.
pub struct TransferCompletion {
    bus: CommandBus,
}

impl TransferCompletion {
    pub const NAME: &'static str = "transfer_completion";

    pub fn new(bus: CommandBus) -> Self {
        Self { bus }
    }
}

impl EventHandler for TransferCompletion {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    /// Transfers decided whole leave nothing outstanding: only a batch with a half-done
    /// transfer (from an older version, or split across batches) is worth a transaction.
    fn wants(&self, batch: &[StoredEvent]) -> bool {
        let settled = settled_in(batch);
        let may_leave_a_step = |event: &&StoredEvent| {
            event.aggregate_type == "account"
                && matches!(event.event_type.as_str(), "TransferSent" | "HoldCaptured" | "TransferRefused")
        };
        batch.iter().filter(may_leave_a_step).any(|event| {
            let step = event.decode().ok().and_then(|decoded| outstanding_step(&event.aggregate_id, &decoded));
            step.is_some_and(|(is_credit, step)| !settled.contains(&(step.transfer_id, is_credit)))
        })
    }

    fn min_batch_interval(&self) -> Duration {
        Duration::from_millis(super::PROCESS_MANAGER_INTERVAL_MS)
    }

    async fn handle_batch(&self, _tx: &Transaction<'_>, events: &[StoredEvent]) -> Result<(), ProjectionError> {
        let settled = settled_in(events);
        for event in events {
            self.complete(event, &settled).await?;
        }
        Ok(())
    }
}

impl TransferCompletion {
    async fn complete(&self, event: &StoredEvent, settled: &HashSet<(String, bool)>) -> Result<(), ProjectionError> {
        if event.aggregate_type != "account" {
            return Ok(());
        }
        let Some((is_credit, step)) = outstanding_step(&event.aggregate_id, &event.decode()?) else {
            return Ok(());
        };
        if settled.contains(&(step.transfer_id.clone(), is_credit)) {
            return Ok(());
        }
        let age_ms = (chrono::Utc::now() - event.recorded_at).num_milliseconds();
        if age_ms < INLINE_GRACE_MS {
            let wait_ms = u64::try_from(INLINE_GRACE_MS - age_ms.max(0)).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        }
        let outcome =
            if is_credit { self.bus.receive_transfer(&step).await } else { self.bus.return_transfer(&step).await };
        outcome
            .map(drop)
            .map_err(|error| ProjectionError::CommandFailed { position: event.position, reason: error.to_string() })
    }
}
