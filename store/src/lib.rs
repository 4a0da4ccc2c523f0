//! The event store and everything below the use cases that touches PostgreSQL directly:
//! connections and migrations, appending and loading aggregates (over postgres-es), reading
//! the log in commit-safe order, checkpoints, operation ids, and the process's metrics
//! registry. No HTTP, no domain decisions.

pub mod aggregate_store;
pub mod append;
pub mod checkpoint;
pub mod connect;
mod error;
pub mod log;
pub mod metrics;
pub mod operation;
pub mod pipelined;
pub mod snapshot;
pub mod transaction_leaks;
pub mod upcast;

pub use aggregate_store::CachedEventStore;
pub use append::{AppendError, NewEvent};
pub use checkpoint::Checkpoint;
pub use connect::{connect, migrate, DatabaseTarget, Pools};
pub use error::StoreError;
pub use log::StoredEvent;
pub use operation::{ids, Operation, Origin};
pub use pipelined::PipelinedTransaction;
pub use transaction_leaks::TransactionLeaks;
