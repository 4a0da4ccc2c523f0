//! The command bus: runs domain commands through cqrs-es with exactly-once operation ids,
//! bounded retries on optimistic-concurrency conflicts, and read-your-writes waits.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::process_managers::transfer_completion::TransferStep;
use cqrs_es::{Aggregate, AggregateError, CqrsFramework};
use deadpool_postgres::Pool;
use domain::account::{Account, AccountCommand, TransferDestination};
use domain::asset::Asset;
use domain::system_account::parse_system_account;
use domain::{AssetCode, Command, DomainError, Scale};
use projections::Wakers;
use rand::Rng;
use store::log::find_by_operation;
use store::{ids, CachedEventStore, Operation, StoredEvent};
use tracing::warn;

use crate::error::AppError;

/// Attempts per command under optimistic-concurrency conflicts before giving up.
pub const MAX_CONFLICT_RETRIES: u32 = 24;
/// Upper bound of the randomised pause between two attempts.
const MAX_RETRY_PAUSE_MS: u64 = 20;

/// What running an operation produced.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The command appended this event now.
    Appended(StoredEvent),
    /// The operation had already appended this event (a retry); nothing new was appended.
    Replayed(StoredEvent),
    /// The command was valid but changed nothing (e.g. defining an existing asset again).
    Unchanged,
}

impl Outcome {
    pub fn event(&self) -> Option<&StoredEvent> {
        match self {
            Outcome::Appended(event) | Outcome::Replayed(event) => Some(event),
            Outcome::Unchanged => None,
        }
    }

    pub fn is_replay(&self) -> bool {
        matches!(self, Outcome::Replayed(_))
    }
}

/// One aggregate type's command framework and the store it loads from.
struct Aggregates<A: Aggregate + Clone> {
    framework: CqrsFramework<A, CachedEventStore<A>>,
    store: CachedEventStore<A>,
}

/// Runs commands against the event store. Cheap to clone.
#[derive(Clone)]
pub struct CommandBus {
    inner: Arc<BusInner>,
}

struct BusInner {
    events: sqlx::PgPool,
    reads: Pool,
    wakers: Wakers,
    /// One `Aggregates<A>` per aggregate type, made on first use.
    by_type: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl CommandBus {
    pub fn new(events: sqlx::PgPool, reads: Pool, wakers: Wakers) -> Self {
        Self { inner: Arc::new(BusInner { events, reads, wakers, by_type: Mutex::new(HashMap::new()) }) }
    }

    fn aggregates<A>(&self) -> Arc<Aggregates<A>>
    where
        A: Aggregate<Services = ()> + Clone + Send + Sync + 'static,
    {
        let mut by_type = self.inner.by_type.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = by_type.entry(TypeId::of::<A>()).or_insert_with(|| {
            let store = CachedEventStore::<A>::new(self.inner.events.clone());
            let framework = CqrsFramework::new(store.clone(), vec![], ());
            Arc::new(Aggregates { framework, store })
        });
        entry.clone().downcast::<Aggregates<A>>().expect("entries are keyed by their type")
    }

    /// Runs one command on the aggregate that decides it, exactly once per operation.
    pub async fn execute<C: Command>(
        &self,
        aggregate_id: &str,
        command: C,
        operation: &Operation,
    ) -> Result<Outcome, AppError> {
        let aggregates = self.aggregates::<C::Aggregate>();
        self.run(&aggregates.framework, aggregate_id, command, operation).await
    }

    /// An aggregate's current state, for decisions that need another aggregate's facts.
    pub async fn load<A>(&self, aggregate_id: &str) -> Result<A, AppError>
    where
        A: Aggregate<Error = DomainError, Services = ()> + Clone + Send + Sync + 'static,
    {
        let aggregates = self.aggregates::<A>();
        let mut context =
            cqrs_es::EventStore::load_aggregate(&aggregates.store, aggregate_id).await.map_err(aggregate_error)?;
        Ok(std::mem::take(cqrs_es::AggregateContext::aggregate(&mut context)))
    }

    /// The scale of an asset, from its own history.
    pub async fn asset_scale(&self, code: &AssetCode) -> Result<Scale, AppError> {
        let asset = self.load::<Asset>(code.as_str()).await?;
        asset.scale().ok_or_else(|| AppError::UnknownAsset(code.to_string()))
    }

    /// Where a transfer to `account_id` would go: a system account, or an opened user
    /// account as its own history knows it.
    pub async fn destination(&self, account_id: &str) -> Result<TransferDestination, AppError> {
        if let Some((kind, asset)) = parse_system_account(account_id) {
            return Ok(TransferDestination::system(kind, &asset));
        }
        let account = self.load::<Account>(account_id).await?;
        let account = account.open_account().cloned().ok_or(AppError::NotFound("destination account"))?;
        Ok(TransferDestination { account_id: account.account_id, asset: account.asset, is_system: false })
    }

    /// The event an operation appended, if any.
    pub async fn find_operation(&self, operation_id: &str) -> Result<Option<StoredEvent>, AppError> {
        let client = self.inner.reads.get().await?;
        Ok(find_by_operation(&client, operation_id).await?)
    }

    /// Runs one command and counts it by aggregate, command and outcome.
    async fn run<A>(
        &self,
        framework: &CqrsFramework<A, CachedEventStore<A>>,
        aggregate_id: &str,
        command: A::Command,
        operation: &Operation,
    ) -> Result<Outcome, AppError>
    where
        A: Aggregate<Error = DomainError> + Clone,
        A::Command: Command,
    {
        let command_name = command.name();
        let result = self.run_attempts(framework, aggregate_id, command, operation).await;
        let outcome = match &result {
            Ok(Outcome::Appended(_)) => "appended",
            Ok(Outcome::Replayed(_)) => "replayed",
            Ok(Outcome::Unchanged) => "unchanged",
            Err(AppError::Domain(_)) => "rejected",
            Err(AppError::IdempotencyKeyReused) => "key_reused",
            Err(AppError::Contention) => "contention",
            Err(_) => "failed",
        };
        store::metrics::command_finished(A::TYPE, command_name, outcome);
        result
    }

    async fn run_attempts<A>(
        &self,
        framework: &CqrsFramework<A, CachedEventStore<A>>,
        aggregate_id: &str,
        command: A::Command,
        operation: &Operation,
    ) -> Result<Outcome, AppError>
    where
        A: Aggregate<Error = DomainError> + Clone,
        A::Command: Clone,
    {
        for attempt in 0..MAX_CONFLICT_RETRIES {
            // A retried operation (same id after a conflict or a client retry) must find its
            // first append instead of appending again. Fresh ids cannot have one yet.
            if attempt > 0 || operation.may_have_run() {
                if let Some(existing) = self.find_operation(&operation.id).await? {
                    return replay(existing, operation);
                }
            }
            match framework.execute_with_metadata(aggregate_id, command.clone(), operation.metadata()).await {
                Ok(()) => {
                    self.inner.wakers.wake_all();
                    return Ok(match self.find_operation(&operation.id).await? {
                        Some(event) => Outcome::Appended(event),
                        None => Outcome::Unchanged,
                    });
                }
                Err(AggregateError::AggregateConflict) => {
                    let pause_ms = rand::thread_rng().gen_range(0..=MAX_RETRY_PAUSE_MS.min(1 << attempt));
                    tokio::time::sleep(Duration::from_millis(pause_ms)).await;
                }
                Err(error) => return Err(aggregate_error(error)),
            }
        }
        warn!(aggregate_id, operation = operation.id, "giving up after {MAX_CONFLICT_RETRIES} conflicts");
        Err(AppError::Contention)
    }

    /// The credit half of a transfer, exactly once per transfer id.
    pub async fn receive_transfer(&self, step: &TransferStep) -> Result<Outcome, AppError> {
        let command = AccountCommand::ReceiveTransfer {
            transfer_id: step.transfer_id.clone(),
            from: step.counterparty.clone(),
            amount: step.amount,
            memo: step.memo.clone(),
        };
        self.execute(&step.account_id, command, &Operation::derived(ids::receive(&step.transfer_id))).await
    }

    /// Gives a refused transfer back to its sender, exactly once per transfer id.
    pub async fn return_transfer(&self, step: &TransferStep) -> Result<Outcome, AppError> {
        let command = AccountCommand::ReturnTransfer {
            transfer_id: step.transfer_id.clone(),
            refused_by: step.counterparty.clone(),
            amount: step.amount,
        };
        self.execute(&step.account_id, command, &Operation::derived(ids::give_back(&step.transfer_id))).await
    }
}

fn replay(existing: StoredEvent, operation: &Operation) -> Result<Outcome, AppError> {
    let stored_hash = existing.metadata.get("request_hash").and_then(serde_json::Value::as_str);
    if stored_hash != operation.request_hash.as_deref() {
        return Err(AppError::IdempotencyKeyReused);
    }
    Ok(Outcome::Replayed(existing))
}

fn aggregate_error(error: AggregateError<DomainError>) -> AppError {
    match error {
        AggregateError::UserError(error) => AppError::Domain(error),
        AggregateError::AggregateConflict => AppError::Contention,
        AggregateError::DatabaseConnectionError(error) => AppError::Unavailable(error.to_string()),
        // postgres-es reports every database error but a conflict as "unexpected", a
        // terminated connection too: classify it by what PostgreSQL said.
        AggregateError::UnexpectedError(error) => crate::error::from_append_error(error.as_ref()),
        other => AppError::Internal(other.to_string()),
    }
}
