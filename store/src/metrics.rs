//! Prometheus metrics at `GET /metrics` (admin key): commands by aggregate, command and
//! outcome; HTTP requests and their latency by route; event store append latency; each
//! projector's checkpoint and lag behind the log's head (read at scrape time).
//!
//! One registry per process: every layer counts into it (the store its appends, the command
//! bus its commands, the HTTP layer its requests), and the HTTP layer serves it.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Latency buckets: 0.5 ms doubling to about 16 s.
const LATENCY_BUCKET_START_SECONDS: f64 = 0.000_5;
const LATENCY_BUCKETS: u16 = 16;
/// Batch-size buckets: 1 doubling to 512.
const BATCH_SIZE_BUCKETS: u16 = 10;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    aggregate: &'static str,
    command: &'static str,
    outcome: &'static str,
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReadLabels {
    reader: &'static str,
    /// `events`, `empty` or `skipped` (events the reader did not want).
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InlineLabels {
    /// `projected`, or why the batch was left to the projection pass.
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SnapshotLabels {
    aggregate: &'static str,
    /// `loaded`, `written`, or why a snapshot was passed over or not written.
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignInLabels {
    dialect: &'static str,
    outcome: &'static str,
}

struct Metrics {
    registry: Registry,
    database_restarts: Counter,
    sign_ins: Family<SignInLabels, Counter>,
    commands: Family<CommandLabels, Counter>,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabels, Histogram>,
    append_seconds: Family<AggregateLabels, Histogram>,
    batch_decisions: Family<AggregateLabels, Histogram>,
    queue_wait_seconds: Family<AggregateLabels, Histogram>,
    log_reads: Family<ReadLabels, Counter>,
    inline_projections: Family<InlineLabels, Counter>,
    snapshots: Family<SnapshotLabels, Counter>,
    checkpoint_position: Family<ProjectorLabels, Gauge>,
    lag_events: Family<ProjectorLabels, Gauge>,
    head_position: Gauge,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(LATENCY_BUCKET_START_SECONDS, 2.0, LATENCY_BUCKETS))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("ledger");
    let database_restarts = Counter::default();
    registry.register(
        "database_restarts",
        "Restarts of the private PostgreSQL cluster by the server that owns it",
        database_restarts.clone(),
    );
    let sign_ins = Family::<SignInLabels, Counter>::default();
    registry.register(
        "sign_in_attempts",
        "Password and one-time-code attempts, by dialect and outcome (succeeded, failed, throttled)",
        sign_ins.clone(),
    );
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
    let batch_decisions = Family::<AggregateLabels, Histogram>::new_with_constructor(|| {
        Histogram::new(exponential_buckets(1.0, 2.0, BATCH_SIZE_BUCKETS))
    });
    registry.register(
        "committer_batch_decisions",
        "Decisions per committed batch, by aggregate type",
        batch_decisions.clone(),
    );
    let queue_wait_seconds =
        Family::<AggregateLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
    registry.register(
        "committer_queue_wait_seconds",
        "Time a decision waits for its batch to start (the batch before it committing), by aggregate type",
        queue_wait_seconds.clone(),
    );
    let log_reads = Family::<ReadLabels, Counter>::default();
    registry.register("log_reads", "Pages read from the event log, by reader and result", log_reads.clone());
    let inline_projections = Family::<InlineLabels, Counter>::default();
    registry.register(
        "inline_projections",
        "Appended batches whose read models were applied in the append's own transaction, or why not",
        inline_projections.clone(),
    );
    let snapshots = Family::<SnapshotLabels, Counter>::default();
    registry.register(
        "snapshots",
        "Aggregate snapshots loaded and written, or why one was passed over",
        snapshots.clone(),
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
        database_restarts,
        sign_ins,
        commands,
        requests,
        request_seconds,
        append_seconds,
        batch_decisions,
        queue_wait_seconds,
        log_reads,
        inline_projections,
        snapshots,
        checkpoint_position,
        lag_events,
        head_position,
    }
});

/// Counts one restart of the private PostgreSQL cluster.
pub fn database_restarted() {
    METRICS.database_restarts.inc();
}

/// Counts one sign-in attempt by the dialect's entry point and how it ended.
pub fn sign_in_attempt(dialect: &'static str, outcome: &'static str) {
    METRICS.sign_ins.get_or_create(&SignInLabels { dialect, outcome }).inc();
}

/// Counts one command by its aggregate type, its variant name and how it ended.
pub fn command_finished(aggregate: &'static str, command: &'static str, outcome: &'static str) {
    METRICS.commands.get_or_create(&CommandLabels { aggregate, command, outcome }).inc();
}

pub fn append_finished(aggregate: &str, took: Duration) {
    METRICS
        .append_seconds
        .get_or_create(&AggregateLabels { aggregate: aggregate.to_string() })
        .observe(took.as_secs_f64());
}

/// Records the size of one committed batch.
pub fn batch_committed(aggregate: &str, decisions: usize) {
    METRICS
        .batch_decisions
        .get_or_create(&AggregateLabels { aggregate: aggregate.to_string() })
        .observe(decisions as f64);
}

/// Records how long one decision waited in its committer's queue.
pub fn decision_dequeued(aggregate: &str, waited: Duration) {
    METRICS
        .queue_wait_seconds
        .get_or_create(&AggregateLabels { aggregate: aggregate.to_string() })
        .observe(waited.as_secs_f64());
}

/// Counts one page read from the log by `reader`.
pub fn log_read(reader: &'static str, result: &'static str) {
    METRICS.log_reads.get_or_create(&ReadLabels { reader, result }).inc();
}

/// Counts one appended batch by whether its read models were applied in its own transaction.
pub fn inline_projection(result: &'static str) {
    METRICS.inline_projections.get_or_create(&InlineLabels { result }).inc();
}

/// Counts `count` snapshots loaded, written, or passed over (`result` says why).
pub fn snapshots(aggregate: &'static str, result: &'static str, count: u64) {
    METRICS.snapshots.get_or_create(&SnapshotLabels { aggregate, result }).inc_by(count);
}

/// Counts and times one HTTP request by its route pattern.
pub fn request_finished(method: String, route: String, status: u16, took: Duration) {
    METRICS
        .request_seconds
        .get_or_create(&RouteLabels { method: method.clone(), route: route.clone() })
        .observe(took.as_secs_f64());
    METRICS.requests.get_or_create(&RequestLabels { method, route, status }).inc();
}

/// Reads the log's head and every projector's checkpoint into the gauges (at scrape time).
pub async fn read_progress(client: &impl deadpool_postgres::GenericClient) -> Result<(), crate::StoreError> {
    let head = crate::log::head(client).await?;
    METRICS.head_position.set(head.position);
    for row in client.query("SELECT projector, last_position FROM projector_checkpoints", &[]).await? {
        let labels = ProjectorLabels { projector: row.get(0) };
        let position: i64 = row.get(1);
        METRICS.checkpoint_position.get_or_create(&labels).set(position);
        METRICS.lag_events.get_or_create(&labels).set((head.position - position).max(0));
    }
    Ok(())
}

/// Every metric in the OpenMetrics text format.
pub fn encode_text() -> Result<String, std::fmt::Error> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &METRICS.registry)?;
    Ok(text)
}
