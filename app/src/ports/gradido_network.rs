//! The network Gradido transactions are sent to once signed. The default confirms every
//! transaction a fixed delay after it was signed.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::gradido::Created;

/// What the network said about a signed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Confirmed,
    Rejected(String),
}

/// The network Gradido transactions are sent to.
pub trait GradidoNetwork: Send + Sync + 'static {
    fn submit(
        &self,
        transaction_id: &str,
        signed_at: DateTime<Utc>,
        details: &Created,
    ) -> impl Future<Output = Verdict> + Send;
}

/// The default network: confirms every transaction `confirm_delay` after it was signed.
pub struct LocalNetwork {
    pub confirm_delay: Duration,
}

impl GradidoNetwork for LocalNetwork {
    async fn submit(&self, _transaction_id: &str, signed_at: DateTime<Utc>, _details: &Created) -> Verdict {
        let due = signed_at + chrono::Duration::from_std(self.confirm_delay).unwrap_or_default();
        if let Ok(wait) = (due - Utc::now()).to_std() {
            tokio::time::sleep(wait).await;
        }
        Verdict::Confirmed
    }
}
