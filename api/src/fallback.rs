//! Answers that would otherwise come from axum's defaults, in the format of the dialect whose
//! prefix the path carries: paths and methods no route serves (instead of an empty 404 or
//! 405), and extractor rejections (a query string that does not parse, a path segment that
//! is not UTF-8, a body over the limit), which axum answers as `text/plain`.

use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Longest rejection text carried over into a dialect's answer.
const MAX_REJECTION_BYTES: usize = 4_096;

pub async fn no_such_route(uri: Uri) -> Response {
    refusal(uri.path(), StatusCode::NOT_FOUND, "no such route")
}

pub async fn method_not_allowed(uri: Uri) -> Response {
    refusal(uri.path(), StatusCode::METHOD_NOT_ALLOWED, "method not allowed on this route")
}

/// A handler that panicked: logged, answered `500` as plain text, which
/// `dialect_rejections` turns into the dialect's format.
pub fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    tracing::error!(detail, "a request handler panicked");
    (StatusCode::INTERNAL_SERVER_ERROR, [(CONTENT_TYPE, "text/plain; charset=utf-8")], "internal error").into_response()
}

/// Rewrites axum's plain-text rejections (and a panic's 500) into the dialect's error
/// format.
pub async fn dialect_rejections(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let plain_text =
        response.headers().get(CONTENT_TYPE).is_some_and(|value| value.as_bytes().starts_with(b"text/plain"));
    let rewritten = response.status().is_client_error() || response.status() == StatusCode::INTERNAL_SERVER_ERROR;
    if !rewritten || !plain_text {
        return response;
    }
    let status = response.status();
    let text = match to_bytes(response.into_body(), MAX_REJECTION_BYTES).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => status.canonical_reason().unwrap_or("invalid request").to_string(),
    };
    refusal(&path, status, &text)
}

/// A client's mistake with `status`, in the format of the dialect `path` belongs to.
fn refusal(path: &str, status: StatusCode, message: &str) -> Response {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if under("/login_api") {
        crate::gradido::refusal(status, message)
    } else if under("/rest/v1") {
        crate::lightning::refusal(status, message)
    } else if under("/api/v1") || under("/passport") {
        crate::joyplus::refusal(status, message)
    } else {
        let code = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::INTERNAL_SERVER_ERROR => "internal",
            _ => "invalid_request",
        };
        (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use axum::body::{to_bytes, Body};
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    async fn panicking() -> &'static str {
        panic!("a bug")
    }

    /// The layers `router` puts around every route, around routes that panic (test routes:
    /// not in the OpenAPI document, which lists the service's).
    fn hardened() -> Router {
        let (native, gradido) = ("/v1/boom", "/login_api/boom");
        Router::new()
            .route(native, get(panicking))
            .route(gradido, get(panicking))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(super::panicked))
            .layer(axum::middleware::from_fn(super::dialect_rejections))
    }

    async fn answer(path: &str) -> (StatusCode, serde_json::Value) {
        let response = hardened().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let body = to_bytes(response.into_body(), 4_096).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_in_the_dialects_format() {
        let (status, body) = answer("/v1/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["code"], "internal");
        let (status, body) = answer("/login_api/boom").await;
        assert_eq!(status, StatusCode::OK, "the login server answers 200");
        assert_eq!(body, serde_json::json!({"state": "error", "msg": "internal error"}));
    }
}
