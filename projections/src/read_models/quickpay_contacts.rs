use deadpool_postgres::GenericClient;
use domain::lightning::AddressBookEvent;

use crate::engine::EventProjector;
use crate::error::ProjectionError;
use crate::writes::Writes;
use store::StoredEvent;

/// `quickpay_contacts`: each user's quickpay address book.
pub struct QuickpayContactsProjector;

impl QuickpayContactsProjector {
    pub const NAME: &'static str = "quickpay_contacts";
}

impl EventProjector for QuickpayContactsProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn handle(
        &self,
        tx: &impl GenericClient,
        writes: &mut Writes,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        if event.aggregate_type != "address_book" {
            return Ok(());
        }
        let AddressBookEvent::ContactSaved { alias, contact } = event.decode()?;
        writes.push(
            tx,
            "INSERT INTO quickpay_contacts AS c \
                 (owner, alias, payee_user, node_id, server, channel_server, last_tx_id, last_position, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (owner, alias) DO UPDATE SET payee_user = excluded.payee_user, node_id = excluded.node_id, \
                 server = excluded.server, channel_server = excluded.channel_server, \
                 last_tx_id = excluded.last_tx_id, last_position = excluded.last_position, updated_at = excluded.updated_at \
             WHERE (c.last_tx_id, c.last_position) < (excluded.last_tx_id, excluded.last_position)",
            &[
                &event.aggregate_id,
                &alias,
                &contact.payee_user,
                &contact.node_id,
                &contact.server,
                &contact.channel_server,
                &event.tx_id,
                &event.position,
                &event.recorded_at,
            ],
        )
        .await?;
        Ok(())
    }
}

/// One entry of a user's address book.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactRow {
    pub alias: String,
    pub node_id: String,
    pub payee_user: Option<String>,
    pub server: Option<String>,
    pub channel_server: Option<String>,
}

/// A user's address book, by alias.
pub async fn of_owner(client: &impl GenericClient, owner: &str) -> Result<Vec<ContactRow>, ProjectionError> {
    let rows = client
        .query(
            "SELECT alias, node_id, payee_user, server, channel_server FROM quickpay_contacts WHERE owner = $1 ORDER BY alias",
            &[&owner],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| ContactRow {
            alias: row.get(0),
            node_id: row.get(1),
            payee_user: row.get(2),
            server: row.get(3),
            channel_server: row.get(4),
        })
        .collect())
}
