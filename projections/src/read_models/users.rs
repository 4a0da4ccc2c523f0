use deadpool_postgres::Transaction;
use domain::user::{Role, UserEvent};

use super::execute;
use crate::engine::EventProjector;
use crate::error::ProjectionError;
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

    async fn handle(&self, tx: &Transaction<'_>, event: &StoredEvent) -> Result<(), ProjectionError> {
        if event.aggregate_type != "user" {
            return Ok(());
        }
        let (column, value): (&str, Box<dyn tokio_postgres::types::ToSql + Sync + Send>) = match event.decode()? {
            UserEvent::UserRegistered { user_id, email, username, first_name, last_name, password_hash, role } => {
                let role = role.map(|Role::Admin| "admin");
                execute(
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
                execute(
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
        execute(tx, &sql, &[&event.aggregate_id, &*value, &event.tx_id, &event.position]).await?;
        Ok(())
    }
}
