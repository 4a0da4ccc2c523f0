//! The myLightning error format: `{"error":{"message":"..."}}`, HTTP 200 for business
//! failures (as the spec's GenericResponse) and a bad CSRF token (as the original server
//! answered it), 401 without a session, 400 for malformed input.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tracing::error;

use app::AppError;

#[derive(Debug)]
pub struct LightningError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds for a `Retry-After` header (throttled sign-ins).
    pub retry_after_seconds: Option<u64>,
}

impl LightningError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), retry_after_seconds: None }
    }

    pub fn business(message: impl Into<String>) -> Self {
        Self::new(StatusCode::OK, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized")
    }
}

impl IntoResponse for LightningError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": { "message": self.message } }))).into_response();
        if let Some(seconds) = self.retry_after_seconds {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<AppError> for LightningError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Domain(domain::DomainError::InsufficientFunds { .. }) => Self::business("insufficient funds"),
            AppError::Domain(other) => Self::business(other.to_string()),
            AppError::Unavailable(detail) | AppError::Internal(detail) => {
                error!(detail, "lightning request failed");
                Self {
                    retry_after_seconds: Some(crate::native::RETRY_AFTER_UNAVAILABLE_SECONDS),
                    ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable; retry")
                }
            }
            AppError::Throttled { retry_after_seconds } => Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: format!("too many attempts; retry in {retry_after_seconds} s"),
                retry_after_seconds: Some(retry_after_seconds),
            },
            other => Self::business(other.to_string()),
        }
    }
}

impl From<domain::DomainError> for LightningError {
    fn from(error: domain::DomainError) -> Self {
        AppError::Domain(error).into()
    }
}
