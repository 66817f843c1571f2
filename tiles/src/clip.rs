//! Clipping projected geometry (tile-local `f64` coordinates) to the buffered tile box.
//!
//! Polygons are clipped ring by ring with Sutherland–Hodgman against an axis-aligned box. The
//! result of a concave ring can contain zero-width "bridges" running along the box edge; MVT
//! renderers fill such rings correctly, and the edge lies in the buffer, outside the visible
//! tile. Lines are clipped segment by segment (Liang–Barsky) and may split into several parts;
//! points are kept when inside the closed box.
//!
//! Intersection points are computed from the segment's endpoints in a canonical order, so a
//! segment shared by two neighbouring polygons (walked in opposite directions) yields
//! bit-identical intersection points in both.

/// An axis-aligned box in tile-local coordinates (closed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipBox {
    /// Smallest `x`.
    pub min_x: f64,
    /// Smallest `y`.
    pub min_y: f64,
    /// Largest `x`.
    pub max_x: f64,
    /// Largest `y`.
    pub max_y: f64,
}

impl ClipBox {
    /// The tile box `[-buffer, extent + buffer]²`.
    #[must_use]
    pub fn for_tile(extent: u32, buffer: u32) -> ClipBox {
        let (b, e) = (f64::from(buffer), f64::from(extent));
        ClipBox {
            min_x: -b,
            min_y: -b,
            max_x: e + b,
            max_y: e + b,
        }
    }

    /// Whether the point lies in the closed box.
    #[must_use]
    pub fn contains(&self, p: [f64; 2]) -> bool {
        (self.min_x..=self.max_x).contains(&p[0]) && (self.min_y..=self.max_y).contains(&p[1])
    }
}

/// Bounding box of points: `[min_x, min_y, max_x, max_y]`.
fn bbox(points: &[[f64; 2]]) -> [f64; 4] {
    points.iter().fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        |b, p| {
            [
                b[0].min(p[0]),
                b[1].min(p[1]),
                b[2].max(p[0]),
                b[3].max(p[1]),
            ]
        },
    )
}

/// One side of the box: axis (0 = x, 1 = y), the boundary value, and whether "inside" means
/// `>= value` (a minimum) or `<= value` (a maximum).
#[derive(Clone, Copy)]
struct Side {
    axis: usize,
    value: f64,
    is_min: bool,
}

impl Side {
    #[cfg(test)]
    fn inside(self, p: [f64; 2]) -> bool {
        if self.is_min {
            p[self.axis] >= self.value
        } else {
            p[self.axis] <= self.value
        }
    }

    /// Where segment `a`–`b` crosses the side, the same whichever way it is walked.
    fn cross(self, a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
        let (p, q) = if (a[0], a[1]) <= (b[0], b[1]) {
            (a, b)
        } else {
            (b, a)
        };
        let (u, v) = (self.axis, 1 - self.axis);
        let t = (self.value - p[u]) / (q[u] - p[u]);
        let mut out = [0.0; 2];
        out[u] = self.value;
        out[v] = p[v] + (q[v] - p[v]) * t;
        out
    }
}

fn sides(b: &ClipBox) -> [Side; 4] {
    [
        Side {
            axis: 0,
            value: b.min_x,
            is_min: true,
        },
        Side {
            axis: 0,
            value: b.max_x,
            is_min: false,
        },
        Side {
            axis: 1,
            value: b.min_y,
            is_min: true,
        },
        Side {
            axis: 1,
            value: b.max_y,
            is_min: false,
        },
    ]
}

/// One Sutherland–Hodgman pass of `input` (a ring, open) against `side`, whose axis and
/// kind are `AXIS` and `MIN` (spelled out so that each side's loop is compiled for it).
fn pass<const AXIS: usize, const MIN: bool>(
    side: Side,
    input: &[[f64; 2]],
    out: &mut Vec<[f64; 2]>,
) {
    let inside = |p: [f64; 2]| {
        if MIN {
            p[AXIS] >= side.value
        } else {
            p[AXIS] <= side.value
        }
    };
    let Some(&last) = input.last() else {
        return;
    };
    out.reserve(input.len() + 4);
    let (mut prev, mut prev_in) = (last, inside(last));
    for &p in input {
        let p_in = inside(p);
        if p_in != prev_in {
            out.push(side.cross(prev, p));
        }
        if p_in {
            out.push(p);
        }
        (prev, prev_in) = (p, p_in);
    }
}

/// Clips one ring (open or closed; returned open) to the box. Returns an empty ring when
/// nothing is left; the result may be degenerate (the MVT encoder drops zero-area rings).
#[must_use]
pub fn clip_ring(ring: &[[f64; 2]], b: &ClipBox) -> Vec<[f64; 2]> {
    RingClipper::new().clip(ring, b).to_vec()
}

/// Clips rings as [`clip_ring`] does, reusing its buffers from ring to ring.
#[derive(Debug, Clone, Default)]
pub struct RingClipper {
    cur: Vec<[f64; 2]>,
    next: Vec<[f64; 2]>,
}

impl RingClipper {
    /// A clipper with empty buffers.
    #[must_use]
    pub fn new() -> RingClipper {
        RingClipper::default()
    }

    /// The ring clipped to the box, as [`clip_ring`] returns it: the ring itself (without a
    /// closing point) when it lies inside the box, else the clipper's buffer.
    pub fn clip<'a>(&'a mut self, ring: &'a [[f64; 2]], b: &ClipBox) -> &'a [[f64; 2]] {
        let mut open = ring;
        if open.len() > 1 && open.first() == open.last() {
            open = &open[..open.len() - 1];
        }
        let bb = bbox(open);
        if open.len() < 3
            || bb[0] > b.max_x
            || bb[2] < b.min_x
            || bb[1] > b.max_y
            || bb[3] < b.min_y
        {
            return &[];
        }
        if bb[0] >= b.min_x && bb[2] <= b.max_x && bb[1] >= b.min_y && bb[3] <= b.max_y {
            return open;
        }
        // A side the ring's box lies inside of leaves every point as it is (points made by
        // the passes lie on the ring's segments, inside its box): only the sides the ring
        // crosses get a pass, the first reading the ring itself.
        let (cur, next) = (&mut self.cur, &mut self.next);
        let mut first = true;
        for side in sides(b) {
            let crossed = match (side.axis, side.is_min) {
                (0, true) => bb[0] < side.value,
                (0, false) => bb[2] > side.value,
                (_, true) => bb[1] < side.value,
                (_, false) => bb[3] > side.value,
            };
            if !crossed {
                continue;
            }
            let input: &[[f64; 2]] = if first { open } else { cur };
            next.clear();
            match (side.axis, side.is_min) {
                (0, true) => pass::<0, true>(side, input, next),
                (0, false) => pass::<0, false>(side, input, next),
                (_, true) => pass::<1, true>(side, input, next),
                (_, false) => pass::<1, false>(side, input, next),
            }
            std::mem::swap(cur, next);
            first = false;
            if cur.is_empty() {
                return &[];
            }
        }
        if cur.len() < 3 { &[] } else { cur }
    }

    /// Clips the ring that ends `points` (from `start` on) in place: afterwards `points`
    /// holds from `start` what [`RingClipper::clip`] returns for it, and a ring inside the box
    /// is not copied. `false` when nothing is left (`points` is then cut back to `start`).
    pub fn clip_tail(&mut self, points: &mut Vec<[f64; 2]>, start: usize, b: &ClipBox) -> bool {
        let ring = &points[start..];
        let kept = self.clip(ring, b);
        let (inside, len) = (std::ptr::eq(kept.as_ptr(), ring.as_ptr()), kept.len());
        if len == 0 {
            points.truncate(start);
            return false;
        }
        if inside {
            points.truncate(start + len);
        } else {
            // A ring that crossed the box was clipped into `cur`.
            points.truncate(start);
            points.extend_from_slice(&self.cur);
        }
        true
    }
}

/// Clips a polygon (exterior ring, then holes) to the box. Returns no rings when the exterior
/// is clipped away; holes clipped away are dropped.
#[must_use]
pub fn clip_polygon(rings: &[Vec<[f64; 2]>], b: &ClipBox) -> Vec<Vec<[f64; 2]>> {
    let Some((exterior, holes)) = rings.split_first() else {
        return Vec::new();
    };
    let ext = clip_ring(exterior, b);
    if ext.is_empty() {
        return Vec::new();
    }
    let mut out = vec![ext];
    out.extend(
        holes
            .iter()
            .map(|h| clip_ring(h, b))
            .filter(|h| !h.is_empty()),
    );
    out
}

/// Keeps the points inside the closed box.
#[must_use]
pub fn clip_points(points: &[[f64; 2]], b: &ClipBox) -> Vec<[f64; 2]> {
    points.iter().copied().filter(|&p| b.contains(p)).collect()
}

/// Clips a line to the box; the parts inside, in order (each with at least two points).
#[must_use]
pub fn clip_line(line: &[[f64; 2]], b: &ClipBox) -> Vec<Vec<[f64; 2]>> {
    let mut parts: Vec<Vec<[f64; 2]>> = Vec::new();
    let mut cur: Vec<[f64; 2]> = Vec::new();
    for w in line.windows(2) {
        if let Some((p, q)) = clip_segment(w[0], w[1], b) {
            if cur.last() != Some(&p) {
                if cur.len() >= 2 {
                    parts.push(std::mem::take(&mut cur));
                }
                cur.clear();
                cur.push(p);
            }
            cur.push(q);
        } else {
            if cur.len() >= 2 {
                parts.push(std::mem::take(&mut cur));
            }
            cur.clear();
        }
    }
    if cur.len() >= 2 {
        parts.push(cur);
    }
    parts
}

/// Liang–Barsky: the part of segment `a`–`b` inside the box, if any. Endpoints inside the box
/// are returned unchanged.
fn clip_segment(a: [f64; 2], b: [f64; 2], bx: &ClipBox) -> Option<([f64; 2], [f64; 2])> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a[0] - bx.min_x),
        (dx, bx.max_x - a[0]),
        (-dy, a[1] - bx.min_y),
        (dy, bx.max_y - a[1]),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| {
        if t == 0.0 {
            a
        } else if t == 1.0 {
            b
        } else {
            [a[0] + dx * t, a[1] + dy * t]
        }
    };
    Some((at(t0), at(t1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_clipper_clips_as_a_fresh_one() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let b = ClipBox::for_tile(4096, 64);
        let mut clipper = RingClipper::new();
        for _ in 0..2_000 {
            let (cx, cy) = (
                rng.random_range(-500.0..4600.0),
                rng.random_range(-500.0..4600.0),
            );
            let n = rng.random_range(3..20);
            let mut ring: Vec<[f64; 2]> = (0..n)
                .map(|i| {
                    let t = f64::from(i) / f64::from(n) * std::f64::consts::TAU;
                    let r = rng.random_range(50.0..900.0);
                    [cx + r * t.cos(), cy + r * t.sin()]
                })
                .collect();
            ring.push(ring[0]);
            let mut fresh = RingClipper::new();
            assert_eq!(clipper.clip(&ring, &b), fresh.clip(&ring, &b));
            // In place, after what the buffer already holds.
            let mut buf = vec![[-1.0, -1.0]; usize::try_from(n % 3).unwrap()];
            let head = buf.len();
            buf.extend_from_slice(&ring);
            let kept = clipper.clip_tail(&mut buf, head, &b);
            assert_eq!(kept, !clip_ring(&ring, &b).is_empty());
            assert_eq!(&buf[head..], &clip_ring(&ring, &b)[..]);
            assert_eq!(buf[..head], vec![[-1.0, -1.0]; head][..]);
            let c = clip_ring(&ring, &b);
            assert!(c.iter().all(|&p| b.contains(p)));
            assert_eq!(clipper.clip(&ring, &b), &c[..]);
        }
    }

    /// Plain Sutherland–Hodgman: all four sides, every time.
    fn reference_clip(ring: &[[f64; 2]], b: &ClipBox) -> Vec<[f64; 2]> {
        let mut cur = ring.to_vec();
        if cur.len() > 1 && cur.first() == cur.last() {
            cur.pop();
        }
        if cur.len() < 3 {
            return Vec::new();
        }
        for side in sides(b) {
            let mut next = Vec::new();
            let Some(&last) = cur.last() else {
                return Vec::new();
            };
            let mut prev = last;
            for &p in &cur {
                match (side.inside(prev), side.inside(p)) {
                    (true, true) => next.push(p),
                    (true, false) => next.push(side.cross(prev, p)),
                    (false, true) => {
                        next.push(side.cross(prev, p));
                        next.push(p);
                    }
                    (false, false) => {}
                }
                prev = p;
            }
            cur = next;
        }
        if cur.len() < 3 { Vec::new() } else { cur }
    }

    #[test]
    fn passes_only_for_crossed_sides_clip_as_all_four_do() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let b = ClipBox::for_tile(4096, 64);
        for _ in 0..20_000 {
            let (cx, cy) = (
                rng.random_range(-1500.0..5600.0),
                rng.random_range(-1500.0..5600.0),
            );
            let n = rng.random_range(3..30);
            let mut ring: Vec<[f64; 2]> = (0..n)
                .map(|_| {
                    [
                        cx + rng.random_range(-2000.0..2000.0),
                        cy + rng.random_range(-2000.0..2000.0),
                    ]
                })
                .collect();
            if rng.random_bool(0.5) {
                ring.push(ring[0]);
            }
            let want = reference_clip(&ring, &b);
            let got = clip_ring(&ring, &b);
            assert_eq!(
                got.iter().map(|p| p.map(f64::to_bits)).collect::<Vec<_>>(),
                want.iter().map(|p| p.map(f64::to_bits)).collect::<Vec<_>>(),
                "{ring:?}"
            );
        }
    }

    fn inside(p: [f64; 2], b: &ClipBox) -> bool {
        let eps = 1e-9;
        p[0] >= b.min_x - eps
            && p[0] <= b.max_x + eps
            && p[1] >= b.min_y - eps
            && p[1] <= b.max_y + eps
    }

    fn area2(r: &[[f64; 2]]) -> f64 {
        (0..r.len())
            .map(|i| {
                let (a, b) = (r[i], r[(i + 1) % r.len()]);
                a[0] * b[1] - b[0] * a[1]
            })
            .sum()
    }

    #[test]
    fn polygon_crossing_the_edge_stays_in_the_buffered_box() {
        let b = ClipBox::for_tile(4096, 64);
        // A square from (-1000, 1000) to (1000, 3000) with a hole straddling x = -64.
        let outer = vec![
            [-1000.0, 1000.0],
            [1000.0, 1000.0],
            [1000.0, 3000.0],
            [-1000.0, 3000.0],
        ];
        let hole = vec![
            [-200.0, 1500.0],
            [100.0, 1500.0],
            [100.0, 2000.0],
            [-200.0, 2000.0],
        ];
        let rings = clip_polygon(&[outer, hole], &b);
        assert_eq!(rings.len(), 2);
        for r in &rings {
            assert!(r.iter().all(|&p| inside(p, &b)), "{r:?}");
        }
        assert!((area2(&rings[0]).abs() / 2.0 - 1064.0 * 2000.0).abs() < 1e-6);
        assert!((area2(&rings[1]).abs() / 2.0 - 164.0 * 500.0).abs() < 1e-6);
        // Orientation is preserved.
        assert!(area2(&rings[0]) > 0.0);
    }

    #[test]
    fn covering_polygon_becomes_the_box_and_far_polygon_vanishes() {
        let b = ClipBox::for_tile(4096, 64);
        let huge = vec![
            [-1e6, -1e6],
            [1e6, -1e6],
            [1e6, 1e6],
            [-1e6, 1e6],
            [-1e6, -1e6],
        ];
        let r = clip_ring(&huge, &b);
        assert!((area2(&r) / 2.0 - 4224.0 * 4224.0).abs() < 1e-3, "{r:?}");
        let far = vec![[5000.0, 5000.0], [6000.0, 5000.0], [6000.0, 6000.0]];
        assert!(clip_ring(&far, &b).is_empty());
        assert!(clip_polygon(&[far.clone(), far], &b).is_empty());
        let small = vec![[1.0, 1.0], [2.0, 1.0], [2.0, 2.0]];
        assert_eq!(clip_ring(&small, &b), small);
    }

    #[test]
    fn shared_segments_cross_identically_in_both_directions() {
        let b = ClipBox::for_tile(4096, 64);
        let a = [-300.1234, 17.77];
        let c = [40.5, 903.3];
        for s in sides(&b) {
            if (s.inside(a)) != (s.inside(c)) {
                assert_eq!(s.cross(a, c), s.cross(c, a));
            }
        }
        // Two squares sharing the edge a–c, clipped: the new vertex on x = -64 is identical.
        let left = vec![[-600.0, 17.77], a, c, [-600.0, 903.3]];
        let right = vec![a, [300.0, 17.77], [300.0, 903.3], c];
        let l = clip_ring(&left, &b);
        let r = clip_ring(&right, &b);
        let on_edge = |ring: &[[f64; 2]]| -> Vec<[f64; 2]> {
            ring.iter()
                .copied()
                .filter(|p| p[0] == -64.0 && p[1] > 17.77 && p[1] < 903.3)
                .collect()
        };
        assert_eq!(on_edge(&l), on_edge(&r));
        assert_eq!(on_edge(&l).len(), 1);
    }

    #[test]
    fn points_and_lines() {
        let b = ClipBox::for_tile(100, 10);
        let pts = [[-10.0, -10.0], [-10.1, 0.0], [50.0, 110.0], [50.0, 110.5]];
        assert_eq!(clip_points(&pts, &b), vec![[-10.0, -10.0], [50.0, 110.0]]);
        let line = vec![
            [-50.0, 50.0],
            [50.0, 50.0],
            [50.0, 200.0],
            [60.0, 200.0],
            [60.0, 50.0],
        ];
        let parts = clip_line(&line, &b);
        assert_eq!(
            parts,
            vec![
                vec![[-10.0, 50.0], [50.0, 50.0], [50.0, 110.0]],
                vec![[60.0, 110.0], [60.0, 50.0]],
            ]
        );
        assert!(clip_line(&[[200.0, 0.0], [300.0, 0.0]], &b).is_empty());
    }
}
