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
    /// What to encode: at most 2048 bytes (so at most 2048 characters).
    #[param(required = true, value_type = String, min_length = 1, max_length = 2048)]
    inputcode: Option<String>,
}

#[utoipa::path(get, path = "/rest/v1/getqrimage", tag = "mylightning", params(QrQuery), security(("lightning_session" = [])), responses((status = 200, description = "The QR code", content_type = "image/png", body = Vec<u8>), (status = 400, description = "No `inputcode`, or more than 2048 characters"), (status = 401, description = "No session"), (status = 422, description = "More than 2048 bytes, or more than a QR code holds")))]
pub async fn get_qr_image(_session: WebSession, Query(query): Query<QrQuery>) -> Result<Response, LightningError> {
    let input = query.inputcode.unwrap_or_default();
    if input.is_empty() {
        return Err(LightningError::bad_request("inputcode is required"));
    }
    if input.chars().count() > MAX_QR_INPUT_BYTES {
        return Err(LightningError::bad_request(format!("inputcode is longer than {MAX_QR_INPUT_BYTES} bytes")));
    }
    // Well-formed, but more than one QR image holds.
    let too_long = |message: String| LightningError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, message);
    if input.len() > MAX_QR_INPUT_BYTES {
        return Err(too_long(format!("inputcode is longer than {MAX_QR_INPUT_BYTES} bytes")));
    }
    let png = crate::qr_image::qr_png(&input).map_err(too_long)?;
    Ok(([(CONTENT_TYPE, "image/png")], png).into_response())
}
