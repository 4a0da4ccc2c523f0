//! Sending text messages. The default writes to the `sms_outbox` table, for a gateway to
//! relay.

use std::future::Future;
use std::pin::Pin;

use deadpool_postgres::Pool;

use crate::error::AppError;

pub type SmsFuture<'a> = Pin<Box<dyn Future<Output = Result<(), AppError>> + Send + 'a>>;

pub trait SmsSender: Send + Sync + 'static {
    fn send<'a>(&'a self, mobile: &'a str, body: &'a str) -> SmsFuture<'a>;
}

pub struct OutboxSms {
    pub pool: Pool,
}

impl SmsSender for OutboxSms {
    fn send<'a>(&'a self, mobile: &'a str, body: &'a str) -> SmsFuture<'a> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client.execute("INSERT INTO sms_outbox (mobile, body) VALUES ($1, $2)", &[&mobile, &body]).await?;
            Ok(())
        })
    }
}
