//! The monthly creation budget of one user: creations that are pending, executing or
//! confirmed count against it; a cancelled or rejected creation gives its amount back.

use std::collections::BTreeMap;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::money::Amount;

/// At most this much GDD may be created for one user in one calendar month.
pub const MONTHLY_CREATION_LIMIT_GDD: Decimal = Decimal::from_parts(1_000, 0, 0, false, 0);
/// Bounds the aggregate: creations reserved against one month.
const MAX_CREATIONS_PER_MONTH: usize = 10_000;

/// The budget's aggregate id: one per user and month (`2026-11`).
pub fn creation_budget_id(user_id: &str, month: chrono::NaiveDate) -> String {
    format!("{user_id}:{}", month.format("%Y-%m"))
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreationBudget {
    reserved: BTreeMap<String, Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum BudgetCommand {
    Reserve { transaction_id: String, amount: Amount },
    Release { transaction_id: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BudgetEvent {
    CreationReserved { transaction_id: String, amount: Amount },
    CreationReleased { transaction_id: String },
}

impl DomainEvent for BudgetEvent {
    fn event_type(&self) -> String {
        match self {
            Self::CreationReserved { .. } => "CreationReserved",
            Self::CreationReleased { .. } => "CreationReleased",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        "1".to_string()
    }
}

impl Aggregate for CreationBudget {
    const TYPE: &'static str = "creation_budget";
    type Command = BudgetCommand;
    type Event = BudgetEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(&mut self, command: BudgetCommand, _: &(), sink: &EventSink<Self>) -> Result<(), DomainError> {
        let event = match command {
            BudgetCommand::Reserve { transaction_id, .. } if self.reserved.contains_key(&transaction_id) => {
                return Ok(())
            }
            BudgetCommand::Reserve { transaction_id, amount } => {
                let used: Decimal = self.reserved.values().sum();
                if used + amount.value() > MONTHLY_CREATION_LIMIT_GDD || self.reserved.len() >= MAX_CREATIONS_PER_MONTH
                {
                    return Err(DomainError::CreationLimitExceeded {
                        remaining: (MONTHLY_CREATION_LIMIT_GDD - used).max(Decimal::ZERO),
                    });
                }
                BudgetEvent::CreationReserved { transaction_id, amount }
            }
            BudgetCommand::Release { transaction_id } if self.reserved.contains_key(&transaction_id) => {
                BudgetEvent::CreationReleased { transaction_id }
            }
            BudgetCommand::Release { .. } => return Ok(()),
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: BudgetEvent) {
        match event {
            BudgetEvent::CreationReserved { transaction_id, amount } => {
                self.reserved.insert(transaction_id, amount.value());
            }
            BudgetEvent::CreationReleased { transaction_id } => {
                self.reserved.remove(&transaction_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;

    use super::*;
    use crate::money::Scale;

    fn gdd(text: &str) -> Amount {
        Amount::parse_positive(text, Scale::new(4).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn creations_beyond_1000_gdd_a_month_are_refused_counting_reserved_ones() {
        TestFramework::<CreationBudget>::with(())
            .given(vec![BudgetEvent::CreationReserved { transaction_id: "t1".into(), amount: gdd("600") }])
            .when_async(BudgetCommand::Reserve { transaction_id: "t2".into(), amount: gdd("400.0001") })
            .await
            .then_expect_error(DomainError::CreationLimitExceeded { remaining: Decimal::new(400, 0) });
    }

    #[tokio::test]
    async fn a_released_creation_gives_its_budget_back() {
        TestFramework::<CreationBudget>::with(())
            .given(vec![
                BudgetEvent::CreationReserved { transaction_id: "t1".into(), amount: gdd("1000") },
                BudgetEvent::CreationReleased { transaction_id: "t1".into() },
            ])
            .when_async(BudgetCommand::Reserve { transaction_id: "t2".into(), amount: gdd("1000") })
            .await
            .then_expect_events(vec![BudgetEvent::CreationReserved {
                transaction_id: "t2".into(),
                amount: gdd("1000"),
            }]);
    }
}
