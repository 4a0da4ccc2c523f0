use thiserror::Error;

/// Everything that can go wrong in the store layer.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] tokio_postgres::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(String),
    #[error("invalid database configuration: {0}")]
    Config(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("event {position} ({event_type} v{version}) cannot be decoded: {reason}")]
    Undecodable { position: i64, event_type: String, version: String, reason: String },
}
