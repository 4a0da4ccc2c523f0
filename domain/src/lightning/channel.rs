//! Channels to remote nodes, named by their channel point (`txid:index`): opened (pending),
//! active after enough confirmations, closing, closed.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// Blocks a channel's funding or closing transaction needs before it counts.
pub const CHANNEL_CONFIRMATIONS: u64 = 3;
/// Channel capacity bounds, in satoshi (BOLT 2's limits for non-wumbo channels).
pub const MIN_CHANNEL_SAT: u64 = 20_000;
pub const MAX_CHANNEL_SAT: u64 = 16_777_215;

/// Whether a capacity (in sat) may be opened as a channel.
pub fn validate_capacity(capacity_sat: u64) -> Result<(), DomainError> {
    if (MIN_CHANNEL_SAT..=MAX_CHANNEL_SAT).contains(&capacity_sat) {
        Ok(())
    } else {
        Err(DomainError::ChannelCapacity { min: MIN_CHANNEL_SAT, max: MAX_CHANNEL_SAT })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelState {
    Pending,
    Active,
    Closing,
    Closed,
}

impl ChannelState {
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Closing => "closing",
            Self::Closed => "closed",
        }
    }
}

/// A channel to a remote node, named by its channel point (`txid:index`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    opened: Option<OpenedChannel>,
    state: Option<ChannelState>,
    changed_height: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenedChannel {
    pub owner: String,
    pub remote_node: String,
    pub capacity_sat: u64,
}

impl Channel {
    pub fn opened(&self) -> Option<&OpenedChannel> {
        self.opened.as_ref()
    }

    pub fn state(&self) -> Option<ChannelState> {
        self.state
    }

    /// Whether the last transaction has its confirmations at `height`.
    pub fn is_confirmed_at(&self, height: u64) -> bool {
        height >= self.changed_height + CHANNEL_CONFIRMATIONS
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum ChannelCommand {
    Open {
        owner: String,
        remote_node: String,
        capacity_sat: u64,
        height: u64,
    },
    /// The funding transaction has its confirmations at `height`.
    Activate {
        height: u64,
    },
    Close {
        owner: String,
        height: u64,
    },
    /// The closing transaction has its confirmations; `returned_sat` went back on chain.
    Finish {
        height: u64,
        returned_sat: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ChannelEvent {
    ChannelOpened { owner: String, remote_node: String, capacity_sat: u64, height: u64 },
    ChannelActivated { height: u64 },
    ChannelClosing { height: u64 },
    ChannelClosed { height: u64, returned_sat: u64 },
}

impl ChannelEvent {
    pub fn state(&self) -> ChannelState {
        match self {
            Self::ChannelOpened { .. } => ChannelState::Pending,
            Self::ChannelActivated { .. } => ChannelState::Active,
            Self::ChannelClosing { .. } => ChannelState::Closing,
            Self::ChannelClosed { .. } => ChannelState::Closed,
        }
    }

    pub fn height(&self) -> u64 {
        match self {
            Self::ChannelOpened { height, .. }
            | Self::ChannelActivated { height }
            | Self::ChannelClosing { height }
            | Self::ChannelClosed { height, .. } => *height,
        }
    }
}

impl DomainEvent for ChannelEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ChannelOpened { .. } => "ChannelOpened",
            Self::ChannelActivated { .. } => "ChannelActivated",
            Self::ChannelClosing { .. } => "ChannelClosing",
            Self::ChannelClosed { .. } => "ChannelClosed",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        "1".to_string()
    }
}

impl Aggregate for Channel {
    const TYPE: &'static str = "channel";
    type Command = ChannelCommand;
    type Event = ChannelEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(&mut self, command: ChannelCommand, _: &(), sink: &EventSink<Self>) -> Result<(), DomainError> {
        use ChannelState::*;
        let confirmed = |height: u64| height >= self.changed_height + CHANNEL_CONFIRMATIONS;
        let owner = self.opened.as_ref().map(|opened| opened.owner.as_str());
        let event = match (command, self.state) {
            (ChannelCommand::Open { owner, remote_node, capacity_sat, height }, None) => {
                validate_capacity(capacity_sat)?;
                ChannelEvent::ChannelOpened { owner, remote_node, capacity_sat, height }
            }
            (ChannelCommand::Open { .. }, Some(_)) => return Err(DomainError::ChannelState("exists")),
            (ChannelCommand::Activate { height }, Some(Pending)) if confirmed(height) => {
                ChannelEvent::ChannelActivated { height }
            }
            (ChannelCommand::Close { owner: closer, height }, Some(Active)) if owner == Some(closer.as_str()) => {
                ChannelEvent::ChannelClosing { height }
            }
            (ChannelCommand::Close { .. }, Some(Active)) => return Err(DomainError::ChannelNotFound),
            (ChannelCommand::Finish { height, returned_sat }, Some(Closing)) if confirmed(height) => {
                ChannelEvent::ChannelClosed { height, returned_sat }
            }
            (ChannelCommand::Activate { .. } | ChannelCommand::Finish { .. }, Some(_)) => return Ok(()),
            (_, None) => return Err(DomainError::ChannelNotFound),
            (_, Some(state)) => return Err(DomainError::ChannelState(state.name())),
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: ChannelEvent) {
        if let ChannelEvent::ChannelOpened { owner, remote_node, capacity_sat, .. } = &event {
            self.opened = Some(OpenedChannel {
                owner: owner.clone(),
                remote_node: remote_node.clone(),
                capacity_sat: *capacity_sat,
            });
        }
        self.changed_height = event.height();
        self.state = Some(event.state());
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;

    use super::*;

    fn opened() -> ChannelEvent {
        ChannelEvent::ChannelOpened {
            owner: "alice".into(),
            remote_node: "02ab".into(),
            capacity_sat: 50_000,
            height: 100,
        }
    }

    #[tokio::test]
    async fn a_channel_becomes_active_only_after_its_confirmations() {
        TestFramework::<Channel>::with(())
            .given(vec![opened()])
            .when_async(ChannelCommand::Activate { height: 102 })
            .await
            .then_expect_events(vec![]);
        TestFramework::<Channel>::with(())
            .given(vec![opened()])
            .when_async(ChannelCommand::Activate { height: 103 })
            .await
            .then_expect_events(vec![ChannelEvent::ChannelActivated { height: 103 }]);
    }

    #[tokio::test]
    async fn a_channel_capacity_must_be_within_bolt_limits() {
        TestFramework::<Channel>::with(())
            .given_no_previous_events()
            .when_async(ChannelCommand::Open {
                owner: "a".into(),
                remote_node: "02".into(),
                capacity_sat: 19_999,
                height: 1,
            })
            .await
            .then_expect_error(DomainError::ChannelCapacity { min: MIN_CHANNEL_SAT, max: MAX_CHANNEL_SAT });
    }

    #[tokio::test]
    async fn only_an_active_channel_of_its_owner_can_be_closed() {
        TestFramework::<Channel>::with(())
            .given(vec![opened()])
            .when_async(ChannelCommand::Close { owner: "alice".into(), height: 101 })
            .await
            .then_expect_error(DomainError::ChannelState("pending"));
        TestFramework::<Channel>::with(())
            .given(vec![opened(), ChannelEvent::ChannelActivated { height: 103 }])
            .when_async(ChannelCommand::Close { owner: "mallory".into(), height: 104 })
            .await
            .then_expect_error(DomainError::ChannelNotFound);
    }
}
