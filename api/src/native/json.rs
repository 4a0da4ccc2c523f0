use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde::Deserialize;

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

/// A JSON integer as JSON Schema counts them: `2` and `2.0` alike (a fraction is refused).
pub fn integral_u32<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    use serde::de::Error;
    let number = serde_json::Number::deserialize(deserializer)?;
    let integral = number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|value| value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(value))
            .map(|value| value as u64)
    });
    integral
        .and_then(|value| u32::try_from(value).ok())
        .ok_or_else(|| D::Error::custom(format!("{number} is not a whole number from 0 to {}", u32::MAX)))
}
