//! The myLightning web wallet dialect under `/rest/v1`
//! (`../shared/seeds/mylightning-rest-api.txt`): a cookie session (`connect.sid`) with a CSRF
//! token on every POST but `login`, business failures as HTTP 200 `{"error":{"message"}}`,
//! and 401 without a session.

mod channels;
mod denomination;
pub mod node;
mod payments;
mod qr;
mod session;
mod wallet;
mod wire;

use axum::routing::{get, post};
use axum::Router;

use crate::app::AppState;

pub use channels::watch_channels;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rest/v1/login", post(session::login))
        .route("/rest/v1/logout", post(session::logout))
        .route("/rest/v1/ping", get(session::ping))
        .route("/rest/v1/getalldata", get(wallet::get_all_data))
        .route("/rest/v1/getqrimage", get(qr::get_qr_image))
        .route("/rest/v1/createinvoice", post(payments::create_invoice))
        .route("/rest/v1/sendinvoice", post(payments::send_invoice))
        .route("/rest/v1/quickpay", post(payments::quickpay))
        .route("/rest/v1/setdenomination", post(denomination::set_denomination))
        .route("/rest/v1/openchannel", post(channels::open_channel))
        .route("/rest/v1/closechannel", post(channels::close_channel))
}
