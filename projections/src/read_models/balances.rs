use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use domain::account::{locked_change, postings, AccountEvent};
use domain::system_account::parse_system_account;
use rust_decimal::Decimal;

use super::Projector;
use super::{at_scale, AccountAssets};
use crate::error::ProjectionError;
use crate::writes::Writes;
use store::StoredEvent;

/// `balances`: one row per account with amount, locked and available. A batch becomes two
/// statements: the accounts it opens, then one guarded upsert of each touched account's net
/// change, which records the last event applied to the row.
#[derive(Default)]
pub struct BalancesProjector {
    assets: AccountAssets,
}

impl BalancesProjector {
    pub const NAME: &'static str = "balances";
}

/// What a batch does to one account.
struct Change {
    asset: String,
    scale: domain::Scale,
    amount: Decimal,
    locked: Decimal,
    last_tx_id: i64,
    last_position: i64,
    updated_at: DateTime<Utc>,
}

#[derive(Default)]
struct Opened {
    account_id: Vec<String>,
    asset: Vec<String>,
    owner: Vec<Option<String>>,
    purpose: Vec<Option<String>>,
    zero: Vec<String>,
    tx_id: Vec<i64>,
    position: Vec<i64>,
    at: Vec<DateTime<Utc>>,
}

impl Projector for BalancesProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn project(
        &self,
        tx: &impl GenericClient,
        events: &[StoredEvent],
        writes: &mut Writes,
    ) -> Result<(), ProjectionError> {
        let mut opened = Opened::default();
        let mut changes: BTreeMap<String, Change> = BTreeMap::new();
        for event in events.iter().filter(|event| event.aggregate_type == "account") {
            let account_event: AccountEvent = event.decode()?;
            if let AccountEvent::AccountOpened { account_id, asset, scale, owner, purpose } = account_event {
                opened.account_id.push(account_id);
                opened.asset.push(asset.to_string());
                opened.owner.push(owner);
                opened.purpose.push(purpose);
                opened.zero.push(at_scale(Decimal::ZERO, scale));
                opened.tx_id.push(event.tx_id);
                opened.position.push(event.position);
                opened.at.push(event.recorded_at);
                continue;
            }
            let (asset, scale) = self.assets.of(tx, event).await?;
            let locked = locked_change(&account_event);
            let mut touched: Vec<(String, Decimal, Decimal)> = postings(&account_event, &event.aggregate_id, &asset)
                .into_iter()
                .map(|posting| (posting.account_id, posting.amount, Decimal::ZERO))
                .collect();
            if !locked.is_zero() {
                touched.push((event.aggregate_id.clone(), Decimal::ZERO, locked));
            }
            for (account_id, amount, locked) in touched {
                let change = changes.entry(account_id).or_insert_with(|| Change {
                    asset: asset.to_string(),
                    scale,
                    amount: Decimal::ZERO,
                    locked: Decimal::ZERO,
                    last_tx_id: event.tx_id,
                    last_position: event.position,
                    updated_at: event.recorded_at,
                });
                // Both are bounded by the accounts' balance limits; a sum past Decimal's range
                // would be a corrupt log, reported rather than a panic.
                change.amount = change.amount.checked_add(amount).ok_or_else(|| overflow(event))?;
                change.locked = change.locked.checked_add(locked).ok_or_else(|| overflow(event))?;
                change.last_tx_id = event.tx_id;
                change.last_position = event.position;
                change.updated_at = event.recorded_at;
            }
        }
        if !opened.account_id.is_empty() {
            writes.push(
                tx,
                "INSERT INTO balances (account_id, asset, is_system, owner, purpose, amount, locked, \
                                       last_tx_id, last_position, updated_at) \
                 SELECT account_id, asset, false, owner, purpose, zero, zero, tx_id, position, at \
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]::numeric[], $6::int8[], $7::int8[], \
                             $8::timestamptz[]) AS o(account_id, asset, owner, purpose, zero, tx_id, position, at) \
                 ON CONFLICT (account_id) DO NOTHING",
                &[&opened.account_id, &opened.asset, &opened.owner, &opened.purpose, &opened.zero, &opened.tx_id, &opened.position, &opened.at],
            )
            .await?;
        }
        if changes.is_empty() {
            return Ok(());
        }
        let is_system: Vec<bool> =
            changes.keys().map(|account_id| parse_system_account(account_id).is_some()).collect();
        let account_ids: Vec<&String> = changes.keys().collect();
        let changes: Vec<&Change> = changes.values().collect();
        let assets: Vec<&str> = changes.iter().map(|change| change.asset.as_str()).collect();
        let amounts: Vec<String> = changes.iter().map(|change| at_scale(change.amount, change.scale)).collect();
        let locked: Vec<String> = changes.iter().map(|change| at_scale(change.locked, change.scale)).collect();
        let tx_ids: Vec<i64> = changes.iter().map(|change| change.last_tx_id).collect();
        let positions: Vec<i64> = changes.iter().map(|change| change.last_position).collect();
        let updated: Vec<DateTime<Utc>> = changes.iter().map(|change| change.updated_at).collect();
        writes.push(
            tx,
            "INSERT INTO balances AS b (account_id, asset, is_system, amount, locked, last_tx_id, last_position, updated_at) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::bool[], $4::text[]::numeric[], $5::text[]::numeric[], $6::int8[], \
                                  $7::int8[], $8::timestamptz[]) \
             ON CONFLICT (account_id) DO UPDATE \
                SET amount = b.amount + excluded.amount, locked = b.locked + excluded.locked, \
                    last_tx_id = excluded.last_tx_id, last_position = excluded.last_position, \
                    updated_at = excluded.updated_at \
              WHERE (b.last_tx_id, b.last_position) < (excluded.last_tx_id, excluded.last_position)",
            &[&account_ids, &assets, &is_system, &amounts, &locked, &tx_ids, &positions, &updated],
        )
        .await?;
        Ok(())
    }
}

/// One account as the `balances` table shows it, amounts at its asset's scale.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountBalance {
    pub account_id: String,
    pub asset: String,
    pub owner: Option<String>,
    pub purpose: Option<String>,
    pub amount: Decimal,
    pub locked: Decimal,
    pub available: Decimal,
    pub scale: u32,
}

const ACCOUNT_COLUMNS: &str = "b.account_id, b.asset, b.owner, b.purpose, b.amount, b.locked, b.available, a.scale";
const ACCOUNTS_FROM: &str = "balances b JOIN assets a ON a.code = b.asset";

fn account_balance(row: &tokio_postgres::Row) -> AccountBalance {
    let scale = u32::try_from(row.get::<_, i32>("scale")).unwrap_or(0);
    let at_scale = |column: &str| {
        let mut value: Decimal = row.get(column);
        value.rescale(scale);
        value
    };
    AccountBalance {
        account_id: row.get("account_id"),
        asset: row.get("asset"),
        owner: row.get("owner"),
        purpose: row.get("purpose"),
        amount: at_scale("amount"),
        locked: at_scale("locked"),
        available: at_scale("available"),
        scale,
    }
}

/// The account `account_id`, if the read model shows it.
pub async fn account(client: &impl GenericClient, account_id: &str) -> Result<Option<AccountBalance>, ProjectionError> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS_FROM} WHERE b.account_id = $1");
    Ok(client.query_opt(&sql, &[&account_id]).await?.as_ref().map(account_balance))
}

/// Accounts in id order after `after`, optionally of one owner and one asset.
pub async fn accounts(
    client: &impl GenericClient,
    owner: Option<&str>,
    asset: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<AccountBalance>, ProjectionError> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS_FROM} \
         WHERE ($1::text IS NULL OR b.owner = $1) AND ($2::text IS NULL OR b.asset = $2) \
           AND ($3::text IS NULL OR b.account_id > $3) \
         ORDER BY b.account_id LIMIT $4"
    );
    Ok(client.query(&sql, &[&owner, &asset, &after, &limit]).await?.iter().map(account_balance).collect())
}

/// The amount and the available part of each of `account_ids` the read model shows.
pub async fn amounts(
    client: &impl GenericClient,
    account_ids: &[String],
) -> Result<Vec<(String, Decimal, Decimal)>, ProjectionError> {
    let rows = client
        .query("SELECT account_id, amount, available FROM balances WHERE account_id = ANY($1)", &[&account_ids])
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1), row.get(2))).collect())
}

fn overflow(event: &StoredEvent) -> ProjectionError {
    ProjectionError::Overflow { position: event.position }
}
