//! The asset aggregate: an asset's code and its fixed scale. Defining it again with the same
//! scale is a no-op, so seeding at start-up is idempotent; a different scale is refused.
//! An asset may also be listed in the Joy Plus wallet, once, with a name, a contract address,
//! a USD price and an icon.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use rust_decimal::Decimal;

use crate::account::check_text;
use crate::error::DomainError;
use crate::joyplus::EthAddress;
use crate::limits::{MAX_LABEL_LEN, MAX_MEMO_LEN};
use crate::money::{AssetCode, Scale};

/// The assets every ledger starts with, and their scales.
pub const SEEDED_ASSETS: [(&str, u32); 4] = [("BTC", 8), ("GDD", 4), ("JOY", 18), ("JUSD", 18)];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    defined: Option<(AssetCode, Scale)>,
    listed: bool,
}

/// How an asset appears in the Joy Plus wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetListing {
    pub name: String,
    pub contract_address: EthAddress,
    pub usd_price: Decimal,
    pub icon_url: String,
}

/// Most decimals a price may carry.
const MAX_PRICE_DECIMALS: u32 = 18;

impl AssetListing {
    fn validate(&self) -> Result<(), DomainError> {
        check_text("name", &Some(self.name.clone()), MAX_LABEL_LEN)?;
        check_text("icon_url", &Some(self.icon_url.clone()), MAX_MEMO_LEN)?;
        if self.usd_price.is_sign_negative() || self.usd_price.scale() > MAX_PRICE_DECIMALS {
            return Err(DomainError::PriceInvalid);
        }
        Ok(())
    }
}

impl Asset {
    pub fn scale(&self) -> Option<Scale> {
        self.defined.as_ref().map(|(_, scale)| *scale)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum AssetCommand {
    Define {
        code: AssetCode,
        scale: Scale,
    },
    /// Lists a defined asset in the Joy Plus wallet.
    List {
        listing: AssetListing,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AssetEvent {
    AssetDefined {
        code: AssetCode,
        scale: Scale,
    },
    /// Carries the code and scale too, so the listing reads on its own.
    AssetListed {
        code: AssetCode,
        scale: Scale,
        listing: AssetListing,
    },
}

impl DomainEvent for AssetEvent {
    fn event_type(&self) -> String {
        match self {
            Self::AssetDefined { .. } => "AssetDefined",
            Self::AssetListed { .. } => "AssetListed",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        "1".to_string()
    }
}

impl Aggregate for Asset {
    const TYPE: &'static str = "asset";
    type Command = AssetCommand;
    type Event = AssetEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(&mut self, command: AssetCommand, _: &(), sink: &EventSink<Self>) -> Result<(), DomainError> {
        let (code, scale) = match command {
            AssetCommand::Define { code, scale } => (code, scale),
            AssetCommand::List { listing } => return self.list(listing, sink).await,
        };
        match &self.defined {
            Some((_, existing)) if *existing == scale => Ok(()),
            Some((code, existing)) => Err(DomainError::AssetAlreadyDefinedWithOtherScale {
                code: code.to_string(),
                scale: existing.decimals(),
            }),
            None => {
                sink.write(AssetEvent::AssetDefined { code, scale }, self).await;
                Ok(())
            }
        }
    }

    fn apply(&mut self, event: AssetEvent) {
        match event {
            AssetEvent::AssetDefined { code, scale } => self.defined = Some((code, scale)),
            AssetEvent::AssetListed { .. } => self.listed = true,
        }
    }
}

impl Asset {
    async fn list(&mut self, listing: AssetListing, sink: &EventSink<Self>) -> Result<(), DomainError> {
        // The aggregate id is the code; an undefined asset has no code yet to name.
        let Some((code, scale)) = self.defined.clone() else {
            return Err(DomainError::AssetNotDefined(listing.name));
        };
        if self.listed {
            return Err(DomainError::AssetAlreadyListed(code.to_string()));
        }
        listing.validate()?;
        sink.write(AssetEvent::AssetListed { code, scale, listing }, self).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;

    use super::*;

    fn define(decimals: u32) -> AssetCommand {
        AssetCommand::Define { code: AssetCode::parse("BTC").unwrap(), scale: Scale::new(decimals).unwrap() }
    }

    fn defined(decimals: u32) -> AssetEvent {
        AssetEvent::AssetDefined { code: AssetCode::parse("BTC").unwrap(), scale: Scale::new(decimals).unwrap() }
    }

    #[tokio::test]
    async fn defining_an_asset_twice_with_the_same_scale_changes_nothing() {
        TestFramework::<Asset>::with(()).given(vec![defined(8)]).when_async(define(8)).await.then_expect_events(vec![]);
    }

    fn listing(price: &str) -> AssetListing {
        AssetListing {
            name: "Bitcoin".into(),
            contract_address: EthAddress::parse(&format!("0x{}", "00".repeat(20))).unwrap(),
            usd_price: price.parse().unwrap(),
            icon_url: String::new(),
        }
    }

    #[tokio::test]
    async fn a_defined_asset_is_listed_once() {
        let code = AssetCode::parse("BTC").unwrap();
        TestFramework::<Asset>::with(())
            .given(vec![defined(8)])
            .when_async(AssetCommand::List { listing: listing("0.500") })
            .await
            .then_expect_events(vec![AssetEvent::AssetListed {
                code,
                scale: Scale::new(8).unwrap(),
                listing: listing("0.500"),
            }]);
        TestFramework::<Asset>::with(())
            .given(vec![
                defined(8),
                AssetEvent::AssetListed {
                    code: AssetCode::parse("BTC").unwrap(),
                    scale: Scale::new(8).unwrap(),
                    listing: listing("1"),
                },
            ])
            .when_async(AssetCommand::List { listing: listing("2") })
            .await
            .then_expect_error(DomainError::AssetAlreadyListed("BTC".into()));
    }

    #[tokio::test]
    async fn a_negative_price_is_refused() {
        TestFramework::<Asset>::with(())
            .given(vec![defined(8)])
            .when_async(AssetCommand::List { listing: listing("-1") })
            .await
            .then_expect_error(DomainError::PriceInvalid);
    }

    #[tokio::test]
    async fn an_asset_scale_can_never_change() {
        TestFramework::<Asset>::with(())
            .given(vec![defined(8)])
            .when_async(define(2))
            .await
            .then_expect_error(DomainError::AssetAlreadyDefinedWithOtherScale { code: "BTC".into(), scale: 8 });
    }
}
