use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use domain::account::AccountEvent;
use rust_decimal::Decimal;

use crate::engine::EventProjector;
use crate::error::ProjectionError;
use crate::writes::Writes;
use store::StoredEvent;

/// `holds`: every hold with its expiry and what became of it.
pub struct HoldsProjector;

impl HoldsProjector {
    pub const NAME: &'static str = "holds";
}

impl EventProjector for HoldsProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn handle(
        &self,
        tx: &impl GenericClient,
        writes: &mut Writes,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        let holds_only = matches!(event.event_type.as_str(), "FundsHeld" | "HoldReleased" | "HoldCaptured");
        if event.aggregate_type != "account" || !holds_only {
            return Ok(());
        }
        let (hold_id, status) = match event.decode()? {
            AccountEvent::FundsHeld { hold_id, amount, expires_at, memo } => {
                writes
                    .push(
                        tx,
                        "INSERT INTO holds (account_id, hold_id, amount, expires_at, memo, status, \
                                        last_tx_id, last_position, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8) ON CONFLICT DO NOTHING",
                        &[
                            &event.aggregate_id,
                            &hold_id,
                            &amount.value(),
                            &expires_at,
                            &memo,
                            &event.tx_id,
                            &event.position,
                            &event.recorded_at,
                        ],
                    )
                    .await?;
                return Ok(());
            }
            AccountEvent::HoldReleased { hold_id, expired: true, .. } => (hold_id, "expired"),
            AccountEvent::HoldReleased { hold_id, expired: false, .. } => (hold_id, "released"),
            AccountEvent::HoldCaptured { hold_id, .. } => (hold_id, "captured"),
            _ => return Ok(()),
        };
        writes
            .push(
                tx,
                "UPDATE holds SET status = $3, last_tx_id = $4, last_position = $5, updated_at = $6 \
             WHERE account_id = $1 AND hold_id = $2 AND (last_tx_id, last_position) < ($4, $5)",
                &[&event.aggregate_id, &hold_id, &status, &event.tx_id, &event.position, &event.recorded_at],
            )
            .await?;
        Ok(())
    }
}

/// One hold as the `holds` table shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldRow {
    pub hold_id: String,
    pub account_id: String,
    pub amount: Decimal,
    pub expires_at: Option<DateTime<Utc>>,
    pub memo: Option<String>,
    /// `active`, `released`, `expired` or `captured`.
    pub status: String,
}

const HOLD_COLUMNS: &str = "hold_id, account_id, amount, expires_at, memo, status";

fn hold_row(row: &tokio_postgres::Row) -> HoldRow {
    HoldRow {
        hold_id: row.get("hold_id"),
        account_id: row.get("account_id"),
        amount: row.get("amount"),
        expires_at: row.get("expires_at"),
        memo: row.get("memo"),
        status: row.get("status"),
    }
}

/// An account's holds in the order they were placed.
pub async fn of_account(
    client: &impl GenericClient,
    account_id: &str,
    limit: i64,
) -> Result<Vec<HoldRow>, ProjectionError> {
    let sql =
        format!("SELECT {HOLD_COLUMNS} FROM holds WHERE account_id = $1 ORDER BY last_tx_id, last_position LIMIT $2");
    Ok(client.query(&sql, &[&account_id, &limit]).await?.iter().map(hold_row).collect())
}

pub async fn hold(
    client: &impl GenericClient,
    account_id: &str,
    hold_id: &str,
) -> Result<Option<HoldRow>, ProjectionError> {
    let sql = format!("SELECT {HOLD_COLUMNS} FROM holds WHERE account_id = $1 AND hold_id = $2");
    Ok(client.query_opt(&sql, &[&account_id, &hold_id]).await?.as_ref().map(hold_row))
}

/// Active holds whose expiry has passed, soonest first: (account id, hold id).
pub async fn due_for_expiry(client: &impl GenericClient, limit: i64) -> Result<Vec<(String, String)>, ProjectionError> {
    let rows = client
        .query(
            "SELECT account_id, hold_id FROM holds WHERE status = 'active' AND expires_at <= now() \
             ORDER BY expires_at LIMIT $1",
            &[&limit],
        )
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// Active holds whose memo is `memo_prefix` followed by their own id, placed more than
/// `older_than_seconds` ago, whose id names no Gradido transaction: (account id, hold id).
pub async fn unclaimed_reservations(
    client: &impl GenericClient,
    memo_prefix: &str,
    older_than_seconds: i64,
    limit: i64,
) -> Result<Vec<(String, String)>, ProjectionError> {
    let rows = client
        .query(
            "SELECT h.account_id, h.hold_id FROM holds h \
             WHERE h.status = 'active' AND h.memo = $1 || h.hold_id \
               AND h.updated_at < now() - $2::bigint * interval '1 second' \
               AND NOT EXISTS (SELECT 1 FROM gradido_transactions t WHERE t.transaction_id = h.hold_id) \
             LIMIT $3",
            &[&memo_prefix, &older_than_seconds, &limit],
        )
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}
