//! Process managers: they follow the durable log (or poll a read model for what is due) and
//! issue the next command of a multi-step operation, each under a derived operation id, so
//! a crash or a second server never repeats a step.

pub mod chain_broadcaster;
pub mod channel_watch;
pub mod gradido_settlement;
pub mod hold_expiry;
pub mod transfer_completion;

/// Least time between two batches of a process manager that follows the log: none has to
/// react within milliseconds, and reading less often amortises each read over more events.
pub const PROCESS_MANAGER_INTERVAL_MS: u64 = 50;
