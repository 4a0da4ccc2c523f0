//! API keys for Joy Plus integrators: issued by the admin for an e-mail address, one key per
//! address (issuing again rotates it), with scopes that grant single permissions such as
//! `locked_balance.create`. Only the key's SHA-256 is ever recorded; the key itself is shown
//! once and never stored.

use std::collections::BTreeSet;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// Scopes one key may carry.
pub const MAX_SCOPES_PER_KEY: usize = 32;
/// Longest scope name, in bytes.
pub const MAX_SCOPE_LEN: usize = 64;

/// `resource.action`: lower-case letters, digits and `_`, one dot.
pub fn validate_scope(scope: &str) -> Result<(), DomainError> {
    let part_ok = |part: &str| {
        !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    match scope.split_once('.') {
        Some((resource, action)) if scope.len() <= MAX_SCOPE_LEN && part_ok(resource) && part_ok(action) => Ok(()),
        _ => Err(DomainError::ScopeInvalid),
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    issued: bool,
    scopes: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum ApiKeyCommand {
    /// Issues a key (or rotates it: the previous key stops working, its scopes stay).
    Issue {
        email: String,
        key_sha256: String,
    },
    AddScope {
        scope: String,
    },
    RemoveScope {
        scope: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ApiKeyEvent {
    ApiKeyIssued { email: String, key_sha256: String },
    ApiKeyScopeAdded { scope: String },
    ApiKeyScopeRemoved { scope: String },
}

impl DomainEvent for ApiKeyEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ApiKeyIssued { .. } => "ApiKeyIssued",
            Self::ApiKeyScopeAdded { .. } => "ApiKeyScopeAdded",
            Self::ApiKeyScopeRemoved { .. } => "ApiKeyScopeRemoved",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        "1".to_string()
    }
}

impl Aggregate for ApiKey {
    const TYPE: &'static str = "api_key";
    type Command = ApiKeyCommand;
    type Event = ApiKeyEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(&mut self, command: ApiKeyCommand, _: &(), sink: &EventSink<Self>) -> Result<(), DomainError> {
        let event = match command {
            ApiKeyCommand::Issue { email, key_sha256 } => ApiKeyEvent::ApiKeyIssued { email, key_sha256 },
            ApiKeyCommand::AddScope { .. } | ApiKeyCommand::RemoveScope { .. } if !self.issued => {
                return Err(DomainError::ApiKeyNotIssued)
            }
            ApiKeyCommand::AddScope { scope } => {
                validate_scope(&scope)?;
                if self.scopes.contains(&scope) {
                    return Ok(());
                }
                if self.scopes.len() >= MAX_SCOPES_PER_KEY {
                    return Err(DomainError::TooManyScopes(MAX_SCOPES_PER_KEY));
                }
                ApiKeyEvent::ApiKeyScopeAdded { scope }
            }
            ApiKeyCommand::RemoveScope { scope } => {
                validate_scope(&scope)?;
                if !self.scopes.contains(&scope) {
                    return Ok(());
                }
                ApiKeyEvent::ApiKeyScopeRemoved { scope }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: ApiKeyEvent) {
        match event {
            ApiKeyEvent::ApiKeyIssued { .. } => self.issued = true,
            ApiKeyEvent::ApiKeyScopeAdded { scope } => {
                self.scopes.insert(scope);
            }
            ApiKeyEvent::ApiKeyScopeRemoved { scope } => {
                self.scopes.remove(&scope);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;

    use super::*;

    fn issued() -> ApiKeyEvent {
        ApiKeyEvent::ApiKeyIssued { email: "partner@example.com".into(), key_sha256: "ab".repeat(32) }
    }

    fn add(scope: &str) -> ApiKeyCommand {
        ApiKeyCommand::AddScope { scope: scope.into() }
    }

    #[tokio::test]
    async fn a_scope_is_added_to_an_issued_key() {
        TestFramework::<ApiKey>::with(())
            .given(vec![issued()])
            .when_async(add("locked_balance.create"))
            .await
            .then_expect_events(vec![ApiKeyEvent::ApiKeyScopeAdded { scope: "locked_balance.create".into() }]);
    }

    #[tokio::test]
    async fn no_scope_is_added_before_a_key_is_issued() {
        TestFramework::<ApiKey>::with(())
            .given_no_previous_events()
            .when_async(add("locked_balance.create"))
            .await
            .then_expect_error(DomainError::ApiKeyNotIssued);
    }

    #[tokio::test]
    async fn adding_a_scope_twice_changes_nothing() {
        TestFramework::<ApiKey>::with(())
            .given(vec![issued(), ApiKeyEvent::ApiKeyScopeAdded { scope: "a.b".into() }])
            .when_async(add("a.b"))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn a_malformed_scope_is_refused() {
        for scope in ["", "nodot", "Upper.case", "a.b.c", ".x", "x."] {
            TestFramework::<ApiKey>::with(())
                .given(vec![issued()])
                .when_async(add(scope))
                .await
                .then_expect_error(DomainError::ScopeInvalid);
        }
    }

    #[tokio::test]
    async fn removing_a_scope_the_key_lacks_changes_nothing() {
        TestFramework::<ApiKey>::with(())
            .given(vec![issued()])
            .when_async(ApiKeyCommand::RemoveScope { scope: "a.b".into() })
            .await
            .then_expect_events(vec![]);
    }
}
