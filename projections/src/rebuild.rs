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
    apply_batch, ensure_checkpoint_row, save_skipped, try_lock_projector, unlock_projector, EventHandler, Position,
};
use crate::error::ProjectionError;
use crate::pass::ProjectionPass;
use crate::registry::{ReadModelProjector, ReadTable, ALL as READ_MODELS};
use store::log::{count_after, head, read_after, StoredEvent, MAX_REPLAY_BATCH_EVENTS};
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

/// The most events a replay page holds.
pub const MAX_PAGE_EVENTS: i64 = MAX_REPLAY_BATCH_EVENTS;
/// Events a replay reads and applies at a time, unless told otherwise.
pub const DEFAULT_PAGE_EVENTS: i64 = MAX_PAGE_EVENTS;

/// A page of at least one event and at most `MAX_PAGE_EVENTS`.
fn page_size(page_events: i64) -> i64 {
    page_events.clamp(1, MAX_PAGE_EVENTS)
}

/// Rebuilds every read model in a scratch schema, `page_events` events a page, and
/// compares it with the live tables.
pub async fn verify(
    pool: &Pool,
    page_events: i64,
    progress: Progress<'_>,
) -> Result<Vec<TableComparison>, ProjectionError> {
    let page_events = page_size(page_events);
    let mut client = DedicatedConnection::for_projections(pool).await?;
    prepare_scratch_schema(&client).await?;
    let total = count_after(&*client, Checkpoint::START).await? as u64 * READ_MODELS.len() as u64;
    let mut done = 0_u64;
    let mut comparisons = Vec::new();
    let reader = pool.get().await?;
    for model in READ_MODELS {
        let (name, tables) = (model.name, model.tables);
        let result = verify_one(&mut client, &reader, name, tables, page_events, &mut |applied| {
            done += applied;
            progress(done, total.max(done));
        })
        .await?;
        comparisons.extend(result);
    }
    client.batch_execute(&format!("RESET search_path; DROP SCHEMA {SCRATCH_SCHEMA} CASCADE")).await?;
    Ok(comparisons)
}

/// Empties every read table and replays it from the first event, `page_events` events a
/// page. Refuses while a server runs the projectors.
pub async fn rebuild_in_place(pool: &Pool, page_events: i64, progress: Progress<'_>) -> Result<u64, ProjectionError> {
    let page_events = page_size(page_events);
    let mut client = DedicatedConnection::for_projections(pool).await?;
    let lock_names: Vec<&str> = READ_MODELS.iter().map(|model| model.name).chain([ProjectionPass::NAME]).collect();
    for name in &lock_names {
        if !try_lock_projector(&*client, name).await? {
            return Err(ProjectionError::ProjectorBusy(name.to_string()));
        }
    }
    let tables: Vec<&str> = READ_MODELS.iter().flat_map(|model| model.tables.iter().map(|table| table.name)).collect();
    let tx = client.transaction().await?;
    tx.batch_execute(&format!("TRUNCATE {}", tables.join(", "))).await?;
    tx.execute(
        "UPDATE projector_checkpoints SET last_tx_id = 0, last_position = 0, updated_at = now() WHERE projector = ANY($1)",
        &[&READ_MODELS.iter().map(|model| model.name).collect::<Vec<_>>()],
    )
    .await?;
    tx.commit().await?;
    let until = head(&*client).await?;
    let total = count_after(&*client, Checkpoint::START).await? as u64;
    let mut done = 0_u64;
    // No server reads these tables while they are rebuilt (the locks above), so a page need
    // not wait for its WAL flush; the durable commit below flushes them all before success.
    client.batch_execute("SET synchronous_commit = off").await?;
    // One pass over the log applies every read model, as the server does.
    let reader = pool.get().await?;
    rebuild_pass(&mut client, &reader, &ProjectionPass::default(), until, page_events, &mut |applied| {
        done += applied;
        progress(done, total.max(done));
    })
    .await?;
    client.batch_execute("SET synchronous_commit = on").await?;
    client
        .execute(
            "UPDATE projector_checkpoints SET updated_at = now() WHERE projector = ANY($1)",
            &[&READ_MODELS.iter().map(|model| model.name).collect::<Vec<_>>()],
        )
        .await?;
    for name in lock_names {
        unlock_projector(&*client, name).await?;
    }
    Ok(done * READ_MODELS.len() as u64)
}

async fn prepare_scratch_schema(client: &Object) -> Result<(), ProjectionError> {
    let mut ddl = format!("DROP SCHEMA IF EXISTS {SCRATCH_SCHEMA} CASCADE; CREATE SCHEMA {SCRATCH_SCHEMA};");
    let tables = READ_MODELS.iter().flat_map(|model| model.tables.iter().map(|table| table.name));
    for table in tables.chain(["projector_checkpoints"]) {
        ddl.push_str(&format!("CREATE TABLE {SCRATCH_SCHEMA}.{table} (LIKE public.{table} INCLUDING ALL);"));
    }
    ddl.push_str(&format!("SET search_path = {SCRATCH_SCHEMA}, public;"));
    client.batch_execute(&ddl).await?;
    Ok(())
}

async fn verify_one(
    client: &mut Object,
    reader: &Object,
    name: &'static str,
    tables: &'static [ReadTable],
    page_events: i64,
    on_applied: &mut (dyn FnMut(u64) + Send),
) -> Result<Vec<TableComparison>, ProjectionError> {
    ensure_checkpoint_row(&*client, name).await?;
    for _ in 0..MAX_VERIFY_ROUNDS {
        let live = live_checkpoint(&*client, name).await?;
        let projector = ReadModelProjector::named(name).expect("listed in the registry");
        catch_up(client, reader, projector, live, page_events, on_applied).await?;
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

/// The projection pass over the whole log, as a pipeline of three stages: while one page's
/// writes and checkpoints go to PostgreSQL and commit on `client`, the next page is read on
/// `reader` and its writes are collected. Replay costs the slowest stage, not their sum.
/// Collecting the next page's writes before this one's checkpoints are saved gives the same
/// writes: each read model takes the events after its own checkpoint, and every event of
/// the next page is after this page's.
async fn rebuild_pass(
    client: &mut Object,
    reader: &Object,
    pass: &ProjectionPass,
    until: Checkpoint,
    page_events: i64,
    on_applied: &mut (dyn FnMut(u64) + Send),
) -> Result<(), ProjectionError> {
    let start = pass.load_position(client).await?;
    let read_page = |after: Checkpoint| read_after(reader, after, Some(until), page_events);
    let read_and_project = |after: Checkpoint| async move {
        if after >= until {
            return Ok::<_, ProjectionError>(None);
        }
        let page = read_page(after).await?;
        let Some(last) = page.last().map(StoredEvent::checkpoint) else { return Ok(None) };
        let writes = pass.project(reader, &page).await?;
        Ok(Some((last, page.len(), writes)))
    };
    let mut next = read_and_project(start).await?;
    while let Some((last, events, mut writes)) = next {
        let apply = async {
            let moved = pass.move_checkpoints(&*client, last, &mut writes).await?;
            let tx = client.transaction().await?;
            writes.send(&tx).await.map_err(crate::pass::moved_elsewhere)?;
            tx.commit().await?;
            Ok::<_, ProjectionError>(moved)
        };
        let (moved, following) = tokio::join!(apply, read_and_project(last));
        if let Some(moved) = moved? {
            pass.checkpoints_saved(moved);
        }
        on_applied(events as u64);
        next = following?;
    }
    Ok(())
}

/// Applies batches until `until` is reached. The handler's checkpoint row (in whichever
/// schema the search path finds first) moves with each batch. A second connection reads the
/// next page while this one applies the current one: replay costs the slower of the two,
/// not their sum.
async fn catch_up<H: EventHandler>(
    client: &mut Object,
    reader: &Object,
    handler: H,
    until: Checkpoint,
    page_events: i64,
    on_applied: &mut (dyn FnMut(u64) + Send),
) -> Result<(), ProjectionError> {
    let mut position = Position::saved_at(handler.load_position(client).await?);
    let read_page = |after: Checkpoint| read_after(reader, after, Some(until), page_events);
    let mut page = if position.reached < until { read_page(position.reached).await? } else { Vec::new() };
    while let Some(last) = page.last().map(StoredEvent::checkpoint) {
        let read_ahead = async {
            if last < until {
                read_page(last).await
            } else {
                Ok(Vec::new())
            }
        };
        let (next, applied) = tokio::join!(read_ahead, apply_batch(client, &handler, &mut position, &page));
        if let Some(applied) = applied? {
            on_applied(applied as u64);
        }
        page = next?;
    }
    if position.unsaved_events > 0 {
        save_skipped(client, &handler, &mut position).await?;
    }
    Ok(())
}
