//! `GET /fonts/{fontstack}/{range}.pbf` (being written).

use axum::Router;

use super::AppState;

/// `/fonts/…`.
pub fn router() -> Router<AppState> {
    Router::new()
}
