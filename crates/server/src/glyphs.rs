//! `GET /fonts` and `GET /fonts/{fontstack}/{range}.pbf`: the label glyphs of the map.
//!
//! MapLibre's style says `"glyphs": "/fonts/{fontstack}/{range}.pbf"`; the fontstack is a
//! comma-separated, URL-encoded list of font names (e.g. `Noto Sans CJK SC Regular`), the
//! range `N-M` with N a multiple of 256 and M = N + 255. Each code point is taken from the
//! first font of the stack that has it; fonts of the stack that are not installed are
//! skipped, and a stack of none is a 404. A malformed range is a 400, and so is a stack
//! holding control characters (NUL, line breaks …) or longer than [`MAX_STACK_BYTES`]:
//! no font is named so. See [`crate::glyphs`] for the format and its conventions.
//!
//! Fonts are scanned once per process (under `/usr/share/fonts`, and the folders listed in
//! `MINQING_FONT_DIRS`, separated by `:`; [`minqing_service::glyphs::installed`]): by the first
//! request that needs them, on the blocking pool (or earlier by
//! [`minqing_service::glyphs::warm_up`] if the server starts it). Building the router starts no
//! work. A range is generated on first request (off the async threads), then kept in
//! memory with its gzip form, up to [`CACHE_BYTES`] in all (oldest dropped first).
//! Answers are `application/x-protobuf`, `Cache-Control: public, max-age=86400`, gzipped
//! when the client accepts it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::{HeaderValue, header};
use axum::response::{Json, Response};
use axum::routing::get;
use parking_lot::Mutex;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::negotiate::Negotiation;
use minqing_service::glyphs::{Fonts, parse_range};
use minqing_service::tilecache::{Encoded, Gzip};

/// Most bytes (raw and gzip) of generated ranges kept in memory.
pub const CACHE_BYTES: usize = 256 << 20;

/// Longest font stack (bytes, as decoded from the path).
pub const MAX_STACK_BYTES: usize = 1024;

/// Resolved stack (face indices) and first code point.
type Key = (Vec<usize>, u32);
/// A range being made or made: concurrent requests for it wait for one generation.
type Slot = Arc<Mutex<Option<Arc<Encoded>>>>;

#[derive(Default)]
struct Cache {
    slots: HashMap<Key, Slot>,
    /// Keys of generated ranges, oldest first, with their sizes.
    order: VecDeque<(Key, usize)>,
    bytes: usize,
}

static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(Mutex::default);

/// `/fonts`, `/fonts/{fontstack}/{range}.pbf`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/fonts", get(list))
        .route("/fonts/{fontstack}/{range}", get(range))
}

/// The fonts, scanned off the async threads the first time.
async fn fonts() -> ApiResult<&'static Fonts> {
    tokio::task::spawn_blocking(minqing_service::glyphs::installed)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "font scan failed");
            ApiError::internal()
        })
}

/// The names of the available fonts, sorted (a JSON array).
async fn list() -> ApiResult<Json<Vec<&'static str>>> {
    Ok(Json(fonts().await?.names()))
}

async fn range(
    path: Result<Path<(String, String)>, PathRejection>,
    client: Negotiation,
) -> ApiResult<Response> {
    let Path((stack, file)) = path.map_err(|e| ApiError::bad_request(e.body_text()))?;
    check_stack(&stack)?;
    let Some(range) = file.strip_suffix(".pbf") else {
        return Err(ApiError::not_found(format!(
            "no glyphs at {file:?}; ask for /fonts/{{fontstack}}/{{N}}-{{N+255}}.pbf"
        )));
    };
    let start = parse_range(range).ok_or_else(|| {
        ApiError::bad_request(format!(
            "range {range:?} is not N-M with N a multiple of 256, M = N + 255 and M ≤ 65535"
        ))
    })?;
    let fonts = fonts().await?;
    let faces = fonts.resolve(&stack);
    if faces.is_empty() {
        return Err(ApiError::not_found(format!(
            "no font of the stack {stack:?} is installed; GET /fonts lists them"
        )));
    }
    let encoded = cached(fonts, (faces, start)).await?;
    let mut response = client.body(&encoded);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-protobuf"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Ok(response)
}

/// Refuses a font stack no font can be named by: control characters, or too long.
fn check_stack(stack: &str) -> ApiResult<()> {
    if stack.len() > MAX_STACK_BYTES {
        return Err(ApiError::bad_request(format!(
            "the font stack is {} bytes long, more than {MAX_STACK_BYTES}",
            stack.len()
        )));
    }
    if stack.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "the font stack holds a control character (such as NUL or a line break); font names have none",
        ));
    }
    Ok(())
}

/// The range `key`, from the cache or generated (once, however many ask at the same time).
async fn cached(fonts: &'static Fonts, key: Key) -> ApiResult<Arc<Encoded>> {
    let slot = CACHE.lock().slots.entry(key.clone()).or_default().clone();
    if let Some(e) = slot.lock().as_ref() {
        return Ok(e.clone());
    }
    let made = tokio::task::spawn_blocking(move || {
        let mut guard = slot.lock();
        if let Some(e) = guard.as_ref() {
            return Ok(e.clone());
        }
        let pbf = fonts.range_pbf(&key.0, key.1)?;
        let e = Arc::new(Encoded::new(pbf, Gzip::WhenSmaller));
        // Compressed here, off the async threads, and counted in the cache's size.
        let _ = e.gzip();
        *guard = Some(e.clone());
        drop(guard);
        remember(key, e.size());
        Ok::<_, minqing_service::glyphs::GlyphError>(e)
    })
    .await;
    match made {
        Ok(Ok(e)) => Ok(e),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "glyph range not generated");
            Err(ApiError::internal())
        }
        Err(e) => {
            tracing::error!(error = %e, "glyph generation failed");
            Err(ApiError::internal())
        }
    }
}

/// Counts a generated range in the cache, dropping the oldest past [`CACHE_BYTES`].
fn remember(key: Key, size: usize) {
    let mut c = CACHE.lock();
    c.bytes += size;
    c.order.push_back((key, size));
    while c.bytes > CACHE_BYTES && c.order.len() > 1 {
        if let Some((old, n)) = c.order.pop_front() {
            c.slots.remove(&old);
            c.bytes -= n;
        }
    }
}
