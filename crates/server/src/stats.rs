//! `GET /api/v1/stats?area=&from=&to=`: case statistics of any area, from memory.
//!
//! Public (an aggregate, like the area counts; exact only for callers whose scope covers
//! the area, otherwise following the rule of [`minqing_model::privacy`]): counts by category and state, open,
//! overdue and escalated cases, the median time to resolve, satisfaction at the return
//! visit, and cases reported and resolved per day (the trend chart). `area` is an area id
//! or code (default: everywhere); `from`/`to` bound the report time.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Params;
use minqing_index::{BBox, GridSet};
use minqing_model::{Status, privacy};
use minqing_service::auth::{Caller, Scope, in_scope};

/// `/api/v1/stats`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/stats", get(stats))
}

/// Most days a trend lists (longer windows are summed by month).
const MAX_DAYS: usize = 400;

#[allow(clippy::too_many_lines)] // one answer built top to bottom from one snapshot of the index
async fn stats(State(state): State<AppState>, caller: Caller, p: Params) -> ApiResult<Response> {
    p.only(&["area", "from", "to"])?;
    let mut from = p.time("from")?;
    let mut to = p.time("to")?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::bad_request("from must not be after to"));
    }
    let areas = state.index.areas();
    let area = match p.str("area") {
        None => None,
        Some(a) => Some(
            areas
                .by_code(a)
                .or_else(|| a.parse::<i64>().ok().and_then(|id| areas.get(id)))
                .ok_or_else(|| ApiError::not_found(format!("no area {a:?} (an id or a code)")))?,
        ),
    };
    // Exact figures only to callers who may see every case counted; everyone else gets
    // the public aggregate (model::privacy).
    let exact = match state.auth.scope(&caller, &areas) {
        Scope::All => true,
        Scope::Area(s) => area.is_some_and(|a| in_scope(&s, &areas, a.id)),
        Scope::Own(_) | Scope::Nothing => false,
    };
    if !exact {
        from = from.map(privacy::day_start);
        to = to.map(privacy::day_end);
    }
    let shown = |n: u64| if exact { n } else { privacy::suppress(n) };
    let scope = area.map(|a| GridSet {
        area_id: a.id,
        grids: areas.grids_under(a.id),
        bbox: BBox::of(&a.geom),
    });
    let now = Utc::now();
    let (f, t) = (
        from.map(|x| x.timestamp_micros()),
        to.map(|x| x.timestamp_micros()),
    );
    let index = state.index.clone();
    let st = tokio::task::spawn_blocking(move || {
        index.events(|ix| ix.stats(scope.as_ref(), f, t, now.timestamp_micros()))
    })
    .await
    .map_err(|_| ApiError::internal())?;

    // Cells of (top category, state), summed over subcategories: what a count shown may
    // hide is hidden here, and every total below is a sum of shown cells.
    let mut cells: std::collections::BTreeMap<&str, ([u64; 8], u64)> =
        std::collections::BTreeMap::default();
    for (code, counts) in &st.by_category {
        let top = code.split('.').next().unwrap_or(code);
        let cell = cells.entry(top).or_default();
        for (sum, n) in cell.0.iter_mut().zip(counts) {
            *sum += n;
        }
        cell.1 += st.overdue_by_category.get(code).copied().unwrap_or(0);
    }
    let mut by_status: Map<String, Value> = Status::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), json!(0)))
        .collect();
    let mut by_category: Map<String, Value> = Map::new();
    let (mut open, mut total, mut overdue) = (0u64, 0u64, 0u64);
    for (top, (counts, overdue_here)) in &cells {
        let (zh, en) = state
            .taxonomy
            .category_of(top)
            .map_or((None, None), |c| (Some(c.zh.clone()), Some(c.en.clone())));
        let mut entry =
            json!({"zh": zh, "en": en, "total": 0, "open": 0, "overdue": 0, "by_status": {}});
        let mut any = false;
        for (&s, n) in Status::ALL.iter().zip(counts) {
            let n = shown(*n);
            if n == 0 {
                continue;
            }
            any = true;
            add(&mut entry["total"], n);
            total += n;
            if s.is_open() {
                add(&mut entry["open"], n);
                open += n;
            }
            add(&mut entry["by_status"][s.as_str()], n);
            add(&mut by_status[s.as_str()], n);
        }
        let o = shown(*overdue_here);
        if o > 0 {
            add(&mut entry["overdue"], o);
            overdue += o;
        }
        if any || exact {
            by_category.insert((*top).to_owned(), entry);
        }
    }
    if exact {
        total = st.total;
        overdue = st.overdue;
    }
    let resolved: u64 = st.resolved_per_day.values().sum();
    let median = st
        .median_resolve_s
        .filter(|_| exact || resolved >= privacy::MIN_COUNT)
        .map(|s| f64::from(s) / 3600.0);
    // Satisfaction: both those satisfied and those not are shown, or neither.
    let unsatisfied = st.answered - st.satisfied.min(st.answered);
    let (answered, satisfied) =
        if exact || (shown(st.satisfied) == st.satisfied && shown(unsatisfied) == unsatisfied) {
            (shown(st.answered), st.satisfied)
        } else {
            (0, 0)
        };
    let trend = trend(&st.reported_per_day, &st.resolved_per_day, &shown);
    let body = json!({
        "area": area.map(|a| json!({"id": a.id, "code": a.code, "name": a.name, "level": a.level.as_str()})),
        "from": from,
        "to": to,
        "as_of": now,
        "exact": exact,
        "min_count": (!exact).then_some(privacy::MIN_COUNT),
        "total": total,
        "open": open,
        "overdue": overdue,
        "escalated": shown(st.escalated),
        "by_status": by_status,
        "by_category": by_category,
        "median_resolve_hours": median,
        "satisfaction": {
            "answered": answered,
            "satisfied": satisfied,
            "rate": (answered > 0).then(|| ratio(satisfied, answered)),
        },
        "trend": trend,
    });
    Ok(Json(body).into_response())
}

fn add(v: &mut Value, n: u64) {
    *v = json!(v.as_u64().unwrap_or(0) + n);
}

#[allow(clippy::cast_precision_loss)]
fn ratio(a: u64, b: u64) -> f64 {
    a as f64 / b as f64
}

/// Cases reported and resolved per day, or per month when the days are too many.
fn trend(
    reported: &std::collections::BTreeMap<i64, u64>,
    resolved: &std::collections::BTreeMap<i64, u64>,
    shown: &dyn Fn(u64) -> u64,
) -> Value {
    let days: std::collections::BTreeSet<i64> =
        reported.keys().chain(resolved.keys()).copied().collect();
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return json!({"unit": "day", "points": []});
    };
    let date = |d: i64| DateTime::from_timestamp(d * 86_400, 0).map(|t| t.date_naive());
    let span = usize::try_from(last - first + 1).unwrap_or(usize::MAX);
    let monthly = span > MAX_DAYS;
    let mut points: std::collections::BTreeMap<String, (u64, u64)> =
        std::collections::BTreeMap::default();
    for d in days {
        let Some(day) = date(d) else { continue };
        let key = if monthly {
            day.format("%Y-%m").to_string()
        } else {
            day.to_string()
        };
        let e = points.entry(key).or_default();
        e.0 += reported.get(&d).copied().unwrap_or(0);
        e.1 += resolved.get(&d).copied().unwrap_or(0);
    }
    let points: Vec<Value> = points
        .into_iter()
        .map(|(k, (rep, res))| json!({"period": k, "reported": shown(rep), "resolved": shown(res)}))
        .collect();
    json!({"unit": if monthly { "month" } else { "day" }, "points": points})
}
