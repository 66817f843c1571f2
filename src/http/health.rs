//! Liveness and readiness.

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

/// 200 only once the index is loaded.
async fn ready(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    if !state.index.is_ready() {
        return Err(ApiError::unavailable("the index is still loading"));
    }
    let areas = state.index.areas();
    let events = state.index.events(|e| e.len());
    Ok(Json(json!({
        "status": "ready",
        "areas": areas.len(),
        "grids": areas.grid_count(),
        "events": events,
    })))
}
