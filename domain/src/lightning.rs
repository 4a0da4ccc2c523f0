//! Lightning wallet facts: invoices of this node (by payment hash) and each user's address
//! book of payees for quickpay.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::account::check_text;
use crate::error::DomainError;
use crate::limits::{MAX_LABEL_LEN, MAX_MEMO_LEN};

/// Most payees one address book holds.
pub const MAX_CONTACTS: usize = 1_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    created: Option<CreatedInvoice>,
    paid_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedInvoice {
    pub payee: String,
    pub amount_msat: Option<u64>,
    pub expires_at: DateTime<Utc>,
}

impl Invoice {
    pub fn created(&self) -> Option<&CreatedInvoice> {
        self.created.as_ref()
    }

    pub fn is_paid(&self) -> bool {
        self.paid_by.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum InvoiceCommand {
    Create {
        payee: String,
        amount_msat: Option<u64>,
        description: String,
        payment_request: String,
        expires_at: DateTime<Utc>,
    },
    /// Records that `payer` paid it (the money moved under this payment's operation id).
    MarkPaid { payer: String, amount_msat: u64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InvoiceEvent {
    InvoiceCreated {
        payee: String,
        amount_msat: Option<u64>,
        description: String,
        payment_request: String,
        expires_at: DateTime<Utc>,
    },
    InvoicePaid {
        payer: String,
        amount_msat: u64,
    },
}

impl DomainEvent for InvoiceEvent {
    fn event_type(&self) -> String {
        match self {
            Self::InvoiceCreated { .. } => "InvoiceCreated",
            Self::InvoicePaid { .. } => "InvoicePaid",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        "1".to_string()
    }
}

impl Aggregate for Invoice {
    const TYPE: &'static str = "invoice";
    type Command = InvoiceCommand;
    type Event = InvoiceEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(&mut self, command: InvoiceCommand, _: &(), sink: &EventSink<Self>) -> Result<(), DomainError> {
        let event = match command {
            InvoiceCommand::Create { payee, amount_msat, description, payment_request, expires_at } => {
                if self.created.is_some() {
                    return Err(DomainError::InvoiceExists);
                }
                check_text("memo", &Some(description.clone()), MAX_MEMO_LEN)?;
                InvoiceEvent::InvoiceCreated { payee, amount_msat, description, payment_request, expires_at }
            }
            InvoiceCommand::MarkPaid { payer, amount_msat } => match (&self.created, &self.paid_by) {
                (None, _) => return Err(DomainError::InvoiceNotFound),
                (Some(_), Some(paid_by)) if *paid_by == payer => return Ok(()),
                (Some(_), Some(_)) => return Err(DomainError::InvoiceAlreadyPaid),
                (Some(_), None) => InvoiceEvent::InvoicePaid { payer, amount_msat },
            },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: InvoiceEvent) {
        match event {
            InvoiceEvent::InvoiceCreated { payee, amount_msat, expires_at, .. } => {
                self.created = Some(CreatedInvoice { payee, amount_msat, expires_at });
            }
            InvoiceEvent::InvoicePaid { payer, .. } => self.paid_by = Some(payer),
        }
    }
}

/// One user's payees, by alias.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AddressBook {
    contacts: BTreeMap<String, Contact>,
}

/// Whom an alias pays: a user of this node, or another node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub payee_user: Option<String>,
    pub node_id: String,
}

impl AddressBook {
    pub fn contact(&self, alias: &str) -> Option<&Contact> {
        self.contacts.get(alias)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum AddressBookCommand {
    Save { alias: String, contact: Contact },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AddressBookEvent {
    ContactSaved { alias: String, contact: Contact },
}

impl DomainEvent for AddressBookEvent {
    fn event_type(&self) -> String {
        "ContactSaved".to_string()
    }
    fn event_version(&self) -> String {
        "1".to_string()
    }
}

impl Aggregate for AddressBook {
    const TYPE: &'static str = "address_book";
    type Command = AddressBookCommand;
    type Event = AddressBookEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(&mut self, command: AddressBookCommand, _: &(), sink: &EventSink<Self>) -> Result<(), DomainError> {
        let AddressBookCommand::Save { alias, contact } = command;
        if alias.is_empty() {
            return Err(DomainError::AliasEmpty);
        }
        check_text("alias", &Some(alias.clone()), MAX_LABEL_LEN)?;
        if self.contacts.get(&alias) == Some(&contact) {
            return Ok(());
        }
        if !self.contacts.contains_key(&alias) && self.contacts.len() >= MAX_CONTACTS {
            return Err(DomainError::AddressBookFull(MAX_CONTACTS));
        }
        sink.write(AddressBookEvent::ContactSaved { alias, contact }, self).await;
        Ok(())
    }

    fn apply(&mut self, event: AddressBookEvent) {
        let AddressBookEvent::ContactSaved { alias, contact } = event;
        self.contacts.insert(alias, contact);
    }
}

/// Blocks a channel's funding or closing transaction needs before it counts.
pub const CHANNEL_CONFIRMATIONS: u64 = 3;
/// Channel capacity bounds, in satoshi (BOLT 2's limits for non-wumbo channels).
pub const MIN_CHANNEL_SAT: u64 = 20_000;
pub const MAX_CHANNEL_SAT: u64 = 16_777_215;

/// Whether a capacity (in sat) may be opened as a channel.
pub fn validate_capacity(capacity_sat: u64) -> Result<(), DomainError> {
    if (MIN_CHANNEL_SAT..=MAX_CHANNEL_SAT).contains(&capacity_sat) {
        Ok(())
    } else {
        Err(DomainError::ChannelCapacity { min: MIN_CHANNEL_SAT, max: MAX_CHANNEL_SAT })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelState {
    Pending,
    Active,
    Closing,
    Closed,
}

impl ChannelState {
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Closing => "closing",
            Self::Closed => "closed",
        }
    }
}

/// A channel to a remote node, named by its channel point (`txid:index`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    opened: Option<OpenedChannel>,
    state: Option<ChannelState>,
    changed_height: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenedChannel {
    pub owner: String,
    pub remote_node: String,
    pub capacity_sat: u64,
}

impl Channel {
    pub fn opened(&self) -> Option<&OpenedChannel> {
        self.opened.as_ref()
    }

    pub fn state(&self) -> Option<ChannelState> {
        self.state
    }

    /// Whether the last transaction has its confirmations at `height`.
    pub fn is_confirmed_at(&self, height: u64) -> bool {
        height >= self.changed_height + CHANNEL_CONFIRMATIONS
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum ChannelCommand {
    Open {
        owner: String,
        remote_node: String,
        capacity_sat: u64,
        height: u64,
    },
    /// The funding transaction has its confirmations at `height`.
    Activate {
        height: u64,
    },
    Close {
        owner: String,
        height: u64,
    },
    /// The closing transaction has its confirmations; `returned_sat` went back on chain.
    Finish {
        height: u64,
        returned_sat: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ChannelEvent {
    ChannelOpened { owner: String, remote_node: String, capacity_sat: u64, height: u64 },
    ChannelActivated { height: u64 },
    ChannelClosing { height: u64 },
    ChannelClosed { height: u64, returned_sat: u64 },
}

impl ChannelEvent {
    pub fn state(&self) -> ChannelState {
        match self {
            Self::ChannelOpened { .. } => ChannelState::Pending,
            Self::ChannelActivated { .. } => ChannelState::Active,
            Self::ChannelClosing { .. } => ChannelState::Closing,
            Self::ChannelClosed { .. } => ChannelState::Closed,
        }
    }

    fn height(&self) -> u64 {
        match self {
            Self::ChannelOpened { height, .. }
            | Self::ChannelActivated { height }
            | Self::ChannelClosing { height }
            | Self::ChannelClosed { height, .. } => *height,
        }
    }
}

impl DomainEvent for ChannelEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ChannelOpened { .. } => "ChannelOpened",
            Self::ChannelActivated { .. } => "ChannelActivated",
            Self::ChannelClosing { .. } => "ChannelClosing",
            Self::ChannelClosed { .. } => "ChannelClosed",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        "1".to_string()
    }
}

impl Aggregate for Channel {
    const TYPE: &'static str = "channel";
    type Command = ChannelCommand;
    type Event = ChannelEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(&mut self, command: ChannelCommand, _: &(), sink: &EventSink<Self>) -> Result<(), DomainError> {
        use ChannelState::*;
        let confirmed = |height: u64| height >= self.changed_height + CHANNEL_CONFIRMATIONS;
        let owner = self.opened.as_ref().map(|opened| opened.owner.as_str());
        let event = match (command, self.state) {
            (ChannelCommand::Open { owner, remote_node, capacity_sat, height }, None) => {
                validate_capacity(capacity_sat)?;
                ChannelEvent::ChannelOpened { owner, remote_node, capacity_sat, height }
            }
            (ChannelCommand::Open { .. }, Some(_)) => return Err(DomainError::ChannelState("exists")),
            (ChannelCommand::Activate { height }, Some(Pending)) if confirmed(height) => {
                ChannelEvent::ChannelActivated { height }
            }
            (ChannelCommand::Close { owner: closer, height }, Some(Active)) if owner == Some(closer.as_str()) => {
                ChannelEvent::ChannelClosing { height }
            }
            (ChannelCommand::Close { .. }, Some(Active)) => return Err(DomainError::ChannelNotFound),
            (ChannelCommand::Finish { height, returned_sat }, Some(Closing)) if confirmed(height) => {
                ChannelEvent::ChannelClosed { height, returned_sat }
            }
            (ChannelCommand::Activate { .. } | ChannelCommand::Finish { .. }, Some(_)) => return Ok(()),
            (_, None) => return Err(DomainError::ChannelNotFound),
            (_, Some(state)) => return Err(DomainError::ChannelState(state.name())),
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: ChannelEvent) {
        if let ChannelEvent::ChannelOpened { owner, remote_node, capacity_sat, .. } = &event {
            self.opened = Some(OpenedChannel {
                owner: owner.clone(),
                remote_node: remote_node.clone(),
                capacity_sat: *capacity_sat,
            });
        }
        self.changed_height = event.height();
        self.state = Some(event.state());
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use cqrs_es::test::TestFramework;

    use super::*;

    fn created() -> InvoiceEvent {
        InvoiceEvent::InvoiceCreated {
            payee: "bob".into(),
            amount_msat: Some(1_000),
            description: "coffee".into(),
            payment_request: "lnbcrt...".into(),
            expires_at: Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
        }
    }

    #[tokio::test]
    async fn an_invoice_is_paid_once() {
        TestFramework::<Invoice>::with(())
            .given(vec![created(), InvoiceEvent::InvoicePaid { payer: "alice".into(), amount_msat: 1_000 }])
            .when_async(InvoiceCommand::MarkPaid { payer: "carol".into(), amount_msat: 1_000 })
            .await
            .then_expect_error(DomainError::InvoiceAlreadyPaid);
    }

    fn opened() -> ChannelEvent {
        ChannelEvent::ChannelOpened {
            owner: "alice".into(),
            remote_node: "02ab".into(),
            capacity_sat: 50_000,
            height: 100,
        }
    }

    #[tokio::test]
    async fn a_channel_becomes_active_only_after_its_confirmations() {
        TestFramework::<Channel>::with(())
            .given(vec![opened()])
            .when_async(ChannelCommand::Activate { height: 102 })
            .await
            .then_expect_events(vec![]);
        TestFramework::<Channel>::with(())
            .given(vec![opened()])
            .when_async(ChannelCommand::Activate { height: 103 })
            .await
            .then_expect_events(vec![ChannelEvent::ChannelActivated { height: 103 }]);
    }

    #[tokio::test]
    async fn a_channel_capacity_must_be_within_bolt_limits() {
        TestFramework::<Channel>::with(())
            .given_no_previous_events()
            .when_async(ChannelCommand::Open {
                owner: "a".into(),
                remote_node: "02".into(),
                capacity_sat: 19_999,
                height: 1,
            })
            .await
            .then_expect_error(DomainError::ChannelCapacity { min: MIN_CHANNEL_SAT, max: MAX_CHANNEL_SAT });
    }

    #[tokio::test]
    async fn only_an_active_channel_of_its_owner_can_be_closed() {
        TestFramework::<Channel>::with(())
            .given(vec![opened()])
            .when_async(ChannelCommand::Close { owner: "alice".into(), height: 101 })
            .await
            .then_expect_error(DomainError::ChannelState("pending"));
        TestFramework::<Channel>::with(())
            .given(vec![opened(), ChannelEvent::ChannelActivated { height: 103 }])
            .when_async(ChannelCommand::Close { owner: "mallory".into(), height: 104 })
            .await
            .then_expect_error(DomainError::ChannelNotFound);
    }

    #[tokio::test]
    async fn an_unknown_invoice_cannot_be_paid() {
        TestFramework::<Invoice>::with(())
            .given_no_previous_events()
            .when_async(InvoiceCommand::MarkPaid { payer: "alice".into(), amount_msat: 1 })
            .await
            .then_expect_error(DomainError::InvoiceNotFound);
    }
}
