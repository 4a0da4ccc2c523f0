//! `getqrimage?inputcode=...`: a PNG of a QR code of the input.

use axum::extract::Query;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use qrcode::{Color, EcLevel, QrCode};
use serde::Deserialize;

use super::session::WebSession;
use super::wire::LightningError;

/// Longest input encoded; a BOLT11 invoice with a long description fits.
pub const MAX_QR_INPUT_BYTES: usize = 2_048;
/// Pixels per QR module, and the quiet zone around the code in modules.
const MODULE_PIXELS: usize = 6;
const QUIET_ZONE_MODULES: usize = 4;

#[derive(Deserialize)]
pub struct QrQuery {
    inputcode: Option<String>,
}

pub async fn get_qr_image(_session: WebSession, Query(query): Query<QrQuery>) -> Result<Response, LightningError> {
    let input = query.inputcode.unwrap_or_default();
    if input.is_empty() {
        return Err(LightningError::bad_request("inputcode is required"));
    }
    if input.len() > MAX_QR_INPUT_BYTES {
        return Err(LightningError::bad_request(format!("inputcode is longer than {MAX_QR_INPUT_BYTES} bytes")));
    }
    let png = qr_png(&input)?;
    Ok(([(CONTENT_TYPE, "image/png")], png).into_response())
}

/// Renders `text` as a black-on-white QR code PNG (8-bit grayscale).
pub fn qr_png(text: &str) -> Result<Vec<u8>, LightningError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|error| LightningError::bad_request(format!("cannot encode as QR: {error}")))?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE_MODULES) * MODULE_PIXELS;
    let mut pixels = vec![255_u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (row, column) = (index / modules + QUIET_ZONE_MODULES, index % modules + QUIET_ZONE_MODULES);
        for y in row * MODULE_PIXELS..(row + 1) * MODULE_PIXELS {
            pixels[y * side + column * MODULE_PIXELS..y * side + (column + 1) * MODULE_PIXELS].fill(0);
        }
    }
    let mut png = Vec::new();
    let side_u32 = u32::try_from(side).map_err(|_| LightningError::bad_request("input too large"))?;
    let mut encoder = png::Encoder::new(&mut png, side_u32, side_u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let encoded = encoder.write_header().and_then(|mut writer| writer.write_image_data(&pixels));
    encoded.map_err(|error| LightningError::bad_request(format!("cannot render QR: {error}")))?;
    Ok(png)
}
