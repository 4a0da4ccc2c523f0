use axum::extract::{Query, State};
use axum::Json;
use projections::Checkpoint;
use serde::{Deserialize, Serialize};
use store::log::{find_by_position, read_after, MAX_BATCH_EVENTS};

use super::dto::EventView;
use super::error::NativeError;
use super::NativeState;
use app::AppError;

const DEFAULT_PAGE_SIZE: i64 = 100;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The position of the last event already seen; 0 or absent for the beginning.
    #[param(minimum = 0)]
    after: Option<i64>,
    /// Events per page: 1 to 1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    events: Vec<EventView>,
    /// Pass as `after` for the next page.
    next: i64,
}

/// Where reading resumes after the event at `position` (0: the beginning).
pub async fn checkpoint_of(
    client: &impl deadpool_postgres::GenericClient,
    position: i64,
) -> Result<Checkpoint, AppError> {
    if position == 0 {
        return Ok(Checkpoint::START);
    }
    find_by_position(client, position).await?.map(|event| event.checkpoint()).ok_or(AppError::UnknownPosition(position))
}

/// The event log in commit-safe order; only final events, so paging never skips one.
#[utoipa::path(get, path = "/v1/events", tag = "native", params(EventsQuery), security(("admin_bearer" = [])), responses((status = 200, description = "Success", body = EventPage), (status = 400, description = "Invalid request: `{\"error\":{\"code\",\"message\"}}`"), (status = 401, description = "Missing or wrong admin key"), (status = 404, description = "Not found"), (status = 409, description = "Conflict, e.g. an Idempotency-Key reused with another body"), (status = 422, description = "Refused by the ledger, e.g. insufficient funds")))]
pub async fn list(
    State(state): State<NativeState>,
    Query(query): Query<EventsQuery>,
) -> Result<Json<EventPage>, NativeError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_BATCH_EVENTS).contains(&limit) {
        return Err(AppError::invalid("invalid_limit", format!("limit must be 1 to {MAX_BATCH_EVENTS}")).into());
    }
    let after = query.after.unwrap_or(0);
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let cursor = checkpoint_of(&client, after).await?;
    let events = read_after(&client, cursor, None, limit).await?;
    let next = events.last().map_or(after, |event| event.position);
    let events = events.into_iter().map(EventView::from).collect();
    Ok(Json(EventPage { events, next }))
}
