//! Registering users: the shared identity every dialect logs in with.

use domain::claim::{claim_id, ClaimCommand};
use domain::user::{validate_email, validate_username, Role, UserCommand};
use serde::Serialize;

use crate::credentials::{hash_password, verify_password_or_dummy, CredentialGuard};
use crate::error::AppError;
use crate::ledger::Ledger;
use projections::read_models::users::{self, UserKey};
use store::{ids, Operation};

/// Longest password accepted: argon2 cost grows with input, so bound it.
pub const MAX_PASSWORD_LEN: usize = 1_024;
pub const MIN_PASSWORD_LEN: usize = 8;

/// Whether a new password has an accepted length (`MIN_PASSWORD_LEN` to `MAX_PASSWORD_LEN`
/// characters, as JSON Schema's `minLength`/`maxLength` count).
pub fn password_length_is_valid(password: &str) -> bool {
    (MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&password.chars().count())
}

/// Names user ids: a user's id is derived from the e-mail it registered with, so a
/// registration retried after a crash finds its own claims instead of orphaning them.
const USER_ID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6c65_6467_6572_2d75_7365_7273_2d76_3100);

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub username: String,
    pub password: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub admin: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub username: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Option<&'static str>,
}

/// Registers a user; returns once every read model shows it (a login right after works).
pub async fn register(ledger: &Ledger, user: NewUser) -> Result<UserView, AppError> {
    let bus = &ledger.bus;
    validate_email(&user.email)?;
    validate_username(&user.username)?;
    if !password_length_is_valid(&user.password) {
        return Err(AppError::invalid(
            "invalid_password",
            format!("password must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} bytes"),
        ));
    }
    let user_id = uuid::Uuid::new_v5(&USER_ID_NAMESPACE, user.email.to_lowercase().as_bytes()).to_string();
    if bus.load::<domain::user::User>(&user_id).await?.registered().is_some() {
        return Err(AppError::Domain(domain::DomainError::UserAlreadyRegistered));
    }
    for (kind, value) in [("email", &user.email), ("username", &user.username)] {
        let command = ClaimCommand::Take { kind: kind.to_string(), owner: user_id.clone() };
        bus.execute(&claim_id(kind, value), command, &Operation::fresh()).await?;
    }
    let password_hash = hash_password(user.password.clone()).await?;
    let role = user.admin.then_some(Role::Admin);
    let command = UserCommand::Register {
        user_id: user_id.clone(),
        email: user.email.clone(),
        username: user.username.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        password_hash,
        role,
    };
    bus.execute(&user_id, command, &Operation::derived(ids::register_user(&user_id))).await?;
    let public_hex = new_public_key_hex();
    let keyed = bus
        .execute(&user_id, UserCommand::AssignKey { public_hex }, &Operation::derived(ids::assign_user_key(&user_id)))
        .await?;
    if let Some(event) = keyed.event() {
        ledger.await_read_models(event).await;
    }
    Ok(UserView {
        id: user_id,
        email: user.email,
        username: user.username,
        first_name: user.first_name,
        last_name: user.last_name,
        role: role.map(|Role::Admin| "admin"),
    })
}

/// An ed25519 key pair for the user; only its public half is kept (as `public_hex`).
/// Signing happens in the ledger (the network is simulated), so no secret key is stored.
fn new_public_key_hex() -> String {
    use rand::RngCore;
    let mut seed = [0_u8; 32];
    rand::thread_rng().fill_bytes(&mut seed);
    hex::encode(ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes())
}

/// The id of the enabled user whose username or e-mail is `login` and whose password is
/// `password`; `None` otherwise. Throttled per account and per client address; an unknown
/// user costs the same time as a wrong password.
pub async fn authenticate(
    reads: &deadpool_postgres::Pool,
    guard: &CredentialGuard,
    dialect: &'static str,
    login: &str,
    password: String,
    address: std::net::IpAddr,
) -> Result<Option<String>, AppError> {
    guard.check_address(dialect, address)?;
    let client = reads.get().await?;
    let user = users::find(&client, UserKey::Login(login)).await?;
    drop(client);
    let account = throttle_key(user.as_ref().map(|user| user.user_id.as_str()), login);
    let attempt = guard.begin(dialect, &account, address)?;
    let enabled = user.filter(|user| !user.disabled);
    let hash = enabled.as_ref().map(|user| user.password_hash.clone());
    if verify_password_or_dummy(hash, password).await {
        attempt.succeeded();
        return Ok(enabled.map(|user| user.user_id));
    }
    attempt.failed();
    Ok(None)
}

/// What an attempt is counted under: the user, or what the client typed when no user has it
/// (so guesses at unknown names are throttled too).
pub fn throttle_key(user_id: Option<&str>, typed: &str) -> String {
    user_id.map_or_else(|| format!("unknown:{}", typed.to_lowercase()), str::to_string)
}
