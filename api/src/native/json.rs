use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::error::NativeError;
use app::AppError;

/// A JSON body whose rejections speak the native error format.
pub struct NativeJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for NativeJson<T> {
    type Rejection = NativeError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::PayloadTooLarge(crate::router::MAX_BODY_BYTES).into())
            }
            Err(rejection) => Err(AppError::invalid("invalid_json", rejection.body_text()).into()),
        }
    }
}
