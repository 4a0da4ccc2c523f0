//! System accounts: the ledger's own counterparties. They may go negative, they are not
//! aggregates (nothing decides whether they may move), and so they are never a contention
//! point: their balances exist only in the read models, built from the other leg of postings.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::limits::MAX_ACCOUNT_ID_LEN;
use crate::money::AssetCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemAccountKind {
    /// Everything outside the ledger: deposits come from it, withdrawals go to it.
    World,
    /// New money created by the ledger itself (Gradido creations).
    Issuance,
    /// Fees the ledger collects.
    Fees,
    /// Money of transfers that left their source and has not reached its destination yet.
    Transit,
}

impl SystemAccountKind {
    pub const ALL: [SystemAccountKind; 4] = [Self::World, Self::Issuance, Self::Fees, Self::Transit];

    pub fn name(self) -> &'static str {
        match self {
            Self::World => "world",
            Self::Issuance => "issuance",
            Self::Fees => "fees",
            Self::Transit => "transit",
        }
    }

    /// The account id of this system account for `asset`, such as `world:BTC`.
    pub fn account_id(self, asset: &AssetCode) -> String {
        format!("{}:{}", self.name(), asset)
    }
}

impl fmt::Display for SystemAccountKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Splits `world:BTC` into its kind and asset; `None` for a user account id.
pub fn parse_system_account(account_id: &str) -> Option<(SystemAccountKind, AssetCode)> {
    let (name, asset) = account_id.split_once(':')?;
    let kind = SystemAccountKind::ALL.into_iter().find(|kind| kind.name() == name)?;
    Some((kind, AssetCode::parse(asset).ok()?))
}

/// Validates the id of a user account: 1 to 128 of `A-Za-z0-9._:-`, not a system id.
pub fn validate_user_account_id(account_id: &str) -> Result<(), DomainError> {
    let valid_length = (1..=MAX_ACCOUNT_ID_LEN).contains(&account_id.len());
    let valid_chars = account_id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if !valid_length || !valid_chars {
        return Err(DomainError::AccountIdInvalid);
    }
    let reserved_prefix = SystemAccountKind::ALL
        .iter()
        .any(|kind| account_id.strip_prefix(kind.name()).is_some_and(|rest| rest.starts_with(':')));
    if reserved_prefix {
        return Err(DomainError::AccountIdReserved(account_id.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_account_ids_round_trip() {
        let btc = AssetCode::parse("BTC").unwrap();
        let id = SystemAccountKind::World.account_id(&btc);
        assert_eq!(id, "world:BTC");
        assert_eq!(parse_system_account(&id), Some((SystemAccountKind::World, btc)));
        assert_eq!(parse_system_account("alice"), None);
    }

    #[test]
    fn user_accounts_cannot_take_system_names() {
        assert!(validate_user_account_id("world:BTC").is_err());
        assert!(validate_user_account_id("fees:anything").is_err());
        assert!(validate_user_account_id("worldly:BTC").is_ok());
        assert!(validate_user_account_id("user:42:BTC:onchain").is_ok());
        assert!(validate_user_account_id("").is_err());
        assert!(validate_user_account_id("a b").is_err());
    }
}
