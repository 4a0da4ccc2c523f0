//! Read models and process managers, fed by a catch-up engine that reads the event log in
//! commit-safe order and never skips an event (docs/design.md invariant 7).

pub mod chain;
mod connection;
pub mod engine;
mod error;
pub mod inline;
pub mod pass;
pub mod read_models;
pub mod rebuild;
pub mod registry;
pub mod writes;

pub use engine::{EventHandler, EventProjector, PerEvent, ProjectionEngine, ProjectionStatus, Wakers};
pub use error::ProjectionError;
pub use inline::{InlineProjection, InlineTurn};
pub use store::{Checkpoint, StoredEvent};
pub use writes::Writes;
