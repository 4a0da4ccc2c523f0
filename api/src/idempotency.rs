//! `Idempotency-Key`: a client's name for one operation. The key, scoped by route, names the
//! operation id the event store accepts only once; the request's hash tells a retry (same
//! body: the original result) from a reused key (different body: 409).

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use sha2::{Digest, Sha256};

use app::AppError;
use store::{ids, Operation};

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const IDEMPOTENCY_REPLAYED: &str = "idempotency-replayed";
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// The operation a request names. Without a key it is a fresh one, unless `required`.
pub fn operation(
    headers: &HeaderMap,
    route: &str,
    request: &impl Serialize,
    required: bool,
) -> Result<Operation, AppError> {
    keyed_operation(headers, &format!("native/{route}"), request, required)
}

/// The operation a request to `scope` (a dialect and route, such as `joyplus/withdraw-joy`)
/// names by its `Idempotency-Key`.
pub fn keyed_operation(
    headers: &HeaderMap,
    scope: &str,
    request: &impl Serialize,
    required: bool,
) -> Result<Operation, AppError> {
    let Some(key) = headers.get(IDEMPOTENCY_KEY) else {
        return if required { Err(AppError::IdempotencyKeyRequired) } else { Ok(Operation::fresh()) };
    };
    // `to_str` also lets a tab through; a key is visible characters only.
    let visible = |key: &&str| key.bytes().all(|byte| byte.is_ascii_graphic());
    let key = key
        .to_str()
        .ok()
        .filter(|key| (1..=MAX_IDEMPOTENCY_KEY_LEN).contains(&key.len()))
        .filter(visible)
        .ok_or_else(|| {
            AppError::invalid("invalid_idempotency_key", "Idempotency-Key must be 1 to 255 visible ASCII characters")
        })?;
    let body = serde_json::to_vec(request).map_err(|error| AppError::Internal(error.to_string()))?;
    Ok(Operation::keyed(ids::client_keyed(scope, key), hex::encode(Sha256::digest(&body))))
}

/// `201 Created`, marked when it repeats the first response to the same operation.
pub fn created(body: impl Serialize, replayed: bool) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if replayed {
        response.headers_mut().insert(IDEMPOTENCY_REPLAYED, HeaderValue::from_static("true"));
    }
    response
}
