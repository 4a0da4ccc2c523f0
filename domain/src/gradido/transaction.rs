use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::money::Amount;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradidoKind {
    Transfer,
    Creation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradidoStatus {
    /// Prepared, awaiting the initiator's signature.
    Pending,
    /// Signed and sent to the network, awaiting confirmation.
    Executing,
    Confirmed,
    Rejected,
    Cancelled,
}

impl GradidoStatus {
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Executing => "executing",
            Self::Confirmed => "confirmed",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GradidoTransaction {
    created: Option<Created>,
    status: Option<GradidoStatus>,
}

/// What a transaction is, as created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Created {
    pub kind: GradidoKind,
    pub initiator: String,
    pub from_account: Option<String>,
    pub recipient: String,
    pub to_account: String,
    pub amount: Amount,
    pub target_date: Option<NaiveDate>,
}

impl GradidoTransaction {
    pub fn details(&self) -> Option<&Created> {
        self.created.as_ref()
    }

    pub fn status(&self) -> Option<GradidoStatus> {
        self.status
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum TransactionCommand {
    Create {
        kind: GradidoKind,
        initiator: String,
        /// The sender's GDD account for a transfer; none for a creation.
        from_account: Option<String>,
        recipient: String,
        to_account: String,
        amount: Amount,
        target_date: Option<NaiveDate>,
        memo: String,
    },
    Sign {
        user: String,
        at: DateTime<Utc>,
    },
    Cancel {
        user: String,
    },
    Confirm,
    Reject {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TransactionEvent {
    GradidoTransactionCreated {
        kind: GradidoKind,
        initiator: String,
        from_account: Option<String>,
        recipient: String,
        to_account: String,
        amount: Amount,
        target_date: Option<NaiveDate>,
        memo: String,
    },
    GradidoTransactionSigned {
        user: String,
        at: DateTime<Utc>,
    },
    GradidoTransactionCancelled {
        user: String,
    },
    GradidoTransactionConfirmed,
    GradidoTransactionRejected {
        reason: String,
    },
}

impl TransactionEvent {
    pub fn status(&self) -> GradidoStatus {
        match self {
            Self::GradidoTransactionCreated { .. } => GradidoStatus::Pending,
            Self::GradidoTransactionSigned { .. } => GradidoStatus::Executing,
            Self::GradidoTransactionCancelled { .. } => GradidoStatus::Cancelled,
            Self::GradidoTransactionConfirmed => GradidoStatus::Confirmed,
            Self::GradidoTransactionRejected { .. } => GradidoStatus::Rejected,
        }
    }
}

impl DomainEvent for TransactionEvent {
    fn event_type(&self) -> String {
        match self {
            Self::GradidoTransactionCreated { .. } => "GradidoTransactionCreated",
            Self::GradidoTransactionSigned { .. } => "GradidoTransactionSigned",
            Self::GradidoTransactionCancelled { .. } => "GradidoTransactionCancelled",
            Self::GradidoTransactionConfirmed => "GradidoTransactionConfirmed",
            Self::GradidoTransactionRejected { .. } => "GradidoTransactionRejected",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        "1".to_string()
    }
}

impl GradidoTransaction {
    fn decide(&self, command: TransactionCommand) -> Result<Option<TransactionEvent>, DomainError> {
        use GradidoStatus::*;
        let status = self.status;
        let initiator = self.created.as_ref().map(|created| created.initiator.as_str());
        let event = match command {
            TransactionCommand::Create {
                kind,
                initiator,
                from_account,
                recipient,
                to_account,
                amount,
                target_date,
                memo,
            } => {
                if status.is_some() {
                    return Err(DomainError::TransactionExists);
                }
                TransactionEvent::GradidoTransactionCreated {
                    kind,
                    initiator,
                    from_account,
                    recipient,
                    to_account,
                    amount,
                    target_date,
                    memo,
                }
            }
            TransactionCommand::Sign { user, at } => match status {
                Some(Pending) if initiator == Some(user.as_str()) => {
                    TransactionEvent::GradidoTransactionSigned { user, at }
                }
                Some(Pending) => return Err(DomainError::NotTheInitiator),
                Some(Executing) if initiator == Some(user.as_str()) => return Ok(None),
                Some(other) => return Err(DomainError::TransactionState(other.name())),
                None => return Err(DomainError::TransactionNotFound),
            },
            TransactionCommand::Cancel { user } => match status {
                Some(Pending) if initiator == Some(user.as_str()) => {
                    TransactionEvent::GradidoTransactionCancelled { user }
                }
                Some(Pending) => return Err(DomainError::NotTheInitiator),
                Some(Cancelled) => return Ok(None),
                Some(other) => return Err(DomainError::TransactionState(other.name())),
                None => return Err(DomainError::TransactionNotFound),
            },
            TransactionCommand::Confirm => match status {
                Some(Executing) => TransactionEvent::GradidoTransactionConfirmed,
                Some(Confirmed) => return Ok(None),
                Some(other) => return Err(DomainError::TransactionState(other.name())),
                None => return Err(DomainError::TransactionNotFound),
            },
            TransactionCommand::Reject { reason } => match status {
                Some(Executing | Pending) => TransactionEvent::GradidoTransactionRejected { reason },
                Some(Rejected) => return Ok(None),
                Some(other) => return Err(DomainError::TransactionState(other.name())),
                None => return Err(DomainError::TransactionNotFound),
            },
        };
        Ok(Some(event))
    }
}

impl Aggregate for GradidoTransaction {
    const TYPE: &'static str = "gradido_transaction";
    type Command = TransactionCommand;
    type Event = TransactionEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(&mut self, command: TransactionCommand, _: &(), sink: &EventSink<Self>) -> Result<(), DomainError> {
        if let Some(event) = self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: TransactionEvent) {
        if let TransactionEvent::GradidoTransactionCreated {
            kind,
            initiator,
            from_account,
            recipient,
            to_account,
            amount,
            target_date,
            ..
        } = &event
        {
            self.created = Some(Created {
                kind: *kind,
                initiator: initiator.clone(),
                from_account: from_account.clone(),
                recipient: recipient.clone(),
                to_account: to_account.clone(),
                amount: *amount,
                target_date: *target_date,
            });
        }
        self.status = Some(event.status());
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use cqrs_es::test::TestFramework;

    use super::*;
    use crate::money::Scale;

    fn created() -> TransactionEvent {
        TransactionEvent::GradidoTransactionCreated {
            kind: GradidoKind::Transfer,
            initiator: "alice".into(),
            from_account: Some("gdd-alice".into()),
            recipient: "bob".into(),
            to_account: "gdd-bob".into(),
            amount: Amount::parse_positive("1", Scale::new(4).unwrap()).unwrap(),
            target_date: None,
            memo: "thanks".into(),
        }
    }

    fn at() -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000, 0).unwrap()
    }

    #[tokio::test]
    async fn only_the_initiator_signs_a_pending_transaction() {
        TestFramework::<GradidoTransaction>::with(())
            .given(vec![created()])
            .when_async(TransactionCommand::Sign { user: "mallory".into(), at: at() })
            .await
            .then_expect_error(DomainError::NotTheInitiator);
        TestFramework::<GradidoTransaction>::with(())
            .given(vec![created()])
            .when_async(TransactionCommand::Sign { user: "alice".into(), at: at() })
            .await
            .then_expect_events(vec![TransactionEvent::GradidoTransactionSigned { user: "alice".into(), at: at() }]);
    }

    #[tokio::test]
    async fn a_signed_transaction_can_no_longer_be_cancelled() {
        TestFramework::<GradidoTransaction>::with(())
            .given(vec![created(), TransactionEvent::GradidoTransactionSigned { user: "alice".into(), at: at() }])
            .when_async(TransactionCommand::Cancel { user: "alice".into() })
            .await
            .then_expect_error(DomainError::TransactionState("executing"));
    }

    #[tokio::test]
    async fn only_an_executing_transaction_is_confirmed() {
        TestFramework::<GradidoTransaction>::with(())
            .given(vec![created()])
            .when_async(TransactionCommand::Confirm)
            .await
            .then_expect_error(DomainError::TransactionState("pending"));
        TestFramework::<GradidoTransaction>::with(())
            .given(vec![created(), TransactionEvent::GradidoTransactionSigned { user: "alice".into(), at: at() }])
            .when_async(TransactionCommand::Confirm)
            .await
            .then_expect_events(vec![TransactionEvent::GradidoTransactionConfirmed]);
    }
}
