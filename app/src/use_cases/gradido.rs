//! Creating Gradido transactions. A transfer reserves the sender's amount (a hold on its
//! GDD account); a creation reserves the recipient's monthly creation budget. Both are
//! fingerprinted against the same request within 100 seconds.
//!
//! A refused request appends nothing: the duplicate check and the reservation are decided
//! before anything is recorded, in an order where each refusal comes before the first
//! append. Only a race between two identical requests can fail the fingerprint after the
//! reservation; that reservation is then released at once. A crash between reserving and
//! recording the transaction leaves a hold that names a transaction that never existed:
//! `release_orphaned_holds` gives it back.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use domain::account::AccountCommand;
use domain::gradido::{
    creation_budget_id, BudgetCommand, DuplicateGuard, GradidoKind, GradidoTransaction, GuardCommand,
    TransactionCommand,
};
use domain::{Amount, DomainError};
use store::{ids, Operation, StoredEvent};
use tokio::sync::watch;
use tracing::info;

use crate::bus::CommandBus;
use crate::error::AppError;
use crate::process_managers::gradido_settlement::{release_budget, release_hold};

/// A pending transfer reserves its amount for at most this long; the hold then expires.
pub const PENDING_RESERVATION_DAYS: i64 = 7;
/// A reservation whose transaction is still missing this long after it was placed was left
/// by a crash (recording takes milliseconds).
pub const ORPHANED_RESERVATION_AFTER_SECONDS: i64 = 60;
const ORPHAN_SWEEP_INTERVAL_MS: u64 = 5_000;
const MAX_ORPHANS_PER_SWEEP: i64 = 100;
/// How a Gradido reservation's memo starts; the rest is the transaction id.
const RESERVATION_MEMO_PREFIX: &str = "gradido transaction ";

/// A transfer from `initiator`'s account to `recipient`'s, validated by the dialect.
pub struct NewTransfer {
    pub initiator: String,
    pub from_account: String,
    pub recipient: String,
    pub to_account: String,
    pub amount: Amount,
    pub memo: String,
    /// What makes two requests "the same transaction" for the duplicate rule.
    pub fingerprint: String,
}

/// A creation of new GDD for `recipient` in the month of `target_month`.
pub struct NewCreation {
    pub initiator: String,
    pub recipient: String,
    pub to_account: String,
    pub amount: Amount,
    /// The first day of the month the creation counts against.
    pub target_month: NaiveDate,
    pub memo: String,
    pub fingerprint: String,
}

/// The created transaction: its id and the event to wait for before answering.
pub struct CreatedTransaction {
    pub id: String,
    pub event: Option<StoredEvent>,
}

pub async fn create_transfer(bus: &CommandBus, transfer: NewTransfer) -> Result<CreatedTransaction, AppError> {
    refuse_duplicate(bus, &transfer.initiator, &transfer.fingerprint).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let hold = AccountCommand::PlaceHold {
        hold_id: id.clone(),
        amount: transfer.amount.value(),
        expires_at: Some(Utc::now() + chrono::Duration::days(PENDING_RESERVATION_DAYS)),
        memo: Some(format!("{RESERVATION_MEMO_PREFIX}{id}")),
        now: Utc::now(),
    };
    bus.execute(&transfer.from_account, hold, &Operation::derived(ids::gradido_hold(&id))).await?;
    if let Err(duplicate) = record_fingerprint(bus, &transfer.initiator, &transfer.fingerprint).await {
        release_hold(bus, &transfer.from_account, &id).await?;
        return Err(duplicate);
    }
    let command = TransactionCommand::Create {
        kind: GradidoKind::Transfer,
        initiator: transfer.initiator,
        from_account: Some(transfer.from_account),
        recipient: transfer.recipient,
        to_account: transfer.to_account,
        amount: transfer.amount,
        target_date: None,
        memo: transfer.memo,
    };
    record(bus, id, command).await
}

pub async fn create_creation(bus: &CommandBus, creation: NewCreation) -> Result<CreatedTransaction, AppError> {
    refuse_duplicate(bus, &creation.initiator, &creation.fingerprint).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let budget = creation_budget_id(&creation.recipient, creation.target_month);
    let reserve = BudgetCommand::Reserve { transaction_id: id.clone(), amount: creation.amount };
    bus.execute(&budget, reserve, &Operation::derived(ids::gradido_budget(&id))).await?;
    if let Err(duplicate) = record_fingerprint(bus, &creation.initiator, &creation.fingerprint).await {
        release_budget(bus, &budget, &id).await?;
        return Err(duplicate);
    }
    let command = TransactionCommand::Create {
        kind: GradidoKind::Creation,
        initiator: creation.initiator,
        from_account: None,
        recipient: creation.recipient,
        to_account: creation.to_account,
        amount: creation.amount,
        target_date: Some(creation.target_month),
        memo: creation.memo,
    };
    record(bus, id, command).await
}

async fn refuse_duplicate(bus: &CommandBus, initiator: &str, fingerprint: &str) -> Result<(), AppError> {
    let guard = bus.load::<DuplicateGuard>(initiator).await?;
    if guard.is_duplicate(fingerprint, Utc::now()) {
        return Err(DomainError::DuplicateTransaction.into());
    }
    Ok(())
}

async fn record_fingerprint(bus: &CommandBus, initiator: &str, fingerprint: &str) -> Result<(), AppError> {
    let command = GuardCommand::Record { fingerprint: fingerprint.to_string(), now: Utc::now() };
    bus.execute(initiator, command, &Operation::fresh()).await.map(drop)
}

async fn record(bus: &CommandBus, id: String, command: TransactionCommand) -> Result<CreatedTransaction, AppError> {
    let outcome = bus.execute(&id, command, &Operation::derived(ids::gradido_create(&id))).await?;
    Ok(CreatedTransaction { event: outcome.event().cloned(), id })
}

/// Releases, every few seconds until shutdown, reservations a crash left without their
/// transaction.
pub async fn release_orphaned_holds(bus: CommandBus, reads: deadpool_postgres::Pool, shutdown: watch::Receiver<bool>) {
    let interval = Duration::from_millis(ORPHAN_SWEEP_INTERVAL_MS);
    crate::periodic::every(interval, "gradido orphan sweep", shutdown, || sweep_orphans(&bus, &reads)).await;
}

async fn sweep_orphans(bus: &CommandBus, reads: &deadpool_postgres::Pool) -> Result<(), AppError> {
    let client = reads.get().await?;
    let candidates = projections::read_models::holds::unclaimed_reservations(
        &client,
        RESERVATION_MEMO_PREFIX,
        ORPHANED_RESERVATION_AFTER_SECONDS,
        MAX_ORPHANS_PER_SWEEP,
    )
    .await?;
    drop(client);
    for (account, id) in candidates {
        // The transaction's own history decides, not the read model, which may lag.
        if bus.load::<GradidoTransaction>(&id).await?.details().is_some() {
            continue;
        }
        info!(transaction = id, "releasing a reservation whose transaction was never recorded");
        release_hold(bus, &account, &id).await?;
    }
    Ok(())
}
