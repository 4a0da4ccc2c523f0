//! The world outside the ledger, each behind a trait with a local default.

pub mod chain;
pub mod gradido_network;
pub mod mail;
pub mod node;
pub mod passport;
pub mod sms;
