//! Passport: the sign-on service Joy Plus trusts. It vouches for a user behind a one-time
//! code; the embedded default keeps its codes in `passport_codes`.

use std::future::Future;
use std::pin::Pin;

use base64::Engine;
use deadpool_postgres::Pool;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::tokens::sha256_hex;

/// What Passport vouches for. `user_id` is the ledger user this identity is.
#[derive(Debug, Clone)]
pub struct PassportProfile {
    pub user_id: String,
    pub open_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub mobile: Option<String>,
}

pub type PassportFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<PassportProfile>, AppError>> + Send + 'a>>;

pub trait Passport: Send + Sync + 'static {
    /// The profile a code stands for; `None` for an unknown, used or expired code.
    fn redeem<'a>(&'a self, code: &'a str) -> PassportFuture<'a>;
}

pub struct EmbeddedPassport {
    pub pool: Pool,
}

/// Passport's stable, opaque id for a user: the user id is not disclosed by it.
pub fn open_id(user_id: &str) -> String {
    let digest = Sha256::digest(format!("passport-open-id:{user_id}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&digest[..20])
}

impl Passport for EmbeddedPassport {
    fn redeem<'a>(&'a self, code: &'a str) -> PassportFuture<'a> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let row = client
                .query_opt(
                    "WITH redeemed AS (DELETE FROM passport_codes WHERE code_sha256 = $1 RETURNING user_id, expires_at) \
                     SELECT u.user_id, u.email, u.first_name, u.last_name, u.mobile FROM redeemed r \
                     JOIN users u ON u.user_id = r.user_id WHERE r.expires_at > now() AND NOT u.disabled",
                    &[&sha256_hex(code)],
                )
                .await?;
            Ok(row.map(|row| {
                let user_id: String = row.get(0);
                PassportProfile {
                    open_id: open_id(&user_id),
                    user_id,
                    email: row.get(1),
                    first_name: row.get(2),
                    last_name: row.get(3),
                    mobile: row.get(4),
                }
            }))
        })
    }
}
