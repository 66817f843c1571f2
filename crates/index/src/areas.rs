//! The area index: every current area, grids in an R-tree for point-in-grid.
//!
//! **Boundary rule.** A point covered by several grids (on a shared edge or vertex) belongs
//! to the covering grid with the smallest id. Coverage is decided by [`super::pip`], which
//! reproduces PostGIS's `ST_Covers`, so the chosen grid is always one PostGIS also returns,
//! and the same one every time.
//!
//! The index is immutable once built; a boundary change builds a new one and swaps it in.

use geo::{BoundingRect, Intersects};
use geo_types::Coord;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use super::drawing::{Drawing, Drawings};
use super::gridcells::GridCells;
use super::pip;
use minqing_model::{Area, BBox, Level};

type BoxEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// The R-tree envelope of a box.
fn aabb(b: &BBox) -> AABB<[f64; 2]> {
    AABB::from_corners([b.min_lon, b.min_lat], [b.max_lon, b.max_lat])
}

/// The grids of an area's subtree (a caller's scope), and the area's box.
#[derive(Debug)]
pub struct GridSet {
    /// The area.
    pub area_id: i64,
    /// Sorted grid ids of its subtree.
    pub grids: Vec<i64>,
    /// Box around the area.
    pub bbox: BBox,
}

impl GridSet {
    /// No grid at all (a caller who may see no event).
    #[must_use]
    pub fn empty() -> GridSet {
        GridSet {
            area_id: 0,
            grids: Vec::new(),
            bbox: BBox {
                min_lon: f64::INFINITY,
                min_lat: f64::INFINITY,
                max_lon: f64::NEG_INFINITY,
                max_lat: f64::NEG_INFINITY,
            },
        }
    }

    /// Whether a grid is in the subtree.
    #[must_use]
    pub fn has_grid(&self, grid: Option<i64>) -> bool {
        grid.is_some_and(|g| self.grids.binary_search(&g).is_ok())
    }
}

/// Filters of an area listing.
#[derive(Debug, Clone, Copy, Default)]
pub struct AreaFilter {
    /// Only this level.
    pub level: Option<Level>,
    /// Only children of this area.
    pub parent: Option<i64>,
    /// Only areas intersecting this box.
    pub bbox: Option<BBox>,
}

/// Every current area, in id order; grids in a uniform cell grid (`gridcells`), the
/// areas above them (a few thousand) in an R-tree.
pub struct AreaIndex {
    areas: Vec<Area>,
    grids: GridCells,
    /// Areas above grid level (tiles far out need not wade through grids).
    upper: RTree<BoxEntry>,
    /// Slots in code order (lookups by code).
    by_code: Vec<u32>,
    /// Boxes of the areas above grid level, by slot (grids' boxes are in `grids`).
    upper_boxes: Vec<(u32, BBox)>,
    /// What tiles draw of each area, laid out flat, by slot.
    drawings: Drawings,
    /// Slot of each slot's parent ([`NO_SLOT`] for a root or a missing parent).
    parents: Vec<u32>,
    /// Distinct for every index built in this process (see [`AreaIndex::generation`]).
    generation: u64,
}

/// No slot: the parent of a root.
const NO_SLOT: u32 = u32::MAX;

/// The generation of the next area index built.
static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn entry(a: &Area, slot: usize) -> Option<BoxEntry> {
    let r = a.geom.bounding_rect()?;
    Some(GeomWithData::new(
        Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
        u32::try_from(slot).ok()?,
    ))
}

impl AreaIndex {
    /// Builds the index (bulk-loaded R-trees).
    #[must_use]
    pub fn new(mut areas: Vec<Area>) -> AreaIndex {
        areas.sort_by_key(|a| a.id);
        let upper: Vec<BoxEntry> = areas
            .iter()
            .enumerate()
            .filter(|(_, a)| a.level != Level::Grid)
            .filter_map(|(i, a)| entry(a, i))
            .collect();
        let boxes: Vec<Option<BBox>> = areas
            .iter()
            .map(|a| (a.level == Level::Grid).then(|| BBox::of(&a.geom)))
            .collect();
        let mut by_code: Vec<u32> = (0..u32::try_from(areas.len()).unwrap_or(u32::MAX)).collect();
        by_code.sort_unstable_by(|x, y| areas[*x as usize].code.cmp(&areas[*y as usize].code));
        let upper_boxes: Vec<(u32, BBox)> = areas
            .iter()
            .enumerate()
            .filter(|(_, a)| a.level != Level::Grid)
            .filter_map(|(i, a)| Some((u32::try_from(i).ok()?, BBox::of(&a.geom))))
            .collect();
        let parents = areas
            .iter()
            .map(|a| {
                a.parent_id
                    .and_then(|p| areas.binary_search_by_key(&p, |a| a.id).ok())
                    .and_then(|s| u32::try_from(s).ok())
                    .unwrap_or(NO_SLOT)
            })
            .collect();
        AreaIndex {
            generation: GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            parents,
            drawings: Drawings::new(&areas),
            upper_boxes,
            grids: GridCells::new(&boxes),
            upper: RTree::bulk_load(upper),
            by_code,
            areas,
        }
    }

    /// A number no other area index of this process has: what was derived from one index
    /// (a caller's grid set) is current exactly while the generation is the same. (An
    /// address is not such a number: a dropped index's memory is handed out again.)
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Bytes held by the grids' point lookup: (cells, sub-cells).
    #[must_use]
    pub fn lookup_bytes(&self) -> (usize, usize) {
        self.grids.heap_bytes()
    }

    /// Number of areas.
    #[must_use]
    pub fn len(&self) -> usize {
        self.areas.len()
    }

    /// True when there are no areas.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// Number of grids.
    #[must_use]
    pub fn grid_count(&self) -> usize {
        self.grids.len()
    }

    /// All areas in id order.
    #[must_use]
    pub fn all(&self) -> &[Area] {
        &self.areas
    }

    /// The area with this id.
    #[must_use]
    pub fn get(&self, id: i64) -> Option<&Area> {
        self.areas
            .binary_search_by_key(&id, |a| a.id)
            .ok()
            .map(|i| &self.areas[i])
    }

    /// The bounding box of an area (for a grid, rounded outwards to `f32`), kept from the
    /// build: no walk over its vertices.
    #[must_use]
    pub fn bbox(&self, id: i64) -> Option<BBox> {
        let slot = u32::try_from(self.areas.binary_search_by_key(&id, |a| a.id).ok()?).ok()?;
        match self.upper_boxes.binary_search_by_key(&slot, |(s, _)| *s) {
            Ok(i) => Some(self.upper_boxes[i].1),
            Err(_) => self.grids.bbox(slot),
        }
    }

    /// The current area with this code.
    #[must_use]
    pub fn by_code(&self, code: &str) -> Option<&Area> {
        let i = self
            .by_code
            .binary_search_by(|s| self.areas[*s as usize].code.as_str().cmp(code))
            .ok()?;
        Some(&self.areas[self.by_code[i] as usize])
    }

    /// The slot of an area: its place in [`AreaIndex::all`].
    #[must_use]
    pub fn slot_of(&self, id: i64) -> Option<usize> {
        self.areas.binary_search_by_key(&id, |a| a.id).ok()
    }

    /// The slot of an area's parent, by the area's slot.
    #[must_use]
    pub fn parent_slot(&self, slot: usize) -> Option<usize> {
        self.parents
            .get(slot)
            .filter(|&&p| p != NO_SLOT)
            .map(|&p| p as usize)
    }

    /// The slot of an area.
    fn slot(&self, id: i64) -> Option<u32> {
        u32::try_from(self.areas.binary_search_by_key(&id, |a| a.id).ok()?).ok()
    }

    /// Whether slot `slot` is slot `ancestor` or lies below it.
    fn slot_within(&self, mut slot: u32, ancestor: u32) -> bool {
        // The hierarchy has five levels; the bound guards against a cycle in bad data.
        for _ in 0..8 {
            if slot == ancestor {
                return true;
            }
            match self.parents.get(slot as usize) {
                Some(&p) if p != NO_SLOT => slot = p,
                _ => return false,
            }
        }
        false
    }

    /// Whether `area` is `ancestor` or lies below it.
    #[must_use]
    pub fn is_within(&self, area: i64, ancestor: i64) -> bool {
        match (self.slot(area), self.slot(ancestor)) {
            (Some(a), Some(b)) => self.slot_within(a, b),
            _ => false,
        }
    }

    /// Sorted ids of the grids in an area's subtree (the area itself, if it is a grid).
    #[must_use]
    pub fn grids_under(&self, area: i64) -> Vec<i64> {
        let (Some(slot), Some(b)) = (self.slot(area), self.bbox(area)) else {
            return Vec::new();
        };
        // Slots ascend with ids.
        self.grids
            .intersecting(&b)
            .into_iter()
            .filter(|&s| self.slot_within(s, slot))
            .map(|s| self.areas[s as usize].id)
            .collect()
    }

    /// The grid covering a point (smallest id among covering grids), if any.
    #[must_use]
    pub fn locate(&self, lon: f64, lat: f64) -> Option<&Area> {
        let q = Coord { x: lon, y: lat };
        // Candidates come in id order: the first that covers the point is the answer.
        self.grids
            .candidates(lon, lat)
            .map(|s| &self.areas[s as usize])
            .find(|a| pip::covers(&a.geom, q))
    }

    /// Parent, grandparent, … of an area, nearest first.
    #[must_use]
    pub fn ancestors(&self, area: &Area) -> Vec<&Area> {
        let mut out = Vec::new();
        let mut next = area.parent_id;
        while let Some(id) = next {
            let Some(p) = self.get(id) else { break };
            if out.len() > Level::ALL.len() {
                break; // a cycle in bad data must not hang a request
            }
            out.push(p);
            next = p.parent_id;
        }
        out
    }

    /// Slots of every area of `level` whose bounding box meets the box (for tiles: the
    /// caller clips), for [`AreaIndex::drawable`].
    #[must_use]
    pub fn touching(&self, b: &BBox, level: Level) -> Vec<u32> {
        let mut slots: Vec<u32> = if level == Level::Grid {
            self.grids.intersecting(b)
        } else {
            self.upper
                .locate_in_envelope_intersecting(&aabb(b))
                .map(|e| e.data)
                .collect()
        };
        if level != Level::Grid {
            // The cell grid holds grids only; the R-tree every other level.
            slots.retain(|&s| self.areas[s as usize].level == level);
        }
        slots
    }

    /// What a tile draws of the area in a slot [`AreaIndex::touching`] gave: boundary,
    /// labels and facts, laid out flat.
    #[must_use]
    pub fn drawable(&self, slot: u32) -> Option<Drawing<'_>> {
        self.drawings.get(slot as usize)
    }

    /// Up to `limit` areas matching `filter` with id greater than `after`, in id order.
    #[must_use]
    pub fn list(&self, filter: &AreaFilter, after: Option<i64>, limit: usize) -> Vec<&Area> {
        let keep = |a: &Area| {
            filter.level.is_none_or(|l| a.level == l)
                && filter.parent.is_none_or(|p| a.parent_id == Some(p))
        };
        if let Some(b) = filter.bbox {
            let rect = b.rect();
            let grids = if filter.level.is_none_or(|l| l == Level::Grid) {
                self.grids.intersecting(&b)
            } else {
                Vec::new()
            };
            let upper = self
                .upper
                .locate_in_envelope_intersecting(&aabb(&b))
                .map(|e| e.data);
            let mut found: Vec<&Area> = grids
                .into_iter()
                .chain(upper)
                .map(|s| &self.areas[s as usize])
                .filter(|a| after.is_none_or(|x| a.id > x) && keep(a))
                .filter(|a| a.geom.intersects(&rect))
                .collect();
            found.sort_by_key(|a| a.id);
            found.truncate(limit);
            found
        } else {
            let start = after.map_or(0, |x| self.areas.partition_point(|a| a.id <= x));
            self.areas[start..]
                .iter()
                .filter(|a| keep(a))
                .take(limit)
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{LineString, MultiPolygon, Polygon};

    fn square(id: i64, x0: f64, level: Level, parent: Option<i64>) -> Area {
        let ring = LineString::from(vec![
            (x0, 0.0),
            (x0 + 1.0, 0.0),
            (x0 + 1.0, 1.0),
            (x0, 1.0),
            (x0, 0.0),
        ]);
        Area {
            id,
            code: id.to_string(),
            name: format!("网格{id}"),
            name_en: None,
            level,
            parent_id: parent,
            households: 300,
            population: 900,
            workers: vec![],
            generated: true,
            source: "test".into(),
            version: 1,
            geom: MultiPolygon(vec![Polygon::new(ring, vec![])]),
        }
    }

    fn index() -> AreaIndex {
        let mut parent = square(1, 0.0, Level::Community, None);
        parent.geom = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![
                (0.0, 0.0),
                (2.0, 0.0),
                (2.0, 1.0),
                (0.0, 1.0),
                (0.0, 0.0),
            ]),
            vec![],
        )]);
        AreaIndex::new(vec![
            square(7, 1.0, Level::Grid, Some(1)),
            square(3, 0.0, Level::Grid, Some(1)),
            parent,
        ])
    }

    #[test]
    fn shared_edges_go_to_the_smallest_id() {
        let ix = index();
        assert_eq!(ix.locate(0.5, 0.5).unwrap().id, 3);
        assert_eq!(ix.locate(1.5, 0.5).unwrap().id, 7);
        assert_eq!(ix.locate(1.0, 0.5).unwrap().id, 3, "shared edge");
        assert_eq!(ix.locate(1.0, 1.0).unwrap().id, 3, "shared vertex");
        assert_eq!(ix.locate(2.0, 0.5).unwrap().id, 7, "outer edge");
        assert!(ix.locate(2.0001, 0.5).is_none());
    }

    #[test]
    fn ancestors_and_listing() {
        let ix = index();
        // Kept boxes hold each area's exact box (grids' are rounded outwards).
        for a in ix.all() {
            let kept = ix.bbox(a.id).unwrap();
            let exact = BBox::of(&a.geom);
            assert!(kept.min_lon <= exact.min_lon && kept.max_lon >= exact.max_lon);
            assert!(kept.min_lat <= exact.min_lat && kept.max_lat >= exact.max_lat);
        }
        assert!(ix.bbox(999).is_none());
        assert_eq!(ix.by_code(&ix.get(7).unwrap().code).map(|a| a.id), Some(7));
        let g = ix.get(7).unwrap();
        assert_eq!(
            ix.ancestors(g).iter().map(|a| a.id).collect::<Vec<_>>(),
            [1]
        );
        let grids = AreaFilter {
            level: Some(Level::Grid),
            ..AreaFilter::default()
        };
        let ids = |v: Vec<&Area>| v.iter().map(|a| a.id).collect::<Vec<_>>();
        assert_eq!(ids(ix.list(&grids, None, 10)), [3, 7]);
        assert_eq!(ids(ix.list(&grids, Some(3), 10)), [7]);
        let east = AreaFilter {
            bbox: Some(BBox {
                min_lon: 1.5,
                min_lat: 0.2,
                max_lon: 1.7,
                max_lat: 0.4,
            }),
            ..AreaFilter::default()
        };
        assert_eq!(ids(ix.list(&east, None, 10)), [1, 7]);
    }
}
