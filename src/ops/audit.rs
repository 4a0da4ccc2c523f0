//! `ledger audit`: checks the whole history and names the first bad position.
//!
//! 1. Every event's content still matches the hash it got at append time, and the hash chain
//!    (`event_chain`) links every sealed event in commit order with no gap.
//! 2. Every aggregate's sequences are contiguous from 1.
//! 3. Money, replayed from the events alone: no user account ever went below zero, and each
//!    asset's postings sum to zero (also over the `balances` read model).
//! 4. Every read model equals a fresh rebuild from the events.
//! 5. Every snapshot equals the fold of its aggregate's events up to its sequence.

use std::collections::HashMap;

use deadpool_postgres::Pool;
use domain::account::{postings, AccountEvent};
use domain::system_account::parse_system_account;
use domain::AssetCode;
use projections::chain::{content_hash, link, to_hash, EventContent, Hash, GENESIS};
use projections::rebuild::Progress;
use rust_decimal::Decimal;

use app::AppError;

/// Events read per round trip.
const AUDIT_PAGE_EVENTS: i64 = 2_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    /// The first event where the check failed, when one event is to blame.
    pub position: Option<i64>,
    pub detail: String,
}

#[derive(Debug, Default)]
pub struct AuditReport {
    pub events: u64,
    pub sealed: u64,
    /// Snapshots compared with their events.
    pub snapshots: u64,
    pub head_chain_hash: Option<String>,
    pub findings: Vec<Finding>,
}

impl AuditReport {
    /// The earliest position any check blames.
    pub fn first_bad_position(&self) -> Option<i64> {
        self.findings.iter().filter_map(|finding| finding.position).min()
    }

    fn find(&mut self, check: &'static str, position: Option<i64>, detail: String) {
        // One finding per check: the first is the one to fix.
        if !self.findings.iter().any(|finding| finding.check == check) {
            self.findings.push(Finding { check, position, detail });
        }
    }
}

/// What the money check remembers per account.
struct AccountState {
    asset: AssetCode,
    is_user: bool,
    balance: Decimal,
}

#[derive(Default)]
struct Replay {
    accounts: HashMap<String, AccountState>,
    totals: HashMap<AssetCode, Decimal>,
    sequences: HashMap<(String, String), i64>,
    chain_index: i64,
    previous: Hash,
    unsealed_from: Option<i64>,
}

pub async fn audit(reads: &Pool, progress: Progress<'_>) -> Result<AuditReport, AppError> {
    let client = reads.get().await?;
    let total: i64 = client
        .query_one("SELECT count(*) FROM events WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())", &[])
        .await?
        .get(0);
    let total = u64::try_from(total).unwrap_or(0);
    let mut report = AuditReport::default();
    let mut replay = Replay { previous: GENESIS, ..Default::default() };
    let (mut after_tx, mut after_position) = (0_i64, 0_i64);
    loop {
        let rows = client
            .query(
                "SELECT e.global_position, e.tx_id::text::bigint, e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, \
                        e.event_version, e.payload::text, e.metadata::text, e.recorded_at, e.event_hash, \
                        c.chain_index, c.event_hash, c.chain_hash \
                 FROM events e LEFT JOIN event_chain c ON c.global_position = e.global_position \
                 WHERE (e.tx_id, e.global_position) > ($1::text::xid8, $2) AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
                 ORDER BY e.tx_id, e.global_position LIMIT $3",
                &[&after_tx.to_string(), &after_position, &AUDIT_PAGE_EVENTS],
            )
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            after_tx = row.get(1);
            after_position = row.get(0);
            check_event(row, &mut replay, &mut report);
            report.events += 1;
        }
        progress(report.events, total);
    }
    let chain_rows: i64 = client.query_one("SELECT count(*) FROM event_chain", &[]).await?.get(0);
    if u64::try_from(chain_rows).unwrap_or(0) != report.sealed {
        let orphan = client
            .query_opt(
                "SELECT c.chain_index, c.global_position FROM event_chain c \
                 WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.global_position = c.global_position) ORDER BY c.chain_index LIMIT 1",
                &[],
            )
            .await?;
        let position = orphan.as_ref().map(|row| row.get::<_, i64>(1));
        report.find(
            "hash chain",
            position,
            format!(
                "the chain has {chain_rows} links but {} sealed events exist (an event was removed)",
                report.sealed
            ),
        );
    }
    check_conservation(&replay, &mut report);
    let balances = client
        .query(
            "SELECT asset, sum(amount)::text FROM balances GROUP BY asset HAVING sum(amount) <> 0 ORDER BY asset",
            &[],
        )
        .await?;
    if let Some(row) = balances.first() {
        let (asset, sum): (String, String) = (row.get(0), row.get(1));
        report.find("conservation", None, format!("balances of {asset} sum to {sum}, not zero"));
    }
    for comparison in projections::rebuild::verify(reads, projections::rebuild::DEFAULT_PAGE_EVENTS, progress).await? {
        if !comparison.identical {
            report.find(
                "read models",
                None,
                format!("table {} differs from a rebuild from the events", comparison.table),
            );
        }
    }
    check_snapshots(reads, progress, &mut report).await?;
    report.head_chain_hash = (replay.chain_index > 0).then(|| hex::encode(replay.previous));
    Ok(report)
}

fn check_event(row: &tokio_postgres::Row, replay: &mut Replay, report: &mut AuditReport) {
    let position: i64 = row.get(0);
    let (aggregate_type, aggregate_id): (String, String) = (row.get(2), row.get(3));
    let sequence: i64 = row.get(4);
    let (payload, metadata): (String, String) = (row.get(7), row.get(8));
    let content = EventContent {
        aggregate_type: &aggregate_type,
        aggregate_id: &aggregate_id,
        sequence,
        event_type: row.get(5),
        event_version: row.get(6),
        payload_json: &payload,
        metadata_json: &metadata,
        recorded_at: row.get(9),
    };
    let recomputed = content_hash(&content);
    if to_hash(row.get::<_, &[u8]>(10)) != Some(recomputed) {
        report.find(
            "event hashes",
            Some(position),
            format!("event {position} no longer matches the hash it was appended with"),
        );
    }
    match row.get::<_, Option<i64>>(11) {
        Some(index) => {
            report.sealed += 1;
            let expected = link(&replay.previous, position, &recomputed);
            if let Some(gap) = replay.unsealed_from {
                report.find(
                    "hash chain",
                    Some(gap),
                    format!("event {gap} is missing from the chain though later events are sealed"),
                );
            }
            if index != replay.chain_index + 1 || to_hash(row.get::<_, &[u8]>(13)) != Some(expected) {
                report.find(
                    "hash chain",
                    Some(position),
                    format!("the chain breaks at event {position} (link {index})"),
                );
            }
            replay.chain_index = index;
            replay.previous = to_hash(row.get::<_, &[u8]>(13)).unwrap_or(expected);
        }
        None => {
            replay.unsealed_from.get_or_insert(position);
        }
    }
    let last = replay.sequences.entry((aggregate_type.clone(), aggregate_id.clone())).or_insert(0);
    if sequence != *last + 1 {
        report.find(
            "sequences",
            Some(position),
            format!("{aggregate_type} {aggregate_id} jumps from sequence {last} to {sequence} at event {position}"),
        );
    }
    *last = sequence;
    if aggregate_type == "account" {
        check_money(position, &aggregate_id, &payload, replay, report);
    }
}

fn check_money(position: i64, account_id: &str, payload: &str, replay: &mut Replay, report: &mut AuditReport) {
    let event: AccountEvent = match serde_json::from_str(payload) {
        Ok(event) => event,
        Err(error) => return report.find("money", Some(position), format!("event {position} cannot be read: {error}")),
    };
    if let AccountEvent::AccountOpened { asset, .. } = &event {
        let is_user = parse_system_account(account_id).is_none();
        replay
            .accounts
            .insert(account_id.to_string(), AccountState { asset: asset.clone(), is_user, balance: Decimal::ZERO });
    }
    let Some(asset) = replay.accounts.get(account_id).map(|account| account.asset.clone()) else {
        return report.find(
            "money",
            Some(position),
            format!("event {position} moves money of account {account_id}, which was never opened"),
        );
    };
    for posting in postings(&event, account_id, &asset) {
        let total = replay.totals.entry(asset.clone()).or_default();
        *total = total.checked_add(posting.amount).unwrap_or(*total);
        // System accounts may go negative; they count only in the totals.
        if let Some(account) = replay.accounts.get_mut(&posting.account_id) {
            account.balance = account.balance.checked_add(posting.amount).unwrap_or(account.balance);
            if account.is_user && account.balance.is_sign_negative() && !account.balance.is_zero() {
                report.find(
                    "no negative balance",
                    Some(position),
                    format!("user account {} went to {} at event {position}", posting.account_id, account.balance),
                );
            }
        }
    }
}

fn check_conservation(replay: &Replay, report: &mut AuditReport) {
    let mut unbalanced: Vec<(&AssetCode, &Decimal)> =
        replay.totals.iter().filter(|(_, total)| !total.is_zero()).collect();
    unbalanced.sort();
    if let Some((asset, total)) = unbalanced.first() {
        report.find("conservation", None, format!("the postings of {asset} sum to {total}, not zero"));
    }
}

async fn check_snapshots(reads: &Pool, progress: Progress<'_>, report: &mut AuditReport) -> Result<(), AppError> {
    let checks = app::snapshots::check_all(reads, progress).await?;
    report.snapshots = checks.iter().map(|check| check.checked).sum();
    let bad: Vec<_> = checks.iter().flat_map(|check| &check.bad).collect();
    if let Some(first) = bad.first() {
        report.find(
            "snapshots",
            None,
            format!(
                "{} of {} snapshots differ from their events; first: {} {} at sequence {}: {} \
                 (loads would decide on it: run `ledger snapshots --rebuild`)",
                bad.len(),
                report.snapshots,
                first.aggregate_type,
                first.aggregate_id,
                first.sequence,
                first.problem
            ),
        );
    }
    Ok(())
}
