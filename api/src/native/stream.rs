//! `GET /v1/events/stream?after=<position>`: every event, pushed as server-sent events in
//! commit order. Each carries its position as the SSE id, so a client reconnecting with
//! `Last-Event-ID` (or `after`) resumes exactly after the last event it saw: nothing missed,
//! nothing repeated (the reader is fenced like the projectors, ADR 2).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use deadpool_postgres::Pool;
use futures::Stream;
use projections::{Checkpoint, StoredEvent};
use serde::Deserialize;
use store::log::read_after;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::warn;

use super::dto::EventView;
use super::error::NativeError;
use super::events::checkpoint_of;
use super::NativeState;
use app::AppError;

/// Streams open at once, per server.
pub const MAX_EVENT_STREAMS: usize = 64;
/// How often an idle stream looks for new events.
const STREAM_POLL_MS: u64 = 100;
/// Events read per round trip.
const STREAM_BATCH_EVENTS: i64 = 200;
const KEEP_ALIVE_SECONDS: u64 = 15;

static OPEN_STREAMS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(MAX_EVENT_STREAMS)));

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Resume after the event at this position (or send `Last-Event-ID`).
    #[param(minimum = 0)]
    after: Option<i64>,
}

/// One event of the stream as the SSE fields carry it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct StreamedEvent {
    /// The event's position: send it back as `Last-Event-ID` to resume.
    id: String,
    /// Always `ledger-event`.
    event: String,
    /// The event as JSON, shaped as in `GET /v1/events`.
    data: String,
}

struct Cursor {
    reads: Pool,
    checkpoint: Checkpoint,
    pending: VecDeque<StoredEvent>,
    _permit: OwnedSemaphorePermit,
}

#[utoipa::path(get, path = "/v1/events/stream", tag = "native", params(StreamQuery), security(("admin_bearer" = [])), responses((status = 200, description = "`text/event-stream`: each event as `id: <position>`, `event: ledger-event`, `data: <event JSON>`", content_type = "text/event-stream", body = StreamedEvent), (status = 400, description = "Invalid request: `{\"error\":{\"code\",\"message\"}}`"), (status = 401, description = "Missing or wrong admin key"), (status = 404, description = "Not found"), (status = 409, description = "Conflict, e.g. an Idempotency-Key reused with another body"), (status = 422, description = "Refused by the ledger, e.g. insufficient funds")))]
pub async fn stream(
    State(state): State<NativeState>,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Result<Response, NativeError> {
    let last_event_id = headers.get("last-event-id").and_then(|value| value.to_str().ok()).map(str::trim);
    let after = match last_event_id {
        Some(id) => id
            .parse()
            .map_err(|_| AppError::invalid("invalid_last_event_id", "Last-Event-ID must be an event position"))?,
        None => query.after.unwrap_or(0),
    };
    let permit = OPEN_STREAMS
        .clone()
        .try_acquire_owned()
        .map_err(|_| AppError::LimitReached { what: "event streams", limit: MAX_EVENT_STREAMS })?;
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let checkpoint = checkpoint_of(&client, after).await?;
    drop(client);
    let cursor = Cursor { reads: state.ledger.reads.clone(), checkpoint, pending: VecDeque::new(), _permit: permit };
    Ok(Sse::new(events(cursor))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(KEEP_ALIVE_SECONDS)))
        .into_response())
}

fn events(cursor: Cursor) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold(cursor, |mut cursor| async move {
        loop {
            if let Some(stored) = cursor.pending.pop_front() {
                let id = stored.position.to_string();
                let data = serde_json::to_string(&EventView::from(stored)).unwrap_or_default();
                return Some((Ok(Event::default().id(id).event("ledger-event").data(data)), cursor));
            }
            match next_batch(&cursor).await {
                Ok(batch) if !batch.is_empty() => {
                    cursor.checkpoint = batch.last().map_or(cursor.checkpoint, StoredEvent::checkpoint);
                    cursor.pending.extend(batch);
                }
                Ok(_) => tokio::time::sleep(Duration::from_millis(STREAM_POLL_MS)).await,
                Err(error) => {
                    warn!(%error, "event stream could not read the log; retrying");
                    tokio::time::sleep(Duration::from_millis(STREAM_POLL_MS)).await;
                }
            }
        }
    })
}

async fn next_batch(cursor: &Cursor) -> Result<Vec<StoredEvent>, AppError> {
    let client = cursor.reads.get().await?;
    Ok(read_after(&client, cursor.checkpoint, None, STREAM_BATCH_EVENTS).await?)
}
