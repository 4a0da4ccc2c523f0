use std::collections::BTreeMap;

use domain::account::{locked_change, postings, AccountEvent};
use domain::system_account::parse_system_account;
use rust_decimal::Decimal;
use deadpool_postgres::Transaction;

use super::AccountAssets;
use super::execute;
use crate::engine::EventHandler;
use crate::error::ProjectionError;
use crate::event_log::StoredEvent;

/// `balances`: one row per account with amount, locked and available.
#[derive(Default)]
pub struct BalancesProjector {
    assets: AccountAssets,
}

impl BalancesProjector {
    pub const NAME: &'static str = "balances";
}

impl EventHandler for BalancesProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn handle(&self, tx: &Transaction<'_>, event: &StoredEvent) -> Result<(), ProjectionError> {
        if event.aggregate_type != "account" {
            return Ok(());
        }
        let account_event: AccountEvent = event.decode()?;
        if let AccountEvent::AccountOpened { account_id, asset, scale, owner, purpose } = &account_event {
            let zero = Decimal::new(0, scale.decimals());
            execute(tx, 
                "INSERT INTO balances (account_id, asset, is_system, owner, purpose, amount, locked, \
                                       last_tx_id, last_position, updated_at) \
                 VALUES ($1, $2, false, $3, $4, $5, $5, $6, $7, $8) ON CONFLICT (account_id) DO NOTHING",
                &[account_id, &asset.as_str(), owner, purpose, &zero, &event.tx_id, &event.position, &event.recorded_at],
            )
            .await?;
            return Ok(());
        }
        let asset = self.assets.of(tx, event).await?;
        // Per account: (amount change, locked change); one guarded write per row and event.
        let mut changes: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
        for posting in postings(&account_event, &event.aggregate_id, &asset) {
            changes.entry(posting.account_id).or_default().0 += posting.amount;
        }
        let locked = locked_change(&account_event);
        if !locked.is_zero() {
            changes.entry(event.aggregate_id.clone()).or_default().1 += locked;
        }
        for (account_id, (amount, locked)) in changes {
            let is_system = parse_system_account(&account_id).is_some();
            execute(tx, 
                "INSERT INTO balances AS b (account_id, asset, is_system, amount, locked, \
                                            last_tx_id, last_position, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (account_id) DO UPDATE \
                    SET amount = b.amount + excluded.amount, locked = b.locked + excluded.locked, \
                        last_tx_id = excluded.last_tx_id, last_position = excluded.last_position, \
                        updated_at = excluded.updated_at \
                  WHERE (b.last_tx_id, b.last_position) < (excluded.last_tx_id, excluded.last_position)",
                &[&account_id, &asset.as_str(), &is_system, &amount, &locked, &event.tx_id, &event.position, &event.recorded_at],
            )
            .await?;
        }
        Ok(())
    }
}
