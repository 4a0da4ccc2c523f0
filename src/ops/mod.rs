//! Operator tools that read the whole history: `ledger audit` and `ledger export`.

pub mod audit;
pub mod export;
