use thiserror::Error;

/// Everything that can stop a projector. One enum for the projections layer.
#[derive(Debug, Error)]
pub enum ProjectionError {
    #[error("database: {0}")]
    Database(#[from] tokio_postgres::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("event {position} belongs to account {account_id}, which was never opened")]
    UnknownAccount { position: i64, account_id: String },
    #[error("command for event {position} failed: {reason}")]
    CommandFailed { position: i64, reason: String },
    #[error("another process holds projector {0}; stop the server first")]
    ProjectorBusy(String),
    #[error("a read-model statement's parameters: {0}")]
    Encoding(String),
    #[error("a read-model write could not be sent; nothing after it was")]
    Unsent,
    #[error("event {position} moves more money than a balance can hold")]
    Overflow { position: i64 },
}
