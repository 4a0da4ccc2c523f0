use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use domain::account::{moves_money, postings, AccountEvent};

use super::{at_scale, execute, AccountAssets};
use crate::engine::EventHandler;
use crate::error::ProjectionError;
use store::StoredEvent;

/// `postings`: every debit and credit leg, with the event that caused it. One insert a batch.
#[derive(Default)]
pub struct PostingsProjector {
    assets: AccountAssets,
}

impl PostingsProjector {
    pub const NAME: &'static str = "postings";
}

fn reference(event: &AccountEvent) -> Option<String> {
    match event {
        AccountEvent::TransferSent { transfer_id, .. }
        | AccountEvent::TransferReceived { transfer_id, .. }
        | AccountEvent::TransferReturned { transfer_id, .. }
        | AccountEvent::HoldCaptured { transfer_id, .. } => Some(transfer_id.clone()),
        AccountEvent::FundsDeposited { reference, .. } | AccountEvent::FundsWithdrawn { reference, .. } => {
            reference.clone()
        }
        AccountEvent::ChainDepositCredited { txid, .. } | AccountEvent::ChainWithdrawalDebited { txid, .. } => {
            Some(txid.clone())
        }
        _ => None,
    }
}

#[derive(Default)]
struct Legs {
    position: Vec<i64>,
    leg: Vec<i16>,
    tx_id: Vec<i64>,
    account_id: Vec<String>,
    asset: Vec<String>,
    amount: Vec<String>,
    event_type: Vec<String>,
    aggregate_id: Vec<String>,
    sequence: Vec<i64>,
    reference: Vec<Option<String>>,
    recorded_at: Vec<DateTime<Utc>>,
}

impl EventHandler for PostingsProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn handle_batch(&self, tx: &Transaction<'_>, events: &[StoredEvent]) -> Result<(), ProjectionError> {
        let mut legs = Legs::default();
        for event in events.iter().filter(|event| event.aggregate_type == "account") {
            let account_event: AccountEvent = event.decode()?;
            if !moves_money(&account_event) {
                continue;
            }
            let (asset, scale) = self.assets.of(tx, event).await?;
            for (leg, posting) in postings(&account_event, &event.aggregate_id, &asset).into_iter().enumerate() {
                legs.position.push(event.position);
                legs.leg.push(i16::try_from(leg).expect("an event has a handful of legs"));
                legs.tx_id.push(event.tx_id);
                legs.account_id.push(posting.account_id);
                legs.asset.push(asset.to_string());
                legs.amount.push(at_scale(posting.amount, scale));
                legs.event_type.push(event.event_type.clone());
                legs.aggregate_id.push(event.aggregate_id.clone());
                legs.sequence.push(event.sequence);
                legs.reference.push(reference(&account_event));
                legs.recorded_at.push(event.recorded_at);
            }
        }
        if legs.position.is_empty() {
            return Ok(());
        }
        execute(
            tx,
            "INSERT INTO postings (global_position, leg, tx_id, account_id, asset, amount, event_type, \
                                   aggregate_id, sequence, reference, recorded_at) \
             SELECT * FROM unnest($1::int8[], $2::int2[], $3::int8[], $4::text[], $5::text[], $6::text[]::numeric[], \
                                  $7::text[], $8::text[], $9::int8[], $10::text[], $11::timestamptz[]) \
             ON CONFLICT DO NOTHING",
            &[
                &legs.position,
                &legs.leg,
                &legs.tx_id,
                &legs.account_id,
                &legs.asset,
                &legs.amount,
                &legs.event_type,
                &legs.aggregate_id,
                &legs.sequence,
                &legs.reference,
                &legs.recorded_at,
            ],
        )
        .await?;
        Ok(())
    }
}
