//! `getqrimage?inputcode=...`: a PNG of a QR code of the input.

use axum::extract::Query;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::session::WebSession;
use super::wire::LightningError;

/// Longest input encoded; a BOLT11 invoice with a long description fits.
pub const MAX_QR_INPUT_BYTES: usize = 2_048;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QrQuery {
    inputcode: Option<String>,
}

#[utoipa::path(get, path = "/rest/v1/getqrimage", tag = "mylightning", params(QrQuery), security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session"), (status = 401, description = "No session; a bad CSRF token is a 200 business failure")))]
pub async fn get_qr_image(_session: WebSession, Query(query): Query<QrQuery>) -> Result<Response, LightningError> {
    let input = query.inputcode.unwrap_or_default();
    if input.is_empty() {
        return Err(LightningError::bad_request("inputcode is required"));
    }
    if input.len() > MAX_QR_INPUT_BYTES {
        return Err(LightningError::bad_request(format!("inputcode is longer than {MAX_QR_INPUT_BYTES} bytes")));
    }
    let png = crate::qr_image::qr_png(&input).map_err(LightningError::bad_request)?;
    Ok(([(CONTENT_TYPE, "image/png")], png).into_response())
}
