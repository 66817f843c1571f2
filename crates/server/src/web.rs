//! The web app: the built front end (`web/dist`, see `web/README.md`) served by minqing
//! itself, so that the map needs no outside host.
//!
//! `/` is the command centre, `/field` the field view, `/report` the report form (each
//! `<name>.html` in the web directory); any other path that is not an API path is a file of
//! the web directory. Files are read once, gzipped once and kept in memory (re-read when
//! their modification time changes); html is `no-cache`, other files may be cached for an
//! hour (file names of bundles carry content hashes).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;

use super::AppState;
use super::error::ApiError;

/// Files of the web app, read once.
#[derive(Default)]
pub struct WebFiles {
    files: Mutex<HashMap<PathBuf, Arc<WebFile>>>,
}

/// One file: its bytes, gzipped bytes (when smaller) and validator.
pub struct WebFile {
    modified: Option<SystemTime>,
    raw: bytes::Bytes,
    gzip: Option<bytes::Bytes>,
    etag: String,
    kind: &'static str,
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "pbf" => "application/x-protobuf",
        "map" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

impl WebFiles {
    async fn get(&self, path: PathBuf) -> Option<Arc<WebFile>> {
        let meta = tokio::fs::metadata(&path).await.ok()?;
        if !meta.is_file() {
            return None;
        }
        let modified = meta.modified().ok();
        if let Some(f) = self.files.lock().get(&path)
            && f.modified == modified
        {
            return Some(f.clone());
        }
        let raw = tokio::fs::read(&path).await.ok()?;
        let kind = content_type(&path);
        let file = tokio::task::spawn_blocking(move || {
            let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let gzip = z
                .write_all(&raw)
                .ok()
                .and_then(|()| z.finish().ok())
                .filter(|g| g.len() + 64 < raw.len());
            let etag = format!(
                "\"w{:x}-{:x}\"",
                raw.len(),
                crc32fast_like(&raw) // cheap content fingerprint
            );
            WebFile {
                modified,
                raw: raw.into(),
                gzip: gzip.map(Into::into),
                etag,
                kind,
            }
        })
        .await
        .ok()?;
        let file = Arc::new(file);
        self.files.lock().insert(path, file.clone());
        Some(file)
    }
}

/// FNV-1a over the bytes: a fingerprint for the ETag (not a security measure).
fn crc32fast_like(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, x| {
        (h ^ u64::from(*x)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The file a path names in the web directory, if the path is a plain relative one.
fn resolve(dir: &Path, path: &str) -> Option<PathBuf> {
    let rel = path.trim_start_matches('/');
    let rel = match rel {
        "" => "index.html".to_owned(),
        "field" | "report" | "plan" => format!("{rel}.html"),
        r => r.to_owned(),
    };
    let rel = Path::new(&rel);
    if rel.components().any(|c| !matches!(c, Component::Normal(_)))
        || rel.to_str().is_none_or(|s| s.contains('\\'))
    {
        return None;
    }
    Some(dir.join(rel))
}

/// The fallback of the router: a web file, or the JSON 404 of the API.
pub async fn fallback(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    let api = ["/api/", "/tiles", "/open311", "/fonts/"]
        .iter()
        .any(|p| path.starts_with(p));
    if api || !matches!(*request.method(), Method::GET | Method::HEAD) {
        return ApiError::not_found("no such endpoint").into_response();
    }
    let dir = &state.config.web_dir;
    let Some(file) = resolve(dir, path) else {
        return ApiError::not_found("no such file").into_response();
    };
    match state.web.get(file).await {
        Some(f) => serve(&f, request.headers()),
        None if matches!(path, "/" | "/field" | "/report") => ApiError::unavailable(format!(
            "the web app is not built (no {}); run `make demo`, or `npm ci && npm run build` in web/",
            dir.display()
        ))
        .into_response(),
        None => ApiError::not_found("no such file").into_response(),
    }
}

fn serve(f: &WebFile, headers: &HeaderMap) -> Response {
    let cache = if f.kind.starts_with("text/html") {
        "no-cache"
    } else {
        "public, max-age=3600"
    };
    let mut common = HeaderMap::new();
    common.insert(header::CONTENT_TYPE, HeaderValue::from_static(f.kind));
    common.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    common.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    common.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(v) = HeaderValue::from_str(&f.etag) {
        common.insert(header::ETAG, v);
    }
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == f.etag));
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let gzip_ok = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|p| p.trim().starts_with("gzip")));
    match (&f.gzip, gzip_ok) {
        (Some(g), true) => {
            common.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            (common, g.clone()).into_response()
        }
        _ => (common, f.raw.clone()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_web_directory() {
        let d = Path::new("/srv/web");
        assert_eq!(resolve(d, "/"), Some(d.join("index.html")));
        assert_eq!(resolve(d, "/field"), Some(d.join("field.html")));
        assert_eq!(resolve(d, "/assets/app.js"), Some(d.join("assets/app.js")));
        assert_eq!(resolve(d, "/../etc/passwd"), None);
        assert_eq!(resolve(d, "/assets/../../x"), None);
        assert_eq!(resolve(d, "/a\\b"), None);
    }
}
