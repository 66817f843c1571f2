//! Encoded tiles kept in memory, with their gzip bytes and ETag, invalidated precisely;
//! and [`Encoded`], the bytes + gzip + ETag holder the server also keeps glyphs and web
//! files in.
//!
//! A write dirties only the tiles it touches: every event/heat tile, at every zoom, whose
//! buffered bounds hold the changed point, and the area tiles that draw an area whose
//! counts changed. Each invalidation records the clock on the tile address; a render that
//! started before an invalidation of its address is not stored, so a stale tile can never
//! be cached after the write that made it stale has returned.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use minqing_tiles::{DEFAULT_BUFFER, DEFAULT_EXTENT, TileId};
use parking_lot::Mutex;
use prometheus_client::metrics::counter::Counter;

use crate::render::{Layer, MAX_ZOOM, levels_at_zoom};
use minqing_index::BBox;
use minqing_model::Level;

/// Most tiles kept; past it the cache starts over (simple, and writes keep it fresh).
const MAX_TILES: usize = 200_000;

/// A tile address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileKey {
    /// Layer.
    pub layer: Layer,
    /// Address.
    pub tile: TileId,
}

/// Bytes served as they are or gzip-compressed, with a strong validator: what the tile
/// cache keeps, and what the server keeps of glyph ranges and web files.
///
/// The gzip form is made once, by the first caller of [`Encoded::gzip`] (whoever wants it
/// made off the async threads calls it there), as [`Gzip`] says. The ETag is a 64-bit
/// SipHash of the bytes and their length, quoted.
#[derive(Debug)]
pub struct Encoded {
    raw: Bytes,
    etag: String,
    policy: Gzip,
    gzip: OnceLock<Option<Bytes>>,
}

/// How [`Encoded`] makes and uses its gzip form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gzip {
    /// Compressed fast (zlib level 1) and used whatever its size: for bytes made per write
    /// or per request, such as tiles (a client that accepts gzip always gets gzip).
    Always,
    /// Compressed well (zlib level 6) and used only when smaller than the bytes: for bytes
    /// made once and served many times, such as glyph ranges and web files (fonts and
    /// pictures often are compressed already).
    WhenSmaller,
}

impl Encoded {
    /// Wraps `raw`; nothing is compressed yet.
    #[must_use]
    pub fn new(raw: impl Into<Bytes>, policy: Gzip) -> Encoded {
        let raw: Bytes = raw.into();
        let mut h = DefaultHasher::new();
        raw.hash(&mut h);
        Encoded {
            etag: format!("\"{:016x}-{:x}\"", h.finish(), raw.len()),
            raw,
            policy,
            gzip: OnceLock::new(),
        }
    }

    /// The bytes.
    #[must_use]
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// The strong validator, quoted (`"…"`).
    #[must_use]
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// The gzip form, compressed by the first caller and kept; `None` when [`Gzip`] says
    /// not to use it.
    pub fn gzip(&self) -> Option<Bytes> {
        self.gzip
            .get_or_init(|| {
                let level = match self.policy {
                    Gzip::Always => flate2::Compression::fast(),
                    Gzip::WhenSmaller => flate2::Compression::default(),
                };
                let mut z = flate2::write::GzEncoder::new(Vec::new(), level);
                // Writing to a Vec cannot fail.
                z.write_all(&self.raw)
                    .and_then(|()| z.finish())
                    .ok()
                    .filter(|g| self.policy == Gzip::Always || g.len() < self.raw.len())
                    .map(Bytes::from)
            })
            .clone()
    }

    /// Bytes held: the bytes, and their gzip form once made.
    #[must_use]
    pub fn size(&self) -> usize {
        self.raw.len()
            + self
                .gzip
                .get()
                .and_then(Option::as_ref)
                .map_or(0, Bytes::len)
    }
}

#[derive(Default)]
struct Entry {
    /// Clock of the last invalidation of this address.
    version: u64,
    variants: HashMap<String, Arc<Encoded>>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<TileKey, Entry>,
    /// Tiles held (all variants).
    tiles: usize,
    /// Counts invalidations.
    clock: u64,
    /// Every entry dropped had a version at most this: an address without an entry counts
    /// as invalidated at `floor`.
    floor: u64,
    /// Addresses being rendered (misses not yet put or abandoned), with how many renders.
    /// Only these and cached addresses need an invalidation record: any other address has
    /// nothing that could go stale.
    inflight: HashMap<TileKey, u32>,
}

impl Inner {
    fn invalidate(&mut self, key: TileKey) {
        let clock = self.clock;
        let e = match self.entries.get_mut(&key) {
            Some(e) => e,
            // Neither cached nor being rendered: nothing to dirty, nothing to record.
            None if !self.inflight.contains_key(&key) => return,
            None => self.entries.entry(key).or_default(),
        };
        e.version = clock;
        let n = e.variants.len();
        e.variants.clear();
        self.tiles -= n;
    }

    fn done(&mut self, key: TileKey) {
        if let Some(n) = self.inflight.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.inflight.remove(&key);
            }
        }
    }

    /// Drops entries that hold no tile (left by invalidations) once there are many.
    fn prune(&mut self) {
        if self.entries.len() > 4 * MAX_TILES {
            self.entries.retain(|_, e| !e.variants.is_empty());
            self.floor = self.clock;
        }
    }
}

/// The cache. Cheap to share behind an `Arc`; the lock is held only for map operations,
/// never while rendering or compressing. Memory is bounded: at most 200,000 tiles and
/// a bounded number of invalidation records.
#[derive(Default)]
pub struct TileCache {
    inner: Mutex<Inner>,
    /// Lookups answered from the cache …
    hits: Counter,
    /// … and those that had to render.
    misses: Counter,
}

impl TileCache {
    /// The cached tile for an address and filter variant, with a token to hand back to
    /// [`TileCache::put`].
    ///
    /// A miss registers a render in flight: hand the token back with [`TileCache::put`],
    /// or call [`TileCache::abandon`] when the tile will not be stored.
    pub fn get(&self, key: TileKey, variant: &str) -> (Option<Arc<Encoded>>, u64) {
        let mut g = self.inner.lock();
        let tile = g
            .entries
            .get(&key)
            .and_then(|e| e.variants.get(variant).cloned());
        if tile.is_none() {
            *g.inflight.entry(key).or_insert(0) += 1;
        }
        let clock = g.clock;
        drop(g);
        if tile.is_some() {
            self.hits.inc();
        } else {
            self.misses.inc();
        }
        (tile, clock)
    }

    /// Lookups answered from the cache and lookups that missed, since start (for
    /// `/metrics`).
    #[must_use]
    pub fn lookups(&self) -> (Counter, Counter) {
        (self.hits.clone(), self.misses.clone())
    }

    /// Ends a render of a miss without storing it.
    pub fn abandon(&self, key: TileKey) {
        self.inner.lock().done(key);
    }

    /// Stores a rendered tile unless the address was invalidated since `token` was taken.
    pub fn put(&self, key: TileKey, variant: String, token: u64, tile: Arc<Encoded>) {
        let mut g = self.inner.lock();
        g.done(key);
        let version = g.entries.get(&key).map_or(g.floor, |e| e.version);
        if version > token {
            return;
        }
        if g.tiles >= MAX_TILES {
            g.entries.clear();
            g.tiles = 0;
            g.floor = g.clock;
            if g.floor > token {
                return;
            }
        }
        let e = g.entries.entry(key).or_default();
        if e.variants.insert(variant, tile).is_none() {
            g.tiles += 1;
        }
    }

    /// Dirties every events and heat tile, at every zoom, whose buffered bounds hold a point.
    pub fn invalidate_point(&self, lon: f64, lat: f64) {
        let mut g = self.inner.lock();
        g.clock += 1;
        for z in 0..=MAX_ZOOM {
            for tile in touching(lon, lat, z) {
                for layer in [Layer::Events, Layer::Heat] {
                    g.invalidate(TileKey { layer, tile });
                }
            }
        }
        g.prune();
    }

    /// Dirties the `areas` tiles that may draw an area whose counts changed: those at the
    /// zooms that may show its level whose buffered bounds meet its bounding box.
    pub fn invalidate_area(&self, level: Level, bbox: &BBox) {
        let mut g = self.inner.lock();
        g.clock += 1;
        for z in (0..=MAX_ZOOM).filter(|z| levels_at_zoom(*z).contains(&level)) {
            for tile in covering(bbox, z) {
                g.invalidate(TileKey {
                    layer: Layer::Areas,
                    tile,
                });
            }
        }
        g.prune();
    }
}

/// The tiles of zoom `z` whose buffered bounds meet a box.
///
/// A tile's buffered longitudes depend on its column only and its latitudes on its row
/// only, so each is computed once per column and row (the same values the renderer uses).
fn covering(b: &BBox, z: u8) -> Vec<TileId> {
    let n = 1u32 << z;
    let nw = TileId::containing(b.min_lon, b.max_lat, z);
    let se = TileId::containing(b.max_lon, b.min_lat, z);
    let (x0, x1) = (nw.x.saturating_sub(1), (se.x + 1).min(n - 1));
    let (y0, y1) = (nw.y.saturating_sub(1), (se.y + 1).min(n - 1));
    let bounds = |x: u32, y: u32| {
        TileId::new(z, x, y).map(|t| t.buffered_bounds(DEFAULT_EXTENT, DEFAULT_BUFFER))
    };
    let cols: Vec<u32> = (x0..=x1)
        .filter(|x| bounds(*x, y0).is_some_and(|t| t.west <= b.max_lon && t.east >= b.min_lon))
        .collect();
    let rows: Vec<u32> = (y0..=y1)
        .filter(|y| bounds(x0, *y).is_some_and(|t| t.south <= b.max_lat && t.north >= b.min_lat))
        .collect();
    let mut out = Vec::with_capacity(cols.len() * rows.len());
    for x in &cols {
        for y in &rows {
            if let Some(t) = TileId::new(z, *x, *y) {
                out.push(t);
            }
        }
    }
    out
}

/// The tiles of zoom `z` whose buffered bounds hold the point: its own tile and the
/// neighbours whose buffer reaches it (columns and rows tested apart, as in [`covering`]).
fn touching(lon: f64, lat: f64, z: u8) -> Vec<TileId> {
    let own = TileId::containing(lon, lat, z);
    let n = 1u32 << z;
    let near = |v: u32| {
        [v.checked_sub(1), Some(v), (v + 1 < n).then_some(v + 1)]
            .into_iter()
            .flatten()
    };
    let bounds = |x: u32, y: u32| {
        TileId::new(z, x, y).map(|t| t.buffered_bounds(DEFAULT_EXTENT, DEFAULT_BUFFER))
    };
    let cols: Vec<u32> = near(own.x)
        .filter(|x| bounds(*x, own.y).is_some_and(|t| lon >= t.west && lon <= t.east))
        .collect();
    let rows: Vec<u32> = near(own.y)
        .filter(|y| bounds(own.x, *y).is_some_and(|t| lat >= t.south && lat <= t.north))
        .collect();
    let mut out = vec![own];
    for x in &cols {
        for y in &rows {
            if (*x, *y) != (own.x, own.y)
                && let Some(t) = TileId::new(z, *x, *y)
            {
                out.push(t);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidation_is_precise_and_versions_block_stale_puts() {
        let cache = TileCache::default();
        let here = TileKey {
            layer: Layer::Events,
            tile: TileId::containing(115.37, 22.79, 12),
        };
        let far = TileKey {
            layer: Layer::Events,
            tile: TileId::containing(116.1, 23.4, 12),
        };
        for key in [here, far] {
            let (_, v) = cache.get(key, "");
            cache.put(
                key,
                String::new(),
                v,
                Arc::new(Encoded::new(vec![1, 2, 3], Gzip::Always)),
            );
        }
        let (_, v_before) = cache.get(here, "");
        cache.invalidate_point(115.37, 22.79);
        assert!(cache.get(here, "").0.is_none());
        assert!(
            cache.get(far, "").0.is_some(),
            "an untouched tile stays cached"
        );
        // A render that started before the invalidation is not stored.
        cache.put(
            here,
            String::new(),
            v_before,
            Arc::new(Encoded::new(vec![9], Gzip::Always)),
        );
        assert!(cache.get(here, "").0.is_none());
        let t = Encoded::new(vec![7; 1000], Gzip::Always);
        assert_eq!(t.size(), 1000);
        assert!(t.gzip().is_some_and(|g| g.len() < 100));
        assert!(t.size() < 1100);
        // A gzip form no smaller than the bytes is used only when always wanted.
        assert_eq!(Encoded::new(vec![7; 10], Gzip::WhenSmaller).gzip(), None);
        assert!(Encoded::new(vec![7; 10], Gzip::Always).gzip().is_some());
        let (a, b) = (
            Encoded::new(vec![1], Gzip::Always),
            Encoded::new(vec![2], Gzip::Always),
        );
        assert_ne!(a.etag(), b.etag());
        assert_eq!(a.etag(), Encoded::new(vec![1], Gzip::WhenSmaller).etag());

        // A miss being rendered while a write touches it is not stored either …
        let (none, token) = cache.get(here, "v");
        assert!(none.is_none());
        cache.invalidate_point(115.37, 22.79);
        cache.put(
            here,
            "v".into(),
            token,
            Arc::new(Encoded::new(vec![5], Gzip::Always)),
        );
        assert!(cache.get(here, "v").0.is_none());
        cache.abandon(here);
        // … while addresses neither cached nor being rendered leave no record behind.
        let entries = cache.inner.lock().entries.len();
        cache.invalidate_point(100.0, 30.0);
        assert_eq!(cache.inner.lock().entries.len(), entries);
        let fresh = TileKey {
            layer: Layer::Heat,
            tile: TileId::containing(100.0, 30.0, 5),
        };
        let _ = cache.get(fresh, "");
        assert!(cache.inner.lock().inflight.contains_key(&fresh));
        cache.abandon(fresh);
        assert!(!cache.inner.lock().inflight.contains_key(&fresh));
        // Points on a tile edge dirty the neighbour whose buffer holds them.
        let t = TileId::containing(115.37, 22.79, 10);
        let b = t.bounds();
        assert!(touching(b.west, 22.79, 10).len() >= 2);
    }

    #[test]
    fn lookups_are_counted() {
        let cache = TileCache::default();
        let key = TileKey {
            layer: Layer::Heat,
            tile: TileId::containing(115.37, 22.79, 8),
        };
        let (none, token) = cache.get(key, "");
        assert!(none.is_none());
        cache.put(
            key,
            String::new(),
            token,
            Arc::new(Encoded::new(vec![1], Gzip::Always)),
        );
        assert!(cache.get(key, "").0.is_some());
        assert!(cache.get(key, "").0.is_some());
        let (hits, misses) = cache.lookups();
        assert_eq!((hits.get(), misses.get()), (2, 1));
    }
}
