//! The queries the Joy Plus dialect reads its read model with. Each list is filtered by the
//! seed's filters and paged by id (`after_id`, `limit`); rows come in ascending id order.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crate::error::ProjectionError;

#[derive(Default)]
pub struct WalletFilter {
    pub id: Option<i64>,
    pub open_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub address: Option<String>,
    pub user_id: Option<String>,
}

pub async fn wallets(
    client: &impl GenericClient,
    filter: &WalletFilter,
    after_id: i64,
    limit: i64,
) -> Result<Vec<Row>, ProjectionError> {
    Ok(client
        .query(
            "SELECT w.wallet_id, w.user_id, w.open_id, coalesce(u.first_name, w.first_name), coalesce(u.last_name, w.last_name), \
                    w.email, coalesce(u.mobile, w.mobile), w.address, w.created_at, coalesce(u.disabled, false) \
             FROM joy_wallets w LEFT JOIN users u ON u.user_id = w.user_id \
             WHERE ($1::bigint IS NULL OR w.wallet_id = $1) AND ($2::text IS NULL OR w.open_id = $2) \
               AND ($3::text IS NULL OR lower(coalesce(u.first_name, w.first_name)) = lower($3)) \
               AND ($4::text IS NULL OR lower(coalesce(u.last_name, w.last_name)) = lower($4)) \
               AND ($5::text IS NULL OR lower(w.email) = lower($5)) AND ($6::text IS NULL OR coalesce(u.mobile, w.mobile) = $6) \
               AND ($7::text IS NULL OR w.address_lower = $7) AND ($8::text IS NULL OR w.user_id = $8) AND w.wallet_id > $9 \
             ORDER BY w.wallet_id LIMIT $10",
            &[
                &filter.id,
                &filter.open_id,
                &filter.first_name,
                &filter.last_name,
                &filter.email,
                &filter.mobile,
                &filter.address,
                &filter.user_id,
                &after_id,
                &limit,
            ],
        )
        .await?)
}

/// Which balances to list.
#[derive(Debug, Default)]
pub struct BalanceFilter {
    pub balance_id: Option<i64>,
    pub address: Option<String>,
    pub symbol: Option<String>,
    /// Only this user's (visibility).
    pub user_id: Option<String>,
    /// Only these users' (the user list's page).
    pub user_ids: Option<Vec<String>>,
}

pub async fn balances(
    client: &impl GenericClient,
    filter: &BalanceFilter,
    after_id: i64,
    limit: i64,
) -> Result<Vec<Row>, ProjectionError> {
    Ok(client
        .query(
            "SELECT jb.balance_id, w.address, jb.asset, coalesce(b.amount, 0), coalesce(b.locked, 0), jb.created_at, \
                    a.asset_id, a.name, a.decimals, a.contract_address, a.usd_price, a.icon_url, jb.user_id \
             FROM joy_balances jb \
             JOIN joy_wallets w ON w.user_id = jb.user_id \
             JOIN joy_assets a ON a.code = jb.asset \
             LEFT JOIN balances b ON b.account_id = jb.account_id \
             WHERE ($1::bigint IS NULL OR jb.balance_id = $1) AND ($2::text IS NULL OR w.address_lower = $2) \
               AND ($3::text IS NULL OR jb.asset = $3) AND ($4::text IS NULL OR jb.user_id = $4) \
               AND ($5::text[] IS NULL OR jb.user_id = ANY($5)) AND jb.balance_id > $6 \
             ORDER BY jb.balance_id LIMIT $7",
            &[
                &filter.balance_id,
                &filter.address,
                &filter.symbol,
                &filter.user_id,
                &filter.user_ids,
                &after_id,
                &limit,
            ],
        )
        .await?)
}

#[derive(Default)]
pub struct LockFilter {
    pub id: Option<i64>,
    pub balance_id: Option<i64>,
    pub address: Option<String>,
    pub symbol: Option<String>,
    pub user_id: Option<String>,
}

pub async fn locked_balances(
    client: &impl GenericClient,
    filter: &LockFilter,
    after_id: i64,
    limit: i64,
) -> Result<Vec<Row>, ProjectionError> {
    Ok(client
        .query(
            "SELECT l.locked_balance_id, l.balance_id, w.address, jb.asset, l.amount, l.processed, l.expires_at, l.created_at, a.decimals \
             FROM joy_locked_balances l \
             JOIN joy_balances jb ON jb.balance_id = l.balance_id \
             JOIN joy_wallets w ON w.user_id = jb.user_id \
             JOIN joy_assets a ON a.code = jb.asset \
             WHERE ($1::bigint IS NULL OR l.locked_balance_id = $1) AND ($2::bigint IS NULL OR l.balance_id = $2) \
               AND ($3::text IS NULL OR w.address_lower = $3) AND ($4::text IS NULL OR jb.asset = $4) \
               AND ($5::text IS NULL OR jb.user_id = $5) AND l.locked_balance_id > $6 \
             ORDER BY l.locked_balance_id LIMIT $7",
            &[&filter.id, &filter.balance_id, &filter.address, &filter.symbol, &filter.user_id, &after_id, &limit],
        )
        .await?)
}

#[derive(Default)]
pub struct MovementFilter {
    pub direction: Option<&'static str>,
    pub id: Option<i64>,
    pub txid: Option<String>,
    pub from_address: Option<String>,
    pub to_address: Option<String>,
    pub symbol: Option<String>,
    pub user_id: Option<String>,
    /// A deposit's to-address or a withdrawal's from-address (the transaction list).
    pub own_address: Option<String>,
}

pub async fn chain_transfers(
    client: &impl GenericClient,
    filter: &MovementFilter,
    after_id: i64,
    limit: i64,
) -> Result<Vec<Row>, ProjectionError> {
    Ok(client
        .query(
            "SELECT t.transfer_id, t.direction, t.txid, t.from_address, t.to_address, t.asset, t.amount, t.created_at, a.decimals \
             FROM joy_chain_transfers t \
             JOIN joy_balances jb ON jb.balance_id = t.balance_id \
             JOIN joy_assets a ON a.code = t.asset \
             WHERE ($1::text IS NULL OR t.direction = $1) AND ($2::bigint IS NULL OR t.transfer_id = $2) \
               AND ($3::text IS NULL OR t.txid = $3) AND ($4::text IS NULL OR t.from_address = $4) \
               AND ($5::text IS NULL OR t.to_address = $5) AND ($6::text IS NULL OR t.asset = $6) \
               AND ($7::text IS NULL OR jb.user_id = $7) \
               AND ($8::text IS NULL OR (t.direction = 'deposit' AND t.to_address = $8) OR (t.direction = 'withdraw' AND t.from_address = $8)) \
               AND t.transfer_id > $9 \
             ORDER BY t.transfer_id LIMIT $10",
            &[
                &filter.direction,
                &filter.id,
                &filter.txid,
                &filter.from_address,
                &filter.to_address,
                &filter.symbol,
                &filter.user_id,
                &filter.own_address,
                &after_id,
                &limit,
            ],
        )
        .await?)
}

/// Listed assets, optionally one id, one code, or one number of decimals.
pub async fn assets(
    client: &impl GenericClient,
    id: Option<i64>,
    code: Option<&str>,
    decimals: Option<i64>,
    after_id: i64,
    limit: i64,
) -> Result<Vec<Row>, ProjectionError> {
    Ok(client
        .query(
            "SELECT asset_id, name, code, decimals, contract_address, usd_price, icon_url, created_at FROM joy_assets \
             WHERE ($1::bigint IS NULL OR asset_id = $1) AND ($2::text IS NULL OR code = $2) AND ($3::bigint IS NULL OR decimals = $3) \
               AND asset_id > $4 ORDER BY asset_id LIMIT $5",
            &[&id, &code, &decimals, &after_id, &limit],
        )
        .await?)
}

/// A user's wallet: (wallet id, address).
pub async fn wallet_of_user(
    client: &impl GenericClient,
    user_id: &str,
) -> Result<Option<(i64, String)>, ProjectionError> {
    let row = client.query_opt("SELECT wallet_id, address FROM joy_wallets WHERE user_id = $1", &[&user_id]).await?;
    Ok(row.map(|row| (row.get(0), row.get(1))))
}

/// The user whose wallet has `address_lower` (an address in lower case).
pub async fn user_of_address(
    client: &impl GenericClient,
    address_lower: &str,
) -> Result<Option<String>, ProjectionError> {
    let row = client.query_opt("SELECT user_id FROM joy_wallets WHERE address_lower = $1", &[&address_lower]).await?;
    Ok(row.map(|row| row.get(0)))
}

/// The user whose wallet has the e-mail address `email_lower` (in lower case).
pub async fn user_of_email(client: &impl GenericClient, email_lower: &str) -> Result<Option<String>, ProjectionError> {
    let row = client.query_opt("SELECT user_id FROM joy_wallets WHERE lower(email) = $1", &[&email_lower]).await?;
    Ok(row.map(|row| row.get(0)))
}

/// Listed assets a user has no balance of yet: (code, decimals), in listing order.
pub async fn assets_without_balance(
    client: &impl GenericClient,
    user_id: &str,
) -> Result<Vec<(String, i32)>, ProjectionError> {
    let rows = client
        .query(
            "SELECT a.code, a.decimals FROM joy_assets a \
             WHERE NOT EXISTS (SELECT 1 FROM joy_balances b WHERE b.user_id = $1 AND b.asset = a.code) ORDER BY a.asset_id",
            &[&user_id],
        )
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// The API key whose SHA-256 digest is `key_sha256`: (e-mail, scopes).
pub async fn api_key(
    client: &impl GenericClient,
    key_sha256: &str,
) -> Result<Option<(String, Vec<String>)>, ProjectionError> {
    let row = client.query_opt("SELECT email, scopes FROM joy_api_keys WHERE key_sha256 = $1", &[&key_sha256]).await?;
    Ok(row.map(|row| (row.get(0), row.get(1))))
}
