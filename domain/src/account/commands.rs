use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::{AssetCode, Scale};
use crate::system_account::SystemAccountKind;

/// What can be asked of an account. Amounts arrive as exact decimals; the account checks them
/// against its own asset's scale. Time arrives as `now`, never from a clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum AccountCommand {
    Open {
        account_id: String,
        asset: AssetCode,
        scale: Scale,
        owner: Option<String>,
        purpose: Option<String>,
    },
    Deposit {
        amount: Decimal,
        source: SystemAccountKind,
        reference: Option<String>,
    },
    Withdraw {
        amount: Decimal,
        destination: SystemAccountKind,
        reference: Option<String>,
    },
    /// Debits this account; the destination is credited by `ReceiveTransfer` afterwards.
    SendTransfer {
        transfer_id: String,
        to: TransferDestination,
        amount: Decimal,
        memo: Option<String>,
    },
    /// The credit half of a transfer that `from` has already sent.
    ReceiveTransfer {
        transfer_id: String,
        from: String,
        amount: Decimal,
        memo: Option<String>,
    },
    /// Gives back a transfer its destination refused.
    ReturnTransfer {
        transfer_id: String,
        refused_by: String,
        amount: Decimal,
    },
    PlaceHold {
        hold_id: String,
        amount: Decimal,
        expires_at: Option<DateTime<Utc>>,
        memo: Option<String>,
        now: DateTime<Utc>,
    },
    ReleaseHold {
        hold_id: String,
    },
    ExpireHold {
        hold_id: String,
        now: DateTime<Utc>,
    },
    /// Credits a deposit seen on a blockchain; `txid` names the chain transaction.
    CreditChainDeposit {
        amount: Decimal,
        txid: String,
        from_address: String,
        to_address: String,
    },
    /// Debits a withdrawal the ledger's hot wallet sends on a blockchain as `txid`.
    DebitChainWithdrawal {
        amount: Decimal,
        txid: String,
        from_address: String,
        to_address: String,
    },
    /// Turns a held amount into a transfer to `to`.
    CaptureHold {
        hold_id: String,
        transfer_id: String,
        to: TransferDestination,
        memo: Option<String>,
        now: DateTime<Utc>,
    },
}

/// Where a transfer goes, as known from the destination's own history: its id and asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferDestination {
    pub account_id: String,
    pub asset: AssetCode,
    pub is_system: bool,
}

impl TransferDestination {
    pub fn system(kind: SystemAccountKind, asset: &AssetCode) -> Self {
        Self { account_id: kind.account_id(asset), asset: asset.clone(), is_system: true }
    }
}
