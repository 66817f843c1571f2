//! Grid clustering of points for low zooms, with exact counts.
//!
//! Points are binned into square cells of `cell_size` tile-local units (with the default
//! extent of 4096 on a 512-pixel tile, 1 pixel is 8 units, so 64 px is 512 units), cells
//! aligned to the tile's origin. Each non-empty cell becomes one [`Cluster`]: the mean
//! position of its members, their count, per-category counts, summed weight, and the member's
//! id when the cell has exactly one point.
//!
//! # Which points are counted
//!
//! With [`Membership::OwnTile`] (the default) a point is counted only by the tile that owns it
//! by the rule of [`crate::TileId::containing`]: the half-open box `[west, east) × (south,
//! north]`, latitudes clamped to Web-Mercator's range, the world's east and south edges folded
//! into the last column and row. A point exactly on the edge between two tiles is counted by
//! the tile whose west or north edge it lies on (east of a vertical edge, south of a
//! horizontal one). So, whatever box the caller queried (e.g. the buffered
//! bounds), the counts of all tiles of one zoom add up to exactly the number of points, and
//! the counts of a tile's four children add up to the tile's. Points the tile does not own are
//! reported in [`Clusters::skipped`].
//!
//! With [`Membership::Buffered`] every point inside the buffered box `[-buffer, extent +
//! buffer]²` is binned (cells continue into the buffer with the same alignment), so points
//! near an edge appear in two or more tiles: use it for display without totals.
//!
//! At zoom ≥ [`crate::FastProjection::MIN_ZOOM`] owned points are projected by the series of
//! [`crate::TileProjection::fast`]; a point within 10⁻¹² of the world's width of a tile or
//! cell edge (80 times the series' error) is decided by the exact projection, so every point
//! lands in the cell the exact projection gives (tested on edges).

use crate::clip::ClipBox;
use crate::geometry::TileCoord;
use crate::tile::{FastProjection, MAX_ZOOM, TileProjection, round_coord};

/// Which points a tile bins; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Membership {
    /// Only points the tile owns (exact totals across tiles).
    #[default]
    OwnTile,
    /// All points inside the buffered tile box (duplicates across neighbours).
    Buffered,
}

/// A point to cluster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterPoint {
    /// Longitude, degrees.
    pub lon: f64,
    /// Latitude, degrees.
    pub lat: f64,
    /// Identifier, reported for single-point clusters.
    pub id: u64,
    /// Category index (e.g. event type).
    pub category: u16,
    /// Weight, summed per cluster.
    pub weight: f64,
}

/// Clustering settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterOptions {
    /// Cell side in tile-local units; raised to at least `(extent + 2 * buffer) / 1024` to
    /// bound memory.
    pub cell_size: u32,
    /// Which points count.
    pub membership: Membership,
}

impl Default for ClusterOptions {
    /// 512 units (64 px on a 512-px tile of extent 4096), own-tile membership.
    fn default() -> Self {
        ClusterOptions {
            cell_size: 512,
            membership: Membership::OwnTile,
        }
    }
}

/// One cluster (non-empty cell).
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Cell column (0 at the tile's west edge; negative in the west buffer).
    pub col: i32,
    /// Cell row (0 at the tile's north edge; negative in the north buffer).
    pub row: i32,
    /// Mean member position, tile-local.
    pub position: [f64; 2],
    /// Number of members.
    pub count: u32,
    /// Sum of member weights (exact for integer weights below 2^53).
    pub weight: f64,
    /// Members per category, sorted by category.
    pub categories: Vec<(u16, u32)>,
    /// The member's id when `count == 1`.
    pub id: Option<u64>,
}

impl Cluster {
    /// [`Cluster::position`] rounded to the tile's integer grid.
    #[must_use]
    pub fn tile_coord(&self) -> TileCoord {
        round_coord(self.position)
    }
}

/// The result of [`cluster_points`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Clusters {
    /// Non-empty cells, ordered by row, then column.
    pub clusters: Vec<Cluster>,
    /// Points binned (the sum of the clusters' counts).
    pub counted: u64,
    /// Points given but not binned (not owned by the tile, or outside the buffered box).
    pub skipped: u64,
}

/// Maps lon/lat to cells of a square grid aligned to the tile origin.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Binner {
    proj: TileProjection,
    /// For owned points at zoom ≥ [`FastProjection::MIN_ZOOM`]: the projection without
    /// trigonometry, trusted where it cannot decide otherwise than the exact one.
    fast: Option<FastProjection>,
    /// Distance (tile units) from a cell or tile edge within which the exact projection
    /// decides: 10⁻¹² of the world's width, 80 times the series' error bound.
    near: f64,
    membership: Membership,
    clip: ClipBox,
    size: f64,
    min: i32,
    max: i32,
}

impl Binner {
    pub(crate) fn new(proj: &TileProjection, size: f64, membership: Membership) -> Binner {
        let (e, b) = (f64::from(proj.extent), f64::from(proj.buffer));
        let margin = if membership == Membership::Buffered {
            b
        } else {
            0.0
        };
        let size = size.max((e + 2.0 * margin) / 1024.0).max(f64::MIN_POSITIVE);
        // Cells cover [-margin, extent + margin); a point exactly on the far edge (the world's
        // east/south edge, or the buffer's) is folded into the last cell.
        #[allow(clippy::cast_possible_truncation)]
        let (min, max) = (
            (-margin / size).floor() as i32,
            (((e + margin) / size).ceil() as i32 - 1).max(0),
        );
        let own_fast = membership == Membership::OwnTile && proj.tile.z >= FastProjection::MIN_ZOOM;
        Binner {
            proj: *proj,
            fast: own_fast.then(|| proj.fast()),
            near: 1e-12 * f64::from(1u32 << proj.tile.z.min(MAX_ZOOM)) * e,
            membership,
            clip: proj.clip_box(),
            size,
            min,
            max,
        }
    }

    /// Cells per side.
    pub(crate) fn side(&self) -> usize {
        usize::try_from(self.max - self.min + 1).unwrap_or(0)
    }

    pub(crate) fn size(&self) -> f64 {
        self.size
    }

    /// The cell (linear index) and local position of a point, if the tile bins it.
    pub(crate) fn bin(&self, lon: f64, lat: f64) -> Option<(usize, [f64; 2])> {
        let p = match self.membership {
            Membership::OwnTile => match &self.fast {
                Some(f) => {
                    let p = f.project(lon, lat);
                    if self.clear_of_edges(p) {
                        let e = f64::from(self.proj.extent);
                        (p[0] >= 0.0 && p[0] < e && p[1] >= 0.0 && p[1] < e).then_some(p)?
                    } else {
                        self.proj.locate(lon, lat)?
                    }
                }
                None => self.proj.locate(lon, lat)?,
            },
            Membership::Buffered => {
                Some(self.proj.project(lon, lat)).filter(|&p| self.clip.contains(p))?
            }
        };
        #[allow(clippy::cast_possible_truncation)]
        let idx = |v: f64| ((v / self.size).floor() as i32).clamp(self.min, self.max) - self.min;
        let (c, r) = (idx(p[0]), idx(p[1]));
        let side = self.max - self.min + 1;
        usize::try_from(r * side + c).ok().map(|i| (i, p))
    }

    /// Whether a point projected by the fast projection lies clear of every cell edge and
    /// tile edge, so that the exact projection puts it in the same cell of the same tile.
    fn clear_of_edges(&self, p: [f64; 2]) -> bool {
        let e = f64::from(self.proj.extent);
        p.iter().all(|&v| {
            let cells = v / self.size;
            (cells - cells.round()).abs() * self.size > self.near
                && v.abs() > self.near
                && (v - e).abs() > self.near
        })
    }

    /// Column and row of a linear cell index.
    pub(crate) fn cell(&self, i: usize) -> (i32, i32) {
        let side = self.side().max(1);
        let (r, c) = (i / side, i % side);
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
        (c as i32 + self.min, r as i32 + self.min)
    }
}

#[derive(Default)]
struct Acc {
    sum: [f64; 2],
    count: u32,
    weight: f64,
    categories: Vec<(u16, u32)>,
    id: u64,
}

/// Clusters the points this tile bins (see the module docs for which ones).
pub fn cluster_points<I>(proj: &TileProjection, opts: ClusterOptions, points: I) -> Clusters
where
    I: IntoIterator<Item = ClusterPoint>,
{
    let binner = Binner::new(proj, f64::from(opts.cell_size.max(1)), opts.membership);
    let side = binner.side();
    let mut slot = vec![u32::MAX; side * side];
    let mut accs: Vec<(usize, Acc)> = Vec::new();
    let mut out = Clusters::default();
    for p in points {
        let Some((cell, pos)) = binner.bin(p.lon, p.lat) else {
            out.skipped += 1;
            continue;
        };
        out.counted += 1;
        let s = &mut slot[cell];
        if *s == u32::MAX {
            #[allow(clippy::cast_possible_truncation)]
            let next = accs.len() as u32;
            *s = next;
            accs.push((cell, Acc::default()));
        }
        let a = &mut accs[*s as usize].1;
        a.sum[0] += pos[0];
        a.sum[1] += pos[1];
        a.count += 1;
        a.weight += p.weight;
        a.id = p.id;
        match a.categories.iter_mut().find(|c| c.0 == p.category) {
            Some(c) => c.1 += 1,
            None => a.categories.push((p.category, 1)),
        }
    }
    accs.sort_unstable_by_key(|(cell, _)| *cell);
    out.clusters = accs
        .into_iter()
        .map(|(cell, mut a)| {
            let (col, row) = binner.cell(cell);
            a.categories.sort_unstable();
            let n = f64::from(a.count);
            Cluster {
                col,
                row,
                position: [a.sum[0] / n, a.sum[1] / n],
                count: a.count,
                weight: a.weight,
                categories: a.categories,
                id: (a.count == 1).then_some(a.id),
            }
        })
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tile::TileId;
    use rand::{Rng, SeedableRng};

    fn random_points(n: usize, seed: u64, bounds: [f64; 4]) -> Vec<ClusterPoint> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n as u64)
            .map(|id| ClusterPoint {
                lon: rng.random_range(bounds[0]..bounds[2]),
                lat: rng.random_range(bounds[1]..bounds[3]),
                id,
                category: rng.random_range(0..5),
                weight: 1.0,
            })
            .collect()
    }

    #[test]
    fn owned_points_bin_alike_with_the_fast_projection_and_the_exact_one() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
        for _ in 0..200 {
            let z: u8 = rng.random_range(FastProjection::MIN_ZOOM..=20);
            let n = 1u32 << z;
            let t = TileId::new(
                z,
                rng.random_range(0..n),
                rng.random_range(n / 4..n * 3 / 4),
            )
            .unwrap();
            let proj = TileProjection::with_defaults(t);
            let size = [8.0, 64.0, 512.0][rng.random_range(0..3)];
            let fast = Binner::new(&proj, size, Membership::OwnTile);
            assert!(fast.fast.is_some());
            let mut exact = fast;
            exact.fast = None;
            let b = proj.tile.buffered_bounds(4096, 64);
            // Random points, and points on the tile's edges and on cell edges (lon/lat of
            // a tile or cell corner, computed back from tiles of deeper zooms).
            let mut pts: Vec<(f64, f64)> = (0..300)
                .map(|_| {
                    (
                        rng.random_range(b.west..b.east),
                        rng.random_range(b.south..b.north),
                    )
                })
                .collect();
            for _ in 0..300 {
                let dz: u8 = rng.random_range(0..=(24 - z).min(9));
                let m = 1u32 << dz;
                let corner = TileId::new(
                    z + dz,
                    t.x * m + rng.random_range(0..=m - 1),
                    t.y * m + rng.random_range(0..=m - 1),
                )
                .unwrap()
                .bounds();
                pts.push((corner.west, corner.north));
                pts.push((corner.west, rng.random_range(corner.south..corner.north)));
                pts.push((rng.random_range(corner.west..corner.east), corner.north));
            }
            for (lon, lat) in pts {
                let (f, x) = (fast.bin(lon, lat), exact.bin(lon, lat));
                assert_eq!(f.map(|c| c.0), x.map(|c| c.0), "{t:?} {lon} {lat}");
                if let (Some(f), Some(x)) = (f, x) {
                    let off = (f.1[0] - x.1[0]).abs().max((f.1[1] - x.1[1]).abs());
                    assert!(off < fast.near, "{off} {}", fast.near);
                }
            }
        }
    }

    fn count(t: TileId, pts: &[ClusterPoint], opts: ClusterOptions) -> Clusters {
        cluster_points(&TileProjection::with_defaults(t), opts, pts.iter().copied())
    }

    fn check_cluster_sums(c: &Clusters) {
        let total: u64 = c.clusters.iter().map(|k| u64::from(k.count)).sum();
        assert_eq!(total, c.counted);
        for k in &c.clusters {
            assert_eq!(k.categories.iter().map(|c| c.1).sum::<u32>(), k.count);
            assert_eq!(k.weight, f64::from(k.count));
            assert_eq!(k.id.is_some(), k.count == 1);
        }
    }

    #[test]
    fn counts_add_up_exactly_across_a_zoom_and_between_parent_and_children() {
        // Around 汕尾, plus points exactly on tile edges at z8..z10.
        let mut pts = random_points(20_000, 1, [114.0, 21.5, 117.0, 24.0]);
        for z in 8..=10u8 {
            for x in 0..4u32 {
                let t = TileId::containing(115.0 + f64::from(x) * 0.3, 22.5, z);
                let b = t.bounds();
                for (i, (lon, lat)) in [(b.west, b.north), (b.east, b.south), (b.west, 22.5)]
                    .into_iter()
                    .enumerate()
                {
                    let id = 1_000_000 + u64::from(z) * 100 + u64::from(x) * 10 + i as u64;
                    pts.push(ClusterPoint {
                        lon,
                        lat,
                        id,
                        category: 9,
                        weight: 1.0,
                    });
                }
            }
        }
        for z in [8u8, 9, 10] {
            let mut tiles: Vec<TileId> = pts
                .iter()
                .map(|p| TileId::containing(p.lon, p.lat, z))
                .collect();
            tiles.sort_unstable();
            tiles.dedup();
            let mut total = 0;
            for t in &tiles {
                // Give each tile every point in its buffered bounds, as an index query would.
                let bb = t.buffered_bounds(4096, 64);
                let near: Vec<ClusterPoint> = pts
                    .iter()
                    .copied()
                    .filter(|p| {
                        p.lon >= bb.west
                            && p.lon <= bb.east
                            && p.lat >= bb.south
                            && p.lat <= bb.north
                    })
                    .collect();
                let c = count(*t, &near, ClusterOptions::default());
                check_cluster_sums(&c);
                assert_eq!(c.counted + c.skipped, near.len() as u64);
                total += c.counted;
                let kids = t.children().unwrap();
                let kid_total: u64 = kids
                    .iter()
                    .map(|k| count(*k, &near, ClusterOptions::default()).counted)
                    .sum();
                assert_eq!(kid_total, c.counted, "{t:?}");
            }
            assert_eq!(total, pts.len() as u64, "z{z}");
        }
    }

    #[test]
    fn cells_positions_and_single_ids() {
        let t = TileId::new(0, 0, 0).unwrap();
        let proj = TileProjection::with_defaults(t);
        let pts = [
            ClusterPoint {
                lon: 0.0,
                lat: -0.5,
                id: 1,
                category: 2,
                weight: 2.5,
            },
            ClusterPoint {
                lon: 1.0,
                lat: -1.0,
                id: 2,
                category: 3,
                weight: 1.0,
            },
            ClusterPoint {
                lon: 1.0,
                lat: -1.5,
                id: 3,
                category: 2,
                weight: 1.0,
            },
            ClusterPoint {
                lon: -170.0,
                lat: 80.0,
                id: 42,
                category: 0,
                weight: 1.0,
            },
            ClusterPoint {
                lon: 180.0,
                lat: -90.0,
                id: 43,
                category: 0,
                weight: 1.0,
            },
        ];
        let c = cluster_points(&proj, ClusterOptions::default(), pts);
        assert_eq!(c.counted, 5);
        assert_eq!(c.clusters.len(), 3);
        let first = &c.clusters[0];
        assert_eq!(
            (first.col, first.row, first.count, first.id),
            (0, 0, 1, Some(42))
        );
        let mid = &c.clusters[1];
        assert_eq!((mid.col, mid.row, mid.count, mid.id), (4, 4, 3, None));
        assert_eq!(mid.categories, vec![(2, 2), (3, 1)]);
        assert_eq!(mid.weight, 4.5);
        let x = proj.project(1.0 / 3.0 * 2.0, 0.0)[0];
        assert!((mid.position[0] - x).abs() < 1e-9, "{:?}", mid.position);
        // The world's south-east corner is folded into the last cell.
        let last = &c.clusters[2];
        assert_eq!((last.col, last.row, last.id), (7, 7, Some(43)));
        assert_eq!(last.tile_coord(), [4096, 4096]);
    }

    #[test]
    fn buffered_membership_double_counts_near_edges() {
        let t = TileId::new(2, 1, 1).unwrap();
        let b = t.bounds();
        let inside = ClusterPoint {
            lon: b.east - 1e-3,
            lat: f64::midpoint(b.south, b.north),
            id: 1,
            category: 0,
            weight: 1.0,
        };
        let outside = ClusterPoint {
            lon: b.east + 1e-3,
            ..inside
        };
        let far = ClusterPoint {
            lon: b.east + 10.0,
            ..inside
        };
        let own = count(t, &[inside, outside, far], ClusterOptions::default());
        assert_eq!((own.counted, own.skipped), (1, 2));
        let opts = ClusterOptions {
            membership: Membership::Buffered,
            ..ClusterOptions::default()
        };
        let buf = count(t, &[inside, outside, far], opts);
        assert_eq!((buf.counted, buf.skipped), (2, 1));
        assert_eq!(buf.clusters.len(), 2);
        assert_eq!((buf.clusters[0].col, buf.clusters[1].col), (7, 8));
    }
}
