//! The Gradido login-server dialect under `/login_api`. Every answer is HTTP 200 with a
//! `state` field and the original server's exact `msg` strings
//! (`../shared/seeds/gradido-login-server-api.txt`).

mod login;
mod sessions;
pub mod settlement;
mod transactions;
mod wallet;
mod wire;

use axum::routing::post;
use axum::Router;

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login_api/unsecureLogin", post(login::unsecure_login))
        .route("/login_api/login", post(login::login))
        .route("/login_api/logout", post(login::logout))
        .route("/login_api/createTransaction", post(transactions::create))
        .route("/login_api/signTransaction", post(transactions::sign))
        .route("/login_api/cancelTransaction", post(transactions::cancel))
        .route("/login_api/getRunningUserTasks", post(transactions::running_tasks))
        .route("/login_api/getBalance", post(wallet::balance))
        .route("/login_api/listTransactions", post(transactions::list))
        .route("/login_api/createGroup", post(login::create_group))
}
