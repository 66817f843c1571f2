//! minqing's HTTP server (axum only): the REST API under `/api/v1`, tiles, the event
//! stream, Open311, the web app, health and metrics, and the server loop.
//!
//! Handlers are thin: parse (`extract`), call one operation of `minqing-service` (or read
//! the index), shape the answer (`features`). Every error is a JSON [`error::ApiError`]
//! (Open311 answers in its own format).
//!
//! # Layout
//!
//! - [`AppState`]: the service's [`Core`] plus the web app's files.
//! - `caller`: the middleware that resolves a bearer token once per request, and the
//!   [`Caller`](minqing_service::auth::Caller) extractor.
//! - `error`: the one mapping of service and store errors to HTTP.
//! - `extract`: strict extractors (query, JSON body, path) whose rejections say what is
//!   wrong.
//! - one module per resource: `areas`, `assessment` (考核 and its drill-down), `reports`
//!   (review reports, their CSV and kept snapshots), `events`, `export`, `stats`, `tiles`, `glyphs`,
//!   `stream`, `plans`, `registers` (buildings, places, organisations, residents, access
//!   log, profiles, coverage, search), `imports` (register files), `open311`, `web`,
//!   `health`, `metrics`, `openapi`.
//! - [`app`](mod@app): the accept loop (header-read timeout, graceful shutdown).

pub mod app;
mod areas;
mod assessment;
mod caller;
pub mod error;
mod events;
mod export;
mod extract;
mod features;
mod glyphs;
mod health;
mod imports;
pub mod metrics;
mod open311;
mod openapi;
mod patrols;
mod plans;
mod registers;
mod reports;
mod stats;
mod stream;
mod tiles;
mod visits;
mod web;
mod workers;

use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use minqing_service::Core;

use error::ApiError;

/// Everything a handler needs: the service's parts (reached through `Deref`) and the web
/// app's files; cheap handles, cloned per request.
#[derive(Clone)]
pub struct AppState {
    /// The service.
    pub core: Core,
    /// The web app's files.
    pub web: Arc<web::WebFiles>,
}

impl Deref for AppState {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}

/// The whole application router (shared by `main` and the tests).
pub fn app(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .merge(health::router())
        .merge(areas::router())
        .merge(assessment::router())
        .merge(reports::router())
        .merge(events::router())
        .merge(tiles::router())
        .merge(stream::router())
        .merge(stats::router())
        .merge(export::router())
        .merge(open311::router())
        .merge(glyphs::router())
        .merge(plans::router())
        .merge(registers::router())
        .merge(imports::router())
        .merge(workers::router())
        .merge(patrols::router())
        .merge(visits::router())
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
            caller::authenticate,
        ))
        .layer(axum::middleware::from_fn(metrics::track))
        .with_state(state)
}
