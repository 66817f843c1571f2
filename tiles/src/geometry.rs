//! Feature geometry and its MVT command encoding.
//!
//! [`Geometry`] holds points, lines or polygons in tile-local integer coordinates. Encoding
//! cleans it: consecutive duplicate points are removed; lines with fewer than two distinct
//! points and rings with fewer than three distinct points or zero area are dropped (a polygon
//! whose exterior is dropped is dropped with its holes); exterior rings are written with
//! positive area by the specification's surveyor formula (clockwise on screen, `y` down) and
//! holes with negative area, reversing rings as needed. Commands are `MoveTo`/`LineTo`/
//! `ClosePath` with zigzag-encoded deltas from the cursor, as in MVT 2.1 section 4.3.

use crate::pbf;

/// A point in tile-local integer coordinates, `[x, y]` with `y` down.
pub type TileCoord = [i32; 2];

/// A feature geometry in tile-local integer coordinates. Rings may be given open or closed
/// (a repeated first point is ignored) and in either orientation.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    /// One point.
    Point(TileCoord),
    /// Several points.
    MultiPoint(Vec<TileCoord>),
    /// One line.
    LineString(Vec<TileCoord>),
    /// Several lines.
    MultiLineString(Vec<Vec<TileCoord>>),
    /// One polygon: the exterior ring, then holes.
    Polygon(Vec<Vec<TileCoord>>),
    /// Several polygons.
    MultiPolygon(Vec<Vec<Vec<TileCoord>>>),
}

/// MVT geometry type (`Feature.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeomType {
    /// 0.
    Unknown,
    /// 1.
    Point,
    /// 2.
    LineString,
    /// 3.
    Polygon,
}

impl GeomType {
    /// The wire number.
    #[must_use]
    pub fn number(self) -> u64 {
        match self {
            GeomType::Unknown => 0,
            GeomType::Point => 1,
            GeomType::LineString => 2,
            GeomType::Polygon => 3,
        }
    }

    /// From the wire number (unknown numbers map to [`GeomType::Unknown`]).
    #[must_use]
    pub fn from_number(n: u64) -> GeomType {
        match n {
            1 => GeomType::Point,
            2 => GeomType::LineString,
            3 => GeomType::Polygon,
            _ => GeomType::Unknown,
        }
    }
}

/// Twice the signed area of a ring by the MVT specification's surveyor formula, in tile
/// coordinates (`y` down): positive for exterior rings (clockwise on screen), negative for
/// holes. The ring may be open or closed.
#[must_use]
pub fn signed_area2(ring: &[TileCoord]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1])
        })
        .sum()
}

/// Twice the signed area term of the edge `a → b` (surveyor formula).
fn cross(a: TileCoord, b: TileCoord) -> i64 {
    i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1])
}

/// Polygons laid out flat, for encoding without a vector per ring: every ring's points in
/// one buffer. A ring pushed as exterior starts a polygon; the holes pushed after it belong
/// to it. Cleaned on encoding as [`Geometry::MultiPolygon`] is (see the module).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlatPolygons {
    points: Vec<TileCoord>,
    /// End of each ring in `points`, and whether it is an exterior ring.
    rings: Vec<(usize, bool)>,
}

impl FlatPolygons {
    /// No rings.
    #[must_use]
    pub fn new() -> FlatPolygons {
        FlatPolygons::default()
    }

    /// Removes every ring (keeping the buffers).
    pub fn clear(&mut self) {
        self.points.clear();
        self.rings.clear();
    }

    /// Whether there is no ring.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rings.is_empty()
    }

    /// Adds a ring whose points `fill` appends to the buffer; when `fill` returns `false`
    /// whatever it appended is removed and no ring is added. Returns what `fill` returned.
    pub fn push_ring(
        &mut self,
        exterior: bool,
        fill: impl FnOnce(&mut Vec<TileCoord>) -> bool,
    ) -> bool {
        let start = self.points.len();
        if fill(&mut self.points) {
            self.rings.push((self.points.len(), exterior));
            true
        } else {
            self.points.truncate(start);
            false
        }
    }

    /// The rings in order: points and whether exterior.
    pub fn rings(&self) -> impl Iterator<Item = (&[TileCoord], bool)> {
        let mut start = 0;
        self.rings.iter().map(move |&(end, exterior)| {
            let r = &self.points[start..end];
            start = end;
            (r, exterior)
        })
    }
}

const MOVE_TO: u32 = 1;
const LINE_TO: u32 = 2;
const CLOSE_PATH: u32 = 7;

/// Writes geometry commands into a packed `uint32` list.
struct Commands<'b> {
    out: &'b mut Vec<u32>,
    cursor: [i64; 2],
    ok: bool,
}

impl Commands<'_> {
    fn command(&mut self, id: u32, count: usize) {
        match u32::try_from(count) {
            Ok(c) if c < (1 << 29) => self.out.push(id | (c << 3)),
            _ => self.ok = false,
        }
    }

    fn param(&mut self, p: TileCoord) {
        for (v, cursor) in p.iter().zip(self.cursor.iter_mut()) {
            let d = i64::from(*v) - *cursor;
            match i32::try_from(d) {
                Ok(d) => self.out.push(pbf::zigzag32(d)),
                Err(_) => self.ok = false,
            }
            *cursor = i64::from(*v);
        }
    }

    /// Writes a ring cleaned as the module says, without copying it: a closing point equal
    /// to the first is ignored, consecutive duplicates are skipped, and the ring is walked
    /// backwards when its winding is the wrong one. `false` (nothing written) when fewer than
    /// three distinct points or zero area remain.
    fn ring(&mut self, ring: &[TileCoord], exterior: bool) -> bool {
        let Some(&first) = ring.first() else {
            return false;
        };
        let mut end = ring.len();
        while end > 1 && ring[end - 1] == first {
            end -= 1;
        }
        let ring = &ring[..end];
        let (mut n, mut area2, mut last) = (1usize, 0i64, first);
        for &p in &ring[1..] {
            if p != last {
                area2 += cross(last, p);
                n += 1;
                last = p;
            }
        }
        area2 += cross(last, first);
        if n < 3 || area2 == 0 {
            return false;
        }
        self.command(MOVE_TO, 1);
        if (area2 > 0) == exterior {
            self.distinct_path(ring.iter().copied(), n);
        } else {
            self.distinct_path(ring.iter().rev().copied(), n);
        }
        self.command(CLOSE_PATH, 1);
        true
    }

    /// The `n` distinct points of `points` (consecutive duplicates skipped) as a `MoveTo`
    /// parameter and a `LineTo`, after the caller's `MoveTo` command.
    fn distinct_path(&mut self, mut points: impl Iterator<Item = TileCoord>, n: usize) {
        let Some(mut last) = points.next() else {
            return;
        };
        self.param(last);
        self.command(LINE_TO, n - 1);
        for p in points {
            if p != last {
                self.param(p);
                last = p;
            }
        }
    }

    fn polygon(&mut self, rings: &[Vec<TileCoord>]) {
        let Some((exterior, holes)) = rings.split_first() else {
            return;
        };
        if self.ring(exterior, true) {
            for h in holes {
                self.ring(h, false);
            }
        }
    }

    fn flat(&mut self, polygons: &FlatPolygons) {
        let mut polygon_kept = false;
        for (ring, exterior) in polygons.rings() {
            if exterior {
                polygon_kept = self.ring(ring, true);
            } else if polygon_kept {
                self.ring(ring, false);
            }
        }
    }

    /// Writes a line without consecutive duplicates; nothing when fewer than two distinct
    /// points remain.
    fn line(&mut self, line: &[TileCoord]) {
        let n = line.len().min(1) + line.windows(2).filter(|w| w[0] != w[1]).count();
        if n >= 2 {
            self.command(MOVE_TO, 1);
            self.distinct_path(line.iter().copied(), n);
        }
    }
}

/// Encodes a geometry into `out` (cleared first); returns its type, or `None` when nothing
/// is left after cleaning or a delta does not fit the 32-bit parameter range.
pub(crate) fn encode_geometry(geometry: &Geometry, out: &mut Vec<u32>) -> Option<GeomType> {
    encode_with(out, |c| match geometry {
        Geometry::Point(p) => {
            c.command(MOVE_TO, 1);
            c.param(*p);
            GeomType::Point
        }
        Geometry::MultiPoint(ps) => {
            if !ps.is_empty() {
                c.command(MOVE_TO, ps.len());
                for &p in ps {
                    c.param(p);
                }
            }
            GeomType::Point
        }
        Geometry::LineString(l) => {
            c.line(l);
            GeomType::LineString
        }
        Geometry::MultiLineString(ls) => {
            for l in ls {
                c.line(l);
            }
            GeomType::LineString
        }
        Geometry::Polygon(rings) => {
            c.polygon(rings);
            GeomType::Polygon
        }
        Geometry::MultiPolygon(polys) => {
            for rings in polys {
                c.polygon(rings);
            }
            GeomType::Polygon
        }
    })
}

/// Encodes flat polygons into `out` (cleared first), as [`encode_geometry`] does.
pub(crate) fn encode_flat(polygons: &FlatPolygons, out: &mut Vec<u32>) -> Option<GeomType> {
    encode_with(out, |c| {
        c.flat(polygons);
        GeomType::Polygon
    })
}

/// Clears `out`, lets `write` put commands in it, and returns the type `write` gives unless
/// nothing was written or a delta did not fit.
fn encode_with(
    out: &mut Vec<u32>,
    write: impl FnOnce(&mut Commands<'_>) -> GeomType,
) -> Option<GeomType> {
    out.clear();
    let mut c = Commands {
        out,
        cursor: [0, 0],
        ok: true,
    };
    let kind = write(&mut c);
    (c.ok && !c.out.is_empty()).then_some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;
    use crate::mvt::{LayerBuilder, TileBuilder};

    /// Ring encoding written plainly (copy, de-duplicate, maybe reverse), to check the
    /// encoder that walks rings in place.
    fn reference_ring(
        ring: &[TileCoord],
        exterior: bool,
        out: &mut Vec<u32>,
        cursor: &mut [i64; 2],
    ) -> bool {
        let mut r: Vec<TileCoord> = Vec::new();
        for &p in ring {
            if r.last() != Some(&p) {
                r.push(p);
            }
        }
        while r.len() > 1 && r.first() == r.last() {
            r.pop();
        }
        if r.len() < 3 || signed_area2(&r) == 0 {
            return false;
        }
        if (signed_area2(&r) > 0) != exterior {
            r.reverse();
        }
        let mut c = Commands {
            out,
            cursor: *cursor,
            ok: true,
        };
        c.command(MOVE_TO, 1);
        c.param(r[0]);
        c.command(LINE_TO, r.len() - 1);
        for &p in &r[1..] {
            c.param(p);
        }
        c.command(CLOSE_PATH, 1);
        *cursor = c.cursor;
        true
    }

    #[test]
    fn flat_and_nested_polygons_encode_as_the_plain_reference() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let (mut flat_out, mut nested_out) = (Vec::new(), Vec::new());
        for _ in 0..3_000 {
            let polygons: Vec<Vec<Vec<TileCoord>>> = (0..rng.random_range(0..4))
                .map(|_| {
                    (0..rng.random_range(1..4))
                        .map(|_| {
                            let mut r: Vec<TileCoord> = (0..rng.random_range(1..9))
                                .map(|_| [rng.random_range(0..4) * 3, rng.random_range(0..4) * 3])
                                .collect();
                            if rng.random_bool(0.3) {
                                r.push(r[0]);
                            }
                            r
                        })
                        .collect()
                })
                .collect();
            let mut want = Vec::new();
            let mut cursor = [0, 0];
            for p in &polygons {
                if reference_ring(&p[0], true, &mut want, &mut cursor) {
                    for h in &p[1..] {
                        reference_ring(h, false, &mut want, &mut cursor);
                    }
                }
            }
            let want = (!want.is_empty()).then_some(want);
            let mut flat = FlatPolygons::new();
            for p in &polygons {
                for (k, r) in p.iter().enumerate() {
                    flat.push_ring(k == 0, |o| {
                        o.extend_from_slice(r);
                        true
                    });
                }
            }
            let nested = encode_geometry(&Geometry::MultiPolygon(polygons), &mut nested_out);
            let flat_kind = encode_flat(&flat, &mut flat_out);
            assert_eq!(nested.map(|_| nested_out.clone()), want);
            assert_eq!(flat_kind.map(|_| flat_out.clone()), want);
        }
    }

    #[test]
    fn winding_is_normalised_and_degenerate_rings_dropped() {
        let cw = vec![[0, 0], [10, 0], [10, 10], [0, 10]]; // positive area, y down
        let ccw: Vec<_> = cw.iter().rev().copied().collect();
        let hole_cw = vec![[2, 2], [4, 2], [4, 4], [2, 4]];
        let flat = vec![[0, 0], [5, 5], [10, 10], [0, 0]]; // zero area
        let spike = vec![[1, 1], [3, 3], [1, 1]]; // < 3 distinct points
        let mut l = LayerBuilder::new("p", 4096);
        assert!(l.add_feature(
            None,
            &Geometry::MultiPolygon(vec![
                vec![ccw.clone(), hole_cw.clone(), flat.clone(), spike.clone()],
                vec![flat.clone(), cw.clone()], // exterior degenerate: whole polygon dropped
                vec![cw.clone(), hole_cw.clone()],
            ]),
            &[],
        ));
        assert!(!l.add_feature(None, &Geometry::Polygon(vec![flat]), &[]));
        assert!(!l.add_feature(None, &Geometry::Polygon(vec![spike]), &[]));
        assert!(!l.add_feature(None, &Geometry::Polygon(vec![]), &[]));
        assert!(!l.add_feature(None, &Geometry::MultiPoint(vec![]), &[]));
        let mut t = TileBuilder::new();
        t.add_layer(l);
        let layers = decode(&t.encode()).unwrap();
        let rings = &layers[0].features[0].geometry;
        assert_eq!(rings.len(), 4);
        let signs: Vec<bool> = rings.iter().map(|r| signed_area2(r) > 0).collect();
        assert_eq!(signs, [true, false, true, false]);
        assert_eq!(layers[0].features.len(), 1);
    }

    #[test]
    fn huge_deltas_are_refused_and_empty_tile_is_empty() {
        let mut t = TileBuilder::new();
        let l = t.layer("l", 4096);
        assert!(!l.add_feature(
            None,
            &Geometry::LineString(vec![[i32::MIN, 0], [i32::MAX, 0]]),
            &[]
        ));
        assert!(t.is_empty());
        assert!(t.encode().is_empty());
        assert_eq!(signed_area2(&[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]), 32);
    }
}
