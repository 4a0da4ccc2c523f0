//! Removes expired operational state: Gradido, web and Joy Plus sessions, e-mail and SMS
//! verification codes, Passport codes and SMS tickets past their lifetime. Safe on several servers at once.

use std::time::Duration;

use deadpool_postgres::Pool;
use tokio::sync::watch;

use crate::error::AppError;

const HOUSEKEEPING_INTERVAL_MS: u64 = 60_000;
/// Unused sessions are removed this long after they stopped working (they already expire
/// sooner; this only reclaims the rows).
const SESSION_RETENTION_SECONDS: i64 = 24 * 60 * 60;

pub async fn run(reads: Pool, shutdown: watch::Receiver<bool>) {
    let round = || async { purge_expired(&reads).await.map(drop) };
    crate::periodic::every(Duration::from_millis(HOUSEKEEPING_INTERVAL_MS), "housekeeping", shutdown, round).await;
}

/// Deletes what has expired; answers how many rows went.
pub async fn purge_expired(reads: &Pool) -> Result<u64, AppError> {
    let client = reads.get().await?;
    let sessions = client
        .execute(
            "DELETE FROM sessions WHERE last_used_at < now() - $1::bigint * interval '1 second'",
            &[&SESSION_RETENTION_SECONDS],
        )
        .await?;
    let web_sessions = client
        .execute(
            "DELETE FROM web_sessions WHERE last_used_at < now() - $1::bigint * interval '1 second'",
            &[&SESSION_RETENTION_SECONDS],
        )
        .await?;
    let joy_sessions = client
        .execute(
            "DELETE FROM joy_sessions WHERE last_used_at < now() - $1::bigint * interval '1 second'",
            &[&SESSION_RETENTION_SECONDS],
        )
        .await?;
    let mut codes = client.execute("DELETE FROM email_verifications WHERE expires_at < now()", &[]).await?;
    for table in ["passport_codes", "joy_sms_codes", "joy_sms_tickets"] {
        codes += client.execute(&format!("DELETE FROM {table} WHERE expires_at < now()"), &[]).await?;
    }
    Ok(sessions + web_sessions + joy_sessions + codes)
}
