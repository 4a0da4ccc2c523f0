//! The user aggregate, shared by every dialect: the same person logs into each wallet.
//! Passwords arrive already hashed (argon2, in the api layer); the domain never sees them.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::account::check_text;
use crate::error::DomainError;
use crate::limits::{MAX_EMAIL_LEN, MAX_NAME_LEN, MAX_USERNAME_LEN};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    registered: Option<RegisteredUser>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredUser {
    pub user_id: String,
    pub email: String,
    pub username: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Option<Role>,
    pub public_hex: Option<String>,
    pub group_alias: Option<String>,
    pub disabled: bool,
    pub email_checked: bool,
    pub description: Option<String>,
    pub language: Option<String>,
}

/// Profile fields a user may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub description: Option<String>,
    pub language: Option<String>,
}

/// The units a wallet may show BTC amounts in.
pub const DENOMINATIONS: [&str; 4] = ["BTC", "mBTC", "bits", "sat"];

/// Longest profile description, in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 2_000;
/// Language tags such as `de` or `en-GB`.
const MAX_LANGUAGE_LEN: usize = 16;

impl ProfileChanges {
    fn validate(&self) -> Result<(), DomainError> {
        check_text("first_name", &self.first_name, MAX_NAME_LEN)?;
        check_text("last_name", &self.last_name, MAX_NAME_LEN)?;
        check_text("description", &self.description, MAX_DESCRIPTION_LEN)?;
        check_text("language", &self.language, MAX_LANGUAGE_LEN)?;
        if let Some(username) = &self.username {
            validate_username(username)?;
        }
        Ok(())
    }

    fn apply_to(self, user: &mut RegisteredUser) {
        let keep_or = |new: Option<String>, old: &mut Option<String>| {
            if new.is_some() {
                *old = new;
            }
        };
        keep_or(self.first_name, &mut user.first_name);
        keep_or(self.last_name, &mut user.last_name);
        keep_or(self.description, &mut user.description);
        keep_or(self.language, &mut user.language);
        if let Some(username) = self.username {
            user.username = username;
        }
    }
}

impl User {
    pub fn registered(&self) -> Option<&RegisteredUser> {
        self.registered.as_ref()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum UserCommand {
    SetDisabled {
        disabled: bool,
    },
    /// The unit the Lightning wallet shows amounts in: `BTC`, `mBTC`, `bits` or `sat`.
    SetDenomination {
        denomination: String,
    },
    VerifyEmail,
    UpdateProfile {
        changes: ProfileChanges,
    },
    ChangePassword {
        password_hash: String,
    },
    /// Records the public half of the user's ed25519 key pair (once).
    AssignKey {
        public_hex: String,
    },
    JoinGroup {
        group_alias: String,
    },
    /// The mobile number SMS verification codes go to.
    SetMobile {
        mobile: String,
    },
    Register {
        user_id: String,
        email: String,
        username: String,
        first_name: Option<String>,
        last_name: Option<String>,
        password_hash: String,
        role: Option<Role>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum UserEvent {
    UserDisabledChanged {
        disabled: bool,
    },
    UserEmailVerified,
    UserDenominationChanged {
        denomination: String,
    },
    UserProfileUpdated {
        changes: ProfileChanges,
    },
    UserPasswordChanged {
        password_hash: String,
    },
    UserKeyAssigned {
        public_hex: String,
    },
    UserJoinedGroup {
        group_alias: String,
    },
    UserMobileChanged {
        mobile: String,
    },
    UserRegistered {
        user_id: String,
        email: String,
        username: String,
        first_name: Option<String>,
        last_name: Option<String>,
        password_hash: String,
        role: Option<Role>,
    },
}

impl DomainEvent for UserEvent {
    fn event_type(&self) -> String {
        match self {
            Self::UserRegistered { .. } => "UserRegistered",
            Self::UserKeyAssigned { .. } => "UserKeyAssigned",
            Self::UserJoinedGroup { .. } => "UserJoinedGroup",
            Self::UserMobileChanged { .. } => "UserMobileChanged",
            Self::UserDisabledChanged { .. } => "UserDisabledChanged",
            Self::UserEmailVerified => "UserEmailVerified",
            Self::UserDenominationChanged { .. } => "UserDenominationChanged",
            Self::UserProfileUpdated { .. } => "UserProfileUpdated",
            Self::UserPasswordChanged { .. } => "UserPasswordChanged",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        "1".to_string()
    }
}

/// A plausible e-mail address: one `@`, something on both sides, a dot in the domain.
pub fn validate_email(email: &str) -> Result<(), DomainError> {
    // Whitespace, control characters and a byte-order mark never belong in an address.
    let stray = |c: char| c.is_whitespace() || c.is_control() || c == '\u{feff}';
    let plausible = email.chars().count() <= MAX_EMAIL_LEN
        && !email.chars().any(stray)
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'));
    plausible.then_some(()).ok_or(DomainError::EmailInvalid)
}

/// Shortest and longest mobile number, in digits (E.164 allows 15).
const MOBILE_DIGITS: std::ops::RangeInclusive<usize> = 4..=15;

/// Digits, optionally after a `+`.
pub fn validate_mobile(mobile: &str) -> Result<(), DomainError> {
    let digits = mobile.strip_prefix('+').unwrap_or(mobile);
    let valid = MOBILE_DIGITS.contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    valid.then_some(()).ok_or(DomainError::MobileInvalid)
}

pub fn validate_username(username: &str) -> Result<(), DomainError> {
    let valid = (1..=MAX_USERNAME_LEN).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    valid.then_some(()).ok_or(DomainError::UsernameInvalid)
}

impl Aggregate for User {
    const TYPE: &'static str = "user";
    type Command = UserCommand;
    type Event = UserEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(&mut self, command: UserCommand, _: &(), sink: &EventSink<Self>) -> Result<(), DomainError> {
        let registered = self.registered.as_ref();
        let event = match command {
            UserCommand::AssignKey { public_hex } => match registered {
                None => return Err(DomainError::UserNotRegistered),
                Some(user) if user.public_hex.is_some() => return Ok(()),
                Some(_) => UserEvent::UserKeyAssigned { public_hex },
            },
            UserCommand::JoinGroup { group_alias } => match registered {
                None => return Err(DomainError::UserNotRegistered),
                Some(user) if user.group_alias.as_deref() == Some(group_alias.as_str()) => return Ok(()),
                Some(_) => UserEvent::UserJoinedGroup { group_alias },
            },
            UserCommand::SetMobile { mobile } => {
                registered.ok_or(DomainError::UserNotRegistered)?;
                validate_mobile(&mobile)?;
                UserEvent::UserMobileChanged { mobile }
            }
            UserCommand::SetDisabled { disabled } => match registered {
                None => return Err(DomainError::UserNotRegistered),
                Some(user) if user.disabled == disabled => return Ok(()),
                Some(_) => UserEvent::UserDisabledChanged { disabled },
            },
            UserCommand::SetDenomination { denomination } => {
                registered.ok_or(DomainError::UserNotRegistered)?;
                if !DENOMINATIONS.contains(&denomination.as_str()) {
                    return Err(DomainError::DenominationUnknown(denomination));
                }
                UserEvent::UserDenominationChanged { denomination }
            }
            UserCommand::VerifyEmail => match registered {
                None => return Err(DomainError::UserNotRegistered),
                Some(user) if user.email_checked => return Ok(()),
                Some(_) => UserEvent::UserEmailVerified,
            },
            UserCommand::UpdateProfile { changes } => {
                registered.ok_or(DomainError::UserNotRegistered)?;
                changes.validate()?;
                UserEvent::UserProfileUpdated { changes }
            }
            UserCommand::ChangePassword { password_hash } => {
                registered.ok_or(DomainError::UserNotRegistered)?;
                UserEvent::UserPasswordChanged { password_hash }
            }
            UserCommand::Register { user_id, email, username, first_name, last_name, password_hash, role } => {
                if registered.is_some() {
                    return Err(DomainError::UserAlreadyRegistered);
                }
                validate_email(&email)?;
                validate_username(&username)?;
                check_text("first_name", &first_name, MAX_NAME_LEN)?;
                check_text("last_name", &last_name, MAX_NAME_LEN)?;
                UserEvent::UserRegistered { user_id, email, username, first_name, last_name, password_hash, role }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: UserEvent) {
        match (event, &mut self.registered) {
            (UserEvent::UserRegistered { user_id, email, username, first_name, last_name, role, .. }, _) => {
                self.registered = Some(RegisteredUser {
                    user_id,
                    email,
                    username,
                    first_name,
                    last_name,
                    role,
                    public_hex: None,
                    group_alias: None,
                    disabled: false,
                    email_checked: false,
                    description: None,
                    language: None,
                });
            }
            (UserEvent::UserKeyAssigned { public_hex }, Some(user)) => user.public_hex = Some(public_hex),
            (UserEvent::UserJoinedGroup { group_alias }, Some(user)) => user.group_alias = Some(group_alias),
            (UserEvent::UserDisabledChanged { disabled }, Some(user)) => user.disabled = disabled,
            (UserEvent::UserEmailVerified, Some(user)) => user.email_checked = true,
            (UserEvent::UserDenominationChanged { .. } | UserEvent::UserMobileChanged { .. }, Some(_)) => {}
            (UserEvent::UserProfileUpdated { changes }, Some(user)) => changes.apply_to(user),
            (UserEvent::UserPasswordChanged { .. }, Some(_)) => {}
            (_, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_are_checked_for_shape() {
        assert!(validate_email("alice@example.com").is_ok());
        assert!(validate_email("alice@localhost").is_err());
        assert!(validate_email("@example.com").is_err());
        assert!(validate_email("a b@example.com").is_err());
    }

    #[test]
    fn usernames_are_short_plain_words() {
        assert!(validate_username("alice_1").is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username("alice smith").is_err());
    }
}
