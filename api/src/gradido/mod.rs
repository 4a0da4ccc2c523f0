//! The Gradido login-server dialect under `/login_api`. Every answer is HTTP 200 with a
//! `state` field and the original server's exact `msg` strings
//! (`../shared/seeds/gradido-login-server-api.txt`).

mod login;
mod sessions;
pub mod settlement;
mod transactions;
mod users;
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
        .route("/login_api/createUser", post(users::create_user))
        .route("/login_api/getUserInfos", post(users::get_user_infos))
        .route("/login_api/updateUserInfos", post(users::update_user_infos))
        .route("/login_api/getUsers", post(users::get_users))
        .route("/login_api/search", post(users::search))
        .route("/login_api/adminEmailVerificationResend", post(users::admin_email_verification_resend))
        .route("/login_api/adminSetUserDisabled", post(users::admin_set_user_disabled))
        .route("/login_api/verifyEmail", post(users::verify_email))
}
