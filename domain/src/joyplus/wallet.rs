//! A user's Joy Plus wallet: created once, at the user's first single sign-on, with the
//! profile Passport vouched for and a deposit address. Its id is the ledger's user id.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use super::address::EthAddress;
use crate::account::check_text;
use crate::error::DomainError;
use crate::limits::{MAX_EMAIL_LEN, MAX_LABEL_LEN, MAX_NAME_LEN};

/// Longest mobile number, in bytes (E.164 allows 15 digits; leave room for a `+`).
pub const MAX_MOBILE_LEN: usize = 20;

/// What Passport knows of the user, as copied into the wallet when it was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletProfile {
    pub open_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub mobile: Option<String>,
}

impl WalletProfile {
    fn validate(&self) -> Result<(), DomainError> {
        check_text("open_id", &Some(self.open_id.clone()), MAX_LABEL_LEN)?;
        check_text("email", &Some(self.email.clone()), MAX_EMAIL_LEN)?;
        check_text("first_name", &self.first_name, MAX_NAME_LEN)?;
        check_text("last_name", &self.last_name, MAX_NAME_LEN)?;
        check_text("mobile", &self.mobile, MAX_MOBILE_LEN)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JoyWallet {
    address: Option<EthAddress>,
}

impl JoyWallet {
    pub fn address(&self) -> Option<EthAddress> {
        self.address
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum JoyWalletCommand {
    /// Creates the wallet; creating it again changes nothing (a second sign-on).
    Create { profile: WalletProfile, address: EthAddress },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum JoyWalletEvent {
    JoyWalletCreated { profile: WalletProfile, address: EthAddress },
}

impl DomainEvent for JoyWalletEvent {
    fn event_type(&self) -> String {
        "JoyWalletCreated".to_string()
    }
    fn event_version(&self) -> String {
        "1".to_string()
    }
}

impl Aggregate for JoyWallet {
    const TYPE: &'static str = "joy_wallet";
    type Command = JoyWalletCommand;
    type Event = JoyWalletEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(&mut self, command: JoyWalletCommand, _: &(), sink: &EventSink<Self>) -> Result<(), DomainError> {
        let JoyWalletCommand::Create { profile, address } = command;
        if self.address.is_some() {
            return Ok(());
        }
        profile.validate()?;
        sink.write(JoyWalletEvent::JoyWalletCreated { profile, address }, self).await;
        Ok(())
    }

    fn apply(&mut self, event: JoyWalletEvent) {
        let JoyWalletEvent::JoyWalletCreated { address, .. } = event;
        self.address = Some(address);
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;

    use super::*;

    fn profile(mobile: Option<&str>) -> WalletProfile {
        WalletProfile {
            open_id: "abc=".into(),
            email: "deric@example.com".into(),
            first_name: Some("Deric".into()),
            last_name: None,
            mobile: mobile.map(str::to_string),
        }
    }

    fn address(last: u8) -> EthAddress {
        EthAddress::parse(&format!("0x{}{last:02x}", "00".repeat(19))).unwrap()
    }

    #[tokio::test]
    async fn a_first_sign_on_creates_the_wallet() {
        TestFramework::<JoyWallet>::with(())
            .given_no_previous_events()
            .when_async(JoyWalletCommand::Create { profile: profile(None), address: address(1) })
            .await
            .then_expect_events(vec![JoyWalletEvent::JoyWalletCreated { profile: profile(None), address: address(1) }]);
    }

    #[tokio::test]
    async fn a_later_sign_on_keeps_the_first_address() {
        TestFramework::<JoyWallet>::with(())
            .given(vec![JoyWalletEvent::JoyWalletCreated { profile: profile(None), address: address(1) }])
            .when_async(JoyWalletCommand::Create { profile: profile(None), address: address(2) })
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn an_overlong_mobile_number_is_refused() {
        TestFramework::<JoyWallet>::with(())
            .given_no_previous_events()
            .when_async(JoyWalletCommand::Create { profile: profile(Some(&"1".repeat(21))), address: address(1) })
            .await
            .then_expect_error(DomainError::TextTooLong { field: "mobile", max: MAX_MOBILE_LEN });
    }
}
