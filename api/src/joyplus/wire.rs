//! The Joy Plus wire format: `{"data": ...}` on success, `{"error":{"message":"..."}}` with a
//! fitting 4xx on failure; camelCase fields, ids as strings, UNIX-millisecond timestamps,
//! amounts as strings with exactly the asset's decimals.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use tracing::error;

use app::AppError;

#[derive(Debug)]
pub struct JoyError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds for a `Retry-After` header (throttled sign-ins).
    pub retry_after_seconds: Option<u64>,
}

impl JoyError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), retry_after_seconds: None }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "authentication required")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    pub fn too_many(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, message)
    }
}

impl IntoResponse for JoyError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": { "message": self.message } }))).into_response();
        if let Some(seconds) = self.retry_after_seconds {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// The dialect's one error switch.
impl From<AppError> for JoyError {
    fn from(error: AppError) -> Self {
        use domain::DomainError::*;
        let status = match &error {
            AppError::Domain(InsufficientFunds { .. }) => return Self::bad_request("insufficient funds"),
            AppError::Throttled { retry_after_seconds } => {
                let mut throttled = Self::too_many(error.to_string());
                throttled.retry_after_seconds = Some(*retry_after_seconds);
                return throttled;
            }
            AppError::Domain(AccountNotOpened | UserNotRegistered | ApiKeyNotIssued | AssetNotDefined(_)) => {
                StatusCode::NOT_FOUND
            }
            AppError::Domain(
                AssetAlreadyListed(_)
                | AssetAlreadyDefinedWithOtherScale { .. }
                | ClaimTaken { .. }
                | UserAlreadyRegistered,
            ) => StatusCode::CONFLICT,
            // Well-formed, but refused on its merits: finer or larger than the asset holds,
            // or an expiry already past.
            AppError::Domain(
                BalanceLimitExceeded
                | TooManyHolds(_)
                | TooManyScopes(_)
                | AmountTooPrecise { .. }
                | AmountOutOfRange
                | PriceInvalid
                | HoldExpiryInPast,
            ) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Domain(AccountStateInconsistent) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Domain(_) | AppError::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::NotFound(_) | AppError::UnknownAsset(_) | AppError::UnknownPosition(_) => StatusCode::NOT_FOUND,
            AppError::IdempotencyKeyRequired => StatusCode::BAD_REQUEST,
            AppError::IdempotencyKeyReused => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Contention | AppError::LimitReached { .. } | AppError::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match error {
            AppError::Unavailable(detail) | AppError::Internal(detail) => {
                error!(detail, "joy plus request failed");
                "temporarily unavailable; retry".to_string()
            }
            AppError::Domain(AccountStateInconsistent) => "account history is inconsistent".to_string(),
            other => other.to_string(),
        };
        let retry_after_seconds =
            (status == StatusCode::SERVICE_UNAVAILABLE).then_some(crate::native::RETRY_AFTER_UNAVAILABLE_SECONDS);
        Self { retry_after_seconds, ..Self::new(status, message) }
    }
}

impl From<domain::DomainError> for JoyError {
    fn from(error: domain::DomainError) -> Self {
        AppError::Domain(error).into()
    }
}

impl From<tokio_postgres::Error> for JoyError {
    fn from(error: tokio_postgres::Error) -> Self {
        AppError::from(error).into()
    }
}

impl From<deadpool_postgres::PoolError> for JoyError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        AppError::from(error).into()
    }
}

/// `{"data": value}`.
pub fn data(value: impl Serialize) -> Response {
    Json(json!({ "data": value })).into_response()
}

/// `{"data": [...]}`, plus `nextCursor` when a further page may exist.
pub fn page<T: Serialize>(rows: Vec<T>, next_cursor: Option<i64>) -> Response {
    match next_cursor {
        Some(cursor) => Json(json!({ "data": rows, "nextCursor": cursor.to_string() })).into_response(),
        None => Json(json!({ "data": rows })).into_response(),
    }
}

/// A JSON body, with malformed input answered in this dialect's error format.
pub struct JoyJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JoyJson<T> {
    type Rejection = JoyError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(JsonRejection::BytesRejection(rejection)) => {
                Err(JoyError::new(rejection.status(), rejection.body_text()))
            }
            Err(rejection) => Err(JoyError::bad_request(rejection.body_text())),
        }
    }
}

pub fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// An amount with exactly `decimals` decimals, as the seed shows (`"2.000000000000000000"`).
pub fn amount_text(value: Decimal, decimals: i32) -> String {
    let mut value = value;
    value.rescale(u32::try_from(decimals).unwrap_or(0));
    value.to_string()
}

/// A price with at least three decimals (`"0.500"`), and all it has beyond.
pub fn price_text(value: Decimal) -> String {
    const MIN_PRICE_DECIMALS: u32 = 3;
    let mut value = value.normalize();
    if value.scale() < MIN_PRICE_DECIMALS {
        value.rescale(MIN_PRICE_DECIMALS);
    }
    value.to_string()
}
