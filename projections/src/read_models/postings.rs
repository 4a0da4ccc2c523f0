use domain::account::{moves_money, postings, AccountEvent};
use deadpool_postgres::Transaction;

use super::AccountAssets;
use super::execute;
use crate::engine::EventHandler;
use crate::error::ProjectionError;
use crate::event_log::StoredEvent;

/// `postings`: every debit and credit leg, with the event that caused it.
#[derive(Default)]
pub struct PostingsProjector {
    assets: AccountAssets,
}

impl PostingsProjector {
    pub const NAME: &'static str = "postings";
}

fn reference(event: &AccountEvent) -> Option<&str> {
    match event {
        AccountEvent::TransferSent { transfer_id, .. }
        | AccountEvent::TransferReceived { transfer_id, .. }
        | AccountEvent::TransferReturned { transfer_id, .. }
        | AccountEvent::HoldCaptured { transfer_id, .. } => Some(transfer_id),
        AccountEvent::FundsDeposited { reference, .. } | AccountEvent::FundsWithdrawn { reference, .. } => reference.as_deref(),
        _ => None,
    }
}

impl EventHandler for PostingsProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn handle(&self, tx: &Transaction<'_>, event: &StoredEvent) -> Result<(), ProjectionError> {
        if event.aggregate_type != "account" {
            return Ok(());
        }
        let account_event: AccountEvent = event.decode()?;
        if !moves_money(&account_event) {
            return Ok(());
        }
        let asset = self.assets.of(tx, event).await?;
        let reference = reference(&account_event);
        for (leg, posting) in postings(&account_event, &event.aggregate_id, &asset).into_iter().enumerate() {
            let leg = i16::try_from(leg).expect("an event has a handful of legs");
            execute(tx, 
                "INSERT INTO postings (global_position, leg, tx_id, account_id, asset, amount, event_type, \
                                       aggregate_id, sequence, reference, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
                &[
                    &event.position,
                    &leg,
                    &event.tx_id,
                    &posting.account_id,
                    &asset.as_str(),
                    &posting.amount,
                    &event.event_type,
                    &event.aggregate_id,
                    &event.sequence,
                    &reference,
                    &event.recorded_at,
                ],
            )
            .await?;
        }
        Ok(())
    }
}
