//! Credentials under attack: password hashing on a bounded pool, and throttling of every
//! password and one-time-code entry point, per account and per client address
//! (docs/adr/0015-sign-in-throttling.md).

mod address;
mod guard;
mod passwords;
mod throttle;

pub use address::{client_address, TrustedProxies};
pub use guard::CredentialGuard;
pub use passwords::{hash_password, verify_password, verify_password_or_dummy};
pub use throttle::{Attempt, SignInThrottle, ThrottleSettings, Throttled};
