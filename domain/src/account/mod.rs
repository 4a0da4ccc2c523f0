//! The account aggregate: one user account of one asset. It alone decides whether money may
//! leave it, so overdraft is impossible by construction.

mod commands;
mod events;
mod postings;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use commands::{AccountCommand, TransferDestination};
pub use events::AccountEvent;
pub use postings::{locked_change, moves_money, postings};

use crate::error::DomainError;
use crate::limits::{MAX_ACTIVE_HOLDS_PER_ACCOUNT, MAX_LABEL_LEN, MAX_MEMO_LEN};
use crate::money::{Amount, AssetCode, Scale};
use crate::system_account::{validate_user_account_id, SystemAccountKind};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    open: Option<OpenAccount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenAccount {
    pub account_id: String,
    pub asset: AssetCode,
    pub scale: Scale,
    pub owner: Option<String>,
    pub purpose: Option<String>,
    pub balance: Amount,
    pub locked: Amount,
    holds: BTreeMap<String, Hold>,
    /// Set when replaying an event that contradicts the state (a tampered log): the account
    /// then refuses every command instead of deciding on wrong numbers.
    inconsistent: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Hold {
    amount: Amount,
    expires_at: Option<DateTime<Utc>>,
}

impl OpenAccount {
    /// Balance minus holds: what may still leave the account.
    pub fn available(&self) -> Amount {
        self.balance.checked_sub(self.locked, self.scale).unwrap_or(Amount::zero(self.scale))
    }
}

impl Account {
    pub fn open_account(&self) -> Option<&OpenAccount> {
        self.open.as_ref()
    }

    fn require_open(&self) -> Result<&OpenAccount, DomainError> {
        let account = self.open.as_ref().ok_or(DomainError::AccountNotOpened)?;
        if account.inconsistent {
            return Err(DomainError::AccountStateInconsistent);
        }
        Ok(account)
    }

    fn decide(&self, command: AccountCommand) -> Result<Vec<AccountEvent>, DomainError> {
        if let AccountCommand::Open { account_id, asset, scale, owner, purpose } = command {
            return self.decide_open(account_id, asset, scale, owner, purpose);
        }
        let account = self.require_open()?;
        let positive = |value: Decimal| Amount::positive(value, account.scale);
        match command {
            AccountCommand::Open { .. } => unreachable!("handled above"),
            AccountCommand::Deposit { amount, source, reference } => {
                let amount = positive(amount)?;
                require_source(source)?;
                check_text("reference", &reference, MAX_LABEL_LEN)?;
                account.balance.checked_add(amount, account.scale)?;
                Ok(vec![AccountEvent::FundsDeposited { amount, source, reference }])
            }
            AccountCommand::Withdraw { amount, destination, reference } => {
                let amount = positive(amount)?;
                require_sink(destination)?;
                check_text("reference", &reference, MAX_LABEL_LEN)?;
                account.require_available(amount)?;
                Ok(vec![AccountEvent::FundsWithdrawn { amount, destination, reference }])
            }
            AccountCommand::CreditChainDeposit { amount, txid, from_address, to_address } => {
                let amount = positive(amount)?;
                check_chain_fields(&txid, &from_address, &to_address)?;
                account.balance.checked_add(amount, account.scale)?;
                Ok(vec![AccountEvent::ChainDepositCredited { amount, txid, from_address, to_address }])
            }
            AccountCommand::DebitChainWithdrawal { amount, txid, from_address, to_address } => {
                let amount = positive(amount)?;
                check_chain_fields(&txid, &from_address, &to_address)?;
                account.require_available(amount)?;
                Ok(vec![AccountEvent::ChainWithdrawalDebited { amount, txid, from_address, to_address }])
            }
            AccountCommand::SendTransfer { transfer_id, to, amount, memo } => {
                let amount = positive(amount)?;
                check_text("memo", &memo, MAX_MEMO_LEN)?;
                account.require_destination(&to)?;
                account.require_available(amount)?;
                Ok(vec![AccountEvent::TransferSent {
                    transfer_id,
                    to: to.account_id,
                    to_is_system: to.is_system,
                    amount,
                    memo,
                }])
            }
            AccountCommand::ReceiveTransfer { transfer_id, from, amount, memo } => {
                let amount = positive(amount)?;
                match account.balance.checked_add(amount, account.scale) {
                    Ok(_) => Ok(vec![AccountEvent::TransferReceived { transfer_id, from, amount, memo }]),
                    Err(refusal) => Ok(vec![AccountEvent::TransferRefused {
                        transfer_id,
                        from,
                        amount,
                        reason: refusal.to_string(),
                    }]),
                }
            }
            AccountCommand::ReturnTransfer { transfer_id, refused_by, amount } => {
                let amount = positive(amount)?;
                account.balance.checked_add(amount, account.scale)?;
                Ok(vec![AccountEvent::TransferReturned { transfer_id, refused_by, amount }])
            }
            AccountCommand::PlaceHold { hold_id, amount, expires_at, memo, now } => {
                let amount = positive(amount)?;
                check_text("hold id", &Some(hold_id.clone()), MAX_LABEL_LEN)?;
                check_text("memo", &memo, MAX_MEMO_LEN)?;
                if account.holds.contains_key(&hold_id) {
                    return Err(DomainError::HoldAlreadyExists(hold_id));
                }
                if account.holds.len() >= MAX_ACTIVE_HOLDS_PER_ACCOUNT {
                    return Err(DomainError::TooManyHolds(MAX_ACTIVE_HOLDS_PER_ACCOUNT));
                }
                if expires_at.is_some_and(|expiry| expiry <= now) {
                    return Err(DomainError::HoldExpiryInPast);
                }
                account.require_available(amount)?;
                Ok(vec![AccountEvent::FundsHeld { hold_id, amount, expires_at, memo }])
            }
            AccountCommand::ReleaseHold { hold_id } => {
                let hold = account.hold(&hold_id)?;
                Ok(vec![AccountEvent::HoldReleased { hold_id, amount: hold.amount, expired: false }])
            }
            AccountCommand::ExpireHold { hold_id, now } => {
                let hold = account.hold(&hold_id)?;
                if !hold.is_expired(now) {
                    return Err(DomainError::HoldNotExpired(hold_id));
                }
                Ok(vec![AccountEvent::HoldReleased { hold_id, amount: hold.amount, expired: true }])
            }
            AccountCommand::CaptureHold { hold_id, transfer_id, to, memo, now } => {
                let hold = account.hold(&hold_id)?;
                if hold.is_expired(now) {
                    return Err(DomainError::HoldExpired(hold_id));
                }
                check_text("memo", &memo, MAX_MEMO_LEN)?;
                account.require_destination(&to)?;
                Ok(vec![AccountEvent::HoldCaptured {
                    hold_id,
                    transfer_id,
                    to: to.account_id,
                    to_is_system: to.is_system,
                    amount: hold.amount,
                    memo,
                }])
            }
        }
    }

    fn decide_open(
        &self,
        account_id: String,
        asset: AssetCode,
        scale: Scale,
        owner: Option<String>,
        purpose: Option<String>,
    ) -> Result<Vec<AccountEvent>, DomainError> {
        if self.open.is_some() {
            return Err(DomainError::AccountAlreadyOpened);
        }
        validate_user_account_id(&account_id)?;
        check_text("owner", &owner, MAX_LABEL_LEN)?;
        check_text("purpose", &purpose, MAX_LABEL_LEN)?;
        Ok(vec![AccountEvent::AccountOpened { account_id, asset, scale, owner, purpose }])
    }
}

impl OpenAccount {
    fn require_available(&self, amount: Amount) -> Result<(), DomainError> {
        let available = self.available();
        if amount > available {
            return Err(DomainError::InsufficientFunds { available: available.value(), requested: amount.value() });
        }
        Ok(())
    }

    fn require_destination(&self, to: &TransferDestination) -> Result<(), DomainError> {
        if to.account_id == self.account_id {
            return Err(DomainError::TransferToSelf);
        }
        if to.asset != self.asset {
            return Err(DomainError::AssetMismatch { from: self.asset.to_string(), to: to.asset.to_string() });
        }
        if to.is_system && to.account_id == SystemAccountKind::Transit.account_id(&self.asset) {
            return Err(DomainError::SystemAccountNotAllowed(to.account_id.clone()));
        }
        Ok(())
    }

    fn hold(&self, hold_id: &str) -> Result<&Hold, DomainError> {
        self.holds.get(hold_id).ok_or_else(|| DomainError::HoldNotFound(hold_id.to_string()))
    }

    fn apply(&mut self, event: AccountEvent) {
        let scale = self.scale;
        let consistent = match event {
            AccountEvent::AccountOpened { .. } => false,
            AccountEvent::FundsDeposited { amount, .. }
            | AccountEvent::ChainDepositCredited { amount, .. }
            | AccountEvent::TransferReceived { amount, .. }
            | AccountEvent::TransferReturned { amount, .. } => self.credit(amount),
            AccountEvent::FundsWithdrawn { amount, .. }
            | AccountEvent::ChainWithdrawalDebited { amount, .. }
            | AccountEvent::TransferSent { amount, .. } => self.debit(amount),
            AccountEvent::TransferRefused { .. } => true,
            AccountEvent::FundsHeld { hold_id, amount, expires_at, .. } => {
                let locked = self.locked.checked_add(amount, scale).ok();
                self.holds.insert(hold_id, Hold { amount, expires_at });
                locked.map(|locked| self.locked = locked).is_some()
            }
            AccountEvent::HoldReleased { hold_id, amount, .. } => self.unlock(&hold_id, amount),
            AccountEvent::HoldCaptured { hold_id, amount, .. } => self.unlock(&hold_id, amount) && self.debit(amount),
        };
        self.inconsistent |= !consistent;
    }

    fn credit(&mut self, amount: Amount) -> bool {
        match self.balance.checked_add(amount, self.scale) {
            Ok(balance) => {
                self.balance = balance;
                true
            }
            Err(_) => false,
        }
    }

    fn debit(&mut self, amount: Amount) -> bool {
        match self.balance.checked_sub(amount, self.scale) {
            Some(balance) if balance >= self.locked => {
                self.balance = balance;
                true
            }
            _ => false,
        }
    }

    fn unlock(&mut self, hold_id: &str, amount: Amount) -> bool {
        let removed = self.holds.remove(hold_id).is_some_and(|hold| hold.amount == amount);
        match self.locked.checked_sub(amount, self.scale) {
            Some(locked) if removed => {
                self.locked = locked;
                true
            }
            _ => false,
        }
    }
}

impl Hold {
    fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|expiry| expiry <= now)
    }
}

fn require_source(source: SystemAccountKind) -> Result<(), DomainError> {
    match source {
        SystemAccountKind::World | SystemAccountKind::Issuance => Ok(()),
        other => Err(DomainError::SystemAccountNotAllowed(other.to_string())),
    }
}

fn require_sink(destination: SystemAccountKind) -> Result<(), DomainError> {
    match destination {
        SystemAccountKind::World | SystemAccountKind::Fees => Ok(()),
        other => Err(DomainError::SystemAccountNotAllowed(other.to_string())),
    }
}

fn check_chain_fields(txid: &str, from_address: &str, to_address: &str) -> Result<(), DomainError> {
    check_text("txid", &Some(txid.to_string()), MAX_LABEL_LEN)?;
    check_text("from_address", &Some(from_address.to_string()), MAX_LABEL_LEN)?;
    check_text("to_address", &Some(to_address.to_string()), MAX_LABEL_LEN)
}

/// `max` counts characters, as JSON Schema's `maxLength` does.
pub(crate) fn check_text(field: &'static str, text: &Option<String>, max: usize) -> Result<(), DomainError> {
    match text {
        Some(text) if text.chars().count() > max => Err(DomainError::TextTooLong { field, max }),
        _ => Ok(()),
    }
}

impl Aggregate for Account {
    const TYPE: &'static str = "account";
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(&mut self, command: Self::Command, _: &(), sink: &EventSink<Self>) -> Result<(), DomainError> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: AccountEvent) {
        match (&mut self.open, event) {
            (None, AccountEvent::AccountOpened { account_id, asset, scale, owner, purpose }) => {
                self.open = Some(OpenAccount {
                    account_id,
                    balance: Amount::zero(scale),
                    locked: Amount::zero(scale),
                    asset,
                    scale,
                    owner,
                    purpose,
                    holds: BTreeMap::new(),
                    inconsistent: false,
                });
            }
            (Some(account), event) => account.apply(event),
            (None, _) => {} // an event before the opening cannot be decided; require_open refuses later
        }
    }
}
