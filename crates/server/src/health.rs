//! Liveness and readiness: `/healthz` is 200 while the process runs; `/readyz` is 200
//! once the index is loaded and while the database answers.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};

/// `/healthz` and `/readyz`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(ready))
}

/// 200 only once the index is loaded and while the database answers (checked with a
/// pooled `SELECT 1`; refused at once during an outage). `/healthz` stays 200 meanwhile:
/// reads answered from memory still work.
async fn ready(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    if !state.index.is_ready() {
        return Err(ApiError::unavailable("the index is still loading"));
    }
    if !state.store.ping().await {
        return Err(ApiError::unavailable(
            "database unreachable; reads from memory still work, writes are refused",
        ));
    }
    let areas = state.index.areas();
    let events = state.index.events(minqing_index::EventIndex::len);
    Ok(Json(json!({
        "status": "ready",
        "areas": areas.len(),
        "grids": areas.grid_count(),
        "events": events,
    })))
}
