use rust_decimal::Decimal;

use super::events::AccountEvent;
use crate::money::AssetCode;
use crate::posting::Posting;
use crate::system_account::SystemAccountKind;

/// The double-entry legs of an account event. `account_id` and `asset` are the account the
/// event belongs to. Events that move no money (opening, holds) have no postings.
pub fn postings(event: &AccountEvent, account_id: &str, asset: &AssetCode) -> Vec<Posting> {
    let transit = || SystemAccountKind::Transit.account_id(asset);
    let destination = |to: &str, to_is_system: bool| if to_is_system { to.to_string() } else { transit() };
    match event {
        AccountEvent::AccountOpened { .. }
        | AccountEvent::TransferRefused { .. }
        | AccountEvent::FundsHeld { .. }
        | AccountEvent::HoldReleased { .. } => vec![],
        AccountEvent::FundsDeposited { amount, source, .. } => {
            vec![Posting::debit(source.account_id(asset), amount.value()), Posting::credit(account_id, amount.value())]
        }
        AccountEvent::ChainDepositCredited { amount, .. } => vec![
            Posting::debit(SystemAccountKind::World.account_id(asset), amount.value()),
            Posting::credit(account_id, amount.value()),
        ],
        AccountEvent::ChainWithdrawalDebited { amount, .. } => vec![
            Posting::debit(account_id, amount.value()),
            Posting::credit(SystemAccountKind::World.account_id(asset), amount.value()),
        ],
        AccountEvent::FundsWithdrawn { amount, destination, .. } => vec![
            Posting::debit(account_id, amount.value()),
            Posting::credit(destination.account_id(asset), amount.value()),
        ],
        AccountEvent::TransferSent { to, to_is_system, amount, .. }
        | AccountEvent::HoldCaptured { to, to_is_system, amount, .. } => vec![
            Posting::debit(account_id, amount.value()),
            Posting::credit(destination(to, *to_is_system), amount.value()),
        ],
        AccountEvent::TransferReceived { amount, .. } | AccountEvent::TransferReturned { amount, .. } => {
            vec![Posting::debit(transit(), amount.value()), Posting::credit(account_id, amount.value())]
        }
    }
}

/// Whether an event moves money (has postings) at all.
pub fn moves_money(event: &AccountEvent) -> bool {
    !matches!(
        event,
        AccountEvent::AccountOpened { .. }
            | AccountEvent::TransferRefused { .. }
            | AccountEvent::FundsHeld { .. }
            | AccountEvent::HoldReleased { .. }
    )
}

/// How much an event changes the account's locked (held) amount.
pub fn locked_change(event: &AccountEvent) -> Decimal {
    match event {
        AccountEvent::FundsHeld { amount, .. } => amount.value(),
        AccountEvent::HoldReleased { amount, .. } | AccountEvent::HoldCaptured { amount, .. } => -amount.value(),
        _ => Decimal::ZERO,
    }
}
