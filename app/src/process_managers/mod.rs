//! Process managers: they follow the durable log (or poll a read model for what is due) and
//! issue the next command of a multi-step operation, each under a derived operation id, so
//! a crash or a second server never repeats a step.

pub mod chain_broadcaster;
pub mod channel_watch;
pub mod gradido_settlement;
pub mod hold_expiry;
pub mod transfer_completion;
