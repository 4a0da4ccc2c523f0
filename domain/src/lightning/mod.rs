//! Lightning wallet facts: invoices of this node, each user's address book of payees for
//! quickpay, and channels.

mod address_book;
mod channel;
mod invoice;

pub use address_book::*;
pub use channel::*;
pub use invoice::*;
