use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::money::{Amount, AssetCode, Scale};
use crate::system_account::SystemAccountKind;

/// Facts about one account, forever. Past tense; a new shape gets a new version and an
/// upcaster, never a changed meaning. Amounts are strings at the asset's exact scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AccountEvent {
    AccountOpened {
        account_id: String,
        asset: AssetCode,
        scale: Scale,
        owner: Option<String>,
        purpose: Option<String>,
    },
    FundsDeposited {
        amount: Amount,
        source: SystemAccountKind,
        reference: Option<String>,
    },
    FundsWithdrawn {
        amount: Amount,
        destination: SystemAccountKind,
        reference: Option<String>,
    },
    /// Debited here. If `to` is a user account the money sits in transit until
    /// `TransferReceived` (or `TransferRefused` then `TransferReturned`) on the other side.
    TransferSent {
        transfer_id: String,
        to: String,
        to_is_system: bool,
        amount: Amount,
        memo: Option<String>,
    },
    TransferReceived {
        transfer_id: String,
        from: String,
        amount: Amount,
        memo: Option<String>,
    },
    /// This account could not take the transfer (its balance limit); nothing moved here.
    TransferRefused {
        transfer_id: String,
        from: String,
        amount: Amount,
        reason: String,
    },
    TransferReturned {
        transfer_id: String,
        refused_by: String,
        amount: Amount,
    },
    FundsHeld {
        hold_id: String,
        amount: Amount,
        expires_at: Option<DateTime<Utc>>,
        memo: Option<String>,
    },
    HoldReleased {
        hold_id: String,
        amount: Amount,
        expired: bool,
    },
    HoldCaptured {
        hold_id: String,
        transfer_id: String,
        to: String,
        to_is_system: bool,
        amount: Amount,
        memo: Option<String>,
    },
    /// Credited from the world for the blockchain transaction `txid`.
    ChainDepositCredited {
        amount: Amount,
        txid: String,
        from_address: String,
        to_address: String,
    },
    /// Debited to the world for the blockchain transaction `txid` the hot wallet sends.
    ChainWithdrawalDebited {
        amount: Amount,
        txid: String,
        from_address: String,
        to_address: String,
    },
}

impl AccountEvent {
    pub fn name(&self) -> &'static str {
        match self {
            Self::AccountOpened { .. } => "AccountOpened",
            Self::FundsDeposited { .. } => "FundsDeposited",
            Self::FundsWithdrawn { .. } => "FundsWithdrawn",
            Self::TransferSent { .. } => "TransferSent",
            Self::TransferReceived { .. } => "TransferReceived",
            Self::TransferRefused { .. } => "TransferRefused",
            Self::TransferReturned { .. } => "TransferReturned",
            Self::FundsHeld { .. } => "FundsHeld",
            Self::HoldReleased { .. } => "HoldReleased",
            Self::HoldCaptured { .. } => "HoldCaptured",
            Self::ChainDepositCredited { .. } => "ChainDepositCredited",
            Self::ChainWithdrawalDebited { .. } => "ChainWithdrawalDebited",
        }
    }
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> String {
        self.name().to_string()
    }

    fn event_version(&self) -> String {
        "1".to_string()
    }
}
