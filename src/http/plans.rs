//! Grid planning: drafts, validation, preview, publish (being written).

use axum::Router;

use super::AppState;

/// `/api/v1/plans…`.
pub fn router() -> Router<AppState> {
    Router::new()
}
