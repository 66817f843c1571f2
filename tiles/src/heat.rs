//! Density bins for heatmap layers, with exact counts.
//!
//! A fixed grid of `cells × cells` per tile (cells aligned to the tile origin); each
//! non-empty cell reports its centre, its point count and its summed weight. Which points a
//! tile counts follows [`crate::Membership`] exactly as for [`crate::cluster_points`]: with
//! [`crate::Membership::OwnTile`] (the default) each point is counted by exactly one tile per
//! zoom (half-open `[west, east) × (south, north]`, see [`crate::TileId::containing`]), so the
//! sums over all tiles of a zoom, or over a tile's four children, are exact. With
//! [`crate::Membership::Buffered`] the grid continues into the buffer, for seamless rendering
//! at the cost of double counting near edges.

use crate::cluster::{Binner, Membership};
use crate::geometry::TileCoord;
use crate::tile::{TileProjection, round_coord};

/// A weighted point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeatPoint {
    /// Longitude, degrees.
    pub lon: f64,
    /// Latitude, degrees.
    pub lat: f64,
    /// Weight (1.0 to count points).
    pub weight: f64,
}

/// Heat-binning settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeatOptions {
    /// Cells per tile side (at most 1024; 0 is treated as 1).
    pub cells: u32,
    /// Which points count.
    pub membership: Membership,
}

impl Default for HeatOptions {
    /// 64 × 64 cells, own-tile membership.
    fn default() -> Self {
        HeatOptions {
            cells: 64,
            membership: Membership::OwnTile,
        }
    }
}

/// One non-empty cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeatCell {
    /// Column (0 at the tile's west edge; negative in the west buffer).
    pub col: i32,
    /// Row (0 at the tile's north edge; negative in the north buffer).
    pub row: i32,
    /// Cell centre, tile-local.
    pub centre: [f64; 2],
    /// Number of points.
    pub count: u32,
    /// Sum of weights (exact for integer weights below 2^53).
    pub weight: f64,
}

impl HeatCell {
    /// [`HeatCell::centre`] rounded to the tile's integer grid.
    #[must_use]
    pub fn tile_coord(&self) -> TileCoord {
        round_coord(self.centre)
    }
}

/// The result of [`heat_bins`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Heat {
    /// Non-empty cells, ordered by row, then column.
    pub cells: Vec<HeatCell>,
    /// Points binned (the sum of the cells' counts).
    pub counted: u64,
    /// Points given but not binned.
    pub skipped: u64,
}

/// Bins the points this tile counts into a `cells × cells` grid.
pub fn heat_bins<I>(proj: &TileProjection, opts: HeatOptions, points: I) -> Heat
where
    I: IntoIterator<Item = HeatPoint>,
{
    let n = opts.cells.clamp(1, 1024);
    let binner = Binner::new(proj, f64::from(proj.extent) / f64::from(n), opts.membership);
    let side = binner.side();
    let mut counts = vec![0u32; side * side];
    let mut weights = vec![0f64; side * side];
    let mut out = Heat::default();
    for p in points {
        match binner.bin(p.lon, p.lat) {
            Some((cell, _)) => {
                counts[cell] += 1;
                weights[cell] += p.weight;
                out.counted += 1;
            }
            None => out.skipped += 1,
        }
    }
    let size = binner.size();
    out.cells = counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(i, &count)| {
            let (col, row) = binner.cell(i);
            HeatCell {
                col,
                row,
                centre: [(f64::from(col) + 0.5) * size, (f64::from(row) + 0.5) * size],
                count,
                weight: weights[i],
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

    #[test]
    fn weights_and_counts_sum_exactly() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let pts: Vec<HeatPoint> = (0..50_000)
            .map(|_| HeatPoint {
                lon: rng.random_range(100.0..130.0),
                lat: rng.random_range(10.0..40.0),
                weight: f64::from(rng.random_range(1u32..5)),
            })
            .collect();
        let total_weight: f64 = pts.iter().map(|p| p.weight).sum();
        for z in [3u8, 5] {
            let mut tiles: Vec<TileId> = pts
                .iter()
                .map(|p| TileId::containing(p.lon, p.lat, z))
                .collect();
            tiles.sort_unstable();
            tiles.dedup();
            let (mut n, mut w) = (0u64, 0f64);
            for t in tiles {
                let h = heat_bins(
                    &TileProjection::with_defaults(t),
                    HeatOptions::default(),
                    pts.iter().copied(),
                );
                assert_eq!(h.counted + h.skipped, pts.len() as u64);
                assert_eq!(
                    h.cells.iter().map(|c| u64::from(c.count)).sum::<u64>(),
                    h.counted
                );
                for c in &h.cells {
                    assert!(
                        (0..64).contains(&c.col) && (0..64).contains(&c.row),
                        "{c:?}"
                    );
                }
                n += h.counted;
                w += h.cells.iter().map(|c| c.weight).sum::<f64>();
            }
            assert_eq!(n, pts.len() as u64);
            assert_eq!(w, total_weight);
        }
    }

    #[test]
    fn cell_centres_and_buffer() {
        let t = TileId::new(1, 0, 0).unwrap();
        let proj = TileProjection::with_defaults(t);
        let p = HeatPoint {
            lon: -179.0,
            lat: 84.0,
            weight: 2.0,
        };
        let h = heat_bins(
            &proj,
            HeatOptions {
                cells: 4,
                membership: Membership::OwnTile,
            },
            [p, p],
        );
        assert_eq!(h.cells.len(), 1);
        assert_eq!(h.cells[0].centre, [512.0, 512.0]);
        assert_eq!(h.cells[0].tile_coord(), [512, 512]);
        assert_eq!((h.cells[0].count, h.cells[0].weight), (2, 4.0));
        // Just east of the tile: only in buffered mode, in column 4.
        let q = HeatPoint {
            lon: 0.5,
            lat: 60.0,
            weight: 1.0,
        };
        let own = heat_bins(
            &proj,
            HeatOptions {
                cells: 4,
                membership: Membership::OwnTile,
            },
            [q],
        );
        assert_eq!((own.counted, own.skipped), (0, 1));
        let buf = heat_bins(
            &proj,
            HeatOptions {
                cells: 4,
                membership: Membership::Buffered,
            },
            [q],
        );
        assert_eq!(buf.cells.len(), 1);
        assert_eq!(buf.cells[0].col, 4);
    }
}
