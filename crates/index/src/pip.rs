//! Point in polygon with PostGIS's own boundary rule.
//!
//! `ST_Covers(polygon, point)` in PostGIS 3 short-circuits to a winding-number test over the
//! ring edges (`lwgeom_itree.c`): an edge whose side test for the point is exactly zero and
//! whose bounding box holds the point puts the point **on the boundary** (covered); otherwise
//! upward edges with the point on their left and downward edges with the point on their
//! right are counted. This module evaluates the same expressions in the same order, so the
//! index and PostGIS agree bit for bit, including for points on shared edges and vertices.

use geo_types::{Coord, LineString, MultiPolygon, Polygon};

/// Where a point lies relative to an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// In the interior.
    Inside,
    /// On an edge or a vertex.
    Boundary,
    /// Not covered.
    Outside,
}

/// `lw_segment_side`: the sign of the cross product, evaluated as PostGIS does.
#[inline]
fn side(p1: Coord<f64>, p2: Coord<f64>, q: Coord<f64>) -> f64 {
    (q.x - p1.x) * (p2.y - p1.y) - (p2.x - p1.x) * (q.y - p1.y)
}

/// `lw_pt_in_seg`: the point lies within the segment's bounding box.
#[inline]
fn in_seg_box(q: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> bool {
    ((q.x >= a.x && q.x <= b.x) || (q.x <= a.x && q.x >= b.x))
        && ((q.y >= a.y && q.y <= b.y) || (q.y <= a.y && q.y >= b.y))
}

/// Position of `q` relative to one ring.
#[must_use]
pub fn ring_position(ring: &LineString<f64>, q: Coord<f64>) -> Position {
    let mut winding = 0i32;
    for w in ring.0.windows(2) {
        let (p1, p2) = (w[0], w[1]);
        // Only edges that span q.y can cross or hold it.
        if (p1.y < q.y && p2.y < q.y) || (p1.y > q.y && p2.y > q.y) {
            continue;
        }
        if p2.x - p1.x == 0.0 && p2.y - p1.y == 0.0 {
            continue;
        }
        let s = side(p1, p2, q);
        if s == 0.0 && in_seg_box(q, p1, p2) {
            return Position::Boundary;
        }
        if p1.y <= q.y && q.y < p2.y && s < 0.0 {
            winding += 1;
        } else if p2.y <= q.y && q.y < p1.y && s > 0.0 {
            winding -= 1;
        }
    }
    if winding == 0 {
        Position::Outside
    } else {
        Position::Inside
    }
}

/// Position of `q` relative to a polygon with holes.
#[must_use]
pub fn polygon_position(p: &Polygon<f64>, q: Coord<f64>) -> Position {
    match ring_position(p.exterior(), q) {
        Position::Outside => Position::Outside,
        Position::Boundary => Position::Boundary,
        Position::Inside => {
            for hole in p.interiors() {
                match ring_position(hole, q) {
                    Position::Boundary => return Position::Boundary,
                    Position::Inside => return Position::Outside,
                    Position::Outside => {}
                }
            }
            Position::Inside
        }
    }
}

/// Whether a multipolygon covers `q` (interior or boundary), as `ST_Covers` answers.
#[must_use]
pub fn covers(mp: &MultiPolygon<f64>, q: Coord<f64>) -> bool {
    mp.0.iter()
        .any(|p| polygon_position(p, q) != Position::Outside)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square() -> MultiPolygon<f64> {
        let outer = LineString::from(vec![(0., 0.), (10., 0.), (10., 10.), (0., 10.), (0., 0.)]);
        let hole = LineString::from(vec![(4., 4.), (6., 4.), (6., 6.), (4., 6.), (4., 4.)]);
        MultiPolygon(vec![Polygon::new(outer, vec![hole])])
    }

    #[test]
    fn inside_outside_boundary_and_holes() {
        let m = square();
        let at = |x, y| covers(&m, Coord { x, y });
        assert!(at(1., 1.));
        assert!(at(0., 0.), "vertex");
        assert!(at(0., 5.), "edge");
        assert!(at(4., 5.), "hole edge");
        assert!(!at(5., 5.), "in hole");
        assert!(!at(-1., 0.));
        assert!(!at(0., 12.), "in line with an edge, beyond it");
        assert!(!at(11., 5.));
    }
}
