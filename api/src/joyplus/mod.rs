//! The Joy Plus token wallet dialect under `/api/v1` (`../shared/seeds/joyplus-api.md`), and
//! the embedded Passport under `/passport`.
//!
//! Who may call what (S = the user's session, K = an API key, A = the admin key):
//!
//! | endpoint                                        | S        | K                        | A   |
//! |-------------------------------------------------|----------|--------------------------|-----|
//! | `sso.html`                                      | (a Passport code)                   ||
//! | `user-info`, `sms/*`, `google/*`                | own      | –                        | –   |
//! | `user`, `wallet`, `balance`, `locked-balance`,  | own      | its e-mail's user        | all |
//! | `deposit`, `withdraw`, `transaction` (GET)      |          |                          |     |
//! | `asset` (GET)                                   | yes      | yes                      | yes |
//! | `locked-balance` (POST)                         | –        | scope `locked_balance.create` | yes |
//! | `withdraw-joy`                                  | own `from` | –                      | any |
//! | `api-key` (POST, PUT), `asset` (POST), `deposit` (POST) | – | –                     | yes |

mod api_keys;
mod assets;
mod auth;
mod balances;
pub mod chain;
mod filters;
mod locked_balances;
mod paging;
pub mod passport;
pub mod sms;
mod sso;
mod totp;
mod transfers;
mod users;
mod wire;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use crate::app::AppState;

pub use auth::SESSION_COOKIE;
pub use locked_balances::LOCK_SCOPE;

/// The outside services Joy Plus talks to, each behind a trait with a local default.
#[derive(Clone)]
pub struct JoyPlusServices {
    pub passport: Arc<dyn passport::Passport>,
    pub sms: Arc<dyn sms::SmsSender>,
    pub chain: Arc<dyn chain::Chain>,
}

/// The assets Joy Plus lists from the start, as the seed shows them: symbol, name, contract
/// address, USD price.
pub const SEEDED_LISTINGS: [(&str, &str, &str, &str); 2] = [
    ("JOY", "JOY Token", "0x0000000000000000000000000000000000000000", "0.500"),
    ("JUSD", "JUSD", "0x28d7fEecd1aB9Dae7d83cbB986f2A2Ecb127183d", "0.000"),
];

/// Lists the seeded assets unless they are listed already, and waits until the read models
/// show them (a request right after start-up sees them).
pub async fn seed_listings(ledger: &crate::commands::Ledger) -> Result<(), crate::error::AppError> {
    use domain::asset::{AssetCommand, AssetListing};
    for (symbol, name, contract, price) in SEEDED_LISTINGS {
        let listing = AssetListing {
            name: name.to_string(),
            contract_address: domain::joyplus::EthAddress::parse(contract)?,
            usd_price: price.parse().map_err(|_| domain::DomainError::PriceInvalid)?,
            icon_url: String::new(),
        };
        match ledger.bus.asset(&domain::AssetCode::parse(symbol)?, AssetCommand::List { listing }).await {
            Ok(outcome) => {
                if let Some(event) = outcome.event() {
                    ledger.await_read_models(event).await;
                }
            }
            Err(crate::error::AppError::Domain(domain::DomainError::AssetAlreadyListed(_))) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/passport/register", post(passport::register_user))
        .route("/passport/login", post(passport::login))
        .route("/api/v1/sso.html", get(sso::sso))
        .route("/api/v1/user-info", get(sso::user_info))
        .route("/api/v1/sms/request", post(sms::request))
        .route("/api/v1/sms/confirm", post(sms::confirm))
        .route("/api/v1/google/check", post(totp::check))
        .route("/api/v1/google/request", post(totp::request))
        .route("/api/v1/google/register", post(totp::register))
        .route("/api/v1/google/confirm", post(totp::confirm))
        .route("/api/v1/api-key", post(api_keys::create).put(api_keys::change_scope))
        .route("/api/v1/user", get(users::list_users))
        .route("/api/v1/user/{id}", get(users::get_user))
        .route("/api/v1/wallet", get(users::list_wallets))
        .route("/api/v1/wallet/{id}", get(users::get_wallet))
        .route("/api/v1/balance", get(balances::list))
        .route("/api/v1/balance/{id}", get(balances::get_one))
        .route("/api/v1/locked-balance", get(locked_balances::list).post(locked_balances::create))
        .route("/api/v1/locked-balance/{id}", get(locked_balances::get_one))
        .route("/api/v1/asset", get(assets::list).post(assets::create))
        .route("/api/v1/asset/{id}", get(assets::get_one))
        .route("/api/v1/deposit", get(transfers::list_deposits).post(transfers::record_deposit))
        .route("/api/v1/deposit/{id}", get(transfers::get_deposit))
        .route("/api/v1/withdraw", get(transfers::list_withdraws))
        .route("/api/v1/withdraw/{id}", get(transfers::get_withdraw))
        .route("/api/v1/transaction", get(transfers::list_transactions))
        .route("/api/v1/withdraw-joy", post(transfers::withdraw_joy))
}
