//! The assertion that no pooled connection is handed out inside a transaction.
//!
//! A connection that went back to its pool with a transaction still open would carry one
//! request's statements into the next one's transaction. The code that opens transactions
//! prevents it (`PipelinedTransaction` closes a connection dropped mid-transaction;
//! tokio-postgres and sqlx queue a ROLLBACK ahead of the next statement). Debug builds, which
//! the tests run, also check it at every checkout: the connection is asked whether its next
//! statement starts a transaction of its own. One found inside a transaction is counted,
//! logged and closed instead of used. The check costs a round trip per checkout, so release
//! builds leave it to the code that opens transactions.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// True exactly when the statement is the first of its transaction, that is when the
/// connection was not inside a transaction block; an aborted transaction refuses it. Send it
/// as a simple query: the extended protocol's Bind and Execute restart the statement's clock
/// after its Parse started the transaction's.
pub const OUTSIDE_A_TRANSACTION_SQL: &str = "SELECT statement_timestamp() = transaction_timestamp()";

/// What a connection answered [`OUTSIDE_A_TRANSACTION_SQL`].
#[derive(Debug, PartialEq, Eq)]
pub enum Checkout {
    Outside,
    /// Inside a transaction block, or inside one a failed statement aborted.
    Inside,
    /// The connection failed (closed, terminated by the server): no use, but no leak.
    Broken(String),
}

/// SQLSTATE 25P02: a statement sent inside a transaction that a failed statement aborted.
const IN_FAILED_SQL_TRANSACTION: &str = "25P02";

impl Checkout {
    fn of_error(sqlstate: Option<&str>, error: impl std::fmt::Display) -> Self {
        if sqlstate == Some(IN_FAILED_SQL_TRANSACTION) {
            Self::Inside
        } else {
            Self::Broken(error.to_string())
        }
    }
}

/// Asks a tokio-postgres connection [`OUTSIDE_A_TRANSACTION_SQL`].
pub async fn check_tokio_postgres(client: &tokio_postgres::Client) -> Checkout {
    match client.simple_query(OUTSIDE_A_TRANSACTION_SQL).await {
        Ok(messages) => {
            let outside = messages.iter().any(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0) == Some("t"),
                _ => false,
            });
            if outside {
                Checkout::Outside
            } else {
                Checkout::Inside
            }
        }
        Err(error) => Checkout::of_error(error.code().map(|code| code.code()), &error),
    }
}

/// Asks a sqlx connection [`OUTSIDE_A_TRANSACTION_SQL`]; a query without arguments goes
/// out as one simple query.
pub async fn check_sqlx(connection: &mut sqlx::PgConnection) -> Checkout {
    use sqlx::{Executor, Row};
    match connection.fetch_one(OUTSIDE_A_TRANSACTION_SQL).await.and_then(|row| row.try_get::<bool, _>(0)) {
        Ok(true) => Checkout::Outside,
        Ok(false) => Checkout::Inside,
        Err(error) => {
            let sqlstate = error.as_database_error().and_then(|database| database.code()).map(|code| code.to_string());
            Checkout::of_error(sqlstate.as_deref(), error)
        }
    }
}

/// Whether checkouts are checked in this build.
pub const CHECKED: bool = cfg!(debug_assertions);

/// Connections found inside a transaction at checkout, across all the pools of a service.
#[derive(Clone, Debug, Default)]
pub struct TransactionLeaks(Arc<AtomicU64>);

impl TransactionLeaks {
    /// How many connections were found inside a transaction so far (always 0 in builds that
    /// do not check: see [`CHECKED`]).
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Records a checkout's answer; true when the connection may be used. A connection
    /// inside a transaction is counted and logged; a broken one is only turned away (the
    /// pool replaces it, as it would have).
    pub fn admit(&self, pool: &'static str, checkout: Checkout) -> bool {
        match checkout {
            Checkout::Outside => true,
            Checkout::Broken(error) => {
                tracing::debug!(pool, %error, "a pooled connection failed its checkout check; it is replaced");
                false
            }
            Checkout::Inside => {
                self.0.fetch_add(1, Ordering::Relaxed);
                tracing::error!(pool, "a pooled connection was inside a transaction; it is closed");
                false
            }
        }
    }
}
