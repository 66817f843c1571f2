//! Extractors whose rejections are JSON errors naming what is wrong; and
//! [`negotiate`], what a request says of the answers it takes (encoding, validators, the
//! address the client used).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};

use super::error::ApiError;
use minqing_index::BBox;
use minqing_model::check_lon_lat;

pub mod negotiate;

/// Query parameters, parsed strictly: unknown or repeated names are refused.
#[derive(Debug, Default)]
pub struct Params(BTreeMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
            .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")))?;
        let mut map = BTreeMap::new();
        for (k, v) in pairs {
            if k.contains('\0') {
                return Err(ApiError::bad_request(format!(
                    "parameter name {k:?} holds a NUL character (U+0000)"
                )));
            }
            if v.contains('\0') {
                return Err(ApiError::bad_request(format!(
                    "parameter {k:?} holds a NUL character (U+0000), which no text may hold"
                )));
            }
            if map.insert(k.clone(), v).is_some() {
                return Err(ApiError::bad_request(format!(
                    "parameter {k:?} given twice"
                )));
            }
        }
        Ok(Params(map))
    }
}

impl Params {
    /// Refuses any parameter not in `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) if allowed.is_empty() => Err(ApiError::bad_request(format!(
                "unknown parameter {k:?}; this takes no parameters"
            ))),
            Some(k) => Err(ApiError::bad_request(format!(
                "unknown parameter {k:?}; allowed: {}",
                allowed.join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// A raw value.
    #[must_use]
    pub fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// All pairs, for building links.
    #[must_use]
    pub fn pairs(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// A finite number.
    pub fn f64(&self, key: &str) -> Result<Option<f64>, ApiError> {
        self.str(key)
            .map(|v| {
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("{key} must be a finite number, not {v:?}"))
                    })
            })
            .transpose()
    }

    /// An integer within `[min, max]`, or `default` when absent.
    pub fn int(&self, key: &str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
        match self.str(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{key} must be an integer from {min} to {max}, not {v:?}"
                    ))
                }),
        }
    }

    /// `lon` and `lat`, both required and in range.
    pub fn lon_lat(&self) -> Result<(f64, f64), ApiError> {
        let lon = self
            .f64("lon")?
            .ok_or_else(|| ApiError::bad_request("lon is required"))?;
        let lat = self
            .f64("lat")?
            .ok_or_else(|| ApiError::bad_request("lat is required"))?;
        check_lon_lat(lon, lat).map_err(ApiError::bad_request)?;
        Ok((lon, lat))
    }

    /// `bbox=minLon,minLat,maxLon,maxLat`, ordered and no larger than `max_span` degrees a side.
    pub fn bbox(&self, max_span: f64) -> Result<Option<BBox>, ApiError> {
        let Some(v) = self.str("bbox") else {
            return Ok(None);
        };
        let [min_lon, min_lat, max_lon, max_lat] = v
            .split(',')
            .map(|x| x.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
            .collect::<Option<Vec<f64>>>()
            .and_then(|n| <[f64; 4]>::try_from(n).ok())
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "bbox must be four numbers minLon,minLat,maxLon,maxLat, not {v:?}"
                ))
            })?;
        let b = BBox {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        };
        check_lon_lat(b.min_lon, b.min_lat)
            .and_then(|()| check_lon_lat(b.max_lon, b.max_lat))
            .map_err(|m| ApiError::bad_request(format!("bbox: {m}")))?;
        if b.min_lon > b.max_lon || b.min_lat > b.max_lat {
            return Err(ApiError::bad_request(
                "bbox is inverted: minLon must be ≤ maxLon and minLat ≤ maxLat",
            ));
        }
        if b.max_lon - b.min_lon > max_span || b.max_lat - b.min_lat > max_span {
            return Err(ApiError::bad_request(format!(
                "bbox is larger than {max_span}° on a side; ask for a smaller area"
            )));
        }
        Ok(Some(b))
    }

    /// An RFC 3339 time.
    pub fn time(&self, key: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.str(key)
            .map(|v| {
                DateTime::parse_from_rfc3339(v)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| {
                        ApiError::bad_request(format!(
                            "{key} must be an RFC 3339 time such as 2026-01-31T08:00:00+08:00, not {v:?}"
                        ))
                    })
            })
            .transpose()
    }

    /// The opaque paging cursor (an id).
    pub fn cursor(&self) -> Result<Option<i64>, ApiError> {
        self.str("cursor")
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::bad_request(format!("cursor {v:?} is not valid")))
            })
            .transpose()
    }
}

/// Path parameters whose rejection (a segment that is not UTF-8, or of the wrong type) is a
/// 400 in the JSON error format, not axum's plain text.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// A JSON request body, size-limited, parsed with messages that say what is wrong.
pub struct JsonBody(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let v = v.to_ascii_lowercase();
                v.starts_with("application/json") || v.starts_with("application/geo+json")
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/geo+json or application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is too large",
                )
            } else {
                ApiError::bad_request(format!("cannot read the body: {e}"))
            }
        })?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
        if let Some(path) = nul_path(&value) {
            return Err(ApiError::bad_request(format!(
                "{path} holds a NUL character (U+0000), which no text may hold"
            )));
        }
        Ok(JsonBody(value))
    }
}

/// The JSON path (`properties.title`, `grids[2]`, `body` for the top level) of the first
/// string or object key holding a NUL character, which PostgreSQL's text cannot store.
fn nul_path(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    fn walk(v: &Value, path: &mut String) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(a) => a.iter().enumerate().any(|(i, x)| {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                let found = walk(x, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Value::Object(o) => o.iter().any(|(k, x)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                if k.contains('\0') {
                    // The key itself: named escaped, as a key of its object.
                    let _ = write!(path, "{k:?} (a key)");
                    return true;
                }
                path.push_str(k);
                let found = walk(x, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }
    let mut path = String::new();
    walk(v, &mut path).then(|| {
        if path.is_empty() {
            "the body".to_owned()
        } else {
            path
        }
    })
}

/// Refuses a JSON body that is not an object or holds a field not in `fields` (400, naming
/// the field and the ones allowed).
pub fn body_fields(body: &serde_json::Value, fields: &[&str]) -> Result<(), ApiError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("the body must be a JSON object"))?;
    if let Some(k) = obj.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "unknown field {k:?}; fields: {}",
            fields.join(", ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> Params {
        Params(serde_urlencoded::from_str(q).unwrap())
    }

    #[test]
    fn nul_characters_are_found_with_their_path() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"type": "Feature", "properties": {"title": "a\u0000b", "n": 1}}"#,
        )
        .unwrap();
        assert_eq!(nul_path(&v).as_deref(), Some("properties.title"));
        let v: serde_json::Value =
            serde_json::from_str(r#"{"grids": [1, "x", "\u0000"]}"#).unwrap();
        assert_eq!(nul_path(&v).as_deref(), Some("grids[2]"));
        let v: serde_json::Value = serde_json::from_str(r#"{"a": {"k\u0000": 1}}"#).unwrap();
        assert!(nul_path(&v).unwrap().starts_with("a."));
        let v: serde_json::Value = serde_json::from_str(r#""\u0000""#).unwrap();
        assert_eq!(nul_path(&v).as_deref(), Some("the body"));
        let v: serde_json::Value = serde_json::from_str(r#"{"a": ["b", {"c": null}]}"#).unwrap();
        assert_eq!(nul_path(&v), None);
    }

    #[test]
    fn bbox_is_checked() {
        let b = params("bbox=115,22,115.5,22.5").bbox(2.0).unwrap().unwrap();
        assert!(b.contains(115.0, 22.5));
        for bad in [
            "bbox=1,2,3",
            "bbox=a,b,c,d",
            "bbox=116,22,115,23",
            "bbox=100,10,110,20",
            "bbox=-181,0,0,1",
        ] {
            assert!(params(bad).bbox(2.0).is_err(), "{bad}");
        }
        assert!(params("").bbox(2.0).unwrap().is_none());
    }

    #[test]
    fn numbers_and_names_are_strict() {
        assert!(params("lon=NaN&lat=1").lon_lat().is_err());
        assert!(params("lon=inf&lat=1").lon_lat().is_err());
        assert_eq!(
            params("lon=115.3&lat=22.8").lon_lat().unwrap(),
            (115.3, 22.8)
        );
        assert!(params("limit=0").int("limit", 20, 1, 200).is_err());
        assert_eq!(params("").int("limit", 20, 1, 200).unwrap(), 20);
        assert!(params("x=1").only(&["lon"]).is_err());
        assert!(params("from=2026-01-01").time("from").is_err());
        assert!(
            params("from=2026-01-01T00:00:00%2B08:00")
                .time("from")
                .unwrap()
                .is_some()
        );
    }
}
