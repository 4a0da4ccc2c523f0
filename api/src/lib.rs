//! The ledger service: event store wiring, the command bus, the HTTP dialects, the private
//! PostgreSQL cluster and the `ledger` command line.

pub mod admin_key;
pub mod audit;
pub mod cli;
pub mod embedded_pg;
pub mod export;
pub mod gradido;
pub mod idempotency;
pub mod joyplus;
pub mod lightning;
pub mod metrics;
pub mod native;
pub mod openapi;
pub mod qr_image;
pub mod router;
pub mod tokens;

pub use app::AppError;
pub use router::{router, AppState};
