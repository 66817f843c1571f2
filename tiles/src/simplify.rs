//! Per-zoom simplification that never cracks boundaries shared between neighbouring polygons.
//!
//! The method is deliberately local: every vertex is snapped to a grid of `grid` tile-local
//! units (`grid = 1` is the tile's own integer grid, so the simplification follows the zoom:
//! one unit is `1/extent` of the tile), then consecutive duplicates are removed, then — if
//! asked — vertices where the boundary runs straight on are removed (the vertex lies exactly
//! on the segment between its neighbours, in integer arithmetic, and the path does not turn
//! back there). No global tolerance-based algorithm (Douglas–Peucker, Visvalingam) is used,
//! because those decide per ring and can simplify a shared edge differently on each side.
//!
//! # Guarantee
//!
//! If two rings or lines contain the same chain of input vertices (bit-identical `f64`
//! coordinates, walked in the same or opposite direction), then after simplification:
//!
//! - every output vertex strictly inside the chain is identical in both outputs (reversed when
//!   the chain was walked in opposite directions), because snapping is per vertex and each
//!   removal decision depends only on the vertex and its two (snapped, de-duplicated)
//!   neighbours, which are the same inside the chain;
//! - at the two ends of the chain one side may keep a vertex that the other drops, but only
//!   where it is a duplicate of its neighbour or lies exactly on the straight segment the other
//!   side keeps. The drawn boundary (as a set of points) is therefore the same on both sides:
//!   no gap and no overlap can appear between neighbours.
//!
//! Together with [`crate::clip`] (bit-identical intersection points on shared segments) this
//! holds through the whole clip → simplify → encode pipeline.
//!
//! # Limitations
//!
//! Snapping can make a ring self-touching or collapse narrow parts; rings that collapse to
//! fewer than three distinct points or to zero area are dropped (a polygon whose exterior
//! collapses is dropped). Snap rounding does not repair self-intersections it creates; MVT
//! renderers fill such rings by the non-zero/even-odd rule anyway. With `grid > 1` all output
//! coordinates are multiples of `grid`.

use crate::geometry::{TileCoord, signed_area2};
use crate::tile::round_coord;

/// Simplification settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimplifyOptions {
    /// Snap grid, in tile-local units (values below 1 are treated as 1).
    pub grid: u32,
    /// Also remove vertices where the boundary runs straight on.
    pub drop_collinear: bool,
}

impl Default for SimplifyOptions {
    /// The tile's integer grid, dropping straight-through vertices.
    fn default() -> Self {
        SimplifyOptions {
            grid: 1,
            drop_collinear: true,
        }
    }
}

fn snap(p: [f64; 2], grid: u32) -> TileCoord {
    if grid <= 1 {
        return round_coord(p);
    }
    let g = f64::from(grid);
    let [x, y] = round_coord([p[0] / g, p[1] / g]);
    let g = i32::try_from(grid).unwrap_or(i32::MAX);
    [x.saturating_mul(g), y.saturating_mul(g)]
}

fn snap_dedupe(points: &[[f64; 2]], grid: u32) -> Vec<TileCoord> {
    let mut out: Vec<TileCoord> = Vec::with_capacity(points.len());
    for &p in points {
        let q = snap(p, grid);
        if out.last() != Some(&q) {
            out.push(q);
        }
    }
    out
}

/// Whether the path `a → b → c` runs straight on through `b` (`b` strictly between `a` and
/// `c` on one line).
fn straight(a: TileCoord, b: TileCoord, c: TileCoord) -> bool {
    let (ux, uy) = (
        i64::from(b[0]) - i64::from(a[0]),
        i64::from(b[1]) - i64::from(a[1]),
    );
    let (vx, vy) = (
        i64::from(c[0]) - i64::from(b[0]),
        i64::from(c[1]) - i64::from(b[1]),
    );
    ux * vy - uy * vx == 0 && ux * vx + uy * vy > 0
}

/// Simplifies a ring (open or closed input; open output). `None` when it collapses to fewer
/// than three distinct points or zero area. Orientation is preserved.
#[must_use]
pub fn simplify_ring(ring: &[[f64; 2]], opts: SimplifyOptions) -> Option<Vec<TileCoord>> {
    let mut out = Vec::new();
    simplify_ring_into(ring, opts, &mut out).then_some(out)
}

/// As [`simplify_ring`], appending the ring to `out`; `false` (and `out` as it was) when it
/// collapses. For drawing many rings without a vector each (see
/// [`crate::FlatPolygons::push_ring`]).
pub fn simplify_ring_into(
    ring: &[[f64; 2]],
    opts: SimplifyOptions,
    out: &mut Vec<TileCoord>,
) -> bool {
    let start = out.len();
    for &p in ring {
        let q = snap(p, opts.grid);
        if out.len() == start || out.last() != Some(&q) {
            out.push(q);
        }
    }
    while out.len() > start + 1 && out[start] == out[out.len() - 1] {
        out.pop();
    }
    let n = out.len() - start;
    if opts.drop_collinear && n >= 3 {
        // Decided on the de-duplicated neighbours; removing straight-through vertices never
        // changes whether another vertex is one, so one pass is exact. Compacted in place:
        // the neighbours are read before their slots can be overwritten.
        let first = out[start];
        let mut prev = out[start + n - 1];
        let mut w = start;
        for i in start..start + n {
            let cur = out[i];
            let next = if i + 1 < start + n { out[i + 1] } else { first };
            if !straight(prev, cur, next) {
                out[w] = cur;
                w += 1;
            }
            prev = cur;
        }
        out.truncate(w);
    }
    let ok = out.len() - start >= 3 && signed_area2(&out[start..]) != 0;
    if !ok {
        out.truncate(start);
    }
    ok
}

/// Simplifies a polygon (exterior ring, then holes). `None` when the exterior collapses;
/// collapsed holes are dropped.
#[must_use]
pub fn simplify_polygon(
    rings: &[Vec<[f64; 2]>],
    opts: SimplifyOptions,
) -> Option<Vec<Vec<TileCoord>>> {
    let (exterior, holes) = rings.split_first()?;
    let mut out = vec![simplify_ring(exterior, opts)?];
    out.extend(holes.iter().filter_map(|h| simplify_ring(h, opts)));
    Some(out)
}

/// Simplifies a line; endpoints are kept. `None` when fewer than two distinct points remain.
#[must_use]
pub fn simplify_line(line: &[[f64; 2]], opts: SimplifyOptions) -> Option<Vec<TileCoord>> {
    let mut l = snap_dedupe(line, opts.grid);
    if opts.drop_collinear && l.len() >= 3 {
        let n = l.len();
        let keep: Vec<bool> = (0..n)
            .map(|i| i == 0 || i == n - 1 || !straight(l[i - 1], l[i], l[i + 1]))
            .collect();
        let mut i = 0;
        l.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }
    (l.len() >= 2).then_some(l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The simplification written plainly (a vector per step), to check the in-place one.
    fn reference(ring: &[[f64; 2]], opts: SimplifyOptions) -> Option<Vec<TileCoord>> {
        let mut r: Vec<TileCoord> = Vec::new();
        for &p in ring {
            let q = snap(p, opts.grid);
            if r.last() != Some(&q) {
                r.push(q);
            }
        }
        while r.len() > 1 && r.first() == r.last() {
            r.pop();
        }
        if opts.drop_collinear && r.len() >= 3 {
            let n = r.len();
            let keep: Vec<bool> = (0..n)
                .map(|i| !straight(r[(i + n - 1) % n], r[i], r[(i + 1) % n]))
                .collect();
            r = r
                .iter()
                .zip(keep)
                .filter_map(|(p, k)| k.then_some(*p))
                .collect();
        }
        (r.len() >= 3 && signed_area2(&r) != 0).then_some(r)
    }

    #[test]
    fn in_place_simplification_matches_the_plain_one() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut out: Vec<TileCoord> = Vec::new();
        for case in 0..5_000 {
            // Rings on a coarse lattice, so that duplicates, straight runs and collapses
            // all happen; sometimes closed.
            let n = rng.random_range(1..12);
            let mut ring: Vec<[f64; 2]> = (0..n)
                .map(|_| {
                    [
                        f64::from(rng.random_range(0..6)) * 2.0 + rng.random_range(-0.6..0.6),
                        f64::from(rng.random_range(0..6)) * 2.0 + rng.random_range(-0.6..0.6),
                    ]
                })
                .collect();
            if case % 3 == 0 {
                ring.push(ring[0]);
            }
            for grid in [1, 2, 4] {
                for drop_collinear in [true, false] {
                    let opts = SimplifyOptions {
                        grid,
                        drop_collinear,
                    };
                    // Appended after what the buffer already holds, which stays.
                    out.truncate(case % 4);
                    out.resize(case % 4, [-1, -1]);
                    let before = out.clone();
                    let ok = simplify_ring_into(&ring, opts, &mut out);
                    let want = reference(&ring, opts);
                    assert_eq!(ok, want.is_some(), "{ring:?} {opts:?}");
                    assert_eq!(&out[..before.len()], &before[..]);
                    assert_eq!(out[before.len()..], want.unwrap_or_default()[..]);
                }
            }
        }
    }

    /// The longest run of `b` that appears reversed in `a` (as a cyclic sequence).
    fn shared_reversed(a: &[TileCoord], b: &[TileCoord]) -> Vec<TileCoord> {
        let rb: Vec<TileCoord> = b.iter().rev().copied().collect();
        let mut best = Vec::new();
        for i in 0..a.len() {
            for j in 0..rb.len() {
                let mut k = 0;
                while k < a.len() && k < rb.len() && a[(i + k) % a.len()] == rb[(j + k) % rb.len()]
                {
                    k += 1;
                }
                if k > best.len() {
                    best = (0..k).map(|t| a[(i + t) % a.len()]).collect();
                }
            }
        }
        best
    }

    #[test]
    fn neighbouring_squares_keep_identical_shared_edges() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        // The shared edge from (100, 10) to (100.3, 300): many vertices, some collinear, some
        // jittered by less than half a unit, some nearly duplicate.
        let mut edge: Vec<[f64; 2]> = vec![[100.0, 10.0]];
        let mut y = 10.0;
        while y < 299.0 {
            y += rng.random_range(0.05..3.0);
            let x = 100.0 + rng.random_range(-0.45..0.45) + (y - 10.0) / 290.0 * 0.3;
            edge.push([x, y.min(299.5)]);
        }
        edge.push([100.3, 300.0]);
        // Left square walks the edge downwards (y increasing), the right one upwards.
        let mut left = vec![[0.0, 300.0], [0.0, 10.0]];
        left.extend(edge.iter().copied());
        let mut right: Vec<[f64; 2]> = edge.iter().rev().copied().collect();
        right.extend([[200.0, 10.0], [200.0, 300.0]]);
        right.rotate_left(3);

        for opts in [
            SimplifyOptions::default(),
            SimplifyOptions {
                grid: 1,
                drop_collinear: false,
            },
            SimplifyOptions {
                grid: 4,
                drop_collinear: true,
            },
        ] {
            let l = simplify_ring(&left, opts).unwrap();
            let r = simplify_ring(&right, opts).unwrap();
            let snapped_edge = snap_dedupe(&edge, opts.grid);
            let shared = shared_reversed(&l, &r);
            // Both ends of the edge survive in both rings, and everything in between is the
            // same sequence, reversed.
            let (first, last) = (snapped_edge[0], snapped_edge[snapped_edge.len() - 1]);
            assert!(
                shared.contains(&first) && shared.contains(&last),
                "{opts:?}"
            );
            let in_l: Vec<_> = l
                .iter()
                .filter(|p| (p[0] - 100).abs() <= 4)
                .copied()
                .collect();
            let in_r: Vec<_> = r
                .iter()
                .filter(|p| (p[0] - 100).abs() <= 4)
                .copied()
                .collect();
            assert_eq!(in_l.len(), in_r.len(), "{opts:?}");
            assert_eq!(shared.len(), in_l.len(), "{opts:?}: {l:?} / {r:?}");
            assert!(in_l.len() < edge.len(), "something was simplified");
        }
    }

    #[test]
    fn t_junction_keeps_the_drawn_boundary() {
        // A's east edge runs straight through (100, 100), where B (above) and C (below) meet:
        // A drops the vertex, B and C keep it as a corner; it still lies on A's kept segment.
        let a = [
            [0.0, 0.0],
            [100.0, 0.0],
            [100.0, 100.0],
            [100.0, 200.0],
            [0.0, 200.0],
        ];
        let b = [[100.0, 0.0], [200.0, 0.0], [200.0, 100.0], [100.0, 100.0]];
        let c = [
            [100.0, 100.0],
            [200.0, 100.0],
            [200.0, 200.0],
            [100.0, 200.0],
        ];
        let o = SimplifyOptions::default();
        let (a, b, c) = (
            simplify_ring(&a, o).unwrap(),
            simplify_ring(&b, o).unwrap(),
            simplify_ring(&c, o).unwrap(),
        );
        assert!(!a.contains(&[100, 100]));
        assert!(b.contains(&[100, 100]) && c.contains(&[100, 100]));
        let i = a.iter().position(|p| *p == [100, 0]).unwrap();
        assert_eq!(a[(i + 1) % a.len()], [100, 200]);
    }

    #[test]
    fn collinear_points_go_and_corners_stay() {
        let ring = vec![
            [0.0, 0.0],
            [5.0, 0.0],
            [10.0, 0.0],
            [10.0, 4.9],
            [10.2, 10.0],
            [0.0, 10.0],
            [0.0, 0.0],
        ];
        let r = simplify_ring(&ring, SimplifyOptions::default()).unwrap();
        assert_eq!(r, vec![[0, 0], [10, 0], [10, 10], [0, 10]]);
        let r = simplify_ring(
            &ring,
            SimplifyOptions {
                grid: 1,
                drop_collinear: false,
            },
        )
        .unwrap();
        assert_eq!(r, vec![[0, 0], [5, 0], [10, 0], [10, 5], [10, 10], [0, 10]]);
        // A spike that turns back is not "straight" and stays.
        let line = [[0.0, 0.0], [10.0, 0.0], [5.0, 0.0], [5.0, 3.0]];
        let l = simplify_line(&line, SimplifyOptions::default()).unwrap();
        assert_eq!(l, vec![[0, 0], [10, 0], [5, 0], [5, 3]]);
        let l = simplify_line(
            &[[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]],
            SimplifyOptions::default(),
        );
        assert_eq!(l, Some(vec![[0, 0], [2, 2]]));
        assert_eq!(
            simplify_line(&[[0.1, 0.1], [0.2, 0.3]], SimplifyOptions::default()),
            None
        );
    }

    #[test]
    fn collapsed_rings_are_dropped() {
        let tiny = vec![[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]];
        assert_eq!(simplify_ring(&tiny, SimplifyOptions::default()), None);
        let sliver = vec![[0.0, 0.0], [100.0, 0.2], [200.0, 0.0], [100.0, -0.2]];
        assert_eq!(simplify_ring(&sliver, SimplifyOptions::default()), None);
        let outer = vec![[0.0, 0.0], [100.0, 0.0], [100.0, 100.0], [0.0, 100.0]];
        let p =
            simplify_polygon(&[outer.clone(), tiny.clone()], SimplifyOptions::default()).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(
            simplify_polygon(&[tiny, outer], SimplifyOptions::default()),
            None
        );
        // Snapping to a coarse grid.
        let r = simplify_ring(
            &[[1.0, 1.0], [98.0, 3.0], [101.0, 99.0], [2.0, 97.0]],
            SimplifyOptions {
                grid: 8,
                drop_collinear: true,
            },
        )
        .unwrap();
        assert_eq!(r, vec![[0, 0], [96, 0], [104, 96], [0, 96]]);
    }
}
