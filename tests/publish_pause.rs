//! Query latency while the area index is published again and again (issue 16, hazard 4: "a
//! publish pauses event queries").
//!
//! A measurement, not a check of speed: it prints latencies and fails only when the counts
//! per area are wrong afterwards. Run it in release mode:
//!
//! ```sh
//! cargo test --release --test publish_pause -- --ignored --nocapture
//! ```
//!
//! Everything is built in memory, no database: a lattice of `PAUSE_GRIDS` square grids
//! (default 100,000; communities of 8 × 8 grids, streets of 5 × 5 communities, four
//! districts) and `PAUSE_EVENTS` random events (default 2,000,000) over it, through the
//! index's own builders, on a manual clock. One thread asks, at a steady rate (a pair every
//! `PAUSE_EVERY_US` µs, default 4,000), the 20 nearest open events of a random point and the
//! events tile (zoom 14, every state) there, as the HTTP handlers do (`Index::events` around
//! `EventIndex::nearest` and `render::events_tile`), and times each call, lock wait
//! included, both from its start (service time) and from when it was due (response time:
//! a query held up by a pause makes those due after it late too, as requests arriving
//! meanwhile would be), while another thread applies about 200 event changes a second (the
//! live feed): first for `PAUSE_QUIET` seconds (default 5) with nothing else, then for
//! `PAUSE_SECS` seconds (default 20) while a third thread builds a new area index and calls
//! `Index::set_areas` with it, over and over (`PAUSE_GAP_MS` between one and the next build,
//! default 1,000). Afterwards the open and overdue counts of every grid and district
//! are compared with a count of the events.
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used,
    clippy::print_stdout
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use minqing::index::{AreaIndex, Clock, EventFilter, EventIndexBuilder, Index};
use minqing::model::{Area, Event, Level, Status, StatusFilter, Taxonomy};
use minqing::render;
use minqing_tiles::TileId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

const WEST: f64 = 115.0;
const EAST: f64 = 115.9;
const SOUTH: f64 = 22.6;
const NORTH: f64 = 23.3;
/// Grids a community is wide (and high).
const COMMUNITY: usize = 8;
/// Communities a street is wide (and high).
const STREET: usize = 5;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The lattice: `side` × `side` grids over the region.
struct Lattice {
    side: usize,
}

impl Lattice {
    fn dx(&self) -> f64 {
        (EAST - WEST) / self.side as f64
    }

    fn dy(&self) -> f64 {
        (NORTH - SOUTH) / self.side as f64
    }

    /// The grid at (column, row).
    fn grid_id(&self, col: usize, row: usize) -> i64 {
        1_000_000 + (row * self.side + col) as i64
    }

    /// The grid covering a point (the lattice's own arithmetic, not point-in-polygon).
    fn grid_of(&self, lon: f64, lat: f64) -> i64 {
        let col = (((lon - WEST) / self.dx()) as usize).min(self.side - 1);
        let row = (((lat - SOUTH) / self.dy()) as usize).min(self.side - 1);
        self.grid_id(col, row)
    }

    /// A rectangle of cells [c0, c1) × [r0, r1), as GeoJSON.
    fn rect(&self, c0: usize, r0: usize, c1: usize, r1: usize) -> Value {
        let (x0, x1) = (
            WEST + c0 as f64 * self.dx(),
            WEST + c1.min(self.side) as f64 * self.dx(),
        );
        let (y0, y1) = (
            SOUTH + r0 as f64 * self.dy(),
            SOUTH + r1.min(self.side) as f64 * self.dy(),
        );
        json!({
            "type": "MultiPolygon",
            "coordinates": [[[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]],
        })
    }

    /// Every area: districts (ids 1–4), streets (100…), communities (10,000…), grids
    /// (1,000,000…).
    fn areas(&self) -> Vec<Area> {
        let mut out = Vec::new();
        let communities = self.side.div_ceil(COMMUNITY);
        let streets = communities.div_ceil(STREET);
        let half = streets.div_ceil(2);
        let street_cells = COMMUNITY * STREET;
        for dr in 0..2 {
            for dc in 0..2 {
                let id = 1 + (dr * 2 + dc) as i64;
                let geom = self.rect(
                    dc * half * street_cells,
                    dr * half * street_cells,
                    (dc + 1) * half * street_cells,
                    (dr + 1) * half * street_cells,
                );
                out.push(area(id, Level::District, None, &geom));
            }
        }
        let street_id = |sc: usize, sr: usize| 100 + (sr * streets + sc) as i64;
        for sr in 0..streets {
            for sc in 0..streets {
                let district = 1 + ((sr / half) * 2 + sc / half) as i64;
                let id = street_id(sc, sr);
                let geom = self.rect(
                    sc * street_cells,
                    sr * street_cells,
                    (sc + 1) * street_cells,
                    (sr + 1) * street_cells,
                );
                out.push(area(id, Level::Street, Some(district), &geom));
            }
        }
        let community_id = |cc: usize, cr: usize| 10_000 + (cr * communities + cc) as i64;
        for cr in 0..communities {
            for cc in 0..communities {
                let id = community_id(cc, cr);
                let geom = self.rect(
                    cc * COMMUNITY,
                    cr * COMMUNITY,
                    (cc + 1) * COMMUNITY,
                    (cr + 1) * COMMUNITY,
                );
                let street = street_id(cc / STREET, cr / STREET);
                out.push(area(id, Level::Community, Some(street), &geom));
            }
        }
        for row in 0..self.side {
            for col in 0..self.side {
                let id = self.grid_id(col, row);
                let community = community_id(col / COMMUNITY, row / COMMUNITY);
                let geom = self.rect(col, row, col + 1, row + 1);
                out.push(area(id, Level::Grid, Some(community), &geom));
            }
        }
        out
    }
}

/// An area of the lattice.
fn area(id: i64, level: Level, parent: Option<i64>, geom: &Value) -> Area {
    let code = format!("{}{id}", level.as_str());
    let geom = minqing::model::geojson::multipolygon_from_json(geom).expect("a rectangle");
    Area::for_tests(id, &code, &code, level, parent, geom)
}

/// A random event, reported in the year before `now`.
fn random_event(
    rng: &mut ChaCha8Rng,
    id: i64,
    lattice: &Lattice,
    codes: &[String],
    now: DateTime<Utc>,
) -> Event {
    let lon = rng.random_range(WEST..EAST);
    let lat = rng.random_range(SOUTH..NORTH);
    let status = Status::ALL[rng.random_range(0..Status::ALL.len())];
    let reported_at = now - TimeDelta::seconds(rng.random_range(3_600..365 * 86_400));
    let resolved_at = matches!(status, Status::Resolved | Status::Closed)
        .then(|| reported_at + TimeDelta::seconds(rng.random_range(600..30 * 86_400)));
    Event {
        id,
        category: codes[rng.random_range(0..codes.len())].clone(),
        title: format!("事件{id}"),
        description: None,
        status,
        priority: rng.random_range(1..=4),
        grid_id: (!rng.random_bool(0.01)).then(|| lattice.grid_of(lon, lat)),
        reported_at,
        due_at: rng
            .random_bool(0.8)
            .then(|| now + TimeDelta::seconds(rng.random_range(-30 * 86_400..30 * 86_400))),
        updated_at: reported_at,
        lon,
        lat,
        generated: true,
        escalation: rng.random_range(0..4),
        resolved_at,
        satisfied: None,
        worker_id: None,
        reporter_worker: None,
    }
}

/// Latencies of one kind of query in one phase.
#[derive(Default)]
struct Timings(Vec<Duration>);

impl Timings {
    fn summary(&mut self) -> String {
        let v = &mut self.0;
        if v.is_empty() {
            return "no samples".into();
        }
        v.sort_unstable();
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let over = v.iter().filter(|d| **d > Duration::from_millis(50)).count();
        format!(
            "n {:>7}  p50 {:>8.3} ms  p99 {:>8.3} ms  p99.9 {:>8.3} ms  max {:>8.3} ms  >50 ms: {}",
            v.len(),
            ms(at(0.5)),
            ms(at(0.99)),
            ms(at(0.999)),
            ms(at(1.0)),
            over
        )
    }
}

/// What one kind of query took in one phase: service time (from its start), and response
/// time (from when it was due: queries are due at a steady rate, so one that waits behind a
/// pause also delays those due after it, as requests arriving meanwhile would be).
#[derive(Default)]
struct Latency {
    service: Timings,
    response: Timings,
}

/// Asks, every `every`, a nearby and then a tile query, until `stop`.
fn ask(
    index: &Index,
    stop: &AtomicBool,
    seed: u64,
    now: DateTime<Utc>,
    every: Duration,
) -> (Latency, Latency) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let open = EventFilter {
        status: StatusFilter::Open,
        ..EventFilter::default()
    };
    let all = EventFilter::default();
    let (mut nearby, mut tiles) = (Latency::default(), Latency::default());
    let mut due = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        let (lon, lat) = (rng.random_range(WEST..EAST), rng.random_range(SOUTH..NORTH));
        let t = Instant::now();
        let n = index.events(|ix| ix.nearest(lon, lat, 20, f64::INFINITY, &open).len());
        nearby.service.0.push(t.elapsed());
        nearby.response.0.push(due.elapsed());
        assert_eq!(n, 20);
        due += every / 2;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        let tile = TileId::containing(lon, lat, 14);
        let t = Instant::now();
        let bytes = index.events(|ix| render::events_tile(ix, tile, &all, now).len());
        tiles.service.0.push(t.elapsed());
        tiles.response.0.push(due.elapsed());
        assert!(bytes > 0);
        due += every / 2;
    }
    (nearby, tiles)
}

/// Prints the latencies of a phase.
fn report(nearby: &mut Latency, tiles: &mut Latency) {
    println!("  nearest 20 open, service   {}", nearby.service.summary());
    println!("  nearest 20 open, response  {}", nearby.response.summary());
    println!("  events tile z14, service   {}", tiles.service.summary());
    println!("  events tile z14, response  {}", tiles.response.summary());
}

#[test]
#[ignore = "a measurement; prints latencies (run in release mode)"]
fn queries_during_publishes() {
    // RUST_LOG=minqing_index=info shows what each publish's recount took.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let grids = env("PAUSE_GRIDS", 100_000);
    let events = env("PAUSE_EVENTS", 2_000_000);
    let quiet = Duration::from_secs(env("PAUSE_QUIET", 5));
    let busy = Duration::from_secs(env("PAUSE_SECS", 20));
    let every = Duration::from_micros(env("PAUSE_EVERY_US", 4_000));
    let gap = Duration::from_millis(env("PAUSE_GAP_MS", 1_000));
    let lattice = Lattice {
        side: (grids as f64).sqrt().round() as usize,
    };
    let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let taxonomy = Taxonomy::builtin();
    let codes = taxonomy.codes();

    let t = Instant::now();
    let areas = lattice.areas();
    let index = Arc::new(Index::with_clock(codes, Clock::manual(now)));
    index.set_areas(AreaIndex::new(areas.clone()));
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let mut builder = EventIndexBuilder::new(codes, events as usize);
    for id in 1..=events as i64 {
        builder.add(&random_event(&mut rng, id, &lattice, codes, now));
    }
    index.set_events(builder.build());
    index.set_ready();
    let open = index.events(|ix| ix.slots().filter(|s| ix.case(*s).open).count());
    println!(
        "data: {} areas ({} grids), {} events ({} open), built in {:.1} s",
        areas.len(),
        lattice.side * lattice.side,
        events,
        open,
        t.elapsed().as_secs_f64()
    );

    // The first change after the load grows every column (they were reserved exactly): time
    // it apart, so that the phases below measure what they are about.
    let t = Instant::now();
    let first = random_event(&mut rng, events as i64 + 1, &lattice, codes, now);
    index.apply(first).expect("a new event");
    println!(
        "first change after the load: {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );

    // The live feed, through both phases: about 200 changes a second, half of them new
    // events, half a new state of a held one (state, grid, deadline).
    let stop_writer = Arc::new(AtomicBool::new(false));
    let writer = {
        let (index, stop) = (index.clone(), stop_writer.clone());
        let codes = codes.to_vec();
        let side = lattice.side;
        thread::spawn(move || {
            let lattice = Lattice { side };
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            let mut applies: Vec<(Instant, Duration)> = Vec::new();
            let mut next_id = events as i64 + 1;
            while !stop.load(Ordering::Relaxed) {
                let e = if rng.random_bool(0.5) {
                    next_id += 1;
                    random_event(&mut rng, next_id, &lattice, &codes, now)
                } else {
                    let id = rng.random_range(1..=events as i64);
                    let mut e = index.events(|ix| ix.event(ix.slot(id).unwrap()));
                    e.status = Status::ALL[rng.random_range(0..Status::ALL.len())];
                    e.grid_id = Some(lattice.grid_of(e.lon, e.lat));
                    e.due_at = Some(now + TimeDelta::hours(rng.random_range(-48..48)));
                    e.updated_at += TimeDelta::seconds(1);
                    e
                };
                let t = Instant::now();
                index.apply(e).expect("a change");
                applies.push((t, t.elapsed()));
                thread::sleep(Duration::from_millis(5));
            }
            applies
        })
    };

    // Quiet: queries and changes, no publish.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (index, stop) = (index.clone(), stop.clone());
        thread::spawn(move || ask(&index, &stop, 1, now, every))
    };
    thread::sleep(quiet);
    stop.store(true, Ordering::Relaxed);
    let (mut quiet_nearby, mut quiet_tiles) = reader.join().unwrap();

    // Busy: the same while the areas are published over and over.
    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (index, stop) = (index.clone(), stop.clone());
        thread::spawn(move || ask(&index, &stop, 2, now, every))
    };
    let mut publishes = Timings::default();
    let mut builds = Timings::default();
    while start.elapsed() < busy {
        let t = Instant::now();
        let next = AreaIndex::new(areas.clone());
        builds.0.push(t.elapsed());
        let t = Instant::now();
        index.set_areas(next);
        publishes.0.push(t.elapsed());
        thread::sleep(gap);
    }
    stop.store(true, Ordering::Relaxed);
    let (mut busy_nearby, mut busy_tiles) = reader.join().unwrap();
    stop_writer.store(true, Ordering::Relaxed);
    let (mut quiet_applies, mut busy_applies) = (Timings::default(), Timings::default());
    for (at, took) in writer.join().unwrap() {
        if at < start {
            quiet_applies.0.push(took);
        } else {
            busy_applies.0.push(took);
        }
    }

    println!(
        "a nearby and a tile query every {} ms, about 200 changes a second",
        every.as_secs_f64() * 1e3,
    );
    println!("no publish ({} s):", quiet.as_secs());
    report(&mut quiet_nearby, &mut quiet_tiles);
    println!("  Index::apply (a change)    {}", quiet_applies.summary());
    println!(
        "during {} publishes ({} s, {} ms between one and the next build):",
        publishes.0.len(),
        busy.as_secs(),
        gap.as_millis(),
    );
    report(&mut busy_nearby, &mut busy_tiles);
    println!("  Index::apply (a change)    {}", busy_applies.summary());
    println!("  AreaIndex::new             {}", builds.summary());
    println!("  Index::set_areas           {}", publishes.summary());

    // The counts after it all equal a count of the events held.
    let (by_grid, by_district) = index.events(|ix| {
        let mut by_grid = std::collections::HashMap::<i64, (u32, u32)>::new();
        let mut by_district = [(0u32, 0u32); 4];
        for s in ix.slots() {
            let c = ix.case(s);
            let (Some(g), true) = (c.grid, c.open) else {
                continue;
            };
            let overdue = u32::from(c.due.is_some_and(|d| d < now.timestamp_micros()));
            let e = by_grid.entry(g).or_default();
            e.0 += 1;
            e.1 += overdue;
            let i = (g - 1_000_000) as usize;
            let (col, row) = (i % lattice.side, i / lattice.side);
            let half = (lattice.side.div_ceil(COMMUNITY).div_ceil(STREET)).div_ceil(2)
                * COMMUNITY
                * STREET;
            let d = &mut by_district[(row / half) * 2 + col / half];
            d.0 += 1;
            d.1 += overdue;
        }
        (by_grid, by_district)
    });
    for row in 0..lattice.side {
        for col in 0..lattice.side {
            let g = lattice.grid_id(col, row);
            let c = index.area_count(g);
            let want = by_grid.get(&g).copied().unwrap_or_default();
            assert_eq!((c.open, c.overdue), want, "grid {g}");
        }
    }
    for (i, want) in by_district.iter().enumerate() {
        let c = index.area_count(1 + i as i64);
        assert_eq!((c.open, c.overdue), *want, "district {}", i + 1);
    }
}
