//! The one registry of read models. The service spawns a projector for each entry,
//! `ledger replay` rebuilds and compares each entry's tables, and read-your-writes waits
//! for the entries writes are awaited by; nothing else lists read models.

use std::sync::LazyLock;

use deadpool_postgres::{GenericClient, Transaction};

use crate::engine::{EventHandler, PerEvent};
use crate::error::ProjectionError;
use crate::read_models::{
    AssetsProjector, BalancesProjector, ChannelsProjector, GradidoTransactionsProjector, GroupsProjector,
    HoldsProjector, JoyPlusProjector, PostingsProjector, Projector, QuickpayContactsProjector, UsersProjector,
};
use crate::writes::Writes;
use store::StoredEvent;

/// A read model's table and the key that orders its rows (for rebuild comparisons).
pub struct ReadTable {
    pub name: &'static str,
    pub order_by: &'static str,
}

/// One read model: the projector that builds it (by name), its tables, and whether a write
/// waits until it shows the write before answering.
pub struct ReadModel {
    pub name: &'static str,
    pub tables: &'static [ReadTable],
    pub read_your_writes: bool,
}

/// Every read model.
pub const ALL: &[ReadModel] = &[
    ReadModel {
        name: BalancesProjector::NAME,
        tables: &[ReadTable { name: "balances", order_by: "account_id" }],
        read_your_writes: true,
    },
    ReadModel {
        name: PostingsProjector::NAME,
        tables: &[ReadTable { name: "postings", order_by: "global_position, leg" }],
        read_your_writes: true,
    },
    ReadModel {
        name: HoldsProjector::NAME,
        tables: &[ReadTable { name: "holds", order_by: "account_id, hold_id" }],
        read_your_writes: true,
    },
    ReadModel {
        name: AssetsProjector::NAME,
        tables: &[ReadTable { name: "assets", order_by: "code" }],
        read_your_writes: true,
    },
    ReadModel {
        name: UsersProjector::NAME,
        tables: &[ReadTable { name: "users", order_by: "user_id" }],
        read_your_writes: true,
    },
    ReadModel {
        name: GroupsProjector::NAME,
        tables: &[ReadTable { name: "groups", order_by: "alias" }],
        read_your_writes: true,
    },
    ReadModel {
        name: GradidoTransactionsProjector::NAME,
        tables: &[ReadTable { name: "gradido_transactions", order_by: "transaction_id" }],
        read_your_writes: true,
    },
    ReadModel {
        name: QuickpayContactsProjector::NAME,
        tables: &[ReadTable { name: "quickpay_contacts", order_by: "owner, alias" }],
        read_your_writes: true,
    },
    ReadModel {
        name: ChannelsProjector::NAME,
        tables: &[ReadTable { name: "channels", order_by: "channelpoint" }],
        read_your_writes: true,
    },
    ReadModel {
        name: JoyPlusProjector::NAME,
        tables: &[
            ReadTable { name: "joy_wallets", order_by: "wallet_id" },
            ReadTable { name: "joy_api_keys", order_by: "email" },
            ReadTable { name: "joy_assets", order_by: "asset_id" },
            ReadTable { name: "joy_balances", order_by: "balance_id" },
            ReadTable { name: "joy_locked_balances", order_by: "locked_balance_id" },
            ReadTable { name: "joy_chain_transfers", order_by: "transfer_id" },
        ],
        read_your_writes: true,
    },
];

/// The read models a write must be visible in before it is acknowledged.
pub static READ_YOUR_WRITES: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| ALL.iter().filter(|model| model.read_your_writes).map(|model| model.name).collect());

/// Any one read-model projector, so rebuilds can iterate over them.
pub enum ReadModelProjector {
    Balances(BalancesProjector),
    Postings(PostingsProjector),
    Holds(PerEvent<HoldsProjector>),
    Assets(PerEvent<AssetsProjector>),
    Users(PerEvent<UsersProjector>),
    Groups(PerEvent<GroupsProjector>),
    GradidoTransactions(PerEvent<GradidoTransactionsProjector>),
    QuickpayContacts(PerEvent<QuickpayContactsProjector>),
    Channels(PerEvent<ChannelsProjector>),
    JoyPlus(PerEvent<JoyPlusProjector>),
}

impl ReadModelProjector {
    /// The projector of the read model named `name`, if there is one.
    pub fn named(name: &str) -> Option<Self> {
        Some(match name {
            BalancesProjector::NAME => Self::Balances(BalancesProjector::default()),
            PostingsProjector::NAME => Self::Postings(PostingsProjector::default()),
            HoldsProjector::NAME => Self::Holds(PerEvent(HoldsProjector)),
            AssetsProjector::NAME => Self::Assets(PerEvent(AssetsProjector)),
            UsersProjector::NAME => Self::Users(PerEvent(UsersProjector)),
            GroupsProjector::NAME => Self::Groups(PerEvent(GroupsProjector)),
            GradidoTransactionsProjector::NAME => Self::GradidoTransactions(PerEvent(GradidoTransactionsProjector)),
            QuickpayContactsProjector::NAME => Self::QuickpayContacts(PerEvent(QuickpayContactsProjector)),
            ChannelsProjector::NAME => Self::Channels(PerEvent(ChannelsProjector)),
            JoyPlusProjector::NAME => Self::JoyPlus(PerEvent(JoyPlusProjector::default())),
            _ => return None,
        })
    }

    /// The projector of a registered read model (the registry test proves there is one).
    pub fn of(model: &ReadModel) -> Self {
        Self::named(model.name).expect("every registered read model has a projector")
    }
}

impl Projector for ReadModelProjector {
    fn name(&self) -> &'static str {
        match self {
            Self::Balances(projector) => projector.name(),
            Self::Postings(projector) => projector.name(),
            Self::Holds(projector) => projector.name(),
            Self::Assets(projector) => projector.name(),
            Self::Users(projector) => projector.name(),
            Self::Groups(projector) => projector.name(),
            Self::GradidoTransactions(projector) => projector.name(),
            Self::QuickpayContacts(projector) => projector.name(),
            Self::Channels(projector) => projector.name(),
            Self::JoyPlus(projector) => projector.name(),
        }
    }

    async fn project(
        &self,
        client: &impl GenericClient,
        events: &[StoredEvent],
        writes: &mut Writes,
    ) -> Result<(), ProjectionError> {
        match self {
            Self::Balances(projector) => projector.project(client, events, writes).await,
            Self::Postings(projector) => projector.project(client, events, writes).await,
            Self::Holds(projector) => projector.project(client, events, writes).await,
            Self::Assets(projector) => projector.project(client, events, writes).await,
            Self::Users(projector) => projector.project(client, events, writes).await,
            Self::Groups(projector) => projector.project(client, events, writes).await,
            Self::GradidoTransactions(projector) => projector.project(client, events, writes).await,
            Self::QuickpayContacts(projector) => projector.project(client, events, writes).await,
            Self::Channels(projector) => projector.project(client, events, writes).await,
            Self::JoyPlus(projector) => projector.project(client, events, writes).await,
        }
    }
}

/// One read model run on its own (`ledger replay` compares them one at a time).
impl EventHandler for ReadModelProjector {
    fn name(&self) -> &'static str {
        Projector::name(self)
    }

    async fn handle_batch(&self, tx: &Transaction<'_>, events: &[StoredEvent]) -> Result<(), ProjectionError> {
        let mut writes = Writes::default();
        self.project(tx, events, &mut writes).await?;
        writes.send(tx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_read_model_has_a_projector_of_that_name() {
        for model in ALL {
            assert_eq!(Projector::name(&ReadModelProjector::of(model)), model.name);
        }
        assert!(ReadModelProjector::named("no_such_read_model").is_none());
    }

    #[test]
    fn read_model_names_and_tables_are_unique() {
        let mut names: Vec<_> = ALL.iter().map(|model| model.name).collect();
        let mut tables: Vec<_> = ALL.iter().flat_map(|model| model.tables.iter().map(|table| table.name)).collect();
        let (name_count, table_count) = (names.len(), tables.len());
        names.sort_unstable();
        names.dedup();
        tables.sort_unstable();
        tables.dedup();
        assert_eq!((names.len(), tables.len()), (name_count, table_count));
    }
}
