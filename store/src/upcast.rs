//! Upcasting: every stored event stays decodable forever. A stored event is read as its
//! `event_type` at its `event_version`; an older version is brought to the shape the code
//! reads today by the upcasters below, so old databases keep replaying and auditing.
//!
//! To change an event's shape: bump the version its `DomainEvent` impl writes, add a
//! function here that turns the previous version's payload into the new one, and list it
//! in `upcast`. Never edit a stored payload, and never change what an old version means.

use std::borrow::Cow;

use serde_json::Value;

/// The version every event is written at today.
pub const CURRENT_EVENT_VERSION: &str = "1";

/// `payload` of an event of `event_type` stored at `version`, in today's shape.
pub fn upcast<'a>(event_type: &str, version: &str, payload: &'a Value) -> Result<Cow<'a, Value>, String> {
    let current = match version {
        CURRENT_EVENT_VERSION => Cow::Borrowed(payload),
        other => return Err(format!("no upcaster from version {other} of {event_type}")),
    };
    if variant_name(&current) != Some(event_type) {
        return Err(format!("the payload is not a {event_type}"));
    }
    Ok(current)
}

/// The variant an externally tagged enum value names: `{"Variant": {...}}` or `"Variant"`.
fn variant_name(payload: &Value) -> Option<&str> {
    match payload {
        Value::String(unit) => Some(unit),
        Value::Object(map) if map.len() == 1 => map.keys().next().map(String::as_str),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_current_event_passes_unchanged() {
        let payload = json!({"FundsDeposited": {"amount": "1"}});
        assert_eq!(upcast("FundsDeposited", "1", &payload).unwrap().as_ref(), &payload);
        assert_eq!(
            upcast("UserEmailVerified", "1", &json!("UserEmailVerified")).unwrap().as_ref(),
            "UserEmailVerified"
        );
    }

    #[test]
    fn an_unknown_version_or_a_payload_of_another_type_is_refused() {
        let payload = json!({"FundsDeposited": {"amount": "1"}});
        assert!(upcast("FundsDeposited", "2", &payload).is_err());
        assert!(upcast("FundsWithdrawn", "1", &payload).is_err());
    }
}
