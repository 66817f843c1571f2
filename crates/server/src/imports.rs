//! `POST /api/v1/imports?kind=…&format=…`: a register file (the body: CSV, GeoJSON or
//! `.xlsx`) imported as `minqing import` does — every row checked, every fault answered
//! with its line (422, nothing stored), or every row stored in one transaction (201 once
//! committed). Command and admin tokens only; a scoped command token imports only records
//! located in its area (a row outside it is a fault).
//!
//! The body may be up to [`MAX_IMPORT_BYTES`]; larger files go through the command line.

use std::io::Cursor;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Params;
use minqing_model::Role;
use minqing_service::auth::Caller;
use minqing_service::imports::{self, Format, ImportError, Kind, MAX_ERRORS_SHOWN, RowError};

/// The largest import body, bytes (64 MiB: a spreadsheet of a few hundred thousand people).
pub const MAX_IMPORT_BYTES: usize = 64 << 20;

/// The import route.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/imports",
        post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
    )
}

/// The format a `Content-Type` names, if any.
fn format_of(headers: &HeaderMap) -> Option<Format> {
    let t = headers
        .get(header::CONTENT_TYPE)?
        .to_str()
        .ok()?
        .to_ascii_lowercase();
    let t = t.split(';').next().unwrap_or("").trim();
    match t {
        "text/csv" => Some(Format::Csv),
        "application/geo+json" | "application/json" | "application/geo+json-seq" => {
            Some(Format::GeoJson)
        }
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Some(Format::Xlsx),
        _ => None,
    }
}

fn errors_json(errors: &[RowError]) -> Value {
    errors
        .iter()
        .take(MAX_ERRORS_SHOWN)
        .map(|e| json!({"line": e.line, "field": e.field, "reason": e.reason}))
        .collect()
}

/// 422 with every fault (the first [`MAX_ERRORS_SHOWN`]) and their count.
fn refused(errors: &[RowError]) -> Response {
    let n = errors.len();
    let body = json!({
        "error": {
            "code": "invalid_rows",
            "message": format!(
                "{n} fault{} in the file; nothing was stored",
                if n == 1 { "" } else { "s" }
            ),
        },
        "errors": errors_json(errors),
        "error_count": n,
        "errors_not_shown": n.saturating_sub(MAX_ERRORS_SHOWN),
    });
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// The register and the format of an import: `kind` and `format` (or the Content-Type).
fn what(p: &Params, headers: &HeaderMap) -> Result<(Kind, Format), ApiError> {
    p.only(&["kind", "format"])?;
    let kinds = || {
        Kind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let kind = match p.str("kind") {
        None => {
            return Err(ApiError::bad_request(format!(
                "kind is required: one of {}",
                kinds()
            )));
        }
        Some(k) => Kind::parse(k).ok_or_else(|| {
            ApiError::bad_request(format!("kind must be one of {}, not {k:?}", kinds()))
        })?,
    };
    let format = match p.str("format") {
        Some(f) => Format::parse(f).ok_or_else(|| {
            ApiError::bad_request(format!("format must be csv, geojson or xlsx, not {f:?}"))
        })?,
        None => format_of(headers).ok_or_else(|| {
            ApiError::bad_request(
                "format is required (csv, geojson or xlsx) unless the Content-Type says it \
                 (text/csv, application/geo+json, or the .xlsx type)",
            )
        })?,
    };
    Ok((kind, format))
}

async fn import(
    State(state): State<AppState>,
    caller: Caller,
    p: Params,
    request: Request<Body>,
) -> ApiResult<Response> {
    let Some(principal) = &caller.principal else {
        return Err(ApiError::unauthorized(
            "this needs a token (Authorization: Bearer …)",
        ));
    };
    if !matches!(principal.role, Role::Admin | Role::Command) {
        return Err(ApiError::forbidden(format!(
            "a {} token may not import registers (command and admin may)",
            principal.role.as_str()
        )));
    }
    let (kind, format) = what(&p, request.headers())?;
    let keys = state.keys().map_err(|_| {
        ApiError::unavailable(
            "this server does not hold the key the registers were sealed with, so it writes \
             no register; import through an instance started with the right key",
        )
    })?;
    let body = Bytes::from_request(request, &state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "the file is larger than {} MiB; import it with `minqing import`",
                    MAX_IMPORT_BYTES >> 20
                ),
            )
        } else {
            ApiError::bad_request(format!("cannot read the body: {e}"))
        }
    })?;
    // A scoped token imports only what lies in its area.
    let scope = state.scope_grids(&caller);
    let areas = state.index.areas();
    let in_scope = move |lon: f64, lat: f64| {
        scope
            .as_ref()
            .is_none_or(|g| g.has_grid(areas.locate(lon, lat).map(|a| a.id)))
    };
    let today = state.index.now().date_naive();
    let k = keys.clone();
    let checked = tokio::task::spawn_blocking(move || {
        imports::validate(
            kind,
            format,
            Box::new(Cursor::new(body)),
            &k,
            today,
            &|_, _, _| {},
        )
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "import check failed");
        ApiError::internal()
    })?;
    let v = match checked {
        Ok(v) => v,
        Err(ImportError::Invalid(errors)) => return Ok(refused(&errors)),
        Err(ImportError::Store(e)) => return Err(e.into()),
    };
    let ignored = v.ignored.clone();
    let counts = match imports::store(&state.store, keys, v, &in_scope, &|_, _, _| {}).await {
        Ok(c) => c,
        Err(ImportError::Invalid(errors)) => return Ok(refused(&errors)),
        Err(ImportError::Store(e)) => return Err(e.into()),
    };
    // Committed. The caller's next request sees the records: this instance reloads now
    // (the others on the change feed's notification).
    let live = Arc::clone(&state.live);
    if let Err(e) = live.reload_registers(&state.store).await {
        tracing::warn!(
            error = format!("{e:#}"),
            "register reload after an import failed"
        );
    }
    tracing::info!(
        kind = kind.as_str(),
        rows = imports::total(&counts),
        token = principal.token_id,
        "registers imported"
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "kind": kind.as_str(),
            "imported": imports::total(&counts),
            "counts": counts,
            "ignored_columns": ignored,
        })),
    )
        .into_response())
}
