//! Grid workers: `GET /api/v1/workers` and `GET /api/v1/workers/{id}` (with their duties).
//! Staff tokens only; a scoped token sees the workers holding grids of its scope. Phones
//! never leave (sealed at rest; `has_phone` says whether one is on record).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiPath, Params};
use minqing_index::GridSet;
use minqing_model::worker::Worker;
use minqing_service::auth::Caller;

/// The workers' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/workers", get(workers))
        .route("/api/v1/workers/{id}", get(worker))
}

/// The grid set a caller may list workers of (`None`: every worker), or why not.
fn scope(state: &AppState, caller: &Caller) -> ApiResult<Option<std::sync::Arc<GridSet>>> {
    match caller.principal.as_ref().map(|p| p.role) {
        None => Err(ApiError::unauthorized(
            "this needs a token (Authorization: Bearer …)",
        )),
        Some(r) if !r.reads_events() => Err(ApiError::forbidden(format!(
            "a {} token does not list workers",
            r.as_str()
        ))),
        Some(_) => Ok(state.scope_grids(caller)),
    }
}

/// Grid codes of a grid set.
fn codes(state: &AppState, set: &GridSet) -> Vec<String> {
    let areas = state.index.areas();
    set.grids
        .iter()
        .filter_map(|g| areas.get(*g).map(|a| a.code.clone()))
        .collect()
}

fn worker_json(w: &Worker) -> Value {
    json!({
        "id": w.id, "code": w.code, "name": w.name,
        "kind": w.kind.code(), "kind_label": w.kind.label(),
        "active": w.active, "generated": w.generated,
        "grids": w.grids, "has_phone": w.has_phone,
    })
}

async fn workers(State(state): State<AppState>, caller: Caller, p: Params) -> ApiResult<Response> {
    p.only(&["grid", "active", "limit", "cursor"])?;
    let scope = scope(&state, &caller)?;
    let limit = p.int("limit", 100, 1, 1000)?;
    let after = p.int("cursor", 0, 0, i64::MAX)?;
    let active = match p.str("active") {
        None | Some("true") => true,
        Some("false") => false,
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "active must be true or false, not {v:?}"
            )));
        }
    };
    let mut grids: Option<Vec<String>> = scope.as_ref().map(|s| codes(&state, s));
    if let Some(g) = p.str("grid") {
        let areas = state.index.areas();
        let area = areas
            .by_code(g)
            .or_else(|| g.parse::<i64>().ok().and_then(|id| areas.get(id)))
            .filter(|a| a.level == minqing_model::Level::Grid)
            .ok_or_else(|| ApiError::not_found(format!("no grid {g:?} (an id or a code)")))?;
        if grids.as_ref().is_some_and(|gs| !gs.contains(&area.code)) {
            return Err(ApiError::not_found(format!(
                "no grid {g:?} (an id or a code)"
            )));
        }
        grids = Some(vec![area.code.clone()]);
    }
    let list = state
        .store
        .workers(grids.as_deref(), active, after, limit)
        .await?;
    let next = (list.len() == usize::try_from(limit).unwrap_or(usize::MAX))
        .then(|| list.last().map(|w| w.id))
        .flatten();
    Ok(Json(json!({
        "workers": list.iter().map(worker_json).collect::<Vec<_>>(),
        "next_cursor": next,
    }))
    .into_response())
}

async fn worker(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let scope = scope(&state, &caller)?;
    let id: i64 = id.parse().ok().filter(|i| *i > 0).ok_or_else(|| {
        ApiError::bad_request(format!("worker id must be a positive integer, not {id:?}"))
    })?;
    let not_found = || ApiError::not_found(format!("no worker {id}"));
    let (w, duties) = state.store.worker(id).await?.ok_or_else(not_found)?;
    if let Some(s) = &scope {
        let mine = codes(&state, s);
        if !w.grids.iter().any(|g| mine.contains(g)) {
            return Err(not_found());
        }
    }
    let mut v = worker_json(&w);
    v["duties"] = json!(
        duties
            .iter()
            .map(|d| json!({"grid_code": d.grid_code, "from": d.from, "to": d.to}))
            .collect::<Vec<_>>()
    );
    Ok(Json(v).into_response())
}
