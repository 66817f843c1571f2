//! Tile math for minqing: pure functions, no IO.
//!
//! Web-Mercator (EPSG:3857) XYZ tiles as MapLibre requests them: tile `(z, x, y)` with `y`
//! counted from the north. Vector-tile encoding grows here next (see the tiles issue).
//!
//! # Layout
//!
//! - [`TileId`]: a tile address, its bounds in lon/lat, and the tile containing a point.

/// Largest zoom level accepted.
pub const MAX_ZOOM: u8 = 24;

/// Latitude limit of Web-Mercator, degrees.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;

/// A tile address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Zoom.
    pub z: u8,
    /// Column, from the west.
    pub x: u32,
    /// Row, from the north.
    pub y: u32,
}

/// A lon/lat box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LonLatBounds {
    /// West.
    pub west: f64,
    /// South.
    pub south: f64,
    /// East.
    pub east: f64,
    /// North.
    pub north: f64,
}

impl TileId {
    /// A tile, if the address exists at its zoom.
    #[must_use]
    pub fn new(z: u8, x: u32, y: u32) -> Option<TileId> {
        let n = 1u64 << z.min(MAX_ZOOM);
        (z <= MAX_ZOOM && u64::from(x) < n && u64::from(y) < n).then_some(TileId { z, x, y })
    }

    /// The tile containing a point at zoom `z` (latitudes clamped to Web-Mercator's range).
    #[must_use]
    pub fn containing(lon: f64, lat: f64, z: u8) -> TileId {
        let z = z.min(MAX_ZOOM);
        let n = f64::from(1u32 << z);
        let lat = lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
        let fx = (lon + 180.0) / 360.0 * n;
        let fy = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
        let max = n - 1.0;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        TileId {
            z,
            x: fx.floor().clamp(0.0, max) as u32,
            y: fy.floor().clamp(0.0, max) as u32,
        }
    }

    /// The tile's bounds in lon/lat.
    #[must_use]
    pub fn bounds(&self) -> LonLatBounds {
        let n = f64::from(1u32 << self.z);
        let lon = |x: f64| x / n * 360.0 - 180.0;
        let lat = |y: f64| {
            (std::f64::consts::PI * (1.0 - 2.0 * y / n))
                .sinh()
                .atan()
                .to_degrees()
        };
        LonLatBounds {
            west: lon(f64::from(self.x)),
            south: lat(f64::from(self.y) + 1.0),
            east: lon(f64::from(self.x) + 1.0),
            north: lat(f64::from(self.y)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z0_covers_the_world_and_points_round_trip() {
        let b = TileId::new(0, 0, 0).unwrap().bounds();
        assert!((b.west + 180.0).abs() < 1e-12 && (b.north - MAX_LAT).abs() < 1e-9);
        // 汕尾 at z14.
        let t = TileId::containing(115.375, 22.786, 14);
        let b = t.bounds();
        assert!(b.west <= 115.375 && 115.375 < b.east && b.south <= 22.786 && 22.786 < b.north);
        assert_eq!(TileId::new(3, 8, 0), None);
        assert_eq!(
            TileId::containing(180.0, -90.0, 2),
            TileId { z: 2, x: 3, y: 3 }
        );
    }
}
