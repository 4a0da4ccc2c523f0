//! Named limits of the domain. Every string, collection and number has one.

/// Largest amount, in the asset's minor units, that an amount or a user balance may hold.
/// Two such values added stay far below rust_decimal's 96-bit mantissa (about 7.9e28), so
/// arithmetic on bounded values is always exact and an overflow is always detected.
pub const MAX_MINOR_UNITS: u128 = 1_000_000_000_000_000_000_000_000_000; // 10^27

/// Largest number of decimals an asset may have (JOY and JUSD use all of them).
pub const MAX_ASSET_SCALE: u32 = 18;

/// Longest account id, asset code, owner, purpose, reference or memo, in bytes.
pub const MAX_ACCOUNT_ID_LEN: usize = 128;
pub const MAX_ASSET_CODE_LEN: usize = 12;
pub const MAX_LABEL_LEN: usize = 128;
pub const MAX_MEMO_LEN: usize = 512;

/// Active holds one account may carry at once; keeps the aggregate state bounded.
pub const MAX_ACTIVE_HOLDS_PER_ACCOUNT: usize = 1_000;

/// Longest e-mail address and username a user may register with.
pub const MAX_EMAIL_LEN: usize = 254;
pub const MAX_USERNAME_LEN: usize = 64;
pub const MAX_NAME_LEN: usize = 128;
