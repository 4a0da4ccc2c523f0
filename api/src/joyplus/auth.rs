//! Who is calling: a user's session cookie (`joy.sid`, set by `sso.html`), an integrator's API
//! key (`Authorization: <key>`), or the admin key (`Authorization: <LEDGER_ADMIN_KEY>`).
//! Every handler states which of them it accepts; data is filtered by `Caller::sees`.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::wire::JoyError;
use super::JoyState;
use crate::tokens::{cookie_value, sha256_hex};
use app::AppError;
use projections::read_models::joy_plus;

pub const SESSION_COOKIE: &str = "joy.sid";
/// A session unused this long is gone.
pub const SESSION_IDLE_TIMEOUT_SECONDS: i64 = 30 * 60;
/// Longest Authorization header value looked at.
const MAX_AUTHORIZATION_LEN: usize = 256;

#[derive(Debug, Clone)]
pub enum Caller {
    Admin,
    /// A signed-in user: the ledger's user id.
    User {
        user_id: String,
    },
    /// An integrator's key, issued for `email`, with its scopes.
    ApiKey {
        email: String,
        scopes: Vec<String>,
    },
}

/// Whose rows a caller may read.
#[derive(Debug, Clone)]
pub enum Visibility {
    Everyone,
    /// Only the rows of this ledger user (for an API key: the user with the key's e-mail).
    User(String),
    Nobody,
}

impl Visibility {
    /// The user id to filter by in SQL: `None` for everyone, and an id that matches no row
    /// for nobody.
    pub fn user_filter(&self) -> Option<String> {
        match self {
            Self::Everyone => None,
            Self::User(user_id) => Some(user_id.clone()),
            Self::Nobody => Some(String::new()),
        }
    }
}

impl Caller {
    pub fn require_admin(&self) -> Result<(), JoyError> {
        match self {
            Self::Admin => Ok(()),
            _ => Err(JoyError::forbidden("this endpoint requires the admin key")),
        }
    }

    pub fn require_user(&self) -> Result<&str, JoyError> {
        match self {
            Self::User { user_id } => Ok(user_id),
            _ => Err(JoyError::forbidden("this endpoint requires a signed-in user")),
        }
    }

    /// The admin, or an API key carrying `scope`.
    pub fn require_scope(&self, scope: &str) -> Result<(), JoyError> {
        match self {
            Self::Admin => Ok(()),
            Self::ApiKey { scopes, .. } if scopes.iter().any(|held| held == scope) => Ok(()),
            _ => Err(JoyError::forbidden(format!("this endpoint requires an API key with scope {scope}"))),
        }
    }

    pub async fn sees(&self, state: &JoyState) -> Result<Visibility, JoyError> {
        match self {
            Self::Admin => Ok(Visibility::Everyone),
            Self::User { user_id } => Ok(Visibility::User(user_id.clone())),
            Self::ApiKey { email, .. } => {
                let client = state.ledger.reads.get().await?;
                let user = joy_plus::user_of_email(&client, email).await.map_err(AppError::from)?;
                Ok(user.map_or(Visibility::Nobody, Visibility::User))
            }
        }
    }
}

impl FromRequestParts<JoyState> for Caller {
    type Rejection = JoyError;

    async fn from_request_parts(parts: &mut Parts, state: &JoyState) -> Result<Self, Self::Rejection> {
        if let Some(presented) = authorization(parts)? {
            if state.admin_key.verify(&presented) {
                return Ok(Self::Admin);
            }
            let client = state.ledger.reads.get().await?;
            let key = joy_plus::api_key(&client, &sha256_hex(&presented)).await.map_err(AppError::from)?;
            let (email, scopes) =
                key.ok_or_else(|| JoyError::new(axum::http::StatusCode::UNAUTHORIZED, "unknown API key"))?;
            return Ok(Self::ApiKey { email, scopes });
        }
        let token = cookie_value(parts, SESSION_COOKIE).ok_or_else(JoyError::unauthorized)?;
        let client = state.ledger.reads.get().await?;
        let row = client
            .query_opt(
                "UPDATE joy_sessions SET last_used_at = now() \
                 WHERE token_sha256 = $1 AND last_used_at > now() - $2::bigint * interval '1 second' RETURNING user_id",
                &[&sha256_hex(&token), &SESSION_IDLE_TIMEOUT_SECONDS],
            )
            .await?;
        let row = row.ok_or_else(JoyError::unauthorized)?;
        Ok(Self::User { user_id: row.get(0) })
    }
}

/// The Authorization header's key; `Bearer ` in front is tolerated.
fn authorization(parts: &Parts) -> Result<Option<String>, JoyError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .ok()
        .filter(|text| !text.is_empty() && text.len() <= MAX_AUTHORIZATION_LEN)
        .ok_or_else(|| JoyError::new(axum::http::StatusCode::UNAUTHORIZED, "malformed Authorization header"))?;
    Ok(Some(text.strip_prefix("Bearer ").unwrap_or(text).trim().to_string()))
}
