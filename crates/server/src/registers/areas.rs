//! What an area holds (profile) and how far its people live from services (coverage).

#[allow(clippy::wildcard_imports)]
use super::*;

/// Whether `caller` sees exact counts of people for an area (0: the whole city), or `Err`
/// (404) when a scoped caller asks outside its scope (an area not within the scope's area).
fn exact_for(state: &AppState, caller: &Caller, area_id: i64) -> Result<(bool, Tags), ApiError> {
    let scope = state.register_grids(caller);
    if let Some(s) = &scope
        && !minqing_service::auth::in_scope(s, &state.index.areas(), area_id)
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
pub(super) async fn profile(
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
    let (exact, granted) = exact_for(&state, &caller, id)?;
    let regs = state.index.registers();
    let (pr, as_of) = regs.profile(area);
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

/// The groups of grids a coverage answer has one row for: the area's children (the area
/// itself when it has none), or without an area every top-level area.
fn coverage_groups(
    areas: &minqing_index::AreaIndex,
    area: Option<&minqing_model::Area>,
) -> Vec<(i64, Vec<i64>)> {
    let children = areas.list(
        &minqing_index::AreaFilter {
            parent: area.map(|a| a.id),
            ..minqing_index::AreaFilter::default()
        },
        None,
        usize::MAX,
    );
    match area {
        Some(a) if children.is_empty() => vec![(a.id, areas.grids_under(a.id))],
        _ => children
            .iter()
            .filter(|c| area.is_some() || c.parent_id.is_none())
            .map(|c| (c.id, areas.grids_under(c.id)))
            .collect(),
    }
}

/// Households and residents within and beyond reach of the nearest place of a type, per
/// child area, with the buildings beyond reach.
pub(super) async fn coverage(
    State(state): State<AppState>,
    caller: Caller,
    p: Params,
) -> ApiResult<Response> {
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
    // The area asked for; without one, the caller's scope, or for an unscoped caller the
    // whole city (every top-level area a row).
    let area = match p.str("area") {
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .and_then(|id| areas.get(id))
                .or_else(|| areas.by_code(v))
                .ok_or_else(|| ApiError::not_found(format!("no area {v:?}")))?,
        ),
        None => match state.register_grids(&caller) {
            Some(s) => Some(areas.get(s.area_id).ok_or_else(|| {
                ApiError::bad_request("name the area (one within this token's scope): area=")
            })?),
            None => None,
        },
    };
    let (exact, granted) = exact_for(&state, &caller, area.map_or(0, |a| a.id))?;
    if let Some(t) = tag
        && t.sensitive()
        && !granted.has(t)
    {
        return Err(ApiError::forbidden(format!(
            "the tag {} is not granted to this token",
            t.code()
        )));
    }
    let groups = coverage_groups(&areas, area);
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
        "area": area.map(|a| json!({"id": a.id, "code": a.code, "name": a.name})),
        "exact": exact,
        "rows": rows,
        "uncovered_total": cov.uncovered.len(),
        "uncovered": {"type": "FeatureCollection", "features": uncovered},
        "took_ms": started.elapsed().as_secs_f64() * 1000.0,
    });
    Ok(Json(body).into_response())
}
