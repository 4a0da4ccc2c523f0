//! A Gradido group (community), created by an admin, named by its alias.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::account::check_text;
use crate::error::DomainError;
use crate::limits::{MAX_LABEL_LEN, MAX_MEMO_LEN};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Group {
    created: bool,
}

impl Group {
    pub fn exists(&self) -> bool {
        self.created
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum GroupCommand {
    Create { alias: String, name: String, description: Option<String> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GroupEvent {
    GroupCreated { alias: String, name: String, description: Option<String> },
}

impl DomainEvent for GroupEvent {
    fn event_type(&self) -> String {
        "GroupCreated".to_string()
    }
    fn event_version(&self) -> String {
        "1".to_string()
    }
}

impl Aggregate for Group {
    const TYPE: &'static str = "group";
    type Command = GroupCommand;
    type Event = GroupEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(&mut self, command: GroupCommand, _: &(), sink: &EventSink<Self>) -> Result<(), DomainError> {
        let GroupCommand::Create { alias, name, description } = command;
        if self.created {
            return Err(DomainError::GroupExists);
        }
        let valid_alias = (1..=MAX_LABEL_LEN).contains(&alias.len())
            && alias.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !valid_alias {
            return Err(DomainError::GroupAliasInvalid);
        }
        check_text("name", &Some(name.clone()), MAX_LABEL_LEN)?;
        check_text("description", &description, MAX_MEMO_LEN)?;
        sink.write(GroupEvent::GroupCreated { alias, name, description }, self).await;
        Ok(())
    }

    fn apply(&mut self, _event: GroupEvent) {
        self.created = true;
    }
}
