//! Distances on the WGS84 ellipsoid, as PostGIS `geography` measures them.
//!
//! Points are also kept as earth-centred (ECEF) coordinates on the ellipsoid surface. The
//! straight chord between two surface points is never longer than the geodesic between
//! them, so an R-tree over ECEF points yields candidates in an order whose distances are
//! **lower bounds** of the true distances: a k-nearest search can stop as soon as the next
//! chord exceeds the k-th best true distance, and the answer is exact.
//!
//! The true distance of a candidate is computed from its chord `c` with the arc series of
//! the normal section, `s = c + c³/(24R²) + 3c⁵/(640R⁴)`, where `R` is the radius of
//! curvature in the chord's azimuth (Euler's formula, at the query's latitude: within the
//! series' range the change of curvature along the line moves the result by well under a
//! micrometre). Below
//! [`SERIES_LIMIT_M`] this agrees with Karney's geodesic (what PostGIS uses) to well under a
//! micrometre (unit-tested); beyond it Karney's algorithm itself is used.

use geographiclib_rs::{Geodesic, InverseGeodesic};

/// WGS84 semi-major axis, metres.
pub const A: f64 = 6_378_137.0;
/// WGS84 flattening.
pub const F: f64 = 1.0 / 298.257_223_563;
/// First eccentricity squared.
pub const E2: f64 = F * (2.0 - F);

/// Longest chord, in metres, for which the arc series is used instead of Karney's algorithm.
pub const SERIES_LIMIT_M: f64 = 20_000.0;

/// ECEF coordinates (metres) of a point on the ellipsoid surface.
#[must_use]
pub fn ecef(lon: f64, lat: f64) -> [f64; 3] {
    let (sl, cl) = lon.to_radians().sin_cos();
    let (sp, cp) = lat.to_radians().sin_cos();
    let n = A / (1.0 - E2 * sp * sp).sqrt();
    [n * cp * cl, n * cp * sl, n * (1.0 - E2) * sp]
}

/// Squared straight-line distance between two earth-centred positions.
#[inline]
#[must_use]
pub(crate) fn chord2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

/// The greatest curvature of the ellipsoid's surface (that of the meridian at the
/// equator), 1/m.
pub const KAPPA_MAX: f64 = 1.0 / (A * (1.0 - E2));

/// Chords beyond which [`arc_bound`] gives up (a geodesic longer than half a great circle
/// of the most curved section escapes the comparison it rests on).
pub const ARC_BOUND_MAX_CHORD_M: f64 = 1_000_000.0;

/// The longest geodesic between two surface points `chord` metres apart, or infinity past
/// [`ARC_BOUND_MAX_CHORD_M`]. A geodesic curves in space only as the surface bends it, at
/// most [`KAPPA_MAX`]; a curve of curvature at most κ and length s ≤ π/κ spans a chord of at
/// least (2/κ) sin(κs/2) (Schur's comparison theorem), so s ≤ (2/κ) asin(κc/2). With
/// x = κc/2, asin x ≤ x + x³/(6(1 − x²)) (every coefficient of its series past the first is
/// at most 1/6), which spares the arcsine. Computed chords carry rounding of their own, a
/// nanometre or so: callers add a micrometre.
#[must_use]
pub fn arc_bound(chord: f64) -> f64 {
    if chord > ARC_BOUND_MAX_CHORD_M {
        return f64::INFINITY;
    }
    let x2 = (KAPPA_MAX * chord / 2.0).powi(2);
    chord * (1.0 + x2 / (6.0 * (1.0 - x2)))
}

/// Exact geodesic distance in metres (Karney's algorithm).
#[must_use]
pub fn distance_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    thread_local! {
        static WGS84: Geodesic = Geodesic::wgs84();
    }
    WGS84.with(|g| InverseGeodesic::<f64>::inverse(g, lat1, lon1, lat2, lon2))
}

/// A query point with everything precomputed to measure many candidates from it.
#[derive(Debug, Clone, Copy)]
pub struct From {
    /// Longitude, degrees.
    pub lon: f64,
    /// Latitude, degrees.
    pub lat: f64,
    /// ECEF position.
    pub xyz: [f64; 3],
    east: [f64; 3],
    north: [f64; 3],
    /// Reciprocals of the radii of curvature at the query: meridional (M) and prime
    /// vertical (N).
    inv_m: f64,
    inv_n: f64,
}

impl From {
    /// Prepares a query point.
    #[must_use]
    pub fn new(lon: f64, lat: f64) -> From {
        let (sl, cl) = lon.to_radians().sin_cos();
        let (sp, cp) = lat.to_radians().sin_cos();
        let w2 = 1.0 - E2 * sp * sp;
        From {
            lon,
            lat,
            xyz: ecef(lon, lat),
            east: [-sl, cl, 0.0],
            north: [-sp * cl, -sp * sl, cp],
            inv_m: (w2 * w2.sqrt()) / (A * (1.0 - E2)),
            inv_n: w2.sqrt() / A,
        }
    }

    /// Unit vector pointing east at this point.
    #[must_use]
    pub fn east(&self) -> [f64; 3] {
        self.east
    }

    /// Unit vector pointing north at this point.
    #[must_use]
    pub fn north(&self) -> [f64; 3] {
        self.north
    }

    /// True distance in metres to a point at ECEF position `xyz`, whose squared chord from
    /// this point is `chord2`; `lon_lat` gives the point's position for long lines (only
    /// called beyond [`SERIES_LIMIT_M`]).
    #[must_use]
    pub fn distance(
        &self,
        xyz: &[f64; 3],
        chord2: f64,
        lon_lat: impl FnOnce() -> (f64, f64),
    ) -> f64 {
        let c = chord2.sqrt();
        if c > SERIES_LIMIT_M {
            let (lon, lat) = lon_lat();
            return distance_m(self.lon, self.lat, lon, lat);
        }
        if c == 0.0 {
            return 0.0;
        }
        let d = [
            xyz[0] - self.xyz[0],
            xyz[1] - self.xyz[1],
            xyz[2] - self.xyz[2],
        ];
        let de = d[0] * self.east[0] + d[1] * self.east[1];
        let dn = d[0] * self.north[0] + d[1] * self.north[1] + d[2] * self.north[2];
        let h2 = de * de + dn * dn;
        let cos2 = if h2 > 0.0 { dn * dn / h2 } else { 1.0 };
        // Euler: curvature of the normal section at azimuth α.
        let k = cos2 * self.inv_m + (1.0 - cos2) * self.inv_n;
        let ck2 = c * c * k * k;
        c * (1.0 + ck2 / 24.0 + 3.0 * ck2 * ck2 / 640.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn series_matches_karney_below_a_micrometre() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut worst: f64 = 0.0;
        for _ in 0..20_000 {
            let lat = rng.random_range(-80.0..80.0);
            let lon = rng.random_range(-180.0..180.0);
            let scale = 10f64.powf(rng.random_range(-6.0..-0.75));
            let lat2: f64 = (lat + rng.random_range(-1.0..1.0) * scale).clamp(-89.0, 89.0);
            let lon2 = lon + rng.random_range(-1.0..1.0) * scale;
            let q = From::new(lon, lat);
            let p = ecef(lon2, lat2);
            let c2 = chord2(&q.xyz, &p);
            let fast = q.distance(&p, c2, || (lon2, lat2));
            let exact = distance_m(lon, lat, lon2, lat2);
            assert!(
                c2.sqrt() <= exact + 1e-8,
                "chord is a lower bound (up to rounding)"
            );
            worst = worst.max((fast - exact).abs());
        }
        assert!(worst < 1e-6, "worst error {worst} m");
    }

    #[test]
    fn arc_bound_bounds_karney() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        for _ in 0..20_000 {
            let (lat, lon) = (
                rng.random_range(-89.0..89.0),
                rng.random_range(-180.0..180.0),
            );
            let scale = 10f64.powf(rng.random_range(-6.0..1.0));
            let lat2: f64 = (lat + rng.random_range(-1.0..1.0) * scale).clamp(-89.9, 89.9);
            let lon2 = lon + rng.random_range(-1.0..1.0) * scale;
            let c = chord2(&ecef(lon, lat), &ecef(lon2, lat2)).sqrt();
            let s = distance_m(lon, lat, lon2, lat2);
            assert!(
                s <= arc_bound(c) + 1e-6,
                "{s} > bound {} (chord {c})",
                arc_bound(c)
            );
        }
        assert!(arc_bound(2e6).is_infinite());
    }

    #[test]
    fn long_distances_use_karney() {
        let q = From::new(115.0, 22.0);
        let p = ecef(116.0, 23.0);
        let c2 = chord2(&q.xyz, &p);
        assert_eq!(
            q.distance(&p, c2, || (116.0, 23.0)),
            distance_m(115.0, 22.0, 116.0, 23.0)
        );
    }
}
