//! Tiles of the registers, from memory: `buildings` (outlines where known, else points),
//! `places` (service places, risk sites and public things) and `coverage` (residential
//! buildings, covered or not by the nearest place of a type).
//!
//! No person is drawn. A building's number of households is a count of people's homes: it
//! is in the tile only for a caller who may see people in that grid, or when it is at least
//! [`MIN_REGISTER_COUNT`], like every other count of
//! the registers. The residents with a care tag (`tagged` in `coverage`) are only drawn for
//! callers who may see people, and only for tags granted to them (checked by the caller).

use minqing_index::GridSet;
use minqing_index::registers::RegisterIndex;
use minqing_model::register::{CareTag, PlaceType, ThingState};
use minqing_tiles::{DEFAULT_EXTENT, Geometry, Tag, TileId, TileProjection, Value};

use super::{Layer, MAX_TILE_BYTES, buffered, with_tile_builder};
use crate::registers::MIN_REGISTER_COUNT;

/// Buildings are drawn from this zoom on (a z14 tile is about 2.4 km wide).
pub const BUILDINGS_FROM_ZOOM: u8 = 14;
/// Places are drawn from this zoom on.
pub const PLACES_FROM_ZOOM: u8 = 12;
/// Coverage is drawn from this zoom on.
pub const COVERAGE_FROM_ZOOM: u8 = 12;
/// How far `coverage` looks for the nearest place to give its distance.
pub const NEAREST_WITHIN_M: f64 = 5_000.0;

/// Who a registers tile is drawn for.
#[derive(Debug, Clone, Copy)]
pub struct Audience<'a> {
    /// Only records in these grids (a scoped token), or every record.
    pub grids: Option<&'a GridSet>,
    /// Whether the caller may see counts of people exactly (in `grids`).
    pub exact: bool,
}

/// What a `coverage` tile shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoverageQuery {
    /// The type of place.
    pub kind: PlaceType,
    /// The distance within which a building counts as covered (ellipsoidal metres).
    pub within_m: f64,
    /// Residents with this tag are counted per building (callers who see people only).
    pub tag: Option<CareTag>,
}

/// The `buildings` layer of a tile: outlines where known (points otherwise), with kind,
/// floors and, where the audience may see it, the number of households.
#[must_use]
pub fn buildings_tile(regs: &RegisterIndex, tile: TileId, who: Audience<'_>) -> Vec<u8> {
    if tile.z < BUILDINGS_FROM_ZOOM {
        return Vec::new();
    }
    let draw = |outlines: bool| {
        with_tile_builder(|mvt| {
            let proj = TileProjection::with_defaults(tile);
            let layer = mvt.layer(Layer::Buildings.name(), DEFAULT_EXTENT);
            let mut kinds: Vec<Option<Tag>> = vec![None; 16];
            let mut generated: [Option<Tag>; 2] = [None; 2];
            let mut n = 0usize;
            regs.for_buildings_in(&buffered(tile), who.grids, |b, _, households| {
                n += 1;
                let kind = *kinds
                    .get_mut(b.kind as usize)
                    .unwrap_or(&mut None)
                    .get_or_insert_with(|| layer.tag("kind", &Value::from(b.kind.code())));
                let generated = *generated[usize::from(b.generated)]
                    .get_or_insert_with(|| layer.tag("generated", &Value::from(b.generated)));
                let shown = who.exact || households as u64 >= MIN_REGISTER_COUNT;
                let mut props: Vec<(&str, Value<'_>)> =
                    vec![("floors", Value::from(i64::from(b.floors)))];
                if shown {
                    props.push(("households", Value::from(households as u64)));
                }
                let geometry = b
                    .outline
                    .as_ref()
                    .filter(|_| outlines)
                    .and_then(|o| outline(&proj, o))
                    .unwrap_or_else(|| Geometry::Point(proj.project_int(b.lon, b.lat)));
                layer.add_feature_tagged(
                    u64::try_from(b.id).ok(),
                    &geometry,
                    &[kind, generated],
                    &props,
                );
            });
            (mvt.encode(), n)
        })
    };
    let (out, n) = draw(true);
    if n == 0 {
        return Vec::new();
    }
    // A tile of very many buildings keeps their points only.
    if out.len() > MAX_TILE_BYTES {
        return draw(false).0;
    }
    out
}

/// A building outline in tile coordinates; `None` when it collapses to fewer than three
/// distinct points (then the building is drawn as a point).
fn outline(proj: &TileProjection, p: &geo_types::Polygon<f64>) -> Option<Geometry> {
    let ring = |r: &geo_types::LineString<f64>| {
        let mut v: Vec<[i32; 2]> = Vec::with_capacity(r.0.len());
        for c in &r.0 {
            let q = proj.project_int(c.x, c.y);
            if v.last() != Some(&q) {
                v.push(q);
            }
        }
        if v.len() > 1 && v.first() == v.last() {
            v.pop();
        }
        (v.len() >= 3).then_some(v)
    };
    let mut rings = vec![ring(p.exterior())?];
    rings.extend(p.interiors().iter().filter_map(ring));
    Some(Geometry::Polygon(rings))
}

/// The `places` layer of a tile: every place as a point with its type, class, name, and a
/// risk site's level or a public thing's state.
#[must_use]
pub fn places_tile(regs: &RegisterIndex, tile: TileId, who: Audience<'_>) -> Vec<u8> {
    if tile.z < PLACES_FROM_ZOOM {
        return Vec::new();
    }
    let mut n = 0usize;
    let out = with_tile_builder(|mvt| {
        let proj = TileProjection::with_defaults(tile);
        let layer = mvt.layer(Layer::Places.name(), DEFAULT_EXTENT);
        let mut types: Vec<Option<[Tag; 2]>> = vec![None; PlaceType::ALL.len()];
        let mut generated: [Option<Tag>; 2] = [None; 2];
        regs.for_places_in(&buffered(tile), who.grids, |p, _| {
            n += 1;
            let i = PlaceType::ALL
                .iter()
                .position(|&k| k == p.kind)
                .unwrap_or(0);
            let [kind, class] = *types[i].get_or_insert_with(|| {
                [
                    layer.tag("type", &Value::from(p.kind.code())),
                    layer.tag("class", &Value::from(class_code(p.kind))),
                ]
            });
            let generated = *generated[usize::from(p.generated)]
                .get_or_insert_with(|| layer.tag("generated", &Value::from(p.generated)));
            let mut props: Vec<(&str, Value<'_>)> = vec![("name", Value::from(p.name.as_str()))];
            if let Some(l) = p.risk_level {
                props.push(("risk_level", Value::from(i64::from(l))));
            }
            if let Some(s) = p.state {
                props.push(("state", Value::from(ThingState::code(s))));
            }
            layer.add_feature_tagged(
                u64::try_from(p.id).ok(),
                &Geometry::Point(proj.project_int(p.lon, p.lat)),
                &[kind, class, generated],
                &props,
            );
        });
        mvt.encode()
    });
    if n == 0 { Vec::new() } else { out }
}

fn class_code(t: PlaceType) -> &'static str {
    use minqing_model::register::PlaceClass;
    match t.class() {
        PlaceClass::Service => "service",
        PlaceClass::Risk => "risk",
        PlaceClass::Thing => "thing",
    }
}

/// The `coverage` layer of a tile: every building with households as a point, whether a
/// place of the query's type lies within its distance, the distance to the nearest one
/// (when within [`NEAREST_WITHIN_M`]) and, for an audience that sees people, the residents
/// with the query's tag.
#[must_use]
pub fn coverage_tile(
    regs: &RegisterIndex,
    tile: TileId,
    who: Audience<'_>,
    q: &CoverageQuery,
) -> Vec<u8> {
    if tile.z < COVERAGE_FROM_ZOOM {
        return Vec::new();
    }
    let mut n = 0usize;
    let reach = q.within_m.max(NEAREST_WITHIN_M);
    let out = with_tile_builder(|mvt| {
        let proj = TileProjection::with_defaults(tile);
        let layer = mvt.layer(Layer::Coverage.name(), DEFAULT_EXTENT);
        let covered_tags = [
            layer.tag("covered", &Value::from(false)),
            layer.tag("covered", &Value::from(true)),
        ];
        regs.for_buildings_in(&buffered(tile), who.grids, |b, _, households| {
            if households == 0 {
                return;
            }
            n += 1;
            let nearest = regs.nearest_of_type(q.kind, b.lon, b.lat, reach);
            let covered = nearest.is_some_and(|d| d <= q.within_m);
            let mut props: Vec<(&str, Value<'_>)> = Vec::with_capacity(2);
            if let Some(d) = nearest {
                props.push(("distance_m", Value::from(d.round())));
            }
            if who.exact
                && let Some(tag) = q.tag
            {
                let (_, tagged) = regs.building_residents(b.id, Some(tag));
                props.push(("tagged", Value::from(tagged)));
            }
            layer.add_feature_tagged(
                u64::try_from(b.id).ok(),
                &Geometry::Point(proj.project_int(b.lon, b.lat)),
                &[covered_tags[usize::from(covered)]],
                &props,
            );
        });
        mvt.encode()
    });
    if n == 0 { Vec::new() } else { out }
}
