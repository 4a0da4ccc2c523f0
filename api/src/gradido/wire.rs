//! The wire format: HTTP 200, `{"state": ..., "msg": ..., "details"?: ...}`, and the one
//! switch from `AppError` to it.

use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use tracing::error;

use app::AppError;

/// A Gradido answer that is not `success`.
#[derive(Debug)]
pub struct GradidoError {
    pub state: &'static str,
    pub msg: &'static str,
    pub details: Option<String>,
}

impl GradidoError {
    pub fn new(state: &'static str, msg: &'static str) -> Self {
        Self { state, msg, details: None }
    }

    pub fn with_details(state: &'static str, msg: &'static str, details: impl Into<String>) -> Self {
        Self { state, msg, details: Some(details.into()) }
    }
}

impl IntoResponse for GradidoError {
    fn into_response(self) -> Response {
        let mut body = json!({ "state": self.state, "msg": self.msg });
        if let Some(details) = self.details {
            body["details"] = Value::String(details);
        }
        Json(body).into_response()
    }
}

impl From<AppError> for GradidoError {
    fn from(error: AppError) -> Self {
        use domain::DomainError::*;
        match error {
            AppError::Domain(InsufficientFunds { .. }) => GradidoError::with_details(
                "invalid parameter",
                "invalid amount",
                "amount exceeds the available balance",
            ),
            AppError::Domain(CreationLimitExceeded { remaining }) => GradidoError::with_details(
                "invalid parameter",
                "invalid amount",
                format!("at most 1000 GDD may be created per user and month; {remaining} GDD left"),
            ),
            AppError::Domain(DuplicateTransaction) => GradidoError::with_details(
                "error",
                "transaction already exists",
                "the same transaction was sent less than 100 seconds ago",
            ),
            AppError::Domain(TransactionNotFound) => GradidoError::new("not found", "transaction not found"),
            AppError::Domain(NotTheInitiator) => GradidoError::new("error", "transaction belongs to another user"),
            AppError::Domain(TransactionState(status)) => {
                GradidoError::with_details("error", "transaction state invalid", status)
            }
            AppError::Domain(GroupExists) => GradidoError::new("error", "group already exists"),
            AppError::Throttled { retry_after_seconds } => GradidoError::with_details(
                "error",
                "too many attempts",
                format!("retry in {retry_after_seconds} seconds"),
            ),
            AppError::Domain(other) => GradidoError::with_details("error", "invalid parameter", other.to_string()),
            AppError::Unavailable(detail) | AppError::Internal(detail) => {
                error!(detail, "gradido request failed");
                GradidoError::new("error", "internal error")
            }
            other => GradidoError::with_details("error", "invalid parameter", other.to_string()),
        }
    }
}

/// A request body as a JSON object, or the seed's answers for what is not one.
pub fn parse_object(body: &Bytes) -> Result<Map<String, Value>, GradidoError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(GradidoError::new("error", "parameter format unknown")),
        Err(error) => Err(GradidoError::with_details("error", "json exception", error.to_string())),
    }
}

pub fn text_field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    object.get(name).and_then(Value::as_str).filter(|text| !text.is_empty())
}

pub fn success(mut fields: Value) -> Response {
    fields["state"] = Value::String("success".into());
    Json(fields).into_response()
}
