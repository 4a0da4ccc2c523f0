//! Each wallet user's own node identity: a key the embedded node derives per user, and the
//! table that finds the user again by that key (for `requestinvoice`, contacts, payments).

use super::LightningState;
use app::AppError;

/// `user_id`'s node key (hex), recorded so the user can be found by it.
pub async fn remember(state: &LightningState, user_id: &str) -> Result<String, AppError> {
    let node_pubkey = hex::encode(state.node.user_public_key(user_id)?.serialize());
    let client = state.ledger.reads.get().await?;
    client
        .execute(
            "INSERT INTO lightning_identities (node_pubkey, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&node_pubkey, &user_id],
        )
        .await?;
    Ok(node_pubkey)
}

/// The user of this server whose node has the key `node_pubkey` (hex).
pub async fn user_of_node(state: &LightningState, node_pubkey: &str) -> Result<Option<String>, AppError> {
    let client = state.ledger.reads.get().await?;
    let row = client
        .query_opt("SELECT user_id FROM lightning_identities WHERE node_pubkey = lower($1)", &[&node_pubkey])
        .await?;
    Ok(row.map(|row| row.get(0)))
}
