//! What one decision sees and changes: the batch's aggregates as earlier decisions of the
//! batch left them, plus this decision's own changes, kept apart until it succeeds so a
//! refused decision leaves no trace.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use domain::{Command, DomainError};
use serde_json::Value;
use store::snapshot::Stream;
use store::{NewEvent, Operation};

use crate::error::AppError;

/// A decision's view of the batch: read any loaded aggregate, run commands on them.
pub struct Workspace<'batch, A: Aggregate> {
    batch: &'batch HashMap<String, Stream<A>>,
    changed: HashMap<String, Stream<A>>,
    appended: Vec<NewEvent>,
}

impl<'batch, A> Workspace<'batch, A>
where
    A: Aggregate<Error = DomainError, Services = ()> + Clone + Default,
    A::Command: Command,
{
    pub(super) fn new(batch: &'batch HashMap<String, Stream<A>>) -> Self {
        Self { batch, changed: HashMap::new(), appended: Vec::new() }
    }

    /// The aggregate as the batch stands, this decision's own commands included. Only the
    /// aggregates a decision named are loaded; any other reads as new.
    pub fn aggregate(&self, aggregate_id: &str) -> Option<&A> {
        self.changed.get(aggregate_id).or_else(|| self.batch.get(aggregate_id)).map(|stream| &stream.aggregate)
    }

    /// Runs `command` on `aggregate_id` under `operation`; returns the events it decided.
    pub fn execute(
        &mut self,
        aggregate_id: &str,
        command: A::Command,
        operation: &Operation,
    ) -> Result<Vec<A::Event>, AppError> {
        let mut stream = match self.changed.get(aggregate_id).or_else(|| self.batch.get(aggregate_id)) {
            Some(stream) => stream.clone(),
            None => return Err(AppError::Internal(format!("{} {aggregate_id} was not loaded", A::TYPE))),
        };
        let sink = EventSink::default();
        let decided = decide_now(stream.aggregate.handle(command, &(), &sink))?;
        decided?;
        let events = decide_now(sink.collect())?;
        // Operation ids are unique per event (migration 0001): a command appends at most one.
        if events.len() > 1 {
            return Err(AppError::Internal(format!("a {} command decided {} events", A::TYPE, events.len())));
        }
        let metadata = metadata_of(operation);
        for event in &events {
            stream.sequence += 1;
            self.appended.push(NewEvent {
                aggregate_type: A::TYPE,
                aggregate_id: aggregate_id.to_string(),
                sequence: stream.sequence,
                event_type: event.event_type(),
                event_version: event.event_version(),
                payload: serde_json::to_value(event).map_err(|error| AppError::Internal(error.to_string()))?,
                metadata: metadata.clone(),
            });
        }
        self.changed.insert(aggregate_id.to_string(), stream);
        Ok(events)
    }

    pub(super) fn into_parts(self) -> (HashMap<String, Stream<A>>, Vec<NewEvent>) {
        (self.changed, self.appended)
    }
}

fn metadata_of(operation: &Operation) -> Value {
    let map = operation.metadata().into_iter().map(|(key, value)| (key, Value::String(value))).collect();
    Value::Object(map)
}

/// Domain decisions are pure: they never wait, so one poll completes them. A decision that
/// did wait would be a bug in the domain, reported instead of blocking the committer. The
/// poll runs outside tokio's cooperative budget: cqrs-es's `EventSink` holds a tokio mutex,
/// which answers `Pending` to a task that has used its budget, as a batch of hundreds of
/// decisions does.
fn decide_now<F: Future>(future: F) -> Result<F::Output, AppError> {
    let mut future = pin!(tokio::task::unconstrained(future));
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(AppError::Internal("a domain decision waited on IO".into())),
    }
}

#[cfg(test)]
mod tests {
    use domain::account::{Account, AccountCommand};
    use domain::system_account::SystemAccountKind;
    use domain::{AssetCode, Scale};
    use rust_decimal::Decimal;

    use super::*;

    /// Tokio's cooperative budget makes even an uncontended `tokio::sync::Mutex` (inside
    /// cqrs-es's `EventSink`) answer `Pending` once a task has done enough work without
    /// yielding, and a batch decides up to 512 commands in one go.
    #[tokio::test]
    async fn a_batch_decides_hundreds_of_commands_without_yielding() {
        let mut batch = HashMap::from([("alice".to_string(), Stream::default())]);
        let mut opening = Workspace::<Account>::new(&batch);
        let open = AccountCommand::Open {
            account_id: "alice".into(),
            asset: AssetCode::parse("BTC").unwrap(),
            scale: Scale::new(8).unwrap(),
            owner: None,
            purpose: None,
        };
        opening.execute("alice", open, &Operation::fresh()).unwrap();
        batch.insert("alice".to_string(), opening.into_parts().0.remove("alice").unwrap());
        let mut workspace = Workspace::new(&batch);
        for _ in 0..crate::committer::MAX_BATCH_DECISIONS {
            let deposit =
                AccountCommand::Deposit { amount: Decimal::ONE, source: SystemAccountKind::World, reference: None };
            workspace.execute("alice", deposit, &Operation::fresh()).expect("decided at once");
        }
        let (changed, appended) = workspace.into_parts();
        assert_eq!(appended.len(), crate::committer::MAX_BATCH_DECISIONS);
        assert_eq!(changed["alice"].sequence, 1 + crate::committer::MAX_BATCH_DECISIONS as i64);
    }
}
