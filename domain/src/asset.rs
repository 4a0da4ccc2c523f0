//! The asset aggregate: an asset's code and its fixed scale. Defining it again with the same
//! scale is a no-op, so seeding at start-up is idempotent; a different scale is refused.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::money::{AssetCode, Scale};

/// The assets every ledger starts with, and their scales.
pub const SEEDED_ASSETS: [(&str, u32); 4] = [("BTC", 8), ("GDD", 4), ("JOY", 18), ("JUSD", 18)];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    defined: Option<(AssetCode, Scale)>,
}

impl Asset {
    pub fn scale(&self) -> Option<Scale> {
        self.defined.as_ref().map(|(_, scale)| *scale)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AssetCommand {
    Define { code: AssetCode, scale: Scale },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AssetEvent {
    AssetDefined { code: AssetCode, scale: Scale },
}

impl DomainEvent for AssetEvent {
    fn event_type(&self) -> String {
        "AssetDefined".to_string()
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
        let AssetCommand::Define { code, scale } = command;
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
        let AssetEvent::AssetDefined { code, scale } = event;
        self.defined = Some((code, scale));
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
        TestFramework::<Asset>::with(())
            .given(vec![defined(8)])
            .when_async(define(8))
            .await
            .then_expect_events(vec![]);
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
