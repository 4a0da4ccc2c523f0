//! The read models: relational tables the GET endpoints and analysts query. Each module holds
//! one read model: its projector and the queries the service reads it with. Each is built by
//! one projector, only from events, and can be rebuilt from scratch with identical contents.

pub mod assets;
pub mod balances;
pub mod channels;
pub mod gradido_transactions;
pub mod groups;
pub mod holds;
pub mod joy_plus;
pub mod postings;
pub mod quickpay_contacts;
pub mod users;

pub use assets::AssetsProjector;
pub use balances::BalancesProjector;
pub use channels::ChannelsProjector;
pub use gradido_transactions::GradidoTransactionsProjector;
pub use groups::GroupsProjector;
pub use holds::HoldsProjector;
pub use joy_plus::{JoyPlusProjector, JOY_PLUS_PURPOSE};
pub use postings::PostingsProjector;
pub use quickpay_contacts::QuickpayContactsProjector;
pub use users::UsersProjector;

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use std::future::Future;

use deadpool_postgres::GenericClient;
use domain::{AssetCode, Scale};
use rust_decimal::Decimal;

use crate::error::ProjectionError;
use crate::writes::Writes;
use store::StoredEvent;

/// A read model: the writes that apply a page of events to its tables. It decides from
/// the events alone, so a page's writes never wait for one another and go out together
/// (`crate::writes`); a lookup it needs (an account's asset) reads through `client`.
pub trait Projector: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// Adds the writes that apply `events`, in log order, to `writes`.
    fn project(
        &self,
        client: &impl GenericClient,
        events: &[StoredEvent],
        writes: &mut Writes,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;
}

/// Money as exact text at the asset's scale. rust_decimal's binary encoding drops the scale
/// of a zero, and numeric text is what analysts and rebuild comparisons see, so amounts go
/// to PostgreSQL as text (`$n::text[]::numeric[]`) with exactly the asset's decimals.
pub(crate) fn at_scale(value: Decimal, scale: Scale) -> String {
    let mut value = value;
    value.rescale(scale.decimals());
    value.to_string()
}

/// Accounts remembered before the cache starts over (it only saves lookups).
const MAX_CACHED_ACCOUNT_ASSETS: usize = 100_000;

/// The asset of each account, from the account's own opening event (sequence 1). Projectors
/// read it from the log rather than from another read model, so they never depend on each
/// other's progress; an account's asset never changes, so remembering it is always right.
#[derive(Default)]
pub struct AccountAssets {
    known: Mutex<HashMap<String, (AssetCode, Scale)>>,
}

impl AccountAssets {
    pub(crate) async fn of(
        &self,
        tx: &impl GenericClient,
        event: &StoredEvent,
    ) -> Result<(AssetCode, Scale), ProjectionError> {
        let known = self.known.lock().unwrap_or_else(PoisonError::into_inner).get(&event.aggregate_id).cloned();
        if let Some(asset) = known {
            return Ok(asset);
        }
        let statement = tx
            .prepare_cached(
                "SELECT payload -> 'AccountOpened' ->> 'asset', (payload -> 'AccountOpened' ->> 'scale')::int4 FROM events \
                 WHERE aggregate_type = 'account' AND aggregate_id = $1 AND sequence = 1",
            )
            .await?;
        let row = tx.query_opt(&statement, &[&event.aggregate_id]).await?;
        let unknown =
            || ProjectionError::UnknownAccount { position: event.position, account_id: event.aggregate_id.clone() };
        let row = row.ok_or_else(unknown)?;
        let code: Option<String> = row.get(0);
        let scale: Option<i32> = row.get(1);
        let asset = AssetCode::parse(&code.ok_or_else(unknown)?).map_err(|_| unknown())?;
        let scale = scale
            .and_then(|scale| u32::try_from(scale).ok())
            .and_then(|scale| Scale::new(scale).ok())
            .ok_or_else(unknown)?;
        let asset = (asset, scale);
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        if known.len() >= MAX_CACHED_ACCOUNT_ASSETS {
            known.clear();
        }
        known.insert(event.aggregate_id.clone(), asset.clone());
        Ok(asset)
    }
}
