//! Visits (走访): a grid worker records one at a household, building, place or organisation
//! of the registers in their grids; staff list them; the due list says which households
//! with a care tag and which risk sites are due or overdue by the visit rules, nearest first.
//!
//! The due list reveals who carries a care tag, so it follows the registers' rules: roles
//! that read people only, in scope, and a sensitive tag only to tokens granted it (a
//! household due only for an ungranted tag is not listed).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{JsonBody, Params, body_fields};
use minqing_index::GridSet;
use minqing_model::register::{LinkKind, RegisterLink};
use minqing_model::worker::{Visit, VisitOutcome};
use minqing_service::auth::Caller;
use minqing_service::registers::PeopleView;
use minqing_service::visits::{Rules, grid_set, subjects};
use minqing_store::{NewVisit, VisitFilter};

/// The visits' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/visits",
            get(list)
                .post(record)
                .layer(axum::extract::DefaultBodyLimit::max(
                    // A visit may carry a photo, in base64.
                    super::events::MAX_PHOTO_BYTES * 4 / 3 + 64 * 1024,
                )),
        )
        .route("/api/v1/visits/{id}/photo", get(photo))
        .route("/api/v1/visits/due", get(due))
}

/// How far ahead of the server's clock a phone's time may be.
const CLOCK_SLACK_MIN: i64 = 5;

/// The grid of a register record, if it exists.
fn grid_of(state: &AppState, t: RegisterLink) -> Option<i64> {
    let regs = state.index.registers();
    match t.kind {
        LinkKind::Building => regs.building(t.id).map(|(_, g)| g),
        LinkKind::Place => regs.place(t.id).map(|(_, g)| g),
        LinkKind::Organisation => regs.organisation(t.id).map(|(_, g)| g),
        LinkKind::Household => regs.household(t.id).map(|(_, _, g)| g),
    }
}

async fn record(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let principal = caller.require()?;
    let worker = principal.worker_id.ok_or_else(|| {
        ApiError::forbidden(
            "only a grid worker's token records visits (minqing token create --worker)",
        )
    })?;
    body_fields(
        &body,
        &["client_id", "target", "at", "outcome", "note", "photo"],
    )?;
    let photo = super::events::parse_photo(body.get("photo"), "photo")?;
    let client_id = match body.get("client_id") {
        Some(Value::String(s)) if (1..=64).contains(&s.chars().count()) => s.clone(),
        _ => {
            return Err(ApiError::bad_request(
                "client_id is required: the phone's id for this visit (1 to 64 characters)",
            ));
        }
    };
    let target = body
        .get("target")
        .ok_or_else(|| ApiError::bad_request("target is required: {kind, id}"))?;
    body_fields(target, &["kind", "id"]).map_err(|e| e.within("target"))?;
    let kind = target
        .get("kind")
        .and_then(Value::as_str)
        .and_then(LinkKind::parse)
        .ok_or_else(|| {
            ApiError::bad_request(format!("target.kind must be one of {}", LinkKind::codes()))
        })?;
    let id = target
        .get("id")
        .and_then(Value::as_i64)
        .filter(|i| *i > 0)
        .ok_or_else(|| ApiError::bad_request("target.id must be a positive integer"))?;
    let target = RegisterLink { kind, id };
    let outcome = body
        .get("outcome")
        .and_then(Value::as_str)
        .and_then(VisitOutcome::parse)
        .ok_or_else(|| {
            ApiError::bad_request(format!("outcome must be one of {}", VisitOutcome::codes()))
        })?;
    let note = match body.get("note") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) if s.chars().count() <= 2000 => s.trim().to_owned(),
        Some(Value::String(_)) => {
            return Err(ApiError::unprocessable(
                "note is longer than 2000 characters",
            ));
        }
        Some(_) => return Err(ApiError::bad_request("note must be a string")),
    };
    let at = match body.get("at") {
        None | Some(Value::Null) => Utc::now(),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map_err(|_| ApiError::bad_request(format!("at must be an RFC 3339 time, not {s:?}")))?
            .to_utc(),
        Some(_) => return Err(ApiError::bad_request("at must be a string (RFC 3339)")),
    };
    if at > Utc::now() + Duration::minutes(CLOCK_SLACK_MIN) {
        return Err(ApiError::unprocessable("at lies in the future"));
    }
    // The record must exist and lie in one of the worker's grids; anything else is not
    // theirs to visit (404, as any record outside a scope).
    let scope = state.scope_grids(&caller);
    let grid = grid_of(&state, target)
        .filter(|g| scope.as_ref().is_none_or(|s| s.has_grid(Some(*g))))
        .ok_or_else(|| ApiError::not_found(format!("no {} {id} in your grids", kind.code())))?;
    let grid_code = state.index.areas().get(grid).map(|a| a.code.clone());
    let (vid, new) = state
        .store
        .record_visit(&NewVisit {
            worker,
            client_id,
            target,
            grid_code: grid_code.clone(),
            at,
            outcome,
            note,
            photo,
        })
        .await?;
    if new {
        // Committed: counted by assessment at once (the change feed brings it again, once).
        state.index.work_mut(|w| {
            w.add_visits([minqing_model::worker::VisitRecord {
                id: vid,
                worker,
                target,
                grid_code,
                at: at.timestamp_micros(),
            }]);
        });
    }
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({"id": vid, "new": new}))).into_response())
}

fn visit_json(v: &Visit) -> Value {
    json!({
        "id": v.id,
        "worker": {"id": v.worker_id, "name": v.worker_name},
        "target": {"kind": v.target.kind.code(), "id": v.target.id},
        "grid_code": v.grid_code, "at": v.at,
        "outcome": v.outcome.code(), "outcome_label": v.outcome.label(),
        "note": v.note, "generated": v.generated,
        "photo": v.has_photo.then(|| format!("/api/v1/visits/{}/photo", v.id)),
    })
}

/// The grids a staff caller asks about (`area`, within their scope) or may see (`None`:
/// everywhere), or why not.
fn asked_grids(
    state: &AppState,
    scope: Option<&GridSet>,
    p: &Params,
) -> ApiResult<Option<Vec<i64>>> {
    let areas = state.index.areas();
    let Some(a) = p.str("area") else {
        return Ok(scope.map(|s| s.grids.clone()));
    };
    let area = areas
        .by_code(a)
        .or_else(|| a.parse::<i64>().ok().and_then(|id| areas.get(id)))
        .ok_or_else(|| ApiError::not_found(format!("no area {a:?} (an id or a code)")))?;
    if scope.is_some_and(|s| !minqing_service::auth::in_scope(s, &areas, area.id)) {
        return Err(ApiError::not_found(format!(
            "no area {a:?} (an id or a code)"
        )));
    }
    Ok(Some(areas.grids_under(area.id)))
}

/// A visit's photo, to staff whose scope holds the visit's grid.
async fn photo(
    State(state): State<AppState>,
    caller: Caller,
    super::extract::ApiPath(id): super::extract::ApiPath<String>,
) -> ApiResult<Response> {
    let principal = caller.require()?;
    if !principal.role.reads_events() {
        return Err(ApiError::forbidden(format!(
            "a {} token does not see visits",
            principal.role.as_str()
        )));
    }
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("a visit id is an integer, not {id:?}")))?;
    let not_found = || ApiError::not_found(format!("visit {id} has no photo"));
    let (kind, bytes, grid) = state.store.visit_photo(id).await?.ok_or_else(not_found)?;
    if let Some(scope) = state.scope_grids(&caller) {
        let areas = state.index.areas();
        let inside = grid
            .as_deref()
            .and_then(|g| areas.by_code(g))
            .is_some_and(|g| scope.has_grid(Some(g.id)));
        if !inside {
            return Err(not_found());
        }
    }
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, kind),
            (
                axum::http::header::CACHE_CONTROL,
                "private, max-age=86400".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn list(State(state): State<AppState>, caller: Caller, p: Params) -> ApiResult<Response> {
    p.only(&[
        "target_kind",
        "target_id",
        "worker",
        "area",
        "from",
        "to",
        "limit",
        "cursor",
    ])?;
    let principal = caller.require()?;
    if !principal.role.reads_events() {
        return Err(ApiError::forbidden(format!(
            "a {} token does not list visits",
            principal.role.as_str()
        )));
    }
    let scope = state.scope_grids(&caller);
    let grids = asked_grids(&state, scope.as_deref(), &p)?;
    let areas = state.index.areas();
    let target = match (p.str("target_kind"), p.str("target_id")) {
        (None, None) => None,
        (Some(k), Some(i)) => Some(RegisterLink {
            kind: LinkKind::parse(k).ok_or_else(|| {
                ApiError::bad_request(format!("target_kind must be one of {}", LinkKind::codes()))
            })?,
            id: i
                .parse()
                .map_err(|_| ApiError::bad_request("target_id must be an integer"))?,
        }),
        _ => {
            return Err(ApiError::bad_request(
                "give target_kind and target_id together",
            ));
        }
    };
    let f = VisitFilter {
        target,
        worker: match p.str("worker") {
            None => None,
            Some(w) => Some(w.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!("worker must be a worker id, not {w:?}"))
            })?),
        },
        grids: grids.map(|g| {
            g.iter()
                .filter_map(|id| areas.get(*id).map(|a| a.code.clone()))
                .collect()
        }),
        from: p.time("from")?,
        to: p.time("to")?,
        after: p.int("cursor", 0, 0, i64::MAX)?,
    };
    let limit = p.int("limit", 100, 1, 1000)?;
    let list = state.store.visits(&f, limit).await?;
    let next = (list.len() == usize::try_from(limit).unwrap_or(usize::MAX))
        .then(|| list.last().map(|v| v.id))
        .flatten();
    Ok(Json(
        json!({"visits": list.iter().map(visit_json).collect::<Vec<_>>(), "next_cursor": next}),
    )
    .into_response())
}

async fn due(State(state): State<AppState>, caller: Caller, p: Params) -> ApiResult<Response> {
    p.only(&["area", "within_days", "near", "limit"])?;
    caller.require()?;
    let PeopleView::Masked {
        grids: scope,
        granted,
    } = state.people_view(&caller)
    else {
        return Err(ApiError::forbidden(
            "the due list shows who carries a care tag: roles that read people only",
        ));
    };
    let Some(grids) = asked_grids(&state, scope.as_deref(), &p)? else {
        return Err(ApiError::bad_request(
            "name the area: area= (an id or a code)",
        ));
    };
    let within = p.int("within_days", 7, 0, 366)?;
    let limit = usize::try_from(p.int("limit", 200, 1, 5000)?).unwrap_or(200);
    let near = match p.str("near") {
        None => None,
        Some(v) => {
            let mut it = v.split(',').map(|x| x.trim().parse::<f64>());
            match (it.next(), it.next(), it.next()) {
                (Some(Ok(lon)), Some(Ok(lat)), None)
                    if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) =>
                {
                    Some((lon, lat))
                }
                _ => return Err(ApiError::bad_request("near must be lon,lat")),
            }
        }
    };
    let rules = Rules::load(&state.store).await?;
    let set = grid_set(&state.index.areas(), grids);
    let subjects = subjects(&state.index.registers(), Some(&set), &rules, |t| {
        !t.sensitive() || granted.has(t)
    });
    let targets: Vec<RegisterLink> = subjects.iter().map(|s| s.target).collect();
    let last = state.store.last_visits(&targets).await?;
    let now = Utc::now();
    let horizon = now + Duration::days(within);
    let mut rows: Vec<(DateTime<Utc>, f64, Value)> = subjects
        .iter()
        .filter_map(|s| {
            let last = last.get(&s.target).copied();
            let due = s.due_at(last);
            (due <= horizon).then(|| {
                let d = near
                    .map(|(lon, lat)| minqing_index::geodesic::distance_m(lon, lat, s.lon, s.lat));
                (
                    due,
                    d.unwrap_or(0.0),
                    json!({
                        "target": {"kind": s.target.kind.code(), "id": s.target.id},
                        "label": s.label, "reasons": s.reasons, "every_days": s.every_days,
                        "last_visit": last, "due_at": due, "overdue": due < now,
                        "distance_m": d.map(f64::round),
                        "grid_id": s.grid, "lon": s.lon, "lat": s.lat,
                    }),
                )
            })
        })
        .collect();
    if near.is_some() {
        rows.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    } else {
        rows.sort_by_key(|r| r.0);
    }
    let overdue = rows.iter().filter(|r| r.0 < now).count();
    let total = rows.len();
    Ok(Json(json!({
        "within_days": within,
        "total": total,
        "overdue": overdue,
        "subjects": rows.into_iter().take(limit).map(|r| r.2).collect::<Vec<_>>(),
    }))
    .into_response())
}
