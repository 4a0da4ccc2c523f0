//! What a run cost the database, read from the cluster's own counters before and after it,
//! and what its backends were doing, sampled from `pg_stat_activity` while it ran.

use std::collections::BTreeMap;
use std::time::Duration;

/// How often the sampler looks at `pg_stat_activity`.
const SAMPLE_EVERY_MS: u64 = 50;
/// The waits printed for a run, most seen first.
const TOP_WAITS: usize = 4;

/// Cumulative counters of one database and of the cluster.
#[derive(Clone, Copy, Default)]
pub struct Counters {
    commits: i64,
    blocks_read: i64,
    wal_records: i64,
    wal_full_page_images: i64,
    wal_bytes: f64,
    buffers_written_by_backends: i64,
    checkpoints: i64,
}

impl Counters {
    pub async fn read(sql: &tokio_postgres::Client) -> Self {
        let row = sql
            .query_one(
                "SELECT d.xact_commit, d.blks_read, w.wal_records, w.wal_fpi, w.wal_bytes::float8, \
                        b.buffers_backend, b.checkpoints_timed + b.checkpoints_req \
                 FROM pg_stat_database d, pg_stat_wal w, pg_stat_bgwriter b \
                 WHERE d.datname = current_database()",
                &[],
            )
            .await
            .expect("read the cluster's counters");
        Self {
            commits: row.get(0),
            blocks_read: row.get(1),
            wal_records: row.get(2),
            wal_full_page_images: row.get(3),
            wal_bytes: row.get(4),
            buffers_written_by_backends: row.get(5),
            checkpoints: row.get(6),
        }
    }
}

/// The counters' growth over a run, per operation, and the sampled waits.
pub struct Cost {
    operations: f64,
    before: Counters,
    after: Counters,
    waits: BTreeMap<String, usize>,
    samples: usize,
}

impl Cost {
    /// One line: per-operation costs, checkpoints begun, and the most seen waits of the
    /// cluster's active backends (autovacuum named apart: it competes for the same cores).
    pub fn summary(&self) -> String {
        let per = |delta: f64| delta / self.operations.max(1.0);
        let (before, after) = (self.before, self.after);
        let waits = {
            let mut seen: Vec<(&String, &usize)> = self.waits.iter().collect();
            seen.sort_by(|a, b| b.1.cmp(a.1));
            let shares: Vec<String> = seen
                .iter()
                .take(TOP_WAITS)
                .map(|(wait, count)| format!("{wait} {:.1}", **count as f64 / self.samples.max(1) as f64))
                .collect();
            shares.join(", ")
        };
        format!(
            "per op: {:.2} commits, {:.1} WAL records, {:.2} full-page images, {:.0} WAL bytes, \
             {:.2} blocks read, {:.3} backend buffer writes; {} checkpoints; busy backends per sample: {waits}",
            per((after.commits - before.commits) as f64),
            per((after.wal_records - before.wal_records) as f64),
            per((after.wal_full_page_images - before.wal_full_page_images) as f64),
            per(after.wal_bytes - before.wal_bytes),
            per((after.blocks_read - before.blocks_read) as f64),
            per((after.buffers_written_by_backends - before.buffers_written_by_backends) as f64),
            after.checkpoints - before.checkpoints,
        )
    }
}

/// Samples the active backends until `finish` is called.
pub struct Watch {
    before: Counters,
    stop: tokio::sync::oneshot::Sender<()>,
    sampler: tokio::task::JoinHandle<(BTreeMap<String, usize>, usize)>,
}

impl Watch {
    pub async fn start(sql: &tokio_postgres::Client, sampling: tokio_postgres::Client) -> Self {
        let before = Counters::read(sql).await;
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let sampler = tokio::spawn(async move {
            let (mut waits, mut samples) = (BTreeMap::new(), 0);
            let mut every = tokio::time::interval(Duration::from_millis(SAMPLE_EVERY_MS));
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = every.tick() => {}
                }
                let rows = sampling
                    .query(
                        "SELECT CASE WHEN backend_type = 'client backend' THEN '' ELSE backend_type || ' ' END \
                                || coalesce(wait_event_type || ':' || wait_event, 'CPU') \
                         FROM pg_stat_activity \
                         WHERE pid <> pg_backend_pid() AND (state = 'active' OR backend_type = 'autovacuum worker')",
                        &[],
                    )
                    .await
                    .expect("sample pg_stat_activity");
                samples += 1;
                for row in rows {
                    *waits.entry(row.get::<_, String>(0)).or_insert(0) += 1;
                }
            }
            (waits, samples)
        });
        Self { before, stop, sampler }
    }

    pub async fn finish(self, sql: &tokio_postgres::Client, operations: usize) -> Cost {
        let _ = self.stop.send(());
        let (waits, samples) = self.sampler.await.expect("sampler");
        // Statistics reach the shared counters when a backend goes idle; give them a moment.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let after = Counters::read(sql).await;
        Cost { operations: operations as f64, before: self.before, after, waits, samples }
    }
}

/// Statements whose blocks per call on a long log outgrow the empty log's by more than this
/// factor and by more than `FLAT_SLACK_BLOCKS` (a B-tree one level deeper costs a block or
/// two a probe, which is flat enough) are named as growing with the log.
const FLAT_FACTOR: f64 = 2.0;
const FLAT_SLACK_BLOCKS: f64 = 4.0;
/// The statements printed by growth, most grown first.
const TOP_GROWN: usize = 6;

/// Forgets the current database's statement statistics (the cluster keeps other databases').
pub async fn reset_statements(sql: &tokio_postgres::Client) {
    sql.batch_execute(
        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; \
         SELECT pg_stat_statements_reset(0::oid, (SELECT oid FROM pg_database WHERE datname = current_database()), 0::bigint)",
    )
    .await
    .expect("reset pg_stat_statements");
}

/// Each statement of the current database since the last reset: its calls and the shared
/// blocks (found in the buffer cache or read) it touched per call.
pub async fn blocks_per_call(sql: &tokio_postgres::Client) -> BTreeMap<String, (i64, f64)> {
    let rows = sql
        .query(
            "SELECT query, calls, (shared_blks_hit + shared_blks_read)::float8 / calls FROM pg_stat_statements \
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND calls > 0 \
               AND query NOT LIKE '%pg_stat%'",
            &[],
        )
        .await
        .expect("read pg_stat_statements");
    rows.iter().map(|row| (row.get(0), (row.get(1), row.get(2)))).collect()
}

/// Compares the statements both databases ran: the ones that touch the most more blocks
/// per call on the long log, and those of them that grew beyond the flat allowance.
pub fn growth_report(long: &BTreeMap<String, (i64, f64)>, empty: &BTreeMap<String, (i64, f64)>) -> String {
    let mut grown: Vec<(f64, f64, &String)> = long
        .iter()
        .filter_map(|(query, (_, long_blocks))| {
            empty.get(query).map(|(_, empty_blocks)| (*long_blocks, *empty_blocks, query))
        })
        .collect();
    let compared = grown.len();
    grown.sort_by(|a, b| (b.0 - b.1).total_cmp(&(a.0 - a.1)));
    let growing: Vec<&(f64, f64, &String)> = grown
        .iter()
        .filter(|(long_blocks, empty_blocks, _)| {
            *long_blocks > empty_blocks * FLAT_FACTOR && long_blocks - empty_blocks > FLAT_SLACK_BLOCKS
        })
        .collect();
    let mut report = format!(
        "{compared} statements ran on both logs; {} touch over {FLAT_FACTOR}x and over {FLAT_SLACK_BLOCKS} more \
         blocks per call on the long one. Most grown (long / empty blocks per call):\n",
        growing.len()
    );
    for (long_blocks, empty_blocks, query) in grown.iter().take(TOP_GROWN) {
        let query: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
        report.push_str(&format!("  {long_blocks:>8.1} / {empty_blocks:>8.1}  {:.110}\n", query));
    }
    report
}
