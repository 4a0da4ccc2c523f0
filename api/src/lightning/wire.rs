//! The myLightning error format: `{"error":{"message":"..."}}`, HTTP 200 for business
//! failures (as the spec's GenericResponse), 401 without a session, 403 for a bad CSRF
//! token, 400 for malformed input.

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
}

impl LightningError {
    pub fn business(message: impl Into<String>) -> Self {
        Self { status: StatusCode::OK, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    pub fn unauthorized() -> Self {
        Self { status: StatusCode::UNAUTHORIZED, message: "unauthorized".into() }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self { status: StatusCode::FORBIDDEN, message: message.into() }
    }
}

impl IntoResponse for LightningError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": { "message": self.message } }))).into_response()
    }
}

impl From<AppError> for LightningError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Domain(domain::DomainError::InsufficientFunds { .. }) => Self::business("insufficient funds"),
            AppError::Domain(other) => Self::business(other.to_string()),
            AppError::Unavailable(detail) | AppError::Internal(detail) => {
                error!(detail, "lightning request failed");
                Self { status: StatusCode::SERVICE_UNAVAILABLE, message: "temporarily unavailable; retry".into() }
            }
            other => Self::business(other.to_string()),
        }
    }
}

impl From<domain::DomainError> for LightningError {
    fn from(error: domain::DomainError) -> Self {
        AppError::Domain(error).into()
    }
}
