//! `getalldata` and each user's two BTC accounts: on-chain funds (`btcfunds`) and Lightning
//! funds (`lntfunds`), opened on first use, owned by the user, with purposes `onchain` and
//! `lightning`.

use axum::extract::State;
use axum::Json;
use domain::account::AccountCommand;
use domain::{AssetCode, DomainError, Scale};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;

use super::node::{LightningNode, NodeInfo};
use super::session::WebSession;
use super::wire::LightningError;
use crate::app::AppState;
use crate::commands::Operation;
use crate::error::AppError;

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

pub async fn ensure_accounts(state: &AppState, user_id: &str) -> Result<(), AppError> {
    for purpose in [Purpose::Onchain, Purpose::Lightning] {
        let id = account_id(user_id, purpose);
        let command = AccountCommand::Open {
            account_id: id.clone(),
            asset: AssetCode::parse("BTC")?,
            scale: Scale::new(BTC_DECIMALS)?,
            owner: Some(user_id.to_string()),
            purpose: Some(purpose.name().to_string()),
        };
        match state.ledger.bus.account(&id, command, &Operation::derived(format!("open:{id}"))).await {
            Ok(outcome) => {
                if let Some(event) = outcome.event() {
                    state.ledger.await_read_models(event).await;
                }
            }
            Err(AppError::Domain(DomainError::AccountAlreadyOpened)) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// An exact decimal as a JSON number (the spec's BigDecimal): never through a float.
fn number(value: Decimal) -> Result<Box<RawValue>, AppError> {
    RawValue::from_string(value.normalize().to_string()).map_err(|error| AppError::Internal(error.to_string()))
}

#[derive(Serialize)]
pub struct Balances {
    btcfunds: Box<RawValue>,
    lntfunds: Box<RawValue>,
}

#[derive(Serialize)]
pub struct DataResponse {
    balances: Balances,
    address: String,
    info: NodeInfo,
    channels: Vec<serde_json::Value>,
    quickpaynodes: Vec<serde_json::Value>,
    transactions: Vec<serde_json::Value>,
    #[serde(rename = "_csrf")]
    csrf: String,
}

pub async fn get_all_data(State(state): State<AppState>, session: WebSession) -> Result<Json<DataResponse>, LightningError> {
    ensure_accounts(&state, &session.user_id).await?;
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let funds = |purpose: Purpose| account_id(&session.user_id, purpose);
    let rows = client
        .query(
            "SELECT account_id, amount FROM balances WHERE account_id = ANY($1)",
            &[&vec![funds(Purpose::Onchain), funds(Purpose::Lightning)]],
        )
        .await
        .map_err(AppError::from)?;
    let balance_of = |purpose: Purpose| {
        rows.iter().find(|row| row.get::<_, String>(0) == funds(purpose)).map(|row| row.get::<_, Decimal>(1)).unwrap_or_default()
    };
    Ok(Json(DataResponse {
        balances: Balances { btcfunds: number(balance_of(Purpose::Onchain))?, lntfunds: number(balance_of(Purpose::Lightning))? },
        address: state.node.receive_address(&session.user_id)?,
        info: state.node.info(),
        channels: Vec::new(),
        quickpaynodes: Vec::new(),
        transactions: Vec::new(),
        csrf: session.csrf,
    }))
}
