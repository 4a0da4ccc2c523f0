use domain::DomainError;
use store::StoreError;
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
    /// A position of the event log that names no event.
    #[error("no event at position {0}")]
    UnknownPosition(i64),
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
    /// A named limit of the service is reached (e.g. open event streams); retry later.
    #[error("at most {limit} {what} may be open at once; retry later")]
    LimitReached { what: &'static str, limit: usize },
    #[error("too many failed attempts; retry in {retry_after_seconds} s")]
    Throttled { retry_after_seconds: u64 },
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
        use projections::ProjectionError as E;
        match error {
            E::Database(error) => error.into(),
            E::Pool(error) => error.into(),
            E::Store(error) => error.into(),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Database(error) => error.into(),
            StoreError::Pool(error) => error.into(),
            StoreError::Connect(detail) => Self::Unavailable(detail),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for AppError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        match error {
            deadpool_postgres::PoolError::Backend(error) => error.into(),
            // Timeouts and a closed pool: no connection could be had.
            other => Self::Unavailable(other.to_string()),
        }
    }
}

/// The one place database errors are classified. Retryable: the connection is gone or
/// PostgreSQL says "try again" (shutdown, crash recovery, too many connections,
/// serialization failures, deadlocks); the client gets 503. A data exception (class 22: a
/// NUL character in text, a value out of a column's range) comes from the request's input:
/// 400. Everything else (a constraint, a type mismatch, a syntax error) is a bug no retry
/// fixes: 500, with the SQLSTATE in the log and an opaque message on the wire.
impl From<tokio_postgres::Error> for AppError {
    fn from(error: tokio_postgres::Error) -> Self {
        let sqlstate = error.code().map(|code| code.code().to_string());
        classified(is_retryable(&error), sqlstate.as_deref(), error.to_string())
    }
}

/// An error from the append path (sqlx under postgres-es), by what PostgreSQL said.
pub fn from_append_error(error: &(dyn std::error::Error + 'static)) -> AppError {
    let sqlstate = sqlstate_in(error);
    classified(is_retryable_source(error), sqlstate.as_deref(), error.to_string())
}

fn classified(retryable: bool, sqlstate: Option<&str>, detail: String) -> AppError {
    if retryable {
        return AppError::Unavailable(detail);
    }
    match sqlstate {
        Some(code) if code.starts_with(INPUT_SQLSTATE_CLASS) => {
            tracing::info!(sqlstate = code, detail, "a request's input was refused by the database");
            AppError::invalid(
                "invalid_input",
                "the request holds a value that cannot be stored (such as a NUL character)",
            )
        }
        code => AppError::Internal(format!("SQLSTATE {}: {detail}", code.unwrap_or("none"))),
    }
}

/// SQLSTATE class of data exceptions: what a request's input caused.
const INPUT_SQLSTATE_CLASS: &str = "22";

/// SQLSTATE classes and codes after which the same request may succeed.
const RETRYABLE_SQLSTATE_PREFIXES: [&str; 6] = ["08", "53", "57P", "40001", "40P01", "55P03"];

fn is_retryable_sqlstate(code: &str) -> bool {
    RETRYABLE_SQLSTATE_PREFIXES.iter().any(|prefix| code.starts_with(prefix))
}

/// The SQLSTATE anywhere in the error's chain of sources.
fn sqlstate_in(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(sqlx::Error::Database(database)) = error.downcast_ref::<sqlx::Error>() {
            return database.code().map(|code| code.to_string());
        }
        if let Some(error) = error.downcast_ref::<tokio_postgres::Error>() {
            return error.code().map(|code| code.code().to_string());
        }
        current = error.source();
    }
    None
}

/// The retry rule for an error from the append path, found anywhere in the error's chain
/// of sources.
pub fn is_retryable_source(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(error) = error.downcast_ref::<sqlx::Error>() {
            return match error {
                sqlx::Error::Database(database) => database.code().is_some_and(|code| is_retryable_sqlstate(&code)),
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                _ => false,
            };
        }
        if let Some(error) = error.downcast_ref::<tokio_postgres::Error>() {
            return is_retryable(error);
        }
        current = error.source();
    }
    false
}

pub fn is_retryable(error: &tokio_postgres::Error) -> bool {
    match error.code() {
        Some(code) => is_retryable_sqlstate(code.code()),
        // No SQLSTATE: the connection closed or its socket failed, or (a bug) a value did not
        // convert; only the first two are worth a retry.
        None => {
            error.is_closed() || std::error::Error::source(&error).is_some_and(|source| source.is::<std::io::Error>())
        }
    }
}
