//! Event counts per tile at zooms 3–16, for clusters and heat at low zooms without visiting
//! every event.
//!
//! A low-zoom tile over a whole city holds millions of events; binning each of them per
//! request costs a second. Instead every event is counted once, in the zoom-16 tile that owns
//! it (the own-tile rule of `minqing_tiles`), per category and state, and again in each of
//! that tile's ancestors down to zoom 3. A tile at zoom z has its cluster cells (z + 3) and
//! heat cells (z + 6) as one contiguous Morton range of one level: clusters up to zoom 13 take
//! at most 64 bins, heat up to zoom 10 at most 4,096, with exactly the counts that binning
//! every event would give.
//!
//! Per bin: the sum of the members' positions (for cluster centres: the mean of the bins'
//! centroids, weighted by matching members) and, per (category, state), the number of members
//! and the XOR of their ids (so that a one-member cluster still names its event, whatever was
//! added and removed).

use std::collections::BTreeMap;

use minqing_tiles::{Cluster, HeatCell, TileId, world_xy};

use super::filter::EventFilter;

/// Zoom of the bins.
pub const BASE_ZOOM: u8 = 16;

#[derive(Debug, Clone, Copy)]
struct Entry {
    category: u16,
    status: u8,
    count: u32,
    id_xor: i64,
}

#[derive(Debug, Default)]
struct Bin {
    /// Sum of member positions, zoom-16 world units.
    sum: [f64; 2],
    members: u32,
    entries: Vec<Entry>,
}

/// Coarsest level kept: the cluster cells of a zoom-0 tile.
const MIN_LEVEL: u8 = 3;

/// Counts per tile at every zoom from 3 to [`BASE_ZOOM`], keyed by Morton code.
#[derive(Debug)]
pub struct Pyramid {
    /// Indexed by zoom; levels below [`MIN_LEVEL`] stay empty.
    levels: Vec<BTreeMap<u64, Bin>>,
}

impl Default for Pyramid {
    fn default() -> Self {
        Pyramid {
            levels: (0..=BASE_ZOOM).map(|_| BTreeMap::new()).collect(),
        }
    }
}

impl Bin {
    fn add(&mut self, p: [f64; 2], category: u16, status: u8, id: i64) {
        self.sum[0] += p[0];
        self.sum[1] += p[1];
        self.members += 1;
        match self
            .entries
            .iter_mut()
            .find(|e| e.category == category && e.status == status)
        {
            Some(e) => {
                e.count += 1;
                e.id_xor ^= id;
            }
            None => self.entries.push(Entry {
                category,
                status,
                count: 1,
                id_xor: id,
            }),
        }
    }

    /// False when nothing was counted with these values.
    fn remove(&mut self, p: [f64; 2], category: u16, status: u8, id: i64) -> bool {
        let Some(i) = self
            .entries
            .iter()
            .position(|e| e.category == category && e.status == status)
        else {
            return false;
        };
        let e = &mut self.entries[i];
        e.count -= 1;
        e.id_xor ^= id;
        if e.count == 0 {
            self.entries.swap_remove(i);
        }
        self.members -= 1;
        self.sum[0] -= p[0];
        self.sum[1] -= p[1];
        true
    }

    fn merge(&mut self, other: &Bin) {
        self.sum[0] += other.sum[0];
        self.sum[1] += other.sum[1];
        self.members += other.members;
        for o in &other.entries {
            match self
                .entries
                .iter_mut()
                .find(|e| e.category == o.category && e.status == o.status)
            {
                Some(e) => {
                    e.count += o.count;
                    e.id_xor ^= o.id_xor;
                }
                None => self.entries.push(*o),
            }
        }
    }
}

fn spread(v: u32) -> u64 {
    let mut x = u64::from(v) & 0xffff_ffff;
    x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Interleaves the bits of two numbers (`x` in the even bits).
pub(super) fn morton(x: u32, y: u32) -> u64 {
    spread(x) | (spread(y) << 1)
}

fn compact(mut x: u64) -> u32 {
    x &= 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x >> 4)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x >> 8)) & 0x0000_ffff_0000_ffff;
    x = (x | (x >> 16)) & 0x0000_0000_ffff_ffff;
    u32::try_from(x).unwrap_or(u32::MAX)
}

fn locate(lon: f64, lat: f64) -> (TileId, [f64; 2]) {
    let t = TileId::containing(lon, lat, BASE_ZOOM);
    let (fx, fy) = world_xy(lon, lat, BASE_ZOOM);
    (t, [fx, fy])
}

/// One member's part of a cell.
struct Acc {
    sum: [f64; 2],
    count: u32,
    id_xor: i64,
    categories: Vec<(u16, u32)>,
}

impl Pyramid {
    /// Counts an event at every level.
    pub fn add(&mut self, lon: f64, lat: f64, category: u16, status: u8, id: i64) {
        let (t, p) = locate(lon, lat);
        for level in MIN_LEVEL..=BASE_ZOOM {
            let down = BASE_ZOOM - level;
            self.levels[level as usize]
                .entry(morton(t.x >> down, t.y >> down))
                .or_default()
                .add(p, category, status, id);
        }
    }

    /// Counts events at the finest level only; call [`Pyramid::derive`] once afterwards.
    pub fn add_base(&mut self, lon: f64, lat: f64, category: u16, status: u8, id: i64) {
        let (t, p) = locate(lon, lat);
        self.levels[BASE_ZOOM as usize]
            .entry(morton(t.x, t.y))
            .or_default()
            .add(p, category, status, id);
    }

    /// Rebuilds the coarser levels from the finest (after [`Pyramid::add_base`]).
    pub fn derive(&mut self) {
        for level in (MIN_LEVEL..BASE_ZOOM).rev() {
            let mut coarse: BTreeMap<u64, Bin> = BTreeMap::new();
            for (key, bin) in &self.levels[level as usize + 1] {
                coarse.entry(key >> 2).or_default().merge(bin);
            }
            self.levels[level as usize] = coarse;
        }
    }

    /// Uncounts an event counted with the same values.
    pub fn remove(&mut self, lon: f64, lat: f64, category: u16, status: u8, id: i64) {
        let (t, p) = locate(lon, lat);
        for level in MIN_LEVEL..=BASE_ZOOM {
            let down = BASE_ZOOM - level;
            let key = morton(t.x >> down, t.y >> down);
            let map = &mut self.levels[level as usize];
            if let Some(bin) = map.get_mut(&key)
                && bin.remove(p, category, status, id)
                && bin.members == 0
            {
                map.remove(&key);
            }
        }
    }

    /// Events the tile owns (every category and state) at zooms from 3 to [`BASE_ZOOM`];
    /// deeper, those its zoom-16 ancestor owns. `None` below zoom 3.
    #[must_use]
    pub fn members(&self, tile: TileId) -> Option<u32> {
        if tile.z < MIN_LEVEL {
            return None;
        }
        let (z, up) = if tile.z > BASE_ZOOM {
            (BASE_ZOOM, tile.z - BASE_ZOOM)
        } else {
            (tile.z, 0)
        };
        let key = morton(tile.x >> up, tile.y >> up);
        Some(self.levels[z as usize].get(&key).map_or(0, |b| b.members))
    }

    /// Events the tile owns matching `f`, at zooms from 3 to [`BASE_ZOOM`], for a filter
    /// of state and category only ([`EventFilter::inline_only`]); `None` otherwise.
    #[must_use]
    pub fn count(&self, tile: TileId, f: &EventFilter) -> Option<u32> {
        if tile.z < MIN_LEVEL || tile.z > BASE_ZOOM || !f.inline_only() {
            return None;
        }
        let key = morton(tile.x, tile.y);
        let Some(bin) = self.levels[tile.z as usize].get(&key) else {
            return Some(0);
        };
        Some(
            bin.entries
                .iter()
                .filter(|e| f.accepts(e.status, e.category))
                .map(|e| e.count)
                .sum(),
        )
    }

    /// The cells of a tile `cell_zoom - tile.z` zooms deeper (each a tile of `cell_zoom`,
    /// at most [`BASE_ZOOM`]) with their members matching `f`, by row, then column.
    fn cells(&self, tile: TileId, cell_zoom: u8, f: &EventFilter) -> Vec<(u32, u32, Acc)> {
        let depth = cell_zoom - tile.z;
        let shift = 2 * u32::from(depth);
        let first = morton(tile.x, tile.y) << shift;
        let last = first + ((1u64 << shift) - 1);
        let (x0, y0) = (tile.x << depth, tile.y << depth);
        let mut cells: Vec<(u32, u32, Acc)> = Vec::new();
        for (key, bin) in self.levels[cell_zoom as usize].range(first..=last) {
            let mut acc = Acc {
                sum: [0.0; 2],
                count: 0,
                id_xor: 0,
                categories: Vec::new(),
            };
            for e in &bin.entries {
                if f.accepts(e.status, e.category) {
                    acc.count += e.count;
                    acc.id_xor ^= e.id_xor;
                    match acc.categories.iter_mut().find(|c| c.0 == e.category) {
                        Some(c) => c.1 += e.count,
                        None => acc.categories.push((e.category, e.count)),
                    }
                }
            }
            if acc.count == 0 {
                continue;
            }
            // Centre: the bin's centroid, weighted by its matching members.
            let w = f64::from(acc.count) / f64::from(bin.members);
            acc.sum = [bin.sum[0] * w, bin.sum[1] * w];
            cells.push((compact(*key) - x0, compact(*key >> 1) - y0, acc));
        }
        cells.sort_unstable_by_key(|(c, r, _)| (*r, *c));
        cells
    }

    /// Clusters of a tile at zoom ≤ 13 in cells of `extent / 8` (as
    /// `minqing_tiles::cluster_points` with the default options would make them from every
    /// event the tile owns).
    #[must_use]
    pub fn clusters(&self, tile: TileId, extent: u32, f: &EventFilter) -> Vec<Cluster> {
        let scale = f64::from(extent) / f64::from(1u32 << (BASE_ZOOM - tile.z));
        let origin = [
            f64::from(tile.x) * f64::from(1u32 << (BASE_ZOOM - tile.z)),
            f64::from(tile.y) * f64::from(1u32 << (BASE_ZOOM - tile.z)),
        ];
        self.cells(tile, tile.z + 3, f)
            .into_iter()
            .map(|(col, row, mut a)| {
                let n = f64::from(a.count);
                a.categories.sort_unstable();
                Cluster {
                    col: i32::try_from(col).unwrap_or(i32::MAX),
                    row: i32::try_from(row).unwrap_or(i32::MAX),
                    position: [
                        (a.sum[0] / n - origin[0]) * scale,
                        (a.sum[1] / n - origin[1]) * scale,
                    ],
                    count: a.count,
                    weight: n,
                    categories: a.categories,
                    id: (a.count == 1)
                        .then(|| u64::try_from(a.id_xor).ok())
                        .flatten(),
                }
            })
            .collect()
    }

    /// Heat cells of a tile at zoom ≤ 10, 64 per side (as `minqing_tiles::heat_bins` with
    /// the default options would count them).
    #[must_use]
    pub fn heat(&self, tile: TileId, extent: u32, f: &EventFilter) -> Vec<HeatCell> {
        let size = f64::from(extent) / 64.0;
        self.cells(tile, tile.z + 6, f)
            .into_iter()
            .map(|(col, row, a)| HeatCell {
                col: i32::try_from(col).unwrap_or(i32::MAX),
                row: i32::try_from(row).unwrap_or(i32::MAX),
                centre: [(f64::from(col) + 0.5) * size, (f64::from(row) + 0.5) * size],
                count: a.count,
                weight: f64::from(a.count),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minqing_model::{Status, StatusFilter};
    use minqing_tiles::{
        ClusterOptions, ClusterPoint, HeatOptions, HeatPoint, TileProjection, cluster_points,
        heat_bins,
    };
    use rand::{Rng, SeedableRng};

    #[test]
    fn morton_round_trips() {
        for (x, y) in [(0, 0), (65535, 1), (12345, 54321)] {
            let m = morton(x, y);
            assert_eq!((compact(m), compact(m >> 1)), (x, y));
        }
    }

    #[test]
    fn clusters_and_heat_equal_binning_every_event() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut pyramid = Pyramid::default();
        let mut events = Vec::new();
        for id in 1..=30_000i64 {
            let lon = rng.random_range(114.8..116.2);
            let lat = rng.random_range(22.5..23.3);
            let cat = rng.random_range(0..4u16);
            let status = rng.random_range(0..8u8);
            pyramid.add(lon, lat, cat, status, id);
            events.push((lon, lat, cat, status, id));
        }
        // Remove a third (and put some back elsewhere): counts must follow.
        for e in events.iter_mut().step_by(3) {
            pyramid.remove(e.0, e.1, e.2, e.3, e.4);
            e.0 += 0.01;
            e.3 = (e.3 + 1) % 8;
            pyramid.add(e.0, e.1, e.2, e.3, e.4);
        }
        // The start-up path (finest level, then derived) counts the same.
        let mut bulk = Pyramid::default();
        for e in &events {
            bulk.add_base(e.0, e.1, e.2, e.3, e.4);
        }
        bulk.derive();
        for z in [0u8, 4, 9, 13] {
            let t = TileId::containing(115.4, 22.9, z);
            let f = EventFilter::default();
            let a: Vec<_> = pyramid
                .clusters(t, 4096, &f)
                .iter()
                .map(|c| (c.col, c.row, c.count, c.id))
                .collect();
            let b: Vec<_> = bulk
                .clusters(t, 4096, &f)
                .iter()
                .map(|c| (c.col, c.row, c.count, c.id))
                .collect();
            assert_eq!(a, b);
        }
        let filters = [
            EventFilter::default(),
            EventFilter {
                status: StatusFilter::Open,
                categories: Some(vec![1, 3]),
                ..EventFilter::default()
            },
        ];
        for f in &filters {
            let keep = |e: &(f64, f64, u16, u8, i64)| {
                f.status.matches(Status::ALL[e.3 as usize])
                    && f.categories.as_ref().is_none_or(|c| c.contains(&e.2))
            };
            for z in [0u8, 5, 8, 10, 12, 13] {
                let t = TileId::containing(115.4, 22.9, z);
                let proj = TileProjection::with_defaults(t);
                let want = cluster_points(
                    &proj,
                    ClusterOptions::default(),
                    events.iter().filter(|e| keep(e)).map(|e| ClusterPoint {
                        lon: e.0,
                        lat: e.1,
                        id: u64::try_from(e.4).unwrap(),
                        category: e.2,
                        weight: 1.0,
                    }),
                );
                let got = pyramid.clusters(t, 4096, f);
                assert_eq!(got.len(), want.clusters.len(), "z{z}");
                for (g, w) in got.iter().zip(&want.clusters) {
                    assert_eq!((g.col, g.row, g.count), (w.col, w.row, w.count), "z{z}");
                    assert_eq!(g.categories, w.categories);
                    assert_eq!(g.id, w.id);
                    assert!((g.position[0] - w.position[0]).abs() < 600.0);
                }
                if z <= 10 {
                    let want = heat_bins(
                        &proj,
                        HeatOptions::default(),
                        events.iter().filter(|e| keep(e)).map(|e| HeatPoint {
                            lon: e.0,
                            lat: e.1,
                            weight: 1.0,
                        }),
                    );
                    let got = pyramid.heat(t, 4096, f);
                    let g: Vec<_> = got.iter().map(|c| (c.col, c.row, c.count)).collect();
                    let w: Vec<_> = want.cells.iter().map(|c| (c.col, c.row, c.count)).collect();
                    assert_eq!(g, w, "heat z{z}");
                }
            }
        }
    }
}
