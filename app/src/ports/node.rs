//! The Lightning node behind the wallet. `LightningNode` is what the wallet needs of a node;
//! `EmbeddedNode` is the built-in one: a secp256k1 identity persisted in the database (so
//! every server shares it), a block height that advances with time, and bech32 receive
//! addresses whose keys it derives from its own.

use std::str::FromStr;
use std::time::Duration;

use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use bitcoin::{Address, CompressedPublicKey, Network};
use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// What the wallet shows of its node (`info` in `getalldata`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NodeInfo {
    pub synchronized: bool,
    pub port: u16,
    pub alias: String,
    #[serde(rename = "nodeId")]
    pub node_id: String,
    pub blockheight: u64,
}

/// Why the node could not pay an invoice of another node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalPaymentError {
    NoRoute,
}

pub trait LightningNode: Send + Sync + 'static {
    /// The node as `user_id`'s wallet shows it: each user has a node identity of their own,
    /// as the original server ran one node per user.
    fn info(&self, user_id: &str) -> Result<NodeInfo, AppError>;
    /// A receive address for `user_id`'s on-chain funds.
    fn receive_address(&self, user_id: &str) -> Result<String, AppError>;
    /// Pays an invoice of another node. The embedded node has no peers, so it finds no route.
    fn pay_external(&self, _payment_request: &str, _amount_msat: u64) -> Result<(), ExternalPaymentError> {
        Err(ExternalPaymentError::NoRoute)
    }
}

#[derive(Debug, Clone)]
pub struct NodeSettings {
    pub alias: String,
    pub port: u16,
    /// How often the embedded chain makes a block.
    pub block_interval: Duration,
    pub network: Network,
}

/// The embedded regtest chain's block interval unless configured: a channel (three
/// confirmations) opens within half a minute, as on a developer's regtest node.
pub const DEFAULT_BLOCK_INTERVAL_MS: u64 = 10_000;

impl Default for NodeSettings {
    fn default() -> Self {
        Self {
            alias: "ledger".into(),
            port: 9735,
            block_interval: Duration::from_millis(DEFAULT_BLOCK_INTERVAL_MS),
            network: Network::Regtest,
        }
    }
}

/// The height a new embedded chain starts at.
const BASE_HEIGHT: i64 = 100;

pub struct EmbeddedNode {
    secret: SecretKey,
    public: PublicKey,
    alias: String,
    port: u16,
    base_height: u64,
    genesis_at: DateTime<Utc>,
    block_interval: Duration,
    network: Network,
}

impl EmbeddedNode {
    /// Loads the node's identity, creating it if this is the first server ever to start.
    pub async fn load_or_create(pool: &Pool, settings: NodeSettings) -> Result<Self, AppError> {
        let client = pool.get().await?;
        let mut fresh = [0_u8; 32];
        rand::thread_rng().fill_bytes(&mut fresh);
        let port = i32::from(settings.port);
        client
            .execute(
                "INSERT INTO lightning_node (secret_key_hex, alias, port, base_height) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&hex::encode(fresh), &settings.alias, &port, &BASE_HEIGHT],
            )
            .await?;
        let interval_ms = i64::try_from(settings.block_interval.as_millis().max(1)).unwrap_or(i64::MAX);
        // A new interval counts on from the height reached at the old one.
        client
            .execute(
                "UPDATE lightning_node SET \
                   base_height = base_height + (extract(epoch FROM now() - genesis_at) * 1000)::bigint / block_interval_ms, \
                   genesis_at = now(), block_interval_ms = $1 \
                 WHERE block_interval_ms <> $1",
                &[&interval_ms],
            )
            .await?;
        let row = client
            .query_one("SELECT secret_key_hex, alias, port, base_height, genesis_at FROM lightning_node", &[])
            .await?;
        let secret = SecretKey::from_str(row.get::<_, &str>(0))
            .map_err(|error| AppError::Internal(format!("node key: {error}")))?;
        let public = PublicKey::from_secret_key(&Secp256k1::new(), &secret);
        Ok(Self {
            secret,
            public,
            alias: row.get(1),
            port: u16::try_from(row.get::<_, i32>(2)).unwrap_or(settings.port),
            base_height: u64::try_from(row.get::<_, i64>(3)).unwrap_or(0),
            genesis_at: row.get(4),
            block_interval: settings.block_interval,
            network: settings.network,
        })
    }

    pub fn network(&self) -> Network {
        self.network
    }

    pub fn secret_key(&self) -> &SecretKey {
        &self.secret
    }

    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    pub fn block_height(&self) -> u64 {
        let elapsed = (Utc::now() - self.genesis_at).to_std().unwrap_or_default();
        let interval_ms = self.block_interval.as_millis().max(1);
        self.base_height + u64::try_from(elapsed.as_millis() / interval_ms).unwrap_or(u64::MAX)
    }
}

impl EmbeddedNode {
    /// A key of `user_id`'s derived from the node's for `purpose`: nothing to store, and
    /// the node can always use it.
    fn derived_key(&self, purpose: &[u8], user_id: &str) -> Result<SecretKey, AppError> {
        let mut derivation = Sha256::new();
        derivation.update(self.secret.secret_bytes());
        derivation.update(purpose);
        derivation.update(user_id.as_bytes());
        SecretKey::from_slice(&derivation.finalize()).map_err(|error| AppError::Internal(error.to_string()))
    }

    /// The key `user_id`'s node signs invoices with.
    pub fn user_secret_key(&self, user_id: &str) -> Result<SecretKey, AppError> {
        self.derived_key(b"/node/", user_id)
    }

    pub fn user_public_key(&self, user_id: &str) -> Result<PublicKey, AppError> {
        Ok(PublicKey::from_secret_key(&Secp256k1::new(), &self.user_secret_key(user_id)?))
    }
}

impl LightningNode for EmbeddedNode {
    fn info(&self, user_id: &str) -> Result<NodeInfo, AppError> {
        Ok(NodeInfo {
            synchronized: true,
            port: self.port,
            alias: self.alias.clone(),
            node_id: hex::encode(self.user_public_key(user_id)?.serialize()),
            blockheight: self.block_height(),
        })
    }

    /// P2WPKH of a key derived from the node's: the node can always spend what arrives.
    fn receive_address(&self, user_id: &str) -> Result<String, AppError> {
        let child = self.derived_key(b"/onchain/", user_id)?;
        let public = CompressedPublicKey(PublicKey::from_secret_key(&Secp256k1::new(), &child));
        Ok(Address::p2wpkh(&public, self.network).to_string())
    }
}
