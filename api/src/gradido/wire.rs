//! The wire format: HTTP 200, `{"state": ..., "msg": ..., "details"?: ...}`, and the one
//! switch from `AppError` to it.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use tracing::error;

use crate::tokens::cookie_value;
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
            AppError::Domain(DuplicateTransaction) => {
                GradidoError::new("error", "transaction are the same as the last (within 100 seconds)")
            }
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

/// A call's parameters: the JSON object a POST carries, or a GET's query parameters (as
/// strings, the first of each name), and the `GRADIDO_LOGIN` cookie.
pub struct Params {
    fields: Map<String, Value>,
    cookie_session_id: Option<i64>,
    from_query: bool,
}

/// The cookie every answer naming a session sets, and that counts as the session where a
/// call allows it.
pub const SESSION_COOKIE: &str = "GRADIDO_LOGIN";

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = GradidoError;

    async fn from_request(request: Request, state: &S) -> Result<Self, GradidoError> {
        let (parts, body) = request.into_parts();
        let cookie_session_id =
            cookie_value(&parts, SESSION_COOKIE).and_then(|value| lenient_integer(&Value::String(value)));
        let from_query = parts.method == Method::GET || parts.method == Method::HEAD;
        let fields = if from_query {
            query_fields(parts.uri.query().unwrap_or_default())?
        } else {
            let body = Bytes::from_request(Request::from_parts(parts, body), state)
                .await
                .map_err(|rejection| GradidoError::with_details("error", "invalid request", rejection.body_text()))?;
            body_fields(&body)?
        };
        Ok(Self { fields, cookie_session_id, from_query })
    }
}

fn query_fields(query: &str) -> Result<Map<String, Value>, GradidoError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|_| GradidoError::new("error", "parameter format unknown"))?;
    let mut fields = Map::new();
    for (name, value) in pairs {
        fields.entry(name).or_insert(Value::String(value));
    }
    Ok(fields)
}

/// The original server read a body it could not parse, or an empty one, as no body at all.
fn body_fields(body: &Bytes) -> Result<Map<String, Value>, GradidoError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(Value::Array(items)) if items.is_empty() => Err(GradidoError::new("error", "empty body")),
        Ok(_) => Err(GradidoError::new("error", "parameter format unknown")),
        Err(_) => Err(GradidoError::new("error", "empty body")),
    }
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name).filter(|value| !value.is_null())
    }

    /// A non-empty string.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str).filter(|text| !text.is_empty())
    }

    /// A whole number, sent as a number or as a numeric string (as PHP and query strings do).
    pub fn integer(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(lenient_integer)
    }

    /// `true`/`false`, `1`/`0` or their strings.
    pub fn flag(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            Value::Bool(flag) => Some(*flag),
            Value::String(text) if text == "true" => Some(true),
            Value::String(text) if text == "false" => Some(false),
            other => lenient_integer(other).map(|number| number != 0),
        }
    }

    pub fn object(&self, name: &str) -> Option<&Map<String, Value>> {
        self.get(name).and_then(Value::as_object)
    }

    pub fn array(&self, name: &str) -> Option<&Vec<Value>> {
        self.get(name).and_then(Value::as_array)
    }

    /// Whether the parameters came in a JSON body (not a query string).
    pub fn is_body(&self) -> bool {
        !self.from_query
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The session the call names: a non-zero `session_id`.
    pub fn session_id(&self) -> Option<i64> {
        self.integer("session_id").filter(|id| *id != 0)
    }

    /// `session_id`, else the `GRADIDO_LOGIN` cookie.
    pub fn session_id_or_cookie(&self) -> Option<i64> {
        self.session_id().or(self.cookie_session_id.filter(|id| *id != 0))
    }
}

pub fn lenient_integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Marks an answer that names a session; the dialect's layer sets the cookie for it.
#[derive(Debug, Clone, Copy)]
pub struct SessionIssued(pub i64);

pub fn success(mut fields: Value) -> Response {
    fields["state"] = Value::String("success".into());
    let issued = fields.get("session_id").and_then(Value::as_i64).map(SessionIssued);
    let mut response = Json(fields).into_response();
    if let Some(issued) = issued {
        response.extensions_mut().insert(issued);
    }
    response
}

/// `state: "warning"`, which the clients take as a success.
pub fn warning(msg: &str) -> Response {
    Json(json!({ "state": "warning", "msg": msg })).into_response()
}
