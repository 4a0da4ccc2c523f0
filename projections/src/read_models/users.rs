use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use domain::user::{Role, UserEvent};

use crate::engine::EventProjector;
use crate::error::ProjectionError;
use crate::writes::Writes;
use store::StoredEvent;

/// `users`: every user as the dialects' logins look them up.
pub struct UsersProjector;

impl UsersProjector {
    pub const NAME: &'static str = "users";
}

impl EventProjector for UsersProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn handle(
        &self,
        tx: &impl GenericClient,
        writes: &mut Writes,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        if event.aggregate_type != "user" {
            return Ok(());
        }
        let (column, value): (&str, Box<dyn tokio_postgres::types::ToSql + Sync + Send>) = match event.decode()? {
            UserEvent::UserRegistered { user_id, email, username, first_name, last_name, password_hash, role } => {
                let role = role.map(|Role::Admin| "admin");
                writes
                    .push(
                        tx,
                        "INSERT INTO users (user_id, email, username, first_name, last_name, role, password_hash, \
                                        last_tx_id, last_position, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                        &[
                            &user_id,
                            &email,
                            &username,
                            &first_name,
                            &last_name,
                            &role,
                            &password_hash,
                            &event.tx_id,
                            &event.position,
                            &event.recorded_at,
                        ],
                    )
                    .await?;
                return Ok(());
            }
            UserEvent::UserKeyAssigned { public_hex } => ("public_hex", Box::new(public_hex)),
            UserEvent::UserJoinedGroup { group_alias } => ("group_alias", Box::new(group_alias)),
            UserEvent::UserDisabledChanged { disabled } => ("disabled", Box::new(disabled)),
            UserEvent::UserEmailVerified => ("email_checked", Box::new(true)),
            UserEvent::UserDenominationChanged { denomination } => ("denomination", Box::new(denomination)),
            UserEvent::UserMobileChanged { mobile } => ("mobile", Box::new(mobile)),
            UserEvent::UserPasswordChanged { password_hash } => ("password_hash", Box::new(password_hash)),
            UserEvent::UserProfileUpdated { changes } => {
                writes
                    .push(
                        tx,
                        "UPDATE users SET first_name = coalesce($2, first_name), last_name = coalesce($3, last_name), \
                            username = coalesce($4, username), description = coalesce($5, description), \
                            language = coalesce($6, language), last_tx_id = $7, last_position = $8 \
                     WHERE user_id = $1 AND (last_tx_id, last_position) < ($7, $8)",
                        &[
                            &event.aggregate_id,
                            &changes.first_name,
                            &changes.last_name,
                            &changes.username,
                            &changes.description,
                            &changes.language,
                            &event.tx_id,
                            &event.position,
                        ],
                    )
                    .await?;
                return Ok(());
            }
        };
        let sql = format!(
            "UPDATE users SET {column} = $2, last_tx_id = $3, last_position = $4 \
             WHERE user_id = $1 AND (last_tx_id, last_position) < ($3, $4)"
        );
        writes.push(tx, &sql, &[&event.aggregate_id, &*value, &event.tx_id, &event.position]).await?;
        Ok(())
    }
}

/// One user as the `users` table shows it. `password_hash` is an argon2 PHC string; it never
/// leaves the service.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub user_id: String,
    pub email: String,
    pub username: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Option<String>,
    pub password_hash: String,
    pub public_hex: Option<String>,
    pub group_alias: Option<String>,
    pub disabled: bool,
    pub email_checked: bool,
    pub description: Option<String>,
    pub language: Option<String>,
    pub mobile: Option<String>,
    pub denomination: String,
    pub created_at: DateTime<Utc>,
}

const USER_COLUMNS: &str = "user_id, email, username, first_name, last_name, role, password_hash, public_hex, \
     group_alias, disabled, email_checked, description, language, mobile, denomination, created_at";

fn user_row(row: &tokio_postgres::Row) -> UserRow {
    UserRow {
        user_id: row.get("user_id"),
        email: row.get("email"),
        username: row.get("username"),
        first_name: row.get("first_name"),
        last_name: row.get("last_name"),
        role: row.get("role"),
        password_hash: row.get("password_hash"),
        public_hex: row.get("public_hex"),
        group_alias: row.get("group_alias"),
        disabled: row.get("disabled"),
        email_checked: row.get("email_checked"),
        description: row.get("description"),
        language: row.get("language"),
        mobile: row.get("mobile"),
        denomination: row.get("denomination"),
        created_at: row.get("created_at"),
    }
}

/// How a user is looked up; e-mail addresses and usernames compare case-insensitively.
#[derive(Debug, Clone, Copy)]
pub enum UserKey<'a> {
    Id(&'a str),
    Email(&'a str),
    Username(&'a str),
    /// A username or an e-mail address, as a login form takes it.
    Login(&'a str),
    PublicHex(&'a str),
}

pub async fn find(client: &impl GenericClient, key: UserKey<'_>) -> Result<Option<UserRow>, ProjectionError> {
    let (condition, value) = match key {
        UserKey::Id(id) => ("user_id = $1", id),
        UserKey::Email(email) => ("lower(email) = lower($1)", email),
        UserKey::Username(username) => ("lower(username) = lower($1)", username),
        UserKey::Login(login) => ("lower(username) = lower($1) OR lower(email) = lower($1)", login),
        UserKey::PublicHex(hex) => ("public_hex = lower($1)", hex),
    };
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {condition}");
    Ok(client.query_opt(&sql, &[&value]).await?.as_ref().map(user_row))
}

/// Users whose e-mail, username, first or last name matches the `ILIKE` pattern, by username.
pub async fn search(client: &impl GenericClient, pattern: &str, limit: i64) -> Result<Vec<UserRow>, ProjectionError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users \
         WHERE email ILIKE $1 OR username ILIKE $1 OR coalesce(first_name, '') ILIKE $1 OR coalesce(last_name, '') ILIKE $1 \
         ORDER BY lower(username) LIMIT $2"
    );
    Ok(client.query(&sql, &[&pattern, &limit]).await?.iter().map(user_row).collect())
}
