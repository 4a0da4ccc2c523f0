use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;

use super::error::NativeError;
use crate::app::AppState;
use crate::error::AppError;

pub async fn require_admin(State(state): State<AppState>, request: Request, next: Next) -> Result<Response, NativeError> {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        Some(key) if state.admin_key.verify(key) => Ok(next.run(request).await),
        _ => Err(AppError::Unauthorized.into()),
    }
}
