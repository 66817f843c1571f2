//! A uniform lon/lat grid of buckets over event positions: where [`super::points`] keeps
//! the points added since its tree was built.
//!
//! Buckets hold points in runs of [`CHUNK`], each run with a tight earth-centred box of its
//! points; a query walks the buckets ring by ring around its point. Two lower bounds make
//! nearest-neighbour search exact:
//!
//! - a bucket's box: no point in it is closer (as a chord, hence as a geodesic) than the
//!   box is;
//! - a ring: every point in buckets beyond ring `ρ` differs from the query by at least `ρ`
//!   bucket widths in latitude or in longitude, so its geodesic distance is at least the
//!   meridian arc of that latitude step, or the chord of that longitude step on the
//!   smallest parallel of the grid.
//!
//! Points outside the grid go to an overflow list that every query scans; the owner
//! rebuilds before either grows large.

use super::geodesic::{A, E2, chord2};
use minqing_model::BBox;

/// Points per run inside a bucket, each run with its own box.
pub const CHUNK: usize = 16;
/// Points per bucket the grid is sized for.
const TARGET_PER_CELL: usize = 2;
/// Most buckets a grid has.
const MAX_CELLS: usize = 1 << 22;

/// A point as a bucket stores it: what nearest search tests, inline, so that scanning a
/// run reads one contiguous block instead of several columns at random.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pt {
    /// Earth-centred position, metres.
    pub xyz: [f64; 3],
    /// Event id (for ties), kept here so that ranking reads no column.
    pub id: i64,
    /// Slot in the event columns.
    pub slot: u32,
    /// Dense category number.
    pub category: u16,
    /// Workflow state number.
    pub status: u8,
}

/// A nearest-neighbour search being run: walks offer it the points whose chord is within
/// its limit, nearest boxes first, and stop once every box left lies beyond the limit.
pub trait Nearest {
    /// Metres beyond which no point can enter the answer.
    fn limit(&self) -> f64;
    /// Offers a point at squared chord `d2` (metres²) from the query.
    fn consider(&mut self, pt: &Pt, d2: f64);
}

/// Offers `search` the points of `run` within its limit.
#[inline]
pub fn offer(run: &[Pt], q: &[f64; 3], search: &mut impl Nearest, skip: impl Fn(&Pt) -> bool) {
    let mut lim = search.limit();
    let mut lim2 = lim * lim;
    for p in run {
        let d2 = chord2(&p.xyz, q);
        if d2 <= lim2 && !skip(p) {
            search.consider(p, d2);
            lim = search.limit();
            lim2 = lim * lim;
        }
    }
}

/// An earth-centred box (min xyz, max xyz).
#[derive(Debug, Clone, Copy)]
pub struct Box3 {
    lo: [f64; 3],
    hi: [f64; 3],
}

impl Box3 {
    /// A box holding nothing.
    pub const EMPTY: Box3 = Box3 {
        lo: [f64::INFINITY; 3],
        hi: [f64::NEG_INFINITY; 3],
    };

    /// Widens the box to hold a point.
    pub fn add(&mut self, p: &[f64; 3]) {
        for ((lo, hi), v) in self.lo.iter_mut().zip(&mut self.hi).zip(p) {
            *lo = lo.min(*v);
            *hi = hi.max(*v);
        }
    }

    /// The low and high corners.
    #[must_use]
    pub fn corners(&self) -> ([f64; 3], [f64; 3]) {
        (self.lo, self.hi)
    }

    /// Widens the box to hold another.
    pub fn widen(&mut self, o: &Box3) {
        self.add(&o.lo);
        self.add(&o.hi);
    }

    /// Squared distance from `q` to the box (0 inside).
    #[must_use]
    pub fn distance2(&self, q: &[f64; 3]) -> f64 {
        self.lo
            .iter()
            .zip(&self.hi)
            .zip(q)
            .map(|((lo, hi), v)| {
                let d = (lo - v).max(v - hi).max(0.0);
                d * d
            })
            .sum()
    }
}

/// The bucket grid.
pub struct Cells {
    west: f64,
    south: f64,
    /// Bucket width and height, degrees.
    size: f64,
    nx: usize,
    ny: usize,
    slots: Vec<Vec<Pt>>,
    /// Per bucket, one box per run of `CHUNK` points.
    boxes: Vec<Vec<Box3>>,
    overflow: Vec<Pt>,
    /// Smallest parallel radius inside the grid, metres.
    r_min: f64,
    len: usize,
}

impl Cells {
    /// A grid over `bounds` sized for `n` points.
    #[must_use]
    pub fn new(bounds: BBox, n: usize) -> Cells {
        let w = (bounds.max_lon - bounds.min_lon).max(1e-6);
        let h = (bounds.max_lat - bounds.min_lat).max(1e-6);
        let cells = (n / TARGET_PER_CELL).clamp(1, MAX_CELLS);
        #[allow(clippy::cast_precision_loss)]
        let size = (w * h / cells as f64).sqrt().max(1e-5);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let (nx, ny) = (
            ((w / size).ceil() as usize).max(1),
            ((h / size).ceil() as usize).max(1),
        );
        let phi = bounds
            .min_lat
            .abs()
            .max(bounds.max_lat.abs())
            .min(90.0)
            .to_radians();
        let r_min = A * phi.cos() / (1.0 - E2 * phi.sin().powi(2)).sqrt();
        Cells {
            west: bounds.min_lon,
            south: bounds.min_lat,
            size,
            nx,
            ny,
            slots: vec![Vec::new(); nx * ny],
            boxes: vec![Vec::new(); nx * ny],
            overflow: Vec::new(),
            r_min,
            len: 0,
        }
    }

    /// Number of points.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Bucket column and row of a position, if inside the grid.
    fn cell_of(&self, lon: f64, lat: f64) -> Option<(usize, usize)> {
        let fx = (lon - self.west) / self.size;
        let fy = (lat - self.south) / self.size;
        #[allow(clippy::cast_precision_loss)]
        let inside = fx >= 0.0 && fy >= 0.0 && fx < self.nx as f64 && fy < self.ny as f64;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        inside.then_some((fx as usize, fy as usize))
    }

    /// Bucket column and row nearest to a position (clamped into the grid).
    fn cell_near(&self, lon: f64, lat: f64) -> (usize, usize) {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let clamp = |f: f64, n: usize| (f.max(0.0) as usize).min(n - 1);
        (
            clamp((lon - self.west) / self.size, self.nx),
            clamp((lat - self.south) / self.size, self.ny),
        )
    }

    /// Adds a point.
    pub fn insert(&mut self, pt: Pt, lon: f64, lat: f64) {
        match self.cell_of(lon, lat) {
            Some((x, y)) => {
                let i = y * self.nx + x;
                self.slots[i].push(pt);
                let run = (self.slots[i].len() - 1) / CHUNK;
                if run == self.boxes[i].len() {
                    self.boxes[i].push(Box3::EMPTY);
                }
                self.boxes[i][run].add(&pt.xyz);
            }
            None => self.overflow.push(pt),
        }
        self.len += 1;
    }

    /// Removes a point. The point moved into the freed place widens its new run's box.
    pub fn remove(&mut self, slot: u32, lon: f64, lat: f64) {
        match self.cell_of(lon, lat) {
            Some((x, y)) => {
                let i = y * self.nx + x;
                if let Some(p) = self.slots[i].iter().position(|s| s.slot == slot) {
                    self.slots[i].swap_remove(p);
                    if let Some(moved) = self.slots[i].get(p) {
                        let xyz = moved.xyz;
                        self.boxes[i][p / CHUNK].add(&xyz);
                    }
                    self.len -= 1;
                }
            }
            None => {
                if let Some(p) = self.overflow.iter().position(|s| s.slot == slot) {
                    self.overflow.swap_remove(p);
                    self.len -= 1;
                }
            }
        }
    }

    /// Offers `search` the points that may be nearer than its limit: the overflow list, then
    /// bucket rings outwards, each ring's runs nearest box first, until the ring bound
    /// exceeds the limit.
    pub fn nearest(&self, q: &[f64; 3], lon: f64, lat: f64, search: &mut impl Nearest) {
        if self.len == 0 {
            return;
        }
        offer(&self.overflow, q, search, |_| false);
        // Runs of the current ring: (squared box distance, points).
        let mut runs: Vec<(f64, &[Pt])> = Vec::new();
        for rho in 0..=self.last_ring(lon, lat) {
            if rho > 0 && self.beyond_ring(rho - 1) > search.limit() {
                break;
            }
            runs.clear();
            for (slots, boxes) in self.ring(lon, lat, rho) {
                for (run, bx) in slots.chunks(CHUNK).zip(boxes) {
                    runs.push((bx.distance2(q), run));
                }
            }
            runs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            for (d2, run) in &runs {
                let lim = search.limit();
                if *d2 > lim * lim {
                    break;
                }
                offer(run, q, search, |_| false);
            }
        }
    }

    /// Points outside the grid; every query scans them.
    #[must_use]
    pub fn overflow(&self) -> &[Pt] {
        &self.overflow
    }

    /// Buckets of ring `rho` around the bucket nearest to a position (Chebyshev distance
    /// `rho`, clipped to the grid), with their slots and run boxes (run `j` holds slots
    /// `j * CHUNK ..`). Empty once the ring lies wholly outside the grid.
    pub fn ring(&self, lon: f64, lat: f64, rho: usize) -> impl Iterator<Item = (&[Pt], &[Box3])> {
        let (cx, cy) = self.cell_near(lon, lat);
        let (cx, cy, r) = (cx as isize, cy as isize, rho as isize);
        let (nx, ny) = (self.nx as isize, self.ny as isize);
        // The ring's cells: the full top and bottom rows, then the two side columns.
        let side = 2 * r + 1;
        let count = if r == 0 { 1 } else { 4 * side - 4 };
        (0..count)
            .map(move |k| {
                if r == 0 {
                    (cx, cy)
                } else if k < side {
                    (cx - r + k, cy - r)
                } else if k < 2 * side {
                    (cx - r + k - side, cy + r)
                } else {
                    let j = k - 2 * side;
                    (if j % 2 == 0 { cx - r } else { cx + r }, cy - r + 1 + j / 2)
                }
            })
            .filter(move |(x, y)| *x >= 0 && *y >= 0 && *x < nx && *y < ny)
            .map(move |(x, y)| {
                #[allow(clippy::cast_sign_loss)]
                let i = y as usize * self.nx + x as usize;
                (self.slots[i].as_slice(), self.boxes[i].as_slice())
            })
    }

    /// The last ring around the position that still touches the grid.
    #[must_use]
    pub fn last_ring(&self, lon: f64, lat: f64) -> usize {
        let (cx, cy) = self.cell_near(lon, lat);
        cx.max(self.nx - 1 - cx).max(cy).max(self.ny - 1 - cy)
    }

    /// A lower bound, in metres, of the true distance from a query (in, or clamped to, the
    /// bucket of ring 0) to any point of the grid beyond ring `rho`. Grids never span the
    /// antimeridian.
    #[must_use]
    pub fn beyond_ring(&self, rho: usize) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let step = (rho as f64 * self.size).to_radians();
        // Meridian arc (smallest meridional radius a(1−e²)) and parallel chord.
        let lat = A * (1.0 - E2) * step;
        let lon = self.r_min * 2.0 * (step / 2.0).min(std::f64::consts::FRAC_PI_2).sin();
        lat.min(lon)
    }

    /// Buckets overlapping a lon/lat box (their points still need an exact test).
    pub fn in_bbox(&self, b: &BBox) -> impl Iterator<Item = &[Pt]> {
        let (x0, y0) = self.cell_near(b.min_lon, b.min_lat);
        let (x1, y1) = self.cell_near(b.max_lon, b.max_lat);
        (y0..=y1).flat_map(move |y| (x0..=x1).map(move |x| self.slots[y * self.nx + x].as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesic::{distance_m, ecef};
    use rand::{Rng, SeedableRng};

    fn pt(i: usize, lon: f64, lat: f64) -> Pt {
        Pt {
            xyz: ecef(lon, lat),
            id: i64::try_from(i).unwrap(),
            slot: u32::try_from(i).unwrap(),
            category: 0,
            status: 0,
        }
    }

    #[test]
    fn ring_bounds_hold() {
        let b = BBox {
            min_lon: 115.0,
            min_lat: 22.5,
            max_lon: 116.0,
            max_lat: 23.5,
        };
        let mut cells = Cells::new(b, 10_000);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let pts: Vec<(f64, f64)> = (0..10_000)
            .map(|_| (rng.random_range(115.0..116.0), rng.random_range(22.5..23.5)))
            .collect();
        for (i, (lon, lat)) in pts.iter().enumerate() {
            cells.insert(pt(i, *lon, *lat), *lon, *lat);
        }
        assert_eq!(cells.len(), 10_000);
        for _ in 0..50 {
            let (qlon, qlat) = (rng.random_range(114.9..116.1), rng.random_range(22.4..23.6));
            let q = ecef(qlon, qlat);
            let mut seen = 0;
            for rho in 0..=cells.last_ring(qlon, qlat) {
                let bound = if rho == 0 {
                    0.0
                } else {
                    cells.beyond_ring(rho - 1)
                };
                for (slots, boxes) in cells.ring(qlon, qlat, rho) {
                    for (j, p) in slots.iter().enumerate() {
                        let (lon, lat) = pts[p.slot as usize];
                        let d = distance_m(qlon, qlat, lon, lat);
                        assert!(d >= bound, "ring {rho}: {d} < {bound}");
                        assert!(boxes[j / CHUNK].distance2(&q).sqrt() <= d + 1e-6);
                        seen += 1;
                    }
                }
            }
            assert_eq!(seen, 10_000, "rings cover the grid once");
        }
        cells.remove(7, pts[7].0, pts[7].1);
        assert_eq!(cells.len(), 9_999);
        cells.insert(pt(10_000, 0.0, 0.0), 0.0, 0.0);
        assert_eq!(cells.overflow(), &[pt(10_000, 0.0, 0.0)]);
    }
}
