//! In-process benchmarks of the index against PostGIS answering the same lookups through
//! tokio-postgres prepared statements, on the same data, in the same run.
//!
//! Needs `DATABASE_URL` pointing at a database loaded with `minqing generate` (see
//! `benches/run.sh`, which sets everything up). Without it the benchmark says so and exits.
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(clippy::panic, clippy::expect_used, clippy::too_many_lines)]

use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use minqing::index::{EventFilter, Index};
use minqing::model::{StatusFilter, Taxonomy};
use minqing::render;
use minqing::store::Store;
use minqing_tiles::TileId;

const POINTS: usize = 4096; // as many as benches/sql/points.sql returns

struct Setup {
    rt: tokio::runtime::Runtime,
    index: Arc<Index>,
    client: tokio_postgres::Client,
    points: Vec<(f64, f64)>,
}

fn setup() -> Option<Setup> {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!(
            "benches/index: set DATABASE_URL to a database loaded by `minqing generate` (benches/run.sh does)"
        );
        return None;
    };
    let rt = tokio::runtime::Runtime::new().ok()?;
    let (index, client, points) = rt.block_on(async {
        let store = Store::connect(&url, 4).expect("pool");
        let taxonomy = Taxonomy::builtin();
        let index = Arc::new(Index::new(taxonomy.codes()));
        let t = Instant::now();
        minqing::app::load_index(&store, &index)
            .await
            .expect("index loads");
        eprintln!(
            "index loaded in {:.1} s: {} areas, {} events",
            t.elapsed().as_secs_f64(),
            index.areas().len(),
            index.events(minqing::index::EventIndex::len)
        );
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        // Random points inside random grids: where field staff stand.
        let points = client
            .query(include_str!("sql/points.sql"), &[])
            .await
            .expect("points")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        (index, client, points)
    });
    Some(Setup {
        rt,
        index,
        client,
        points,
    })
}

fn benches(c: &mut Criterion) {
    let Some(s) = setup() else { return };
    let areas = s.index.areas();
    let mut g = c.benchmark_group("locate");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("memory", |b| {
        b.iter(|| {
            i = (i + 1) % POINTS;
            let (lon, lat) = s.points[i];
            areas.locate(lon, lat).map(|a| a.id)
        });
    });
    let stmt =
        s.rt.block_on(s.client.prepare(
            "SELECT id FROM areas WHERE level = 'grid' AND valid_to IS NULL
             AND ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY id LIMIT 1",
        ))
        .expect("prepare");
    g.bench_function("postgis", |b| {
        b.iter(|| {
            i = (i + 1) % POINTS;
            let (lon, lat) = s.points[i];
            s.rt.block_on(s.client.query_opt(&stmt, &[&lon, &lat]))
                .expect("query")
                .map(|r| r.get::<_, i64>(0))
        });
    });
    g.finish();

    let mut g = c.benchmark_group("nearest20_open");
    g.throughput(Throughput::Elements(1));
    let open = EventFilter {
        status: StatusFilter::Open,
        ..EventFilter::default()
    };
    g.bench_function("memory", |b| {
        b.iter(|| {
            i = (i + 1) % POINTS;
            let (lon, lat) = s.points[i];
            s.index
                .events(|ix| ix.nearest(lon, lat, 20, f64::INFINITY, &open).len())
        });
    });
    // PostGIS's best plan: KNN on a partial geography GiST index of open events
    // (benches/run.sh creates it), then exact distances.
    let stmt =
        s.rt.block_on(s.client.prepare(
            "SELECT id, ST_Distance(geom::geography, q) FROM events,
                    (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography q) p
             WHERE status IN ('reported', 'accepted', 'assigned', 'in_progress', 'reopened')
             ORDER BY geom::geography <-> q LIMIT 20",
        ))
        .expect("prepare");
    g.bench_function("postgis", |b| {
        b.iter(|| {
            i = (i + 1) % POINTS;
            let (lon, lat) = s.points[i];
            s.rt.block_on(s.client.query(&stmt, &[&lon, &lat]))
                .expect("query")
                .len()
        });
    });
    g.finish();
    tile_benches(c, &s);
}

/// Areas tiles (boundaries with counts, drawn from the index as the tile endpoint draws
/// them, without HTTP) at zooms 12–16, against PostGIS's `ST_AsMVT` for the same tiles
/// (`bench_areas` of `benches/sql/martin.sql`, when `benches/tiles.sh` has created it).
fn tile_benches(c: &mut Criterion, s: &Setup) {
    let areas = s.index.areas();
    let has_sql =
        s.rt.block_on(
            s.client
                .query_one("SELECT to_regproc('bench_areas') IS NOT NULL", &[]),
        )
        .is_ok_and(|r| r.get::<_, bool>(0));
    let stmt =
        s.rt.block_on(s.client.prepare("SELECT bench_areas($1, $2, $3)"))
            .ok()
            .filter(|_| has_sql);
    for z in 12u8..=16 {
        let tiles = tile_list(s, z);
        let mut g = c.benchmark_group(format!("areas_tile_z{z}"));
        g.throughput(Throughput::Elements(1));
        let mut i = 0;
        g.bench_function("memory", |b| {
            b.iter(|| {
                i = (i + 1) % tiles.len();
                let shown = render::areas_shown(&areas, tiles[i]);
                render::areas_tile(
                    &areas,
                    &shown,
                    |ids| {
                        s.index
                            .with_counts(|c| ids.iter().map(|i| c.get(*i)).collect())
                    },
                    tiles[i],
                )
                .len()
            });
        });
        if let Some(stmt) = &stmt {
            g.bench_function("postgis", |b| {
                b.iter(|| {
                    i = (i + 1) % tiles.len();
                    postgis_tile(s, stmt, tiles[i])
                });
            });
        }
        g.finish();
    }
    events_tile_bench(c, s);
}

/// Events tiles at z14 (singles, or fine clusters where they would not fit), every state,
/// drawn from the index as the tile endpoint draws them, against `ST_AsMVT` over the events
/// table for the same tiles, as Martin's table source asks it (id, category, status,
/// priority; 64-unit buffer).
fn events_tile_bench(c: &mut Criterion, s: &Setup) {
    let tiles = tile_list(s, 14);
    let all = EventFilter {
        status: StatusFilter::All,
        ..EventFilter::default()
    };
    let stmt =
        s.rt.block_on(s.client.prepare(
            "SELECT ST_AsMVT(t, 'events', 4096, 'geom', 'id') FROM (
               SELECT id, category, status, priority,
                      ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope($1, $2, $3),
                                   4096, 64, true) AS geom
               FROM events
               WHERE geom && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096), 4326)
             ) t",
        ))
        .expect("events tile statement");
    let mut g = c.benchmark_group("events_tile_z14");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    let now = chrono::Utc::now();
    g.bench_function("memory", |b| {
        b.iter(|| {
            i = (i + 1) % tiles.len();
            s.index
                .events(|ix| render::events_tile(ix, tiles[i], &all, now).len())
        });
    });
    g.bench_function("postgis", |b| {
        b.iter(|| {
            i = (i + 1) % tiles.len();
            postgis_tile(s, &stmt, tiles[i])
        });
    });
    g.finish();
}

/// The tiles of `benches/sql/tiles.sql` at zoom `z` (those holding pseudo-random events).
fn tile_list(s: &Setup, z: u8) -> Vec<TileId> {
    s.rt.block_on(s.client.query(
        &include_str!("sql/tiles.sql").replace(":z", &z.to_string()),
        &[],
    ))
    .expect("tile list")
    .iter()
    .filter_map(|r| {
        let a: String = r.get(0);
        let mut it = a.split('/');
        let (z, x, y) = (it.next()?, it.next()?, it.next()?);
        TileId::parse(z, x, y).ok()
    })
    .collect()
}

/// Bytes of the tile `stmt` (taking z, x, y) draws in PostGIS.
fn postgis_tile(s: &Setup, stmt: &tokio_postgres::Statement, t: TileId) -> usize {
    #[allow(clippy::cast_possible_wrap)]
    let (z, x, y) = (i32::from(t.z), t.x as i32, t.y as i32);
    s.rt.block_on(s.client.query_one(stmt, &[&z, &x, &y]))
        .expect("query")
        .get::<_, Option<Vec<u8>>>(0)
        .map_or(0, |b| b.len())
}

criterion_group! {
    name = index;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(8));
    targets = benches
}
criterion_main!(index);
