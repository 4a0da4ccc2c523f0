//! Contacts between wallets, as the original's nodes found each other: `addcontact` (a
//! node code `pubkey@host:port[@webhost:webport]` and the wallet's `server`), `reconnect`,
//! and `requestinvoice`, which another wallet's quickpay calls without a session.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bitcoin::secp256k1::PublicKey;
use domain::lightning::{AddressBookCommand, Contact};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::str::FromStr;

use super::identity::user_of_node;
use super::payments::{amount_msat_in_unit, issue_invoice};
use super::session::SignedPost;
use super::wire::LightningError;
use super::LightningState;
use store::Operation;

/// A node code's parts: the key, where it takes channels, where its wallet takes requests.
pub(super) struct NodeCode {
    pub node_id: String,
    pub channel_server: Option<String>,
    pub server: Option<String>,
}

pub(super) fn parse_node_code(code: &str) -> Result<NodeCode, LightningError> {
    let mut parts = code.trim().splitn(3, '@');
    let key = parts.next().unwrap_or_default();
    let public_key = PublicKey::from_str(key).map_err(|_| LightningError::business("invalid node id"))?;
    let non_empty = |part: Option<&str>| part.filter(|part| !part.is_empty()).map(str::to_string);
    Ok(NodeCode {
        node_id: hex::encode(public_key.serialize()),
        channel_server: non_empty(parts.next()),
        server: non_empty(parts.next()),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AddContactRequest {
    alias: Option<String>,
    nodeid: Option<String>,
    server: Option<String>,
}

/// `{"alias","nodeid":"pubkey@host:port[@webhost:webport]","server"?}`: saves a contact
/// under its alias; a node of this server's users is paid directly.
#[utoipa::path(post, path = "/rest/v1/addcontact", tag = "mylightning", request_body = AddContactRequest, security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session; a bad CSRF token is a 200 business failure")))]
pub async fn add_contact(
    State(state): State<LightningState>,
    SignedPost { session, body }: SignedPost,
) -> Result<Json<Value>, LightningError> {
    let request: AddContactRequest = super::payments::parse(&body)?;
    let code = parse_node_code(request.nodeid.as_deref().unwrap_or_default())?;
    if code.channel_server.is_none() {
        return Err(LightningError::business("invalid node id: expected pubkey@host:port"));
    }
    let alias = request.alias.unwrap_or_default().trim().to_string();
    let contact = Contact {
        payee_user: user_of_node(&state, &code.node_id).await?,
        server: request.server.filter(|server| !server.trim().is_empty()).or(code.server),
        channel_server: code.channel_server,
        node_id: code.node_id,
    };
    let outcome = state
        .ledger
        .bus
        .execute(&session.user_id, AddressBookCommand::Save { alias, contact }, &Operation::fresh())
        .await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(Json(json!({})))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReconnectRequest {
    nodeid: Option<String>,
}

/// `{"nodeid"}`: the embedded node's peers are this server's users, always connected, so
/// there is nothing to reconnect; a node code that does not parse is refused.
#[utoipa::path(post, path = "/rest/v1/reconnect", tag = "mylightning", request_body = ReconnectRequest, security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session; a bad CSRF token is a 200 business failure")))]
pub async fn reconnect(SignedPost { body, .. }: SignedPost) -> Result<Json<Value>, LightningError> {
    let request: ReconnectRequest = super::payments::parse(&body)?;
    parse_node_code(request.nodeid.as_deref().unwrap_or_default())?;
    Ok(Json(json!({})))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RequestInvoiceRequest {
    pub_key: Option<String>,
    memo: Option<String>,
    /// A plain decimal number in the user's unit.
    #[schema(value_type = Option<f64>)]
    amount: Option<Box<RawValue>>,
}

/// `{"pub_key","memo","amount"}`, no session: an invoice of the user whose node has that
/// key (the amount in that user's unit), so another wallet's quickpay can pay them. 404 for
/// a key of no user here, as the original answered.
#[utoipa::path(post, path = "/rest/v1/requestinvoice", tag = "mylightning", request_body = RequestInvoiceRequest, responses((status = 200, description = "`{\"payment_request\"}`, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 404, description = "No user's node has that key")))]
pub async fn request_invoice(
    State(state): State<LightningState>,
    body: axum::body::Bytes,
) -> Result<Response, LightningError> {
    let request: RequestInvoiceRequest = super::payments::parse(&body)?;
    let node_id = request.pub_key.unwrap_or_default();
    let Some(payee) = user_of_node(&state, node_id.trim()).await? else {
        return Err(LightningError::new(StatusCode::NOT_FOUND, "no user's node has that key"));
    };
    let amount_msat = amount_msat_in_unit(&state, &payee, request.amount.as_deref())
        .await?
        .ok_or_else(|| LightningError::business("amount is required"))?;
    let memo = request.memo.unwrap_or_default();
    let payment_request = issue_invoice(&state, &payee, Some(amount_msat), memo).await?;
    Ok(Json(json!({ "payment_request": payment_request })).into_response())
}
