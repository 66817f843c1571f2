//! Encoded tiles kept in memory, with their gzip bytes and ETag, invalidated precisely.
//!
//! A write dirties only the tiles it touches: every event/heat tile, at every zoom, whose
//! buffered bounds hold the changed point. Each tile address carries a version; a render
//! that started before an invalidation is not stored, so a stale tile can never be cached
//! after the write that made it stale has returned.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use minqing_tiles::{DEFAULT_BUFFER, DEFAULT_EXTENT, TileId};
use parking_lot::Mutex;

use crate::render::{Layer, MAX_ZOOM};

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

/// An encoded tile.
#[derive(Debug)]
pub struct CachedTile {
    /// MVT bytes (empty for an empty tile).
    pub raw: Bytes,
    /// The same, gzip-compressed, made on first request by a client that accepts it.
    gzip: Mutex<Option<Bytes>>,
    /// Strong validator, quoted.
    pub etag: String,
}

impl CachedTile {
    /// Wraps freshly rendered bytes.
    #[must_use]
    pub fn new(raw: Vec<u8>) -> CachedTile {
        let mut h = DefaultHasher::new();
        raw.hash(&mut h);
        CachedTile {
            etag: format!("\"{:016x}-{:x}\"", h.finish(), raw.len()),
            raw: Bytes::from(raw),
            gzip: Mutex::new(None),
        }
    }

    /// The gzip bytes, compressed once and kept.
    pub fn gzip(&self) -> Bytes {
        let mut slot = self.gzip.lock();
        if let Some(b) = &*slot {
            return b.clone();
        }
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        // Writing to a Vec cannot fail.
        let _ = enc.write_all(&self.raw);
        let b = Bytes::from(enc.finish().unwrap_or_default());
        *slot = Some(b.clone());
        b
    }
}

#[derive(Default)]
struct Entry {
    version: u64,
    variants: HashMap<String, Arc<CachedTile>>,
}

/// The cache. Cheap to share behind an `Arc`; the lock is held only for map operations,
/// never while rendering or compressing.
#[derive(Default)]
pub struct TileCache {
    tiles: Mutex<(HashMap<TileKey, Entry>, usize)>,
}

impl TileCache {
    /// The cached tile for an address and filter variant, with the address's version (to
    /// hand back to [`TileCache::put`]).
    pub fn get(&self, key: TileKey, variant: &str) -> (Option<Arc<CachedTile>>, u64) {
        let g = self.tiles.lock();
        match g.0.get(&key) {
            Some(e) => (e.variants.get(variant).cloned(), e.version),
            None => (None, 0),
        }
    }

    /// Stores a rendered tile unless the address was invalidated since `version` was read.
    pub fn put(&self, key: TileKey, variant: String, version: u64, tile: Arc<CachedTile>) {
        let mut g = self.tiles.lock();
        if g.1 >= MAX_TILES {
            // Keep versions (they guard against stale puts), drop the tiles.
            for e in g.0.values_mut() {
                e.variants.clear();
            }
            g.1 = 0;
        }
        let e = g.0.entry(key).or_default();
        if e.version == version && e.variants.insert(variant, tile).is_none() {
            g.1 += 1;
        }
    }

    /// Dirties every events and heat tile, at every zoom, whose buffered bounds hold a point.
    pub fn invalidate_point(&self, lon: f64, lat: f64) {
        let mut g = self.tiles.lock();
        for z in 0..=MAX_ZOOM {
            for tile in touching(lon, lat, z) {
                for layer in [Layer::Events, Layer::Heat] {
                    let e = g.0.entry(TileKey { layer, tile }).or_default();
                    e.version += 1;
                    let n = e.variants.len();
                    e.variants.clear();
                    g.1 -= n;
                }
            }
        }
    }
}

/// The tiles of zoom `z` whose buffered bounds hold the point: its own tile and the
/// neighbours whose buffer reaches it.
fn touching(lon: f64, lat: f64, z: u8) -> Vec<TileId> {
    let own = TileId::containing(lon, lat, z);
    let mut out = vec![own];
    for dx in -1i64..=1 {
        for dy in -1i64..=1 {
            if dx == 0 && dy == 0 {
                continue;
            }
            let (x, y) = (i64::from(own.x) + dx, i64::from(own.y) + dy);
            let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) else {
                continue;
            };
            if let Some(t) = TileId::new(z, x, y) {
                let b = t.buffered_bounds(DEFAULT_EXTENT, DEFAULT_BUFFER);
                if lon >= b.west && lon <= b.east && lat >= b.south && lat <= b.north {
                    out.push(t);
                }
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
                Arc::new(CachedTile::new(vec![1, 2, 3])),
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
            Arc::new(CachedTile::new(vec![9])),
        );
        assert!(cache.get(here, "").0.is_none());
        let t = CachedTile::new(vec![7; 1000]);
        assert!(t.gzip().len() < 100);
        // Points on a tile edge dirty the neighbour whose buffer holds them.
        let t = TileId::containing(115.37, 22.79, 10);
        let b = t.bounds();
        assert!(touching(b.west, 22.79, 10).len() >= 2);
    }
}
