//! `createTransaction` with every answer of the seed, and the lifecycle endpoints this
//! service adds: `signTransaction`, `cancelTransaction`, `getRunningUserTasks`,
//! `listTransactions`.

use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, NaiveDate, Utc};
use domain::gradido::TransactionCommand;
use domain::user::UserCommand;
use domain::{Amount, Scale};
use serde_json::{json, Map, Value};

use super::login::{find_user, require_admin};
use super::sessions::{self, Session};
use super::wallet::{cents_from_gdd, ensure_account, gdd_from_cents, GDD_DECIMALS};
use super::wire::{success, GradidoError, Params};
use super::GradidoState;
use app::process_managers::gradido_settlement::release;
use app::use_cases::gradido;
use app::AppError;
use projections::read_models::gradido_transactions::{self, TransactionRow};
use projections::read_models::users::UserKey;
use store::{ids, Operation};

/// A creation's amount must lie in ]0, MAX_CREATION_CENTS] GDD-cent.
const MAX_CREATION_CENTS: i64 = 10_000_000;
const MAX_MEMO_LEN: usize = 512;
/// A transfer's memo has 5 to 150 characters, as the original server required.
const TRANSFER_MEMO_CHARS: std::ops::RangeInclusive<usize> = 5..=150;
/// The ledgers the original server could send to; here both are this ledger.
const BLOCKCHAIN_TYPES: [&str; 2] = ["mysql", "hedera"];
const DEFAULT_BLOCKCHAIN_TYPE: &str = "mysql";
const MAX_TRANSACTIONS_LISTED: i64 = 100;

struct Receiver {
    user_id: String,
    group_alias: Option<String>,
}

#[utoipa::path(method(get, post), path = "/login_api/createTransaction", tag = "gradido", request_body(content = super::requests::CreateTransaction, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn create(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    let blockchain_type = params.text("blockchain_type").unwrap_or(DEFAULT_BLOCKCHAIN_TYPE);
    if !BLOCKCHAIN_TYPES.contains(&blockchain_type) {
        return Err(GradidoError::new("error", "unknown blockchain type"));
    }
    let session = sessions::require(&state, &params).await?;
    let auto_sign = params.flag("auto_sign").unwrap_or(false);
    match params.text("transaction_type") {
        Some("transfer") => create_transfer(&state, &session, &params, auto_sign).await,
        Some("creation") => create_creation(&state, &session, &params, auto_sign).await,
        Some("groupMemberUpdate") => update_group(&state, &session, &params).await,
        _ => Err(GradidoError::new("error", "transaction_type unknown")),
    }
}

async fn create_transfer(
    state: &GradidoState,
    session: &Session,
    params: &Params,
    auto_sign: bool,
) -> Result<Response, GradidoError> {
    let receiver = find_receiver(state, params).await?;
    let memo_chars = params.get("memo").and_then(Value::as_str).map_or(0, |memo| memo.chars().count());
    if !TRANSFER_MEMO_CHARS.contains(&memo_chars) {
        return Err(GradidoError::new("error", "memo is not set or not in expected range [5;150]"));
    }
    if let Some(group) = params.text("target_group") {
        if !state.ledger.bus.load::<domain::gradido::Group>(group).await?.exists() {
            return Err(GradidoError::new("error", "target_group not found"));
        }
        match &receiver.group_alias {
            None => return Err(GradidoError::new("error", "receiver user hasn't group")),
            Some(alias) if alias != group => {
                return Err(GradidoError::with_details(
                    "error",
                    "user not in group",
                    "receiver user isn't in target group",
                ))
            }
            Some(_) => {}
        }
    }
    let cents = params.integer("amount").filter(|cents| *cents > 0);
    let Some(cents) = cents else {
        return Err(GradidoError::with_details("invalid parameter", "invalid amount", "GDD amount in GDD cent > 0"));
    };
    if receiver.user_id == session.user_id {
        return Err(GradidoError::new("error", "sender and receiver are the same"));
    }
    let memo = memo(params)?;
    let amount = gdd_amount(cents)?;
    let from_account = ensure_account(state, &session.user_id).await?;
    let to_account = ensure_account(state, &receiver.user_id).await?;
    let transfer = gradido::NewTransfer {
        initiator: session.user_id.clone(),
        from_account,
        fingerprint: format!("transfer|{}|{cents}|{memo}", receiver.user_id),
        recipient: receiver.user_id,
        to_account,
        amount,
        memo,
    };
    let created = gradido::create_transfer(&state.ledger.bus, transfer).await?;
    answer(state, session, created, auto_sign).await
}

async fn create_creation(
    state: &GradidoState,
    session: &Session,
    params: &Params,
    auto_sign: bool,
) -> Result<Response, GradidoError> {
    require_admin(state, &session.user_id).await?;
    let invalid_amount =
        || GradidoError::with_details("invalid parameter", "invalid amount", "GDD amount in GDD cent ]0,10000000]");
    let cents = params.integer("amount").ok_or_else(invalid_amount)?;
    if !(1..=MAX_CREATION_CENTS).contains(&cents) {
        return Err(invalid_amount());
    }
    let target_date = parse_target_date(params)?;
    let receiver = find_receiver(state, params).await?;
    let memo = memo(params)?;
    let amount = gdd_amount(cents)?;
    let to_account = ensure_account(state, &receiver.user_id).await?;
    let creation = gradido::NewCreation {
        initiator: session.user_id.clone(),
        fingerprint: format!("creation|{}|{cents}|{target_date}|{memo}", receiver.user_id),
        recipient: receiver.user_id,
        to_account,
        amount,
        target_month: month_start(target_date),
        memo,
    };
    let created = gradido::create_creation(&state.ledger.bus, creation).await?;
    answer(state, session, created, auto_sign).await
}

async fn update_group(state: &GradidoState, session: &Session, params: &Params) -> Result<Response, GradidoError> {
    let Some(group) = params.text("target_group") else {
        return Err(GradidoError::new("error", "target_group not found"));
    };
    if !state.ledger.bus.load::<domain::gradido::Group>(group).await?.exists() {
        return Err(GradidoError::new("error", "target_group not found"));
    }
    let command = UserCommand::JoinGroup { group_alias: group.to_string() };
    let outcome = state.ledger.bus.execute(&session.user_id, command, &Operation::fresh()).await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    Ok(success(json!({})))
}

/// The new transaction's id; with `auto_sign` it is signed at once, as the original server
/// signed for a caller that asked it to.
async fn answer(
    state: &GradidoState,
    session: &Session,
    created: gradido::CreatedTransaction,
    auto_sign: bool,
) -> Result<Response, GradidoError> {
    let mut last_event = created.event;
    if auto_sign {
        last_event = sign_as(state, &created.id, &session.user_id).await?.or(last_event);
    }
    if let Some(event) = &last_event {
        state.ledger.await_read_models(event).await;
    }
    Ok(success(json!({ "transaction_id": created.id })))
}

async fn sign_as(state: &GradidoState, id: &str, user_id: &str) -> Result<Option<store::StoredEvent>, AppError> {
    let command = TransactionCommand::Sign { user: user_id.to_string(), at: Utc::now() };
    let outcome = state.ledger.bus.execute(id, command, &Operation::derived(ids::gradido_sign(id))).await?;
    Ok(outcome.event().cloned())
}

/// `{"session_id","transaction_id"}`: the initiator signs; the transaction goes to the network.
#[utoipa::path(method(get, post), path = "/login_api/signTransaction", tag = "gradido", request_body(content = super::requests::TransactionById, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn sign(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    let session = sessions::require(&state, &params).await?;
    let id = transaction_id(&params)?;
    if let Some(event) = sign_as(&state, id, &session.user_id).await? {
        state.ledger.await_read_models(&event).await;
    }
    Ok(success(json!({})))
}

/// `{"session_id","transaction_id"}`: the initiator cancels a pending transaction, which
/// gives back what it reserved.
#[utoipa::path(method(get, post), path = "/login_api/cancelTransaction", tag = "gradido", request_body(content = super::requests::TransactionById, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn cancel(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    let session = sessions::require(&state, &params).await?;
    let id = transaction_id(&params)?;
    let command = TransactionCommand::Cancel { user: session.user_id };
    let outcome = state.ledger.bus.execute(id, command, &Operation::derived(ids::gradido_cancel(id))).await?;
    let transaction = state.ledger.bus.load::<domain::gradido::GradidoTransaction>(id).await?;
    let released = match transaction.details() {
        Some(details) => release(&state.ledger.bus, id, details).await?,
        None => None,
    };
    // The release comes after the cancellation in the log; waiting for it covers both.
    if let Some(event) = released.as_ref().or(outcome.event()) {
        state.ledger.await_read_models(event).await;
    }
    Ok(success(json!({})))
}

/// `{"email"}`, no session needed: how many of the user's tasks run, per task type, as
/// the community server polls it (`prepare transaction`: created, waiting to be signed;
/// `sign transaction`: signed, waiting for the network). With a live `session_id` the
/// answer also lists that session user's running transactions (`tasks`).
#[utoipa::path(method(get, post), path = "/login_api/getRunningUserTasks", tag = "gradido", request_body(content = super::requests::RunningUserTasks, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn running_tasks(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    let session = match params.session_id() {
        Some(session_id) => sessions::find(&state, session_id).await?,
        None => None,
    };
    let user_id = match (params.text("email"), &session) {
        (Some(email), _) => find_user(&state, UserKey::Email(email)).await?.map(|user| user.user_id),
        (None, Some(session)) => Some(session.user_id.clone()),
        (None, None) => return Err(GradidoError::new("error", "empty email")),
    };
    let mut running = Map::new();
    if let Some(user_id) = &user_id {
        let (pending, executing) = running_counts(&state, user_id).await?;
        for (task, count) in [("prepare transaction", pending), ("sign transaction", executing)] {
            if count > 0 {
                running.insert(task.to_string(), json!(count));
            }
        }
    }
    let mut answer = json!({ "runningTasks": running });
    if let Some(session) = session {
        let client = state.ledger.reads.get().await.map_err(AppError::from)?;
        let rows = gradido_transactions::running(&client, &session.user_id, MAX_TRANSACTIONS_LISTED)
            .await
            .map_err(AppError::from)?;
        answer["tasks"] = json!(rows.into_iter().map(transaction_view).collect::<Vec<_>>());
    }
    Ok(success(answer))
}

/// The session user's transactions, sent or received, newest first.
#[utoipa::path(method(get, post), path = "/login_api/listTransactions", tag = "gradido", request_body(content = super::requests::Session, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn list(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    let session = sessions::require(&state, &params).await?;
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let rows = gradido_transactions::of_user(&client, &session.user_id, MAX_TRANSACTIONS_LISTED)
        .await
        .map_err(AppError::from)?;
    Ok(success(json!({ "transactions": rows.into_iter().map(transaction_view).collect::<Vec<_>>() })))
}

/// How many of a user's transactions are pending and executing.
pub async fn running_counts(state: &GradidoState, user_id: &str) -> Result<(i64, i64), AppError> {
    let client = state.ledger.reads.get().await?;
    Ok(gradido_transactions::running_counts(&client, user_id).await?)
}

fn transaction_view(row: TransactionRow) -> Value {
    json!({
        "transaction_id": row.transaction_id,
        "type": row.kind,
        "sender": row.initiator,
        "receiver": row.recipient,
        "amount": cents_from_gdd(row.amount),
        "target_date": row.target_date.map(|date| date.to_string()),
        "memo": row.memo,
        "status": row.status,
        "reason": row.reason,
        "created": row.created_at.to_rfc3339(),
    })
}

/// The receiver named by `target_email`, `target_username` or `target_pubkey`.
async fn find_receiver(state: &GradidoState, params: &Params) -> Result<Receiver, GradidoError> {
    let key = if let Some(email) = params.text("target_email") {
        UserKey::Email(email)
    } else if let Some(username) = params.text("target_username") {
        UserKey::Username(username)
    } else if let Some(pubkey) = params.text("target_pubkey") {
        UserKey::PublicHex(pubkey)
    } else {
        return Err(GradidoError::new("not found", "receiver not found"));
    };
    let user = find_user(state, key).await?.ok_or_else(|| GradidoError::new("not found", "receiver not found"))?;
    if user.disabled {
        return Err(GradidoError::new("disabled", "receiver is disabled"));
    }
    Ok(Receiver { user_id: user.user_id, group_alias: user.group_alias })
}

fn memo(params: &Params) -> Result<String, GradidoError> {
    let memo = params.get("memo").and_then(Value::as_str).unwrap_or_default();
    if memo.len() > MAX_MEMO_LEN {
        return Err(GradidoError::with_details(
            "invalid parameter",
            "invalid memo",
            format!("at most {MAX_MEMO_LEN} bytes"),
        ));
    }
    Ok(memo.to_string())
}

fn gdd_amount(cents: i64) -> Result<Amount, GradidoError> {
    let scale = Scale::new(GDD_DECIMALS).map_err(AppError::from)?;
    Amount::positive(gdd_from_cents(cents), scale)
        .map_err(|error| GradidoError::with_details("invalid parameter", "invalid amount", error.to_string()))
}

fn transaction_id(params: &Params) -> Result<&str, GradidoError> {
    params.text("transaction_id").ok_or_else(|| GradidoError::new("error", "parameter format unknown"))
}

/// `target_date` (`YYYY-MM-DD`, a time after it is ignored) within this month or the two
/// before it.
fn parse_target_date(params: &Params) -> Result<NaiveDate, GradidoError> {
    let invalid = || {
        GradidoError::with_details(
            "invalid parameter",
            "invalid target_date",
            "within the current month or the two before",
        )
    };
    let text = params.text("target_date").ok_or_else(invalid)?;
    let date = text.get(..10).and_then(|day| NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()).ok_or_else(invalid)?;
    let this_month = month_start(Utc::now().date_naive());
    let earliest = this_month.checked_sub_months(chrono::Months::new(2)).ok_or_else(invalid)?;
    let next_month = this_month.checked_add_months(chrono::Months::new(1)).ok_or_else(invalid)?;
    if date < earliest || date >= next_month {
        return Err(invalid());
    }
    Ok(date)
}

fn month_start(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("every month has a first day")
}
