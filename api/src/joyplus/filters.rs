//! The seed's list filters, parsed once: ids are numbers, addresses start with 0x (any case),
//! symbols are asset codes. A malformed filter is a 400, not an empty list.

use domain::joyplus::EthAddress;
use domain::AssetCode;
use rust_decimal::Decimal;

use super::wire::JoyError;

pub fn id_filter(text: Option<&str>, name: &str) -> Result<Option<i64>, JoyError> {
    match text {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| JoyError::bad_request(format!("{name} must be a number"))),
    }
}

/// An address filter, lower case (how addresses are indexed).
pub fn address_filter(text: Option<&str>, name: &str) -> Result<Option<String>, JoyError> {
    match text {
        None | Some("") => Ok(None),
        Some(text) => EthAddress::parse(&text.to_lowercase())
            .map(|address| Some(address.lowercase()))
            .map_err(|_| JoyError::bad_request(format!("{name} must be 0x and 40 hex digits"))),
    }
}

pub fn symbol_filter(text: Option<&str>) -> Result<Option<String>, JoyError> {
    match text {
        None | Some("") => Ok(None),
        Some(text) => AssetCode::parse(text)
            .map(|code| Some(code.to_string()))
            .map_err(|_| JoyError::bad_request("symbol is not an asset code")),
    }
}

pub fn text_filter(text: Option<&str>) -> Option<String> {
    text.filter(|text| !text.is_empty()).map(str::to_string)
}

/// A required address field, lower case.
pub fn required_address(text: &str, name: &str) -> Result<String, JoyError> {
    address_filter(Some(text), name)?.ok_or_else(|| JoyError::bad_request(format!("{name} is required")))
}

/// A required symbol field.
pub fn required_symbol(text: &str) -> Result<String, JoyError> {
    symbol_filter(Some(text))?.ok_or_else(|| JoyError::bad_request("symbol is required"))
}

/// Longest decimal text accepted for an amount.
const MAX_AMOUNT_TEXT_LEN: usize = 64;

/// A plain decimal (`"1"`, `"0.5"`): no sign, no exponent. Range and scale are the
/// account's to check.
pub fn parse_value(text: &str, name: &str) -> Result<Decimal, JoyError> {
    let plain =
        !text.is_empty() && text.len() <= MAX_AMOUNT_TEXT_LEN && text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let well_formed = plain && text.bytes().filter(|b| *b == b'.').count() <= 1 && text != ".";
    if !well_formed {
        return Err(JoyError::bad_request(format!("{name} must be a decimal number such as \"1.5\"")));
    }
    // Well-formed, yet past what a decimal holds: the same refusal as an amount past the asset.
    Decimal::from_str_exact(text).map_err(|_| domain::DomainError::AmountOutOfRange.into())
}

pub fn txid_filter(text: Option<&str>) -> Result<Option<String>, JoyError> {
    const TXID_HEX_DIGITS: usize = 64;
    match text {
        None | Some("") => Ok(None),
        Some(text) => {
            let lower = text.to_lowercase();
            let valid = lower
                .strip_prefix("0x")
                .is_some_and(|digits| digits.len() == TXID_HEX_DIGITS && digits.bytes().all(|b| b.is_ascii_hexdigit()));
            valid.then_some(Some(lower)).ok_or_else(|| JoyError::bad_request("txid must be 0x and 64 hex digits"))
        }
    }
}
