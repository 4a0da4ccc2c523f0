//! CORS as the shipped login server answered it: every answer allows any origin and the
//! headers a browser sends with JSON, and an `OPTIONS` preflight is answered 200 at once.
//! A middleware of the whole router, not of the Gradido routes: a preflight names a method
//! the routes do not serve, and method fallbacks replace route layers.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::GradidoSettings;

const PATH_PREFIX: &str = "/login_api/";
const ALLOWED_HEADERS: &str = "Access-Control-Allow-Headers, Origin, Accept, X-Requested-With, Content-Type, \
     Access-Control-Request-Method, Access-Control-Request-Headers";
const ALLOWED_METHODS: &str = "GET, POST, OPTIONS";

pub async fn any_origin(State(settings): State<GradidoSettings>, request: Request, next: Next) -> Response {
    if !settings.cors_any_origin || !request.uri().path().starts_with(PATH_PREFIX) {
        return next.run(request).await;
    }
    let mut response =
        if request.method() == Method::OPTIONS { StatusCode::OK.into_response() } else { next.run(request).await };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOWED_HEADERS));
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOWED_METHODS));
    response
}
