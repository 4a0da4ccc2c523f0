//! The ledger service: event store wiring, the command bus, the HTTP dialects, the private
//! PostgreSQL cluster and the `ledger` command line.

pub mod admin_key;
pub mod app;
pub mod audit;
pub mod cli;
pub mod commands;
pub mod database;
pub mod embedded_pg;
mod error;
pub mod event_store;
pub mod export;
pub mod gradido;
pub mod hold_expiry;
pub mod housekeeping;
pub mod idempotency;
pub mod joyplus;
pub mod lightning;
pub mod mail;
pub mod metrics;
pub mod native;
pub mod openapi;
mod periodic;
pub mod qr_image;
pub mod tokens;
pub mod users;

pub use app::{router, AppState};
pub use error::AppError;
