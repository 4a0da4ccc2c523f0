//! Cookies, and the token helpers the dialects share (from `app::tokens`).

use axum::http::header::COOKIE;
use axum::http::request::Parts;

pub use app::tokens::{random_token, sha256_hex};

/// How session cookies are marked: `Secure` whenever clients reach the service over HTTPS
/// (`--secure-cookies`: TLS at a proxy in front of it).
#[derive(Debug, Clone, Copy, Default)]
pub struct CookiePolicy {
    pub secure: bool,
}

impl CookiePolicy {
    /// A session cookie: HttpOnly, SameSite=Strict, Secure under HTTPS.
    pub fn session(&self, name: &str, value: &str, path: &str) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict{secure}")
    }

    /// The same cookie, expired.
    pub fn cleared(&self, name: &str, path: &str) -> String {
        format!("{}; Max-Age=0", self.session(name, "", path))
    }
}

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
