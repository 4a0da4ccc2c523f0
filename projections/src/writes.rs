//! A page's read-model writes, collected first and sent together.
//!
//! Read models decide what to write from the events alone, so a page's statements never
//! depend on each other's results. Collecting them before sending lets them go to
//! PostgreSQL in one flight, and lets the append put its COMMIT in that same flight
//! (ADR 22): the COMMIT is only sent once every write has been sent before it.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use bytes::{Bytes, BytesMut};
use deadpool_postgres::GenericClient;
use futures::future::{maybe_done, MaybeDone};
use tokio_postgres::types::{to_sql_checked, Format, IsNull, ToSql, Type};
use tokio_postgres::Statement;

use crate::error::ProjectionError;

/// Statements, in the order they must run, with their parameters already encoded.
#[derive(Default)]
pub struct Writes {
    statements: Vec<Write>,
}

/// The SQL, not a prepared statement: a statement belongs to the connection that prepared
/// it, and writes may be collected on one connection and sent on another (a rebuild reads
/// and collects on its reader while the previous page commits).
struct Write {
    sql: String,
    params: Vec<Encoded>,
}

/// A parameter encoded when its write was collected, so the write owns it: the read
/// models build parameters as borrowed locals.
#[derive(Debug)]
struct Encoded {
    bytes: Option<Bytes>,
    format: Format,
}

impl ToSql for Encoded {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.bytes {
            Some(bytes) => {
                out.extend_from_slice(bytes);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    /// Checked against the statement's type when it was encoded.
    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        self.format
    }

    to_sql_checked!();
}

impl Writes {
    /// Adds `sql` with `params` (prepared once per connection through `client`).
    pub async fn push(
        &mut self,
        client: &impl GenericClient,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<(), ProjectionError> {
        let statement = client.prepare_cached(sql).await?;
        let types = statement.params();
        if types.len() != params.len() {
            return Err(ProjectionError::Encoding(format!(
                "{} parameters for a statement of {}: {sql}",
                params.len(),
                types.len()
            )));
        }
        let mut encoded = Vec::with_capacity(params.len());
        for (param, ty) in params.iter().zip(types) {
            let mut buffer = BytesMut::new();
            let is_null = param
                .to_sql_checked(ty, &mut buffer)
                .map_err(|error| ProjectionError::Encoding(format!("{error}: {sql}")))?;
            let bytes = matches!(is_null, IsNull::No).then(|| buffer.freeze());
            encoded.push(Encoded { bytes, format: param.encode_format(ty) });
        }
        self.statements.push(Write { sql: sql.to_string(), params: encoded });
        Ok(())
    }

    /// Sends every write in one flight, in order, and waits for all of them.
    pub async fn send(&self, client: &impl GenericClient) -> Result<(), ProjectionError> {
        let statements = self.prepare(client).await?;
        let mut flight = self.flight(client, &statements);
        let sent = send_each(&mut flight).await;
        outcome(&mut flight, sent).await
    }

    /// Sends every write and then `commit` in one flight. `commit` is sent only after every
    /// write was sent (tokio-postgres sends a request when its future is first polled) and
    /// only if none failed on the way out. A write that fails on the server aborts the
    /// transaction, so the COMMIT behind it rolls back: the outer error means nothing was
    /// committed; the inner result is the COMMIT's own.
    pub async fn send_then<F>(
        &self,
        client: &impl GenericClient,
        commit: F,
    ) -> Result<Result<(), tokio_postgres::Error>, ProjectionError>
    where
        F: Future<Output = Result<(), tokio_postgres::Error>> + Send,
    {
        let statements = self.prepare(client).await?;
        let mut flight = self.flight(client, &statements);
        let sent = send_each(&mut flight).await;
        if sent < flight.len() {
            // Never falls through to the COMMIT: the write at `sent` failed on the way out.
            let error = outcome(&mut flight, sent).await.err();
            return Err(error.unwrap_or(ProjectionError::Unsent));
        }
        let (writes, committed) = tokio::join!(biased; outcome(&mut flight, sent), commit);
        writes?;
        Ok(committed)
    }

    /// Each write's statement on `client` (prepared once per connection; those already
    /// prepared cost no round trip).
    async fn prepare(&self, client: &impl GenericClient) -> Result<Vec<Statement>, ProjectionError> {
        let prepared = self.statements.iter().map(|write| client.prepare_cached(&write.sql));
        Ok(futures::future::try_join_all(prepared).await?)
    }

    fn flight<'a>(
        &'a self,
        client: &'a impl GenericClient,
        statements: &'a [Statement],
    ) -> Vec<MaybeDone<PendingWrite<'a>>> {
        self.statements
            .iter()
            .zip(statements)
            .map(|(write, statement)| {
                let params: Vec<&(dyn ToSql + Sync)> =
                    write.params.iter().map(|param| param as &(dyn ToSql + Sync)).collect();
                let future: PendingWrite<'a> = Box::pin(async move { client.execute(statement, &params).await });
                maybe_done(future)
            })
            .collect()
    }
}

type PendingWrite<'a> = Pin<Box<dyn Future<Output = Result<u64, tokio_postgres::Error>> + Send + 'a>>;

/// Polls each write once, in order, which sends it; returns how many went out. Stops at a
/// write that failed before it could be sent (the connection is gone), so nothing after it
/// goes out.
async fn send_each(flight: &mut [MaybeDone<PendingWrite<'_>>]) -> usize {
    futures::future::poll_fn(|cx| {
        for (index, write) in flight.iter_mut().enumerate() {
            let _ = Pin::new(&mut *write).poll(cx);
            if let MaybeDone::Done(Err(_)) = write {
                return Poll::Ready(index);
            }
        }
        Poll::Ready(flight.len())
    })
    .await
}

/// Waits for the `sent` writes; the first error in order, counting the one that could not
/// be sent.
async fn outcome(flight: &mut [MaybeDone<PendingWrite<'_>>], sent: usize) -> Result<(), ProjectionError> {
    let (sent_writes, rest) = flight.split_at_mut(sent);
    futures::future::join_all(sent_writes.iter_mut()).await;
    for write in sent_writes.iter_mut().chain(rest.iter_mut().take(1)) {
        if let Some(Err(error)) = Pin::new(write).take_output() {
            return Err(error.into());
        }
    }
    Ok(())
}
