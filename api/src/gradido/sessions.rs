//! Gradido sessions: a positive 32-bit id, ended by logout or after 15 minutes unused.

use rand::Rng;

use super::wire::{GradidoError, Params};
use super::GradidoState;
use app::AppError;

pub const SESSION_IDLE_TIMEOUT_SECONDS: i64 = 15 * 60;
const DIALECT: &str = "gradido";

pub struct Session {
    pub session_id: i64,
    pub user_id: String,
    pub client_ip: String,
    /// `password`, or the kind of e-mail code that opened it (`resetPassword`, ...).
    pub opened_by: String,
}

pub async fn open(state: &GradidoState, user_id: &str, client_ip: &str, opened_by: &str) -> Result<i64, AppError> {
    let client = state.ledger.reads.get().await?;
    loop {
        let session_id = i64::from(rand::thread_rng().gen_range(1..=i32::MAX));
        let inserted = client
            .execute(
                "INSERT INTO sessions (session_id, dialect, user_id, client_ip, opened_by) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT DO NOTHING",
                &[&session_id, &DIALECT, &user_id, &client_ip, &opened_by],
            )
            .await?;
        if inserted == 1 {
            return Ok(session_id);
        }
    }
}

/// The live session `session_id`, touched; an expired one is removed.
pub async fn find(state: &GradidoState, session_id: i64) -> Result<Option<Session>, GradidoError> {
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let row = client
        .query_opt(
            "UPDATE sessions SET last_used_at = now() \
             WHERE session_id = $1 AND dialect = $2 AND last_used_at > now() - $3::bigint * interval '1 second' \
             RETURNING user_id, client_ip, opened_by",
            &[&session_id, &DIALECT, &SESSION_IDLE_TIMEOUT_SECONDS],
        )
        .await
        .map_err(AppError::from)?;
    match row {
        Some(row) => {
            Ok(Some(Session { session_id, user_id: row.get(0), client_ip: row.get(1), opened_by: row.get(2) }))
        }
        None => {
            client
                .execute("DELETE FROM sessions WHERE session_id = $1 AND dialect = $2", &[&session_id, &DIALECT])
                .await
                .map_err(AppError::from)?;
            Ok(None)
        }
    }
}

/// The session a call names, with the answers `createTransaction` gives when there is none
/// (the calls this service adds answer the same way).
pub async fn require(state: &GradidoState, params: &Params) -> Result<Session, GradidoError> {
    let session_id = params.session_id().ok_or_else(|| GradidoError::new("error", "session_id invalid"))?;
    find(state, session_id).await?.ok_or_else(|| GradidoError::new("error", "session not found"))
}

/// The session check the original `login`, `resetPassword` and `hasElopage` made.
pub async fn check_and_load(state: &GradidoState, params: &Params) -> Result<Session, GradidoError> {
    if params.is_body() && !params.has("session_id") {
        return Err(GradidoError::new("error", "missing session_id"));
    }
    let session_id = params.session_id().ok_or_else(|| GradidoError::new("error", "empty session id"))?;
    find(state, session_id).await?.ok_or_else(|| GradidoError::new("not found", "session not found"))
}

pub async fn close(state: &GradidoState, session_id: i64) -> Result<(), AppError> {
    let client = state.ledger.reads.get().await?;
    client.execute("DELETE FROM sessions WHERE session_id = $1 AND dialect = $2", &[&session_id, &DIALECT]).await?;
    Ok(())
}
