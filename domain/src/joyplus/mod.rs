//! The Joy Plus token wallet: Ethereum-style addresses, each user's wallet, and API keys.

pub mod address;
pub mod api_key;
pub mod wallet;

pub use address::EthAddress;
pub use api_key::{ApiKey, ApiKeyCommand, ApiKeyEvent};
pub use wallet::{JoyWallet, JoyWalletCommand, JoyWalletEvent, WalletProfile};
