//! JSON integers as JSON Schema counts them: `2` and `2.0` alike (a fraction is refused), so
//! a body the OpenAPI document calls valid is never refused for spelling a whole number with
//! a point.

use serde::{Deserialize, Deserializer};

fn integral<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i128, D::Error> {
    use serde::de::Error;
    let number = serde_json::Number::deserialize(deserializer)?;
    let integral = number.as_i64().map(i128::from).or_else(|| number.as_u64().map(i128::from)).or_else(|| {
        // Only whole values within i64 come this way, so the cast below is exact.
        number.as_f64().filter(|value| value.fract() == 0.0 && value.abs() <= 9.0e15).map(|value| value as i128)
    });
    integral.ok_or_else(|| D::Error::custom(format!("{number} is not a whole number")))
}

pub fn u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    use serde::de::Error;
    let value = integral(deserializer)?;
    u32::try_from(value).map_err(|_| D::Error::custom(format!("{value} is not from 0 to {}", u32::MAX)))
}

pub fn i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    use serde::de::Error;
    let value = integral(deserializer)?;
    i64::try_from(value).map_err(|_| D::Error::custom(format!("{value} is out of range")))
}
