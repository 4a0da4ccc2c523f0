//! The blockchain the hot wallet sends withdrawals on. A withdrawal's transaction id is
//! fixed before the ledger debits the balance (as for a signed Ethereum transaction, whose
//! hash is known before broadcast), so the debit event records it; broadcasting follows the
//! commit. The default is a deterministic simulated chain.

use std::future::Future;
use std::pin::Pin;

use sha3::{Digest, Keccak256};
use tracing::info;

use crate::error::AppError;

#[derive(Debug, Clone)]
pub struct ChainWithdrawal {
    /// The ledger's id of the withdrawal (its operation id): one id, one chain transaction.
    pub withdrawal_id: String,
    pub from_address: String,
    pub to_address: String,
    pub asset: String,
    /// Whole tokens, exact.
    pub amount: String,
}

pub type ChainFuture<'a> = Pin<Box<dyn Future<Output = Result<(), AppError>> + Send + 'a>>;

pub trait Chain: Send + Sync + 'static {
    /// The transaction id (`0x` and 64 hex digits) this withdrawal has on the chain.
    fn transaction_id(&self, withdrawal: &ChainWithdrawal) -> String;
    /// Sends the transaction; sending the same withdrawal again is harmless.
    fn broadcast<'a>(&'a self, withdrawal: &'a ChainWithdrawal, txid: &'a str) -> ChainFuture<'a>;
}

/// Transaction ids are the keccak-256 of the withdrawal's fields; "sending" records the
/// transaction in `simulated_chain_transactions` (nothing leaves the database).
pub struct SimulatedChain {
    pub pool: deadpool_postgres::Pool,
}

impl Chain for SimulatedChain {
    fn transaction_id(&self, withdrawal: &ChainWithdrawal) -> String {
        let mut hasher = Keccak256::new();
        for field in [
            &withdrawal.withdrawal_id,
            &withdrawal.from_address,
            &withdrawal.to_address,
            &withdrawal.asset,
            &withdrawal.amount,
        ] {
            // Length-prefixed, so no two field lists hash alike.
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        format!("0x{}", hex::encode(hasher.finalize()))
    }

    fn broadcast<'a>(&'a self, withdrawal: &'a ChainWithdrawal, txid: &'a str) -> ChainFuture<'a> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client
                .execute(
                    "INSERT INTO simulated_chain_transactions (txid, from_address, to_address, asset, amount) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (txid) DO UPDATE SET broadcasts = simulated_chain_transactions.broadcasts + 1",
                    &[&txid, &withdrawal.from_address, &withdrawal.to_address, &withdrawal.asset, &withdrawal.amount],
                )
                .await?;
            info!(
                txid,
                to = withdrawal.to_address,
                amount = withdrawal.amount,
                asset = withdrawal.asset,
                "simulated chain: withdrawal sent"
            );
            Ok(())
        })
    }
}
