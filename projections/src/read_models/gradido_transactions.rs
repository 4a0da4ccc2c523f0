use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use domain::gradido::{GradidoKind, TransactionEvent};
use rust_decimal::Decimal;

use super::at_scale;
use crate::engine::EventProjector;
use crate::error::ProjectionError;
use crate::writes::Writes;
use store::StoredEvent;

/// `gradido_transactions`: each Gradido transaction and its status; the pending and
/// executing counts a login shows are counts over it.
pub struct GradidoTransactionsProjector;

impl GradidoTransactionsProjector {
    pub const NAME: &'static str = "gradido_transactions";
}

impl EventProjector for GradidoTransactionsProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn handle(
        &self,
        tx: &impl GenericClient,
        writes: &mut Writes,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        if event.aggregate_type != "gradido_transaction" {
            return Ok(());
        }
        let decoded: TransactionEvent = event.decode()?;
        let status = decoded.status().name();
        let reason = match &decoded {
            TransactionEvent::GradidoTransactionRejected { reason } => Some(reason.clone()),
            _ => None,
        };
        if let TransactionEvent::GradidoTransactionCreated {
            kind,
            initiator,
            from_account,
            recipient,
            to_account,
            amount,
            target_date,
            memo,
        } = decoded
        {
            let kind = match kind {
                GradidoKind::Transfer => "transfer",
                GradidoKind::Creation => "creation",
            };
            let scale = domain::Scale::new(4).expect("GDD has 4 decimals");
            writes.push(
                tx,
                "INSERT INTO gradido_transactions (transaction_id, kind, initiator, recipient, from_account, to_account, \
                    amount, target_date, memo, status, last_tx_id, last_position, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7::text::numeric, $8, $9, $10, $11, $12, $13, $13) ON CONFLICT DO NOTHING",
                &[
                    &event.aggregate_id,
                    &kind,
                    &initiator,
                    &recipient,
                    &from_account,
                    &to_account,
                    &at_scale(amount.value(), scale),
                    &target_date,
                    &memo,
                    &status,
                    &event.tx_id,
                    &event.position,
                    &event.recorded_at,
                ],
            )
            .await?;
            return Ok(());
        }
        writes.push(
            tx,
            "UPDATE gradido_transactions SET status = $2, reason = coalesce($3, reason), last_tx_id = $4, last_position = $5, \
                    updated_at = $6 \
             WHERE transaction_id = $1 AND (last_tx_id, last_position) < ($4, $5)",
            &[&event.aggregate_id, &status, &reason, &event.tx_id, &event.position, &event.recorded_at],
        )
        .await?;
        Ok(())
    }
}

/// One Gradido transaction as the read model shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionRow {
    pub transaction_id: String,
    /// `transfer` or `creation`.
    pub kind: String,
    pub initiator: String,
    pub recipient: String,
    pub amount: Decimal,
    pub target_date: Option<NaiveDate>,
    pub memo: String,
    /// `pending`, `executing`, `confirmed`, `rejected` or `cancelled`.
    pub status: String,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

const TRANSACTION_COLUMNS: &str =
    "transaction_id, kind, initiator, recipient, amount, target_date, memo, status, reason, created_at";

fn transaction_row(row: &tokio_postgres::Row) -> TransactionRow {
    TransactionRow {
        transaction_id: row.get("transaction_id"),
        kind: row.get("kind"),
        initiator: row.get("initiator"),
        recipient: row.get("recipient"),
        amount: row.get("amount"),
        target_date: row.get("target_date"),
        memo: row.get("memo"),
        status: row.get("status"),
        reason: row.get("reason"),
        created_at: row.get("created_at"),
    }
}

/// The transactions `user_id` started that are still pending or executing, oldest first.
pub async fn running(
    client: &impl GenericClient,
    user_id: &str,
    limit: i64,
) -> Result<Vec<TransactionRow>, ProjectionError> {
    let sql = format!(
        "SELECT {TRANSACTION_COLUMNS} FROM gradido_transactions WHERE initiator = $1 AND status IN ('pending', 'executing') \
         ORDER BY created_at LIMIT $2"
    );
    Ok(client.query(&sql, &[&user_id, &limit]).await?.iter().map(transaction_row).collect())
}

/// The transactions `user_id` sent or received, newest first.
pub async fn of_user(
    client: &impl GenericClient,
    user_id: &str,
    limit: i64,
) -> Result<Vec<TransactionRow>, ProjectionError> {
    let sql = format!(
        "SELECT {TRANSACTION_COLUMNS} FROM gradido_transactions WHERE initiator = $1 OR recipient = $1 \
         ORDER BY created_at DESC, transaction_id LIMIT $2"
    );
    Ok(client.query(&sql, &[&user_id, &limit]).await?.iter().map(transaction_row).collect())
}

/// How many of the transactions `user_id` started are pending, and how many executing.
pub async fn running_counts(client: &impl GenericClient, user_id: &str) -> Result<(i64, i64), ProjectionError> {
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'executing') \
             FROM gradido_transactions WHERE initiator = $1",
            &[&user_id],
        )
        .await?;
    Ok((row.get(0), row.get(1)))
}
