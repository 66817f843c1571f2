//! A uniform cell grid over the grids' bounding boxes: point-in-grid candidates in O(1).
//!
//! The data's box is cut into about one cell per grid; every cell lists (ascending) the
//! grids whose bounding box touches it, in compressed rows (`start`, `items`). A point
//! maps to one cell with two multiplications, and the candidates are then checked box first
//! (a conservative `f32` copy of each box, rounded outwards), exact test second. Since
//! slots are in id order, the first covering candidate is the one with the smallest id —
//! the boundary rule — and the search stops there.
//!
//! Grids are small where people live and large where they do not, so a cell of the mean grid
//! size holds a hundred grids in a city centre (143 on average for points where people stand,
//! on the 1M-grid set). A cell listing more than [`REFINE_ABOVE`] grids is therefore cut
//! again into k × k sub-cells (k ≈ √(n/2), at most [`MAX_SUB`]), each listing the grids whose
//! box touches it; a point in such a cell takes its sub-cell's list instead.
//!
//! A point exactly on a cell border belongs to the cell that the same floor computation
//! gives, and boxes are registered with that computation for both corners (sub-cells too:
//! the sub-cell of a coordinate is a non-decreasing function of it, and a corner outside the
//! cell clamps to its first or last row or column), so no candidate is ever missed. Memory:
//! 8 bytes a cell, 4 an entry (about three per grid), 16 a grid box, and the sub-cells.

use minqing_model::BBox;

/// Candidates per cell for point lookups.
pub struct GridCells {
    x0: f64,
    y0: f64,
    /// Cells per degree.
    inv: f64,
    nx: usize,
    ny: usize,
    /// Row starts into `items`, one per cell, plus the end.
    start: Vec<u32>,
    /// Slots, ascending within each cell.
    items: Vec<u32>,
    /// Box of each slot `[west, south, east, north]`, rounded outwards; `None` for slots
    /// that are not grids.
    boxes: Vec<[f32; 4]>,
    /// Per cell: `NOT_CUT`, or the index in `subs` of its sub-cells.
    cut: Vec<u32>,
    /// Cells cut again: (sub-cells per side, first row start in `sub_start`).
    subs: Vec<(u32, u32)>,
    /// Row starts of all sub-cells into `sub_items`, plus the end.
    sub_start: Vec<u32>,
    /// Slots, ascending within each sub-cell.
    sub_items: Vec<u32>,
}

/// A cell listing more grids than this is cut into sub-cells.
pub const REFINE_ABOVE: usize = 8;

/// Most sub-cells per side of a cut cell.
pub const MAX_SUB: usize = 32;

const NOT_CUT: u32 = u32::MAX;

/// Largest number of cells (64 MB of row starts).
const MAX_CELLS: usize = 1 << 24;

/// The largest `f32` not above `v`.
pub(super) fn down(v: f64) -> f32 {
    #[allow(clippy::cast_possible_truncation)]
    let f = v as f32;
    if f64::from(f) > v { f.next_down() } else { f }
}

/// The smallest `f32` not below `v`.
pub(super) fn up(v: f64) -> f32 {
    #[allow(clippy::cast_possible_truncation)]
    let f = v as f32;
    if f64::from(f) < v { f.next_up() } else { f }
}

/// The sub-cell (of `k` per side) of cell `c` that a coordinate `f` (in cell units) falls
/// in: non-decreasing in `f`, clamped to the cell's first and last.
#[inline]
fn sub_of(f: f64, c: usize, k: usize) -> usize {
    #[allow(clippy::cast_precision_loss)]
    let within = (f - c as f64) * k as f64;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = within.floor().max(0.0) as usize;
    s.min(k - 1)
}

/// A box that contains nothing.
const EMPTY: [f32; 4] = [
    f32::INFINITY,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NEG_INFINITY,
];

impl GridCells {
    /// Cells over `boxes` (by slot; `None` = not a grid).
    #[must_use]
    pub fn new(boxes: &[Option<BBox>]) -> GridCells {
        let present: Vec<(usize, &BBox)> = boxes
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.as_ref().map(|b| (i, b)))
            .collect();
        let n = present.len();
        let mut all = BBox {
            min_lon: f64::INFINITY,
            min_lat: f64::INFINITY,
            max_lon: f64::NEG_INFINITY,
            max_lat: f64::NEG_INFINITY,
        };
        for (_, b) in &present {
            all.min_lon = all.min_lon.min(b.min_lon);
            all.min_lat = all.min_lat.min(b.min_lat);
            all.max_lon = all.max_lon.max(b.max_lon);
            all.max_lat = all.max_lat.max(b.max_lat);
        }
        let compact: Vec<[f32; 4]> = boxes
            .iter()
            .map(|b| {
                b.map_or(EMPTY, |b| {
                    [
                        down(b.min_lon),
                        down(b.min_lat),
                        up(b.max_lon),
                        up(b.max_lat),
                    ]
                })
            })
            .collect();
        if n == 0 {
            return GridCells {
                x0: 0.0,
                y0: 0.0,
                inv: 1.0,
                nx: 0,
                ny: 0,
                start: vec![0],
                items: Vec::new(),
                boxes: compact,
                cut: Vec::new(),
                subs: Vec::new(),
                sub_start: vec![0],
                sub_items: Vec::new(),
            };
        }
        let w = (all.max_lon - all.min_lon).max(1e-9);
        let h = (all.max_lat - all.min_lat).max(1e-9);
        // About one cell per grid, within the cap.
        #[allow(clippy::cast_precision_loss)]
        let cells = (n as f64).clamp(1.0, MAX_CELLS as f64 / 4.0);
        let side = (w * h / cells).sqrt();
        let inv = 1.0 / side;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let (nx, ny) = (
            ((w * inv).floor() as usize + 1).min(1 << 14),
            ((h * inv).floor() as usize + 1).min(1 << 14),
        );
        let mut g = GridCells {
            x0: all.min_lon,
            y0: all.min_lat,
            inv,
            nx,
            ny,
            start: vec![0; nx * ny + 1],
            items: Vec::new(),
            boxes: compact,
            cut: vec![NOT_CUT; nx * ny],
            subs: Vec::new(),
            sub_start: vec![0],
            sub_items: Vec::new(),
        };
        // Two passes: count per cell, then fill (slots ascending, as `present` is).
        for (_, b) in &present {
            let (cx0, cy0, cx1, cy1) = g.span(b);
            for cy in cy0..=cy1 {
                for cx in cx0..=cx1 {
                    g.start[cy * nx + cx + 1] += 1;
                }
            }
        }
        for i in 1..g.start.len() {
            g.start[i] += g.start[i - 1];
        }
        let mut fill = g.start.clone();
        g.items = vec![0; *g.start.last().unwrap_or(&0) as usize];
        for (slot, b) in &present {
            let (cx0, cy0, cx1, cy1) = g.span(b);
            for cy in cy0..=cy1 {
                for cx in cx0..=cx1 {
                    let c = cy * nx + cx;
                    g.items[fill[c] as usize] = u32::try_from(*slot).unwrap_or(u32::MAX);
                    fill[c] += 1;
                }
            }
        }
        g.cut_crowded();
        g
    }

    /// Cuts every cell listing more than [`REFINE_ABOVE`] grids into sub-cells.
    fn cut_crowded(&mut self) {
        for c in 0..self.nx * self.ny {
            let items = &self.items[self.start[c] as usize..self.start[c + 1] as usize];
            let n = items.len();
            if n <= REFINE_ABOVE {
                continue;
            }
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let k = ((n as f64 / 2.0).sqrt().ceil() as usize).clamp(2, MAX_SUB);
            let (cx, cy) = (c % self.nx, c / self.nx);
            let mut lists: Vec<Vec<u32>> = vec![Vec::new(); k * k];
            for &slot in items {
                // The (outward-rounded) box the candidates are checked against.
                let q = self.boxes[slot as usize].map(f64::from);
                let (x0, x1) = (sub_of(self.fx(q[0]), cx, k), sub_of(self.fx(q[2]), cx, k));
                let (y0, y1) = (sub_of(self.fy(q[1]), cy, k), sub_of(self.fy(q[3]), cy, k));
                for sy in y0..=y1 {
                    for sx in x0..=x1 {
                        lists[sy * k + sx].push(slot);
                    }
                }
            }
            self.cut[c] = u32::try_from(self.subs.len()).unwrap_or(NOT_CUT);
            let first = u32::try_from(self.sub_start.len() - 1).unwrap_or(u32::MAX);
            self.subs.push((u32::try_from(k).unwrap_or(2), first));
            for list in lists {
                self.sub_items.extend_from_slice(&list);
                self.sub_start
                    .push(u32::try_from(self.sub_items.len()).unwrap_or(u32::MAX));
            }
        }
    }

    /// A longitude in cell units from the grid's west edge.
    #[inline]
    fn fx(&self, lon: f64) -> f64 {
        (lon - self.x0) * self.inv
    }

    /// A latitude in cell units from the grid's south edge.
    #[inline]
    fn fy(&self, lat: f64) -> f64 {
        (lat - self.y0) * self.inv
    }

    /// Column of a longitude, clamped to the grid.
    #[inline]
    fn col(&self, lon: f64) -> usize {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let c = self.fx(lon).floor().max(0.0) as usize;
        c.min(self.nx.saturating_sub(1))
    }

    /// Row of a latitude, clamped to the grid.
    #[inline]
    fn row(&self, lat: f64) -> usize {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let r = self.fy(lat).floor().max(0.0) as usize;
        r.min(self.ny.saturating_sub(1))
    }

    /// The cells a box touches: (first column, first row, last column, last row).
    fn span(&self, b: &BBox) -> (usize, usize, usize, usize) {
        (
            self.col(b.min_lon),
            self.row(b.min_lat),
            self.col(b.max_lon),
            self.row(b.max_lat),
        )
    }

    /// The slots whose box may hold the point, ascending (box checked, not the geometry).
    pub fn candidates(&self, lon: f64, lat: f64) -> impl Iterator<Item = u32> + '_ {
        let cell = if self.nx == 0
            || !(lon.is_finite() && lat.is_finite())
            || lon < self.x0
            || lat < self.y0
        {
            None
        } else {
            let (fx, fy) = (self.fx(lon), self.fy(lat));
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let (cx, cy) = (fx.floor() as usize, fy.floor() as usize);
            (cx < self.nx && cy < self.ny).then_some((cy * self.nx + cx, fx, fy, cx, cy))
        };
        let list: &[u32] = match cell {
            None => &[],
            Some((c, fx, fy, cx, cy)) => match self.cut[c] {
                NOT_CUT => &self.items[self.start[c] as usize..self.start[c + 1] as usize],
                sub => {
                    let (k, first) = self.subs[sub as usize];
                    let k = k as usize;
                    let j = first as usize + sub_of(fy, cy, k) * k + sub_of(fx, cx, k);
                    &self.sub_items[self.sub_start[j] as usize..self.sub_start[j + 1] as usize]
                }
            },
        };
        #[allow(clippy::cast_possible_truncation)]
        let (x, y) = (lon as f32, lat as f32);
        list.iter().copied().filter(move |s| {
            let b = &self.boxes[*s as usize];
            // `as f32` rounds to nearest; the boxes are rounded outwards, so a point inside
            // the exact box is inside the rounded one.
            x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3]
        })
    }

    /// The slots whose box intersects `b`, ascending, each once.
    #[must_use]
    pub fn intersecting(&self, b: &BBox) -> Vec<u32> {
        if self.nx == 0 || b.max_lon < self.x0 || b.max_lat < self.y0 {
            return Vec::new();
        }
        let (cx0, cy0, cx1, cy1) = self.span(b);
        let mut out = Vec::new();
        for cy in cy0..=cy1 {
            for cx in cx0..=cx1 {
                let c = cy * self.nx + cx;
                for s in &self.items[self.start[c] as usize..self.start[c + 1] as usize] {
                    let q = &self.boxes[*s as usize];
                    if f64::from(q[0]) <= b.max_lon
                        && f64::from(q[2]) >= b.min_lon
                        && f64::from(q[1]) <= b.max_lat
                        && f64::from(q[3]) >= b.min_lat
                    {
                        out.push(*s);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The (outward-rounded) box of a slot, if it is a grid.
    #[must_use]
    pub fn bbox(&self, slot: u32) -> Option<BBox> {
        let b = self.boxes.get(slot as usize)?;
        (b[0] <= b[2]).then(|| BBox {
            min_lon: f64::from(b[0]),
            min_lat: f64::from(b[1]),
            max_lon: f64::from(b[2]),
            max_lat: f64::from(b[3]),
        })
    }

    /// Bytes held: (cells and their lists, sub-cells and their lists).
    #[must_use]
    pub fn heap_bytes(&self) -> (usize, usize) {
        let cells =
            4 * (self.start.len() + self.items.len() + self.cut.len()) + 16 * self.boxes.len();
        let subs = 8 * self.subs.len() + 4 * (self.sub_start.len() + self.sub_items.len());
        (cells, subs)
    }

    /// Number of grids indexed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.boxes.iter().filter(|b| b[0] <= b[2]).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slots whose exact box holds the point, ascending (the brute-force answer).
    fn holding(boxes: &[Option<BBox>], x: f64, y: f64) -> Vec<u32> {
        boxes
            .iter()
            .enumerate()
            .filter(|(_, bb)| bb.is_some_and(|bb| bb.contains(x, y)))
            .map(|(i, _)| u32::try_from(i).unwrap())
            .collect()
    }

    #[allow(clippy::unnecessary_wraps)] // the shape the boxes are given in
    fn b(x0: f64, y0: f64, x1: f64, y1: f64) -> Option<BBox> {
        Some(BBox {
            min_lon: x0,
            min_lat: y0,
            max_lon: x1,
            max_lat: y1,
        })
    }

    #[test]
    fn candidates_are_every_box_holding_the_point_in_slot_order() {
        // A 10 × 10 mesh of unit boxes sharing edges, and one large box on top (slot 100).
        let mut boxes = Vec::new();
        for j in 0..10 {
            for i in 0..10 {
                boxes.push(b(
                    f64::from(i),
                    f64::from(j),
                    f64::from(i + 1),
                    f64::from(j + 1),
                ));
            }
        }
        boxes.push(b(2.5, 2.5, 7.5, 7.5));
        boxes.push(None);
        let g = GridCells::new(&boxes);
        let mut seed = 7u64;
        for k in 0..20_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            #[allow(clippy::cast_precision_loss)]
            let r = |s: u64| (s >> 11) as f64 / (1u64 << 53) as f64;
            // Every fourth point on an edge or vertex of the mesh.
            let (x, y) = if k % 4 == 0 {
                (
                    (r(seed) * 10.0).round(),
                    (r(seed.rotate_left(17)) * 10.0).floor() + 0.5,
                )
            } else if k % 4 == 1 {
                (
                    (r(seed) * 10.0).round(),
                    (r(seed.rotate_left(17)) * 10.0).round(),
                )
            } else {
                (r(seed) * 12.0 - 1.0, r(seed.rotate_left(17)) * 12.0 - 1.0)
            };
            let want = holding(&boxes, x, y);
            let got: Vec<u32> = g.candidates(x, y).collect();
            assert_eq!(got, want, "({x}, {y})");
        }
        let q = BBox {
            min_lon: 2.0,
            min_lat: 2.0,
            max_lon: 3.0,
            max_lat: 2.2,
        };
        let hits = g.intersecting(&q);
        let want: Vec<u32> = boxes
            .iter()
            .enumerate()
            .filter(|(_, bb)| bb.is_some_and(|bb| bb.intersects(&q)))
            .map(|(i, _)| u32::try_from(i).unwrap())
            .collect();
        assert_eq!(hits, want);
        assert_eq!(g.len(), 101);
    }

    #[test]
    fn crowded_cells_are_cut_and_still_list_every_box() {
        // A town of 40 × 40 small boxes sharing edges in one corner of a large empty area,
        // and a few large boxes: the town's cells list far more than REFINE_ABOVE grids.
        let mut boxes = Vec::new();
        for j in 0..40 {
            for i in 0..40 {
                let (x, y) = (f64::from(i) * 0.01, f64::from(j) * 0.01);
                boxes.push(b(x, y, x + 0.01, y + 0.01));
            }
        }
        for k in 0..20 {
            let x = f64::from(k) * 5.0;
            boxes.push(b(x, x, x + 7.0, x + 3.0));
        }
        let g = GridCells::new(&boxes);
        assert!(!g.subs.is_empty(), "crowded cells are cut");
        let mut seed = 11u64;
        for k in 0..40_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            #[allow(clippy::cast_precision_loss)]
            let r = |s: u64| (s >> 11) as f64 / (1u64 << 53) as f64;
            let (x, y) = match k % 3 {
                // On the town's edges and vertices.
                0 => (
                    (r(seed) * 40.0).round() * 0.01,
                    (r(seed.rotate_left(17)) * 40.0).round() * 0.01,
                ),
                1 => (r(seed) * 0.45, r(seed.rotate_left(17)) * 0.45),
                _ => (r(seed) * 110.0, r(seed.rotate_left(17)) * 110.0),
            };
            let want = holding(&boxes, x, y);
            // The f32 box check may let through a box the point is just outside of (never
            // one it is inside of): every wanted slot is listed, in order.
            let got: Vec<u32> = g.candidates(x, y).collect();
            assert!(got.windows(2).all(|w| w[0] < w[1]));
            let listed: Vec<u32> = got
                .iter()
                .copied()
                .filter(|s| boxes[*s as usize].is_some_and(|bb| bb.contains(x, y)))
                .collect();
            assert_eq!(listed, want, "({x}, {y})");
        }
    }
}
