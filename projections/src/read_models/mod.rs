//! The read models: relational tables the GET endpoints and analysts query. Each is built by
//! one projector, only from events, and can be rebuilt from scratch with identical contents.

mod assets;
mod balances;
mod holds;
mod postings;
mod users;

pub use assets::AssetsProjector;
pub use balances::BalancesProjector;
pub use holds::HoldsProjector;
pub use postings::PostingsProjector;
pub use users::UsersProjector;

use domain::AssetCode;
use tokio_postgres::Transaction;

use crate::error::ProjectionError;
use crate::event_log::StoredEvent;

/// A read model's table and the key that orders its rows (for rebuild comparisons).
pub struct ReadTable {
    pub name: &'static str,
    pub order_by: &'static str,
}

/// Every read model, by projector name, with its tables.
pub const READ_MODELS: [(&str, &[ReadTable]); 5] = [
    (BalancesProjector::NAME, &[ReadTable { name: "balances", order_by: "account_id" }]),
    (PostingsProjector::NAME, &[ReadTable { name: "postings", order_by: "global_position, leg" }]),
    (HoldsProjector::NAME, &[ReadTable { name: "holds", order_by: "account_id, hold_id" }]),
    (AssetsProjector::NAME, &[ReadTable { name: "assets", order_by: "code" }]),
    (UsersProjector::NAME, &[ReadTable { name: "users", order_by: "user_id" }]),
];

/// Names of the read models a write must be visible in before it is acknowledged.
pub const READ_YOUR_WRITES: [&str; 5] =
    [BalancesProjector::NAME, PostingsProjector::NAME, HoldsProjector::NAME, AssetsProjector::NAME, UsersProjector::NAME];

/// The asset of an account, from its own opening event (sequence 1). Each projector reads it
/// from the log rather than from another read model, so projectors never depend on each
/// other's progress.
pub(crate) async fn account_asset(tx: &Transaction<'_>, event: &StoredEvent) -> Result<AssetCode, ProjectionError> {
    let row = tx
        .query_opt(
            "SELECT payload -> 'AccountOpened' ->> 'asset' FROM events \
             WHERE aggregate_type = 'account' AND aggregate_id = $1 AND sequence = 1",
            &[&event.aggregate_id],
        )
        .await?;
    let unknown = || ProjectionError::UnknownAccount { position: event.position, account_id: event.aggregate_id.clone() };
    let code: Option<String> = row.map(|row| row.get(0)).ok_or_else(unknown)?;
    AssetCode::parse(&code.ok_or_else(unknown)?).map_err(|_| unknown())
}
