//! HTTP only: the four dialects (`native`, `gradido`, `lightning`, `joyplus`, plus the
//! embedded Passport), each with its own DTOs and its own error switch over `app::AppError`;
//! the router, the OpenAPI document and the metrics middleware.

pub mod admin_key;
pub mod client_address;
pub mod fallback;
pub mod gradido;
pub mod idempotency;
pub mod joyplus;
pub mod json_integers;
pub mod lightning;
pub mod metrics;
pub mod native;
pub mod openapi;
pub mod openapi_responses;
pub mod qr_image;
pub mod router;
pub mod text_schemas;
pub mod tokens;

pub use app::AppError;
pub use router::{router, AppState};
