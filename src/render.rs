//! Vector tiles from the in-memory index, encoded in process by `minqing-tiles`.
//!
//! Three layers: `areas` (boundaries; the level follows the zoom), `events` (single events
//! from [`EVENTS_SINGLE_FROM_ZOOM`], exact clusters below it) and `heat` (density cells).
//! Reporter contact data is not in the index, so it cannot reach a tile.

use chrono::{DateTime, Utc};
use minqing_tiles::{
    ClusterOptions, ClusterPoint, DEFAULT_BUFFER, DEFAULT_EXTENT, Geometry, HeatOptions, HeatPoint,
    SimplifyOptions, TileBuilder, TileId, TileProjection, Value, clip_polygon, cluster_points,
    heat_bins, simplify_polygon,
};

use crate::index::{AreaCount, AreaIndex, BBox, EventFilter, EventIndex};
use crate::model::{Area, Level};

/// From this zoom on, events are single points; below it, clusters.
pub const EVENTS_SINGLE_FROM_ZOOM: u8 = 14;
/// Highest zoom served.
pub const MAX_ZOOM: u8 = 20;

/// A tile layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// Area boundaries.
    Areas,
    /// Events and clusters.
    Events,
    /// Density cells.
    Heat,
}

impl Layer {
    /// Every layer.
    pub const ALL: [Layer; 3] = [Layer::Areas, Layer::Events, Layer::Heat];

    /// The layer's name in URLs and in tiles.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Layer::Areas => "areas",
            Layer::Events => "events",
            Layer::Heat => "heat",
        }
    }

    /// Parses a layer name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Layer> {
        Layer::ALL.into_iter().find(|l| l.name() == s)
    }

    /// Field names and types, as TileJSON's `vector_layers` lists them.
    #[must_use]
    pub fn fields(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Layer::Areas => &[
                ("id", "Number"),
                ("code", "String"),
                ("name", "String"),
                ("level", "String"),
                ("households", "Number"),
                ("open", "Number"),
                ("overdue", "Number"),
                ("generated", "Boolean"),
            ],
            Layer::Events => &[
                ("id", "Number"),
                ("category", "String"),
                ("subcategory", "String"),
                ("status", "String"),
                ("priority", "Number"),
                ("age_days", "Number"),
                ("overdue", "Boolean"),
                ("point_count", "Number (clusters)"),
                ("count_<category>", "Number (clusters, one per category)"),
            ],
            Layer::Heat => &[("weight", "Number")],
        }
    }
}

/// The area level drawn at a zoom.
#[must_use]
pub fn level_for_zoom(z: u8) -> Level {
    match z {
        0..=8 => Level::District,
        9..=10 => Level::Street,
        11..=12 => Level::Community,
        _ => Level::Grid,
    }
}

fn buffered(tile: TileId) -> BBox {
    let b = tile.buffered_bounds(DEFAULT_EXTENT, DEFAULT_BUFFER);
    BBox {
        min_lon: b.west,
        min_lat: b.south,
        max_lon: b.east,
        max_lat: b.north,
    }
}

/// The `areas` layer of a tile, with each area's open and overdue cases as `counts` gives
/// them for the ids (read at once, so that a lock on them is held briefly).
#[must_use]
pub fn areas_tile(
    areas: &AreaIndex,
    counts: impl FnOnce(&[i64]) -> Vec<AreaCount>,
    tile: TileId,
) -> Vec<u8> {
    let proj = TileProjection::with_defaults(tile);
    let clip = proj.clip_box();
    let mut mvt = TileBuilder::new();
    let layer = mvt.layer(Layer::Areas.name(), DEFAULT_EXTENT);
    let shown: Vec<&Area> = areas
        .touching(&buffered(tile), level_for_zoom(tile.z))
        .collect();
    let ids: Vec<i64> = shown.iter().map(|a| a.id).collect();
    let counts = counts(&ids);
    for (a, count) in shown.into_iter().zip(counts) {
        let polygons: Vec<Vec<Vec<[i32; 2]>>> = a
            .geom
            .0
            .iter()
            .filter_map(|p| {
                let rings: Vec<Vec<[f64; 2]>> = std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(|r| r.0.iter().map(|c| proj.project(c.x, c.y)).collect())
                    .collect();
                simplify_polygon(&clip_polygon(&rings, &clip), SimplifyOptions::default())
            })
            .collect();
        if polygons.is_empty() {
            continue;
        }
        let props = [
            ("code", Value::from(a.code.as_str())),
            ("name", Value::from(a.name.as_str())),
            ("level", Value::from(a.level.as_str())),
            ("households", Value::from(i64::from(a.households))),
            ("open", Value::from(u64::from(count.open))),
            ("overdue", Value::from(u64::from(count.overdue))),
            ("generated", Value::from(a.generated)),
        ];
        let id = u64::try_from(a.id).ok();
        layer.add_feature(id, &Geometry::MultiPolygon(polygons), &props);
    }
    mvt.encode()
}

/// The `events` layer of a tile: single events close in, exact clusters further out.
#[must_use]
pub fn events_tile(
    events: &EventIndex,
    tile: TileId,
    filter: &EventFilter,
    now: DateTime<Utc>,
) -> Vec<u8> {
    let proj = TileProjection::with_defaults(tile);
    let mut mvt = TileBuilder::new();
    let layer = mvt.layer(Layer::Events.name(), DEFAULT_EXTENT);
    let codes = events.categories();
    let top = |code: &str| code.split('.').next().unwrap_or(code).to_owned();
    if tile.z >= EVENTS_SINGLE_FROM_ZOOM {
        events.for_each_in(&buffered(tile), filter, |slot, lon, lat, _| {
            let e = events.event(slot);
            let age_days = (now - e.reported_at).num_days().max(0);
            let overdue = e.status.is_open() && e.due_at.is_some_and(|d| d < now);
            let props = [
                ("category", Value::from(top(&e.category))),
                ("subcategory", Value::from(e.category.as_str())),
                ("status", Value::from(e.status.as_str())),
                ("priority", Value::from(i64::from(e.priority))),
                ("age_days", Value::from(age_days)),
                ("overdue", Value::from(overdue)),
            ];
            let id = u64::try_from(e.id).ok();
            layer.add_feature(id, &Geometry::Point(proj.project_int(lon, lat)), &props);
        });
    } else {
        let mut points = Vec::new();
        events.for_each_in(&buffered(tile), filter, |slot, lon, lat, category| {
            points.push(ClusterPoint {
                lon,
                lat,
                id: u64::try_from(events.event_id(slot)).unwrap_or(0),
                category,
                weight: 1.0,
            });
        });
        let clusters = cluster_points(&proj, ClusterOptions::default(), points);
        for c in clusters.clusters {
            let mut per_top: Vec<(String, u64)> = Vec::new();
            for (cat, n) in &c.categories {
                let name = format!(
                    "count_{}",
                    top(codes.get(*cat as usize).map_or("other", String::as_str))
                );
                match per_top.iter_mut().find(|(k, _)| *k == name) {
                    Some(entry) => entry.1 += u64::from(*n),
                    None => per_top.push((name, u64::from(*n))),
                }
            }
            let mut props: Vec<(&str, Value)> =
                vec![("point_count", Value::from(u64::from(c.count)))];
            props.extend(per_top.iter().map(|(k, n)| (k.as_str(), Value::from(*n))));
            layer.add_feature(c.id, &Geometry::Point(c.tile_coord()), &props);
        }
    }
    mvt.encode()
}

/// The `heat` layer of a tile: counts of matching events per cell.
#[must_use]
pub fn heat_tile(events: &EventIndex, tile: TileId, filter: &EventFilter) -> Vec<u8> {
    let proj = TileProjection::with_defaults(tile);
    let mut points = Vec::new();
    events.for_each_in(&buffered(tile), filter, |_, lon, lat, _| {
        points.push(HeatPoint {
            lon,
            lat,
            weight: 1.0,
        });
    });
    let heat = heat_bins(&proj, HeatOptions::default(), points);
    let mut mvt = TileBuilder::new();
    let layer = mvt.layer(Layer::Heat.name(), DEFAULT_EXTENT);
    for cell in heat.cells {
        layer.add_feature(
            None,
            &Geometry::Point(cell.tile_coord()),
            &[("weight", Value::from(u64::from(cell.count)))],
        );
    }
    mvt.encode()
}
