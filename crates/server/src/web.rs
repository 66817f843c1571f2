//! The web app: the built front end (`web/dist`, see `web/README.md`) served by minqing
//! itself, so that the map needs no outside host.
//!
//! `/` is the command centre, `/field` the field view, `/report` the report form (each
//! `<name>.html` in the web directory); any other path that is not an API path is a file of
//! the web directory. Files are read once, gzipped once and kept in memory (re-read when
//! their modification time changes); html is `no-cache`, other files may be cached for an
//! hour (file names of bundles carry content hashes).

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;

use super::AppState;
use super::error::ApiError;
use super::extract::negotiate::Negotiation;
use minqing_service::tilecache::{Encoded, Gzip};

/// Files of the web app, read once.
#[derive(Default)]
pub struct WebFiles {
    files: Mutex<HashMap<PathBuf, Arc<WebFile>>>,
}

/// One file: its bytes with their gzip form and validator, and its type.
pub struct WebFile {
    modified: Option<SystemTime>,
    body: Encoded,
    kind: &'static str,
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "pbf" => "application/x-protobuf",
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
            let body = Encoded::new(raw, Gzip::WhenSmaller);
            // Compressed here, off the async threads.
            let _ = body.gzip();
            WebFile {
                modified,
                body,
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

/// The file a path names in the web directory, if the path is a plain relative one.
fn resolve(dir: &Path, path: &str) -> Option<PathBuf> {
    let rel = path.trim_start_matches('/');
    let rel = match rel {
        "" => "index.html".to_owned(),
        "field" | "report" | "plan" | "reports" => format!("{rel}.html"),
        // A review report's own address: /reports/<area code>/<period>/<date>.
        r if r.starts_with("reports/") => "reports.html".to_owned(),
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
        Some(f) => serve(&f, &Negotiation::of(request.headers())),
        None if matches!(path, "/" | "/field" | "/report") => ApiError::unavailable(format!(
            "the web app is not built (no {}); run `make demo`, or `npm ci && npm run build` in web/",
            dir.display()
        ))
        .into_response(),
        None => ApiError::not_found("no such file").into_response(),
    }
}

fn serve(f: &WebFile, client: &Negotiation) -> Response {
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
    if let Ok(v) = HeaderValue::from_str(f.body.etag()) {
        common.insert(header::ETAG, v);
    }
    if client.holds(f.body.etag()) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (common, client.body(&f.body)).into_response()
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

    #[test]
    fn gzip_refused_with_q0_is_not_sent() {
        let file = WebFile {
            modified: None,
            body: Encoded::new("minqing ".repeat(1000), Gzip::WhenSmaller),
            kind: "text/html; charset=utf-8",
        };
        let encoding = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(v));
            serve(&file, &Negotiation::of(&h))
                .headers()
                .get(header::CONTENT_ENCODING)
                .cloned()
        };
        assert_eq!(encoding("gzip, br"), Some(HeaderValue::from_static("gzip")));
        assert_eq!(encoding("gzip;q=0"), None);
        assert_eq!(encoding("br, gzip;q=0, deflate"), None);
        assert_eq!(encoding("identity"), None);
    }
}
