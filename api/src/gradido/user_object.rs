//! The user object of the login server's answers (`login`, `unsecureLogin`, `createUser`,
//! `getUsers`, `loginViaEmailVerificationCode`), in the types its clients read.

use projections::read_models::users::UserRow;
use serde_json::{json, Value};

/// The language a user without one is shown in, as the original server defaulted.
pub const DEFAULT_LANGUAGE: &str = "de";
/// The languages the original server knew.
pub const LANGUAGES: [&str; 2] = ["de", "en"];

pub fn user_json(user: &UserRow) -> Value {
    let mut object = json!({
        "first_name": user.first_name.clone().unwrap_or_default(),
        "last_name": user.last_name.clone().unwrap_or_default(),
        "email": user.email,
        "username": chosen_username(user),
        "description": user.description.clone().unwrap_or_default(),
        "created": user.created_at.timestamp(),
        "email_checked": user.email_checked,
        "ident_hash": ident_hash(&user.email),
        "language": user.language.as_deref().unwrap_or(DEFAULT_LANGUAGE),
        "disabled": user.disabled,
        "role": user.role.as_deref().unwrap_or("none"),
    });
    if let Some(alias) = &user.group_alias {
        object["group_alias"] = json!(alias);
    }
    if let Some(public_hex) = &user.public_hex {
        object["public_hex"] = json!(public_hex);
    }
    object
}

/// The login server's 32-bit string hash of an e-mail address (rotate left by 7, add the
/// next byte as a signed char), which its clients use to identify a user.
pub fn ident_hash(email: &str) -> u32 {
    email.bytes().fold(0_u32, |hash, byte| hash.rotate_left(7).wrapping_add_signed(i32::from(byte as i8)))
}

/// The username a Gradido sign-up without one gets: the ledger needs a username for every
/// user, and one derived from the whole address cannot collide with another address's.
pub fn generated_username(email: &str) -> String {
    use sha2::{Digest, Sha256};
    let local: String = email
        .split('@')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(40)
        .collect();
    let digest = hex::encode(Sha256::digest(email.to_lowercase().as_bytes()));
    format!("{local}-{}", &digest[..GENERATED_SUFFIX_HEX_LEN])
}

const GENERATED_SUFFIX_HEX_LEN: usize = 8;

/// The username the user chose: empty while they have only the generated one, as the
/// original showed a user who had not set one.
pub fn chosen_username(user: &UserRow) -> &str {
    if user.username == generated_username(&user.email) {
        ""
    } else {
        &user.username
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ident_hash_rotates_and_adds_each_byte() {
        assert_eq!(ident_hash(""), 0);
        assert_eq!(ident_hash("a"), 97);
        assert_eq!(ident_hash("ab"), (97_u32 << 7) + 98);
        // A byte above 127 counts as a negative char.
        assert_eq!(
            ident_hash("\u{e9}"),
            0xc3_u32.wrapping_sub(256).rotate_left(7).wrapping_add_signed(0xa9_u8 as i8 as i32)
        );
    }

    #[test]
    fn a_generated_username_is_valid_and_differs_between_domains() {
        let one = generated_username("bob@one.example");
        let two = generated_username("bob@two.example");
        assert_ne!(one, two);
        assert!(one.starts_with("bob-"));
        assert!(domain::user::validate_username(&one).is_ok());
    }
}
