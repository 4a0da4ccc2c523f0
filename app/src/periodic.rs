//! Background work that repeats on an interval until shutdown (hold expiry, channel
//! watching, housekeeping). A failed round is logged and tried again next round.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tracing::warn;

use crate::error::AppError;

pub async fn every<F, Fut>(interval: Duration, what: &'static str, mut shutdown: watch::Receiver<bool>, mut round: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), AppError>>,
{
    while !*shutdown.borrow() {
        if let Err(error) = round().await {
            warn!(%error, "{what} failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => {}
        }
    }
}
