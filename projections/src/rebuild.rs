//! Rebuilding read models from the events (`ledger replay`).
//!
//! `verify` rebuilds every read model into a scratch schema with the very projector code the
//! server runs (the scratch schema comes first on the search path; the events are read from
//! `public`), up to each live projector's checkpoint, and compares the tables row by row in
//! one snapshot. `rebuild_in_place` empties the live tables and replays them, and needs the
//! projectors' locks, so it refuses to run next to a live server.

use deadpool_postgres::{GenericClient, Object, Pool};
use tokio_postgres::IsolationLevel;

use crate::connection::DedicatedConnection;
use crate::engine::{
    apply_next_batch, ensure_checkpoint_row, load_checkpoint, try_lock_projector, unlock_projector, EventHandler,
    PerEvent,
};
use crate::error::ProjectionError;
use crate::read_models::{
    AssetsProjector, BalancesProjector, ChannelsProjector, GradidoTransactionsProjector, GroupsProjector,
    HoldsProjector, JoyPlusProjector, PostingsProjector, QuickpayContactsProjector, ReadTable, UsersProjector,
    READ_MODELS,
};
use store::log::{count_after, head};
use store::Checkpoint;

const SCRATCH_SCHEMA: &str = "ledger_replay";
/// How many times verification re-catches-up with a live projector that keeps moving.
const MAX_VERIFY_ROUNDS: usize = 20;

/// How one read table compares with its rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableComparison {
    pub table: &'static str,
    pub live_rows: i64,
    pub rebuilt_rows: i64,
    pub identical: bool,
}

/// Called with (events applied so far, events to apply in all).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// Rebuilds every read model in a scratch schema and compares it with the live tables.
pub async fn verify(pool: &Pool, progress: Progress<'_>) -> Result<Vec<TableComparison>, ProjectionError> {
    let mut client = DedicatedConnection::for_projections(pool).await?;
    prepare_scratch_schema(&client).await?;
    let total = count_after(&*client, Checkpoint::START).await? as u64 * READ_MODELS.len() as u64;
    let mut done = 0_u64;
    let mut comparisons = Vec::new();
    for (name, tables) in READ_MODELS {
        let result = verify_one(&mut client, name, tables, &mut |applied| {
            done += applied;
            progress(done, total.max(done));
        })
        .await?;
        comparisons.extend(result);
    }
    client.batch_execute(&format!("RESET search_path; DROP SCHEMA {SCRATCH_SCHEMA} CASCADE")).await?;
    Ok(comparisons)
}

/// Empties every read table and replays it from the first event. Refuses while a server
/// runs the projectors.
pub async fn rebuild_in_place(pool: &Pool, progress: Progress<'_>) -> Result<u64, ProjectionError> {
    let mut client = DedicatedConnection::for_projections(pool).await?;
    for (name, _) in READ_MODELS {
        ensure_checkpoint_row(&*client, name).await?;
        if !try_lock_projector(&*client, name).await? {
            return Err(ProjectionError::ProjectorBusy(name.to_string()));
        }
    }
    let tables: Vec<&str> = READ_MODELS.iter().flat_map(|(_, tables)| tables.iter().map(|table| table.name)).collect();
    let tx = client.transaction().await?;
    tx.batch_execute(&format!("TRUNCATE {}", tables.join(", "))).await?;
    tx.execute(
        "UPDATE projector_checkpoints SET last_tx_id = 0, last_position = 0, updated_at = now() WHERE projector = ANY($1)",
        &[&READ_MODELS.iter().map(|(name, _)| *name).collect::<Vec<_>>()],
    )
    .await?;
    tx.commit().await?;
    let until = head(&*client).await?;
    let total = count_after(&*client, Checkpoint::START).await? as u64 * READ_MODELS.len() as u64;
    let mut done = 0_u64;
    for (name, _) in READ_MODELS {
        catch_up(&mut client, ReadModelProjector::named(name), until, &mut |applied| {
            done += applied;
            progress(done, total.max(done));
        })
        .await?;
    }
    for (name, _) in READ_MODELS {
        unlock_projector(&*client, name).await?;
    }
    Ok(done)
}

async fn prepare_scratch_schema(client: &Object) -> Result<(), ProjectionError> {
    let mut ddl = format!("DROP SCHEMA IF EXISTS {SCRATCH_SCHEMA} CASCADE; CREATE SCHEMA {SCRATCH_SCHEMA};");
    let tables = READ_MODELS.iter().flat_map(|(_, tables)| tables.iter().map(|table| table.name));
    for table in tables.chain(["projector_checkpoints"]) {
        ddl.push_str(&format!("CREATE TABLE {SCRATCH_SCHEMA}.{table} (LIKE public.{table} INCLUDING ALL);"));
    }
    ddl.push_str(&format!("SET search_path = {SCRATCH_SCHEMA}, public;"));
    client.batch_execute(&ddl).await?;
    Ok(())
}

async fn verify_one(
    client: &mut Object,
    name: &'static str,
    tables: &'static [ReadTable],
    on_applied: &mut (dyn FnMut(u64) + Send),
) -> Result<Vec<TableComparison>, ProjectionError> {
    ensure_checkpoint_row(&*client, name).await?;
    for _ in 0..MAX_VERIFY_ROUNDS {
        let live = live_checkpoint(&*client, name).await?;
        catch_up(client, ReadModelProjector::named(name), live, on_applied).await?;
        // One snapshot for the live checkpoint and the live rows, which the live projector
        // always commits together.
        let tx = client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).start().await?;
        if live_checkpoint(&tx, name).await? != live {
            continue;
        }
        let mut comparisons = Vec::new();
        for table in tables {
            comparisons.push(compare_table(&tx, table).await?);
        }
        tx.commit().await?;
        return Ok(comparisons);
    }
    Err(ProjectionError::ProjectorBusy(name.to_string()))
}

async fn live_checkpoint(client: &impl GenericClient, name: &str) -> Result<Checkpoint, ProjectionError> {
    let row = client
        .query_opt("SELECT last_tx_id, last_position FROM public.projector_checkpoints WHERE projector = $1", &[&name])
        .await?;
    Ok(row.map(|row| Checkpoint { tx_id: row.get(0), position: row.get(1) }).unwrap_or(Checkpoint::START))
}

async fn compare_table(client: &impl GenericClient, table: &ReadTable) -> Result<TableComparison, ProjectionError> {
    let digest = |schema: &str| {
        format!(
            "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY {order}), '')) FROM {schema}.{name} t",
            order = table.order_by,
            name = table.name
        )
    };
    let live = client.query_one(&digest("public"), &[]).await?;
    let rebuilt = client.query_one(&digest(SCRATCH_SCHEMA), &[]).await?;
    Ok(TableComparison {
        table: table.name,
        live_rows: live.get(0),
        rebuilt_rows: rebuilt.get(0),
        identical: live.get::<_, String>(1) == rebuilt.get::<_, String>(1),
    })
}

/// Applies batches until `until` is reached. The handler's checkpoint row (in whichever
/// schema the search path finds first) moves with each batch.
async fn catch_up<H: EventHandler>(
    client: &mut Object,
    handler: H,
    until: Checkpoint,
    on_applied: &mut (dyn FnMut(u64) + Send),
) -> Result<(), ProjectionError> {
    ensure_checkpoint_row(&*client, handler.name()).await?;
    let mut checkpoint = load_checkpoint(&*client, handler.name()).await?;
    while checkpoint < until {
        match apply_next_batch(client, &handler, checkpoint, Some(until)).await? {
            Some((reached, applied)) => {
                checkpoint = reached;
                on_applied(applied as u64);
            }
            None => break,
        }
    }
    Ok(())
}

/// Any one read-model projector, so rebuilds can iterate over them.
pub enum ReadModelProjector {
    Balances(BalancesProjector),
    Postings(PostingsProjector),
    Holds(PerEvent<HoldsProjector>),
    Assets(PerEvent<AssetsProjector>),
    Users(PerEvent<UsersProjector>),
    Groups(PerEvent<GroupsProjector>),
    GradidoTransactions(PerEvent<GradidoTransactionsProjector>),
    QuickpayContacts(PerEvent<QuickpayContactsProjector>),
    Channels(PerEvent<ChannelsProjector>),
    JoyPlus(PerEvent<JoyPlusProjector>),
}

impl ReadModelProjector {
    /// The projector of the read model listed in `READ_MODELS` as `name`.
    pub fn named(name: &str) -> Self {
        match name {
            BalancesProjector::NAME => Self::Balances(BalancesProjector::default()),
            PostingsProjector::NAME => Self::Postings(PostingsProjector::default()),
            HoldsProjector::NAME => Self::Holds(PerEvent(HoldsProjector)),
            AssetsProjector::NAME => Self::Assets(PerEvent(AssetsProjector)),
            UsersProjector::NAME => Self::Users(PerEvent(UsersProjector)),
            GroupsProjector::NAME => Self::Groups(PerEvent(GroupsProjector)),
            GradidoTransactionsProjector::NAME => Self::GradidoTransactions(PerEvent(GradidoTransactionsProjector)),
            QuickpayContactsProjector::NAME => Self::QuickpayContacts(PerEvent(QuickpayContactsProjector)),
            ChannelsProjector::NAME => Self::Channels(PerEvent(ChannelsProjector)),
            JoyPlusProjector::NAME => Self::JoyPlus(PerEvent(JoyPlusProjector::default())),
            other => unreachable!("{other} is listed in READ_MODELS but has no projector"),
        }
    }
}

impl EventHandler for ReadModelProjector {
    fn name(&self) -> &'static str {
        match self {
            Self::Balances(projector) => projector.name(),
            Self::Postings(projector) => projector.name(),
            Self::Holds(projector) => projector.name(),
            Self::Assets(projector) => projector.name(),
            Self::Users(projector) => projector.name(),
            Self::Groups(projector) => projector.name(),
            Self::GradidoTransactions(projector) => projector.name(),
            Self::QuickpayContacts(projector) => projector.name(),
            Self::Channels(projector) => projector.name(),
            Self::JoyPlus(projector) => projector.name(),
        }
    }

    async fn handle_batch(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        events: &[crate::StoredEvent],
    ) -> Result<(), ProjectionError> {
        match self {
            Self::Balances(projector) => projector.handle_batch(tx, events).await,
            Self::Postings(projector) => projector.handle_batch(tx, events).await,
            Self::Holds(projector) => projector.handle_batch(tx, events).await,
            Self::Assets(projector) => projector.handle_batch(tx, events).await,
            Self::Users(projector) => projector.handle_batch(tx, events).await,
            Self::Groups(projector) => projector.handle_batch(tx, events).await,
            Self::GradidoTransactions(projector) => projector.handle_batch(tx, events).await,
            Self::QuickpayContacts(projector) => projector.handle_batch(tx, events).await,
            Self::Channels(projector) => projector.handle_batch(tx, events).await,
            Self::JoyPlus(projector) => projector.handle_batch(tx, events).await,
        }
    }
}
