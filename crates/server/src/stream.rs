//! `GET /api/v1/stream`: Server-Sent Events, one per created or changed event.
//!
//! Like every single-event read it needs a token of a role that reads by place, and sends
//! only the events in the caller's scope.
//!
//! Each message has the SSE type `created` or `updated`, an `id` (this instance's stream
//! position) and, as data, the event's public GeoJSON Feature (the same as in lists: no
//! reporter data, no description). Filters: `bbox`, `category` (code or prefix), `status`
//! (a state, `open` or `all`; default `all`). A client that reconnects with `Last-Event-ID`
//! gets the changes it missed while this instance still holds them; otherwise — a position
//! of another instance or of a process since restarted (positions are `epoch-seq`, the
//! epoch drawn at start), or one too old — it receives a `reset` message and should reload
//! what it shows: never a silent gap. Comments keep idle connections open.
//!
//! A stream ends when the server shuts down, and when the token it was opened with is
//! revoked (on any instance: the change feed tells every instance within a second).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use futures_util::stream::{self, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::AppState;
use super::error::ApiResult;
use super::events::reader_filter;
use super::extract::Params;
use super::features;
use minqing_index::{BBox, EventFilter};
use minqing_model::StatusFilter;
use minqing_service::auth::Caller;
use minqing_service::live::Change;

/// `/api/v1/stream`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/stream", get(stream_changes))
}

struct Subscription {
    bbox: Option<BBox>,
    filter: EventFilter,
    state: AppState,
    caller: Caller,
    /// Counts the stream as open (`minqing_open_streams`) until it ends.
    _open: super::metrics::StreamGuard,
}

impl Subscription {
    fn wants(&self, c: &Change) -> bool {
        let e = &c.event;
        self.bbox.as_ref().is_none_or(|b| b.contains(e.lon, e.lat))
            && self.filter.status.matches(e.status)
            && self
                .filter
                .scope
                .as_ref()
                .is_none_or(|s| s.has_grid(e.grid_id))
            && self.filter.categories.as_ref().is_none_or(|cs| {
                self.state
                    .taxonomy
                    .number(&e.category)
                    .is_some_and(|n| cs.contains(&n))
            })
    }

    fn message(&self, c: &Change) -> SseEvent {
        let feature = features::event(&c.event, &self.state.taxonomy, Utc::now(), None);
        let data = serde_json::to_string(&feature).unwrap_or_default();
        SseEvent::default()
            .event(c.kind.as_str())
            .id(self.state.live.position(c))
            .data(data)
    }
}

fn reset() -> SseEvent {
    SseEvent::default()
        .event("reset")
        .data("{\"reason\":\"changes were missed; reload\"}")
}

async fn stream_changes(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["bbox", "category", "status"])?;
    // A scope is taken once, at subscription: a redraw of the hierarchy takes effect for
    // the streams opened after it.
    let mut f = reader_filter(&state, &caller, &p)?;
    if p.str("status").is_none() {
        f.status = StatusFilter::All;
    }
    let bbox = p.bbox(360.0)?;
    // A position that is not this process's (another instance, a restart) or not a
    // position at all cannot be resumed from: the client gets `reset`.
    let last_seen = headers.get("last-event-id").map(|v| {
        v.to_str()
            .ok()
            .and_then(|s| state.live.own_position(s))
            .unwrap_or(u64::MAX)
    });
    let (rx, replay) = state.live.subscribe(last_seen);
    let closed = state.live.closed();
    let tokens = state.live.token_changes();
    let sub = Arc::new(Subscription {
        bbox,
        filter: f,
        state,
        caller,
        _open: super::metrics::StreamGuard::new(),
    });
    let first: Vec<SseEvent> = match replay {
        Some(changes) => changes
            .iter()
            .filter(|c| sub.wants(c))
            .map(|c| sub.message(c))
            .collect(),
        None => vec![reset()],
    };
    let live = stream::unfold((rx, tokens, sub), |(mut rx, mut tokens, sub)| async move {
        loop {
            tokio::select! {
                // Tokens changed somewhere: end the stream if its token was revoked.
                changed = tokens.changed() => {
                    if changed.is_err() || !sub.caller.still_valid(&sub.state).await {
                        return None;
                    }
                }
                received = rx.recv() => match received {
                    Ok(c) if sub.wants(&c) => {
                        let m = sub.message(&c);
                        return Some((m, (rx, tokens, sub)));
                    }
                    Ok(_) => {}
                    // Too slow a reader: tell it to reload, then go on from here.
                    Err(RecvError::Lagged(_)) => return Some((reset(), (rx, tokens, sub))),
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    });
    // Every stream ends at shutdown, so that the server can exit.
    let all = stream::iter(first)
        .chain(live)
        .take_until(closed)
        .map(Ok::<_, Infallible>);
    Ok(Sse::new(all)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
