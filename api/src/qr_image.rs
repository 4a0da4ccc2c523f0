//! QR codes as PNG images: Lightning invoices and addresses, TOTP enrolment URIs.

use qrcode::{Color, EcLevel, QrCode};

/// Pixels per QR module, and the quiet zone around the code in modules.
const MODULE_PIXELS: usize = 6;
const QUIET_ZONE_MODULES: usize = 4;

/// Renders `text` as a black-on-white QR code PNG (8-bit grayscale).
pub fn qr_png(text: &str) -> Result<Vec<u8>, String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|error| format!("cannot encode as QR: {error}"))?;
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
    let side_u32 = u32::try_from(side).map_err(|_| "input too large".to_string())?;
    let mut encoder = png::Encoder::new(&mut png, side_u32, side_u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let encoded = encoder.write_header().and_then(|mut writer| writer.write_image_data(&pixels));
    encoded.map_err(|error| format!("cannot render QR: {error}"))?;
    Ok(png)
}
