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

/// Removes consecutive duplicates and a closing point equal to the first.
fn dedupe(points: &[TileCoord], ring: bool) -> Vec<TileCoord> {
    let mut out: Vec<TileCoord> = Vec::with_capacity(points.len());
    for &p in points {
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    if ring {
        while out.len() > 1 && out.first() == out.last() {
            out.pop();
        }
    }
    out
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

    fn path(&mut self, pts: &[TileCoord], close: bool) {
        self.command(MOVE_TO, 1);
        self.param(pts[0]);
        self.command(LINE_TO, pts.len() - 1);
        for &p in &pts[1..] {
            self.param(p);
        }
        if close {
            self.command(CLOSE_PATH, 1);
        }
    }

    fn ring(&mut self, ring: &[TileCoord], exterior: bool) -> bool {
        let mut r = dedupe(ring, true);
        if r.len() < 3 {
            return false;
        }
        let area = signed_area2(&r);
        if area == 0 {
            return false;
        }
        if (area > 0) != exterior {
            r.reverse();
        }
        self.path(&r, true);
        true
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

    fn line(&mut self, line: &[TileCoord]) {
        let l = dedupe(line, false);
        if l.len() >= 2 {
            self.path(&l, false);
        }
    }
}

/// Encodes a geometry into `out` (cleared first); returns its type, or `None` when nothing
/// is left after cleaning or a delta does not fit the 32-bit parameter range.
pub(crate) fn encode_geometry(geometry: &Geometry, out: &mut Vec<u32>) -> Option<GeomType> {
    out.clear();
    let mut c = Commands {
        out,
        cursor: [0, 0],
        ok: true,
    };
    let kind = match geometry {
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
    };
    (c.ok && !c.out.is_empty()).then_some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;
    use crate::mvt::{LayerBuilder, TileBuilder};

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
