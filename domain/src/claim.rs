//! A unique claim on a value such as an e-mail address or a username. The event store's
//! optimistic concurrency on the claim's own stream makes the claim atomic across the
//! cluster: two users can never both take the same value.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// The aggregate id of the claim on `value` of `kind`: `email:alice@example.com`.
pub fn claim_id(kind: &str, value: &str) -> String {
    format!("{kind}:{}", value.to_lowercase())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UniqueClaim {
    owner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum ClaimCommand {
    /// Takes the value for `owner`; taking it again for the same owner is a no-op.
    Take {
        kind: String,
        owner: String,
    },
    Release {
        owner: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClaimEvent {
    ClaimTaken { owner: String },
    ClaimReleased { owner: String },
}

impl DomainEvent for ClaimEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ClaimTaken { .. } => "ClaimTaken",
            Self::ClaimReleased { .. } => "ClaimReleased",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        "1".to_string()
    }
}

impl Aggregate for UniqueClaim {
    const TYPE: &'static str = "unique_claim";
    type Command = ClaimCommand;
    type Event = ClaimEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(&mut self, command: ClaimCommand, _: &(), sink: &EventSink<Self>) -> Result<(), DomainError> {
        let event = match (command, &self.owner) {
            (ClaimCommand::Take { owner, .. }, Some(current)) if *current == owner => return Ok(()),
            (ClaimCommand::Take { kind, .. }, Some(_)) => return Err(DomainError::ClaimTaken { kind }),
            (ClaimCommand::Take { owner, .. }, None) => ClaimEvent::ClaimTaken { owner },
            (ClaimCommand::Release { owner }, Some(current)) if *current == owner => {
                ClaimEvent::ClaimReleased { owner }
            }
            (ClaimCommand::Release { .. }, _) => return Ok(()),
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: ClaimEvent) {
        self.owner = match event {
            ClaimEvent::ClaimTaken { owner } => Some(owner),
            ClaimEvent::ClaimReleased { .. } => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;

    use super::*;

    fn take(owner: &str) -> ClaimCommand {
        ClaimCommand::Take { kind: "email".into(), owner: owner.into() }
    }

    #[tokio::test]
    async fn a_value_taken_by_one_owner_is_refused_to_another() {
        TestFramework::<UniqueClaim>::with(())
            .given(vec![ClaimEvent::ClaimTaken { owner: "u1".into() }])
            .when_async(take("u2"))
            .await
            .then_expect_error(DomainError::ClaimTaken { kind: "email".into() });
    }

    #[tokio::test]
    async fn taking_a_value_again_for_the_same_owner_is_a_no_op() {
        TestFramework::<UniqueClaim>::with(())
            .given(vec![ClaimEvent::ClaimTaken { owner: "u1".into() }])
            .when_async(take("u1"))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn a_released_value_can_be_taken_again() {
        TestFramework::<UniqueClaim>::with(())
            .given(vec![
                ClaimEvent::ClaimTaken { owner: "u1".into() },
                ClaimEvent::ClaimReleased { owner: "u1".into() },
            ])
            .when_async(take("u2"))
            .await
            .then_expect_events(vec![ClaimEvent::ClaimTaken { owner: "u2".into() }]);
    }
}
