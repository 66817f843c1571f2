//! Tile addresses and Web-Mercator projection into tile-local coordinates.
//!
//! XYZ tiles as MapLibre requests them: tile `(z, x, y)` with `y` counted from the north.
//! Tile-local coordinates run from `0` to `extent` on both axes, `x` to the east and `y` to the
//! south (down), as in the MVT specification.
//!
//! # Which tile owns a point
//!
//! [`TileId::containing`] is the one rule: a point belongs to the tile whose half-open box
//! `[west, east) × (south, north]` holds it, with latitudes clamped to ±[`MAX_LAT`] and the
//! east edge of the world (`lon = 180`) and the south edge (`lat ≤ -MAX_LAT`) folded into the
//! last column and row. Every point therefore belongs to exactly one tile per zoom.
//! [`TileProjection::locate`] applies the same rule (it shares the arithmetic), so counts
//! built on it add up exactly across tiles.

use std::fmt;

/// Largest zoom level accepted.
pub const MAX_ZOOM: u8 = 24;

/// Latitude limit of Web-Mercator, degrees.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;

/// Default tile extent (tile-local units per tile side), as in the MVT specification.
pub const DEFAULT_EXTENT: u32 = 4096;

/// Default buffer around a tile, in tile-local units.
pub const DEFAULT_BUFFER: u32 = 64;

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

/// Why a tile address was rejected by [`TileId::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TileIdError {
    /// A component is not a plain decimal number (digits only, no sign, at most 10 digits).
    NotANumber(String),
    /// The zoom is above [`MAX_ZOOM`].
    ZoomTooLarge(u64),
    /// `x` or `y` is not below `2^z`.
    OutOfRange {
        /// Zoom.
        z: u8,
        /// Column.
        x: u64,
        /// Row.
        y: u64,
    },
}

impl fmt::Display for TileIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TileIdError::NotANumber(s) => write!(f, "tile coordinate {s:?} is not a number"),
            TileIdError::ZoomTooLarge(z) => write!(f, "zoom {z} is above {MAX_ZOOM}"),
            TileIdError::OutOfRange { z, x, y } => {
                write!(
                    f,
                    "tile {z}/{x}/{y} does not exist (x and y must be below 2^{z})"
                )
            }
        }
    }
}

impl std::error::Error for TileIdError {}

/// Fractional "world" tile coordinates of a point at zoom `z`: `x` in `[0, 2^z]` from the
/// west, `y` in `[0, 2^z]` from the north (latitudes clamped to Web-Mercator's range).
#[must_use]
pub fn world_xy(lon: f64, lat: f64, z: u8) -> (f64, f64) {
    let n = f64::from(1u32 << z.min(MAX_ZOOM));
    let lat = lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    let fx = (lon + 180.0) / 360.0 * n;
    let fy = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    (fx, fy)
}

/// Grid steps across the world in [`world_u32`] coordinates: 2^32.
const WORLD_STEPS: f64 = 4_294_967_296.0;

/// Web-Mercator position of a lon/lat point on a grid of 2^32 steps across the world (`x`
/// east from 180° W, `y` south from the northern edge), rounded to the nearest step:
/// "32-bit world coordinates", as Tippecanoe keeps geometry. A caller that projects the same
/// points into many tiles keeps these (8 bytes a point) and calls
/// [`TileProjection::project_world`], which needs no trigonometry. One step is 2^(z−20)
/// tile units at zoom `z` with extent 4096: a point is at most half a unit off at z20 and
/// 1/32 of a unit at z16; equal points stay equal, so shared edges stay shared.
#[must_use]
pub fn world_u32(lon: f64, lat: f64) -> [u32; 2] {
    let (fx, fy) = world_xy(lon, lat, 0);
    let step = |f: f64| {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let s = (f * WORLD_STEPS).round().clamp(0.0, WORLD_STEPS - 1.0) as u32;
        s
    };
    [step(fx), step(fy)]
}

/// The tile index along one axis for a world coordinate, clamped to `[0, n)`.
fn axis_index(f: f64, n: f64) -> u32 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let i = f.floor().clamp(0.0, n - 1.0) as u32;
    i
}

impl TileId {
    /// A tile, if the address exists at its zoom.
    #[must_use]
    pub fn new(z: u8, x: u32, y: u32) -> Option<TileId> {
        let n = 1u64 << z.min(MAX_ZOOM);
        (z <= MAX_ZOOM && u64::from(x) < n && u64::from(y) < n).then_some(TileId { z, x, y })
    }

    /// Parses and validates a tile address from URL path segments `{z}/{x}/{y}`.
    ///
    /// # Errors
    ///
    /// [`TileIdError`] when a segment is not a plain decimal number, the zoom is above
    /// [`MAX_ZOOM`], or `x`/`y` is out of range for the zoom.
    pub fn parse(z: &str, x: &str, y: &str) -> Result<TileId, TileIdError> {
        fn num(s: &str) -> Result<u64, TileIdError> {
            if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(TileIdError::NotANumber(s.chars().take(32).collect()));
            }
            s.parse::<u64>()
                .map_err(|_| TileIdError::NotANumber(s.to_owned()))
        }
        let (zn, xn, yn) = (num(z)?, num(x)?, num(y)?);
        let zoom = u8::try_from(zn)
            .ok()
            .filter(|&z| z <= MAX_ZOOM)
            .ok_or(TileIdError::ZoomTooLarge(zn))?;
        let out = TileIdError::OutOfRange {
            z: zoom,
            x: xn,
            y: yn,
        };
        let (xi, yi) = (u32::try_from(xn), u32::try_from(yn));
        match (xi, yi) {
            (Ok(xi), Ok(yi)) => TileId::new(zoom, xi, yi).ok_or(out),
            _ => Err(out),
        }
    }

    /// The tile containing a point at zoom `z` (see the module docs for the edge rule).
    #[must_use]
    pub fn containing(lon: f64, lat: f64, z: u8) -> TileId {
        let z = z.min(MAX_ZOOM);
        let n = f64::from(1u32 << z);
        let (fx, fy) = world_xy(lon, lat, z);
        TileId {
            z,
            x: axis_index(fx, n),
            y: axis_index(fy, n),
        }
    }

    /// The tile's bounds in lon/lat.
    #[must_use]
    pub fn bounds(&self) -> LonLatBounds {
        self.world_box_bounds(
            f64::from(self.x),
            f64::from(self.y),
            f64::from(self.x) + 1.0,
            f64::from(self.y) + 1.0,
        )
    }

    /// The tile's bounds grown by `buffer` tile-local units (of `extent` per side) on every
    /// side, clamped to the Web-Mercator world: the box to query an index with when building
    /// the tile. Longitudes are clamped to `[-180, 180]` (no wrap-around).
    #[must_use]
    pub fn buffered_bounds(&self, extent: u32, buffer: u32) -> LonLatBounds {
        let n = f64::from(1u32 << self.z);
        let pad = f64::from(buffer) / f64::from(extent.max(1));
        let (x0, y0) = (f64::from(self.x) - pad, f64::from(self.y) - pad);
        let (x1, y1) = (f64::from(self.x) + 1.0 + pad, f64::from(self.y) + 1.0 + pad);
        self.world_box_bounds(x0.max(0.0), y0.max(0.0), x1.min(n), y1.min(n))
    }

    fn world_box_bounds(&self, x0: f64, y0: f64, x1: f64, y1: f64) -> LonLatBounds {
        let n = f64::from(1u32 << self.z);
        let lon = |x: f64| x / n * 360.0 - 180.0;
        let lat = |y: f64| {
            (std::f64::consts::PI * (1.0 - 2.0 * y / n))
                .sinh()
                .atan()
                .to_degrees()
        };
        LonLatBounds {
            west: lon(x0),
            south: lat(y1),
            east: lon(x1),
            north: lat(y0),
        }
    }

    /// The four tiles one zoom deeper, in the order NW, NE, SW, SE; `None` at [`MAX_ZOOM`].
    #[must_use]
    pub fn children(&self) -> Option<[TileId; 4]> {
        if self.z >= MAX_ZOOM {
            return None;
        }
        let (z, x, y) = (self.z + 1, self.x * 2, self.y * 2);
        Some([
            TileId { z, x, y },
            TileId { z, x: x + 1, y },
            TileId { z, x, y: y + 1 },
            TileId {
                z,
                x: x + 1,
                y: y + 1,
            },
        ])
    }

    /// The tile one zoom up that contains this one; `None` at zoom 0.
    #[must_use]
    pub fn parent(&self) -> Option<TileId> {
        (self.z > 0).then(|| TileId {
            z: self.z - 1,
            x: self.x / 2,
            y: self.y / 2,
        })
    }
}

/// Projects lon/lat into one tile's local coordinates (`0..extent`, `y` down).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TileProjection {
    /// The tile.
    pub tile: TileId,
    /// Tile-local units per tile side.
    pub extent: u32,
    /// Buffer around the tile, in tile-local units.
    pub buffer: u32,
}

impl TileProjection {
    /// A projection for `tile` with the given extent and buffer.
    #[must_use]
    pub fn new(tile: TileId, extent: u32, buffer: u32) -> TileProjection {
        TileProjection {
            tile,
            extent: extent.max(1),
            buffer,
        }
    }

    /// A projection with [`DEFAULT_EXTENT`] and [`DEFAULT_BUFFER`].
    #[must_use]
    pub fn with_defaults(tile: TileId) -> TileProjection {
        TileProjection::new(tile, DEFAULT_EXTENT, DEFAULT_BUFFER)
    }

    /// Tile-local coordinates of a lon/lat point, not rounded and not clamped to the tile.
    #[must_use]
    pub fn project(&self, lon: f64, lat: f64) -> [f64; 2] {
        let (fx, fy) = world_xy(lon, lat, self.tile.z);
        self.local(fx, fy)
    }

    /// Tile-local coordinates of a point in [`world_u32`] coordinates, not rounded and not
    /// clamped to the tile. Exact arithmetic for power-of-two extents (the scale is a power
    /// of two), so a point projects alike in every tile.
    #[must_use]
    #[inline]
    pub fn project_world(&self, p: [u32; 2]) -> [f64; 2] {
        let n = f64::from(1u32 << self.tile.z.min(MAX_ZOOM));
        let e = f64::from(self.extent);
        let scale = n / WORLD_STEPS * e;
        [
            f64::from(p[0]) * scale - f64::from(self.tile.x) * e,
            f64::from(p[1]) * scale - f64::from(self.tile.y) * e,
        ]
    }

    fn local(&self, fx: f64, fy: f64) -> [f64; 2] {
        let e = f64::from(self.extent);
        [
            (fx - f64::from(self.tile.x)) * e,
            (fy - f64::from(self.tile.y)) * e,
        ]
    }

    /// Tile-local coordinates rounded to the integer grid (half away from zero; saturating).
    #[must_use]
    pub fn project_int(&self, lon: f64, lat: f64) -> [i32; 2] {
        round_coord(self.project(lon, lat))
    }

    /// Projects a ring or line of `[lon, lat]` points.
    #[must_use]
    pub fn project_line(&self, points: &[[f64; 2]]) -> Vec<[f64; 2]> {
        points.iter().map(|p| self.project(p[0], p[1])).collect()
    }

    /// Tile-local coordinates of the point if this tile owns it by the rule of
    /// [`TileId::containing`] (half-open `[west, east) × (south, north]`); the coordinates then
    /// lie in `[0, extent)` on both axes, except at the world's east/south edge where they can
    /// equal `extent`.
    #[must_use]
    pub fn locate(&self, lon: f64, lat: f64) -> Option<[f64; 2]> {
        let z = self.tile.z;
        let n = f64::from(1u32 << z);
        let (fx, fy) = world_xy(lon, lat, z);
        (axis_index(fx, n) == self.tile.x && axis_index(fy, n) == self.tile.y)
            .then(|| self.local(fx, fy))
    }

    /// A projection of points into this tile that replaces the `tan`, `cos` and `ln` of
    /// each point by a polynomial (see [`FastProjection::project_int`]): for tiles of many
    /// points.
    #[must_use]
    pub fn fast(&self) -> FastProjection {
        let b = self.buffered_bounds();
        let (south, north) = if self.tile.z >= FastProjection::MIN_ZOOM {
            (
                b.south.clamp(-MAX_LAT, MAX_LAT).to_radians(),
                b.north.clamp(-MAX_LAT, MAX_LAT).to_radians(),
            )
        } else {
            (f64::INFINITY, f64::NEG_INFINITY)
        };
        let mid = if south <= north {
            f64::midpoint(south, north)
        } else {
            0.0
        };
        let (sec, tan) = (1.0 / mid.cos(), mid.tan());
        let t2 = tan * tan;
        FastProjection {
            proj: *self,
            south,
            north,
            mid,
            y_mid: (tan + sec).ln(),
            c: [
                sec,
                sec * tan / 2.0,
                sec * (2.0 * t2 + 1.0) / 6.0,
                sec * tan * (6.0 * t2 + 5.0) / 24.0,
            ],
        }
    }

    /// The tile's lon/lat bounds including the buffer (see [`TileId::buffered_bounds`]).
    #[must_use]
    pub fn buffered_bounds(&self) -> LonLatBounds {
        self.tile.buffered_bounds(self.extent, self.buffer)
    }

    /// The buffered tile box in tile-local coordinates: `[-buffer, extent + buffer]`².
    #[must_use]
    pub fn clip_box(&self) -> crate::ClipBox {
        crate::ClipBox::for_tile(self.extent, self.buffer)
    }
}

/// Projects many points into one tile without trigonometry per point (see
/// [`TileProjection::fast`]).
#[derive(Debug, Clone, Copy)]
pub struct FastProjection {
    proj: TileProjection,
    /// Latitudes (radians) where the series is used: the buffered tile's, at zoom ≥
    /// [`FastProjection::MIN_ZOOM`]; an empty range below it.
    south: f64,
    north: f64,
    /// Middle latitude (radians) and Mercator `y` there (`ln(tan φ + sec φ)`).
    mid: f64,
    y_mid: f64,
    /// Taylor coefficients of Mercator `y` about `mid`, orders 1 to 4.
    c: [f64; 4],
}

impl FastProjection {
    /// Lowest zoom at which the series is used (tiles at most 0.088° of latitude high).
    pub const MIN_ZOOM: u8 = 12;

    /// As [`TileProjection::project_int`]. Within the buffered tile at zoom ≥
    /// [`FastProjection::MIN_ZOOM`], Mercator `y` comes from its Taylor series about the tile's
    /// middle latitude (to the fourth order; the result differs from the exact projection by
    /// floating-point rounding only: less than 10⁻¹⁵ × (1 + sec φ) of the world's width,
    /// under 0.1 µm at mid-latitudes, tested); elsewhere the point is projected exactly.
    #[must_use]
    pub fn project_int(&self, lon: f64, lat: f64) -> [i32; 2] {
        round_coord(self.project(lon, lat))
    }

    /// As [`TileProjection::project`], but for rounding (see [`FastProjection::project_int`]).
    #[must_use]
    pub fn project(&self, lon: f64, lat: f64) -> [f64; 2] {
        let phi = lat.to_radians();
        if !(phi >= self.south && phi <= self.north) {
            return self.proj.project(lon, lat);
        }
        let d = phi - self.mid;
        let y = self.y_mid + d * (self.c[0] + d * (self.c[1] + d * (self.c[2] + d * self.c[3])));
        let n = f64::from(1u32 << self.proj.tile.z.min(MAX_ZOOM));
        let fx = (lon + 180.0) / 360.0 * n;
        let fy = (1.0 - y / std::f64::consts::PI) / 2.0 * n;
        self.proj.local(fx, fy)
    }
}

/// Rounds a tile-local point to the integer grid (half away from zero, saturating at the
/// `i32` range). Deterministic per point, so shared vertices stay shared.
#[must_use]
pub fn round_coord(p: [f64; 2]) -> [i32; 2] {
    #[allow(clippy::cast_possible_truncation)]
    [p[0].round() as i32, p[1].round() as i32]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_projection_is_the_exact_one_but_for_rounding() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let mut worst: f64 = 0.0;
        for _ in 0..20_000 {
            let z: u8 = rng.random_range(0..=MAX_ZOOM);
            let (lon, lat) = (
                rng.random_range(-180.0..180.0),
                rng.random_range(-MAX_LAT..MAX_LAT),
            );
            let t = TileId::containing(lon, lat, z);
            let p = TileProjection::with_defaults(t);
            let f = p.fast();
            let b = p.buffered_bounds();
            // Points all over the buffered tile, and some outside it.
            for _ in 0..20 {
                let (x, y) = (
                    rng.random_range(b.west - 0.01..=b.east + 0.01),
                    rng.random_range(b.south - 0.01..=b.north + 0.01),
                );
                let (exact, fast) = (p.project(x, y), f.project(x, y));
                // In widths of the world: the exact projection's own rounding is ~1e-16.
                let world = f64::from(1u32 << z) * f64::from(DEFAULT_EXTENT);
                let e = (exact[0] - fast[0]).abs().max((exact[1] - fast[1]).abs()) / world;
                // Both roundings grow with sec φ (the slope of Mercator y).
                worst = worst.max(e / (1.0 + 1.0 / y.to_radians().cos()));
                let rounded = f.project_int(x, y);
                for k in 0..2 {
                    assert!((f64::from(rounded[k]) - exact[k]).abs() <= 0.5 + 1e-9);
                }
            }
        }
        assert!(worst < 1e-15, "{worst}");
    }

    #[test]
    fn world_coordinates_project_within_half_a_step_of_the_exact_projection() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..20_000 {
            let (lon, lat) = (
                rng.random_range(-180.0..180.0),
                rng.random_range(-85.0..85.0),
            );
            let z: u8 = rng.random_range(0..=MAX_ZOOM);
            let n = 1u32 << z;
            let tile = TileId::new(z, rng.random_range(0..n), rng.random_range(0..n)).unwrap();
            let p = TileProjection::with_defaults(tile);
            let (a, b) = (p.project(lon, lat), p.project_world(world_u32(lon, lat)));
            // Half a grid step, in tile units, plus the exact projection's own rounding.
            let half_step = f64::from(n) * f64::from(DEFAULT_EXTENT) / WORLD_STEPS / 2.0;
            let slack = half_step + 1e-9 * f64::from(n) * f64::from(DEFAULT_EXTENT);
            for k in 0..2 {
                assert!(
                    (a[k] - b[k]).abs() <= slack,
                    "{lon} {lat} {tile:?}: {a:?} vs {b:?}"
                );
            }
        }
        // The corners of the world stay on the grid.
        assert_eq!(world_u32(-180.0, MAX_LAT), [0, 0]);
        assert_eq!(world_u32(180.0, -MAX_LAT), [u32::MAX, u32::MAX]);
        // At z20 with extent 4096 one step is one tile unit: projection is exact.
        let t = TileId::new(20, 5, 7).unwrap();
        let p = TileProjection::with_defaults(t);
        assert_eq!(
            p.project_world([5 * 4096 + 3, 7 * 4096 + 4000]),
            [3.0, 4000.0]
        );
    }

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

    #[test]
    fn parse_validates() {
        assert_eq!(
            TileId::parse("3", "7", "0"),
            Ok(TileId { z: 3, x: 7, y: 0 })
        );
        assert_eq!(
            TileId::parse("3", "8", "0"),
            Err(TileIdError::OutOfRange { z: 3, x: 8, y: 0 })
        );
        assert_eq!(
            TileId::parse("25", "0", "0"),
            Err(TileIdError::ZoomTooLarge(25))
        );
        assert!(matches!(
            TileId::parse("-1", "0", "0"),
            Err(TileIdError::NotANumber(_))
        ));
        assert!(matches!(
            TileId::parse("1", "+1", "0"),
            Err(TileIdError::NotANumber(_))
        ));
        assert!(matches!(
            TileId::parse("1", "", "0"),
            Err(TileIdError::NotANumber(_))
        ));
        assert!(matches!(
            TileId::parse("1", "0", "0.pbf"),
            Err(TileIdError::NotANumber(_))
        ));
        assert!(matches!(
            TileId::parse("24", "99999999999", "0"),
            Err(TileIdError::NotANumber(_))
        ));
        assert!(matches!(
            TileId::parse("24", "4294967295", "0"),
            Err(TileIdError::OutOfRange { .. })
        ));
        assert!(TileId::parse("24", "16777215", "16777215").is_ok());
    }

    #[test]
    fn children_and_parent() {
        let t = TileId::new(5, 10, 20).unwrap();
        let kids = t.children().unwrap();
        for k in kids {
            assert_eq!(k.parent(), Some(t));
            let b = k.bounds();
            let c = TileId::containing(
                f64::midpoint(b.west, b.east),
                f64::midpoint(b.south, b.north),
                5,
            );
            assert_eq!(c, t);
        }
        assert_eq!(kids[0], TileId { z: 6, x: 20, y: 40 });
        assert_eq!(kids[3], TileId { z: 6, x: 21, y: 41 });
        assert_eq!(TileId::new(0, 0, 0).unwrap().parent(), None);
        assert_eq!(TileId::new(MAX_ZOOM, 0, 0).unwrap().children(), None);
    }

    #[test]
    fn projection_maps_corners_and_buffer() {
        let t = TileId::containing(115.375, 22.786, 12);
        let p = TileProjection::with_defaults(t);
        let b = t.bounds();
        let nw = p.project(b.west, b.north);
        let se = p.project(b.east, b.south);
        assert!(nw[0].abs() < 1e-6 && nw[1].abs() < 1e-6, "{nw:?}");
        assert!(
            (se[0] - 4096.0).abs() < 1e-6 && (se[1] - 4096.0).abs() < 1e-6,
            "{se:?}"
        );
        assert_eq!(p.project_int(b.west, b.north), [0, 0]);
        let bb = p.buffered_bounds();
        let a = p.project(bb.west, bb.north);
        let c = p.project(bb.east, bb.south);
        assert!(
            (a[0] + 64.0).abs() < 1e-6 && (a[1] + 64.0).abs() < 1e-6,
            "{a:?}"
        );
        assert!(
            (c[0] - 4160.0).abs() < 1e-6 && (c[1] - 4160.0).abs() < 1e-6,
            "{c:?}"
        );
        // At z0 the buffer is clamped to the world.
        let w = TileId::new(0, 0, 0).unwrap().buffered_bounds(4096, 64);
        assert!((w.west + 180.0).abs() < 1e-12 && (w.east - 180.0).abs() < 1e-12);
        assert!((w.north - MAX_LAT).abs() < 1e-9);
    }

    #[test]
    fn locate_follows_the_half_open_rule() {
        let t = TileId::new(4, 5, 6).unwrap();
        let p = TileProjection::with_defaults(t);
        let b = t.bounds();
        // West and north edges belong to the tile, east and south edges do not.
        assert!(p.locate(b.west, f64::midpoint(b.south, b.north)).is_some());
        assert!(p.locate(f64::midpoint(b.west, b.east), b.north).is_some());
        assert!(p.locate(b.east, f64::midpoint(b.south, b.north)).is_none());
        assert!(p.locate(f64::midpoint(b.west, b.east), b.south).is_none());
        for (lon, lat) in [
            (b.west, b.north),
            (b.east, b.south),
            (b.east, b.north),
            (b.west, b.south),
        ] {
            let owner = TileId::containing(lon, lat, 4);
            assert_eq!(p.locate(lon, lat).is_some(), owner == t);
            let q = TileProjection::with_defaults(owner)
                .locate(lon, lat)
                .unwrap();
            assert!(
                (0.0..4096.0).contains(&q[0]) && (0.0..4096.0).contains(&q[1]),
                "{q:?}"
            );
        }
    }
}
