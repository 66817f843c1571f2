//! What a call says: the file segment of its path, its arguments (query string and form
//! fields) and who calls (`api_key` or the `Authorization` header), and what that caller may
//! see.

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::Uri;
use axum::http::request::Parts;
use axum::response::Response;

use super::JURISDICTION_ID;
use super::doc::Format;
use super::fail::{Fail, Result};
use crate::AppState;
use crate::error::ApiError;
use minqing_service::auth::Caller;

/// The file segment of an Open311 path (`requests.json`). A segment that cannot be read
/// (not UTF-8) is a 400 in Open311's error format, in the format its raw path ends with.
pub(super) struct O311Path(pub(super) String);

impl<S: Send + Sync> FromRequestParts<S> for O311Path {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> std::result::Result<Self, Response> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| O311Path(v))
            .map_err(|e| {
                let fmt = if parts.uri.path().to_ascii_lowercase().ends_with(".json") {
                    Format::Json
                } else {
                    Format::Xml
                };
                Fail::bad(e.body_text()).render(fmt)
            })
    }
}

/// Arguments of a call (query string, and form fields for POST). An argument sent empty
/// counts as not sent; the same name twice with different values is refused.
#[derive(Debug, Default)]
pub(super) struct Args(BTreeMap<String, String>);

impl Args {
    pub(super) fn add(&mut self, pairs: Vec<(String, String)>) -> Result<()> {
        for (k, v) in pairs {
            // PostgreSQL's text cannot hold U+0000: refused here, naming the argument.
            if k.contains('\0') {
                return Err(Fail::bad(format!(
                    "argument name {k:?} holds a NUL character (U+0000)"
                )));
            }
            if v.contains('\0') {
                return Err(Fail::bad(format!(
                    "{k} holds a NUL character (U+0000), which no text may hold"
                )));
            }
            let v = v.trim().to_owned();
            if v.is_empty() || k.starts_with("attribute[") {
                // Attributes: our services define none a client fills in.
                continue;
            }
            if let Some(old) = self.0.get(&k)
                && *old != v
            {
                return Err(Fail::bad(format!(
                    "{k} was given twice with different values"
                )));
            }
            self.0.insert(k, v);
        }
        Ok(())
    }

    pub(super) fn from_query(uri: &Uri) -> Result<Args> {
        let pairs = serde_urlencoded::from_str(uri.query().unwrap_or(""))
            .map_err(|e| Fail::bad(format!("malformed query string: {e}")))?;
        let mut a = Args::default();
        a.add(pairs)?;
        Ok(a)
    }

    pub(super) fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    /// A comma list, empty items dropped.
    pub(super) fn list(&self, k: &str) -> Option<Vec<&str>> {
        self.get(k).map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
    }
}

/// 404 unless `jurisdiction_id` is absent or ours.
pub(super) fn check_jurisdiction(args: &Args) -> Result<()> {
    match args.get("jurisdiction_id") {
        None => Ok(()),
        Some(j) if j == JURISDICTION_ID => Ok(()),
        Some(j) => Err(Fail::not_found(format!(
            "jurisdiction_id {j:?} was not found; this endpoint serves one jurisdiction, \
             {JURISDICTION_ID:?} (the argument may be left out)"
        ))),
    }
}

/// The caller: the `api_key` argument if given, else the `Authorization` header. An invalid
/// key or header is 403.
pub(super) async fn resolve_caller(
    state: &AppState,
    header: std::result::Result<Caller, ApiError>,
    args: &Args,
) -> Result<Caller> {
    let header = header.map_err(|_| {
        Fail::forbidden("invalid token in the Authorization header -- can't proceed")
    })?;
    let Some(key) = args.get("api_key") else {
        return Ok(header);
    };
    let principal = if key.len() <= 200 {
        state
            .auth
            .principal(&state.store, state.live.token_generation(), key)
            .await?
    } else {
        None
    };
    match principal {
        Some(p) => Ok(Caller {
            principal: Some(p),
            ip: header.ip,
            token_hash: Some(std::sync::Arc::from(minqing_service::auth::hash(key))),
        }),
        None => Err(Fail::forbidden(
            "Invalid api_key received -- can't proceed (unknown or revoked key)",
        )),
    }
}

/// What a caller may see of requests: `full` records (with locations) in `grids` (`None` =
/// all), or public records of every request.
pub(super) struct View {
    pub(super) full: bool,
    pub(super) grids: Option<Vec<i64>>,
}

impl View {
    pub(super) fn of(state: &AppState, caller: &Caller) -> View {
        match caller.role() {
            Some(r) if r.reads_events() => View {
                full: true,
                grids: state.scope_grids(caller).map(|g| g.grids.clone()),
            },
            _ => View {
                full: false,
                grids: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_arguments_count_as_absent() {
        let mut a = Args::default();
        assert!(
            a.add(vec![
                ("status".into(), String::new()),
                ("attribute[X]".into(), "1".into()),
                ("lat".into(), "22.8".into()),
                ("lat".into(), "22.8".into()),
            ])
            .is_ok()
        );
        assert_eq!(a.get("status"), None);
        assert_eq!(a.get("lat"), Some("22.8"));
        assert!(a.add(vec![("lat".into(), "1".into())]).is_err());
    }
}
