//! The web app at the root, as the original server served its client: `GET /login` shows
//! the login page, `POST /login` takes its form (`username`, `password`) and answers `OK`
//! with the session cookie, and every other page of `--web-root` is behind the session
//! (without one: a redirect to `/login`).

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request, State};
use axum::http::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use tower::ServiceExt;

use super::session::{has_session, sign_in};
use super::wire::LightningError;
use super::LightningState;
use crate::client_address::ClientAddress;

/// Where the client's files are (`--web-root`): `index.html`, `views/login.html`, ...
#[derive(Debug, Clone)]
pub struct WebRoot(pub Arc<PathBuf>);

const CORDOVA_SCRIPT: &str = "/cordova.js";

/// The login page of the web root, or this one when it has none.
const BUILT_IN_LOGIN_PAGE: &str = include_str!("login.html");

#[utoipa::path(get, path = "/login", tag = "mylightning", responses((status = 200, description = "The login page", content_type = "text/html", body = String)))]
pub async fn login_page(State(state): State<LightningState>) -> Response {
    if let Some(root) = &state.web_root {
        if let Ok(page) = tokio::fs::read_to_string(root.0.join("views").join("login.html")).await {
            return Html(page).into_response();
        }
    }
    Html(BUILT_IN_LOGIN_PAGE).into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = LightningLoginForm)]
pub struct LoginForm {
    #[schema(required = true, value_type = String)]
    username: Option<String>,
    #[schema(required = true, value_type = String)]
    password: Option<String>,
}

/// The login form (form-encoded, or JSON): `200 OK` and the `connect.sid` cookie, or 401.
#[utoipa::path(post, path = "/login", tag = "mylightning", request_body(content = LoginForm, description = "`username` (the e-mail or username) and `password`, form-encoded (or JSON)", content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "`OK`, and the session cookie", content_type = "text/plain", body = String), (status = 400, description = "Malformed input"), (status = 401, description = "Wrong username or password"), (status = 429, description = "Too many failed sign-ins")))]
pub async fn login_form(
    State(state): State<LightningState>,
    ClientAddress(address): ClientAddress,
    request: Request,
) -> Result<Response, LightningError> {
    let json =
        request.headers().get(CONTENT_TYPE).is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    let body = Bytes::from_request(request, &state)
        .await
        .map_err(|rejection| LightningError::new(rejection.status(), rejection.body_text()))?;
    let form: LoginForm = if json {
        serde_json::from_slice(&body).map_err(|error| LightningError::bad_request(error.to_string()))?
    } else {
        serde_urlencoded::from_bytes(&body).map_err(|error| LightningError::bad_request(error.to_string()))?
    };
    let (Some(username), Some(password)) = (form.username, form.password) else {
        return Err(LightningError::new(StatusCode::UNAUTHORIZED, "Unauthorized"));
    };
    let cookie = sign_in(&state, address, username.trim(), password).await?;
    Ok(([(SET_COOKIE, cookie), (CONTENT_TYPE, "text/plain; charset=utf-8".parse().expect("a header value"))], "OK")
        .into_response())
}

/// A page of the web root for a signed-in user; `/login` for anyone else (also when no web
/// root is served, as the original redirected; a signed-in user then finds nothing).
pub async fn serve_app(state: LightningState, root: Option<WebRoot>, request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let (parts, body) = request.into_parts();
    match has_session(&parts, &state).await {
        Ok(true) => {}
        Ok(false) => return (StatusCode::FOUND, [(LOCATION, "/login")]).into_response(),
        Err(error) => return error.into_response(),
    }
    let Some(root) = root else {
        return crate::fallback::no_such_route(parts.uri).await;
    };
    // The client loads Cordova's script in a browser too; the original server answered it
    // with an empty object when the web root has none.
    if parts.uri.path() == CORDOVA_SCRIPT && !root.0.join(CORDOVA_SCRIPT.trim_start_matches('/')).exists() {
        return ([(CONTENT_TYPE, "application/javascript")], "{}").into_response();
    }
    let files = tower_http::services::ServeDir::new(root.0.as_path()).append_index_html_on_directories(true);
    match files.oneshot(Request::from_parts(parts, body)).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    }
}
