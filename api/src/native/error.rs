//! The native dialect's one error switch: every `AppError` to a status and a stable code.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::DomainError;
use serde_json::json;
use tracing::error;

use app::AppError;

/// How long a client should wait before retrying a request the storage could not serve.
pub const RETRY_AFTER_UNAVAILABLE_SECONDS: u64 = 1;

pub struct NativeError(pub AppError);

impl<E: Into<AppError>> From<E> for NativeError {
    fn from(error: E) -> Self {
        Self(error.into())
    }
}

fn domain_status(error: &DomainError) -> (StatusCode, &'static str) {
    use DomainError::*;
    match error {
        AmountMalformed | AmountNotPositive => (StatusCode::BAD_REQUEST, "invalid_amount"),
        // Well-formed, but more decimals or more value than the account's asset holds.
        AmountTooPrecise { .. } | AmountOutOfRange => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount"),
        AssetCodeInvalid
        | AssetScaleInvalid
        | AccountIdInvalid
        | AccountIdReserved(_)
        | TextTooLong { .. }
        | EmailInvalid
        | UsernameInvalid => (StatusCode::BAD_REQUEST, "invalid_request"),
        // Well-formed, but already past when the ledger decides.
        HoldExpiryInPast => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
        BalanceLimitExceeded => (StatusCode::UNPROCESSABLE_ENTITY, "balance_limit_exceeded"),
        AssetAlreadyDefinedWithOtherScale { .. } => (StatusCode::CONFLICT, "asset_exists"),
        AccountAlreadyOpened => (StatusCode::CONFLICT, "account_exists"),
        AccountNotOpened => (StatusCode::NOT_FOUND, "account_not_found"),
        AccountStateInconsistent => (StatusCode::INTERNAL_SERVER_ERROR, "account_inconsistent"),
        AssetMismatch { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "asset_mismatch"),
        TransferToSelf => (StatusCode::UNPROCESSABLE_ENTITY, "same_account"),
        InsufficientFunds { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "insufficient_funds"),
        SystemAccountNotAllowed(_) => (StatusCode::UNPROCESSABLE_ENTITY, "system_account_not_allowed"),
        HoldAlreadyExists(_) => (StatusCode::CONFLICT, "hold_exists"),
        HoldNotFound(_) => (StatusCode::NOT_FOUND, "hold_not_found"),
        HoldExpired(_) | HoldNotExpired(_) => (StatusCode::UNPROCESSABLE_ENTITY, "hold_state"),
        TooManyHolds(_) => (StatusCode::UNPROCESSABLE_ENTITY, "too_many_holds"),
        UserAlreadyRegistered | ClaimTaken { .. } => (StatusCode::CONFLICT, "user_exists"),
        UserNotRegistered => (StatusCode::NOT_FOUND, "user_not_found"),
        TransactionExists | GroupExists => (StatusCode::CONFLICT, "exists"),
        TransactionNotFound => (StatusCode::NOT_FOUND, "transaction_not_found"),
        NotTheInitiator => (StatusCode::FORBIDDEN, "forbidden"),
        TransactionState(_) => (StatusCode::CONFLICT, "transaction_state"),
        CreationLimitExceeded { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "creation_limit_exceeded"),
        DuplicateTransaction => (StatusCode::CONFLICT, "duplicate_transaction"),
        GroupAliasInvalid => (StatusCode::BAD_REQUEST, "invalid_request"),
        InvoiceExists => (StatusCode::CONFLICT, "exists"),
        DenominationUnknown(_) | ChannelCapacity { .. } | AliasEmpty => (StatusCode::BAD_REQUEST, "invalid_request"),
        ChannelNotFound => (StatusCode::NOT_FOUND, "channel_not_found"),
        ChannelState(_) => (StatusCode::CONFLICT, "channel_state"),
        InvoiceNotFound => (StatusCode::NOT_FOUND, "invoice_not_found"),
        InvoiceAlreadyPaid => (StatusCode::CONFLICT, "invoice_paid"),
        AddressBookFull(_) => (StatusCode::UNPROCESSABLE_ENTITY, "address_book_full"),
        MobileInvalid | AddressInvalid | AddressChecksumInvalid | ScopeInvalid | PriceInvalid => {
            (StatusCode::BAD_REQUEST, "invalid_request")
        }
        ApiKeyNotIssued => (StatusCode::NOT_FOUND, "api_key_not_found"),
        TooManyScopes(_) => (StatusCode::UNPROCESSABLE_ENTITY, "too_many_scopes"),
        AssetNotDefined(_) => (StatusCode::NOT_FOUND, "asset_not_found"),
        AssetAlreadyListed(_) => (StatusCode::CONFLICT, "asset_exists"),
    }
}

impl IntoResponse for NativeError {
    fn into_response(self) -> Response {
        let (status, code) = match &self.0 {
            AppError::Domain(error) => domain_status(error),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AppError::UnknownPosition(_) => (StatusCode::NOT_FOUND, "unknown_position"),
            AppError::InvalidRequest { code, .. } => (StatusCode::BAD_REQUEST, *code),
            AppError::UnknownAsset(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_asset"),
            AppError::IdempotencyKeyRequired => (StatusCode::BAD_REQUEST, "idempotency_key_required"),
            AppError::IdempotencyKeyReused => (StatusCode::CONFLICT, "idempotency_key_reused"),
            AppError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::Contention => (StatusCode::SERVICE_UNAVAILABLE, "contention"),
            AppError::LimitReached { .. } => (StatusCode::SERVICE_UNAVAILABLE, "limit_reached"),
            AppError::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            AppError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let message = match &self.0 {
            // Details of storage and internal failures go to the log, not to clients.
            AppError::Unavailable(detail) | AppError::Internal(detail) => {
                error!(detail, code, "request failed");
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    "storage temporarily unavailable; retry"
                } else {
                    "internal error"
                }
                .to_string()
            }
            other => other.to_string(),
        };
        let retry_after = match &self.0 {
            AppError::Throttled { retry_after_seconds } => Some(*retry_after_seconds),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some(RETRY_AFTER_UNAVAILABLE_SECONDS),
            _ => None,
        };
        let mut response = (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_reached_limit_is_named_as_such_not_as_a_storage_failure() {
        let response = NativeError(AppError::LimitReached { what: "event streams", limit: 64 }).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), 4_096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "limit_reached");
        assert_eq!(body["error"]["message"], "at most 64 event streams may be open at once; retry later");
    }
}
