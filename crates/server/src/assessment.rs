//! Assessment (考核): `GET /api/v1/assessment?area=&period=&at=` ranks an area's children
//! and workers for a day, week or month (see `minqing_service::assessment` for every
//! figure), and `GET /api/v1/assessment/explain` lists the cases or visits behind any one
//! figure, so that every number can be checked.
//!
//! Staff only (tokens that read cases), in scope; without `area` an unscoped caller gets
//! the whole city. Names of workers are shown (staff see them); visit subjects in the
//! drill-down follow the due list's rules (people-reading roles, sensitive tags as
//! granted, the rest counted as hidden).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Datelike, NaiveDate, Utc};
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Params;
use minqing_index::GridSet;
use minqing_service::assessment::{Ask, Period, PeriodKind, assess, china_today, grids_of};
use minqing_service::auth::{Caller, in_scope};
use minqing_service::registers::PeopleView;
use minqing_service::visits::{Rules, grid_set, subjects};
use minqing_store::{ExplainOf, VisitFilter};

/// The assessment's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/assessment", get(assessment))
        .route("/api/v1/assessment/explain", get(explain))
}

/// The period asked: `period` (day, week, month; default month) holding the day `at`
/// (YYYY-MM-DD, China; default today).
pub(crate) fn asked_period(p: &Params) -> ApiResult<Period> {
    let kind = match p.str("period") {
        None => PeriodKind::Month,
        Some(k) => PeriodKind::parse(k).ok_or_else(|| {
            ApiError::bad_request(format!("period must be day, week or month, not {k:?}"))
        })?,
    };
    let at = match p.str("at") {
        None => china_today(Utc::now()),
        Some(d) => d.parse::<NaiveDate>().map_err(|_| {
            ApiError::bad_request(format!("at must be a date (YYYY-MM-DD), not {d:?}"))
        })?,
    };
    let today = china_today(Utc::now());
    if at > today + chrono::Duration::days(1) {
        return Err(ApiError::unprocessable("at lies in the future"));
    }
    if at.year_ce().1 < 2000 {
        return Err(ApiError::unprocessable("at lies before the year 2000"));
    }
    Ok(Period::containing(kind, at))
}

/// The staff caller's scope (`None`: everywhere), or why they may not ask.
pub(crate) fn staff_scope(
    state: &AppState,
    caller: &Caller,
) -> ApiResult<Option<std::sync::Arc<GridSet>>> {
    let principal = caller.require()?;
    if !principal.role.reads_events() {
        return Err(ApiError::forbidden(format!(
            "a {} token does not read assessments",
            principal.role.as_str()
        )));
    }
    Ok(state.scope_grids(caller))
}

/// The area asked (an id or a code) in the caller's scope; `None` (the whole city) only
/// for a caller without a scope.
pub(crate) fn asked_area(
    state: &AppState,
    scope: Option<&GridSet>,
    p: &Params,
) -> ApiResult<Option<i64>> {
    let areas = state.index.areas();
    let Some(a) = p.str("area") else {
        return match scope {
            None => Ok(None),
            Some(_) => Err(ApiError::bad_request(
                "name the area: area= (an id or a code within your scope)",
            )),
        };
    };
    let area = areas
        .by_code(a)
        .or_else(|| a.parse::<i64>().ok().and_then(|id| areas.get(id)))
        .filter(|area| scope.is_none_or(|s| in_scope(s, &areas, area.id)))
        .ok_or_else(|| ApiError::not_found(format!("no area {a:?} (an id or a code)")))?;
    Ok(Some(area.id))
}

async fn assessment(
    State(state): State<AppState>,
    caller: Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["area", "period", "at", "limit", "list"])?;
    let scope = staff_scope(&state, &caller)?;
    let area = asked_area(&state, scope.as_deref(), &p)?;
    let period = asked_period(&p)?;
    let ask = Ask {
        area,
        period,
        workers_limit: usize::try_from(p.int("limit", 100, 0, 100_000)?).unwrap_or(100),
        list: usize::try_from(p.int("list", 3, 0, 50)?).unwrap_or(3),
    };
    let a = assess(&state, ask)
        .await?
        .ok_or_else(|| ApiError::not_found("no such area"))?;
    Ok(Json(a).into_response())
}

/// The measures the drill-down knows, and the `explain_cases.sql` filter of each (`None`:
/// not a list of cases).
pub(crate) const MEASURES: [(&str, Option<&str>); 16] = [
    ("cases", Some("cases")),
    ("found", Some("own")),
    ("missed", Some("missed")),
    ("reports", Some("own")),
    ("kept", Some("kept")),
    ("rejected", Some("rejected")),
    ("handled", Some("handled")),
    ("decided", Some("decided")),
    ("on_time", Some("on_time")),
    ("late", Some("late")),
    ("overdue", Some("overdue")),
    ("answered", Some("answered")),
    ("satisfied", Some("satisfied")),
    ("visits", None),
    ("visits_due", None),
    ("visits_done", None),
];

/// For a worker: which measures are their own (handled or reported by them) rather than
/// their grids'.
fn worker_own(measure: &str) -> Option<ExplainOf<'static>> {
    match measure {
        "handled" | "decided" | "on_time" | "late" | "answered" | "satisfied" => {
            Some(ExplainOf::Handler(0))
        }
        "reports" | "kept" => Some(ExplainOf::Reporter(0)),
        _ => None,
    }
}

#[allow(clippy::too_many_lines)] // one dispatch over the measures
async fn explain(State(state): State<AppState>, caller: Caller, p: Params) -> ApiResult<Response> {
    p.only(&["area", "worker", "period", "at", "measure", "limit"])?;
    let scope = staff_scope(&state, &caller)?;
    let period = asked_period(&p)?;
    let measure = p
        .str("measure")
        .ok_or_else(|| ApiError::bad_request("measure is required"))?;
    let Some((_, filter)) = MEASURES.iter().find(|(m, _)| *m == measure) else {
        let known: Vec<&str> = MEASURES.iter().map(|(m, _)| *m).collect();
        return Err(ApiError::bad_request(format!(
            "measure must be one of {}",
            known.join(", ")
        )));
    };
    let limit = p.int("limit", 500, 1, 5000)?;
    let areas = state.index.areas();
    // Whose: a worker (their grids now, or their own cases) or an area's grids.
    let worker = match p.str("worker") {
        None => None,
        Some(w) => Some(w.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("worker must be a worker id, not {w:?}"))
        })?),
    };
    let grids: Vec<i64> = if let Some(w) = worker {
        if p.str("area").is_some() {
            return Err(ApiError::bad_request("give area or worker, not both"));
        }
        let (_, duties) = state
            .store
            .worker(w)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no worker {w}")))?;
        // Only the grids the caller may see: a worker holding grids in two scopes shows
        // each caller their own part.
        let held: Vec<i64> = duties
            .iter()
            .filter(|d| d.to.is_none())
            .filter_map(|d| areas.by_code(&d.grid_code).map(|a| a.id))
            .filter(|g| scope.as_deref().is_none_or(|s| s.has_grid(Some(*g))))
            .collect();
        if scope.is_some() && held.is_empty() {
            return Err(ApiError::not_found(format!("no worker {w}")));
        }
        held
    } else {
        grids_of(&areas, asked_area(&state, scope.as_deref(), &p)?)
    };
    let base = json!({"measure": measure, "period": period, "period_label": period.label()});
    let mut out = base.as_object().cloned().unwrap_or_default();
    if let Some(f) = filter {
        let of = match (worker, worker_own(measure)) {
            (Some(w), Some(ExplainOf::Handler(_))) => ExplainOf::Handler(w),
            (Some(w), Some(ExplainOf::Reporter(_))) => ExplainOf::Reporter(w),
            _ if worker.is_none() && p.str("area").is_none() => ExplainOf::Everywhere,
            _ => ExplainOf::Grids(&grids),
        };
        let f = match (worker, measure) {
            (Some(_), "reports") => "reports",
            (Some(_), "kept") => "reports_kept",
            _ => f,
        };
        let mut cases = state
            .store
            .explain_cases(of, period.from, period.to, f, limit)
            .await?;
        // A worker's own cases may lie in grids outside the caller's scope.
        if let Some(s) = scope.as_deref() {
            cases.retain(|c| s.has_grid(c.grid_id));
        }
        out.insert("count".into(), json!(cases.len()));
        out.insert("cases".into(), json!(cases));
        return Ok(Json(Value::Object(out)).into_response());
    }
    if measure == "visits" {
        let codes: Vec<String> = grids
            .iter()
            .filter_map(|g| areas.get(*g).map(|a| a.code.clone()))
            .collect();
        let f = VisitFilter {
            worker,
            grids: (worker.is_none() || scope.is_some()).then_some(codes),
            from: Some(period.from),
            to: Some(period.to),
            ..VisitFilter::default()
        };
        let visits = state.store.visits(&f, limit).await?;
        let list: Vec<Value> = visits
            .iter()
            .map(|v| {
                json!({"id": v.id, "worker": {"id": v.worker_id, "name": v.worker_name},
                       "target": {"kind": v.target.kind.code(), "id": v.target.id},
                       "grid_code": v.grid_code, "at": v.at, "outcome": v.outcome.code()})
            })
            .collect();
        out.insert("count".into(), json!(list.len()));
        out.insert("visits".into(), json!(list));
        return Ok(Json(Value::Object(out)).into_response());
    }
    // visits_due / visits_done: the subjects, as the due list shows them.
    let PeopleView::Masked { granted, .. } = state.people_view(&caller) else {
        return Err(ApiError::forbidden(
            "the visit subjects show who carries a care tag: roles that read people only",
        ));
    };
    let rules = Rules::load(&state.store).await?;
    let visited = minqing_service::visits::visited(&state.index, period.from, period.to);
    let set = grid_set(&areas, grids);
    let regs = state.index.registers();
    let shown: std::collections::HashMap<_, _> = subjects(&regs, Some(&set), &rules, |t| {
        !t.sensitive() || granted.has(t)
    })
    .into_iter()
    .map(|s| (s.target, s))
    .collect();
    let (mut rows, mut hidden) = (Vec::new(), [0i64; 3]);
    for s in subjects(&regs, Some(&set), &rules, |_| true) {
        let v = visited.get(&s.target).copied().unwrap_or_default();
        let required = s.required(v.last_before, period.from, period.to);
        let done = v.done.min(required);
        if required == 0 || (measure == "visits_done" && done == 0) {
            continue;
        }
        if let Some(vis) = shown.get(&s.target) {
            rows.push(json!({
                "target": {"kind": s.target.kind.code(), "id": s.target.id},
                "label": vis.label, "reasons": vis.reasons, "every_days": s.every_days,
                "grid_id": s.grid, "last_before": v.last_before,
                "required": required, "done": done,
            }));
        } else {
            hidden[0] += 1;
            hidden[1] += required;
            hidden[2] += done;
        }
    }
    out.insert("count".into(), json!(rows.len()));
    rows.truncate(usize::try_from(limit).unwrap_or(500));
    out.insert("subjects".into(), json!(rows));
    out.insert(
        "hidden".into(),
        json!({"subjects": hidden[0], "required": hidden[1], "done": hidden[2]}),
    );
    Ok(Json(Value::Object(out)).into_response())
}
