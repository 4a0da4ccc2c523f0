//! What every sign-in entry point shares: where the client is, and the throttle.

use std::net::IpAddr;

use super::address::{client_address, TrustedProxies};
use super::throttle::{Attempt, SignInThrottle, ThrottleSettings, Throttled};
use crate::error::AppError;

pub struct CredentialGuard {
    throttle: SignInThrottle,
    proxies: TrustedProxies,
}

impl CredentialGuard {
    pub fn new(settings: ThrottleSettings, proxies: TrustedProxies) -> Self {
        Self { throttle: SignInThrottle::new(settings), proxies }
    }

    /// The address a request counts under: its peer, or behind a trusted proxy the client
    /// `X-Forwarded-For` names.
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        client_address(peer, forwarded_for, &self.proxies)
    }

    /// Begins an attempt, or refuses it with `AppError::Throttled` while `account` or
    /// `address` cools down.
    pub fn begin(&self, dialect: &'static str, account: &str, address: IpAddr) -> Result<Attempt<'_>, AppError> {
        Ok(self.throttle.begin(dialect, account, address)?)
    }

    /// Refuses at once while `address` cools down, before any lookup.
    pub fn check_address(&self, dialect: &'static str, address: IpAddr) -> Result<(), AppError> {
        Ok(self.throttle.check_address(dialect, address)?)
    }

    /// Begins an attempt counted against `address` only (see `SignInThrottle::begin_from`).
    pub fn begin_from(&self, dialect: &'static str, address: IpAddr) -> Result<Attempt<'_>, AppError> {
        Ok(self.throttle.begin_from(dialect, address)?)
    }
}

impl From<Throttled> for AppError {
    fn from(throttled: Throttled) -> Self {
        Self::Throttled { retry_after_seconds: throttled.retry_after_seconds() }
    }
}
