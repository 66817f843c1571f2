//! Events: report, list, nearby, one.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use serde_json::Value;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{JsonBody, Params};
use super::features::{self, GeoJson};
use crate::index::EventFilter;
use crate::model::geojson::point_from_json;
use crate::model::{NewEvent, StatusFilter};

/// Largest page of events.
const MAX_LIMIT: i64 = 1000;
/// Most events a nearby query returns.
const MAX_NEARBY: i64 = 200;
/// Largest nearby radius, metres.
const MAX_WITHIN_M: f64 = 100_000.0;
/// Longest accepted texts, in characters.
const MAX_TITLE: usize = 200;
const MAX_DESCRIPTION: usize = 5000;
const MAX_REPORTER: usize = 200;
const MAX_IDEMPOTENCY_KEY: usize = 200;

/// `/api/v1/events`, `/api/v1/events/nearby`, `/api/v1/events/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events", get(list).post(create))
        .route("/api/v1/events/nearby", get(nearby))
        .route("/api/v1/events/{id}", get(one))
}

/// Status, category and time filters shared by the queries (and the tile layers).
pub(super) fn filter(state: &AppState, p: &Params) -> ApiResult<EventFilter> {
    let status = match p.str("status") {
        None => StatusFilter::Open,
        Some(s) => StatusFilter::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "status must be open, all, or one of reported, accepted, assigned, in_progress, resolved, closed, rejected, reopened; not {s:?}"
            ))
        })?,
    };
    let categories = match p.str("category") {
        None => None,
        Some(c) => Some(
            state
                .taxonomy
                .matching(c)
                .ok_or_else(|| ApiError::bad_request(format!("unknown category {c:?}")))?,
        ),
    };
    let from = p.time("from")?;
    let to = p.time("to")?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::bad_request("from must not be after to"));
    }
    Ok(EventFilter {
        status,
        categories,
        from: from.map(|t| t.timestamp_micros()),
        to: to.map(|t| t.timestamp_micros()),
    })
}

async fn list(State(state): State<AppState>, p: Params) -> ApiResult<Response> {
    p.only(&[
        "bbox", "category", "status", "from", "to", "limit", "cursor",
    ])?;
    let mut f = filter(&state, &p)?;
    if p.str("status").is_none() {
        f.status = StatusFilter::All;
    }
    let bbox = p.bbox(state.config.max_bbox_deg)?;
    let limit = usize::try_from(p.int("limit", 100, 1, MAX_LIMIT)?).unwrap_or(100);
    let after = p.cursor()?;
    let mut events = state.index.events(|ix| {
        ix.list(bbox.as_ref(), &f, after, limit + 1)
            .into_iter()
            .map(|s| ix.event(s))
            .collect::<Vec<_>>()
    });
    let next = (events.len() > limit).then(|| {
        events.truncate(limit);
        events.last().map(|e| e.id)
    });
    let now = Utc::now();
    let feats = events
        .iter()
        .map(|e| features::event(e, &state.taxonomy, now, None))
        .collect();
    Ok(GeoJson(features::page("/api/v1/events", &p, feats, next.flatten())).into_response())
}

async fn nearby(State(state): State<AppState>, p: Params) -> ApiResult<Response> {
    p.only(&[
        "lon", "lat", "limit", "within_m", "status", "category", "from", "to",
    ])?;
    let (lon, lat) = p.lon_lat()?;
    let f = filter(&state, &p)?;
    let limit = usize::try_from(p.int("limit", 20, 1, MAX_NEARBY)?).unwrap_or(20);
    let within = match p.f64("within_m")? {
        None => f64::INFINITY,
        Some(w) if w > 0.0 && w <= MAX_WITHIN_M => w,
        Some(w) => {
            return Err(ApiError::bad_request(format!(
                "within_m must be more than 0 and at most {MAX_WITHIN_M}, not {w}"
            )));
        }
    };
    let found = state.index.events(|ix| {
        ix.nearest(lon, lat, limit, within, &f)
            .into_iter()
            .map(|(s, d)| (ix.event(s), d))
            .collect::<Vec<_>>()
    });
    let now = Utc::now();
    let feats: Vec<_> = found
        .iter()
        .map(|(e, d)| features::event(e, &state.taxonomy, now, Some(*d)))
        .collect();
    Ok(GeoJson(features::collection(feats)).into_response())
}

async fn one(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("event id must be an integer, not {id:?}")))?;
    // The detail view reads the committed row (it has the description the index omits).
    let e = state
        .store
        .event(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no event {id}")))?;
    Ok(GeoJson(features::event(&e, &state.taxonomy, Utc::now(), None)).into_response())
}

/// Reads and validates a report Feature.
fn parse_report(state: &AppState, body: &Value) -> ApiResult<NewEvent> {
    if body.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(ApiError::bad_request("the body must be a GeoJSON Feature"));
    }
    let geometry = body
        .get("geometry")
        .ok_or_else(|| ApiError::bad_request("the Feature has no geometry"))?;
    let (lon, lat) = point_from_json(geometry).map_err(ApiError::bad_request)?;
    let props = body
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::bad_request("the Feature has no properties object"))?;
    let text = |key: &str, max: usize, required: bool| -> ApiResult<Option<String>> {
        match props.get(key) {
            None | Some(Value::Null) if !required => Ok(None),
            None | Some(Value::Null) => Err(ApiError::unprocessable(format!(
                "properties.{key} is required"
            ))),
            Some(Value::String(s)) => {
                let s = s.trim();
                if required && s.is_empty() {
                    Err(ApiError::unprocessable(format!(
                        "properties.{key} must not be empty"
                    )))
                } else if s.chars().count() > max {
                    Err(ApiError::unprocessable(format!(
                        "properties.{key} is longer than {max} characters"
                    )))
                } else {
                    Ok(Some(s.to_owned()))
                }
            }
            Some(_) => Err(ApiError::bad_request(format!(
                "properties.{key} must be a string"
            ))),
        }
    };
    let category = text("category", 100, true)?.unwrap_or_default();
    if state.taxonomy.number(&category).is_none() {
        return Err(ApiError::unprocessable(format!(
            "unknown category {category:?}; see the taxonomy for valid codes such as hazard.fire"
        )));
    }
    Ok(NewEvent {
        category,
        title: text("title", MAX_TITLE, true)?.unwrap_or_default(),
        description: text("description", MAX_DESCRIPTION, false)?.unwrap_or_default(),
        lon,
        lat,
        reporter: text("reporter", MAX_REPORTER, false)?.filter(|r| !r.is_empty()),
    })
}

async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let k = v
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"
                    ))
                })?;
            Some(k.to_owned())
        }
    };
    let new = parse_report(&state, &body)?;
    let grid = state.index.areas().locate(new.lon, new.lat).map(|g| g.id);
    let inserted = state
        .store
        .insert_event(&new, 2, grid, key.as_deref())
        .await?;
    // Committed: now visible to every following query on this instance.
    let e = inserted.event;
    state.live.apply(e.clone());
    let location = format!("/api/v1/events/{}", e.id);
    Ok((
        StatusCode::CREATED,
        [("location", location)],
        GeoJson(features::event(&e, &state.taxonomy, Utc::now(), None)),
    )
        .into_response())
}
