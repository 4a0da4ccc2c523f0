//! Argon2 hashing and verification, on at most one blocking thread per core: argon2 is
//! deliberately expensive, so a flood of login attempts queues behind itself here instead of
//! taking every core from payments.

use std::sync::LazyLock;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::Semaphore;

use crate::error::AppError;

/// Hashings and verifications at once: half the cores (at least one), so a flood of
/// guesses can never take more than half the machine from payments.
pub const HASHING_SHARE_OF_CORES: usize = 2;
static HASHING_PERMITS: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    Semaphore::new((cores / HASHING_SHARE_OF_CORES).max(1))
});

/// A hash of a password nobody has, verified when the user does not exist, so an unknown
/// user costs the same time as a wrong password (no user enumeration by timing).
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking("not the password of anyone").unwrap_or_else(|_| String::new()));

fn hash_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AppError::Internal(format!("password hashing: {error}")))
}

fn verify_blocking(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

async fn bounded<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    let _permit = HASHING_PERMITS.acquire().await.map_err(|error| AppError::Internal(error.to_string()))?;
    tokio::task::spawn_blocking(work).await.map_err(|error| AppError::Internal(error.to_string()))
}

/// An argon2 PHC string of `password`.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    bounded(move || hash_blocking(&password)).await?
}

/// Whether `password` matches the stored argon2 hash.
pub async fn verify_password(hash: String, password: String) -> bool {
    bounded(move || verify_blocking(&hash, &password)).await.unwrap_or(false)
}

/// As `verify_password`, and as slow when there is no user (`None`): then always false.
pub async fn verify_password_or_dummy(hash: Option<String>, password: String) -> bool {
    let exists = hash.is_some();
    let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
    let matches = verify_password(hash, password).await;
    exists && matches
}
