//! Grid planning over HTTP: drafts, operations, validation, preview, publish.
//!
//! The design (tables, operations, validation rules, publish steps, the conflict rule) is
//! in the store's plans module, and so is the form of an operation body
//! ([`Operation`], a serde enum whose refusals are answered here as 400); this module
//! checks access, reads the other bodies and shapes answers.
//!
//! | endpoint | what |
//! |---|---|
//! | `GET /api/v1/plans?status=` | plans in the caller's scope, newest first (`draft` by default; `published`, `abandoned`, `all`) |
//! | `POST /api/v1/plans` | `{"area": id or code, "name", "households_min", "households_max", "population_min", "population_max"}`: opens a draft (201) |
//! | `GET /api/v1/plans/{id}` | the draft as a FeatureCollection (feature id = grid key), with `plan`, `closed` and the last `validation` |
//! | `POST /api/v1/plans/{id}/operations` | one operation (`{"op": …}`, see below); answers the draft and its new validation |
//! | `POST /api/v1/plans/{id}/validate` | the validation report |
//! | `POST /api/v1/plans/{id}/publish` | publishes (200); 422 `invalid_plan` with the report; 409 `conflict` when its grids changed since |
//! | `POST /api/v1/plans/{id}/rebase` | re-bases a draft on the current grids; `POST …/abandon` abandons it |
//! | `GET /api/v1/plans/{id}/tiles/{z}/{x}/{y}` | the draft as an MVT tile, layer `plan` (encoded by PostGIS) |
//!
//! Operations (`grid`, `grids`, `from`, `to` are draft keys; geometries GeoJSON):
//! `{"op":"reshape","grid",["geometry"],["households"],["population"],["name"]}`,
//! `{"op":"split","grid","line"}`, `{"op":"merge","grids":[…]}`,
//! `{"op":"move_boundary","from","to","piece"}` or `{"op":"move_boundary","grids":[a,b],"line"}`,
//! `{"op":"create","geometry","households","population",["name"],["code"],["parent"]}`,
//! `{"op":"retire","grid"}`.
//!
//! Access: planner, command and admin roles, within their scope area (a plan over an area
//! outside it is 403 to open and 404 to read); other roles 403, anonymous 401.

// Refusals are finished answers (some carry a report beside the error), made at most once
// per request: their size does not matter.
#![allow(clippy::result_large_err)]

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minqing_tiles::TileId;
use serde_json::{Map, Value, json};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiPath, JsonBody, Params};
use minqing_model::geojson::multipolygon_to_json;
use minqing_service::auth::{Caller, Role};
use minqing_service::plans;
use minqing_service::render::MAX_ZOOM;
use minqing_store::{DEFAULT_HOUSEHOLDS, Operation, Plan, PlanError};

/// Largest operation body (a redrawn grid may have many vertices).
const MAX_OPERATION_BYTES: usize = 2 * 1024 * 1024;
/// Most plans listed.
const MAX_LIST: i64 = 500;

/// `/api/v1/plans…`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/plans", get(list).post(create))
        .route("/api/v1/plans/{id}", get(one))
        .route(
            "/api/v1/plans/{id}/operations",
            post(operation).layer(DefaultBodyLimit::max(MAX_OPERATION_BYTES)),
        )
        .route("/api/v1/plans/{id}/validate", post(validate))
        .route("/api/v1/plans/{id}/publish", post(publish))
        .route("/api/v1/plans/{id}/rebase", post(rebase))
        .route("/api/v1/plans/{id}/abandon", post(abandon))
        .route("/api/v1/plans/{id}/tiles/{z}/{x}/{y}", get(tile))
}

/// A JSON error with extra fields beside `code` and `message`.
fn error_with(status: StatusCode, code: &str, message: &str, extra: Value) -> Response {
    let mut e = Map::new();
    e.insert("code".into(), json!(code));
    e.insert("message".into(), json!(message));
    if let Value::Object(m) = extra {
        e.extend(m);
    }
    (status, axum::Json(json!({ "error": e }))).into_response()
}

/// A refused plan request as an HTTP answer.
fn refused(e: PlanError) -> Response {
    match e {
        PlanError::NotFound(m) => ApiError::not_found(m).into_response(),
        PlanError::State(m) => ApiError::conflict(m).into_response(),
        PlanError::Input(m) => ApiError::unprocessable(m).into_response(),
        PlanError::Geometry {
            what,
            reason,
            location,
        } => {
            let at = location.map_or_else(String::new, |[x, y]| format!(" at ({x}, {y})"));
            error_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_geometry",
                &format!("{what} is not valid: {reason}{at}; nothing was changed"),
                json!({"reason": reason, "location": location}),
            )
        }
        PlanError::Conflict { message, areas } => error_with(
            StatusCode::CONFLICT,
            "conflict",
            &message,
            json!({"areas": areas}),
        ),
        PlanError::Invalid(report) => error_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_plan",
            &format!(
                "the draft has {} fault(s); fix them before publishing",
                report.faults.len()
            ),
            json!({"report": report}),
        ),
        PlanError::Store(e) => ApiError::from(e).into_response(),
    }
}

type PlanAnswer = Result<Response, Response>;

fn api(e: impl Into<ApiError>) -> Response {
    e.into().into_response()
}

/// The caller's scope area (`None`: everywhere); 401 anonymous, 403 for roles that do not
/// plan.
fn planner(state: &AppState, caller: &Caller) -> Result<Option<i64>, Response> {
    let p = caller.require().map_err(api)?;
    if !matches!(p.role, Role::Planner | Role::Command | Role::Admin) {
        return Err(api(ApiError::forbidden(format!(
            "the {} role cannot plan grids (planner, command and admin can)",
            p.role.as_str()
        ))));
    }
    match &p.area_code {
        None => Ok(None),
        Some(code) => state
            .index
            .areas()
            .by_code(code)
            .map(|a| Some(a.id))
            .ok_or_else(|| {
                api(ApiError::forbidden(format!(
                    "your scope area {code} no longer exists"
                )))
            }),
    }
}

fn in_scope(state: &AppState, scope: Option<i64>, area: i64) -> bool {
    scope.is_none_or(|s| state.index.areas().is_within(area, s))
}

fn plan_id(id: &str) -> Result<i64, Response> {
    id.parse().map_err(|_| {
        api(ApiError::bad_request(format!(
            "plan id must be an integer, not {id:?}"
        )))
    })
}

/// The plan, if the caller may plan and it lies in their scope (else 404).
async fn visible_plan(state: &AppState, caller: &Caller, id: &str) -> Result<Plan, Response> {
    let scope = planner(state, caller)?;
    let id = plan_id(id)?;
    let plan = state.store.plan(id).await.map_err(refused)?;
    if !in_scope(state, scope, plan.area_id) {
        return Err(api(ApiError::not_found(format!("no plan {id}"))));
    }
    Ok(plan)
}

fn plan_json(p: &Plan) -> Value {
    serde_json::to_value(p).unwrap_or(Value::Null)
}

/// The draft as a FeatureCollection, with its plan, closed grids and `validation`.
/// A draft as it is after a change: validated again, re-read, answered with its report.
async fn validated_draft(state: &AppState, id: i64) -> PlanAnswer {
    let report = state.store.validate_plan(id).await.map_err(refused)?;
    let plan = state.store.plan(id).await.map_err(refused)?;
    draft(state, &plan, Some(json!(report))).await
}

async fn draft(state: &AppState, plan: &Plan, validation: Option<Value>) -> PlanAnswer {
    let (grids, closed) = state.store.plan_grids(plan.id).await.map_err(refused)?;
    let features: Vec<Value> = grids
        .iter()
        .map(|g| {
            let status = match (g.changed, g.source_id) {
                (false, _) => "unchanged",
                (true, Some(_)) => "changed",
                (true, None) => "new",
            };
            json!({
                "type": "Feature",
                "id": g.key,
                "geometry": multipolygon_to_json(&g.geom),
                "properties": {
                    "key": g.key, "code": g.code, "name": g.name, "name_en": g.name_en,
                    "parent_id": g.parent_id, "source_id": g.source_id,
                    "households": g.households, "population": g.population,
                    "workers": serde_json::from_str::<Value>(&g.workers).unwrap_or(Value::Null),
                    "state": status,
                },
            })
        })
        .collect();
    let validation = validation.or_else(|| plan.report.clone());
    let body = json!({
        "type": "FeatureCollection",
        "plan": plan_json(plan),
        "numberReturned": features.len(),
        "features": features,
        "closed": closed,
        "validation": validation,
    });
    Ok((
        [(header::CONTENT_TYPE, "application/geo+json")],
        body.to_string(),
    )
        .into_response())
}

async fn list(State(state): State<AppState>, caller: Caller, p: Params) -> Response {
    let run = async {
        p.only(&["status", "limit"]).map_err(api)?;
        let scope = planner(&state, &caller)?;
        let status = match p.str("status").unwrap_or("draft") {
            "all" => None,
            s @ ("draft" | "published" | "abandoned") => Some(s),
            other => {
                return Err(api(ApiError::bad_request(format!(
                    "status must be draft, published, abandoned or all, not {other:?}"
                ))));
            }
        };
        let limit = p.int("limit", 100, 1, MAX_LIST).map_err(api)?;
        let plans = state.store.plans(status, limit).await.map_err(refused)?;
        let plans: Vec<Value> = plans
            .iter()
            .filter(|pl| in_scope(&state, scope, pl.area_id))
            .map(plan_json)
            .collect();
        Ok(axum::Json(json!({ "plans": plans })).into_response())
    };
    run.await.unwrap_or_else(|e| e)
}

fn opt_i32(o: &Map<String, Value>, key: &str) -> Result<Option<i32>, Response> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| {
                api(ApiError::bad_request(format!(
                    "{key} must be a non-negative integer, not {v}"
                )))
            }),
    }
}

fn opt_str<'a>(
    o: &'a Map<String, Value>,
    key: &str,
    max: usize,
) -> Result<Option<&'a str>, Response> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= max => Ok(Some(s)),
        Some(v) => Err(api(ApiError::bad_request(format!(
            "{key} must be a non-empty string of at most {max} characters, not {v}"
        )))),
    }
}

fn only_keys(o: &Map<String, Value>, allowed: &[&str]) -> Result<(), Response> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(api(ApiError::bad_request(format!(
            "unknown field {k:?}; allowed: {}",
            allowed.join(", ")
        )))),
        None => Ok(()),
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Response {
    let run = async {
        let scope = planner(&state, &caller)?;
        let o = body.as_object().ok_or_else(|| {
            api(ApiError::bad_request(
                "the body must be a JSON object with an area",
            ))
        })?;
        only_keys(
            o,
            &[
                "area",
                "name",
                "households_min",
                "households_max",
                "population_min",
                "population_max",
            ],
        )?;
        let areas = state.index.areas();
        let area = match o.get("area") {
            Some(Value::Number(n)) => n.as_i64().and_then(|id| areas.get(id)),
            Some(Value::String(code)) => areas.by_code(code),
            _ => {
                return Err(api(ApiError::bad_request(
                    "area must be an area id or code",
                )));
            }
        }
        .ok_or_else(|| {
            api(ApiError::not_found(format!(
                "no current area {}",
                o["area"]
            )))
        })?;
        if !in_scope(&state, scope, area.id) {
            return Err(api(ApiError::forbidden(format!(
                "area {} is outside your scope",
                area.code
            ))));
        }
        let hmin = opt_i32(o, "households_min")?.unwrap_or(DEFAULT_HOUSEHOLDS.0);
        let hmax = opt_i32(o, "households_max")?.unwrap_or(DEFAULT_HOUSEHOLDS.1);
        if hmin > hmax {
            return Err(api(ApiError::bad_request(
                "households_min must not exceed households_max",
            )));
        }
        let pmin = opt_i32(o, "population_min")?;
        let pmax = opt_i32(o, "population_max")?;
        if let (Some(a), Some(b)) = (pmin, pmax)
            && a > b
        {
            return Err(api(ApiError::bad_request(
                "population_min must not exceed population_max",
            )));
        }
        let name = opt_str(o, "name", 200)?.unwrap_or("");
        let id = state
            .store
            .create_plan(area.id, name, (hmin, hmax), (pmin, pmax), &caller.actor())
            .await
            .map_err(refused)?;
        let mut r = validated_draft(&state, id).await?;
        *r.status_mut() = StatusCode::CREATED;
        Ok(r)
    };
    run.await.unwrap_or_else(|e| e)
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    p: Params,
) -> Response {
    let run = async {
        p.only(&[]).map_err(api)?;
        let plan = visible_plan(&state, &caller, &id).await?;
        draft(&state, &plan, None).await
    };
    run.await.unwrap_or_else(|e| e)
}

/// Reads an operation body (see [`Operation`]): 400 naming what is wrong.
fn parse_operation(body: &Value) -> Result<Operation, Response> {
    Operation::from_json(body).map_err(|m| api(ApiError::bad_request(m)))
}

async fn operation(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> Response {
    let run = async {
        let plan = visible_plan(&state, &caller, &id).await?;
        let op = parse_operation(&body)?;
        // Applied and validated in one transaction: a refused operation leaves the draft
        // exactly as it was.
        let (_, report) = state
            .store
            .plan_operation(plan.id, &op, &body, &caller.actor())
            .await
            .map_err(refused)?;
        let plan = state.store.plan(plan.id).await.map_err(refused)?;
        draft(&state, &plan, Some(json!(report))).await
    };
    run.await.unwrap_or_else(|e| e)
}

async fn validate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Response {
    let run = async {
        let plan = visible_plan(&state, &caller, &id).await?;
        let report = state.store.validate_plan(plan.id).await.map_err(refused)?;
        Ok(axum::Json(report).into_response())
    };
    run.await.unwrap_or_else(|e| e)
}

async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Response {
    let run = async {
        let plan = visible_plan(&state, &caller, &id).await?;
        let done = plans::publish(&state, plan.id, &caller.actor())
            .await
            .map_err(refused)?;
        let published = done.published;
        let plan = state.store.plan(plan.id).await.map_err(refused)?;
        let created: Vec<Value> = published
            .created
            .iter()
            .map(|(id, code, version)| json!({"id": id, "code": code, "version": version}))
            .collect();
        Ok(axum::Json(json!({
            "plan": plan_json(&plan),
            "published": {
                "at": published.at,
                "closed": published.closed,
                "created": created,
                "events_reassigned": done.events_reassigned,
                "committed_ms": done.committed_ms,
                "total_ms": done.total_ms,
            },
            "validation": published.report,
        }))
        .into_response())
    };
    run.await.unwrap_or_else(|e| e)
}

async fn rebase(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Response {
    let run = async {
        let plan = visible_plan(&state, &caller, &id).await?;
        state
            .store
            .rebase_plan(plan.id, &caller.actor())
            .await
            .map_err(refused)?;
        validated_draft(&state, plan.id).await
    };
    run.await.unwrap_or_else(|e| e)
}

async fn abandon(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Response {
    let run = async {
        let plan = visible_plan(&state, &caller, &id).await?;
        state.store.abandon_plan(plan.id).await.map_err(refused)?;
        let plan = state.store.plan(plan.id).await.map_err(refused)?;
        Ok(axum::Json(json!({ "plan": plan_json(&plan) })).into_response())
    };
    run.await.unwrap_or_else(|e| e)
}

async fn tile(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, z, x, y)): ApiPath<(String, String, String, String)>,
) -> Response {
    let run = async {
        let plan = visible_plan(&state, &caller, &id).await?;
        let y = y.trim_end_matches(".mvt").trim_end_matches(".pbf");
        let t = TileId::parse(&z, &x, y)
            .map_err(|e| api(ApiError::bad_request(format!("tile {z}/{x}/{y}: {e}"))))?;
        if t.z > MAX_ZOOM {
            return Err(api(ApiError::bad_request(format!(
                "zoom {} is above the highest served zoom {MAX_ZOOM}",
                t.z
            ))));
        }
        let (tz, tx, ty) = (
            i32::from(t.z),
            i32::try_from(t.x).unwrap_or(0),
            i32::try_from(t.y).unwrap_or(0),
        );
        let bytes = state
            .store
            .plan_tile(plan.id, tz, tx, ty)
            .await
            .map_err(refused)?;
        if bytes.is_empty() {
            return Ok((
                StatusCode::NO_CONTENT,
                [(header::CACHE_CONTROL, "no-store")],
            )
                .into_response());
        }
        Ok((
            [
                (header::CONTENT_TYPE, "application/vnd.mapbox-vector-tile"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            bytes,
        )
            .into_response())
    };
    run.await.unwrap_or_else(|e| e)
}
