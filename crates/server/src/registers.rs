//! The registers over HTTP: buildings (with the linked view), places, organisations,
//! residents (masked; one in full with a purpose, recorded) and the access log.
//!
//! Who sees what is decided by the service (`minqing_service::registers`); this module
//! parses, asks and shapes. A scoped caller asking for a record outside its scope gets 404,
//! as if it did not exist.

use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiPath, Params};
use super::features::{self, GeoJson};
use minqing_index::registers::BuildingFilter;
use minqing_model::register::{
    AGE_BANDS, BuildingKind, BuildingRecord, CareTag, IdNumber, OrgKind, PlaceRecord, PlaceType,
    ResidentRecord, Tags, ThingState, age_on, check_phone, mask_name,
};
use minqing_model::{Role, new_secret};
use minqing_service::auth::Caller;
use minqing_service::registers::{MIN_REGISTER_COUNT, PeopleView, UnmaskError};
use minqing_store::AccessQuery;

/// Largest page of a register listing.
const MAX_LIMIT: i64 = 1000;

/// The register routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/buildings", get(buildings))
        .route("/api/v1/buildings/{id}", get(building))
        .route("/api/v1/places", get(places))
        .route("/api/v1/organisations", get(organisations))
        .route("/api/v1/residents", get(residents))
        .route(
            "/api/v1/residents/{id}",
            get(resident).delete(remove_resident),
        )
        .route("/api/v1/search", get(search))
        .route("/api/v1/access-log", get(access_log))
        .route("/api/v1/areas/{id}/profile", get(profile))
        .route("/api/v1/coverage", get(coverage))
}

fn point(lon: f64, lat: f64) -> Value {
    json!({"type": "Point", "coordinates": [lon, lat]})
}

fn feature(id: i64, lon: f64, lat: f64, props: Value) -> Value {
    let mut f = json!({"type": "Feature", "id": id, "geometry": point(lon, lat)});
    f["properties"] = props;
    f
}

fn grid_json(g: i64) -> Value {
    if g == 0 { Value::Null } else { json!(g) }
}

fn building_props(b: &BuildingRecord, grid: i64) -> Value {
    json!({
        "id": b.id,
        "code": b.code,
        "address": b.address,
        "kind": b.kind.code(),
        "kind_label": b.kind.label(),
        "floors": b.floors,
        "grid_id": grid_json(grid),
        "generated": b.generated,
    })
}

fn place_props(p: &PlaceRecord, grid: i64) -> Value {
    json!({
        "id": p.id,
        "code": p.code,
        "name": p.name,
        "type": p.kind.code(),
        "type_label": p.kind.label(),
        "class": p.kind.class(),
        "risk_level": p.risk_level,
        "state": p.state.map(ThingState::code),
        "building_id": p.building_id,
        "grid_id": grid_json(grid),
        "generated": p.generated,
    })
}

/// A count as shown to a caller who may not see the people: `"<5"` below the threshold.
fn shown(n: u64, exact: bool) -> Value {
    if exact || n >= MIN_REGISTER_COUNT || n == 0 {
        json!(n)
    } else {
        json!(format!("<{MIN_REGISTER_COUNT}"))
    }
}

/// A resident as every list shows them: masked, with the tags the caller may see.
fn resident_masked(
    r: &ResidentRecord,
    grid: i64,
    granted: Tags,
    today: chrono::NaiveDate,
) -> Value {
    json!({
        "id": r.id,
        "name": mask_name(&r.name),
        "sex": r.sex,
        "age": age_on(r.birth_date, today),
        "registration": r.registration.code(),
        "tags": r.tags.visible(granted).codes(),
        "household_id": r.household_id,
        "grid_id": grid_json(grid),
        "generated": r.generated,
    })
}

fn parse_id(what: &str, v: &str) -> Result<i64, ApiError> {
    v.parse()
        .map_err(|_| ApiError::bad_request(format!("{what} id must be an integer, not {v:?}")))
}

fn code_param<T>(
    p: &Params,
    key: &str,
    parse: impl Fn(&str) -> Option<T>,
    codes: impl Fn() -> String,
) -> Result<Option<T>, ApiError> {
    p.str(key)
        .map(|v| {
            parse(v).ok_or_else(|| {
                ApiError::bad_request(format!("{key} must be one of {}, not {v:?}", codes()))
            })
        })
        .transpose()
}

/// The grids of `area` (a code or an id) intersected with the caller's.
fn area_grids(
    state: &AppState,
    p: &Params,
    scope: Option<std::sync::Arc<minqing_index::GridSet>>,
) -> Result<Option<std::sync::Arc<minqing_index::GridSet>>, ApiError> {
    let Some(v) = p.str("area").or_else(|| p.str("grid")) else {
        return Ok(scope);
    };
    let areas = state.index.areas();
    let area = v
        .parse::<i64>()
        .ok()
        .and_then(|id| areas.get(id))
        .or_else(|| areas.by_code(v))
        .ok_or_else(|| ApiError::not_found(format!("no area {v:?}")))?;
    let mut grids = areas.grids_under(area.id);
    grids.sort_unstable();
    if let Some(s) = &scope {
        grids.retain(|g| s.has_grid(Some(*g)));
        if grids.is_empty() && !s.grids.is_empty() {
            // Outside the caller's scope: as if it did not exist.
            return Err(ApiError::not_found(format!("no area {v:?}")));
        }
    }
    let bbox = areas
        .bbox(area.id)
        .unwrap_or(minqing_index::GridSet::empty().bbox);
    Ok(Some(std::sync::Arc::new(minqing_index::GridSet {
        area_id: area.id,
        grids,
        bbox,
    })))
}

fn next_of<T>(found: &mut Vec<T>, limit: usize, id: impl Fn(&T) -> i64) -> Option<i64> {
    (found.len() > limit).then(|| {
        found.truncate(limit);
        found.last().map(id)
    })?
}

async fn buildings(
    State(state): State<AppState>,
    caller: Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["bbox", "grid", "area", "kind", "limit", "cursor"])?;
    let kind = code_param(&p, "kind", BuildingKind::parse, BuildingKind::codes)?;
    let grids = area_grids(&state, &p, state.register_grids(&caller))?;
    let limit = usize::try_from(p.int("limit", 100, 1, MAX_LIMIT)?).unwrap_or(100);
    let f = BuildingFilter {
        bbox: p.bbox(state.config.max_bbox_deg)?,
        grids,
        kind,
        after: p.cursor()?.unwrap_or(0),
    };
    let regs = state.index.registers();
    let mut found = regs.buildings(&f, limit + 1);
    let next = next_of(&mut found, limit, |(b, _)| b.id);
    let feats: Vec<Value> = found
        .into_iter()
        .map(|(b, g)| feature(b.id, b.lon, b.lat, building_props(b, g)))
        .collect();
    Ok(GeoJson(features::page("/api/v1/buildings", &p, feats, next)).into_response())
}

/// The linked view of a building.
async fn building(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let id = parse_id("building", &id)?;
    let regs = state.index.registers();
    let linked = regs
        .linked(id)
        .ok_or_else(|| ApiError::not_found(format!("no building {id}")))?;
    if let Some(g) = state.register_grids(&caller)
        && !g.has_grid(Some(linked.grid))
    {
        return Err(ApiError::not_found(format!("no building {id}")));
    }
    let today = state.index.now().date_naive();
    let view = state.people_view(&caller);
    let residents: Vec<&ResidentRecord> = linked
        .households
        .iter()
        .flat_map(|(_, r)| r.iter().copied())
        .collect();
    let (exact, granted) = match &view {
        PeopleView::Masked { granted, .. } => (true, *granted),
        PeopleView::CountsOnly => (false, Tags::default()),
    };
    let mut tag_counts = serde_json::Map::new();
    for t in CareTag::ALL {
        if t.sensitive() && !granted.has(*t) {
            continue;
        }
        let n = residents.iter().filter(|r| r.tags.has(*t)).count() as u64;
        tag_counts.insert(t.code().into(), shown(n, exact));
    }
    let mut props = building_props(linked.building, linked.grid);
    props["households"] = shown(linked.households.len() as u64, exact);
    props["residents"] = shown(residents.len() as u64, exact);
    props["tags"] = Value::Object(tag_counts);
    if exact {
        props["household_list"] = linked
            .households
            .iter()
            .map(|(h, rs)| {
                json!({
                    "id": h.id,
                    "code": h.code,
                    "door": h.door,
                    "residents": rs
                        .iter()
                        .map(|r| resident_masked(r, linked.grid, granted, today))
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
    }
    props["places"] = linked
        .places
        .iter()
        .map(|p| place_props(p, linked.grid))
        .collect();
    props["organisations"] = linked
        .organisations
        .iter()
        .map(|o| {
            json!({
                "id": o.id, "code": o.code, "name": o.name, "kind": o.kind.code(),
                "kind_label": o.kind.label(),
                "contact_name": if exact { o.contact_name.as_deref().map(mask_name) } else { None },
            })
        })
        .collect();
    props["risk_sites"] = linked
        .risks
        .iter()
        .map(|(p, d)| {
            let mut v = place_props(p, 0);
            v["distance_m"] = json!((d * 10.0).round() / 10.0);
            v
        })
        .collect();
    if linked.grid != 0
        && let Some(g) = state.index.areas().get(linked.grid)
    {
        props["grid"] = json!({"id": g.id, "code": g.code, "name": g.name, "workers": g.workers});
    }
    let b = linked.building;
    Ok(GeoJson(feature(b.id, b.lon, b.lat, props)).into_response())
}

async fn places(State(state): State<AppState>, caller: Caller, p: Params) -> ApiResult<Response> {
    p.only(&["type", "area", "grid", "bbox", "limit", "cursor"])?;
    let kind = code_param(&p, "type", PlaceType::parse, PlaceType::codes)?;
    let grids = area_grids(&state, &p, state.register_grids(&caller))?;
    let bbox = p.bbox(state.config.max_bbox_deg)?;
    let limit = usize::try_from(p.int("limit", 100, 1, MAX_LIMIT)?).unwrap_or(100);
    let regs = state.index.registers();
    let mut found = regs.places(
        kind,
        bbox.as_ref(),
        grids.as_deref(),
        p.cursor()?.unwrap_or(0),
        limit + 1,
    );
    let next = next_of(&mut found, limit, |(x, _)| x.id);
    let feats: Vec<Value> = found
        .into_iter()
        .map(|(x, g)| feature(x.id, x.lon, x.lat, place_props(x, g)))
        .collect();
    Ok(GeoJson(features::page("/api/v1/places", &p, feats, next)).into_response())
}

async fn organisations(
    State(state): State<AppState>,
    caller: Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["kind", "area", "grid", "q", "limit", "cursor"])?;
    let kind = code_param(&p, "kind", OrgKind::parse, OrgKind::codes)?;
    let grids = area_grids(&state, &p, state.register_grids(&caller))?;
    let q = p.str("q").map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > 100) {
        return Err(ApiError::bad_request("q is at most 100 characters"));
    }
    let limit = usize::try_from(p.int("limit", 100, 1, MAX_LIMIT)?).unwrap_or(100);
    let people = matches!(state.people_view(&caller), PeopleView::Masked { .. });
    let regs = state.index.registers();
    let mut found = regs.organisations(
        kind,
        q,
        grids.as_deref(),
        p.cursor()?.unwrap_or(0),
        limit + 1,
    );
    let next = next_of(&mut found, limit, |(o, _)| o.id);
    let feats: Vec<Value> = found
        .into_iter()
        .map(|(o, g)| {
            feature(
                o.id,
                o.lon,
                o.lat,
                json!({
                    "id": o.id, "code": o.code, "name": o.name, "kind": o.kind.code(),
                    "kind_label": o.kind.label(), "building_id": o.building_id,
                    "grid_id": grid_json(g), "generated": o.generated,
                    "contact_name": if people { o.contact_name.as_deref().map(mask_name) } else { None },
                }),
            )
        })
        .collect();
    Ok(GeoJson(features::page("/api/v1/organisations", &p, feats, next)).into_response())
}

/// The people of the caller's scope, masked: 401 without a token, 403 for roles that do not
/// read people.
fn masked_view(
    state: &AppState,
    caller: &Caller,
) -> Result<(Option<std::sync::Arc<minqing_index::GridSet>>, Tags), ApiError> {
    let Some(p) = &caller.principal else {
        return Err(ApiError::unauthorized(
            "this needs a token (Authorization: Bearer …)",
        ));
    };
    match state.people_view(caller) {
        PeopleView::Masked { grids, granted } => Ok((grids, granted)),
        PeopleView::CountsOnly => Err(ApiError::forbidden(format!(
            "a {} token may not read the register of people",
            p.role.as_str()
        ))),
    }
}

async fn residents(
    State(state): State<AppState>,
    caller: Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["area", "grid", "tag", "q", "limit", "cursor"])?;
    let (scope, granted) = masked_view(&state, &caller)?;
    let grids = area_grids(&state, &p, scope)?;
    let tag = code_param(&p, "tag", CareTag::parse, CareTag::codes)?;
    if let Some(t) = tag
        && t.sensitive()
        && !granted.has(t)
    {
        return Err(ApiError::forbidden(format!(
            "the tag {} is not granted to this token",
            t.code()
        )));
    }
    let q = p.str("q").map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > 50) {
        return Err(ApiError::bad_request("q is at most 50 characters"));
    }
    let limit = usize::try_from(p.int("limit", 100, 1, MAX_LIMIT)?).unwrap_or(100);
    let after = p.cursor()?.unwrap_or(0);
    let regs = state.index.registers();
    // An exact ID number or phone is matched by its lookup hash, never by decrypting.
    let exact = q.and_then(|q| {
        IdNumber::parse(q)
            .map(|n| n.expose().to_owned())
            .ok()
            .or_else(|| check_phone(q).ok())
    });
    let mut found = if let Some(value) = exact {
        let ids = state
            .store
            .residents_by_exact(state.keys()?, &value)
            .await?;
        let ids: Vec<i64> = ids.into_iter().filter(|i| *i > after).collect();
        regs.residents_by_id(&ids, grids.as_deref())
            .into_iter()
            .filter(|(r, _)| tag.is_none_or(|t| r.tags.has(t)))
            .take(limit + 1)
            .collect()
    } else {
        regs.residents(
            grids.as_deref(),
            q,
            |r| tag.is_none_or(|t| r.tags.has(t)),
            after,
            limit + 1,
        )
    };
    let next = next_of(&mut found, limit, |(r, _)| r.id);
    let today = state.index.now().date_naive();
    let items: Vec<Value> = found
        .into_iter()
        .map(|(r, g)| resident_masked(r, g, granted, today))
        .collect();
    let mut body =
        json!({"residents": items, "age_bands": AGE_BANDS.iter().map(|b| b.0).collect::<Vec<_>>()});
    if let Some(n) = next {
        let mut pairs: Vec<(String, String)> = p
            .pairs()
            .iter()
            .filter(|(k, _)| k.as_str() != "cursor")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pairs.push(("cursor".into(), n.to_string()));
        body["next"] = json!(format!(
            "/api/v1/residents?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        ));
    }
    Ok(Json(body).into_response())
}

/// One resident: masked; in full with `purpose` (recorded before it is shown).
async fn resident(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["purpose"])?;
    let id = parse_id("resident", &id)?;
    let (grids, granted) = masked_view(&state, &caller)?;
    let regs = state.index.registers();
    let (r, h, b, grid) = regs
        .resident(id)
        .ok_or_else(|| ApiError::not_found(format!("no resident {id}")))?;
    if grids.as_ref().is_some_and(|g| !g.has_grid(Some(grid))) {
        return Err(ApiError::not_found(format!("no resident {id}")));
    }
    let today = state.index.now().date_naive();
    let mut body = resident_masked(r, grid, granted, today);
    body["household"] = json!({"id": h.id, "code": h.code, "door": h.door});
    body["building"] = json!({"id": b.id, "address": b.address});
    body["birth_year"] = json!(chrono::Datelike::year(&r.birth_date));
    let purpose = p.str("purpose").map(str::trim).filter(|s| !s.is_empty());
    let request_id = new_secret()[3..19].to_owned();
    let Some(purpose) = purpose else {
        body["id_number"] = Value::Null;
        body["phone"] = Value::Null;
        body["unmask"] =
            json!("add ?purpose=… (stated, recorded) to see the ID number and phone in full");
        return Ok(Json(body).into_response());
    };
    if purpose.chars().count() > 200 {
        return Err(ApiError::bad_request("purpose is at most 200 characters"));
    }
    let full = state
        .unmask_resident(&caller, id, purpose, &request_id)
        .await
        .map_err(|e| match e {
            UnmaskError::Denied(d) => ApiError::from(d),
            UnmaskError::Store(s) => ApiError::from(s),
        })?
        .ok_or_else(|| ApiError::not_found(format!("no resident {id}")))?;
    body["name"] = json!(r.name);
    body["birth_date"] = json!(r.birth_date);
    body["id_number"] = json!(full.0);
    body["phone"] = json!(full.1);
    body["purpose"] = json!(purpose);
    body["request_id"] = json!(request_id);
    let mut resp = Json(body).into_response();
    resp.headers_mut().insert(
        "cache-control",
        HeaderValue::from_static("no-store, private"),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    Ok(resp)
}

/// The access log: admin only.
async fn access_log(
    State(state): State<AppState>,
    caller: Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["resident", "token", "since", "limit", "cursor"])?;
    match caller.principal.as_ref().map(|p| p.role) {
        None => {
            return Err(ApiError::unauthorized(
                "this needs a token (Authorization: Bearer …)",
            ));
        }
        Some(Role::Admin) => {}
        Some(r) => {
            return Err(ApiError::forbidden(format!(
                "only admin tokens read the access log, not {}",
                r.as_str()
            )));
        }
    }
    let int = |k: &str| -> Result<Option<i64>, ApiError> {
        p.str(k)
            .map(|v| {
                v.parse().map_err(|_| {
                    ApiError::bad_request(format!("{k} must be an integer, not {v:?}"))
                })
            })
            .transpose()
    };
    let limit = p.int("limit", 100, 1, MAX_LIMIT)?;
    let q = AccessQuery {
        resident: int("resident")?,
        token: int("token")?,
        since: p.time("since")?,
        before: p.cursor()?,
        limit: limit + 1,
    };
    let mut entries = state.store.access_log(&q).await?;
    let next = next_of(&mut entries, usize::try_from(limit).unwrap_or(100), |e| {
        e.id
    });
    Ok(Json(json!({"entries": entries, "next_cursor": next})).into_response())
}

/// Whether `caller` sees exact counts of people for the grids `grids` of an area, or `Err`
/// (404) when a scoped caller asks outside its scope.
fn exact_for(
    state: &AppState,
    caller: &Caller,
    area_id: i64,
    grids: &[i64],
) -> Result<(bool, Tags), ApiError> {
    let scope = state.register_grids(caller);
    if let Some(s) = &scope
        && !grids.iter().all(|g| s.has_grid(Some(*g)))
    {
        return Err(ApiError::not_found(format!("no area {area_id}")));
    }
    Ok(match state.people_view(caller) {
        PeopleView::Masked { granted, .. } => (true, granted),
        PeopleView::CountsOnly => (false, Tags::default()),
    })
}

fn counts_by<T: Copy>(
    all: &[T],
    counts: &[u64],
    code: impl Fn(T) -> &'static str,
    exact: bool,
    keep: impl Fn(T) -> bool,
) -> Value {
    let mut m = serde_json::Map::new();
    for (k, n) in all.iter().zip(counts) {
        if keep(*k) {
            m.insert(code(*k).into(), shown(*n, exact));
        }
    }
    Value::Object(m)
}

/// What an area holds, from memory.
async fn profile(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    p: Params,
) -> ApiResult<Response> {
    p.only(&[])?;
    let id = parse_id("area", &id)?;
    let areas = state.index.areas();
    let area = areas
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("no area {id}")))?;
    let mut grids = areas.grids_under(id);
    grids.sort_unstable();
    let (exact, granted) = exact_for(&state, &caller, id, &grids)?;
    let regs = state.index.registers();
    let (pr, as_of) = regs.profile(&grids);
    let count = state.index.area_count(id);
    let reads_events = exact
        || caller
            .principal
            .as_ref()
            .is_some_and(|p| p.role.reads_events() && state.register_grids(&caller).is_none());
    let events = |n: u32| {
        if reads_events {
            u64::from(n)
        } else {
            minqing_model::privacy::suppress(u64::from(n))
        }
    };
    let bands: Vec<&str> = AGE_BANDS.iter().map(|b| b.0).collect();
    let mut age = serde_json::Map::new();
    for (b, n) in bands.iter().zip(&pr.age_bands) {
        age.insert((*b).into(), shown(*n, exact));
    }
    let body = json!({
        "area": {"id": area.id, "code": area.code, "name": area.name, "level": area.level.as_str()},
        "as_of": as_of,
        "exact": exact,
        "households": shown(pr.households, exact),
        "residents": shown(pr.residents, exact),
        "age_bands": age,
        "tags": counts_by(CareTag::ALL, &pr.tags, CareTag::code, exact, |t| !t.sensitive() || granted.has(t)),
        "registration": counts_by(minqing_model::register::Registration::ALL, &pr.registration, minqing_model::register::Registration::code, exact, |_| true),
        "buildings": counts_by(BuildingKind::ALL, &pr.buildings, BuildingKind::code, true, |_| true),
        "places": counts_by(PlaceType::ALL, &pr.places, PlaceType::code, true, |_| true),
        "organisations": counts_by(OrgKind::ALL, &pr.organisations, OrgKind::code, true, |_| true),
        "events": {"open": events(count.open), "overdue": events(count.overdue)},
        "note": if exact { Value::Null } else { json!(format!("counts of people below {MIN_REGISTER_COUNT} are shown as \"<{MIN_REGISTER_COUNT}\"")) },
    });
    Ok(Json(body).into_response())
}

/// Households and residents within and beyond reach of the nearest place of a type, per
/// child area, with the buildings beyond reach.
async fn coverage(State(state): State<AppState>, caller: Caller, p: Params) -> ApiResult<Response> {
    p.only(&["type", "within_m", "area", "tag", "limit"])?;
    let kind = code_param(&p, "type", PlaceType::parse, PlaceType::codes)?.ok_or_else(|| {
        ApiError::bad_request(format!("type is required: one of {}", PlaceType::codes()))
    })?;
    let within = p.f64("within_m")?.unwrap_or(1000.0);
    if !(1.0..=20_000.0).contains(&within) {
        return Err(ApiError::bad_request(
            "within_m must be between 1 and 20000 metres",
        ));
    }
    let tag = code_param(&p, "tag", CareTag::parse, CareTag::codes)?;
    let limit = usize::try_from(p.int("limit", 1000, 1, 10_000)?).unwrap_or(1000);
    let areas = state.index.areas();
    let area = match p.str("area") {
        Some(v) => v
            .parse::<i64>()
            .ok()
            .and_then(|id| areas.get(id))
            .or_else(|| areas.by_code(v))
            .ok_or_else(|| ApiError::not_found(format!("no area {v:?}")))?,
        None => areas
            .list(&minqing_index::AreaFilter::default(), None, usize::MAX)
            .into_iter()
            .find(|a| a.parent_id.is_none())
            .ok_or_else(|| ApiError::not_found("no areas loaded"))?,
    };
    let mut all = areas.grids_under(area.id);
    all.sort_unstable();
    let (exact, granted) = exact_for(&state, &caller, area.id, &all)?;
    if let Some(t) = tag
        && t.sensitive()
        && !granted.has(t)
    {
        return Err(ApiError::forbidden(format!(
            "the tag {} is not granted to this token",
            t.code()
        )));
    }
    let children = areas.list(
        &minqing_index::AreaFilter {
            parent: Some(area.id),
            ..minqing_index::AreaFilter::default()
        },
        None,
        usize::MAX,
    );
    let groups: Vec<(i64, Vec<i64>)> = if children.is_empty() {
        vec![(area.id, all)]
    } else {
        children
            .iter()
            .map(|c| (c.id, areas.grids_under(c.id)))
            .collect()
    };
    let regs = state.index.registers();
    let started = std::time::Instant::now();
    let cov = regs.coverage(kind, within, &groups, tag);
    let rows: Vec<Value> = cov
        .rows
        .iter()
        .map(|r| {
            let a = areas.get(r.area);
            json!({
                "area": {"id": r.area, "code": a.map(|a| a.code.as_str()), "name": a.map(|a| a.name.as_str())},
                "households_within": shown(r.households_within, exact),
                "households_beyond": shown(r.households_beyond, exact),
                "residents_within": shown(r.residents_within, exact),
                "residents_beyond": shown(r.residents_beyond, exact),
                "tagged_within": tag.map(|_| shown(r.tagged_within, exact)),
                "tagged_beyond": tag.map(|_| shown(r.tagged_beyond, exact)),
                "buildings_beyond": r.buildings_beyond,
            })
        })
        .collect();
    let uncovered: Vec<Value> = cov
        .uncovered
        .iter()
        .take(limit)
        .map(|(b, a)| {
            let mut props = building_props(b, 0);
            props["area_id"] = json!(a);
            feature(b.id, b.lon, b.lat, props)
        })
        .collect();
    let body = json!({
        "type": kind.code(),
        "type_label": kind.label(),
        "within_m": within,
        "tag": tag.map(CareTag::code),
        "area": {"id": area.id, "code": area.code, "name": area.name},
        "exact": exact,
        "rows": rows,
        "uncovered_total": cov.uncovered.len(),
        "uncovered": {"type": "FeatureCollection", "features": uncovered},
        "took_ms": started.elapsed().as_secs_f64() * 1000.0,
    });
    Ok(Json(body).into_response())
}

/// Removes a resident who moved away or died (command and admin, in scope): the record and
/// its personal data go; the removal keeps the reason and the time only.
async fn remove_resident(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["reason"])?;
    let id = parse_id("resident", &id)?;
    let (grids, _) = masked_view(&state, &caller)?;
    let Some(principal) = &caller.principal else {
        return Err(ApiError::unauthorized(
            "this needs a token (Authorization: Bearer …)",
        ));
    };
    if !matches!(principal.role, Role::Admin | Role::Command) {
        return Err(ApiError::forbidden(format!(
            "a {} token may not remove residents",
            principal.role.as_str()
        )));
    }
    let reason = p.str("reason").unwrap_or("");
    if !minqing_store::REMOVAL_REASONS.contains(&reason) {
        return Err(ApiError::bad_request(format!(
            "reason must be one of {}",
            minqing_store::REMOVAL_REASONS.join(", ")
        )));
    }
    let regs = state.index.registers();
    let (_, _, _, grid) = regs
        .resident(id)
        .ok_or_else(|| ApiError::not_found(format!("no resident {id}")))?;
    if grids.as_ref().is_some_and(|g| !g.has_grid(Some(grid))) {
        return Err(ApiError::not_found(format!("no resident {id}")));
    }
    if !state
        .store
        .remove_resident(id, reason, principal.token_id)
        .await?
    {
        return Err(ApiError::not_found(format!("no resident {id}")));
    }
    regs.remove_resident(id);
    Ok(Json(json!({"removed": id, "reason": reason})).into_response())
}

/// One search across the registers: residents (masked; people-reading roles only) by name
/// prefix or exact ID number or phone, buildings by address or code, places and
/// organisations by name or code; in the caller's scope.
async fn search(State(state): State<AppState>, caller: Caller, p: Params) -> ApiResult<Response> {
    p.only(&["q", "area", "grid", "limit"])?;
    let q = p
        .str("q")
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .ok_or_else(|| ApiError::bad_request("q is required"))?;
    if q.chars().count() > 50 {
        return Err(ApiError::bad_request("q is at most 50 characters"));
    }
    let limit = usize::try_from(p.int("limit", 20, 1, 100)?).unwrap_or(20);
    let grids = area_grids(&state, &p, state.register_grids(&caller))?;
    let regs = state.index.registers();
    let (buildings, places, orgs) = regs.search(q, grids.as_deref(), limit);
    let people = matches!(state.people_view(&caller), PeopleView::Masked { .. });
    let mut body = json!({
        "q": q,
        "buildings": buildings.iter().map(|(b, g)| building_props(b, *g)).collect::<Vec<_>>(),
        "places": places.iter().map(|(x, g)| place_props(x, *g)).collect::<Vec<_>>(),
        "organisations": orgs.iter().map(|(o, g)| json!({
            "id": o.id, "code": o.code, "name": o.name, "kind": o.kind.code(),
            "kind_label": o.kind.label(), "grid_id": grid_json(*g),
            "contact_name": if people { o.contact_name.as_deref().map(mask_name) } else { None },
        })).collect::<Vec<_>>(),
    });
    if let PeopleView::Masked {
        grids: scope,
        granted,
    } = state.people_view(&caller)
    {
        let within = area_grids(&state, &p, scope)?;
        let exact = IdNumber::parse(q)
            .map(|n| n.expose().to_owned())
            .ok()
            .or_else(|| check_phone(q).ok());
        let found: Vec<(&ResidentRecord, i64)> = if let Some(value) = exact {
            let ids = state
                .store
                .residents_by_exact(state.keys()?, &value)
                .await?;
            regs.residents_by_id(&ids, within.as_deref())
                .into_iter()
                .take(limit)
                .collect()
        } else {
            regs.residents(within.as_deref(), Some(q), |_| true, 0, limit)
        };
        let today = state.index.now().date_naive();
        body["residents"] = found
            .into_iter()
            .map(|(r, g)| resident_masked(r, g, granted, today))
            .collect();
    }
    Ok(Json(body).into_response())
}
