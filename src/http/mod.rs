//! HTTP: the REST API under `/api/v1`, health, and the server loop.
//!
//! Handlers are thin: parse (`extract`), ask the index or the store, shape GeoJSON
//! (`features`). Every error is a JSON [`error::ApiError`].

mod areas;
pub mod error;
mod events;
mod export;
mod extract;
mod features;
mod glyphs;
mod health;
pub mod metrics;
mod open311;
mod openapi;
mod plans;
mod stats;
mod stream;
mod tiles;
mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;

use crate::auth::{Auth, RateLimit};
use crate::config::Config;
use crate::index::Index;
use crate::live::Live;
use crate::model::Taxonomy;
use crate::store::Store;
use crate::tilecache::TileCache;
use error::ApiError;

/// Everything a handler needs: cheap handles, cloned per request.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The in-memory index.
    pub index: Arc<Index>,
    /// The event taxonomy.
    pub taxonomy: Arc<Taxonomy>,
    /// Limits and settings.
    pub config: Arc<Config>,
    /// Encoded tiles.
    pub tiles: Arc<TileCache>,
    /// The apply path for committed changes, and the change stream.
    pub live: Arc<Live>,
    /// Token lookups and scopes.
    pub auth: Arc<Auth>,
    /// Anonymous reports per client.
    pub reports: Arc<RateLimit>,
    /// The web app's files.
    pub web: Arc<web::WebFiles>,
}

/// The whole application router (shared by `main` and the tests).
pub fn app(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .merge(health::router())
        .merge(areas::router())
        .merge(events::router())
        .merge(tiles::router())
        .merge(stream::router())
        .merge(stats::router())
        .merge(export::router())
        .merge(open311::router())
        .merge(glyphs::router())
        .merge(plans::router())
        .merge(metrics::router())
        .merge(openapi::router())
        .fallback(web::fallback)
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "method not allowed here",
            )
        })
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::authenticate,
        ))
        .layer(axum::middleware::from_fn(metrics::track))
        .with_state(state)
}
