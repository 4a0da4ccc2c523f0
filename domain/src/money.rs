//! Money: asset codes, scales and bounded, exact amounts. Never a float.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::limits::{MAX_ASSET_CODE_LEN, MAX_ASSET_SCALE, MAX_MINOR_UNITS};

/// An asset's code, such as `BTC` or `JUSD`: 2 to 12 characters of `A-Z0-9`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AssetCode(String);

impl AssetCode {
    pub fn parse(code: &str) -> Result<Self, DomainError> {
        let valid_length = (2..=MAX_ASSET_CODE_LEN).contains(&code.len());
        let valid_chars = code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if valid_length && valid_chars {
            Ok(Self(code.to_string()))
        } else {
            Err(DomainError::AssetCodeInvalid)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AssetCode {
    type Error = DomainError;
    fn try_from(code: String) -> Result<Self, Self::Error> {
        Self::parse(&code)
    }
}

impl From<AssetCode> for String {
    fn from(code: AssetCode) -> Self {
        code.0
    }
}

impl fmt::Display for AssetCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How many decimals an asset has (BTC 8, GDD 4, JOY 18). Fixed when the asset is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Scale(u32);

impl Scale {
    pub fn new(decimals: u32) -> Result<Self, DomainError> {
        if decimals <= MAX_ASSET_SCALE {
            Ok(Self(decimals))
        } else {
            Err(DomainError::AssetScaleInvalid)
        }
    }

    pub fn decimals(self) -> u32 {
        self.0
    }

    /// The largest value an amount of this scale may take: `MAX_MINOR_UNITS` minor units.
    fn max_value(self) -> Decimal {
        let minor_units = i128::try_from(MAX_MINOR_UNITS).expect("limit fits in i128");
        Decimal::from_i128_with_scale(minor_units, self.0)
    }
}

impl TryFrom<u32> for Scale {
    type Error = DomainError;
    fn try_from(decimals: u32) -> Result<Self, Self::Error> {
        Self::new(decimals)
    }
}

impl From<Scale> for u32 {
    fn from(scale: Scale) -> Self {
        scale.0
    }
}

/// A non-negative quantity of one asset, exact, bounded by `MAX_MINOR_UNITS` and always
/// carried at exactly its asset's scale, so its text form is stable (`"2.50000000"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amount(#[serde(with = "rust_decimal::serde::str")] Decimal);

impl Amount {
    pub fn zero(scale: Scale) -> Self {
        Self(Decimal::new(0, scale.decimals()))
    }

    /// Parses a positive amount from its decimal text, refusing anything the asset cannot hold.
    pub fn parse_positive(text: &str, scale: Scale) -> Result<Self, DomainError> {
        let value = parse_decimal(text)?;
        Self::positive(value, scale)
    }

    /// Validates a decimal value as a positive amount of an asset with `scale` decimals.
    pub fn positive(value: Decimal, scale: Scale) -> Result<Self, DomainError> {
        if value.is_sign_negative() || value.is_zero() {
            return Err(DomainError::AmountNotPositive);
        }
        Self::bounded(value, scale)
    }

    fn bounded(value: Decimal, scale: Scale) -> Result<Self, DomainError> {
        let normalized = value.normalize();
        if normalized.scale() > scale.decimals() {
            return Err(DomainError::AmountTooPrecise { max_decimals: scale.decimals() });
        }
        if value > scale.max_value() {
            return Err(DomainError::AmountOutOfRange);
        }
        let mut exact = normalized;
        exact.rescale(scale.decimals());
        debug_assert_eq!(exact, value, "rescaling a bounded value never rounds");
        Ok(Self(exact))
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// `self + other`, refusing a result above the balance limit.
    pub fn checked_add(self, other: Amount, scale: Scale) -> Result<Amount, DomainError> {
        let sum = self.0.checked_add(other.0).ok_or(DomainError::BalanceLimitExceeded)?;
        if sum > scale.max_value() {
            return Err(DomainError::BalanceLimitExceeded);
        }
        Self::bounded(sum, scale).map_err(|_| DomainError::BalanceLimitExceeded)
    }

    /// `self - other`, or `None` when the result would be negative.
    pub fn checked_sub(self, other: Amount, scale: Scale) -> Option<Amount> {
        let difference = self.0.checked_sub(other.0)?;
        if difference.is_sign_negative() && !difference.is_zero() {
            return None;
        }
        Self::bounded(difference.abs(), scale).ok()
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Strict decimal text: an optional leading `-`, digits, at most one point. No exponent,
/// no spaces, no `+`. Well-formed text rust_decimal still refuses can only be too large.
fn parse_decimal(text: &str) -> Result<Decimal, DomainError> {
    const MAX_AMOUNT_TEXT_LEN: usize = 64;
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    // Digits, and at most one point with digits on both sides: ".5" and "5." are refused.
    let well_formed = text.len() <= MAX_AMOUNT_TEXT_LEN
        && match unsigned.split_once('.') {
            Some((whole, fraction)) => digits(whole) && digits(fraction),
            None => digits(unsigned),
        };
    if !well_formed {
        return Err(DomainError::AmountMalformed);
    }
    Decimal::from_str(text).map_err(|_| DomainError::AmountOutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn btc() -> Scale {
        Scale::new(8).unwrap()
    }

    #[test]
    fn an_amount_is_carried_at_exactly_its_asset_scale() {
        let amount = Amount::parse_positive("2.5", btc()).unwrap();
        assert_eq!(amount.to_string(), "2.50000000");
    }

    #[test]
    fn more_decimals_than_the_asset_allows_is_refused() {
        assert_eq!(
            Amount::parse_positive("0.000000001", btc()),
            Err(DomainError::AmountTooPrecise { max_decimals: 8 })
        );
        assert!(Amount::parse_positive("0.000000010", btc()).is_ok(), "trailing zeros are fine");
    }

    #[test]
    fn zero_negative_and_garbage_are_refused() {
        assert_eq!(Amount::parse_positive("0", btc()), Err(DomainError::AmountNotPositive));
        assert_eq!(Amount::parse_positive("-1", btc()), Err(DomainError::AmountNotPositive));
        assert_eq!(Amount::parse_positive("1e5", btc()), Err(DomainError::AmountMalformed));
        assert_eq!(Amount::parse_positive("", btc()), Err(DomainError::AmountMalformed));
        assert_eq!(Amount::parse_positive("1.2.3", btc()), Err(DomainError::AmountMalformed));
        assert_eq!(Amount::parse_positive(" 1", btc()), Err(DomainError::AmountMalformed));
        assert_eq!(Amount::parse_positive(".5", btc()), Err(DomainError::AmountMalformed));
        assert_eq!(Amount::parse_positive("5.", btc()), Err(DomainError::AmountMalformed));
        assert_eq!(Amount::parse_positive("-.5", btc()), Err(DomainError::AmountMalformed));
        assert_eq!(Amount::parse_positive("0.5", btc()).map(|amount| amount.to_string()), Ok("0.50000000".into()));
    }

    #[test]
    fn values_beyond_the_limit_are_out_of_range() {
        let joy = Scale::new(18).unwrap();
        assert_eq!(Amount::parse_positive("1000000000.000000000000000001", joy), Err(DomainError::AmountOutOfRange));
        assert_eq!(
            Amount::parse_positive("99999999999999999999999999999999", btc()),
            Err(DomainError::AmountOutOfRange)
        );
    }

    #[test]
    fn adding_past_the_balance_limit_is_an_error_not_a_panic() {
        let joy = Scale::new(18).unwrap();
        let max = Amount::parse_positive("1000000000", joy).unwrap();
        let tiny = Amount::parse_positive("0.000000000000000001", joy).unwrap();
        assert_eq!(max.checked_add(tiny, joy), Err(DomainError::BalanceLimitExceeded));
        assert_eq!(tiny.checked_sub(max, joy), None);
        assert_eq!(max.checked_sub(max, joy), Some(Amount::zero(joy)));
    }

    #[test]
    fn asset_codes_are_short_upper_case_words() {
        assert!(AssetCode::parse("JUSD").is_ok());
        assert!(AssetCode::parse("btc").is_err());
        assert!(AssetCode::parse("B").is_err());
        assert!(AssetCode::parse("ABCDEFGHIJKLM").is_err());
    }
}
