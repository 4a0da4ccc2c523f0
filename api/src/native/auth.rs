use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::error::NativeError;
use super::NativeState;
use app::AppError;

pub async fn require_admin(
    State(state): State<NativeState>,
    request: Request,
    next: Next,
) -> Result<Response, NativeError> {
    if state.admin_key.verify_bearer(request.headers()) {
        Ok(next.run(request).await)
    } else {
        Err(AppError::Unauthorized.into())
    }
}
