//! Read models and process managers, fed by a catch-up engine that reads the event log in
//! commit-safe order and never skips an event (DESIGN.md invariant 7).

pub mod chain;
pub mod checkpoint;
mod connection;
pub mod engine;
mod error;
pub mod event_log;
pub mod read_models;
pub mod rebuild;
pub mod transfer_completion;

pub use checkpoint::Checkpoint;
pub use engine::{EventHandler, EventProjector, PerEvent, ProjectionEngine, ProjectionStatus, Wakers};
pub use error::ProjectionError;
pub use event_log::StoredEvent;
