//! Supervising the private PostgreSQL cluster: the `serve` that owns it restarts it when it
//! exits (a crash, an operator's immediate stop, the OOM killer), with a bounded backoff,
//! logged and counted in `/metrics`. The pools reconnect by themselves: closed connections
//! are dropped when they fail or are returned.

use std::time::Duration;

use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::embedded_pg::EmbeddedPostgres;

/// How often the cluster is looked at.
const CHECK_INTERVAL_MS: u64 = 500;
/// Backoff between failed restarts: doubling from the first to the last.
const FIRST_RESTART_BACKOFF_MS: u64 = 500;
const MAX_RESTART_BACKOFF_MS: u64 = 30_000;

/// Watches `postgres` until `shutdown`, restarting it whenever it is found stopped.
pub async fn supervise(postgres: EmbeddedPostgres, mut shutdown: watch::Receiver<bool>) {
    let mut backoff_ms = FIRST_RESTART_BACKOFF_MS;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(CHECK_INTERVAL_MS)) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() || postgres.is_running().await {
            continue;
        }
        warn!("the private PostgreSQL cluster is not running; restarting it");
        store::metrics::database_restarted();
        match postgres.start_daemon().await {
            Ok(_) => {
                info!("the private PostgreSQL cluster runs again");
                backoff_ms = FIRST_RESTART_BACKOFF_MS;
            }
            Err(failure) => {
                error!(%failure, backoff_ms, "restarting the private PostgreSQL cluster failed; trying again");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(backoff_ms)) => {}
                    _ = shutdown.changed() => return,
                }
                backoff_ms = (backoff_ms * 2).min(MAX_RESTART_BACKOFF_MS);
            }
        }
    }
}
