//! Wire shapes of the native API. Amounts are decimal strings at the asset's scale.
//!
//! The schema attributes state exactly what the handlers accept (the OpenAPI document is
//! checked against the server by schemathesis): a request they describe is never refused for
//! its shape, and one they exclude always is.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use app::use_cases::transfers::{TransferReceipt, TransferStatus};
use app::AppError;
use domain::account::AccountEvent;

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountRequest {
    #[schema(pattern = r"^(?!(world|issuance|fees|transit):)[A-Za-z0-9._:-]{1,128}$")]
    pub id: String,
    #[schema(pattern = r"^[A-Z0-9]{2,12}$")]
    pub asset: String,
    #[schema(max_length = 128)]
    pub owner: Option<String>,
    #[schema(max_length = 128)]
    pub purpose: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MovementRequest {
    #[schema(value_type = crate::text_schemas::AccountId)]
    pub account: String,
    #[schema(value_type = crate::text_schemas::NativeAmount)]
    pub amount: String,
    #[schema(max_length = 128)]
    pub reference: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    #[schema(value_type = crate::text_schemas::AccountId)]
    pub from: String,
    #[schema(value_type = crate::text_schemas::AccountId)]
    pub to: String,
    #[schema(value_type = crate::text_schemas::NativeAmount)]
    pub amount: String,
    #[schema(max_length = 512)]
    pub memo: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    #[schema(value_type = crate::text_schemas::AccountId)]
    pub account: String,
    #[schema(value_type = crate::text_schemas::NativeAmount)]
    pub amount: String,
    /// RFC 3339; absent for a hold that lasts until released or captured.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    #[schema(max_length = 512)]
    pub memo: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureRequest {
    #[schema(value_type = crate::text_schemas::AccountId)]
    pub to: String,
    #[schema(max_length = 512)]
    pub memo: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HoldView {
    pub id: String,
    pub account: String,
    pub amount: String,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub memo: Option<String>,
    /// `active`, `released`, `expired` or `captured`.
    pub status: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: String,
    pub asset: String,
    pub owner: Option<String>,
    pub purpose: Option<String>,
    #[schema(value_type = String)]
    pub balance: Decimal,
    #[schema(value_type = String)]
    pub locked: Decimal,
    #[schema(value_type = String)]
    pub available: Decimal,
}

/// An account's balance as it stood at `at` (`GET /v1/accounts/{id}?at=`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BalanceAtView {
    pub id: String,
    pub asset: String,
    #[schema(value_type = String)]
    pub balance: Decimal,
    /// The position or time asked for, as given.
    pub at: String,
}

/// What `GET /v1/accounts/{id}` answers: the account, or with `at` its balance then.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AccountShown {
    Now(AccountView),
    At(BalanceAtView),
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MovementView {
    pub id: String,
    pub account: String,
    pub amount: String,
    pub reference: Option<String>,
    pub position: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TransferView {
    pub id: String,
    pub from: String,
    pub to: String,
    pub amount: String,
    pub memo: Option<String>,
    /// `completed`, `returned` (the destination refused it; the money is back), or
    /// `pending` (durable, completing in the background).
    #[schema(value_type = String)]
    pub status: &'static str,
    pub position: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: serde_json::Value,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

impl From<projections::StoredEvent> for EventView {
    fn from(event: projections::StoredEvent) -> Self {
        Self {
            position: event.position,
            aggregate_type: event.aggregate_type,
            aggregate_id: event.aggregate_id,
            sequence: event.sequence,
            event_type: event.event_type,
            event_version: event.event_version,
            payload: event.payload,
            recorded_at: event.recorded_at,
        }
    }
}

/// Strict decimal text to a decimal; the account then checks it against its asset's scale.
pub fn parse_amount(text: &str) -> Result<Decimal, AppError> {
    // Any scale will do for parsing: the account re-checks precision against its own.
    let widest = domain::Scale::new(domain::limits::MAX_ASSET_SCALE).expect("the widest scale is valid");
    match domain::Amount::parse_positive(text, widest) {
        Ok(amount) => Ok(amount.value()),
        Err(error) => Err(error.into()),
    }
}

impl TransferView {
    /// A transfer as its debit (a sent transfer or a captured hold) and its receipt show it.
    pub fn of(receipt: &TransferReceipt) -> Result<Self, AppError> {
        let debit = &receipt.debit;
        let (transfer_id, to, amount, memo) = match debit.decode()? {
            AccountEvent::TransferSent { transfer_id, to, amount, memo, .. }
            | AccountEvent::HoldCaptured { transfer_id, to, amount, memo, .. } => (transfer_id, to, amount, memo),
            _ => return Err(AppError::Internal("operation id names another kind of event".into())),
        };
        Ok(Self {
            id: transfer_id,
            from: debit.aggregate_id.clone(),
            to,
            amount: amount.to_string(),
            memo,
            status: match receipt.status {
                TransferStatus::Completed => "completed",
                TransferStatus::Returned => "returned",
                TransferStatus::Pending => "pending",
            },
            position: debit.position,
        })
    }
}
