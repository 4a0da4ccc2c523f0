//! Refuses the same transaction from the same user twice within 100 seconds, as the original
//! login server did. One aggregate per user; it remembers only the window.

use chrono::{DateTime, Duration, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

pub const DUPLICATE_WINDOW_SECONDS: i64 = 100;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DuplicateGuard {
    recent: Vec<(String, DateTime<Utc>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum GuardCommand {
    /// Records a transaction's fingerprint (its type, target, amount and memo).
    Record { fingerprint: String, now: DateTime<Utc> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GuardEvent {
    TransactionFingerprinted { fingerprint: String, at: DateTime<Utc> },
}

impl DomainEvent for GuardEvent {
    fn event_type(&self) -> String {
        "TransactionFingerprinted".to_string()
    }
    fn event_version(&self) -> String {
        "1".to_string()
    }
}

impl DuplicateGuard {
    /// Whether recording `fingerprint` at `now` would be refused as a duplicate: lets a use
    /// case refuse before it reserves anything, so a refused request appends nothing.
    pub fn is_duplicate(&self, fingerprint: &str, now: DateTime<Utc>) -> bool {
        let window_start = now - Duration::seconds(DUPLICATE_WINDOW_SECONDS);
        self.recent.iter().any(|(seen, at)| seen == fingerprint && *at > window_start)
    }
}

impl Aggregate for DuplicateGuard {
    const TYPE: &'static str = "duplicate_guard";
    type Command = GuardCommand;
    type Event = GuardEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(&mut self, command: GuardCommand, _: &(), sink: &EventSink<Self>) -> Result<(), DomainError> {
        let GuardCommand::Record { fingerprint, now } = command;
        if self.is_duplicate(&fingerprint, now) {
            return Err(DomainError::DuplicateTransaction);
        }
        sink.write(GuardEvent::TransactionFingerprinted { fingerprint, at: now }, self).await;
        Ok(())
    }

    fn apply(&mut self, event: GuardEvent) {
        let GuardEvent::TransactionFingerprinted { fingerprint, at } = event;
        let window_start = at - Duration::seconds(DUPLICATE_WINDOW_SECONDS);
        self.recent.retain(|(_, seen_at)| *seen_at > window_start);
        self.recent.push((fingerprint, at));
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use cqrs_es::test::TestFramework;

    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
    }

    #[tokio::test]
    async fn the_same_transaction_within_100_seconds_is_a_duplicate() {
        TestFramework::<DuplicateGuard>::with(())
            .given(vec![GuardEvent::TransactionFingerprinted { fingerprint: "f".into(), at: at(0) }])
            .when_async(GuardCommand::Record { fingerprint: "f".into(), now: at(99) })
            .await
            .then_expect_error(DomainError::DuplicateTransaction);
        TestFramework::<DuplicateGuard>::with(())
            .given(vec![GuardEvent::TransactionFingerprinted { fingerprint: "f".into(), at: at(0) }])
            .when_async(GuardCommand::Record { fingerprint: "f".into(), now: at(100) })
            .await
            .then_expect_events(vec![GuardEvent::TransactionFingerprinted { fingerprint: "f".into(), at: at(100) }]);
    }
}
