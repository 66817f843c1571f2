//! Event positions of one workflow group (open or finished cases): a packed tree built in
//! bulk, a small bucket grid for what arrived since, and tombstones for what left.
//!
//! **The tree.** Points are cut top-down into near-square patches (each node's points into
//! s × s slabs, east–west then north–south, [`partition`]) down to leaves of [`CHUNK`]
//! consecutive points; a leaf has two boxes, an earth-centred one (for nearest search: no
//! point in it is closer, as a chord and hence as a geodesic, than the box is) and a lon/lat
//! one (for box queries). Every [`FANOUT`] nodes of a level have a parent on the next, up to
//! one root. A nearest search is best-first: a queue of nodes by box distance, leaves
//! scanned as they come off it, stopping when the next box lies beyond the search's limit —
//! exact, and it adapts to density, where a uniform grid holds two hundred points a bucket
//! in a city centre and none in the hills.
//!
//! **Changes while serving.** A point added after the build goes to a [`Cells`] bucket grid
//! over the same box (points outside it to its overflow list), searched after the tree with
//! the tree's answer as its bound; a removed point is marked dead in place (its `status` set
//! to [`DEAD`]) and skipped by every walk. When the additions and removals together exceed a
//! quarter of the tree, the owner rebuilds ([`PointTree::needs_rebuild`]).
//!
//! Memory: the points (40 bytes each) and 56 bytes of boxes a leaf of 32 points, an eighth
//! of that again for the upper levels; no allocation per bucket.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::cells::{Box3, Cells, Nearest, Pt, offer};
use super::geodesic::From;
use super::gridcells::{down, up};
use minqing_model::BBox;

/// Points per leaf.
pub const CHUNK: usize = 32;

/// Children per node above the leaves.
pub const FANOUT: usize = 8;

/// `Pt::status` of a removed point.
pub const DEAD: u8 = u8::MAX;

/// A tree node: boxes of everything below it.
#[derive(Debug, Clone, Copy)]
struct Node {
    ecef: Box3,
    ll: BBox,
}

const NO_BOX: BBox = BBox {
    min_lon: f64::INFINITY,
    min_lat: f64::INFINITY,
    max_lon: f64::NEG_INFINITY,
    max_lat: f64::NEG_INFINITY,
};

/// A node holding nothing.
const EMPTY_NODE: Node = Node {
    ecef: Box3::EMPTY,
    ll: NO_BOX,
};

/// The box of one point.
fn point_box(lon: f64, lat: f64) -> BBox {
    BBox {
        min_lon: lon,
        min_lat: lat,
        max_lon: lon,
        max_lat: lat,
    }
}

fn widen(b: &mut BBox, o: &BBox) {
    b.min_lon = b.min_lon.min(o.min_lon);
    b.min_lat = b.min_lat.min(o.min_lat);
    b.max_lon = b.max_lon.max(o.max_lon);
    b.max_lat = b.max_lat.max(o.max_lat);
}

/// An earth-centred box in single precision, rounded outwards: half the bytes, and still
/// never farther from a point than the exact box.
#[derive(Debug, Clone, Copy)]
struct Box32 {
    lo: [f32; 3],
    hi: [f32; 3],
}

impl Box32 {
    fn around(b: &Box3) -> Box32 {
        let (lo, hi) = b.corners();
        Box32 {
            lo: lo.map(down),
            hi: hi.map(up),
        }
    }

    /// Squared distance from `q` to the box (0 inside).
    #[inline]
    fn distance2(&self, q: &[f64; 3]) -> f64 {
        (0..3)
            .map(|k| {
                let d = (f64::from(self.lo[k]) - q[k])
                    .max(q[k] - f64::from(self.hi[k]))
                    .max(0.0);
                d * d
            })
            .sum()
    }
}

/// A queued node of a nearest search: squared box distance, level, index in the level.
struct Queued(f64, u8, u32);

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    /// Reversed: the nearest box is the greatest, first out of a max-heap.
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0)
    }
}

/// The points of one group.
pub struct PointTree {
    /// In Morton order; leaf `i` holds `pts[i * CHUNK ..]`.
    pts: Vec<Pt>,
    /// Earth-centred boxes of the nodes, level by level: `near[0]` the leaves, each next
    /// level one node per [`FANOUT`] of the one below;
    /// the last has one node. Empty when there are no points.
    near: Vec<Vec<Box32>>,
    /// Lon/lat boxes of the same nodes.
    ll: Vec<Vec<BBox>>,
    /// Points of `pts` marked dead.
    dead: usize,
    /// Points added since the build.
    delta: Cells,
}

/// Orders `pts` for a node `level`s above the leaves: cut into children of
/// `CHUNK × FANOUT^(level−1)` points each (the last may hold fewer), as a near-square
/// s × s arrangement of slabs along the first axis, each cut along the second; then each
/// child likewise. Axes are directions in space (east and north at the data's centre), so
/// the cuts are straight on the map. The leaves come out as compact, nearly disjoint
/// patches, where runs along a space-filling curve sprawl across its jumps.
fn partition(pts: &mut [Pt], level: u32, axes: &[[f64; 3]; 2]) {
    if level == 0 || pts.len() <= CHUNK {
        return;
    }
    let cap = CHUNK * FANOUT.pow(level - 1);
    let children = pts.len().div_ceil(cap);
    let mut slabs = 1;
    while slabs * slabs < children {
        slabs += 1;
    }
    let along = |p: &Pt, a: &[f64; 3]| p.xyz[0] * a[0] + p.xyz[1] * a[1] + p.xyz[2] * a[2];
    let cut = |pts: &mut [Pt], size: usize, a: &[f64; 3]| {
        let mut rest = pts;
        while rest.len() > size {
            rest.select_nth_unstable_by(size, |p, q| along(p, a).total_cmp(&along(q, a)));
            rest = &mut rest[size..];
        }
    };
    cut(pts, slabs * cap, &axes[0]);
    for slab in pts.chunks_mut(slabs * cap) {
        cut(slab, cap, &axes[1]);
        for child in slab.chunks_mut(cap) {
            partition(child, level - 1, axes);
        }
    }
}

impl PointTree {
    /// A tree of the points `slots` (a point is made by `pt`, placed by `lon_lat`).
    pub fn build(
        slots: &[u32],
        lon_lat: impl Fn(u32) -> (f64, f64),
        pt: impl Fn(u32) -> Pt,
    ) -> PointTree {
        let mut b = NO_BOX;
        for s in slots {
            let (lon, lat) = lon_lat(*s);
            widen(&mut b, &point_box(lon, lat));
        }
        let mut pts: Vec<Pt> = slots.iter().map(|s| pt(*s)).collect();
        if !pts.is_empty() {
            let centre = From::new(
                f64::midpoint(b.min_lon, b.max_lon),
                f64::midpoint(b.min_lat, b.max_lat),
            );
            let mut levels = 0;
            while CHUNK * FANOUT.pow(levels) < pts.len() {
                levels += 1;
            }
            partition(&mut pts, levels, &[centre.east(), centre.north()]);
        }
        let leaves: Vec<Node> = pts
            .chunks(CHUNK)
            .map(|run| {
                let mut n = EMPTY_NODE;
                for p in run {
                    n.ecef.add(&p.xyz);
                    let (lon, lat) = lon_lat(p.slot);
                    widen(&mut n.ll, &point_box(lon, lat));
                }
                n
            })
            .collect();
        let mut levels = Vec::new();
        if !leaves.is_empty() {
            levels.push(leaves);
            while levels.last().is_some_and(|l: &Vec<Node>| l.len() > 1) {
                let below = levels.last().map_or(&[][..], Vec::as_slice);
                let up: Vec<Node> = below
                    .chunks(FANOUT)
                    .map(|kids| {
                        let mut n = EMPTY_NODE;
                        for k in kids {
                            n.ecef.widen(&k.ecef);
                            widen(&mut n.ll, &k.ll);
                        }
                        n
                    })
                    .collect();
                levels.push(up);
            }
        }
        let bounds = if pts.is_empty() {
            BBox {
                min_lon: -180.0,
                min_lat: -85.0,
                max_lon: 180.0,
                max_lat: 85.0,
            }
        } else {
            // A little margin so that the extreme points fall inside the half-open grid.
            BBox {
                max_lon: b.max_lon + 1e-9,
                max_lat: b.max_lat + 1e-9,
                ..b
            }
        };
        let delta = Cells::new(bounds, pts.len() / 32 + 4096);
        PointTree {
            pts,
            near: levels
                .iter()
                .map(|l| l.iter().map(|n| Box32::around(&n.ecef)).collect())
                .collect(),
            ll: levels
                .iter()
                .map(|l| l.iter().map(|n| n.ll).collect())
                .collect(),
            dead: 0,
            delta,
        }
    }

    /// A tree of no points: everything goes to its bucket grid until the first rebuild.
    #[must_use]
    pub fn empty() -> PointTree {
        PointTree::build(
            &[],
            |_| (0.0, 0.0),
            |slot| Pt {
                xyz: [0.0; 3],
                id: 0,
                slot,
                category: 0,
                status: 0,
            },
        )
    }

    /// Number of live points.
    #[cfg(test)]
    #[must_use]
    pub fn len(&self) -> usize {
        self.pts.len() - self.dead + self.delta.len()
    }

    /// Whether so much changed since the build that the owner should build anew.
    #[must_use]
    pub fn needs_rebuild(&self) -> bool {
        self.delta.len() + self.dead > self.pts.len() / 4 + 4096
    }

    /// Adds a point.
    pub fn insert(&mut self, pt: Pt, lon: f64, lat: f64) {
        self.delta.insert(pt, lon, lat);
    }

    /// Removes the point of `slot`, placed at (`lon`, `lat`) when it was added.
    pub fn remove(&mut self, slot: u32, lon: f64, lat: f64) {
        if let Some(i) = self.find(slot, lon, lat) {
            self.pts[i].status = DEAD;
            self.dead += 1;
        } else {
            self.delta.remove(slot, lon, lat);
        }
    }

    /// Position in `pts` of the live point of `slot` at (`lon`, `lat`).
    fn find(&self, slot: u32, lon: f64, lat: f64) -> Option<usize> {
        let top = self.ll.len().checked_sub(1)?;
        let mut stack: Vec<(usize, usize)> = vec![(top, 0)];
        while let Some((level, i)) = stack.pop() {
            if !self.ll[level][i].contains(lon, lat) {
                continue;
            }
            if level == 0 {
                let end = ((i + 1) * CHUNK).min(self.pts.len());
                if let Some(j) = (i * CHUNK..end)
                    .find(|j| self.pts[*j].slot == slot && self.pts[*j].status != DEAD)
                {
                    return Some(j);
                }
            } else {
                let end = ((i + 1) * FANOUT).min(self.ll[level - 1].len());
                stack.extend((i * FANOUT..end).map(|c| (level - 1, c)));
            }
        }
        None
    }

    /// Offers `search` every live point that may be nearer than its limit, best first in
    /// the tree, then those added since the build.
    pub fn nearest(&self, q: &[f64; 3], lon: f64, lat: f64, search: &mut impl Nearest) {
        if let Some(top) = self.near.len().checked_sub(1) {
            let mut queue: BinaryHeap<Queued> = BinaryHeap::with_capacity(64);
            for (i, n) in self.near[top].iter().enumerate() {
                #[allow(clippy::cast_possible_truncation)]
                queue.push(Queued(n.distance2(q), top as u8, i as u32));
            }
            while let Some(Queued(d2, level, i)) = queue.pop() {
                let lim = search.limit();
                let lim2 = lim * lim;
                if d2 > lim2 {
                    break;
                }
                let (level, i) = (usize::from(level), i as usize);
                if level == 0 {
                    let end = ((i + 1) * CHUNK).min(self.pts.len());
                    offer(&self.pts[i * CHUNK..end], q, search, |p| p.status == DEAD);
                } else {
                    let below = &self.near[level - 1];
                    let end = ((i + 1) * FANOUT).min(below.len());
                    for (c, n) in below[i * FANOUT..end].iter().enumerate() {
                        let d2 = n.distance2(q);
                        if d2 <= lim2 {
                            let child = i * FANOUT + c;
                            #[allow(clippy::cast_possible_truncation)]
                            queue.push(Queued(d2, (level - 1) as u8, child as u32));
                        }
                    }
                }
            }
        }
        self.delta.nearest(q, lon, lat, search);
    }

    /// Every live point whose run's box meets `b` (the caller tests each point exactly).
    pub fn in_bbox(&self, b: &BBox) -> impl Iterator<Item = &Pt> {
        let mut leaves: Vec<usize> = Vec::new();
        if let Some(top) = self.ll.len().checked_sub(1) {
            let mut stack: Vec<(usize, usize)> = vec![(top, 0)];
            while let Some((level, i)) = stack.pop() {
                if !self.ll[level][i].intersects(b) {
                    continue;
                }
                if level == 0 {
                    leaves.push(i);
                } else {
                    let end = ((i + 1) * FANOUT).min(self.ll[level - 1].len());
                    // Pushed in reverse: leaves come out in curve order (memory order).
                    stack.extend((i * FANOUT..end).rev().map(|c| (level - 1, c)));
                }
            }
        }
        let pts = &self.pts;
        leaves
            .into_iter()
            .flat_map(move |i| &pts[i * CHUNK..((i + 1) * CHUNK).min(pts.len())])
            .filter(|p| p.status != DEAD)
            .chain(self.delta.in_bbox(b).flatten())
            .chain(self.delta.overflow())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesic::{distance_m, ecef};
    use rand::{Rng, SeedableRng};

    fn pt(i: u32, (lon, lat): (f64, f64)) -> Pt {
        Pt {
            xyz: ecef(lon, lat),
            id: i64::from(i),
            slot: i,
            category: 0,
            status: 0,
        }
    }

    /// The k nearest by Karney distance, ties by id.
    struct Best {
        k: usize,
        q: (f64, f64),
        pos: Vec<(f64, f64)>,
        found: Vec<(f64, u32)>,
    }

    impl Nearest for Best {
        fn limit(&self) -> f64 {
            if self.found.len() < self.k {
                f64::INFINITY
            } else {
                self.found[self.k - 1].0 + 1e-6
            }
        }
        fn consider(&mut self, p: &Pt, _d2: f64) {
            let (lon, lat) = self.pos[p.slot as usize];
            let d = distance_m(self.q.0, self.q.1, lon, lat);
            self.found.push((d, p.slot));
            self.found
                .sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            self.found.truncate(self.k);
        }
    }

    fn brute(pos: &[(f64, f64)], live: &[bool], q: (f64, f64), k: usize) -> Vec<u32> {
        let mut all: Vec<(f64, u32)> = (0..pos.len())
            .filter(|i| live[*i])
            .map(|i| {
                (
                    distance_m(q.0, q.1, pos[i].0, pos[i].1),
                    u32::try_from(i).unwrap(),
                )
            })
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        all.iter().take(k).map(|x| x.1).collect()
    }

    #[test]
    fn nearest_and_boxes_hold_through_inserts_and_removals() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        // Clustered: most points in a dense patch, some spread out.
        let mut pos: Vec<(f64, f64)> = (0..6_000)
            .map(|i| {
                if i % 4 == 0 {
                    (rng.random_range(115.0..116.0), rng.random_range(22.5..23.5))
                } else {
                    (
                        rng.random_range(115.30..115.31),
                        rng.random_range(22.80..22.81),
                    )
                }
            })
            .collect();
        let slots: Vec<u32> = (0..5_000).collect();
        let mut tree = PointTree::build(&slots, |s| pos[s as usize], |s| pt(s, pos[s as usize]));
        let mut live = vec![true; 5_000];
        live.resize(6_000, false);
        // Some more, one far outside the box (overflow), and removals from both parts.
        pos.push((10.0, 10.0));
        live.push(false);
        for s in 5_000..6_001 {
            tree.insert(pt(s, pos[s as usize]), pos[s as usize].0, pos[s as usize].1);
            live[s as usize] = true;
        }
        for s in (0..6_001).step_by(7) {
            tree.remove(s, pos[s as usize].0, pos[s as usize].1);
            live[s as usize] = false;
        }
        assert_eq!(tree.len(), live.iter().filter(|l| **l).count());
        assert!(!tree.needs_rebuild());
        for _ in 0..200 {
            let q = if rng.random_bool(0.5) {
                (
                    rng.random_range(115.299..115.311),
                    rng.random_range(22.799..22.811),
                )
            } else {
                (rng.random_range(114.9..116.1), rng.random_range(22.4..23.6))
            };
            let k = rng.random_range(1..40);
            let mut best = Best {
                k,
                q,
                pos: pos.clone(),
                found: Vec::new(),
            };
            tree.nearest(&ecef(q.0, q.1), q.0, q.1, &mut best);
            let got: Vec<u32> = best.found.iter().map(|x| x.1).collect();
            assert_eq!(got, brute(&pos, &live, q, k));
            let b = BBox {
                min_lon: q.0 - 0.003,
                min_lat: q.1 - 0.002,
                max_lon: q.0 + 0.004,
                max_lat: q.1 + 0.001,
            };
            let mut inside: Vec<u32> = tree
                .in_bbox(&b)
                .filter(|p| b.contains(pos[p.slot as usize].0, pos[p.slot as usize].1))
                .map(|p| p.slot)
                .collect();
            inside.sort_unstable();
            let want: Vec<u32> = (0..6_001u32)
                .filter(|s| live[*s as usize])
                .filter(|s| b.contains(pos[*s as usize].0, pos[*s as usize].1))
                .collect();
            assert_eq!(inside, want);
        }
        assert_eq!(
            tree.in_bbox(&BBox {
                min_lon: 9.0,
                min_lat: 9.0,
                max_lon: 11.0,
                max_lat: 11.0
            })
            .filter(|p| p.slot == 6_000)
            .count(),
            1,
            "overflow points are listed"
        );
        let empty = PointTree::empty();
        assert_eq!(empty.len(), 0);
        assert_eq!(empty.in_bbox(&NO_BOX).count(), 0);
    }
}
