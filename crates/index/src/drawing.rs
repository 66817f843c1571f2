//! What a tile draws of each area, laid out flat in slot order: the boundary, every vertex
//! in 32-bit Web-Mercator world coordinates ([`minqing_tiles::world_u32`]), and the code and
//! name labels, with the few facts a tile shows (id, households, level, kind).
//!
//! A tile draws a handful of neighbouring areas out of thousands, at random: what costs is
//! reaching their data in memory, not projecting or encoding it. Geometry kept as nested
//! vectors (polygons, rings, coordinates) and labels kept as strings of their own cost a
//! chain of cache misses per area (measured: the labels alone were a fifth of an areas
//! tile). Here an area's rings, vertices and labels are short runs, neighbours (slots follow
//! ids, which follow codes) lie next to each other, and projecting a vertex is two
//! multiply-adds; an areas tile touches no [`Area`] at all. 8 bytes a vertex, 4 a ring, the
//! labels' bytes and 24 more an area (at 1M grids: about the 115 MB of Mercator `y` kept
//! before, plus 69 MB of labels and facts).

use minqing_tiles::world_u32;

use minqing_model::{Area, Level};

/// Flag of an exterior ring's end in `Drawings::rings`.
const EXTERIOR: u32 = 1 << 31;

/// Every area's boundary and labels, flat. Limited to 2^31 vertices (16 GiB of them) and
/// 4 GiB of labels in all.
#[derive(Default)]
pub struct Drawings {
    /// Every vertex, in world coordinates: slot after slot, polygon after polygon, exterior
    /// ring then holes, each ring with its closing point.
    points: Vec<[u32; 2]>,
    /// End of each ring in `points`, with [`EXTERIOR`] set for an exterior ring.
    rings: Vec<u32>,
    /// Where each slot's rings start in `rings` (one more entry than slots).
    first_ring: Vec<u32>,
    /// Every slot's code then name.
    labels: String,
    /// End of each slot's code and of its name in `labels`.
    label_ends: Vec<[u32; 2]>,
    /// Each slot's id, households, level and kind.
    facts: Vec<(i64, i32, Level, bool)>,
}

/// What a tile draws of one area ([`crate::AreaIndex::drawable`]).
#[derive(Clone, Copy)]
pub struct Drawing<'a> {
    /// The boundary.
    pub outline: Outline<'a>,
    /// The area's code.
    pub code: &'a str,
    /// The area's name.
    pub name: &'a str,
    /// The area's id.
    pub id: i64,
    /// Households living in the area.
    pub households: i32,
    /// The area's level.
    pub level: Level,
    /// Whether the area is generated.
    pub generated: bool,
}

/// One area's boundary.
#[derive(Clone, Copy)]
pub struct Outline<'a> {
    points: &'a [[u32; 2]],
    rings: &'a [u32],
    /// Index in `Drawings::points` of `points[0]`.
    base: u32,
}

impl Drawings {
    /// Lays out the areas, one slot each, in order.
    pub fn new(areas: &[Area]) -> Drawings {
        let mut out = Drawings {
            first_ring: Vec::with_capacity(areas.len() + 1),
            label_ends: Vec::with_capacity(areas.len()),
            facts: areas
                .iter()
                .map(|a| (a.id, a.households, a.level, a.generated))
                .collect(),
            labels: String::with_capacity(areas.iter().map(|a| a.code.len() + a.name.len()).sum()),
            ..Drawings::default()
        };
        for a in areas {
            out.labels.push_str(&a.code);
            let code_end = index32(out.labels.len());
            out.labels.push_str(&a.name);
            out.label_ends.push([code_end, index32(out.labels.len())]);
            out.first_ring.push(index32(out.rings.len()));
            for p in &a.geom.0 {
                for (k, r) in std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .enumerate()
                {
                    out.points.extend(r.0.iter().map(|c| world_u32(c.x, c.y)));
                    let flag = if k == 0 { EXTERIOR } else { 0 };
                    out.rings
                        .push(index32(out.points.len()).min(EXTERIOR - 1) | flag);
                }
            }
        }
        out.first_ring.push(index32(out.rings.len()));
        out.points.shrink_to_fit();
        out.rings.shrink_to_fit();
        out
    }

    /// What a tile draws of the area in a slot.
    #[must_use]
    pub fn get(&self, slot: usize) -> Option<Drawing<'_>> {
        let start = match slot.checked_sub(1) {
            Some(prev) => self.label_ends.get(prev)?[1] as usize,
            None => 0,
        };
        let [code_end, name_end] = *self.label_ends.get(slot)?;
        let (id, households, level, generated) = *self.facts.get(slot)?;
        Some(Drawing {
            id,
            households,
            level,
            generated,
            outline: self.outline(slot)?,
            code: self.labels.get(start..code_end as usize)?,
            name: self.labels.get(code_end as usize..name_end as usize)?,
        })
    }

    fn outline(&self, slot: usize) -> Option<Outline<'_>> {
        let (first, last) = (
            *self.first_ring.get(slot)? as usize,
            *self.first_ring.get(slot + 1)? as usize,
        );
        let rings = self.rings.get(first..last)?;
        let base = if first == 0 {
            0
        } else {
            self.rings[first - 1] & !EXTERIOR
        };
        let end = rings.last().map_or(base, |r| r & !EXTERIOR);
        Some(Outline {
            points: self.points.get(base as usize..end as usize)?,
            rings,
            base,
        })
    }
}

/// A position in one of the flat arrays, as stored (saturating: see [`Drawings`]' limits).
fn index32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'a> Outline<'a> {
    /// Number of vertices.
    #[must_use]
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True for an area without vertices.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The rings, in order: whether each is an exterior ring (a polygon's first; its holes
    /// follow it), and its vertices with the closing point.
    pub fn rings(&self) -> impl Iterator<Item = (bool, &'a [[u32; 2]])> + 'a {
        let (points, base) = (self.points, self.base);
        let mut start = 0;
        self.rings.iter().map(move |&r| {
            let end = ((r & !EXTERIOR) - base) as usize;
            let ring = &points[start.min(end)..end];
            start = end;
            (r & EXTERIOR != 0, ring)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{LineString, MultiPolygon, Polygon};

    fn square(x: f64, y: f64, d: f64) -> LineString<f64> {
        LineString::from(vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)])
    }

    fn area(code: &str, name: &str, geom: MultiPolygon<f64>) -> Area {
        Area::for_tests(1, code, name, Level::Grid, None, geom)
    }

    #[test]
    fn drawings_give_back_every_ring_in_order_with_its_kind_and_the_labels() {
        let a = MultiPolygon(vec![
            Polygon::new(square(0.0, 0.0, 1.0), vec![square(0.2, 0.2, 0.1)]),
            Polygon::new(square(5.0, 5.0, 1.0), vec![]),
        ]);
        let empty = MultiPolygon::<f64>(vec![]);
        let b = MultiPolygon(vec![Polygon::new(square(-3.0, 2.0, 0.5), vec![])]);
        let areas = [
            area("4415", "城区", a.clone()),
            area("", "", empty.clone()),
            area("441502001", "香洲街道", b.clone()),
        ];
        let d = Drawings::new(&areas);
        let check = |slot: usize, g: &MultiPolygon<f64>| {
            let got: Vec<(bool, Vec<[u32; 2]>)> = d
                .get(slot)
                .unwrap()
                .outline
                .rings()
                .map(|(e, r)| (e, r.to_vec()))
                .collect();
            let want: Vec<(bool, Vec<[u32; 2]>)> =
                g.0.iter()
                    .flat_map(|p| {
                        std::iter::once((true, p.exterior()))
                            .chain(p.interiors().iter().map(|h| (false, h)))
                    })
                    .map(|(e, r)| (e, r.0.iter().map(|c| world_u32(c.x, c.y)).collect()))
                    .collect();
            assert_eq!(got, want, "slot {slot}");
            let got = d.get(slot).unwrap();
            assert_eq!(
                (got.code, got.name),
                (&*areas[slot].code, &*areas[slot].name)
            );
            assert_eq!((got.id, got.level), (areas[slot].id, areas[slot].level));
        };
        check(0, &a);
        check(1, &empty);
        check(2, &b);
        assert_eq!(d.get(0).unwrap().outline.len(), 15);
        assert!(d.get(1).unwrap().outline.is_empty());
        assert!(d.get(3).is_none());
    }
}
