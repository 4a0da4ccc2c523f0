//! The `ledger` binary's library: the composition root (`service`), the command line, the
//! private PostgreSQL cluster, and the operator tools (audit, export). Everything below it
//! lives in the layer crates: `domain`, `store`, `projections`, `app`, `api`.

pub mod cli;
pub mod embedded_pg;
pub mod ops;
pub mod service;
pub mod supervisor;
pub mod tls;
