//! Prometheus metrics at `GET /metrics` (admin key): commands by aggregate, command and
//! outcome; HTTP requests and their latency by route; event store append latency; each
//! projector's checkpoint and lag behind the log's head (read at scrape time).
//!
//! One registry per process: every service in the process counts into it.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tracing::warn;

use crate::app::AppState;

/// Latency buckets: 0.5 ms doubling to about 16 s.
const LATENCY_BUCKET_START_SECONDS: f64 = 0.000_5;
const LATENCY_BUCKETS: u16 = 16;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandLabels {
    pub aggregate: String,
    pub command: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AggregateLabels {
    aggregate: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProjectorLabels {
    projector: String,
}

struct Metrics {
    registry: Registry,
    commands: Family<CommandLabels, Counter>,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabels, Histogram>,
    append_seconds: Family<AggregateLabels, Histogram>,
    checkpoint_position: Family<ProjectorLabels, Gauge>,
    lag_events: Family<ProjectorLabels, Gauge>,
    head_position: Gauge,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(LATENCY_BUCKET_START_SECONDS, 2.0, LATENCY_BUCKETS))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("ledger");
    let commands = Family::<CommandLabels, Counter>::default();
    registry.register("commands", "Commands run, by aggregate, command and outcome", commands.clone());
    let requests = Family::<RequestLabels, Counter>::default();
    registry.register("http_requests", "HTTP requests, by method, route and status", requests.clone());
    let request_seconds =
        Family::<RouteLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
    registry.register(
        "http_request_duration_seconds",
        "HTTP request latency, by method and route",
        request_seconds.clone(),
    );
    let append_seconds =
        Family::<AggregateLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
    registry.register(
        "event_append_duration_seconds",
        "Event store append latency, by aggregate type",
        append_seconds.clone(),
    );
    let checkpoint_position = Family::<ProjectorLabels, Gauge>::default();
    registry.register(
        "projector_checkpoint_position",
        "Last event position each projector applied",
        checkpoint_position.clone(),
    );
    let lag_events = Family::<ProjectorLabels, Gauge>::default();
    registry.register(
        "projector_lag_events",
        "Positions between the log's head and each projector's checkpoint",
        lag_events.clone(),
    );
    let head_position = Gauge::default();
    registry.register("event_log_head_position", "Position of the newest committed event", head_position.clone());
    Metrics {
        registry,
        commands,
        requests,
        request_seconds,
        append_seconds,
        checkpoint_position,
        lag_events,
        head_position,
    }
});

pub fn command_finished(labels: CommandLabels) {
    METRICS.commands.get_or_create(&labels).inc();
}

pub fn append_finished(aggregate: &str, took: Duration) {
    METRICS
        .append_seconds
        .get_or_create(&AggregateLabels { aggregate: aggregate.to_string() })
        .observe(took.as_secs_f64());
}

/// Counts and times every request, by its route pattern (never the raw path: ids would
/// make unbounded label sets).
pub async fn track_requests(request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let started = Instant::now();
    let response = next.run(request).await;
    let took = started.elapsed().as_secs_f64();
    METRICS.request_seconds.get_or_create(&RouteLabels { method: method.clone(), route: route.clone() }).observe(took);
    METRICS.requests.get_or_create(&RequestLabels { method, route, status: response.status().as_u16() }).inc();
    response
}

/// `GET /metrics`: the Prometheus text format; needs `Authorization: Bearer <admin key>`.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(("admin_bearer" = [])), responses((status = 200, description = "OpenMetrics text"), (status = 401, description = "Missing or wrong admin key")))]
pub async fn scrape(State(state): State<AppState>, request: Request) -> Response {
    if !state.admin_key.verify_bearer(request.headers()) {
        return (StatusCode::UNAUTHORIZED, "admin key required\n").into_response();
    }
    if let Err(error) = read_progress(&state).await {
        warn!(%error, "metrics: projector progress unavailable");
    }
    let mut text = String::new();
    if encode(&mut text, &METRICS.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}

async fn read_progress(state: &AppState) -> Result<(), crate::error::AppError> {
    let client = state.ledger.reads.get().await?;
    let head = projections::event_log::head(&client).await?;
    METRICS.head_position.set(head.position);
    for row in client.query("SELECT projector, last_position FROM projector_checkpoints", &[]).await? {
        let labels = ProjectorLabels { projector: row.get(0) };
        let position: i64 = row.get(1);
        METRICS.checkpoint_position.get_or_create(&labels).set(position);
        METRICS.lag_events.get_or_create(&labels).set((head.position - position).max(0));
    }
    Ok(())
}
