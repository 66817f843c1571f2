//! Benchmarks of the tile pipeline: point encoding, polygon clip + simplify + encode, and
//! clustering a million points into one z0 tile.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use minqing_tiles::{
    ClusterOptions, ClusterPoint, DEFAULT_EXTENT, Geometry, SimplifyOptions, TileBuilder, TileId,
    TileProjection, clip_polygon, cluster_points, simplify_polygon,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn encode_points(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let pts: Vec<[i32; 2]> = (0..10_000)
        .map(|_| [rng.random_range(0..4096), rng.random_range(0..4096)])
        .collect();
    let kinds = ["fire", "flood", "noise", "road", "waste"];
    c.bench_function("encode 10k points", |b| {
        b.iter(|| {
            let mut t = TileBuilder::new();
            let l = t.layer("events", DEFAULT_EXTENT);
            for (i, p) in pts.iter().enumerate() {
                let props = [
                    ("kind", kinds[i % 5].into()),
                    ("status", if i % 3 == 0 { "open" } else { "closed" }.into()),
                    ("severity", ((i % 4) as u64).into()),
                ];
                l.add_feature(Some(i as u64), &Geometry::Point(*p), &props);
            }
            black_box(t.encode())
        });
    });
}

fn polygons(c: &mut Criterion) {
    let tile = TileId::containing(115.375, 22.786, 12);
    let proj = TileProjection::with_defaults(tile);
    let b = proj.buffered_bounds();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    // 500 star-ish polygons of 30 vertices scattered over (and past the edge of) the tile.
    let (w, h) = (b.east - b.west, b.north - b.south);
    let polys: Vec<Vec<[f64; 2]>> = (0..500)
        .map(|_| {
            let cx = b.west + rng.random_range(-0.1..1.1) * w;
            let cy = b.south + rng.random_range(-0.1..1.1) * h;
            let r = rng.random_range(0.02..0.15) * w;
            (0..30)
                .map(|k| {
                    let a = f64::from(k) / 30.0 * std::f64::consts::TAU;
                    let rr = r * rng.random_range(0.6..1.0);
                    [cx + rr * a.cos(), cy + rr * a.sin()]
                })
                .collect()
        })
        .collect();
    c.bench_function("clip+simplify+encode 500 polygons x 30 vertices", |bch| {
        bch.iter(|| {
            let mut t = TileBuilder::new();
            let l = t.layer("areas", DEFAULT_EXTENT);
            let cb = proj.clip_box();
            for (i, ring) in polys.iter().enumerate() {
                let projected = vec![proj.project_line(ring)];
                let clipped = clip_polygon(&projected, &cb);
                if let Some(rings) = simplify_polygon(&clipped, SimplifyOptions::default()) {
                    l.add_feature(
                        Some(i as u64),
                        &Geometry::Polygon(rings),
                        &[("id", (i as u64).into())],
                    );
                }
            }
            black_box(t.encode())
        });
    });
}

fn cluster(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let pts: Vec<ClusterPoint> = (0..1_000_000u64)
        .map(|id| ClusterPoint {
            lon: rng.random_range(-180.0..180.0),
            lat: rng.random_range(-85.0..85.0),
            id,
            category: rng.random_range(0..8),
            weight: 1.0,
        })
        .collect();
    let proj = TileProjection::with_defaults(TileId { z: 0, x: 0, y: 0 });
    let mut g = c.benchmark_group("cluster");
    g.sample_size(10);
    g.bench_function("cluster 1M points into z0", |b| {
        b.iter(|| {
            black_box(cluster_points(
                &proj,
                ClusterOptions::default(),
                pts.iter().copied(),
            ))
        });
    });
    g.finish();
}

criterion_group!(benches, encode_points, polygons, cluster);
criterion_main!(benches);
