//! Vector tiles from the in-memory index, encoded in process by `minqing-tiles`.
//!
//! Seven layers: `areas` (boundaries; the level follows the zoom), `events` (single events
//! from [`EVENTS_SINGLE_FROM_ZOOM`], exact clusters below it), `heat` (density cells), from
//! the registers `buildings`, `places` and `coverage` ([`registers`]), and `patrols`, the
//! density of patrol track points, counted by PostGIS rather than the index ([`patrols`]).
//! Clusters and heat at low zooms come from per-tile counts kept by the index (its pyramid),
//! not from visiting every event; with a time window they are binned from the events.
//! Reporter contact data is not in the index, so it cannot reach a tile.

use chrono::{DateTime, Utc};
use minqing_tiles::{
    ClipBox, ClusterOptions, ClusterPoint, DEFAULT_BUFFER, DEFAULT_EXTENT, FlatPolygons, Geometry,
    HeatOptions, HeatPoint, LayerBuilder, RingClipper, SimplifyOptions, Tag, TileBuilder, TileId,
    TileProjection, Value, cluster_points, heat_bins, simplify_ring_into,
};

use minqing_index::{AreaCount, AreaIndex, BASE_ZOOM, BBox, Drawing, EventFilter, EventIndex};
use minqing_model::{Level, Status};

pub mod patrols;
pub mod registers;

/// From this zoom on, events are single points; below it, clusters.
pub const EVENTS_SINGLE_FROM_ZOOM: u8 = 14;
/// Highest zoom served.
pub const MAX_ZOOM: u8 = 20;
/// Largest tile served, in bytes (before compression): 500 KB, counted in thousands.
pub const MAX_TILE_BYTES: usize = 500_000;
/// Most areas drawn in one tile; a denser tile draws the parent level instead.
pub const MAX_AREA_FEATURES: usize = 8_000;
/// Highest zoom at which a tile may draw the parent level for density.
pub const DENSITY_FALLBACK_MAX_ZOOM: u8 = 15;
/// Cluster cell side (tile units) for dense close-in tiles: 64 × 64 cells at most.
const DENSE_CELL: u32 = 64;

/// A tile layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// Area boundaries.
    Areas,
    /// Events and clusters.
    Events,
    /// Density cells.
    Heat,
    /// Buildings of the registers (from [`registers::BUILDINGS_FROM_ZOOM`]).
    Buildings,
    /// Places of the registers: service places, risk sites, public things.
    Places,
    /// Residential buildings, covered or not by a type of service place.
    Coverage,
    /// The density of patrol track points ([`patrols`]).
    Patrols,
}

impl Layer {
    /// Every layer.
    pub const ALL: [Layer; 7] = [
        Layer::Areas,
        Layer::Events,
        Layer::Heat,
        Layer::Buildings,
        Layer::Places,
        Layer::Coverage,
        Layer::Patrols,
    ];

    /// The layer's name in URLs and in tiles.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Layer::Areas => "areas",
            Layer::Events => "events",
            Layer::Heat => "heat",
            Layer::Buildings => "buildings",
            Layer::Places => "places",
            Layer::Coverage => "coverage",
            Layer::Patrols => "patrols",
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
                (
                    "escalation",
                    "Number (0 grid, 1 community, 2 street, 3 district)",
                ),
                ("point_count", "Number (clusters)"),
                ("count_<category>", "Number (clusters, one per category)"),
            ],
            Layer::Heat => &[("weight", "Number")],
            Layer::Buildings => &[
                ("id", "Number"),
                ("kind", "String"),
                ("floors", "Number"),
                (
                    "households",
                    "Number (where the caller may see it, or at least 5)",
                ),
                ("generated", "Boolean"),
            ],
            Layer::Places => &[
                ("id", "Number"),
                ("type", "String"),
                ("class", "String (service, risk, thing)"),
                ("name", "String"),
                ("risk_level", "Number (risk sites, 1-4)"),
                ("state", "String (public things)"),
                ("generated", "Boolean"),
            ],
            Layer::Coverage => &[
                ("id", "Number (building)"),
                ("covered", "Boolean"),
                (
                    "distance_m",
                    "Number (to the nearest place of the type, when within 5 km)",
                ),
                (
                    "tagged",
                    "Number (residents with the tag; callers who see people)",
                ),
            ],
            Layer::Patrols => &[("n", "Number (track points in the cell)")],
        }
    }
}

/// The levels an areas tile at zoom `z` may draw: its own, and at zooms up to
/// [`DENSITY_FALLBACK_MAX_ZOOM`] the parent level, drawn where the own level is too dense.
#[must_use]
pub fn levels_at_zoom(z: u8) -> Vec<Level> {
    let own = level_for_zoom(z);
    let mut out = vec![own];
    if z <= DENSITY_FALLBACK_MAX_ZOOM
        && let Some(p) = parent_level(own)
    {
        out.push(p);
    }
    out
}

fn parent_level(l: Level) -> Option<Level> {
    match l {
        Level::Grid => Some(Level::Community),
        Level::Community => Some(Level::Street),
        Level::Street => Some(Level::District),
        Level::District | Level::City => None,
    }
}

/// The area level drawn at a zoom (unless the tile is too dense: see [`levels_at_zoom`]).
#[must_use]
pub fn level_for_zoom(z: u8) -> Level {
    match z {
        0..=8 => Level::District,
        9..=10 => Level::Street,
        11..=12 => Level::Community,
        _ => Level::Grid,
    }
}

pub(crate) fn buffered(tile: TileId) -> BBox {
    let b = tile.buffered_bounds(DEFAULT_EXTENT, DEFAULT_BUFFER);
    BBox {
        min_lon: b.west,
        min_lat: b.south,
        max_lon: b.east,
        max_lat: b.north,
    }
}

/// The areas an `areas` tile draws, as slots of the index: those of its zoom's level, or at
/// zooms up to [`DENSITY_FALLBACK_MAX_ZOOM`] those of the parent level when there are more
/// than [`MAX_AREA_FEATURES`].
#[must_use]
pub fn areas_shown(areas: &AreaIndex, tile: TileId) -> Vec<u32> {
    let bounds = buffered(tile);
    let levels = levels_at_zoom(tile.z);
    let mut shown = Vec::new();
    for (i, level) in levels.iter().enumerate() {
        shown = areas.touching(&bounds, *level);
        if shown.len() <= MAX_AREA_FEATURES || i + 1 == levels.len() {
            break;
        }
    }
    shown
}

/// The `areas` layer of a tile drawing the areas `shown` ([`areas_shown`]), with each area's
/// open and overdue cases as `counts` gives them for the ids (read at once, so that a lock on
/// them is held briefly).
///
/// A tile stays under [`MAX_TILE_BYTES`]. A drawing too large is redrawn on coarser snap
/// grids (crack-free: shared edges snap alike), and as a last resort without the `code` and
/// `name` strings (the id remains, for lookups).
#[must_use]
pub fn areas_tile(
    areas: &AreaIndex,
    shown: &[u32],
    counts: impl FnOnce(&[i64]) -> Vec<AreaCount>,
    tile: TileId,
) -> Vec<u8> {
    let proj = TileProjection::with_defaults(tile);
    let clip = proj.clip_box();
    let shown: Vec<Drawing<'_>> = shown.iter().filter_map(|&s| areas.drawable(s)).collect();
    let ids: Vec<i64> = shown.iter().map(|d| d.id).collect();
    let counts = counts(&ids);
    AREAS_SCRATCH.with_borrow_mut(|scratch| {
        let out =
            with_tile_builder(|mvt| draw_areas(&shown, &counts, tile, &proj, &clip, scratch, mvt));
        if scratch.allocated() > MAX_KEPT_SCRATCH_BYTES {
            *scratch = AreasScratch::default();
        }
        out
    })
}

/// Buffers an areas tile is drawn with besides its [`TileBuilder`], kept by each thread from
/// one tile to the next (see [`with_tile_builder`]).
#[derive(Default)]
struct AreasScratch {
    clipped: Clipped,
    clipper: RingClipper,
    polygons: FlatPolygons,
}

impl AreasScratch {
    /// Bytes held (at least).
    fn allocated(&self) -> usize {
        self.clipped.points.capacity() * std::mem::size_of::<[f64; 2]>()
    }
}

thread_local! {
    static AREAS_SCRATCH: std::cell::RefCell<AreasScratch> = std::cell::RefCell::default();
    static TILE_BUILDER: std::cell::RefCell<TileBuilder> = std::cell::RefCell::default();
}

/// A thread lets its tile builder or [`AreasScratch`] go once it holds more than this (after
/// a dense tile), so that the many threads of the blocking pool do not each keep megabytes.
const MAX_KEPT_SCRATCH_BYTES: usize = 1 << 20;

/// Runs `draw` with this thread's tile builder, emptied. Kept from one tile to the next, its
/// buffers stop growing (allocating and growing them afresh was about a tenth of an areas
/// tile's time). Not to be nested.
pub(crate) fn with_tile_builder<R>(draw: impl FnOnce(&mut TileBuilder) -> R) -> R {
    TILE_BUILDER.with_borrow_mut(|mvt| {
        mvt.clear();
        let out = draw(mvt);
        if mvt.allocated() > MAX_KEPT_SCRATCH_BYTES {
            *mvt = TileBuilder::new();
        } else {
            mvt.clear();
        }
        out
    })
}

/// [`areas_tile`] with the areas' drawings and counts at hand.
fn draw_areas(
    shown: &[Drawing<'_>],
    counts: &[AreaCount],
    tile: TileId,
    proj: &TileProjection,
    clip: &ClipBox,
    scratch: &mut AreasScratch,
    mvt: &mut TileBuilder,
) -> Vec<u8> {
    let AreasScratch {
        clipped,
        clipper,
        polygons,
    } = scratch;
    clipped.fill(shown, proj, clip, clipper);
    let attempts = [(1, true), (4, true), (16, true), (64, true), (64, false)];
    let mut out = Vec::new();
    let mut skip_to = 0;
    for (i, (grid, names)) in attempts.into_iter().enumerate() {
        if i < skip_to {
            continue;
        }
        mvt.clear();
        let layer = mvt.layer(Layer::Areas.name(), DEFAULT_EXTENT);
        let options = SimplifyOptions {
            grid,
            ..SimplifyOptions::default()
        };
        // Properties neighbours share, entered once per tile.
        let mut levels: [Option<Tag>; Level::ALL.len()] = [None; Level::ALL.len()];
        let mut generated: [Option<Tag>; 2] = [None; 2];
        let mut opens = NumberTags::new("open", SMALL_COUNTS);
        let mut overdues = NumberTags::new("overdue", SMALL_COUNTS);
        for ((a, count), rings) in shown.iter().zip(counts).zip(clipped.areas()) {
            polygons.clear();
            let mut kept = false;
            for (ring, exterior) in rings {
                if exterior || kept {
                    let k = polygons.push_ring(exterior, |o| simplify_ring_into(ring, options, o));
                    if exterior {
                        kept = k;
                    }
                }
            }
            if polygons.is_empty() {
                continue;
            }
            let tags = [
                opens.get(layer, count.open.into()),
                overdues.get(layer, count.overdue.into()),
                *levels[a.level as usize]
                    .get_or_insert_with(|| layer.tag("level", &Value::from(a.level.as_str()))),
                *generated[usize::from(a.generated)]
                    .get_or_insert_with(|| layer.tag("generated", &Value::from(a.generated))),
            ];
            let props = [("households", Value::from(i64::from(a.households)))];
            let labels = [("code", a.code), ("name", a.name)];
            let labels: &[(&str, &str)] = if names { &labels } else { &[] };
            let id = u64::try_from(a.id).ok();
            layer.add_flat_polygons(id, polygons, &tags, &props, labels);
        }
        out = mvt.encode();
        tracing::trace!(
            z = tile.z,
            attempt = i,
            features = shown.len(),
            bytes = out.len(),
            "areas tile drawn"
        );
        if out.len() <= MAX_TILE_BYTES {
            break;
        }
        if i == 0 {
            skip_to = after_first_attempt(out.len());
        }
    }
    out
}

/// Open and overdue counts below this are entered once per areas tile.
const SMALL_COUNTS: usize = 64;

/// One numeric property's values entered once per tile, by number, below a limit (counts,
/// ages); larger numbers are looked up each time.
struct NumberTags {
    key: String,
    limit: usize,
    tags: Vec<Option<Tag>>,
}

impl NumberTags {
    fn new(key: impl Into<String>, limit: usize) -> NumberTags {
        NumberTags {
            key: key.into(),
            limit,
            tags: Vec::new(),
        }
    }

    fn get(&mut self, layer: &mut LayerBuilder, n: u64) -> Tag {
        match usize::try_from(n) {
            Ok(i) if i < self.limit => {
                if self.tags.len() <= i {
                    self.tags.resize(i + 1, None);
                }
                *self.tags[i].get_or_insert_with(|| layer.tag(&self.key, &Value::from(n)))
            }
            _ => layer.tag(&self.key, &Value::from(n)),
        }
    }
}

/// The boundaries of a tile's areas projected and clipped once (then simplified per attempt),
/// flat: every ring's points in one buffer.
#[derive(Default)]
struct Clipped {
    points: Vec<[f64; 2]>,
    /// End of each ring in `points`, and whether it is an exterior ring (holes follow theirs).
    rings: Vec<(usize, bool)>,
    /// End of each area's rings in `rings`.
    areas: Vec<usize>,
}

impl Clipped {
    /// Projects (from the index's world coordinates) and clips every ring; a polygon whose
    /// exterior is clipped away is dropped with its holes. What was there before is dropped;
    /// the buffers are kept.
    fn fill(
        &mut self,
        shown: &[Drawing<'_>],
        proj: &TileProjection,
        clip: &ClipBox,
        clipper: &mut RingClipper,
    ) {
        let out = self;
        out.points.clear();
        out.rings.clear();
        out.areas.clear();
        out.points
            .reserve(shown.iter().map(|d| d.outline.len()).sum());
        for drawing in shown {
            let mut kept = false;
            for (exterior, ring) in drawing.outline.rings() {
                if !exterior && !kept {
                    // A hole of a polygon clipped away.
                    continue;
                }
                // Projected where it is kept, and clipped there.
                let start = out.points.len();
                out.points
                    .extend(ring.iter().map(|&p| proj.project_world(p)));
                let ring_kept = clipper.clip_tail(&mut out.points, start, clip);
                if exterior {
                    kept = ring_kept;
                }
                if ring_kept {
                    out.rings.push((out.points.len(), exterior));
                }
            }
            out.areas.push(out.rings.len());
        }
    }

    /// Each area's rings (points, whether exterior), in the order given to [`Clipped::fill`].
    fn areas(&self) -> impl Iterator<Item = impl Iterator<Item = (&[[f64; 2]], bool)>> {
        let mut first = 0;
        self.areas.iter().map(move |&end| {
            let rings = first..end;
            first = end;
            rings.map(|i| {
                let start = if i == 0 { 0 } else { self.rings[i - 1].0 };
                let (end, exterior) = self.rings[i];
                (&self.points[start..end], exterior)
            })
        })
    }
}

/// The attempt to go on with when the first drawing of an areas tile is `bytes` long and over
/// [`MAX_TILE_BYTES`]. A tile over the limit holds thousands of areas, each a few pixels wide,
/// whose names and codes are a good part of the bytes: snap grids 4 and 16 shrink such a
/// tile by about 1 % and 4 %, grid 64 by 35–50 % (measured on the 1M-grid set; BENCHMARKS.md).
/// So a tile hardly over the limit tries the finer grids, any other goes straight to grid 64,
/// sparing the encodings that could not be enough (they were a third of all areas work).
fn after_first_attempt(bytes: usize) -> usize {
    #[allow(clippy::cast_precision_loss)]
    let over = bytes as f64 / MAX_TILE_BYTES as f64;
    if over <= 1.005 {
        1
    } else if over <= 1.04 {
        2
    } else {
        3
    }
}

/// The `events` layer of a tile: single events close in, exact clusters further out.
///
/// A close-in tile whose single events would exceed [`MAX_TILE_BYTES`] (an extremely dense
/// spot) is drawn as fine clusters instead (cells of 8 px), with the same exact counts.
#[must_use]
pub fn events_tile(
    events: &EventIndex,
    tile: TileId,
    filter: &EventFilter,
    now: DateTime<Utc>,
) -> Vec<u8> {
    if tile.z >= EVENTS_SINGLE_FROM_ZOOM {
        // Singles surely over the limit (the pyramid counts the tile's own matching events,
        // each at least MIN_SINGLE_BYTES) are not drawn to be thrown away.
        let surely_over = events
            .pyramid()
            .count(tile, filter)
            .is_some_and(|n| n as usize * MIN_SINGLE_BYTES > MAX_TILE_BYTES);
        if !surely_over && let Some(out) = single_events(events, tile, filter, now) {
            return out;
        }
        return clustered_events(events, tile, filter, DENSE_CELL);
    }
    clustered_events(events, tile, filter, ClusterOptions::default().cell_size)
}

/// Fewest bytes a single event takes in a tile: feature key and length (2), id (2), tags
/// (2 + 7 pairs of one byte each), type (2), geometry (2 + `MoveTo` and two coordinates).
const MIN_SINGLE_BYTES: usize = 27;

/// Event ages (days) below this are kept by number while a tile is drawn.
const MAX_CACHED_AGE_DAYS: usize = 3_653;

fn top_category(code: &str) -> &str {
    code.split('.').next().unwrap_or(code)
}

/// The single events of a tile; `None` when they would exceed [`MAX_TILE_BYTES`] (given up
/// as soon as the features drawn so far do).
fn single_events(
    events: &EventIndex,
    tile: TileId,
    filter: &EventFilter,
    now: DateTime<Utc>,
) -> Option<Vec<u8>> {
    with_tile_builder(|mvt| draw_single_events(events, tile, filter, now, mvt))
}

/// [`single_events`] drawn with `mvt` (empty).
fn draw_single_events(
    events: &EventIndex,
    tile: TileId,
    filter: &EventFilter,
    now: DateTime<Utc>,
    mvt: &mut TileBuilder,
) -> Option<Vec<u8>> {
    const DAY_US: i64 = 86_400_000_000;
    let proj = TileProjection::with_defaults(tile).fast();
    let layer = mvt.layer(Layer::Events.name(), DEFAULT_EXTENT);
    let now_us = now.timestamp_micros();
    // Properties most events share are entered in the layer once and reused by number.
    let mut categories: Vec<Option<[Tag; 2]>> = vec![None; events.categories().len()];
    let mut statuses: [Option<Tag>; Status::ALL.len()] = [None; Status::ALL.len()];
    let mut priorities: [Option<Tag>; 256] = [None; 256];
    let mut overdues: [Option<Tag>; 2] = [None; 2];
    let mut escalations: [Option<Tag>; 256] = [None; 256];
    // Ages of up to ten years by number; older ones (or a clock far off) looked up.
    let mut ages = NumberTags::new("age_days", MAX_CACHED_AGE_DAYS);
    let mut over = false;
    events.for_each_in(&buffered(tile), filter, |slot, lon, lat, category| {
        if over {
            return;
        }
        let e = events.tile_fields(slot);
        let age_days = ((now_us - e.reported_at) / DAY_US).max(0);
        let overdue = e.status.is_open() && e.due_at.is_some_and(|d| d < now_us);
        let [top, sub] = *categories
            .get_mut(usize::from(category))
            .unwrap_or(&mut None)
            .get_or_insert_with(|| {
                [
                    layer.tag("category", &Value::from(top_category(e.category))),
                    layer.tag("subcategory", &Value::from(e.category)),
                ]
            });
        let status = *statuses[e.status as usize]
            .get_or_insert_with(|| layer.tag("status", &Value::from(e.status.as_str())));
        let priority = *priorities[usize::from(e.priority)]
            .get_or_insert_with(|| layer.tag("priority", &Value::from(i64::from(e.priority))));
        let overdue = *overdues[usize::from(overdue)]
            .get_or_insert_with(|| layer.tag("overdue", &Value::from(overdue)));
        let escalation = *escalations[usize::from(e.escalation)]
            .get_or_insert_with(|| layer.tag("escalation", &Value::from(u64::from(e.escalation))));
        let age = ages.get(layer, age_days.unsigned_abs());
        let id = u64::try_from(e.id).ok();
        layer.add_point_tagged(
            id,
            proj.project_int(lon, lat),
            &[top, sub, status, priority, age, overdue, escalation],
        );
        over = layer.bytes() > MAX_TILE_BYTES;
    });
    let out = mvt.encode();
    (!over && out.len() <= MAX_TILE_BYTES).then_some(out)
}

fn clustered_events(
    events: &EventIndex,
    tile: TileId,
    filter: &EventFilter,
    cell_size: u32,
) -> Vec<u8> {
    with_tile_builder(|mvt| draw_clustered_events(events, tile, filter, cell_size, mvt))
}

/// [`clustered_events`] drawn with `mvt` (empty).
fn draw_clustered_events(
    events: &EventIndex,
    tile: TileId,
    filter: &EventFilter,
    cell_size: u32,
    mvt: &mut TileBuilder,
) -> Vec<u8> {
    let proj = TileProjection::with_defaults(tile);
    let layer = mvt.layer(Layer::Events.name(), DEFAULT_EXTENT);
    let codes = events.categories();
    let from_pyramid = cell_size == ClusterOptions::default().cell_size
        && tile.z + 3 <= BASE_ZOOM
        && filter.inline_only();
    let clusters = if from_pyramid {
        events.pyramid().clusters(tile, DEFAULT_EXTENT, filter)
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
        let options = ClusterOptions {
            cell_size,
            ..ClusterOptions::default()
        };
        cluster_points(&proj, options, points).clusters
    };
    // Per tile: each category's `count_<top category>` key, numbered; small counts entered
    // once, by number.
    let mut top_of: Vec<Option<usize>> = vec![None; codes.len()];
    let mut tops: Vec<NumberTags> = Vec::new();
    let mut other: Option<usize> = None;
    let mut point_counts = NumberTags::new("point_count", SMALL_CLUSTER_COUNT);
    let mut per_top: Vec<(usize, u64)> = Vec::new();
    let mut tags: Vec<Tag> = Vec::new();
    for c in clusters {
        per_top.clear();
        for (cat, n) in &c.categories {
            let slot = match top_of.get_mut(*cat as usize) {
                Some(t) => t,
                None => &mut other,
            };
            let t = *slot.get_or_insert_with(|| {
                let code = codes.get(*cat as usize).map_or("other", String::as_str);
                let name = format!("count_{}", top_category(code));
                tops.iter().position(|k| k.key == name).unwrap_or_else(|| {
                    tops.push(NumberTags::new(name, SMALL_CLUSTER_COUNT));
                    tops.len() - 1
                })
            });
            match per_top.iter_mut().find(|(k, _)| *k == t) {
                Some(entry) => entry.1 += u64::from(*n),
                None => per_top.push((t, u64::from(*n))),
            }
        }
        tags.clear();
        tags.push(point_counts.get(layer, c.count.into()));
        tags.extend(per_top.iter().map(|&(t, n)| tops[t].get(layer, n)));
        layer.add_point_tagged(c.id, c.tile_coord(), &tags);
    }
    mvt.encode()
}

/// Cluster counts below this are entered once per tile.
const SMALL_CLUSTER_COUNT: usize = 256;

/// Fewest events a cell of the public (anonymous) heat layer shows.
#[allow(clippy::cast_possible_truncation)]
pub const PUBLIC_HEAT_MIN_WEIGHT: u32 = minqing_model::privacy::MIN_COUNT as u32;

/// The `heat` layer of a tile: counts of matching events per cell (64 × 64 per tile).
#[must_use]
///
/// Cells counting fewer than `min_weight` events are left out: the public heat layer uses
/// [`PUBLIC_HEAT_MIN_WEIGHT`], so that no cell points at a single report.
pub fn heat_tile(
    events: &EventIndex,
    tile: TileId,
    filter: &EventFilter,
    min_weight: u32,
) -> Vec<u8> {
    let cells = if tile.z + 6 <= BASE_ZOOM && filter.inline_only() {
        events.pyramid().heat(tile, DEFAULT_EXTENT, filter)
    } else {
        let proj = TileProjection::with_defaults(tile);
        let mut points = Vec::new();
        events.for_each_in(&buffered(tile), filter, |_, lon, lat, _| {
            points.push(HeatPoint {
                lon,
                lat,
                weight: 1.0,
            });
        });
        heat_bins(&proj, HeatOptions::default(), points).cells
    };
    with_tile_builder(|mvt| {
        let layer = mvt.layer(Layer::Heat.name(), DEFAULT_EXTENT);
        for cell in cells.into_iter().filter(|c| c.count >= min_weight) {
            layer.add_feature(
                None,
                &Geometry::Point(cell.tile_coord()),
                &[("weight", Value::from(u64::from(cell.count)))],
            );
        }
        mvt.encode()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use minqing_index::EventIndexBuilder;
    use minqing_model::{Event, Status};
    use minqing_tiles::decode;

    fn count(v: &Value) -> u64 {
        match v {
            Value::U64(n) => *n,
            Value::I64(n) => u64::try_from(*n).unwrap_or(0),
            _ => 0,
        }
    }

    #[test]
    fn a_very_dense_close_in_tile_stays_under_the_limit_with_exact_counts() {
        // 60,000 events inside one z14 tile: too many single points for 500 KB.
        let tile = TileId::containing(115.37, 22.79, 14);
        let b = tile.bounds();
        let cats: Vec<String> = vec!["hazard.fire".into(), "urban.road".into()];
        let mut builder = EventIndexBuilder::new(&cats, 60_000);
        let now = Utc::now();
        for i in 0..60_000i64 {
            let f = (i as f64 * 0.618_034).fract();
            let g = (i as f64 * 0.754_877).fract();
            builder.add(&Event {
                id: i + 1,
                category: cats[(i % 2) as usize].clone(),
                title: "路灯不亮，夜间行人看不清路面".into(),
                description: None,
                status: Status::Reported,
                priority: 2,
                grid_id: None,
                reported_at: now,
                due_at: None,
                updated_at: now,
                lon: b.west + (b.east - b.west) * (0.001 + 0.998 * f),
                lat: b.south + (b.north - b.south) * (0.001 + 0.998 * g),
                generated: true,
                escalation: 0,
                resolved_at: None,
                satisfied: None,
                worker_id: None,
                reporter_worker: None,
            });
        }
        let ix = builder.build();
        let bytes = events_tile(&ix, tile, &EventFilter::default(), now);
        assert!(bytes.len() <= MAX_TILE_BYTES, "{} bytes", bytes.len());
        let layers = decode(&bytes).unwrap_or_default();
        let total: u64 = layers[0]
            .features
            .iter()
            .flat_map(|f| f.properties.iter())
            .filter(|(k, _)| k == "point_count")
            .map(|(_, v)| count(v))
            .sum();
        assert_eq!(total, 60_000);
        // A sparse tile keeps single events.
        let sparse = TileId::containing(116.0, 23.2, 14);
        let bytes = events_tile(&ix, sparse, &EventFilter::default(), now);
        assert!(
            decode(&bytes)
                .unwrap_or_default()
                .iter()
                .all(|l| l.features.is_empty())
        );
    }
}
