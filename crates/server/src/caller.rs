//! Who is asking: the bearer token of a request resolved to a [`Caller`] once, by a
//! middleware, and handed to the handlers by an extractor.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use minqing_model::hash;
use minqing_service::auth::Caller;

use crate::AppState;
use crate::error::ApiError;

/// Who sent a request: anonymous without an `Authorization` header; 401 for a header
/// that is not a valid bearer token.
pub async fn resolve(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(Caller {
            principal: None,
            ip,
            token_hash: None,
        });
    };
    let secret = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 200)
        .ok_or_else(|| {
            ApiError::unauthorized("the Authorization header must be \"Bearer <token>\"")
        })?;
    let h = hash(secret);
    let principal = state
        .auth
        .principal_by_hash(&state.store, state.live.token_generation(), &h)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this token is not valid (unknown or revoked)"))?;
    Ok(Caller {
        principal: Some(principal),
        ip,
        token_hash: Some(Arc::from(h)),
    })
}

/// Middleware: resolves the caller of every request once (so that a bad token is refused
/// everywhere, public endpoints included) and keeps it for the handlers' extractor. Open311
/// paths are left to their handlers, which answer in GeoReport's error format.
pub async fn authenticate(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    // Open311 answers a bad key in its own error format (403); its handlers resolve callers.
    if request.uri().path().starts_with("/open311/") {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    match resolve(&parts, &state).await {
        Ok(caller) => {
            parts.extensions.insert(caller);
            next.run(axum::extract::Request::from_parts(parts, body))
                .await
        }
        Err(e) => e.into_response(),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match parts.extensions.get::<Caller>() {
            Some(c) => Ok(c.clone()),
            None => resolve(parts, state).await,
        }
    }
}
