//! Buildings (with the linked view), places, organisations, and one search across the
//! registers.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) async fn buildings(
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
pub(super) async fn building(
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
        .map(|o| org_props(o, linked.grid, exact))
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
    let (lon, lat) = (b.lon, b.lat);
    let links = regs.links_of_building(id);
    drop(linked);
    if caller.role().is_some_and(Role::reads_events) {
        props["events"] = Value::Array(linked_events(&state, &caller, lon, lat, &links).await?);
    }
    Ok(GeoJson(feature(id, lon, lat, props)).into_response())
}

/// How far around a building the linked view looks for events.
const EVENT_RADIUS_M: f64 = 30.0;
/// Most events a linked view lists.
const MAX_LINKED_EVENTS: usize = 20;

/// The events of a building's linked view, newest first: those at or within
/// [`EVENT_RADIUS_M`] of it, and those whose report named it, its households or a place or
/// organisation in it; in the caller's scope, at most [`MAX_LINKED_EVENTS`].
async fn linked_events(
    state: &AppState,
    caller: &Caller,
    lon: f64,
    lat: f64,
    links: &[minqing_model::register::RegisterLink],
) -> ApiResult<Vec<Value>> {
    let f = minqing_index::EventFilter {
        scope: state.scope_grids(caller),
        ..minqing_index::EventFilter::default()
    };
    let named = state
        .store
        .events_linked(links, MAX_LINKED_EVENTS as i64)
        .await?;
    let mut found: Vec<(minqing_model::Event, Option<f64>, bool)> = state.index.events(|ix| {
        let mut v: Vec<_> = ix
            .nearest(lon, lat, MAX_LINKED_EVENTS, EVENT_RADIUS_M, &f)
            .into_iter()
            .map(|(slot, d)| {
                let e = ix.event(slot);
                let is_named = named.contains(&e.id);
                (e, Some(d), is_named)
            })
            .collect();
        for id in &named {
            if v.iter().any(|(e, _, _)| e.id == *id) {
                continue;
            }
            if let Some(e) = ix.slot(*id).map(|s| ix.event(s))
                && f.scope.as_ref().is_none_or(|s| s.has_grid(e.grid_id))
            {
                let d = minqing_index::geodesic::distance_m(lon, lat, e.lon, e.lat);
                v.push((e, Some(d), true));
            }
        }
        v
    });
    found.sort_by(|a, b| {
        b.0.reported_at
            .cmp(&a.0.reported_at)
            .then(b.0.id.cmp(&a.0.id))
    });
    found.truncate(MAX_LINKED_EVENTS);
    Ok(found
        .into_iter()
        .map(|(e, d, is_named)| {
            json!({
                "id": e.id,
                "category": e.category,
                "title": e.title,
                "status": e.status.as_str(),
                "reported_at": e.reported_at,
                "distance_m": d.map(|d| (d * 10.0).round() / 10.0),
                "named": is_named,
            })
        })
        .collect())
}

pub(super) async fn places(
    State(state): State<AppState>,
    caller: Caller,
    p: Params,
) -> ApiResult<Response> {
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

pub(super) async fn organisations(
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
        .map(|(o, g)| feature(o.id, o.lon, o.lat, org_props(o, g, people)))
        .collect();
    Ok(GeoJson(features::page("/api/v1/organisations", &p, feats, next)).into_response())
}

/// One search across the registers: residents (masked; people-reading roles only) by name
/// prefix or exact ID number or phone, buildings by address or code, places and
/// organisations by name or code; in the caller's scope.
pub(super) async fn search(
    State(state): State<AppState>,
    caller: Caller,
    p: Params,
) -> ApiResult<Response> {
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
    let view = state.people_view(&caller);
    let people = matches!(view, PeopleView::Masked { .. });
    let mut body = json!({
        "q": q,
        "buildings": buildings.iter().map(|(b, g)| building_props(b, *g)).collect::<Vec<_>>(),
        "places": places.iter().map(|(x, g)| place_props(x, *g)).collect::<Vec<_>>(),
        "organisations": orgs.iter().map(|(o, g)| org_props(o, *g, people)).collect::<Vec<_>>(),
    });
    if let PeopleView::Masked {
        grids: scope,
        granted,
    } = view
    {
        let within = area_grids(&state, &p, scope)?;
        let found: Vec<(&ResidentRecord, i64)> = if let Some(value) = exact_value(q) {
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
