//! Throttling of guesses. Each account and each client address counts its failed attempts
//! in a window; at the limit it cools down, refusing every attempt (the right password too,
//! or the limit would teach an attacker which guess was right) for a time that doubles with
//! each further cool-down, up to a cap. Nothing is locked forever: the cool-down ends, and
//! after a long quiet the doubling starts over. A success resets the account, not the
//! address: otherwise an attacker could reset its address with an account of its own.
//!
//! State is per process and bounded (least recently used records go first); several
//! servers behind one balancer each count on their own.

use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use lru::LruCache;
use sha2::{Digest, Sha256};
use tracing::warn;

/// Accounts and addresses remembered at once; the least recently seen are forgotten first.
pub const MAX_TRACKED_KEYS: usize = 100_000;

#[derive(Debug, Clone)]
pub struct ThrottleSettings {
    /// Failures of one account within `window` before it cools down.
    pub max_account_failures: u32,
    /// Failures from one client address (over all accounts) within `window`.
    pub max_address_failures: u32,
    pub window: Duration,
    pub first_cooldown: Duration,
    pub max_cooldown: Duration,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            max_account_failures: 5,
            max_address_failures: 20,
            window: Duration::from_secs(15 * 60),
            first_cooldown: Duration::from_secs(30),
            max_cooldown: Duration::from_secs(15 * 60),
        }
    }
}

/// Refused without looking at the credentials; retry after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

impl Throttled {
    /// Whole seconds, at least one, for `Retry-After` and messages.
    pub fn retry_after_seconds(&self) -> u64 {
        self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0)
    }
}

#[derive(Debug, Clone)]
struct Record {
    failures: u32,
    window_started: Instant,
    cooldowns: u32,
    cooling_until: Option<Instant>,
    last_failure: Instant,
}

impl Record {
    fn new(now: Instant) -> Self {
        Self { failures: 0, window_started: now, cooldowns: 0, cooling_until: None, last_failure: now }
    }

    fn cooling(&self, now: Instant) -> Option<Throttled> {
        self.cooling_until.filter(|until| *until > now).map(|until| Throttled { retry_after: until - now })
    }

    /// Counts a failure; answers the cool-down it started, if it started one.
    fn fail(&mut self, now: Instant, limit: u32, settings: &ThrottleSettings) -> Option<Duration> {
        if now.duration_since(self.last_failure) > settings.max_cooldown * 4 {
            self.cooldowns = 0;
        }
        if now.duration_since(self.window_started) > settings.window {
            self.failures = 0;
            self.window_started = now;
        }
        self.last_failure = now;
        self.failures += 1;
        if self.failures < limit {
            return None;
        }
        let doubling = 2_u32.saturating_pow(self.cooldowns.min(16));
        let cooldown = settings.first_cooldown.saturating_mul(doubling).min(settings.max_cooldown);
        self.cooldowns = self.cooldowns.saturating_add(1);
        self.failures = 0;
        self.window_started = now;
        self.cooling_until = Some(now + cooldown);
        Some(cooldown)
    }
}

pub struct SignInThrottle {
    settings: ThrottleSettings,
    accounts: Mutex<LruCache<String, Record>>,
    addresses: Mutex<LruCache<IpAddr, Record>>,
}

/// One attempt, begun only if neither its account nor its address cools down. Settle it
/// with `succeeded` or `failed`; dropped unsettled, it counts as failed.
pub struct Attempt<'a> {
    throttle: &'a SignInThrottle,
    dialect: &'static str,
    /// `None` for codes that name no account (or limit their account themselves).
    account: Option<String>,
    address: IpAddr,
    settled: bool,
}

impl SignInThrottle {
    pub fn new(settings: ThrottleSettings) -> Self {
        let capacity = NonZeroUsize::new(MAX_TRACKED_KEYS).expect("positive");
        Self { settings, accounts: Mutex::new(LruCache::new(capacity)), addresses: Mutex::new(LruCache::new(capacity)) }
    }

    /// Begins an attempt on `account` (a user id, or what the client typed when no user has
    /// it) from `address`, through `dialect`'s entry point.
    pub fn begin(&self, dialect: &'static str, account: &str, address: IpAddr) -> Result<Attempt<'_>, Throttled> {
        self.begin_for(dialect, Some(account), address)
    }

    /// Begins an attempt counted against the address only: a one-time code that names no
    /// account, or one whose account already limits guesses per code.
    pub fn begin_from(&self, dialect: &'static str, address: IpAddr) -> Result<Attempt<'_>, Throttled> {
        self.begin_for(dialect, None, address)
    }

    /// Refuses at once while `address` cools down: lets an entry point turn a flood away
    /// before it costs a database lookup.
    pub fn check_address(&self, dialect: &'static str, address: IpAddr) -> Result<(), Throttled> {
        let now = Instant::now();
        let cooling =
            self.addresses.lock().unwrap_or_else(PoisonError::into_inner).peek(&address).and_then(|r| r.cooling(now));
        match cooling {
            Some(throttled) => {
                store::metrics::sign_in_attempt(dialect, "throttled");
                Err(throttled)
            }
            None => Ok(()),
        }
    }

    fn begin_for(
        &self,
        dialect: &'static str,
        account: Option<&str>,
        address: IpAddr,
    ) -> Result<Attempt<'_>, Throttled> {
        let now = Instant::now();
        let account_cooling = account.and_then(|account| {
            self.accounts.lock().unwrap_or_else(PoisonError::into_inner).get(account).and_then(|r| r.cooling(now))
        });
        let address_cooling =
            self.addresses.lock().unwrap_or_else(PoisonError::into_inner).get(&address).and_then(|r| r.cooling(now));
        if let Some(throttled) = account_cooling.into_iter().chain(address_cooling).max_by_key(|t| t.retry_after) {
            store::metrics::sign_in_attempt(dialect, "throttled");
            return Err(throttled);
        }
        Ok(Attempt { throttle: self, dialect, account: account.map(str::to_string), address, settled: false })
    }

    fn record_failure(&self, dialect: &'static str, account: Option<&str>, address: IpAddr) {
        let now = Instant::now();
        let settings = &self.settings;
        let account_cooldown = account.and_then(|account| {
            let mut accounts = self.accounts.lock().unwrap_or_else(PoisonError::into_inner);
            let record = accounts.get_or_insert_mut(account.to_string(), || Record::new(now));
            record.fail(now, settings.max_account_failures, settings)
        });
        let address_cooldown = {
            let mut addresses = self.addresses.lock().unwrap_or_else(PoisonError::into_inner);
            let record = addresses.get_or_insert_mut(address, || Record::new(now));
            record.fail(now, settings.max_address_failures, settings)
        };
        store::metrics::sign_in_attempt(dialect, "failed");
        if let (Some(cooldown), Some(account)) = (account_cooldown, account) {
            warn!(dialect, account = %fingerprint(account), cooldown_s = cooldown.as_secs(), "sign-in throttled for an account");
        }
        if let Some(cooldown) = address_cooldown {
            warn!(dialect, %address, cooldown_s = cooldown.as_secs(), "sign-in throttled for a client address");
        }
    }

    fn record_success(&self, dialect: &'static str, account: Option<&str>) {
        if let Some(account) = account {
            self.accounts.lock().unwrap_or_else(PoisonError::into_inner).pop(account);
        }
        store::metrics::sign_in_attempt(dialect, "succeeded");
    }
}

impl Attempt<'_> {
    pub fn succeeded(mut self) {
        self.settled = true;
        self.throttle.record_success(self.dialect, self.account.as_deref());
    }

    pub fn failed(mut self) {
        self.settled = true;
        self.throttle.record_failure(self.dialect, self.account.as_deref(), self.address);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.throttle.record_failure(self.dialect, self.account.as_deref(), self.address);
        }
    }
}

/// A log-safe name for an account: never the e-mail address or username itself.
fn fingerprint(account: &str) -> String {
    hex::encode(&Sha256::digest(account.as_bytes())[..6])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ThrottleSettings {
        ThrottleSettings {
            max_account_failures: 3,
            max_address_failures: 5,
            window: Duration::from_secs(60),
            first_cooldown: Duration::from_secs(10),
            max_cooldown: Duration::from_secs(25),
        }
    }

    #[test]
    fn the_limit_starts_a_cooldown_that_doubles_up_to_its_cap() {
        let settings = settings();
        let start = Instant::now();
        let mut record = Record::new(start);
        assert_eq!(record.fail(start, 3, &settings), None);
        assert_eq!(record.fail(start, 3, &settings), None);
        assert_eq!(record.fail(start, 3, &settings), Some(Duration::from_secs(10)));
        assert!(record.cooling(start + Duration::from_secs(9)).is_some());
        assert!(record.cooling(start + Duration::from_secs(10)).is_none(), "nothing is locked forever");
        let later = start + Duration::from_secs(11);
        record.fail(later, 3, &settings);
        record.fail(later, 3, &settings);
        assert_eq!(record.fail(later, 3, &settings), Some(Duration::from_secs(20)));
        let later = later + Duration::from_secs(21);
        record.fail(later, 3, &settings);
        record.fail(later, 3, &settings);
        assert_eq!(record.fail(later, 3, &settings), Some(Duration::from_secs(25)), "capped");
    }

    #[test]
    fn failures_outside_the_window_and_after_a_long_quiet_are_forgotten() {
        let settings = settings();
        let start = Instant::now();
        let mut record = Record::new(start);
        record.fail(start, 3, &settings);
        record.fail(start, 3, &settings);
        assert_eq!(record.fail(start + Duration::from_secs(61), 3, &settings), None, "a new window");
        let quiet = start + Duration::from_secs(200);
        record.fail(quiet, 3, &settings);
        record.fail(quiet, 3, &settings);
        assert_eq!(record.fail(quiet, 3, &settings), Some(Duration::from_secs(10)));
    }

    #[test]
    fn a_cooling_address_refuses_every_account_and_a_success_resets_only_the_account() {
        let throttle = SignInThrottle::new(settings());
        let address: IpAddr = "192.0.2.1".parse().unwrap();
        throttle.begin("test", "alice", address).unwrap().failed();
        throttle.begin("test", "alice", address).unwrap().failed();
        throttle.begin("test", "alice", address).unwrap().succeeded();
        throttle.begin("test", "alice", address).unwrap().failed();
        assert!(throttle.begin("test", "alice", address).is_ok(), "the success reset alice's count");
        throttle.begin("test", "bob", address).unwrap().failed();
        assert!(throttle.begin("test", "carol", address).is_err(), "five failures from the address");
        assert!(throttle.begin("test", "carol", "192.0.2.2".parse().unwrap()).is_ok());
    }
}
