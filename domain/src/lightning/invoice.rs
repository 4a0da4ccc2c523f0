//! Invoices of this node, by payment hash: created once, paid once.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::account::check_text;
use crate::error::DomainError;
use crate::limits::MAX_MEMO_LEN;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    created: Option<CreatedInvoice>,
    paid_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedInvoice {
    pub payee: String,
    pub amount_msat: Option<u64>,
    pub expires_at: DateTime<Utc>,
    pub description: String,
    pub payment_request: String,
}

impl Invoice {
    pub fn created(&self) -> Option<&CreatedInvoice> {
        self.created.as_ref()
    }

    pub fn is_paid(&self) -> bool {
        self.paid_by.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum InvoiceCommand {
    Create {
        payee: String,
        amount_msat: Option<u64>,
        description: String,
        payment_request: String,
        expires_at: DateTime<Utc>,
    },
    /// Records that `payer` paid it (the money moved under this payment's operation id).
    MarkPaid { payer: String, amount_msat: u64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InvoiceEvent {
    InvoiceCreated {
        payee: String,
        amount_msat: Option<u64>,
        description: String,
        payment_request: String,
        expires_at: DateTime<Utc>,
    },
    InvoicePaid {
        payer: String,
        amount_msat: u64,
    },
}

impl DomainEvent for InvoiceEvent {
    fn event_type(&self) -> String {
        match self {
            Self::InvoiceCreated { .. } => "InvoiceCreated",
            Self::InvoicePaid { .. } => "InvoicePaid",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        "1".to_string()
    }
}

impl Aggregate for Invoice {
    const TYPE: &'static str = "invoice";
    type Command = InvoiceCommand;
    type Event = InvoiceEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(&mut self, command: InvoiceCommand, _: &(), sink: &EventSink<Self>) -> Result<(), DomainError> {
        let event = match command {
            InvoiceCommand::Create { payee, amount_msat, description, payment_request, expires_at } => {
                if self.created.is_some() {
                    return Err(DomainError::InvoiceExists);
                }
                check_text("memo", &Some(description.clone()), MAX_MEMO_LEN)?;
                InvoiceEvent::InvoiceCreated { payee, amount_msat, description, payment_request, expires_at }
            }
            InvoiceCommand::MarkPaid { payer, amount_msat } => match (&self.created, &self.paid_by) {
                (None, _) => return Err(DomainError::InvoiceNotFound),
                (Some(_), Some(paid_by)) if *paid_by == payer => return Ok(()),
                (Some(_), Some(_)) => return Err(DomainError::InvoiceAlreadyPaid),
                (Some(_), None) => InvoiceEvent::InvoicePaid { payer, amount_msat },
            },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: InvoiceEvent) {
        match event {
            InvoiceEvent::InvoiceCreated { payee, amount_msat, expires_at, description, payment_request } => {
                self.created = Some(CreatedInvoice { payee, amount_msat, expires_at, description, payment_request });
            }
            InvoiceEvent::InvoicePaid { payer, .. } => self.paid_by = Some(payer),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use cqrs_es::test::TestFramework;

    use super::*;

    fn created() -> InvoiceEvent {
        InvoiceEvent::InvoiceCreated {
            payee: "bob".into(),
            amount_msat: Some(1_000),
            description: "coffee".into(),
            payment_request: "lnbcrt...".into(),
            expires_at: Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
        }
    }

    #[tokio::test]
    async fn an_invoice_is_paid_once() {
        TestFramework::<Invoice>::with(())
            .given(vec![created(), InvoiceEvent::InvoicePaid { payer: "alice".into(), amount_msat: 1_000 }])
            .when_async(InvoiceCommand::MarkPaid { payer: "carol".into(), amount_msat: 1_000 })
            .await
            .then_expect_error(DomainError::InvoiceAlreadyPaid);
    }

    #[tokio::test]
    async fn an_unknown_invoice_cannot_be_paid() {
        TestFramework::<Invoice>::with(())
            .given_no_previous_events()
            .when_async(InvoiceCommand::MarkPaid { payer: "alice".into(), amount_msat: 1 })
            .await
            .then_expect_error(DomainError::InvoiceNotFound);
    }
}
