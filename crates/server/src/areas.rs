//! Areas: where am I (`locate`), listing and one area.
//!
//! Current answers come from memory. With `?at=TIME` (RFC 3339), `locate` and the listing
//! answer from PostGIS among the area versions valid then (`valid_from <= at` and
//! `valid_to` NULL or after it), with the same boundary rule (smallest id among covering
//! grids): boundaries redrawn by a plan stay queryable as they were.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiPath, Params};
use super::features::{self, GeoJson};
use minqing_index::AreaFilter;
use minqing_model::Level;

/// Largest page of areas.
const MAX_LIMIT: i64 = 1000;

/// `/api/v1/locate`, `/api/v1/areas`, `/api/v1/areas/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/locate", get(locate))
        .route("/api/v1/areas", get(list))
        .route("/api/v1/areas/{id}", get(one))
}

/// The answer of `/api/v1/locate`.
#[derive(serde::Serialize)]
struct Located<'a> {
    grid: features::AreaProperties<'a>,
    ancestors: Vec<features::AreaProperties<'a>>,
}

/// The grid covering a point, and its ancestors.
async fn locate(State(state): State<AppState>, p: Params) -> ApiResult<Response> {
    p.only(&["lon", "lat", "at"])?;
    let (lon, lat) = p.lon_lat()?;
    if let Some(at) = p.time("at")? {
        let (grid, ancestors) = state.store.locate_at(lon, lat, at).await?.ok_or_else(|| {
            ApiError::not_found(format!("no grid covered ({lon}, {lat}) at {at}"))
        })?;
        let body = serde_json::json!({
            "grid": features::area_properties(&grid),
            "ancestors": ancestors.iter().map(features::area_properties).collect::<Vec<_>>(),
        });
        return Ok(Json(body).into_response());
    }
    let areas = state.index.areas();
    let grid = areas
        .locate(lon, lat)
        .ok_or_else(|| ApiError::not_found(format!("no grid covers ({lon}, {lat})")))?;
    let body = Located {
        grid: features::area_properties(grid),
        ancestors: areas
            .ancestors(grid)
            .into_iter()
            .map(features::area_properties)
            .collect(),
    };
    Ok(Json(body).into_response())
}

async fn list(State(state): State<AppState>, p: Params) -> ApiResult<Response> {
    p.only(&["level", "parent", "bbox", "limit", "cursor", "at"])?;
    let level = p
        .str("level")
        .map(|l| {
            Level::parse(l).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "level must be one of city, district, street, community, grid, not {l:?}"
                ))
            })
        })
        .transpose()?;
    let parent =
        match p.str("parent") {
            None => None,
            Some(v) => Some(v.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!("parent must be an area id, not {v:?}"))
            })?),
        };
    let filter = AreaFilter {
        level,
        parent,
        bbox: p.bbox(state.config.max_bbox_deg)?,
    };
    let limit = p.int("limit", 100, 1, MAX_LIMIT)?;
    if let Some(at) = p.time("at")? {
        let filter = minqing_store::AreasAt {
            level: filter.level,
            parent: filter.parent,
            bbox: filter.bbox,
        };
        let mut found = state
            .store
            .areas_at(at, &filter, p.cursor()?, limit + 1)
            .await?;
        let limit = usize::try_from(limit).unwrap_or(100);
        let next = (found.len() > limit).then(|| {
            found.truncate(limit);
            found.last().map(|a| a.id)
        });
        let feats: Vec<_> = found.iter().map(features::area).collect();
        return Ok(
            GeoJson(features::page("/api/v1/areas", &p, feats, next.flatten())).into_response(),
        );
    }
    let limit = usize::try_from(limit).unwrap_or(100);
    let areas = state.index.areas();
    let mut found = areas.list(&filter, p.cursor()?, limit + 1);
    let next = (found.len() > limit).then(|| {
        found.truncate(limit);
        found.last().map(|a| a.id)
    });
    let feats = found.into_iter().map(features::area).collect();
    Ok(GeoJson(features::page("/api/v1/areas", &p, feats, next.flatten())).into_response())
}

async fn one(State(state): State<AppState>, ApiPath(id): ApiPath<String>) -> ApiResult<Response> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("area id must be an integer, not {id:?}")))?;
    let areas = state.index.areas();
    let a = areas
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("no area {id}")))?;
    Ok(GeoJson(features::area(a)).into_response())
}
