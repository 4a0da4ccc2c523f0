//! The Joy Plus token wallet dialect under `/api/v1`, and the embedded Passport under
//! `/passport`.
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
mod deposits;
mod filters;
mod locked_balances;
mod movements;
mod paging;
pub mod passport;
pub mod sms;
mod sso;
mod totp;
mod users;
mod wire;
mod withdrawals;

use std::sync::Arc;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::SESSION_COOKIE;
pub use locked_balances::LOCK_SCOPE;

/// What the Joy Plus and Passport handlers need of the service.
#[derive(Clone)]
pub struct JoyState {
    pub ledger: app::Ledger,
    pub admin_key: std::sync::Arc<crate::admin_key::AdminKey>,
    pub joy: JoyPlusServices,
    pub credentials: std::sync::Arc<app::credentials::CredentialGuard>,
    pub cookies: crate::tokens::CookiePolicy,
}

impl axum::extract::FromRef<JoyState> for std::sync::Arc<app::credentials::CredentialGuard> {
    fn from_ref(state: &JoyState) -> Self {
        state.credentials.clone()
    }
}

/// The outside services Joy Plus talks to, each behind a trait with a local default.
#[derive(Clone)]
pub struct JoyPlusServices {
    pub passport: Arc<dyn app::ports::passport::Passport>,
    pub sms: Arc<dyn app::ports::sms::SmsSender>,
    pub chain: Arc<dyn app::ports::chain::Chain>,
}

/// The assets Joy Plus lists from the start, as the seed shows them: symbol, name, contract
/// address, USD price.
pub const SEEDED_LISTINGS: [(&str, &str, &str, &str); 2] = [
    ("JOY", "JOY Token", "0x0000000000000000000000000000000000000000", "0.500"),
    ("JUSD", "JUSD", "0x28d7fEecd1aB9Dae7d83cbB986f2A2Ecb127183d", "0.000"),
];

/// Lists the seeded assets unless they are listed already, and waits until the read models
/// show them (a request right after start-up sees them).
pub async fn seed_listings(ledger: &app::Ledger) -> Result<(), app::AppError> {
    use domain::asset::{AssetCommand, AssetListing};
    for (symbol, name, contract, price) in SEEDED_LISTINGS {
        let listing = AssetListing {
            name: name.to_string(),
            contract_address: domain::joyplus::EthAddress::parse(contract)?,
            usd_price: price.parse().map_err(|_| domain::DomainError::PriceInvalid)?,
            icon_url: String::new(),
        };
        match ledger
            .bus
            .execute(
                domain::AssetCode::parse(symbol)?.as_str(),
                AssetCommand::List { listing },
                &store::Operation::fresh(),
            )
            .await
        {
            Ok(outcome) => {
                if let Some(event) = outcome.event() {
                    ledger.await_read_models(event).await;
                }
            }
            Err(app::AppError::Domain(domain::DomainError::AssetAlreadyListed(_))) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

pub fn routes() -> OpenApiRouter<JoyState> {
    OpenApiRouter::new()
        .routes(routes!(passport::register_user))
        .routes(routes!(passport::login))
        .routes(routes!(sso::sso))
        .routes(routes!(sso::user_info))
        .routes(routes!(sms::request))
        .routes(routes!(sms::confirm))
        .routes(routes!(totp::check))
        .routes(routes!(totp::request))
        .routes(routes!(totp::register))
        .routes(routes!(totp::confirm))
        .routes(routes!(api_keys::create, api_keys::change_scope))
        .routes(routes!(users::list_users))
        .routes(routes!(users::get_user))
        .routes(routes!(users::list_wallets))
        .routes(routes!(users::get_wallet))
        .routes(routes!(balances::list))
        .routes(routes!(balances::get_one))
        .routes(routes!(locked_balances::list, locked_balances::create))
        .routes(routes!(locked_balances::get_one))
        .routes(routes!(assets::list, assets::create))
        .routes(routes!(assets::get_one))
        .routes(routes!(movements::list_deposits, deposits::record_deposit))
        .routes(routes!(movements::get_deposit))
        .routes(routes!(movements::list_withdraws))
        .routes(routes!(movements::get_withdraw))
        .routes(routes!(movements::list_transactions))
        .routes(routes!(withdrawals::withdraw_joy))
}

/// A request the dialect (or its Passport) cannot take (no such route, a query that does not
/// parse).
pub(crate) fn refusal(status: axum::http::StatusCode, message: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    wire::JoyError::new(status, message).into_response()
}
