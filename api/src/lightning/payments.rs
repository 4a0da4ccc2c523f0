//! Invoices and payments. `createinvoice` makes a BOLT11 invoice signed by the node key;
//! `sendinvoice` settles an invoice of this node internally, exactly once (the transfer's
//! operation id is derived from the payment hash, which the event store accepts once);
//! invoices of other nodes go to the node, which finds no route. `quickpay` pays an alias
//! from the address book. Payments re-ask the user's password.

use std::str::FromStr;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::Secp256k1;
use chrono::Utc;
use domain::account::AccountCommand;
use domain::lightning::{AddressBookCommand, Contact, InvoiceCommand};
use lightning_invoice::{Bolt11Invoice, Bolt11InvoiceDescriptionRef, Currency, InvoiceBuilder, PaymentSecret};
use rand::RngCore;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use sha2::Digest;

use super::denomination;
use super::session::{SignedPost, WebSession};
use super::wallet::{account_id, ensure_accounts, Purpose, BTC_DECIMALS};
use super::wire::LightningError;
use super::LightningState;
use crate::client_address::ClientAddress;
use app::credentials::verify_password;
use app::ports::node::{ExternalPaymentError, LightningNode};
use app::use_cases::transfers::{self, TransferReceipt};
use app::AppError;
use projections::read_models::users::{self, UserKey};
use store::{ids, Operation};

/// Invoices expire after this long unless they say otherwise.
pub const DEFAULT_INVOICE_EXPIRY_SECONDS: u64 = 86_400;
const MIN_FINAL_CLTV_EXPIRY_DELTA: u64 = 144;
pub(super) const MSAT_PER_SAT: u64 = 1_000;
const SAT_PER_BTC: u64 = 100_000_000;

/// A JSON number (or decimal string) read from its literal text, never through a float.
pub(super) fn exact(raw: Option<&RawValue>) -> Result<Option<Decimal>, LightningError> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get().trim().trim_matches('"');
    if text == "null" {
        return Ok(None);
    }
    let well_formed = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    let value = well_formed.then(|| Decimal::from_str(text).ok()).flatten();
    value.map(Some).ok_or_else(|| LightningError::business("amount must be a plain decimal number"))
}

/// With `quickpay`, the answer names where this wallet takes invoice requests after the
/// invoice (`<invoice>@host:port`), as the original did.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateInvoiceRequest {
    /// A plain decimal number in the user's unit.
    #[schema(value_type = Option<f64>)]
    amount: Option<Box<RawValue>>,
    memo: Option<String>,
    quickpay: Option<bool>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SendInvoiceRequest {
    invoiceid: Option<String>,
    alias: Option<String>,
    password: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct QuickPayRequest {
    dest: Option<String>,
    /// A plain decimal number in the user's unit.
    #[schema(value_type = Option<f64>)]
    amount: Option<Box<RawValue>>,
    memo: Option<String>,
    password: Option<String>,
}

pub(super) fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, LightningError> {
    serde_json::from_slice(body).map_err(|error| LightningError::bad_request(format!("invalid request: {error}")))
}

/// BTC (up to 8 decimals, positive) to millisatoshi.
fn msat_from_btc(amount: Decimal) -> Result<u64, LightningError> {
    let invalid = || LightningError::business("amount must be a positive number of BTC with at most 8 decimals");
    if amount <= Decimal::ZERO || amount.normalize().scale() > BTC_DECIMALS {
        return Err(invalid());
    }
    let sats = amount.checked_mul(Decimal::from(SAT_PER_BTC)).ok_or_else(invalid)?.normalize();
    let sats = u64::try_from(sats.mantissa()).map_err(|_| invalid())?;
    sats.checked_mul(MSAT_PER_SAT).ok_or_else(invalid)
}

/// BTC (up to 8 decimals, positive) to satoshi.
pub(super) fn sat_from_btc(amount: Decimal) -> Result<u64, LightningError> {
    Ok(msat_from_btc(amount)? / MSAT_PER_SAT)
}

fn in_btc(amount: Decimal, unit: &str) -> Result<Decimal, LightningError> {
    denomination::to_btc(amount, unit).ok_or_else(|| LightningError::business("amount out of range"))
}

fn btc_from_msat(msat: u64) -> Result<Decimal, LightningError> {
    if !msat.is_multiple_of(MSAT_PER_SAT) {
        return Err(LightningError::business("amount must be whole satoshis"));
    }
    let sats = i64::try_from(msat / MSAT_PER_SAT).map_err(|_| LightningError::business("amount out of range"))?;
    Ok(Decimal::new(sats, BTC_DECIMALS))
}

/// The session user's password, confirming a payment or a channel close; throttled like a
/// login.
pub(super) async fn require_password(
    state: &LightningState,
    session: &WebSession,
    password: Option<String>,
    address: std::net::IpAddr,
) -> Result<(), LightningError> {
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let user = users::find(&client, UserKey::Id(&session.user_id))
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound("user"))?;
    drop(client);
    let attempt = state.credentials.begin(super::session::DIALECT, &session.user_id, address)?;
    if !verify_password(user.password_hash, password.unwrap_or_default()).await {
        attempt.failed();
        return Err(LightningError::business("invalid password"));
    }
    attempt.succeeded();
    Ok(())
}

#[utoipa::path(post, path = "/rest/v1/createinvoice", tag = "mylightning", request_body = CreateInvoiceRequest, security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session"), (status = 401, description = "No session; a bad CSRF token is a 200 business failure")))]
pub async fn create_invoice(
    State(state): State<LightningState>,
    headers: axum::http::HeaderMap,
    SignedPost { session, body }: SignedPost,
) -> Result<Json<Value>, LightningError> {
    let request: CreateInvoiceRequest = parse(&body)?;
    let amount_msat = amount_msat_in_unit(&state, &session.user_id, request.amount.as_deref()).await?;
    ensure_accounts(&state, &session.user_id).await?;
    let payment_request =
        issue_invoice(&state, &session.user_id, amount_msat, request.memo.unwrap_or_default()).await?;
    // A quickpay invoice names where the payee's wallet takes invoice requests, as the
    // original appended it; `sendinvoice` and `getinvoicedetails` read past it.
    let payment_request = if request.quickpay == Some(true) {
        format!("{payment_request}@{}", super::wallet::web_host(&headers))
    } else {
        payment_request
    };
    Ok(Json(json!({ "payment_request": payment_request })))
}

/// An amount the user typed, in their unit, as millisatoshi; none or zero for any amount.
pub(super) async fn amount_msat_in_unit(
    state: &LightningState,
    user_id: &str,
    amount: Option<&RawValue>,
) -> Result<Option<u64>, LightningError> {
    let unit = denomination::of_user(state, user_id).await?;
    let amount = exact(amount)?.filter(|amount| !amount.is_zero());
    amount.map(|amount| in_btc(amount, &unit)).transpose()?.map(msat_from_btc).transpose()
}

/// A BOLT11 invoice of `payee`, signed with the key of the payee's own node, recorded.
pub(super) async fn issue_invoice(
    state: &LightningState,
    payee: &str,
    amount_msat: Option<u64>,
    memo: String,
) -> Result<String, LightningError> {
    let mut preimage = [0_u8; 32];
    let mut secret = [0_u8; 32];
    rand::thread_rng().fill_bytes(&mut preimage);
    rand::thread_rng().fill_bytes(&mut secret);
    let payment_hash = sha256::Hash::hash(&preimage);
    let builder = InvoiceBuilder::new(Currency::from(state.node.network()))
        .description(memo.clone())
        .payment_hash(payment_hash)
        .payment_secret(PaymentSecret(secret))
        .current_timestamp()
        .min_final_cltv_expiry_delta(MIN_FINAL_CLTV_EXPIRY_DELTA)
        .expiry_time(Duration::from_secs(DEFAULT_INVOICE_EXPIRY_SECONDS));
    let builder = match amount_msat {
        Some(msat) => builder.amount_milli_satoshis(msat),
        None => builder,
    };
    let node_secret = state.node.user_secret_key(payee)?;
    let invoice = builder
        .build_signed(|hash| Secp256k1::new().sign_ecdsa_recoverable(hash, &node_secret))
        .map_err(|error| LightningError::business(format!("cannot create invoice: {error}")))?;
    let payment_request = invoice.to_string();
    let command = InvoiceCommand::Create {
        payee: payee.to_string(),
        amount_msat,
        description: memo,
        payment_request: payment_request.clone(),
        expires_at: Utc::now() + chrono::Duration::seconds(DEFAULT_INVOICE_EXPIRY_SECONDS as i64),
    };
    let hash_hex = payment_hash.to_string();
    let outcome = state.ledger.bus.execute(&hash_hex, command, &Operation::derived(ids::invoice(&hash_hex))).await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(payment_request)
}

#[utoipa::path(post, path = "/rest/v1/sendinvoice", tag = "mylightning", request_body = SendInvoiceRequest, security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session"), (status = 401, description = "No session; a bad CSRF token is a 200 business failure"), (status = 429, description = "Too many wrong passwords")))]
pub async fn send_invoice(
    State(state): State<LightningState>,
    ClientAddress(address): ClientAddress,
    SignedPost { session, body }: SignedPost,
) -> Result<Json<Value>, LightningError> {
    let request: SendInvoiceRequest = parse(&body)?;
    require_password(&state, &session, request.password, address).await?;
    let text = request.invoiceid.unwrap_or_default();
    let invoice = decode_invoice(&text)?;
    if invoice.currency() != Currency::from(state.node.network()) {
        return Err(LightningError::business("invoice is for another network"));
    }
    if invoice.is_expired() {
        return Err(LightningError::business("invoice is expired"));
    }
    let amount_msat =
        invoice.amount_milli_satoshis().ok_or_else(|| LightningError::business("invoice has no amount"))?;
    let payee_key = invoice.recover_payee_pub_key();
    // Invoices of this server's users, and those signed with the node's own key before
    // each user had a node key of their own.
    let ours = payee_key == state.node.public_key()
        || super::identity::user_of_node(&state, &hex::encode(payee_key.serialize())).await?.is_some();
    if !ours {
        let hash_hex = invoice.payment_hash().to_string();
        return pay_external(&state, &session.user_id, &invoice.to_string(), &hash_hex, amount_msat).await;
    }
    let hash_hex = invoice.payment_hash().to_string();
    let known = state.ledger.bus.load::<domain::lightning::Invoice>(&hash_hex).await?;
    let payee = known
        .created()
        .map(|created| created.payee.clone())
        .ok_or_else(|| LightningError::business("invoice not found"))?;
    let memo = invoice_memo(&invoice);
    let operation = Operation::keyed(
        ids::invoice_payment(&hash_hex),
        hex::encode(sha2::Sha256::digest(session.user_id.as_bytes())),
    );
    let paid = pay(&state, &session.user_id, &payee, btc_from_msat(amount_msat)?, memo, &operation).await;
    let mark_paid = InvoiceCommand::MarkPaid { payer: session.user_id.clone(), amount_msat };
    match paid {
        Ok(receipt) if !receipt.replayed => {}
        // The hash was paid before: by this user (a retry) or by someone else.
        Ok(_) | Err(AppError::IdempotencyKeyReused) => {
            let _ =
                state.ledger.bus.execute(&hash_hex, mark_paid, &Operation::derived(ids::invoice_paid(&hash_hex))).await;
            return Err(LightningError::business("invoice is already paid"));
        }
        Err(error) => return Err(error.into()),
    }
    let outcome =
        state.ledger.bus.execute(&hash_hex, mark_paid, &Operation::derived(ids::invoice_paid(&hash_hex))).await?;
    if let Some(alias) = request.alias.filter(|alias| !alias.is_empty()) {
        let node_id = hex::encode(state.node.user_public_key(&payee)?.serialize());
        let contact = Contact { payee_user: Some(payee), node_id, server: None, channel_server: None };
        let saved = state
            .ledger
            .bus
            .execute(&session.user_id, AddressBookCommand::Save { alias, contact }, &Operation::fresh())
            .await?;
        if let Some(event) = saved.event() {
            state.ledger.await_read_models(event).await;
        }
    }
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(Json(json!({})))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct InvoiceDetailsRequest {
    payment_request: Option<String>,
}

/// `{"payment_request"}` -> what the pay dialog shows before `sendinvoice`: `amount` in the
/// user's unit, `memo`, `destination` (the payee's node key), `timestamp` (Unix seconds).
#[utoipa::path(post, path = "/rest/v1/getinvoicedetails", tag = "mylightning", request_body = InvoiceDetailsRequest, security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session; a bad CSRF token is a 200 business failure")))]
pub async fn get_invoice_details(
    State(state): State<LightningState>,
    SignedPost { session, body }: SignedPost,
) -> Result<Json<Value>, LightningError> {
    let request: InvoiceDetailsRequest = parse(&body)?;
    let text = request.payment_request.unwrap_or_default();
    let invoice = decode_invoice(&text)?;
    let unit = denomination::of_user(&state, &session.user_id).await?;
    let amount = match invoice.amount_milli_satoshis() {
        Some(msat) => super::wallet::number(btc_from_msat(msat)?, &unit)?,
        None => super::wallet::number(Decimal::ZERO, &unit)?,
    };
    Ok(Json(json!({
        "destination": hex::encode(invoice.recover_payee_pub_key().serialize()),
        "amount": amount,
        "timestamp": invoice.duration_since_epoch().as_secs(),
        "memo": invoice_memo(&invoice).unwrap_or_default(),
    })))
}

/// A BOLT11 invoice as a wallet pastes or scans it: with or without `lightning:`, and with
/// the quickpay suffix (`@host:port`) this wallet's `createinvoice` may add.
fn decode_invoice(text: &str) -> Result<Bolt11Invoice, LightningError> {
    let text = text.trim();
    let text = text.strip_prefix("lightning:").unwrap_or(text);
    let text = text.split('@').next().unwrap_or_default();
    Bolt11Invoice::from_str(text).map_err(|_| LightningError::business("invalid invoice"))
}

fn invoice_memo(invoice: &Bolt11Invoice) -> Option<String> {
    match invoice.description() {
        Bolt11InvoiceDescriptionRef::Direct(description) => Some(description.to_string()),
        Bolt11InvoiceDescriptionRef::Hash(_) => None,
    }
}

#[utoipa::path(post, path = "/rest/v1/quickpay", tag = "mylightning", request_body = QuickPayRequest, security(("lightning_session" = [])), responses((status = 200, description = "Success, or a business failure as `{\"error\":{\"message\"}}`"), (status = 400, description = "Malformed input"), (status = 401, description = "No session"), (status = 401, description = "No session; a bad CSRF token is a 200 business failure"), (status = 429, description = "Too many wrong passwords")))]
pub async fn quickpay(
    State(state): State<LightningState>,
    ClientAddress(address): ClientAddress,
    SignedPost { session, body }: SignedPost,
) -> Result<Json<Value>, LightningError> {
    let request: QuickPayRequest = parse(&body)?;
    require_password(&state, &session, request.password, address).await?;
    let dest = request.dest.unwrap_or_default();
    let book = state.ledger.bus.load::<domain::lightning::AddressBook>(&session.user_id).await?;
    // The client names the contact by its node key; an alias names it too.
    let contact = book
        .contact_of_node(&dest)
        .or_else(|| book.contact(&dest))
        .cloned()
        .ok_or_else(|| LightningError::business("Cannot find address to request invoice."))?;
    let payee = match contact.payee_user {
        Some(payee) => payee,
        // A contact saved before its node became a user of this server.
        None => super::identity::user_of_node(&state, &contact.node_id)
            .await?
            .ok_or_else(|| LightningError::business("no route to the destination node"))?,
    };
    let amount = exact(request.amount.as_deref())?.ok_or_else(|| LightningError::business("amount is required"))?;
    let unit = denomination::of_user(&state, &session.user_id).await?;
    let amount = btc_from_msat(msat_from_btc(in_btc(amount, &unit)?)?)?;
    pay(&state, &session.user_id, &payee, amount, request.memo, &Operation::fresh()).await?;
    Ok(Json(json!({})))
}

/// Pays an invoice of another node through the node. The amount is held on the payer's
/// Lightning funds first, so whatever the node does, money can only leave once and only if
/// it was there: captured to `world` when the node paid, released when it did not.
async fn pay_external(
    state: &LightningState,
    payer: &str,
    payment_request: &str,
    hash_hex: &str,
    amount_msat: u64,
) -> Result<Json<Value>, LightningError> {
    let bus = &state.ledger.bus;
    let lightning = account_id(payer, Purpose::Lightning);
    let hold = AccountCommand::PlaceHold {
        hold_id: hash_hex.to_string(),
        amount: btc_from_msat(amount_msat)?,
        expires_at: Some(Utc::now() + chrono::Duration::hours(1)),
        memo: Some("outgoing payment".to_string()),
        now: Utc::now(),
    };
    bus.execute(&lightning, hold, &Operation::derived(ids::external_hold(hash_hex))).await?;
    match state.node.pay_external(payment_request, amount_msat) {
        Ok(()) => {
            let world = domain::system_account::SystemAccountKind::World.account_id(&domain::AssetCode::parse("BTC")?);
            let operation = Operation::derived(ids::external_settle(hash_hex));
            let transfer_id = ids::external_transfer(hash_hex);
            let receipt =
                transfers::capture_hold(bus, &lightning, hash_hex, &world, transfer_id, None, &operation).await?;
            state.ledger.await_read_models(&receipt.last_event).await;
            Ok(Json(json!({})))
        }
        Err(ExternalPaymentError::NoRoute) => {
            let release = AccountCommand::ReleaseHold { hold_id: hash_hex.to_string() };
            let operation = Operation::derived(ids::external_release(hash_hex));
            let outcome = bus.execute(&lightning, release, &operation).await?;
            if let Some(event) = outcome.event() {
                state.ledger.await_read_models(event).await;
            }
            Err(LightningError::business("no route to the destination node"))
        }
    }
}

/// Moves `amount` from the payer's Lightning funds to the payee's, completing inline.
async fn pay(
    state: &LightningState,
    payer: &str,
    payee: &str,
    amount: Decimal,
    memo: Option<String>,
    operation: &Operation,
) -> Result<TransferReceipt, AppError> {
    ensure_accounts(state, payer).await?;
    let from = account_id(payer, Purpose::Lightning);
    let to = account_id(payee, Purpose::Lightning);
    let receipt = transfers::send(&state.ledger.bus, &from, &to, amount, memo, operation).await?;
    if !receipt.replayed {
        state.ledger.await_read_models(&receipt.last_event).await;
    }
    Ok(receipt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_amount_past_what_millisatoshis_can_count_is_refused_not_a_panic() {
        assert!(msat_from_btc(Decimal::from_f64_retain(8e20).unwrap()).is_err());
        assert!(msat_from_btc(Decimal::MAX).is_err());
        assert_eq!(msat_from_btc(Decimal::new(1, 8)).ok(), Some(1_000));
    }
}
