//! Tests of the whole generator: one district in detail, then the full Shanwei hierarchy.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use geo::{Area, BoundingRect, Validation};
use geo_types::MultiPolygon;

use super::data;
use super::events::inside;
use super::hierarchy::build;
use super::*;
use minqing_model::{AreaRecord, Level, Status, Taxonomy};

fn quiet(_: &str, _: u64, _: u64) {}

fn one_district(code: &str, seed: u64, target: Option<usize>) -> Vec<AreaRecord> {
    let counties: Vec<_> = data::counties()
        .unwrap()
        .into_iter()
        .filter(|c| c.code == code)
        .collect();
    let opts = HierarchyOptions {
        seed,
        target_grids: target,
    };
    build(
        &counties,
        &data::streets().unwrap(),
        &data::communities().unwrap(),
        &opts,
        &quiet,
    )
    .unwrap()
}

fn full() -> &'static Vec<AreaRecord> {
    static FULL: OnceLock<Vec<AreaRecord>> = OnceLock::new();
    FULL.get_or_init(|| {
        let t = Instant::now();
        let v = shanwei_hierarchy(&HierarchyOptions::default(), &quiet).unwrap();
        eprintln!("full hierarchy: {} areas in {:?}", v.len(), t.elapsed());
        v
    })
}

type Key = (u64, u64);

fn edges(mp: &MultiPolygon<f64>) -> Vec<(Key, Key)> {
    let k = |c: &geo_types::Coord<f64>| (c.x.to_bits(), c.y.to_bits());
    let mut out = Vec::new();
    for p in &mp.0 {
        for r in std::iter::once(p.exterior()).chain(p.interiors()) {
            for w in r.0.windows(2) {
                out.push((k(&w[0]), k(&w[1])));
            }
        }
    }
    out
}

/// Every structural property the hierarchy promises.
fn check(areas: &[AreaRecord], natural: bool) {
    let by_code: HashMap<&str, &AreaRecord> = areas.iter().map(|a| (a.code.as_str(), a)).collect();
    assert_eq!(by_code.len(), areas.len(), "codes are unique");
    let mut children: HashMap<&str, Vec<&AreaRecord>> = HashMap::new();
    for a in areas {
        assert!(
            a.geom.is_valid(),
            "{} {:?}",
            a.code,
            a.geom.validation_errors()
        );
        for p in &a.geom.0 {
            assert!(
                data::ring_area2(p.exterior()) > 0.0,
                "{} exterior CCW",
                a.code
            );
            for h in p.interiors() {
                assert!(data::ring_area2(h) < 0.0, "{} holes CW", a.code);
            }
        }
        match &a.parent_code {
            None => assert_eq!(a.level, Level::District),
            Some(p) => {
                let parent = by_code[p.as_str()];
                children.entry(parent.code.as_str()).or_default().push(a);
            }
        }
        assert_eq!(a.generated, a.level != Level::District);
        if a.level == Level::Grid {
            assert!((1..=2).contains(&a.workers.len()));
            if natural {
                assert!(
                    (200..=500).contains(&a.households),
                    "{} {}",
                    a.code,
                    a.households
                );
            }
            assert!(a.population >= a.households);
        }
    }
    for a in areas.iter().filter(|a| a.level != Level::Grid) {
        let kids = &children[a.code.as_str()];
        assert_eq!(
            kids.iter().map(|k| i64::from(k.households)).sum::<i64>(),
            i64::from(a.households)
        );
        assert_eq!(
            kids.iter().map(|k| i64::from(k.population)).sum::<i64>(),
            i64::from(a.population)
        );
        let area = a.geom.unsigned_area();
        let sum: f64 = kids.iter().map(|k| k.geom.unsigned_area()).sum();
        assert!(
            (sum - area).abs() <= 1e-9 * area,
            "{}: {sum} vs {area}",
            a.code
        );
        let bb = a.geom.bounding_rect().unwrap();
        for k in kids {
            let kb = k.geom.bounding_rect().unwrap();
            assert!(kb.min().x >= bb.min().x && kb.max().x <= bb.max().x);
            assert!(kb.min().y >= bb.min().y && kb.max().y <= bb.max().y);
        }
        // shared edges: each child's edge is either on the parent boundary or appears reversed
        // in exactly one sibling; and the children's boundary on the parent's edges is exactly
        // the parent's boundary (no inserted vertices)
        let parent_edges: std::collections::HashSet<(Key, Key)> =
            edges(&a.geom).into_iter().collect();
        let mut owner: HashMap<(Key, Key), usize> = HashMap::new();
        for (i, k) in kids.iter().enumerate() {
            for e in edges(&k.geom) {
                assert!(owner.insert(e, i).is_none(), "edge twice in {}", a.code);
            }
        }
        let mut on_parent = 0;
        for (&(u, v), &i) in &owner {
            if let Some(&j) = owner.get(&(v, u)) {
                assert_ne!(i, j, "spike in a child of {}", a.code);
            } else {
                assert!(parent_edges.contains(&(u, v)), "T-junction in {}", a.code);
                on_parent += 1;
            }
        }
        assert_eq!(on_parent, parent_edges.len(), "{} boundary", a.code);
    }
}

#[test]
fn one_district_is_consistent_and_deterministic() {
    let t = Instant::now();
    let a = one_district("441502", 7, None);
    eprintln!("城区: {} areas in {:?}", a.len(), t.elapsed());
    let b = one_district("441502", 7, None);
    assert_eq!(a, b);
    assert_eq!(a.iter().filter(|x| x.level == Level::Street).count(), 10);
    check(&a, true);
    let c = one_district("441502", 8, None);
    assert_ne!(a, c);
}

#[test]
fn islands_and_target_grids() {
    // 陆丰市 has 5 islands; ask for an exact number of grids
    let a = one_district("441581", 3, Some(3000));
    assert_eq!(a.iter().filter(|x| x.level == Level::Grid).count(), 3000);
    check(&a, false);
    let grids: Vec<&AreaRecord> = a.iter().filter(|x| x.level == Level::Grid).collect();
    assert!(grids.iter().all(|g| g.households >= 1));
    let district = &a[0];
    assert_eq!(district.geom.0.len(), 6);
    let pieces: usize = a
        .iter()
        .filter(|x| x.level == Level::Street)
        .map(|x| x.geom.0.len())
        .sum();
    assert!(pieces >= 6, "islands go to streets as extra polygons");
}

#[test]
fn full_hierarchy() {
    let a = full();
    let count = |l| a.iter().filter(|x| x.level == l).count();
    assert_eq!(count(Level::District), 4);
    assert_eq!(count(Level::Street), 63);
    assert_eq!(count(Level::Community), 907);
    assert!(count(Level::Grid) >= 2000, "{}", count(Level::Grid));
    let people: i64 = a[..4].iter().map(|d| i64::from(d.population)).sum();
    assert!((2_400_000..3_000_000).contains(&people), "{people}");
    // districts are the real boundaries, unchanged
    let counties = data::counties().unwrap();
    for (d, c) in a[..4].iter().zip(&counties) {
        assert_eq!(d.geom, c.geom);
        assert!(d.name_en.is_some());
    }
    let g = a.iter().find(|x| x.code == "441502001001001").unwrap();
    assert_eq!(g.name, "立新社区居委会第1网格");
    check(a, true);
}

#[test]
fn events_on_full_hierarchy() {
    let a = full();
    let grids: Vec<AreaRecord> = a
        .iter()
        .filter(|x| x.level == Level::Grid)
        .cloned()
        .collect();
    let tax = Taxonomy::builtin();
    let end = Utc.with_ymd_and_hms(2025, 7, 1, 0, 0, 0).single().unwrap();
    let opts = EventOptions {
        seed: 1,
        count: 100_000,
        end,
    };
    let t = Instant::now();
    let ev: Vec<_> = events(&grids, &tax, &opts).collect();
    eprintln!("100k events in {:?}", t.elapsed());
    assert_eq!(ev.len(), 100_000);
    for s in Status::ALL {
        assert!(ev.iter().any(|e| e.status == s), "{s:?}");
    }
    let tree = rstar::RTree::bulk_load(
        grids
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let b = g.geom.bounding_rect().unwrap();
                rstar::primitives::GeomWithData::new(
                    rstar::primitives::Rectangle::from_corners(
                        [b.min().x, b.min().y],
                        [b.max().x, b.max().y],
                    ),
                    i,
                )
            })
            .collect(),
    );
    for e in ev.iter().step_by(7) {
        let hits = tree
            .locate_all_at_point(&[e.lon, e.lat])
            .filter(|g| inside(&grids[g.data].geom, e.lon, e.lat))
            .count();
        assert_eq!(hits, 1, "{e:?}");
        assert!(e.reported_at < end && e.updated_at <= end);
    }
}

/// Times the benchmark-size hierarchy; run with
/// `cargo test --release --lib generate::checks::million -- --ignored --nocapture`.
#[test]
#[ignore = "takes minutes; release build only"]
fn million() {
    let t = Instant::now();
    let opts = HierarchyOptions {
        seed: 1,
        target_grids: Some(1_000_000),
    };
    let a = shanwei_hierarchy(&opts, &|s, d, n| {
        if d == n {
            eprintln!("{s} done at {:?}", t.elapsed());
        }
    })
    .unwrap();
    eprintln!("1M grids: {} areas in {:?}", a.len(), t.elapsed());
    assert_eq!(
        a.iter().filter(|x| x.level == Level::Grid).count(),
        1_000_000
    );
    let grids: Vec<AreaRecord> = a.into_iter().filter(|x| x.level == Level::Grid).collect();
    let tax = Taxonomy::builtin();
    let t = Instant::now();
    let opts = EventOptions {
        seed: 1,
        count: 10_000_000,
        end: Utc.with_ymd_and_hms(2025, 7, 1, 0, 0, 0).single().unwrap(),
    };
    let n = events(&grids, &tax, &opts).count();
    eprintln!("{n} events in {:?}", t.elapsed());
}
