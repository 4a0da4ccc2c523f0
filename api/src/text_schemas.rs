//! The text shapes several routes share, each stated once for the OpenAPI document (utoipa's
//! `pattern` takes only a literal, so a shared rule is a schema type of its own).

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

macro_rules! text_schema {
    ($(#[$doc:meta])* $name:ident, $pattern:literal, $max_length:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new().schema_type(Type::String).pattern(Some($pattern)).max_length($max_length).into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

text_schema!(
    /// A native account id: 1 to 128 of `A-Za-z0-9._:-` (system ids such as `world:BTC` too).
    AccountId,
    r"^[A-Za-z0-9._:-]{1,128}$",
    None
);
text_schema!(
    /// 1 to 255 visible ASCII characters.
    IdempotencyKey,
    r"^[!-~]{1,255}$",
    None
);
text_schema!(
    /// A native amount: digits, optionally a point and digits; not zero.
    NativeAmount,
    r"^[0-9]*[1-9][0-9]*(\.[0-9]+)?$|^[0-9]+\.[0-9]*[1-9][0-9]*$",
    Some(64)
);
text_schema!(
    /// A Joy Plus amount: digits with at most one point; not zero.
    JoyAmount,
    r"^(?=[0-9.]*[1-9])([0-9]+\.?[0-9]*|\.[0-9]+)$",
    Some(64)
);
text_schema!(
    /// An e-mail address: one `@`, a dot after it, no whitespace or control characters.
    Email,
    r"^[^@\s\x00-\x1f\x7f-\x9f\ufeff]+@[^@\s\x00-\x1f\x7f-\x9f\ufeff]*\.[^@\s\x00-\x1f\x7f-\x9f\ufeff]*$",
    Some(254)
);
