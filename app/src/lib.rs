//! The use cases of the ledger, below HTTP and above the event store: the generic command
//! bus (exactly-once operations, conflict retries), read-your-writes, one function per
//! operation that every dialect shares, the process managers that drive multi-step
//! operations from the durable log, and the ports (traits with local defaults) to the
//! world outside: a blockchain, Passport, SMS, mail, the Lightning node, the Gradido network.

pub mod accounts;
pub mod bus;
pub mod committer;
pub mod credentials;
mod error;
pub mod housekeeping;
pub mod ledger;
pub mod periodic;
pub mod ports;
pub mod process_managers;
pub mod snapshots;
pub mod tokens;
pub mod use_cases;

pub use bus::{CommandBus, Outcome};
pub use error::{is_retryable, AppError};
pub use ledger::Ledger;
