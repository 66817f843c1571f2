//! Vector tiles: catalog, TileJSON 3.0.0 and MVT tiles rendered from the index.
//!
//! Tiles are rendered per request (no cache yet): always current, since the index is.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use minqing_tiles::TileId;
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::events::filter;
use super::extract::Params;
use crate::render::{self, Layer};

/// `/tiles`, `/tiles/{layer}`, `/tiles/{layer}/{z}/{x}/{y}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tiles", get(catalog))
        .route("/tiles/{layer}", get(tilejson))
        .route("/tiles/{layer}/{z}/{x}/{y}", get(tile))
}

fn layer(name: &str) -> ApiResult<Layer> {
    Layer::parse(name).ok_or_else(|| {
        ApiError::not_found(format!(
            "no tile layer {name:?}; layers: areas, events, heat"
        ))
    })
}

async fn catalog(headers: HeaderMap) -> Json<Value> {
    let base = base_url(&headers);
    let layers: Vec<Value> = Layer::ALL
        .iter()
        .map(|l| json!({"id": l.name(), "tilejson": format!("{base}/tiles/{}", l.name())}))
        .collect();
    Json(json!({"tiles": layers}))
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".:-[]".contains(c))
        })
        .unwrap_or("localhost:8080");
    format!("http://{host}")
}

async fn tilejson(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    p: Params,
) -> ApiResult<Json<Value>> {
    let l = layer(&name)?;
    p.only(&["category", "status", "from", "to"])?;
    filter(&state, &p)?;
    let query = serde_urlencoded::to_string(p.pairs()).unwrap_or_default();
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    let areas = state.index.areas();
    let (mut west, mut south, mut east, mut north) = (180.0f64, 90.0f64, -180.0f64, -90.0f64);
    for a in areas
        .all()
        .iter()
        .filter(|a| a.level == crate::model::Level::District)
    {
        for p in &a.geom.0 {
            for c in &p.exterior().0 {
                west = west.min(c.x);
                east = east.max(c.x);
                south = south.min(c.y);
                north = north.max(c.y);
            }
        }
    }
    if west > east {
        (west, south, east, north) = (-180.0, -85.051_128_779_806_59, 180.0, 85.051_128_779_806_59);
    }
    let fields: serde_json::Map<String, Value> = l
        .fields()
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    Ok(Json(json!({
        "tilejson": "3.0.0",
        "name": format!("minqing {}", l.name()),
        "tiles": [format!("{}/tiles/{}/{{z}}/{{x}}/{{y}}{query}", base_url(&headers), l.name())],
        "minzoom": 0,
        "maxzoom": render::MAX_ZOOM,
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2.0, (south + north) / 2.0, 9],
        "vector_layers": [{"id": l.name(), "fields": fields, "minzoom": 0, "maxzoom": render::MAX_ZOOM}],
    })))
}

async fn tile(
    State(state): State<AppState>,
    Path((name, z, x, y)): Path<(String, String, String, String)>,
    p: Params,
) -> ApiResult<Response> {
    let l = layer(&name)?;
    let y = y.trim_end_matches(".mvt").trim_end_matches(".pbf");
    let id = TileId::parse(&z, &x, y)
        .map_err(|e| ApiError::bad_request(format!("tile {z}/{x}/{y}: {e}")))?;
    if id.z > render::MAX_ZOOM {
        return Err(ApiError::bad_request(format!(
            "zoom {} is above the highest served zoom {}",
            id.z,
            render::MAX_ZOOM
        )));
    }
    let bytes = match l {
        Layer::Areas => {
            p.only(&[])?;
            let areas = state.index.areas();
            tokio::task::spawn_blocking(move || render::areas_tile(&areas, id))
                .await
                .map_err(|_| {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        "tile rendering failed",
                    )
                })?
        }
        Layer::Events | Layer::Heat => {
            p.only(&["category", "status", "from", "to"])?;
            let f = filter(&state, &p)?;
            let index = state.index.clone();
            let now = Utc::now();
            tokio::task::spawn_blocking(move || {
                index.events(|ix| match l {
                    Layer::Events => render::events_tile(ix, id, &f, now),
                    _ => render::heat_tile(ix, id, &f),
                })
            })
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "tile rendering failed",
                )
            })?
        }
    };
    if bytes.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.mapbox-vector-tile"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        bytes,
    )
        .into_response())
}
