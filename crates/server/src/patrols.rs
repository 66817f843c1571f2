//! Patrols: a grid worker's phone starts one, sends its track in batches that survive a lost
//! connection, and ends it; staff list them with their tracks, in scope.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiPath, JsonBody, Params, body_fields};
use minqing_model::worker::{MAX_BATCH_POINTS, Patrol, TrackPoint};
use minqing_service::auth::Caller;
use minqing_store::{PatrolFilter, PatrolRefusal};

/// The patrols' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/patrols", get(list).post(start))
        .route("/api/v1/patrols/coverage", get(coverage))
        .route(
            "/api/v1/patrols/{id}/points",
            post(points).layer(axum::extract::DefaultBodyLimit::max(MAX_TRACK_BYTES)),
        )
        .route("/api/v1/patrols/{id}/end", post(end))
}

/// The largest batch body: a full batch of `MAX_BATCH_POINTS` points runs to about 130 KB of
/// JSON, over the default limit of other bodies.
const MAX_TRACK_BYTES: usize = 512 * 1024;

/// How far ahead of the server's clock a phone's time may be.
const CLOCK_SLACK_MIN: i64 = 5;

/// The worker a caller records patrols as.
fn worker_of(caller: &Caller) -> ApiResult<i64> {
    let p = caller.require()?;
    p.worker_id.ok_or_else(|| {
        ApiError::forbidden(
            "only a grid worker's token records patrols (minqing token create --worker)",
        )
    })
}

fn patrol_id(id: &str) -> ApiResult<i64> {
    id.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(|| {
        ApiError::bad_request(format!("patrol id must be a positive integer, not {id:?}"))
    })
}

/// A time field of a body: RFC 3339, not ahead of now by more than the slack; `None` when
/// absent.
fn time_field(body: &Value, k: &str) -> ApiResult<Option<DateTime<Utc>>> {
    match body.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let t = DateTime::parse_from_rfc3339(s)
                .map_err(|_| {
                    ApiError::bad_request(format!("{k} must be an RFC 3339 time, not {s:?}"))
                })?
                .to_utc();
            if t > Utc::now() + Duration::minutes(CLOCK_SLACK_MIN) {
                return Err(ApiError::unprocessable(format!("{k} lies in the future")));
            }
            Ok(Some(t))
        }
        Some(_) => Err(ApiError::bad_request(format!(
            "{k} must be a string (RFC 3339)"
        ))),
    }
}

fn refused(r: PatrolRefusal, id: i64) -> ApiError {
    match r {
        PatrolRefusal::NotFound => ApiError::not_found(format!("no patrol {id} of yours")),
        PatrolRefusal::Outside(m) => ApiError::unprocessable(m),
    }
}

async fn start(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let worker = worker_of(&caller)?;
    body_fields(&body, &["client_id", "started_at"])?;
    let client_id = match body.get("client_id") {
        Some(Value::String(s)) if (1..=64).contains(&s.chars().count()) => s.as_str(),
        _ => {
            return Err(ApiError::bad_request(
                "client_id is required: the phone's id for this patrol (1 to 64 characters)",
            ));
        }
    };
    let at = time_field(&body, "started_at")?.unwrap_or_else(Utc::now);
    let (id, new) = state.store.start_patrol(worker, client_id, at).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({"id": id, "new": new}))).into_response())
}

/// The points of a batch, checked.
fn track_points(body: &Value) -> ApiResult<Vec<TrackPoint>> {
    body_fields(body, &["points"])?;
    let list = body
        .get("points")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ApiError::bad_request("points is required: an array of {seq, at, lon, lat}")
        })?;
    if list.is_empty() || list.len() > MAX_BATCH_POINTS {
        return Err(ApiError::unprocessable(format!(
            "a batch holds 1 to {MAX_BATCH_POINTS} points, not {}",
            list.len()
        )));
    }
    list.iter()
        .enumerate()
        .map(|(i, p)| {
            body_fields(p, &["seq", "at", "lon", "lat", "accuracy_m"])
                .map_err(|e| e.within(&format!("points[{i}]")))?;
            let num = |k: &str| p.get(k).and_then(Value::as_f64);
            let seq = p
                .get("seq")
                .and_then(Value::as_i64)
                .and_then(|s| i32::try_from(s).ok())
                .filter(|s| *s >= 0)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("points[{i}].seq must be an integer ≥ 0"))
                })?;
            let (Some(lon), Some(lat)) = (num("lon"), num("lat")) else {
                return Err(ApiError::bad_request(format!(
                    "points[{i}]: lon and lat are numbers"
                )));
            };
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err(ApiError::unprocessable(format!(
                    "points[{i}]: lon or lat out of range"
                )));
            }
            let at = time_field(p, "at")
                .map_err(|e| e.within(&format!("points[{i}]")))?
                .ok_or_else(|| ApiError::bad_request(format!("points[{i}].at is required")))?;
            #[allow(clippy::cast_possible_truncation)] // metres of a GPS fix
            let accuracy_m = match p.get("accuracy_m") {
                None | Some(Value::Null) => None,
                Some(v) => Some(
                    v.as_f64()
                        .filter(|a| (0.0..=100_000.0).contains(a))
                        .ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "points[{i}].accuracy_m must be 0 to 100000"
                            ))
                        })? as f32,
                ),
            };
            Ok(TrackPoint {
                seq,
                at,
                lon,
                lat,
                accuracy_m,
            })
        })
        .collect()
}

async fn points(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let worker = worker_of(&caller)?;
    let id = patrol_id(&id)?;
    let points = track_points(&body)?;
    match state.store.add_patrol_points(id, worker, &points).await? {
        Ok(b) => Ok(Json(json!({"stored": b.stored, "repeated": b.repeated})).into_response()),
        Err(r) => Err(refused(r, id)),
    }
}

async fn end(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let worker = worker_of(&caller)?;
    let id = patrol_id(&id)?;
    body_fields(&body, &["ended_at"])?;
    let at = time_field(&body, "ended_at")?.unwrap_or_else(Utc::now);
    match state.store.end_patrol(id, worker, at).await? {
        Ok(()) => Ok(Json(json!({"id": id, "ended": true})).into_response()),
        Err(r) => Err(refused(r, id)),
    }
}

fn feature(p: &Patrol) -> Value {
    let geometry = p
        .track
        .as_deref()
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .unwrap_or(Value::Null);
    json!({
        "type": "Feature", "id": p.id, "geometry": geometry,
        "properties": {
            "worker": {"id": p.worker_id, "name": p.worker_name},
            "started_at": p.started_at, "ended_at": p.ended_at,
            "grids": p.grid_codes, "points": p.points,
            "length_m": (p.length_m * 10.0).round() / 10.0,
            "generated": p.generated,
        }
    })
}

async fn list(State(state): State<AppState>, caller: Caller, p: Params) -> ApiResult<Response> {
    p.only(&["worker", "area", "from", "to", "limit", "cursor"])?;
    let principal = caller.require()?;
    if !principal.role.reads_events() {
        return Err(ApiError::forbidden(format!(
            "a {} token does not list patrols",
            principal.role.as_str()
        )));
    }
    let scope = state.scope_grids(&caller);
    let areas = state.index.areas();
    let codes_of = |grids: &[i64]| -> Vec<String> {
        grids
            .iter()
            .filter_map(|g| areas.get(*g).map(|a| a.code.clone()))
            .collect()
    };
    let mut grids = scope.as_ref().map(|s| codes_of(&s.grids));
    if let Some(a) = p.str("area") {
        let area = areas
            .by_code(a)
            .or_else(|| a.parse::<i64>().ok().and_then(|id| areas.get(id)))
            .ok_or_else(|| ApiError::not_found(format!("no area {a:?} (an id or a code)")))?;
        if scope
            .as_ref()
            .is_some_and(|s| !minqing_service::auth::in_scope(s, &areas, area.id))
        {
            return Err(ApiError::not_found(format!(
                "no area {a:?} (an id or a code)"
            )));
        }
        grids = Some(codes_of(&areas.grids_under(area.id)));
    }
    let from = p.time("from")?;
    let to = p.time("to")?;
    let f = PatrolFilter {
        worker: match p.str("worker") {
            None => None,
            Some(w) => Some(w.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!("worker must be a worker id, not {w:?}"))
            })?),
        },
        grids,
        from,
        to,
        after: p.int("cursor", 0, 0, i64::MAX)?,
    };
    let limit = p.int("limit", 100, 1, 500)?;
    let list = state.store.patrols(&f, limit).await?;
    let next = (list.len() == usize::try_from(limit).unwrap_or(usize::MAX))
        .then(|| list.last().map(|x| x.id))
        .flatten();
    Ok(Json(json!({
        "type": "FeatureCollection",
        "features": list.iter().map(feature).collect::<Vec<_>>(),
        "next_cursor": next,
    }))
    .into_response())
}

/// The buildings visits reached: the building itself, or the one a household, place or
/// organisation is in.
fn buildings_reached(
    regs: &minqing_index::registers::RegisterIndex,
    visited: &[minqing_model::register::RegisterLink],
) -> std::collections::HashSet<i64> {
    use minqing_model::register::LinkKind;
    visited
        .iter()
        .filter_map(|t| match t.kind {
            LinkKind::Building => Some(t.id),
            LinkKind::Household => regs.household(t.id).map(|(_, b, _)| b.id),
            LinkKind::Place => regs.place(t.id).and_then(|(p, _)| p.building_id),
            LinkKind::Organisation => regs.organisation(t.id).and_then(|(o, _)| o.building_id),
        })
        .collect()
}

/// How close a patrol must pass a building to count it seen, metres.
pub const PASSED_WITHIN_M: f64 = 30.0;

/// Patrol coverage of a grid in a period: the share of its buildings a patrol passed within
/// [`PASSED_WITHIN_M`] (ellipsoidal) or a visit reached (the building, a household in it, a
/// place or organisation in it), and the buildings neither did.
async fn coverage(State(state): State<AppState>, caller: Caller, p: Params) -> ApiResult<Response> {
    p.only(&["grid", "from", "to", "limit"])?;
    let principal = caller.require()?;
    if !principal.role.reads_events() {
        return Err(ApiError::forbidden(format!(
            "a {} token does not read patrol coverage",
            principal.role.as_str()
        )));
    }
    let areas = state.index.areas();
    let g = p
        .str("grid")
        .ok_or_else(|| ApiError::bad_request("grid is required (an id or a code)"))?;
    let not_found = || ApiError::not_found(format!("no grid {g:?} (an id or a code)"));
    let grid = areas
        .by_code(g)
        .or_else(|| g.parse::<i64>().ok().and_then(|id| areas.get(id)))
        .filter(|a| a.level == minqing_model::Level::Grid)
        .ok_or_else(not_found)?;
    if state
        .scope_grids(&caller)
        .is_some_and(|s| !s.has_grid(Some(grid.id)))
    {
        return Err(not_found());
    }
    let to = p.time("to")?.unwrap_or_else(Utc::now);
    let from = p.time("from")?.unwrap_or(to - Duration::days(30));
    if from >= to {
        return Err(ApiError::bad_request("from must be before to"));
    }
    let limit = usize::try_from(p.int("limit", 1000, 0, 10_000)?).unwrap_or(1000);
    let bbox = areas.bbox(grid.id).ok_or_else(not_found)?;
    // The reach in degrees (with a margin): the box each building's probe looks in.
    let dlat = PASSED_WITHIN_M / 110_574.0 * 1.01;
    let dlon = dlat
        / bbox
            .max_lat
            .abs()
            .max(bbox.min_lat.abs())
            .to_radians()
            .cos()
            .max(0.01);
    let visited = state.store.visited_in(&grid.code, from, to).await?;
    let regs = state.index.registers();
    let reached = buildings_reached(&regs, &visited);
    let one = minqing_index::GridSet {
        area_id: grid.id,
        grids: vec![grid.id],
        bbox,
    };
    let mut buildings: Vec<(i64, f64, f64, String)> = Vec::new();
    regs.for_buildings_in(&bbox, Some(&one), |b, _, _| {
        buildings.push((b.id, b.lon, b.lat, b.address.clone()));
    });
    buildings.sort_unstable_by_key(|b| b.0);
    let at: Vec<(f64, f64)> = buildings.iter().map(|b| (b.1, b.2)).collect();
    // One bounded probe of the track points' index per building, in PostGIS: a month of a
    // busy grid holds far more points than buildings (fetching them all cost 80–130 ms).
    let passed = state
        .store
        .passed(&at, (from, to), PASSED_WITHIN_M, (dlon, dlat))
        .await?;
    let n_passed = passed.iter().filter(|x| **x).count();
    let n_visited = buildings.iter().filter(|b| reached.contains(&b.0)).count();
    let uncovered: Vec<&(i64, f64, f64, String)> = buildings
        .iter()
        .zip(&passed)
        .filter(|(b, p)| !**p && !reached.contains(&b.0))
        .map(|(b, _)| b)
        .collect();
    let covered = buildings.len() - uncovered.len();
    #[allow(clippy::cast_precision_loss)] // counts of buildings
    let share = if buildings.is_empty() {
        Value::Null
    } else {
        json!((covered as f64 / buildings.len() as f64 * 1000.0).round() / 1000.0)
    };
    Ok(Json(json!({
        "grid": {"id": grid.id, "code": grid.code, "name": grid.name},
        "from": from, "to": to, "within_m": PASSED_WITHIN_M,
        "buildings": buildings.len(), "passed": n_passed, "visited": n_visited,
        "covered": covered, "share": share,
        "uncovered_total": uncovered.len(),
        "uncovered": {"type": "FeatureCollection", "features": uncovered.iter().take(limit).map(|b| json!({
            "type": "Feature", "id": b.0,
            "geometry": {"type": "Point", "coordinates": [b.1, b.2]},
            "properties": {"address": b.3},
        })).collect::<Vec<_>>()},
    }))
    .into_response())
}
