//! Review reports: `GET /api/v1/reports?area=&period=&at=` (the report as JSON: the kept
//! one when the period's report was kept, else computed now), `GET /api/v1/reports.csv`
//! (any of its tables as CSV), `GET /api/v1/reports/snapshots` (the kept reports). The page
//! is `/reports` (web app), printable on A4.
//!
//! Staff only (tokens that read cases), in scope, like the assessment it contains.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::AppState;
use super::assessment::{asked_area, asked_period, staff_scope};
use super::error::{ApiError, ApiResult};
use super::extract::Params;
use minqing_service::assessment::FIGURE_NAMES;
use minqing_service::auth::in_scope;
use minqing_service::review::review;

/// The reports' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports", get(report))
        .route("/api/v1/reports.csv", get(csv))
        .route("/api/v1/reports/snapshots", get(snapshots))
}

/// The tables of a report, for CSV.
const TABLES: [&str; 9] = [
    "kpis",
    "daily",
    "categories",
    "children",
    "workers",
    "lists",
    "overdue_cases",
    "missed_visits",
    "risk_sites",
];

/// The report asked: the kept one when there is one (and `live` is not asked), else one
/// computed now.
async fn body(
    state: &AppState,
    caller: &minqing_service::auth::Caller,
    p: &Params,
) -> ApiResult<Value> {
    let scope = staff_scope(state, caller)?;
    let area = asked_area(state, scope.as_deref(), p)?;
    let period = asked_period(p)?;
    let live = match p.str("live") {
        None | Some("false") => false,
        Some("true") => true,
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "live must be true or false, not {v:?}"
            )));
        }
    };
    let code = area
        .and_then(|a| state.index.areas().get(a).map(|a| a.code.clone()))
        .unwrap_or_default();
    if !live
        && let Some((row, mut body)) = state
            .store
            .snapshot(&code, period.kind.code(), period.starts)
            .await?
    {
        body["snapshot"] = json!({"id": row.id, "created_at": row.created_at});
        return Ok(body);
    }
    let mut body = review(state, area, period)
        .await?
        .ok_or_else(|| ApiError::not_found("no such area"))?;
    body["snapshot"] = Value::Null;
    Ok(body)
}

async fn report(
    State(state): State<AppState>,
    caller: minqing_service::auth::Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["area", "period", "at", "live"])?;
    Ok(Json(body(&state, &caller, &p).await?).into_response())
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// A table of a report as rows of cells, header first.
fn table(b: &Value, name: &str) -> Vec<Vec<String>> {
    let rows = |v: &Value, cols: &[&str]| -> Vec<Vec<String>> {
        std::iter::once(cols.iter().map(|c| (*c).to_owned()).collect())
            .chain(
                v.as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| cols.iter().map(|c| cell(&r[*c])).collect()),
            )
            .collect()
    };
    let ranked = |v: &Value| -> Vec<Vec<String>> {
        let mut head: Vec<String> = ["rank", "id", "code", "name", "level", "grids", "score"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        head.extend(FIGURE_NAMES.iter().map(|s| (*s).to_owned()));
        std::iter::once(head)
            .chain(v.as_array().into_iter().flatten().map(|r| {
                let mut row: Vec<String> =
                    ["rank", "id", "code", "name", "level", "grids", "score"]
                        .iter()
                        .map(|c| cell(&r[*c]))
                        .collect();
                row.extend(FIGURE_NAMES.iter().map(|f| cell(&r["figures"][*f])));
                row
            }))
            .collect()
    };
    match name {
        "kpis" => rows(&b["kpis"], &["key", "value", "previous"]),
        "daily" => rows(&b["daily"], &["date", "reported", "resolved"]),
        "categories" => rows(
            &b["categories"],
            &["code", "name", "name_en", "count", "previous"],
        ),
        "children" => ranked(&b["assessment"]["children"]),
        "workers" => ranked(&b["assessment"]["workers"]),
        "lists" => {
            let mut out = vec![vec![
                "ranking".into(),
                "list".into(),
                "rank".into(),
                "name".into(),
                "score".into(),
            ]];
            for ranking in ["children", "workers"] {
                for list in ["red", "black"] {
                    for r in b["assessment"][format!("{ranking}_lists")][list]
                        .as_array()
                        .into_iter()
                        .flatten()
                    {
                        out.push(vec![
                            ranking.into(),
                            list.into(),
                            cell(&r["rank"]),
                            cell(&r["name"]),
                            cell(&r["score"]),
                        ]);
                    }
                }
            }
            out
        }
        "overdue_cases" => rows(
            &b["overdue_cases"]["cases"],
            &[
                "id",
                "category",
                "title",
                "status",
                "grid_id",
                "reported_at",
                "due_at",
            ],
        ),
        "missed_visits" => rows(
            &b["missed_visits"]["by_reason"],
            &["reason", "owed", "done"],
        ),
        _ => rows(
            &b["missed_visits"]["places"],
            &["id", "name", "type", "grid_id", "owed", "done"],
        ),
    }
}

async fn csv(
    State(state): State<AppState>,
    caller: minqing_service::auth::Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["area", "period", "at", "live", "table"])?;
    let name = p.str("table").unwrap_or("kpis");
    if !TABLES.contains(&name) {
        return Err(ApiError::bad_request(format!(
            "table must be one of {}",
            TABLES.join(", ")
        )));
    }
    let b = body(&state, &caller, &p).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in table(&b, name) {
        w.write_record(&row).map_err(|_| ApiError::internal())?;
    }
    let bytes = w.into_inner().map_err(|_| ApiError::internal())?;
    // A byte-order mark: spreadsheet programs then read the Chinese as UTF-8.
    let mut out = "\u{feff}".as_bytes().to_vec();
    out.extend(bytes);
    let file = format!(
        "report-{}-{}-{}-{name}.csv",
        if b["area"]["code"].as_str().unwrap_or("").is_empty() {
            "city"
        } else {
            b["area"]["code"].as_str().unwrap_or("city")
        },
        cell(&b["period"]["kind"]),
        cell(&b["period"]["starts"]),
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        out,
    )
        .into_response())
}

async fn snapshots(
    State(state): State<AppState>,
    caller: minqing_service::auth::Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["area", "limit"])?;
    let scope = staff_scope(&state, &caller)?;
    let limit = p.int("limit", 100, 1, 1000)?;
    let areas = state.index.areas();
    // The kept areas the caller may see: the asked one, or all of those in scope (the whole
    // city's, code "", for callers without a scope).
    let codes: Vec<String> = match asked_area(&state, scope.as_deref(), &p)? {
        Some(a) => areas
            .get(a)
            .map(|a| vec![a.code.clone()])
            .unwrap_or_default(),
        None if p.str("area").is_none() && scope.is_none() => {
            let mut c: Vec<String> = areas
                .all()
                .iter()
                .filter(|a| a.parent_id.is_none_or(|p| areas.get(p).is_none()))
                .map(|a| a.code.clone())
                .collect();
            c.push(String::new());
            c
        }
        None => Vec::new(),
    };
    let codes: Vec<String> = codes
        .into_iter()
        .filter(|c| {
            scope
                .as_deref()
                .is_none_or(|s| areas.by_code(c).is_some_and(|a| in_scope(s, &areas, a.id)))
        })
        .collect();
    let list = state.store.snapshots(&codes, limit).await?;
    Ok(Json(json!({"snapshots": list})).into_response())
}
