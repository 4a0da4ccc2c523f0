//! Gradido sessions: a positive 32-bit id, ended by logout or after 15 minutes unused.

use rand::Rng;
use serde_json::{Map, Value};

use super::wire::GradidoError;
use super::GradidoState;
use app::AppError;

pub const SESSION_IDLE_TIMEOUT_SECONDS: i64 = 15 * 60;
const DIALECT: &str = "gradido";

pub struct Session {
    pub session_id: i64,
    pub user_id: String,
    pub client_ip: String,
}

pub async fn open(state: &GradidoState, user_id: &str, client_ip: &str) -> Result<i64, AppError> {
    let client = state.ledger.reads.get().await?;
    loop {
        let session_id = i64::from(rand::thread_rng().gen_range(1..=i32::MAX));
        let inserted = client
            .execute(
                "INSERT INTO sessions (session_id, dialect, user_id, client_ip) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&session_id, &DIALECT, &user_id, &client_ip],
            )
            .await?;
        if inserted == 1 {
            return Ok(session_id);
        }
    }
}

/// The session a request names, touched; the seed's answers when there is none.
pub async fn require(state: &GradidoState, object: &Map<String, Value>) -> Result<Session, GradidoError> {
    let session_id = object.get("session_id").and_then(Value::as_i64).filter(|id| *id != 0);
    let Some(session_id) = session_id else {
        return Err(GradidoError::new("error", "session_id invalid"));
    };
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let row = client
        .query_opt(
            "UPDATE sessions SET last_used_at = now() \
             WHERE session_id = $1 AND dialect = $2 AND last_used_at > now() - $3::bigint * interval '1 second' \
             RETURNING user_id, client_ip",
            &[&session_id, &DIALECT, &SESSION_IDLE_TIMEOUT_SECONDS],
        )
        .await
        .map_err(AppError::from)?;
    match row {
        Some(row) => Ok(Session { session_id, user_id: row.get(0), client_ip: row.get(1) }),
        None => {
            client
                .execute("DELETE FROM sessions WHERE session_id = $1", &[&session_id])
                .await
                .map_err(AppError::from)?;
            Err(GradidoError::new("error", "session not found"))
        }
    }
}

pub async fn close(state: &GradidoState, session_id: i64) -> Result<(), AppError> {
    let client = state.ledger.reads.get().await?;
    client.execute("DELETE FROM sessions WHERE session_id = $1 AND dialect = $2", &[&session_id, &DIALECT]).await?;
    Ok(())
}
