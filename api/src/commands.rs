//! The command bus: runs domain commands through cqrs-es with exactly-once operation ids,
//! bounded retries on optimistic-concurrency conflicts, and read-your-writes waits.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cqrs_es::{Aggregate, AggregateError, CqrsFramework};
use deadpool_postgres::Pool;
use domain::account::{Account, AccountCommand, AccountEvent, TransferDestination};
use domain::asset::{Asset, AssetCommand};
use domain::claim::{ClaimCommand, UniqueClaim};
use domain::gradido::{
    BudgetCommand, CreationBudget, DuplicateGuard, GradidoTransaction, Group, GroupCommand, GuardCommand,
    TransactionCommand,
};
use domain::joyplus::{ApiKey, ApiKeyCommand, JoyWallet, JoyWalletCommand};
use domain::lightning::{AddressBook, AddressBookCommand, Channel, ChannelCommand, Invoice, InvoiceCommand};
use domain::system_account::parse_system_account;
use domain::user::{User, UserCommand};
use domain::{AssetCode, DomainError, Scale};
use projections::event_log::find_by_operation;
use projections::read_models::READ_YOUR_WRITES;
use projections::transfer_completion::{outstanding_step, TransferCommands, TransferStep};
use projections::{ProjectionStatus, StoredEvent, Wakers};
use rand::Rng;
use tracing::warn;

use crate::error::AppError;
use crate::event_store::CachedEventStore;

/// Attempts per command under optimistic-concurrency conflicts before giving up.
pub const MAX_CONFLICT_RETRIES: u32 = 24;
/// Upper bound of the randomised pause between two attempts.
const MAX_RETRY_PAUSE_MS: u64 = 20;

/// The identity of one operation: the event it appends carries this id, and the event store
/// accepts an id only once (migration 0001), which makes every operation exactly-once.
#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    /// Hash of the client request that started it, to tell a retry from a reused key.
    pub request_hash: Option<String>,
}

impl Operation {
    /// An operation no client will ever retry by id.
    pub fn fresh() -> Self {
        Self { id: uuid::Uuid::new_v4().to_string(), request_hash: None }
    }

    /// An operation named by the ledger itself, such as the credit half of a transfer.
    pub fn derived(id: String) -> Self {
        Self { id, request_hash: None }
    }

    fn metadata(&self) -> HashMap<String, String> {
        let mut metadata = HashMap::from([("operation_id".to_string(), self.id.clone())]);
        if let Some(hash) = &self.request_hash {
            metadata.insert("request_hash".to_string(), hash.clone());
        }
        metadata
    }
}

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

impl<A: Aggregate<Services = ()> + Clone> Aggregates<A> {
    fn new(events: &sqlx::PgPool) -> Arc<Self> {
        let store = CachedEventStore::new(events.clone());
        Arc::new(Self { framework: CqrsFramework::new(store.clone(), vec![], ()), store })
    }
}

/// Runs commands against the event store. Cheap to clone.
#[derive(Clone)]
pub struct CommandBus {
    accounts: Arc<Aggregates<Account>>,
    assets: Arc<Aggregates<Asset>>,
    users: Arc<Aggregates<User>>,
    claims: Arc<Aggregates<UniqueClaim>>,
    gradido_transactions: Arc<Aggregates<GradidoTransaction>>,
    creation_budgets: Arc<Aggregates<CreationBudget>>,
    duplicate_guards: Arc<Aggregates<DuplicateGuard>>,
    groups: Arc<Aggregates<Group>>,
    invoices: Arc<Aggregates<Invoice>>,
    address_books: Arc<Aggregates<AddressBook>>,
    channels: Arc<Aggregates<Channel>>,
    joy_wallets: Arc<Aggregates<JoyWallet>>,
    api_keys: Arc<Aggregates<ApiKey>>,
    reads: Pool,
    wakers: Wakers,
}

impl CommandBus {
    pub fn new(events: sqlx::PgPool, reads: Pool, wakers: Wakers) -> Self {
        Self {
            accounts: Aggregates::new(&events),
            assets: Aggregates::new(&events),
            users: Aggregates::new(&events),
            claims: Aggregates::new(&events),
            gradido_transactions: Aggregates::new(&events),
            creation_budgets: Aggregates::new(&events),
            duplicate_guards: Aggregates::new(&events),
            groups: Aggregates::new(&events),
            invoices: Aggregates::new(&events),
            address_books: Aggregates::new(&events),
            channels: Aggregates::new(&events),
            joy_wallets: Aggregates::new(&events),
            api_keys: Aggregates::new(&events),
            reads,
            wakers,
        }
    }

    pub async fn account(
        &self,
        account_id: &str,
        command: AccountCommand,
        operation: &Operation,
    ) -> Result<Outcome, AppError> {
        self.run(&self.accounts.framework, account_id, command, operation).await
    }

    pub async fn asset(&self, code: &AssetCode, command: AssetCommand) -> Result<Outcome, AppError> {
        self.run(&self.assets.framework, code.as_str(), command, &Operation::fresh()).await
    }

    pub async fn user(&self, user_id: &str, command: UserCommand, operation: &Operation) -> Result<Outcome, AppError> {
        self.run(&self.users.framework, user_id, command, operation).await
    }

    pub async fn claim(&self, claim_id: &str, command: ClaimCommand) -> Result<Outcome, AppError> {
        self.run(&self.claims.framework, claim_id, command, &Operation::fresh()).await
    }

    pub async fn gradido_transaction(
        &self,
        id: &str,
        command: TransactionCommand,
        operation: &Operation,
    ) -> Result<Outcome, AppError> {
        self.run(&self.gradido_transactions.framework, id, command, operation).await
    }

    pub async fn creation_budget(
        &self,
        id: &str,
        command: BudgetCommand,
        operation: &Operation,
    ) -> Result<Outcome, AppError> {
        self.run(&self.creation_budgets.framework, id, command, operation).await
    }

    pub async fn duplicate_guard(&self, user_id: &str, command: GuardCommand) -> Result<Outcome, AppError> {
        self.run(&self.duplicate_guards.framework, user_id, command, &Operation::fresh()).await
    }

    pub async fn group(&self, alias: &str, command: GroupCommand) -> Result<Outcome, AppError> {
        self.run(&self.groups.framework, alias, command, &Operation::fresh()).await
    }

    pub async fn invoice(
        &self,
        payment_hash: &str,
        command: InvoiceCommand,
        operation: &Operation,
    ) -> Result<Outcome, AppError> {
        self.run(&self.invoices.framework, payment_hash, command, operation).await
    }

    pub async fn address_book(&self, user_id: &str, command: AddressBookCommand) -> Result<Outcome, AppError> {
        self.run(&self.address_books.framework, user_id, command, &Operation::fresh()).await
    }

    pub async fn channel(
        &self,
        channelpoint: &str,
        command: ChannelCommand,
        operation: &Operation,
    ) -> Result<Outcome, AppError> {
        self.run(&self.channels.framework, channelpoint, command, operation).await
    }

    pub async fn joy_wallet(
        &self,
        user_id: &str,
        command: JoyWalletCommand,
        operation: &Operation,
    ) -> Result<Outcome, AppError> {
        self.run(&self.joy_wallets.framework, user_id, command, operation).await
    }

    /// `email` in lower case names the key.
    pub async fn api_key(&self, email: &str, command: ApiKeyCommand) -> Result<Outcome, AppError> {
        self.run(&self.api_keys.framework, email, command, &Operation::fresh()).await
    }

    pub async fn channel_state(&self, channelpoint: &str) -> Result<Channel, AppError> {
        load(&self.channels.store, channelpoint).await
    }

    /// An invoice of this node as its own history knows it.
    pub async fn invoice_state(&self, payment_hash: &str) -> Result<Invoice, AppError> {
        load(&self.invoices.store, payment_hash).await
    }

    /// A user's address book as its own history knows it (to decide whom a quickpay pays).
    pub async fn address_book_state(&self, user_id: &str) -> Result<AddressBook, AppError> {
        load(&self.address_books.store, user_id).await
    }

    /// The scale of an asset, from its own history.
    pub async fn asset_scale(&self, code: &AssetCode) -> Result<Scale, AppError> {
        let asset = load(&self.assets.store, code.as_str()).await?;
        asset.scale().ok_or_else(|| AppError::UnknownAsset(code.to_string()))
    }

    /// Whether a user exists, from its own history.
    pub async fn user_exists(&self, user_id: &str) -> Result<bool, AppError> {
        Ok(load(&self.users.store, user_id).await?.registered().is_some())
    }

    /// A user as its own history knows it.
    pub async fn registered_user(&self, user_id: &str) -> Result<Option<domain::user::RegisteredUser>, AppError> {
        Ok(load(&self.users.store, user_id).await?.registered().cloned())
    }

    pub async fn group_exists(&self, alias: &str) -> Result<bool, AppError> {
        Ok(load(&self.groups.store, alias).await?.exists())
    }

    /// A Gradido transaction as its own history knows it.
    pub async fn gradido_state(&self, id: &str) -> Result<GradidoTransaction, AppError> {
        load(&self.gradido_transactions.store, id).await
    }

    /// Where a transfer to `account_id` would go: a system account, or an opened user
    /// account as its own history knows it.
    pub async fn destination(&self, account_id: &str) -> Result<TransferDestination, AppError> {
        if let Some((kind, asset)) = parse_system_account(account_id) {
            return Ok(TransferDestination::system(kind, &asset));
        }
        let account = load(&self.accounts.store, account_id).await?;
        let account = account.open_account().cloned().ok_or(AppError::NotFound("destination account"))?;
        Ok(TransferDestination { account_id: account.account_id, asset: account.asset, is_system: false })
    }

    /// The event an operation appended, if any.
    pub async fn find_operation(&self, operation_id: &str) -> Result<Option<StoredEvent>, AppError> {
        let client = self.reads.get().await?;
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
        A::Command: Clone + serde::Serialize,
    {
        let command_name = command_name(&command);
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
        crate::metrics::command_finished(crate::metrics::CommandLabels {
            aggregate: A::TYPE.to_string(),
            command: command_name,
            outcome: outcome.to_string(),
        });
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
            if attempt > 0 || !is_random(operation) {
                if let Some(existing) = self.find_operation(&operation.id).await? {
                    return replay(existing, operation);
                }
            }
            match framework.execute_with_metadata(aggregate_id, command.clone(), operation.metadata()).await {
                Ok(()) => {
                    self.wakers.wake_all();
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
        self.account(&step.account_id, command, &Operation::derived(receive_operation_id(&step.transfer_id))).await
    }

    /// Gives a refused transfer back to its sender, exactly once per transfer id.
    pub async fn return_transfer(&self, step: &TransferStep) -> Result<Outcome, AppError> {
        let command = AccountCommand::ReturnTransfer {
            transfer_id: step.transfer_id.clone(),
            refused_by: step.counterparty.clone(),
            amount: step.amount,
        };
        self.account(&step.account_id, command, &Operation::derived(return_operation_id(&step.transfer_id))).await
    }
}

/// An aggregate's current state, for decisions that need another aggregate's facts.
async fn load<A: Aggregate<Error = DomainError> + Clone>(
    store: &CachedEventStore<A>,
    aggregate_id: &str,
) -> Result<A, AppError> {
    let mut context = cqrs_es::EventStore::load_aggregate(store, aggregate_id).await.map_err(aggregate_error)?;
    Ok(std::mem::take(cqrs_es::AggregateContext::aggregate(&mut context)))
}

impl CommandBus {
    /// Completes a transfer inline, for latency: the same idempotent steps the transfer
    /// completion process manager takes from the log. A failure here leaves the transfer
    /// `pending`, durable, for the process manager to finish.
    pub async fn complete_transfer(&self, debit: &StoredEvent) -> (&'static str, Option<StoredEvent>) {
        let step = match debit.decode::<AccountEvent>().map(|event| outstanding_step(&debit.aggregate_id, &event)) {
            Ok(Some((_, step))) => step,
            Ok(None) => return ("completed", None),
            Err(error) => {
                warn!(%error, "cannot decode a transfer debit");
                return ("pending", None);
            }
        };
        let credit = match self.receive_transfer(&step).await {
            Ok(outcome) => outcome.event().cloned(),
            Err(error) => {
                warn!(transfer_id = step.transfer_id, %error, "inline credit failed; the process manager completes it");
                return ("pending", None);
            }
        };
        let Some(credit) = credit else { return ("pending", None) };
        // A received credit leaves nothing outstanding; a refused one leaves its return.
        let give_back = match credit.decode::<AccountEvent>() {
            Ok(event) => outstanding_step(&credit.aggregate_id, &event),
            Err(_) => return ("pending", Some(credit)),
        };
        let Some((_, give_back)) = give_back else { return ("completed", Some(credit)) };
        match self.return_transfer(&give_back).await {
            Ok(outcome) => ("returned", outcome.event().cloned().or(Some(credit))),
            Err(error) => {
                warn!(transfer_id = step.transfer_id, %error, "inline return failed; the process manager completes it");
                ("pending", Some(credit))
            }
        }
    }
}

pub fn receive_operation_id(transfer_id: &str) -> String {
    format!("receive:{transfer_id}")
}

pub fn return_operation_id(transfer_id: &str) -> String {
    format!("return:{transfer_id}")
}

/// A command's variant name (`Deposit`, `SendTransfer`), from its serde form.
fn command_name(command: &impl serde::Serialize) -> String {
    match serde_json::to_value(command) {
        Ok(serde_json::Value::Object(map)) => map.keys().next().cloned(),
        Ok(serde_json::Value::String(name)) => Some(name),
        _ => None,
    }
    .unwrap_or_else(|| "unknown".to_string())
}

fn is_random(operation: &Operation) -> bool {
    uuid::Uuid::parse_str(&operation.id).is_ok_and(|id| id.get_version_num() == 4)
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
        other => AppError::Internal(other.to_string()),
    }
}

impl TransferCommands for CommandBus {
    async fn receive(&self, step: TransferStep) -> Result<(), String> {
        self.receive_transfer(&step).await.map(drop).map_err(|error| error.to_string())
    }

    async fn give_back(&self, step: TransferStep) -> Result<(), String> {
        self.return_transfer(&step).await.map(drop).map_err(|error| error.to_string())
    }
}

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
        match self.bus.account(account_id, command, &Operation::derived(format!("open:{account_id}"))).await {
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
