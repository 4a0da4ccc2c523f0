//! `quickpaynodes` and `addressbook` of `getalldata`, keyed by node key as the original
//! wallet assembled them: every contact, then every channel under its node (a channel with
//! a node that is no contact makes an entry of its own, `unknownpeer`).

use std::collections::BTreeMap;

use projections::read_models::quickpay_contacts::ContactRow;
use serde::Serialize;

use super::wallet::ChannelView;

#[derive(Serialize)]
pub struct QuickpayNode {
    pub alias: String,
    /// Where the contact's wallet takes invoice requests (`host:port`), `""` if unknown.
    pub server: String,
    pub channelserver: String,
}

#[derive(Serialize)]
pub struct Address {
    pub id: String,
    pub alias: String,
    /// `Connected`, `Disconnected`, or the state of a channel with the node.
    pub status: String,
    pub invoiceserver: Option<String>,
    pub channelserver: Option<String>,
    pub unknownpeer: bool,
    pub channels: Vec<ChannelView>,
}

/// A contact who is a user of this server is always reachable: its node is this node.
fn contact_status(contact: &ContactRow) -> &'static str {
    if contact.payee_user.is_some() {
        "Connected"
    } else {
        "Disconnected"
    }
}

pub fn address_book(
    contacts: Vec<ContactRow>,
    channels: &[ChannelView],
) -> (BTreeMap<String, QuickpayNode>, BTreeMap<String, Address>) {
    let mut book = BTreeMap::new();
    let mut quickpay = BTreeMap::new();
    for contact in contacts {
        let node = contact.node_id.to_lowercase();
        book.insert(
            node.clone(),
            Address {
                id: node.clone(),
                alias: contact.alias.clone(),
                status: contact_status(&contact).to_string(),
                invoiceserver: contact.server.clone(),
                channelserver: contact.channel_server.clone(),
                unknownpeer: false,
                channels: Vec::new(),
            },
        );
        quickpay.insert(
            node,
            QuickpayNode {
                alias: contact.alias,
                server: contact.server.unwrap_or_default(),
                channelserver: contact.channel_server.unwrap_or_default(),
            },
        );
    }
    for channel in channels {
        let node = channel.node.to_lowercase();
        let address = book.entry(node.clone()).or_insert_with(|| Address {
            id: node.clone(),
            alias: node.clone(),
            status: channel.state.clone(),
            invoiceserver: None,
            channelserver: None,
            unknownpeer: true,
            channels: Vec::new(),
        });
        address.channels.push(channel.clone());
        if address.status != "Disconnected" {
            if channel.state != "Open" || address.status == "Connected" {
                address.status = channel.state.clone();
            }
            if !channel.active {
                address.status = "Disconnected".to_string();
            }
        }
    }
    (quickpay, book)
}
