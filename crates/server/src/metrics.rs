//! `GET /metrics`: Prometheus metrics in the text format (version 0.0.4).
//!
//! Public-safe: requests are labelled by route *template* (axum's `MatchedPath`, e.g.
//! `/api/v1/events/{id}`, or `unmatched`), method and status — never by raw path, id, query
//! or token. Besides requests and their latency: the database pool (size, idle, waiting)
//! and outage state, intake batch sizes, tile cache hits and misses, and open event
//! streams.
//!
//! Request metrics and the stream gauge are process-wide; the rest is read from the
//! application state when scraped.

use std::sync::LazyLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::{EncodeLabelSet, prometheus_text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::AppState;

/// Upper bounds of the latency buckets, seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Labels of a request count.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

/// Labels of a latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: &'static str,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The process-wide request metrics.
struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    streams: Gauge,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

static HTTP: LazyLock<HttpMetrics> = LazyLock::new(|| HttpMetrics {
    requests: Family::default(),
    latency: Family::new_with_constructor(latency_histogram),
    streams: Gauge::default(),
});

/// `/metrics`.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

/// Counts an open event stream while it lives: create one when a stream starts and keep
/// it with the stream, so that it is dropped when the stream ends (the
/// `minqing_open_streams` gauge).
#[derive(Debug)]
pub struct StreamGuard(());

impl StreamGuard {
    /// Counts one more open stream until the guard is dropped.
    #[must_use]
    pub fn new() -> StreamGuard {
        HTTP.streams.inc();
        StreamGuard(())
    }
}

impl Default for StreamGuard {
    fn default() -> Self {
        StreamGuard::new()
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        HTTP.streams.dec();
    }
}

/// Middleware: counts each request by route template, method and status, and observes
/// its latency (until the response head; a streamed body is not waited for).
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = method_label(req.method());
    let started = Instant::now();
    let response = next.run(req).await;
    HTTP.latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
            method,
        })
        .observe(started.elapsed().as_secs_f64());
    HTTP.requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// A bounded set of method labels (a client may send any token as a method).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn gauge(v: usize) -> Gauge {
    let g = Gauge::default();
    g.set(i64::try_from(v).unwrap_or(i64::MAX));
    g
}

/// The registry of everything exported, read now.
fn registry(state: &AppState) -> Registry {
    let mut r = Registry::with_prefix("minqing");
    r.register(
        "http_requests",
        "HTTP requests answered, by route template, method and status",
        HTTP.requests.clone(),
    );
    r.register(
        "http_request_duration_seconds",
        "Time to answer a request (to the response head), by route template and method",
        HTTP.latency.clone(),
    );
    r.register(
        "open_streams",
        "Event streams (Server-Sent Events) open now",
        HTTP.streams.clone(),
    );
    let pool = state.store.pool_status();
    r.register(
        "db_pool_max_connections",
        "Connections the database pool may open",
        gauge(pool.max_size),
    );
    r.register(
        "db_pool_connections",
        "Connections the database pool holds now",
        gauge(pool.size),
    );
    r.register(
        "db_pool_available_connections",
        "Idle connections in the database pool",
        gauge(pool.available),
    );
    r.register(
        "db_pool_waiting_requests",
        "Requests waiting for a database connection",
        gauge(pool.waiting),
    );
    r.register(
        "db_outage",
        "1 while the database is unreachable (requests needing it are refused), else 0",
        gauge(usize::from(!state.store.reachable())),
    );
    r.register(
        "intake_batch_size",
        "Reports written by one statement",
        state.store.intake_batch_sizes(),
    );
    let (hits, misses) = state.tiles.lookups();
    r.register(
        "tile_cache_hits",
        "Tile requests answered from the cache",
        hits,
    );
    r.register(
        "tile_cache_misses",
        "Tile requests that had to render",
        misses,
    );
    r
}

async fn scrape(State(state): State<AppState>) -> Response {
    let mut body = String::new();
    if prometheus_text::encode(&mut body, &registry(&state)).is_err() {
        // Writing to a String cannot fail; answer what there is all the same.
        tracing::warn!("metrics encoding failed");
    }
    (
        [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_guard_counts_while_alive() {
        let before = HTTP.streams.get();
        let a = StreamGuard::new();
        let b = StreamGuard::default();
        assert_eq!(HTTP.streams.get(), before + 2);
        drop(a);
        drop(b);
        assert_eq!(HTTP.streams.get(), before);
    }

    #[test]
    fn methods_are_bounded() {
        assert_eq!(method_label(&Method::POST), "POST");
        let odd = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&odd), "other");
    }
}
