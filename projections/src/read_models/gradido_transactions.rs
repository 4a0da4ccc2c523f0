use deadpool_postgres::Transaction;
use domain::gradido::{GradidoKind, TransactionEvent};

use super::{at_scale, execute};
use crate::engine::EventProjector;
use crate::error::ProjectionError;
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

    async fn handle(&self, tx: &Transaction<'_>, event: &StoredEvent) -> Result<(), ProjectionError> {
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
            execute(
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
        execute(
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
