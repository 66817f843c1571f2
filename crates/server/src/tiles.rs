//! Vector tiles: catalog, TileJSON 3.0.0 and MVT tiles rendered from the index.
//!
//! Tiles are rendered from the index on first request, then served from [`TileCache`]
//! (ETag, `If-None-Match` → 304, gzip bytes kept) until a write touching them invalidates
//! them. The `patrols` layer is the exception: counted by PostGIS on every request, for the
//! roles and scope of `GET /api/v1/patrols`, never cached ([`render::patrols`]).
//!
//! [`TileCache`]: minqing_service::tilecache::TileCache

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use minqing_tiles::TileId;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::sync::Arc;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::events::{filter, reader_filter};
use super::extract::negotiate::{Negotiation, public_base};
use super::extract::{ApiPath, Params};
use super::registers::code_param;
use minqing_index::registers::RegisterIndex;
use minqing_index::{AreaCount, AreaIndex, EventFilter, GridSet};
use minqing_model::privacy;
use minqing_model::register::{CareTag, PlaceType, Tags};
use minqing_service::auth::{Caller, Role, Scope};
use minqing_service::registers::PeopleView;
use minqing_service::render::registers::{self, Audience, CoverageQuery};
use minqing_service::render::{self, Layer};
use minqing_service::tilecache::{Encoded, Gzip, TileKey};

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
            "no tile layer {name:?}; layers: {}",
            Layer::ALL.map(Layer::name).join(", ")
        ))
    })
}

/// The query parameters a layer's tiles take: event filters for `events` and `heat`, the
/// place type, distance and care tag for `coverage`, the period for `patrols`, none for the
/// others (`areas` counts all open cases).
fn filter_params(l: Layer) -> &'static [&'static str] {
    match l {
        Layer::Areas | Layer::Buildings | Layer::Places => &[],
        Layer::Events | Layer::Heat => &["category", "status", "from", "to"],
        Layer::Coverage => &["type", "within_m", "tag"],
        Layer::Patrols => &["from", "to"],
    }
}

/// The period a `patrols` tile counts: `from` and `to` (RFC 3339), by default the 30 days
/// before `to` and now; `from` before `to`, at most [`render::patrols::MAX_PERIOD_DAYS`]
/// apart.
fn patrol_period(p: &Params) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let to = p.time("to")?.unwrap_or_else(Utc::now);
    let from = match p.time("from")? {
        Some(t) => t,
        None => to.checked_sub_signed(Duration::days(30)).ok_or_else(|| {
            ApiError::bad_request(format!("to {to} is too early for a 30-day period"))
        })?,
    };
    if from >= to {
        return Err(ApiError::bad_request("from must be before to"));
    }
    let most = render::patrols::MAX_PERIOD_DAYS;
    if to - from > Duration::days(most) {
        return Err(ApiError::bad_request(format!(
            "from and to may be at most {most} days apart"
        )));
    }
    Ok((from, to))
}

/// A `patrols` tile: staff tokens only (anonymous 401, residents 403), counting the track
/// points of the patrols in the caller's scope, as `GET /api/v1/patrols` lists them.
async fn patrols_tile(
    state: &AppState,
    caller: &Caller,
    client: &Negotiation,
    id: TileId,
    p: &Params,
) -> ApiResult<Response> {
    let principal = caller.require()?;
    if !principal.role.reads_events() {
        return Err(ApiError::forbidden(format!(
            "a {} token does not read patrols",
            principal.role.as_str()
        )));
    }
    let period = patrol_period(p)?;
    let grids = state.scope_grids(caller);
    let bytes = render::patrols::patrols_tile(
        &state.store,
        &state.index.areas(),
        grids.as_deref(),
        id,
        period,
    )
    .await?;
    Ok(answer(&Encoded::new(bytes, Gzip::Always), client))
}

/// A tile's answer: 304 while the client holds it, 204 when it is empty, else the bytes
/// (gzip when the client accepts it), with its `ETag`.
fn answer(tile: &Encoded, client: &Negotiation) -> Response {
    let etag = [
        (header::ETAG, tile.etag().to_owned()),
        (header::CACHE_CONTROL, "no-cache".into()),
    ];
    if client.holds(tile.etag()) {
        return (StatusCode::NOT_MODIFIED, etag).into_response();
    }
    if tile.raw().is_empty() {
        return (StatusCode::NO_CONTENT, etag).into_response();
    }
    let mut response = (etag, client.body(tile)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/vnd.mapbox-vector-tile"),
    );
    response
}

/// The coverage a `coverage` tile (or its TileJSON) asks for; a sensitive tag must be
/// granted to the caller.
fn coverage_query(p: &Params, granted: Tags) -> ApiResult<CoverageQuery> {
    let kind = code_param(p, "type", PlaceType::parse, PlaceType::codes)?.ok_or_else(|| {
        ApiError::bad_request(format!("type is required: one of {}", PlaceType::codes()))
    })?;
    let within_m = p.f64("within_m")?.unwrap_or(1000.0);
    if !(1.0..=20_000.0).contains(&within_m) {
        return Err(ApiError::bad_request(
            "within_m must be between 1 and 20000 metres",
        ));
    }
    let tag = code_param(p, "tag", CareTag::parse, CareTag::codes)?;
    if let Some(t) = tag
        && t.sensitive()
        && !granted.has(t)
    {
        return Err(ApiError::forbidden(format!(
            "the tag {} is not granted to this token",
            t.code()
        )));
    }
    Ok(CoverageQuery {
        kind,
        within_m,
        tag,
    })
}

async fn catalog(headers: HeaderMap) -> Json<Value> {
    let base = public_base(&headers);
    let layers: Vec<Value> = Layer::ALL
        .iter()
        .map(|l| json!({"id": l.name(), "tilejson": format!("{base}/tiles/{}", l.name())}))
        .collect();
    Json(json!({"tiles": layers}))
}

async fn tilejson(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(name): ApiPath<String>,
    p: Params,
) -> ApiResult<Json<Value>> {
    let l = layer(&name)?;
    // Only the layers whose tiles take filters take them here, so the advertised
    // tiles URL is always one the tile endpoint serves.
    p.only(filter_params(l))?;
    match l {
        Layer::Events | Layer::Heat => {
            filter(&state, &p)?;
        }
        Layer::Coverage => {
            coverage_query(&p, Tags::sensitive())?;
        }
        Layer::Patrols => {
            patrol_period(&p)?;
        }
        Layer::Areas | Layer::Buildings | Layer::Places => {}
    }
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
        .filter(|a| a.level == minqing_model::Level::District)
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
        "tiles": [format!("{}/tiles/{}/{{z}}/{{x}}/{{y}}{query}", public_base(&headers), l.name())],
        "minzoom": 0,
        "maxzoom": render::MAX_ZOOM,
        "bounds": [west, south, east, north],
        "center": [f64::midpoint(west, east), f64::midpoint(south, north), 9],
        "vector_layers": [{"id": l.name(), "fields": fields, "minzoom": 0, "maxzoom": render::MAX_ZOOM}],
    })))
}

#[allow(clippy::too_many_lines)] // one request from parameters to bytes; the steps share the filter and cache key
async fn tile(
    State(state): State<AppState>,
    caller: Caller,
    client: Negotiation,
    ApiPath((name, z, x, y)): ApiPath<(String, String, String, String)>,
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
    p.only(filter_params(l))?;
    if l == Layer::Patrols {
        return patrols_tile(&state, &caller, &client, id, &p).await;
    }
    // Single events need a token and follow its scope. Heat follows the scope of a token
    // that reads events; anyone else (anonymous, residents) gets the public heat: cells of
    // several reports only, windows widened to whole days (model::privacy). Areas are
    // public, with exact counts only where the caller's scope covers the area.
    let public_heat = l == Layer::Heat && !caller.role().is_some_and(Role::reads_events);
    let f = match l {
        Layer::Areas | Layer::Buildings | Layer::Places | Layer::Coverage | Layer::Patrols => None,
        Layer::Heat if public_heat => Some(public_filter(filter(&state, &p)?)),
        Layer::Events | Layer::Heat => Some(reader_filter(&state, &caller, &p)?),
    };
    // The registers' layers: the caller's grids, whether it sees counts of people, and
    // the registers as they are now (their generation keys the cache).
    let registers = match l {
        Layer::Buildings | Layer::Places | Layer::Coverage => {
            let (exact, granted) = match state.people_view(&caller) {
                PeopleView::Masked { granted, .. } => (true, granted),
                PeopleView::CountsOnly => (false, Tags::default()),
            };
            let query = if l == Layer::Coverage {
                Some(coverage_query(&p, granted)?)
            } else {
                None
            };
            Some(RegisterJob {
                regs: state.index.registers(),
                grids: state.register_grids(&caller),
                exact,
                query,
            })
        }
        _ => None,
    };
    let counts_view = match l {
        Layer::Areas => match state.auth.scope(&caller, &state.index.areas()) {
            Scope::All => CountsView::Exact,
            Scope::Area(s) => CountsView::Within(s.area_id),
            Scope::Own(_) | Scope::Nothing => CountsView::Public,
        },
        Layer::Events
        | Layer::Heat
        | Layer::Buildings
        | Layer::Places
        | Layer::Coverage
        | Layer::Patrols => CountsView::Exact,
    };
    // Filters and the audience are part of the cache key (sorted, so equal filters share
    // an entry). Without a cache (`--no-tile-cache`) every request renders, and the cache's
    // bookkeeping is skipped.
    let caching = state.config.tile_cache;
    let mut variant = String::new();
    if caching {
        variant = serde_urlencoded::to_string(p.pairs()).unwrap_or_default();
        if let Some(scope) = f.as_ref().and_then(|f| f.scope.as_ref()) {
            let _ = write!(variant, "&scope={}", scope.area_id);
        }
        match counts_view {
            CountsView::Exact => {}
            CountsView::Within(area) => {
                let _ = write!(variant, "&within={area}");
            }
            CountsView::Public => variant.push_str("&public"),
        }
        if public_heat {
            variant.push_str("&public");
        }
        if let Some(r) = &registers {
            let _ = write!(
                variant,
                "&regs={}&areas={}&scope={}&exact={}",
                r.regs.generation(),
                state.index.areas().generation(),
                r.grids.as_ref().map_or(0, |g| g.area_id),
                r.exact
            );
        }
    }
    let min_weight = if public_heat {
        render::PUBLIC_HEAT_MIN_WEIGHT
    } else {
        1
    };
    let key = TileKey { layer: l, tile: id };
    let (cached, version) = if caching {
        state.tiles.get(key, &variant)
    } else {
        (None, 0)
    };
    let tile = if let Some(t) = cached {
        t
    } else {
        // Ends the cache's record of this render however the request ends.
        let mut render = Render {
            tiles: state.tiles.clone(),
            key,
            open: caching,
        };
        let index = state.index.clone();
        let now = Utc::now();
        // What to draw; areas are looked up here, to tell a cheap tile from a dear one.
        let job = match (f, registers) {
            (_, Some(r)) => Job::Registers(l, r),
            (Some(f), None) if l == Layer::Events => Job::Events(f),
            (Some(f), None) => Job::Heat(f),
            (None, None) => {
                let areas = index.areas();
                let shown = render::areas_shown(&areas, id);
                Job::Areas(areas, shown)
            }
        };
        let cheap = match &job {
            Job::Areas(areas, shown) => {
                shown
                    .iter()
                    .filter_map(|&s| areas.drawable(s))
                    .map(|d| d.outline.len())
                    .sum::<usize>()
                    <= INLINE_VERTICES
            }
            Job::Events(_) | Job::Heat(_) => index
                .events(|ix| ix.pyramid().members(id))
                .is_some_and(|n| n <= INLINE_EVENTS),
            // Below their first zoom the registers' tiles are empty; above, they are drawn
            // off the request's thread (a coverage tile looks up a place per building).
            Job::Registers(l, _) => match l {
                Layer::Buildings => id.z < render::registers::BUILDINGS_FROM_ZOOM,
                Layer::Places => id.z < render::registers::PLACES_FROM_ZOOM,
                _ => id.z < render::registers::COVERAGE_FROM_ZOOM,
            },
        };
        let draw = move || match job {
            Job::Events(f) => index.events(|ix| render::events_tile(ix, id, &f, now)),
            Job::Heat(f) => index.events(|ix| render::heat_tile(ix, id, &f, min_weight)),
            Job::Registers(l, r) => r.draw(l, id),
            Job::Areas(areas, shown) => render::areas_tile(
                &areas,
                &shown,
                |ids| {
                    index.with_counts(|c| {
                        ids.iter()
                            .map(|i| counts_view.count(&areas, *i, c.get(*i)))
                            .collect()
                    })
                },
                id,
            ),
        };
        let bytes = if cheap {
            draw()
        } else {
            tokio::task::spawn_blocking(draw).await.map_err(|_| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "tile rendering failed",
                )
            })?
        };
        let t = Arc::new(Encoded::new(bytes, Gzip::Always));
        if caching {
            render.open = false;
            state.tiles.put(key, variant, version, t.clone());
        }
        t
    };
    Ok(answer(&tile, &client))
}

/// Tiles of at most this many events (as the count pyramid has them), or of areas with at
/// most [`INLINE_VERTICES`] boundary vertices in all, are drawn on the request's own task
/// (well under 100 µs): a hop to the blocking pool and back costs about what drawing them
/// does, while a bigger tile would hold up the other requests of its worker thread.
const INLINE_EVENTS: u32 = 256;
/// See [`INLINE_EVENTS`].
const INLINE_VERTICES: usize = 2_048;

/// Whose `open`/`overdue` counts an areas tile shows exactly.
#[derive(Debug, Clone, Copy)]
enum CountsView {
    /// Every area's (a caller who may see every case).
    Exact,
    /// Those of the areas within this one (the caller's scope); the others as the public.
    Within(i64),
    /// None: every count follows the public rule (`model::privacy`).
    Public,
}

impl CountsView {
    /// The count of area `id` as this view shows it.
    fn count(self, areas: &AreaIndex, id: i64, n: AreaCount) -> AreaCount {
        match self {
            CountsView::Exact => n,
            CountsView::Within(scope) if areas.is_within(id, scope) => n,
            CountsView::Within(_) | CountsView::Public => AreaCount {
                open: privacy::suppress_u32(n.open),
                overdue: privacy::suppress_u32(n.overdue),
            },
        }
    }
}

/// A public filter: its time window widened to whole days (`model::privacy`).
fn public_filter(mut f: EventFilter) -> EventFilter {
    let widen = |us: i64, to_end: bool| {
        chrono::DateTime::from_timestamp_micros(us).map_or(us, |t| {
            if to_end {
                privacy::day_end(t).timestamp_micros()
            } else {
                privacy::day_start(t).timestamp_micros()
            }
        })
    };
    f.from = f.from.map(|us| widen(us, false));
    f.to = f.to.map(|us| widen(us, true));
    f
}

/// A tile to draw.
enum Job {
    /// Events and clusters, with the caller's filter.
    Events(EventFilter),
    /// Heat cells, with the caller's filter.
    Heat(EventFilter),
    /// Areas: the index and the slots the tile shows.
    Areas(Arc<AreaIndex>, Vec<u32>),
    /// One of the registers' layers.
    Registers(Layer, RegisterJob),
}

/// A registers tile to draw: the registers, and who for.
struct RegisterJob {
    regs: Arc<RegisterIndex>,
    /// The caller's grids (a scoped token), or every grid.
    grids: Option<Arc<GridSet>>,
    /// Whether the caller sees counts of people exactly.
    exact: bool,
    /// The coverage asked for (`coverage` only).
    query: Option<CoverageQuery>,
}

impl RegisterJob {
    fn draw(&self, l: Layer, id: TileId) -> Vec<u8> {
        let who = Audience {
            grids: self.grids.as_deref(),
            exact: self.exact,
        };
        match (l, &self.query) {
            (Layer::Buildings, _) => registers::buildings_tile(&self.regs, id, who),
            (Layer::Places, _) => registers::places_tile(&self.regs, id, who),
            (Layer::Coverage, Some(q)) => registers::coverage_tile(&self.regs, id, who, q),
            _ => Vec::new(),
        }
    }
}

/// A miss being rendered: abandoned in the cache unless it was stored.
struct Render {
    tiles: Arc<minqing_service::tilecache::TileCache>,
    key: TileKey,
    open: bool,
}

impl Drop for Render {
    fn drop(&mut self) {
        if self.open {
            self.tiles.abandon(self.key);
        }
    }
}
