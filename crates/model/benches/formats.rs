//! Hand-written WKB and GeoJSON code against maintained crates, same inputs, same run.
//!
//! - `wkb_read`: EWKB bytes (as written by `minqing_model::wkb::write_multipolygon`, the
//!   same layout PostGIS COPYs out) to a `geo_types::MultiPolygon<f64>`: ours, the `wkb`
//!   crate (`read_wkb` + `geo_traits::to_geo`) and `geozero` (`Ewkb(..).to_geo()`).
//! - `geojson_write`: a MultiPolygon to a GeoJSON geometry string: ours
//!   (`multipolygon_to_json` + `serde_json::to_string`) and the `geojson` crate
//!   (`GeometryValue::from(&mp)` + `serde_json::to_string`).
//! - `geojson_read`: a GeoJSON geometry string back to a MultiPolygon: ours
//!   (`serde_json::from_str::<Value>` + `multipolygon_from_json`, which also checks the
//!   lon/lat range and ring closure), the `geojson` crate (`Geometry::from_str` +
//!   `TryFrom`, no checks) and the `geojson` crate followed by the same checks ours does.
//!
//! Sizes: single grid polygons of 50, 100 and 400 vertices, and a district of ~20,000
//! vertices (a main ring with a hole plus an exclave). Every decoder's output is compared
//! with the source geometry before anything is timed.
//!
//! Run: `cargo bench -p minqing-model --bench formats -- --warm-up-time 1 --measurement-time 3`
// Benchmark code: a failed expectation is the benchmark failing.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;
use std::str::FromStr;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::Value;

/// A small deterministic generator (xorshift64*), so every run times the same input.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (v >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A closed ring of `n` distinct vertices (n + 1 positions) around a centre: a circle of
/// radius `r` degrees whose radius is jittered by up to ±15 %, like a surveyed boundary.
/// Coordinates carry full f64 precision, as those PostGIS hands out after a transform.
fn ring(rng: &mut Rng, (cx, cy): (f64, f64), r: f64, n: usize, clockwise: bool) -> LineString {
    let mut coords: Vec<Coord> = (0..n)
        .map(|i| {
            let mut a = i as f64 / n as f64 * std::f64::consts::TAU;
            if clockwise {
                a = -a;
            }
            let rr = r * (0.85 + 0.3 * rng.unit());
            Coord {
                x: cx + rr * a.cos() / cy.to_radians().cos(),
                y: cy + rr * a.sin(),
            }
        })
        .collect();
    coords.push(coords[0]);
    LineString(coords)
}

fn grid(seed: u64, n: usize) -> MultiPolygon {
    let mut rng = Rng(seed);
    MultiPolygon(vec![Polygon::new(
        ring(&mut rng, (116.397, 39.908), 0.004, n, false),
        vec![],
    )])
}

fn district(seed: u64) -> MultiPolygon {
    let mut rng = Rng(seed);
    let main = Polygon::new(
        ring(&mut rng, (116.40, 39.92), 0.08, 18_800, false),
        vec![ring(&mut rng, (116.41, 39.93), 0.01, 400, true)],
    );
    let exclave = Polygon::new(ring(&mut rng, (116.60, 39.80), 0.02, 800, false), vec![]);
    MultiPolygon(vec![main, exclave])
}

fn vertices(mp: &MultiPolygon) -> usize {
    mp.0.iter()
        .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
        .sum()
}

fn cases() -> Vec<(String, MultiPolygon)> {
    let mut out: Vec<(String, MultiPolygon)> = [50, 100, 400]
        .into_iter()
        .map(|n| (format!("grid{n}"), grid(n as u64 * 7919 + 1, n)))
        .collect();
    let d = district(42);
    out.push((format!("district{}", vertices(&d)), d));
    out
}

// ---- the decoders under test -------------------------------------------------------------

fn wkb_ours(bytes: &[u8]) -> MultiPolygon {
    minqing_model::wkb::read_multipolygon(bytes).expect("our WKB reader")
}

fn wkb_crate(bytes: &[u8]) -> MultiPolygon {
    use geo_traits::GeometryTrait;
    let g = wkb::reader::read_wkb(bytes).expect("wkb crate reads");
    match g.as_type() {
        geo_traits::GeometryType::MultiPolygon(mp) => {
            geo_traits::to_geo::ToGeoMultiPolygon::to_multi_polygon(mp)
        }
        geo_traits::GeometryType::Polygon(p) => {
            MultiPolygon(vec![geo_traits::to_geo::ToGeoPolygon::to_polygon(p)])
        }
        _ => panic!("not a polygon"),
    }
}

fn wkb_geozero(bytes: &[u8]) -> MultiPolygon {
    use geozero::ToGeo;
    match geozero::wkb::Ewkb(bytes).to_geo().expect("geozero reads") {
        geo_types::Geometry::MultiPolygon(mp) => mp,
        geo_types::Geometry::Polygon(p) => MultiPolygon(vec![p]),
        _ => panic!("not a polygon"),
    }
}

fn json_write_ours(mp: &MultiPolygon) -> String {
    serde_json::to_string(&minqing_model::geojson::multipolygon_to_json(mp)).expect("serialises")
}

fn json_write_crate(mp: &MultiPolygon) -> String {
    serde_json::to_string(&geojson::Geometry::from(geojson::GeometryValue::from(mp)))
        .expect("serialises")
}

fn json_read_ours(s: &str) -> MultiPolygon {
    let v: Value = serde_json::from_str(s).expect("JSON");
    minqing_model::geojson::multipolygon_from_json(&v).expect("our GeoJSON reader")
}

fn json_read_crate(s: &str) -> MultiPolygon {
    let g = geojson::Geometry::from_str(s).expect("geojson parses");
    MultiPolygon::try_from(g.value).expect("geojson converts")
}

/// The checks `multipolygon_from_json` makes that the `geojson` crate does not: positions
/// in range, rings of at least 4 positions, closed.
fn check(mp: &MultiPolygon) -> Result<(), String> {
    for p in &mp.0 {
        for r in std::iter::once(p.exterior()).chain(p.interiors()) {
            if r.0.len() < 4 || r.0.first() != r.0.last() {
                return Err("bad ring".into());
            }
            for c in &r.0 {
                minqing_model::check_lon_lat(c.x, c.y)?;
            }
        }
    }
    Ok(())
}

fn json_read_crate_checked(s: &str) -> MultiPolygon {
    let mp = json_read_crate(s);
    check(&mp).expect("valid");
    mp
}

/// The largest distance in ulps between corresponding coordinates of two equal-shaped
/// MultiPolygons.
fn max_ulps(a: &MultiPolygon, b: &MultiPolygon) -> u64 {
    let coords = |mp: &MultiPolygon| -> Vec<Coord> {
        mp.0.iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.0.iter().copied())
            .collect()
    };
    let (ca, cb) = (coords(a), coords(b));
    assert_eq!(ca.len(), cb.len(), "shapes differ");
    ca.iter()
        .zip(&cb)
        .flat_map(|(p, q)| [(p.x, q.x), (p.y, q.y)])
        .map(|(u, v)| u.to_bits().abs_diff(v.to_bits()))
        .max()
        .unwrap_or(0)
}

/// Every implementation must give the same answer before any is timed.
fn verify(cases: &[(String, MultiPolygon)]) {
    for (name, mp) in cases {
        let bytes = minqing_model::wkb::write_multipolygon(mp);
        assert_eq!(&wkb_ours(&bytes), mp, "{name}: ours WKB");
        assert_eq!(&wkb_crate(&bytes), mp, "{name}: wkb crate");
        assert_eq!(&wkb_geozero(&bytes), mp, "{name}: geozero");

        let ours = json_write_ours(mp);
        let theirs = json_write_crate(mp);
        // Key order differs (serde_json's Map sorts, geojson writes "type" first); the
        // documents must be equal as JSON, numbers included.
        let a: Value = serde_json::from_str(&ours).expect("JSON");
        let b: Value = serde_json::from_str(&theirs).expect("JSON");
        assert_eq!(a, b, "{name}: GeoJSON documents differ");
        // Both readers parse numbers with serde_json's default (not `float_roundtrip`)
        // parser, which may land one ulp off the written value: they must agree with each
        // other, and we report how far from the source they are.
        let mut ulps = 0;
        for s in [&ours, &theirs] {
            let back = json_read_ours(s);
            assert_eq!(json_read_crate(s), back, "{name}: geojson read != ours");
            assert_eq!(json_read_crate_checked(s), back, "{name}: geojson read");
            ulps = ulps.max(max_ulps(&back, mp));
        }
        eprintln!(
            "{name}: {} vertices, EWKB {} B, GeoJSON {} B (ours) / {} B (geojson): outputs \
             match; GeoJSON read-back within {ulps} ulp of the source",
            vertices(mp),
            bytes.len(),
            ours.len(),
            theirs.len()
        );
    }
}

fn formats(c: &mut Criterion) {
    let cases = cases();
    verify(&cases);

    let mut g = c.benchmark_group("wkb_read");
    for (name, mp) in &cases {
        let bytes = minqing_model::wkb::write_multipolygon(mp);
        g.throughput(Throughput::Elements(vertices(mp) as u64));
        g.bench_with_input(BenchmarkId::new("ours", name), &bytes, |b, x| {
            b.iter(|| wkb_ours(black_box(x)));
        });
        g.bench_with_input(BenchmarkId::new("wkb", name), &bytes, |b, x| {
            b.iter(|| wkb_crate(black_box(x)));
        });
        g.bench_with_input(BenchmarkId::new("geozero", name), &bytes, |b, x| {
            b.iter(|| wkb_geozero(black_box(x)));
        });
    }
    g.finish();

    let mut g = c.benchmark_group("geojson_write");
    for (name, mp) in &cases {
        g.throughput(Throughput::Elements(vertices(mp) as u64));
        g.bench_with_input(BenchmarkId::new("ours", name), mp, |b, x| {
            b.iter(|| json_write_ours(black_box(x)));
        });
        g.bench_with_input(BenchmarkId::new("geojson", name), mp, |b, x| {
            b.iter(|| json_write_crate(black_box(x)));
        });
    }
    g.finish();

    let mut g = c.benchmark_group("geojson_read");
    for (name, mp) in &cases {
        let s = json_write_ours(mp);
        g.throughput(Throughput::Elements(vertices(mp) as u64));
        g.bench_with_input(BenchmarkId::new("ours", name), s.as_str(), |b, x| {
            b.iter(|| json_read_ours(black_box(x)));
        });
        g.bench_with_input(BenchmarkId::new("geojson", name), s.as_str(), |b, x| {
            b.iter(|| json_read_crate(black_box(x)));
        });
        g.bench_with_input(
            BenchmarkId::new("geojson+checks", name),
            s.as_str(),
            |b, x| {
                b.iter(|| json_read_crate_checked(black_box(x)));
            },
        );
    }
    g.finish();
}

criterion_group!(benches, formats);
criterion_main!(benches);
