//! The command bus: runs domain commands through each aggregate type's committer (group
//! commit, exactly-once operation ids, conflicts decided again) and loads aggregates for
//! decisions that read another aggregate's facts.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::committer::{Committed, Committer, Decision, SingleCommand};
use crate::process_managers::transfer_completion::TransferStep;
use cqrs_es::{Aggregate, AggregateError};
use deadpool_postgres::Pool;
use domain::asset::Asset;
use domain::snapshot::Snapshotted;
use domain::{AssetCode, Command, DomainError, Scale};
use projections::{InlineProjection, Wakers};
use store::append::find_operations;
use store::{CachedEventStore, Operation, StoredEvent};

use crate::error::AppError;

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

/// One aggregate type's committer and the store reads load from.
struct Aggregates<A: Aggregate + Clone> {
    committer: Committer<A>,
    store: CachedEventStore<A>,
}

/// Runs commands against the event store. Cheap to clone.
#[derive(Clone)]
pub struct CommandBus {
    inner: Arc<BusInner>,
}

struct BusInner {
    events: sqlx::PgPool,
    pool: Pool,
    /// Where each committer opens its own connections.
    target: store::DatabaseTarget,
    /// What every pool of the service found inside a transaction at checkout.
    leaks: store::TransactionLeaks,
    wakers: Wakers,
    /// How appends project their own batches when the projection pass would be next.
    inline: Option<InlineProjection>,
    /// One `Aggregates<A>` per aggregate type, made on first use.
    by_type: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl CommandBus {
    /// `inline`: the projection pass's handle, so that a batch the pass would apply next is
    /// applied in its append's own transaction (`None`: the pass applies every batch).
    pub fn new(
        pools: &store::Pools,
        target: store::DatabaseTarget,
        wakers: Wakers,
        inline: Option<InlineProjection>,
    ) -> Self {
        let by_type = Mutex::new(HashMap::new());
        Self {
            inner: Arc::new(BusInner {
                events: pools.events.clone(),
                pool: pools.reads.clone(),
                target,
                leaks: pools.leaks.clone(),
                wakers,
                inline,
                by_type,
            }),
        }
    }

    /// Connections found inside a transaction when taken from a pool (checked in debug
    /// builds only: `store::transaction_leaks`).
    pub fn transaction_leaks(&self) -> &store::TransactionLeaks {
        &self.inner.leaks
    }

    fn aggregates<A>(&self) -> Arc<Aggregates<A>>
    where
        A: Aggregate<Error = DomainError, Services = ()> + Snapshotted + Clone + Send + Sync + 'static,
        A::Command: Command,
    {
        let mut by_type = self.inner.by_type.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = by_type.entry(TypeId::of::<A>()).or_insert_with(|| {
            let store =
                CachedEventStore::<A>::new(self.inner.events.clone(), self.inner.pool.clone(), A::STATE_VERSION);
            let committer = Committer::spawn(
                &self.inner.target,
                &self.inner.leaks,
                self.inner.wakers.clone(),
                self.inner.inline.clone(),
            );
            Arc::new(Aggregates { committer, store })
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
        let decision = SingleCommand { aggregate_id: aggregate_id.to_string(), command, operation: operation.clone() };
        Ok(match self.submit::<C::Aggregate>(decision).await? {
            Committed::Appended(events) => {
                Outcome::Appended(events.into_iter().next().expect("an append holds at least one event"))
            }
            Committed::Replayed(event) => Outcome::Replayed(event),
            Committed::Unchanged => Outcome::Unchanged,
        })
    }

    /// Takes a decision over several aggregates of one type in the next batch of its
    /// committer; it appends all its events in one commit, or none.
    pub async fn submit<A>(&self, decision: impl Decision<A>) -> Result<Committed, AppError>
    where
        A: Aggregate<Error = DomainError, Services = ()> + Snapshotted + Clone + Send + Sync + 'static,
        A::Command: Command,
    {
        self.aggregates::<A>().committer.submit(decision).await
    }

    /// An aggregate's current state, for decisions that need another aggregate's facts.
    pub async fn load<A>(&self, aggregate_id: &str) -> Result<A, AppError>
    where
        A: Aggregate<Error = DomainError, Services = ()> + Snapshotted + Clone + Send + Sync + 'static,
        A::Command: Command,
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

    /// The event an operation appended, if any.
    pub async fn find_operation(&self, operation_id: &str) -> Result<Option<StoredEvent>, AppError> {
        let client = self.inner.pool.get().await?;
        Ok(find_operations(&client, &[operation_id.to_string()]).await?.into_iter().next())
    }

    /// The credit half of a transfer, exactly once per transfer id.
    pub async fn receive_transfer(&self, step: &TransferStep) -> Result<Outcome, AppError> {
        let (command, operation) = step.receive();
        self.execute(&step.account_id, command, &operation).await
    }

    /// Gives a refused transfer back to its sender, exactly once per transfer id.
    pub async fn return_transfer(&self, step: &TransferStep) -> Result<Outcome, AppError> {
        let (command, operation) = step.give_back();
        self.execute(&step.account_id, command, &operation).await
    }
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
