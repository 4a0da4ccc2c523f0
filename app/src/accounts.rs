//! How each wallet names its users' accounts. These ids are stored in events forever: never
//! change a spelling, only add.

/// myLightning: two BTC accounts per user, on-chain funds and Lightning funds.
pub mod lightning {
    pub const BTC_DECIMALS: u32 = 8;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Purpose {
        Onchain,
        Lightning,
    }

    impl Purpose {
        pub fn name(self) -> &'static str {
            match self {
                Self::Onchain => "onchain",
                Self::Lightning => "lightning",
            }
        }
    }

    pub fn account_id(user_id: &str, purpose: Purpose) -> String {
        format!("btc:{user_id}:{}", purpose.name())
    }

    /// The user of a wallet account id (`account_id`'s inverse); `None` for other accounts.
    pub fn owner_of(account_id: &str) -> Option<&str> {
        let (user_id, purpose) = account_id.strip_prefix("btc:")?.rsplit_once(':')?;
        [Purpose::Onchain, Purpose::Lightning].iter().any(|known| known.name() == purpose).then_some(user_id)
    }

    pub fn btc_of_sat(sat: u64) -> rust_decimal::Decimal {
        rust_decimal::Decimal::from(sat) / rust_decimal::Decimal::from(100_000_000_u64)
    }
}

/// Gradido: one GDD account per user.
pub mod gradido {
    pub const GDD_DECIMALS: u32 = 4;

    pub fn account_id(user_id: &str) -> String {
        format!("gdd:{user_id}")
    }
}
