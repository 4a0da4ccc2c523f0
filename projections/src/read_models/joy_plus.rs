use deadpool_postgres::GenericClient;
use domain::account::AccountEvent;
use domain::asset::AssetEvent;
use domain::joyplus::{ApiKeyEvent, JoyWalletEvent};

use super::{at_scale, AccountAssets};
use crate::engine::EventProjector;
use crate::error::ProjectionError;
use crate::writes::Writes;
use store::StoredEvent;

mod queries;
pub use queries::*;

/// The purpose of every Joy Plus balance's account; how this projector recognises them.
pub const JOY_PLUS_PURPOSE: &str = "joyplus";

/// `joy_wallets`, `joy_api_keys`, `joy_assets`, `joy_balances`, `joy_locked_balances` and
/// `joy_chain_transfers`: what the Joy Plus dialect lists. Public ids are event positions.
#[derive(Default)]
pub struct JoyPlusProjector {
    account_assets: AccountAssets,
}

impl JoyPlusProjector {
    pub const NAME: &'static str = "joy_plus";

    async fn wallet(
        &self,
        tx: &impl GenericClient,
        writes: &mut Writes,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        let JoyWalletEvent::JoyWalletCreated { profile, address } = event.decode()?;
        writes.push(
            tx,
            "INSERT INTO joy_wallets (wallet_id, user_id, open_id, email, first_name, last_name, mobile, address, address_lower, \
                                      last_tx_id, last_position, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $1, $11) ON CONFLICT DO NOTHING",
            &[
                &event.position,
                &event.aggregate_id,
                &profile.open_id,
                &profile.email,
                &profile.first_name,
                &profile.last_name,
                &profile.mobile,
                &address.checksummed(),
                &address.lowercase(),
                &event.tx_id,
                &event.recorded_at,
            ],
        )
        .await?;
        Ok(())
    }

    async fn api_key(
        &self,
        tx: &impl GenericClient,
        writes: &mut Writes,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        let (sql, value) = match event.decode()? {
            ApiKeyEvent::ApiKeyIssued { key_sha256, .. } => {
                writes.push(
                    tx,
                    "INSERT INTO joy_api_keys (email, key_sha256, scopes, last_tx_id, last_position, issued_at) \
                     VALUES ($1, $2, '{}', $3, $4, $5) \
                     ON CONFLICT (email) DO UPDATE SET key_sha256 = $2, last_tx_id = $3, last_position = $4, issued_at = $5 \
                     WHERE (joy_api_keys.last_tx_id, joy_api_keys.last_position) < ($3, $4)",
                    &[&event.aggregate_id, &key_sha256, &event.tx_id, &event.position, &event.recorded_at],
                )
                .await?;
                return Ok(());
            }
            ApiKeyEvent::ApiKeyScopeAdded { scope } => {
                ("UPDATE joy_api_keys SET scopes = array_append(scopes, $2)", scope)
            }
            ApiKeyEvent::ApiKeyScopeRemoved { scope } => {
                ("UPDATE joy_api_keys SET scopes = array_remove(scopes, $2)", scope)
            }
        };
        let sql = format!(
            "{sql}, last_tx_id = $3, last_position = $4 WHERE email = $1 AND (last_tx_id, last_position) < ($3, $4)"
        );
        writes.push(tx, &sql, &[&event.aggregate_id, &value, &event.tx_id, &event.position]).await?;
        Ok(())
    }

    async fn asset(
        &self,
        tx: &impl GenericClient,
        writes: &mut Writes,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        let AssetEvent::AssetListed { code, scale, listing } = event.decode()? else {
            return Ok(());
        };
        let decimals = i32::try_from(scale.decimals()).unwrap_or(i32::MAX);
        writes.push(
            tx,
            "INSERT INTO joy_assets (asset_id, code, name, decimals, contract_address, usd_price, icon_url, last_tx_id, last_position, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6::text::numeric, $7, $8, $1, $9) ON CONFLICT DO NOTHING",
            &[
                &event.position,
                &code.as_str(),
                &listing.name,
                &decimals,
                &listing.contract_address.checksummed(),
                &listing.usd_price.to_string(),
                &listing.icon_url,
                &event.tx_id,
                &event.recorded_at,
            ],
        )
        .await?;
        Ok(())
    }

    async fn account(
        &self,
        tx: &impl GenericClient,
        writes: &mut Writes,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        // Transfers, the bulk of the log, are none of this read model's business.
        let relevant = matches!(
            event.event_type.as_str(),
            "AccountOpened"
                | "FundsHeld"
                | "HoldReleased"
                | "HoldCaptured"
                | "ChainDepositCredited"
                | "ChainWithdrawalDebited"
        );
        if !relevant {
            return Ok(());
        }
        let decoded: AccountEvent = event.decode()?;
        match decoded {
            AccountEvent::AccountOpened { account_id, asset, owner: Some(owner), purpose: Some(purpose), .. }
                if purpose == JOY_PLUS_PURPOSE =>
            {
                writes.push(
                    tx,
                    "INSERT INTO joy_balances (balance_id, account_id, user_id, asset, last_tx_id, last_position, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $1, $6) ON CONFLICT DO NOTHING",
                    &[&event.position, &account_id, &owner, &asset.as_str(), &event.tx_id, &event.recorded_at],
                )
                .await?;
            }
            AccountEvent::FundsHeld { hold_id, amount, expires_at, .. } => {
                let (_, scale) = self.account_assets.of(tx, event).await?;
                writes.push(
                    tx,
                    "INSERT INTO joy_locked_balances (locked_balance_id, balance_id, account_id, hold_id, amount, expires_at, processed, \
                                                      last_tx_id, last_position, created_at) \
                     SELECT $1, balance_id, account_id, $3, $4::text::numeric, $5, 0, $6, $1, $7 FROM joy_balances WHERE account_id = $2 \
                     ON CONFLICT DO NOTHING",
                    &[&event.position, &event.aggregate_id, &hold_id, &at_scale(amount.value(), scale), &expires_at, &event.tx_id, &event.recorded_at],
                )
                .await?;
            }
            AccountEvent::HoldReleased { hold_id, .. } | AccountEvent::HoldCaptured { hold_id, .. } => {
                writes
                    .push(
                        tx,
                        "UPDATE joy_locked_balances SET processed = 1, last_tx_id = $3, last_position = $4 \
                     WHERE account_id = $1 AND hold_id = $2 AND (last_tx_id, last_position) < ($3, $4)",
                        &[&event.aggregate_id, &hold_id, &event.tx_id, &event.position],
                    )
                    .await?;
            }
            AccountEvent::ChainDepositCredited { amount, txid, from_address, to_address } => {
                self.chain_transfer(tx, writes, event, "deposit", amount.value(), &txid, &from_address, &to_address)
                    .await?;
            }
            AccountEvent::ChainWithdrawalDebited { amount, txid, from_address, to_address } => {
                self.chain_transfer(tx, writes, event, "withdraw", amount.value(), &txid, &from_address, &to_address)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn chain_transfer(
        &self,
        tx: &impl GenericClient,
        writes: &mut Writes,
        event: &StoredEvent,
        direction: &str,
        amount: rust_decimal::Decimal,
        txid: &str,
        from_address: &str,
        to_address: &str,
    ) -> Result<(), ProjectionError> {
        let (_, scale) = self.account_assets.of(tx, event).await?;
        writes.push(
            tx,
            "INSERT INTO joy_chain_transfers (transfer_id, direction, txid, from_address, to_address, asset, amount, balance_id, account_id, \
                                              last_tx_id, last_position, created_at) \
             SELECT $1, $2, $3, lower($4), lower($5), asset, $6::text::numeric, balance_id, account_id, $7, $1, $8 \
             FROM joy_balances WHERE account_id = $9 ON CONFLICT DO NOTHING",
            &[
                &event.position,
                &direction,
                &txid,
                &from_address,
                &to_address,
                &at_scale(amount, scale),
                &event.tx_id,
                &event.recorded_at,
                &event.aggregate_id,
            ],
        )
        .await?;
        Ok(())
    }
}

impl EventProjector for JoyPlusProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn handle(
        &self,
        tx: &impl GenericClient,
        writes: &mut Writes,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        match event.aggregate_type.as_str() {
            "joy_wallet" => self.wallet(tx, writes, event).await,
            "api_key" => self.api_key(tx, writes, event).await,
            "asset" => self.asset(tx, writes, event).await,
            "account" => self.account(tx, writes, event).await,
            _ => Ok(()),
        }
    }
}
