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
    AGE_BANDS, BuildingKind, BuildingRecord, CareTag, IdNumber, LinkKind, OrgKind,
    OrganisationRecord, PlaceRecord, PlaceType, RegisterLink, ResidentRecord, Tags, ThingState,
    age_on, check_phone, mask_name,
};
use minqing_model::{Role, new_secret};
use minqing_service::auth::Caller;
use minqing_service::registers::{MIN_REGISTER_COUNT, PeopleView, UnmaskError};
use minqing_store::AccessQuery;

/// Largest page of a register listing.
const MAX_LIMIT: i64 = 1000;

mod areas;
mod people;
mod places;

use areas::{coverage, profile};
use people::{access_log, remove_resident, resident, residents};
use places::{building, buildings, organisations, places, search};

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

fn org_props(o: &OrganisationRecord, grid: i64, people: bool) -> Value {
    json!({
        "id": o.id,
        "code": o.code,
        "name": o.name,
        "kind": o.kind.code(),
        "kind_label": o.kind.label(),
        "building_id": o.building_id,
        "grid_id": grid_json(grid),
        "generated": o.generated,
        // The contact person is personal data: masked, and only for people-reading roles.
        "contact_name": if people { o.contact_name.as_deref().map(mask_name) } else { None },
    })
}

/// The normalised ID number or phone `q` is, if it is one: such a value is matched by its
/// lookup hash, never by decrypting.
fn exact_value(q: &str) -> Option<String> {
    IdNumber::parse(q)
        .map(|n| n.expose().to_owned())
        .ok()
        .or_else(|| check_phone(q).ok())
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

/// The register record a case names, as its detail view shows it: kind, id and what the
/// caller may read of it (a building's address, a place's or organisation's name; a
/// household only to roles that see people, by its code). `None` when the caller may not
/// see it (outside its scope) or it is gone.
pub(crate) fn link_json(state: &AppState, caller: &Caller, link: RegisterLink) -> Option<Value> {
    let regs = state.index.registers();
    let scope = state.register_grids(caller);
    let inside = |g: i64| scope.as_ref().is_none_or(|s| s.has_grid(Some(g)));
    let label = match link.kind {
        LinkKind::Building => regs
            .building(link.id)
            .filter(|(_, g)| inside(*g))
            .map(|(b, _)| b.address.clone()),
        LinkKind::Place => regs
            .place(link.id)
            .filter(|(_, g)| inside(*g))
            .map(|(p, _)| p.name.clone()),
        LinkKind::Organisation => regs
            .organisation(link.id)
            .filter(|(_, g)| inside(*g))
            .map(|(o, _)| o.name.clone()),
        LinkKind::Household => match state.people_view(caller) {
            PeopleView::Masked { .. } => regs
                .household(link.id)
                .filter(|(_, _, g)| inside(*g))
                .map(|(h, b, _)| format!("{} {}", b.address, h.door)),
            PeopleView::CountsOnly => None,
        },
    }?;
    Some(json!({
        "kind": link.kind.code(),
        "kind_label": link.kind.label(),
        "id": link.id,
        "label": label,
    }))
}

fn parse_id(what: &str, v: &str) -> Result<i64, ApiError> {
    v.parse()
        .map_err(|_| ApiError::bad_request(format!("{what} id must be an integer, not {v:?}")))
}

pub(crate) fn code_param<T>(
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
