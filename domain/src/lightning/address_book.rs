//! Each user's address book of payees for quickpay, by alias.

use std::collections::BTreeMap;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::account::check_text;
use crate::error::DomainError;
use crate::limits::MAX_LABEL_LEN;

/// Most payees one address book holds.
pub const MAX_CONTACTS: usize = 1_000;

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
    /// Where the contact's wallet takes invoice requests (`host:port`); contacts saved
    /// before it was recorded have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Where the contact's node takes channels (`host:port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_server: Option<String>,
}

impl AddressBook {
    pub fn contact(&self, alias: &str) -> Option<&Contact> {
        self.contacts.get(alias)
    }

    /// A contact of the node `node_id` (of several, the last by alias).
    pub fn contact_of_node(&self, node_id: &str) -> Option<&Contact> {
        self.contacts.values().rev().find(|contact| contact.node_id.eq_ignore_ascii_case(node_id))
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
