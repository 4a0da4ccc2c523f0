use domain::DomainError;
use thiserror::Error;

/// Every way a request can fail in the api layer. Each dialect maps it to its own wire
/// format once.
#[derive(Debug, Error)]
pub enum AppError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    InvalidRequest { code: &'static str, message: String },
    #[error("asset {0} does not exist")]
    UnknownAsset(String),
    #[error("this request needs an Idempotency-Key header")]
    IdempotencyKeyRequired,
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("missing or wrong credentials")]
    Unauthorized,
    #[error("too much contention on one account; retry")]
    Contention,
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidRequest { code, message: message.into() }
    }
}

impl From<projections::ProjectionError> for AppError {
    fn from(error: projections::ProjectionError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

impl From<deadpool_postgres::PoolError> for AppError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

impl From<tokio_postgres::Error> for AppError {
    fn from(error: tokio_postgres::Error) -> Self {
        Self::Unavailable(error.to_string())
    }
}
