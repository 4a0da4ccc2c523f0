//! The ledger's pure domain: money types, aggregates, commands and events.
//!
//! Nothing in this crate performs IO. Time enters through commands (`now`), never through a
//! clock, so every decision an aggregate takes can be replayed and tested deterministically.

pub mod account;
pub mod asset;
pub mod claim;
pub mod command;
pub mod error;
pub mod gradido;
pub mod joyplus;
pub mod lightning;
pub mod limits;
pub mod money;
pub mod posting;
pub mod snapshot;
pub mod system_account;
pub mod user;

pub use command::Command;
pub use error::DomainError;
pub use money::{Amount, AssetCode, Scale};
