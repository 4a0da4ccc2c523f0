//! Outgoing e-mail. The default mailer writes each mail to the `mail_outbox` table (a relay
//! or an operator sends it); `SmtpMailer` hands it to an SMTP server through lettre.

use std::future::Future;
use std::pin::Pin;

use deadpool_postgres::Pool;
use lettre::message::Message;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

pub type MailFuture<'a> = Pin<Box<dyn Future<Output = Result<(), AppError>> + Send + 'a>>;

pub trait Mailer: Send + Sync + 'static {
    fn send(&self, mail: Mail) -> MailFuture<'_>;
}

pub struct OutboxMailer {
    pub pool: Pool,
}

impl Mailer for OutboxMailer {
    fn send(&self, mail: Mail) -> MailFuture<'_> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client
                .execute(
                    "INSERT INTO mail_outbox (recipient, subject, body) VALUES ($1, $2, $3)",
                    &[&mail.to, &mail.subject, &mail.body],
                )
                .await?;
            Ok(())
        })
    }
}

/// Sends through an SMTP relay given as `host:port` (plain SMTP, for a relay on a trusted
/// network, such as the local MTA).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: String,
}

impl SmtpMailer {
    pub fn new(relay: &str, from: &str) -> Result<Self, AppError> {
        let invalid = || AppError::invalid("invalid_smtp_relay", format!("expected host:port, got {relay}"));
        let (host, port) = relay.rsplit_once(':').ok_or_else(invalid)?;
        let port: u16 = port.parse().map_err(|_| invalid())?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port).build();
        Ok(Self { transport, from: from.to_string() })
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, mail: Mail) -> MailFuture<'_> {
        Box::pin(async move {
            let invalid = |error: &dyn std::fmt::Display| AppError::invalid("invalid_mail", error.to_string());
            let message = Message::builder()
                .from(self.from.parse().map_err(|error| invalid(&error))?)
                .to(mail.to.parse().map_err(|error| invalid(&error))?)
                .subject(mail.subject)
                .body(mail.body)
                .map_err(|error| invalid(&error))?;
            self.transport.send(message).await.map_err(|error| AppError::Unavailable(format!("smtp: {error}")))?;
            Ok(())
        })
    }
}
