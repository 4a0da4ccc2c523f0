//! Cookies, and the token helpers the dialects share (from `app::tokens`).

use axum::http::header::COOKIE;
use axum::http::request::Parts;

pub use app::tokens::{random_token, sha256_hex};

/// The value of the cookie `name`, if the request carries it.
pub fn cookie_value(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value.to_string())
}
