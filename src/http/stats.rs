//! `GET /api/v1/stats?area=&from=&to=`: case statistics of any area, from memory.
//!
//! Public (an aggregate, like the area counts): counts by category and state, open,
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
use crate::index::{BBox, GridSet};
use crate::model::Status;

/// `/api/v1/stats`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/stats", get(stats))
}

/// Most days a trend lists (longer windows are summed by month).
const MAX_DAYS: usize = 400;

async fn stats(State(state): State<AppState>, p: Params) -> ApiResult<Response> {
    p.only(&["area", "from", "to"])?;
    let from = p.time("from")?;
    let to = p.time("to")?;
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

    let mut by_status: Map<String, Value> = Status::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), json!(0)))
        .collect();
    let mut by_category: Map<String, Value> = Map::new();
    let mut open = 0u64;
    for (code, counts) in &st.by_category {
        let top = code.split('.').next().unwrap_or(code);
        let entry = by_category.entry(top.to_owned()).or_insert_with(|| {
            let (zh, en) = state
                .taxonomy
                .category_of(top)
                .map_or((None, None), |c| (Some(c.zh.clone()), Some(c.en.clone())));
            json!({"zh": zh, "en": en, "total": 0, "open": 0, "overdue": 0, "by_status": {}})
        });
        for (i, n) in counts.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let s = Status::ALL[i];
            add(&mut entry["total"], *n);
            if s.is_open() {
                add(&mut entry["open"], *n);
                open += n;
            }
            add(&mut entry["by_status"][s.as_str()], *n);
            add(&mut by_status[s.as_str()], *n);
        }
        if let Some(n) = st.overdue_by_category.get(code) {
            add(&mut entry["overdue"], *n);
        }
    }
    let trend = trend(&st.reported_per_day, &st.resolved_per_day);
    let body = json!({
        "area": area.map(|a| json!({"id": a.id, "code": a.code, "name": a.name, "level": a.level.as_str()})),
        "from": from,
        "to": to,
        "as_of": now,
        "total": st.total,
        "open": open,
        "overdue": st.overdue,
        "escalated": st.escalated,
        "by_status": by_status,
        "by_category": by_category,
        "median_resolve_hours": st.median_resolve_s.map(|s| f64::from(s) / 3600.0),
        "satisfaction": {
            "answered": st.answered,
            "satisfied": st.satisfied,
            "rate": (st.answered > 0).then(|| ratio(st.satisfied, st.answered)),
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
) -> Value {
    let days: std::collections::BTreeSet<i64> =
        reported.keys().chain(resolved.keys()).copied().collect();
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return json!({"unit": "day", "points": []});
    };
    let date = |d: i64| DateTime::from_timestamp(d * 86_400, 0).map(|t| t.date_naive());
    let span = usize::try_from(last - first + 1).unwrap_or(usize::MAX);
    let monthly = span > MAX_DAYS;
    let mut points: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
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
        .map(|(k, (rep, res))| json!({"period": k, "reported": rep, "resolved": res}))
        .collect();
    json!({"unit": if monthly { "month" } else { "day" }, "points": points})
}
