//! A transaction whose BEGIN and COMMIT travel in the same flights as its statements.
//!
//! tokio-postgres sends a request when its future is first polled, in that order, so a
//! BEGIN polled before the first statement opens the transaction without a round trip of
//! its own, and a COMMIT polled after the last statement closes it in the same flight. A
//! connection whose transaction may still be open never returns to the pool: dropped
//! before it ended, the guard takes the connection out of the pool and closes it, and
//! PostgreSQL rolls the transaction back.

use std::future::Future;

use deadpool_postgres::{GenericClient, Object};

pub struct PipelinedTransaction {
    client: Option<Object>,
    /// Until the server has surely ended the transaction.
    open: bool,
}

impl PipelinedTransaction {
    /// Nothing is sent yet.
    pub fn new(client: Object) -> Self {
        Self { client: Some(client), open: true }
    }

    /// The connection, to send the transaction's statements on.
    pub fn client(&self) -> &Object {
        self.client.as_ref().expect("held until dropped")
    }

    /// BEGIN: poll it before the transaction's first statement (`tokio::try_join!(biased; ..)`).
    pub fn begin(&self) -> impl Future<Output = Result<(), tokio_postgres::Error>> + Send + '_ {
        self.client().batch_execute("BEGIN")
    }

    /// COMMIT: poll it after the transaction's last statement. On a transaction a failed
    /// statement aborted, PostgreSQL answers it by rolling back.
    pub fn commit(&self) -> impl Future<Output = Result<(), tokio_postgres::Error>> + Send + '_ {
        self.client().batch_execute("COMMIT")
    }

    /// The COMMIT sent with `commit` succeeded: the connection may go back to the pool.
    pub fn committed(mut self) {
        self.open = false;
    }

    /// Ends the transaction without committing, whatever state it is in. If even that
    /// fails, the connection is closed instead of returned.
    pub async fn roll_back(mut self) {
        // On a transaction already ended (a COMMIT that followed a failed statement),
        // ROLLBACK only warns.
        if self.client().batch_execute("ROLLBACK").await.is_ok() {
            self.open = false;
        }
    }
}

impl Drop for PipelinedTransaction {
    fn drop(&mut self) {
        if let (true, Some(client)) = (self.open, self.client.take()) {
            tracing::warn!("a connection left inside a transaction is closed, not returned to the pool");
            drop(Object::take(client));
        }
    }
}
