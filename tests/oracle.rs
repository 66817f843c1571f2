//! Oracle tests: the in-memory answers, over HTTP, equal PostGIS's answers on the same
//! tables — point-in-grid (`ST_Covers`), nearest events (geography distance), bbox
//! (`ST_Intersects`) — for thousands of seeded random points and boxes, including points
//! exactly on grid vertices and on shared edges.
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used,
    clippy::format_push_string
)]

mod common;

use common::{TestServer, demo_db, sample_events, sql};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Bounds of the demo region.
const WEST: f64 = 114.85;
const EAST: f64 = 116.2;
const SOUTH: f64 = 22.5;
const NORTH: f64 = 23.6;

#[tokio::test]
async fn locate_equals_st_covers() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let mut rng = ChaCha8Rng::seed_from_u64(11);

    let mut points: Vec<(f64, f64, &str)> = (0..1500)
        .map(|_| {
            (
                rng.random_range(WEST..EAST),
                rng.random_range(SOUTH..NORTH),
                "random",
            )
        })
        .collect();
    // Exact grid vertices (shared by 2–3 grids) and points on shared edges.
    let vertices = db
        .query(
            "SELECT ST_X(p.geom), ST_Y(p.geom) FROM (SELECT geom FROM areas WHERE level = 'grid' ORDER BY id) a,
             LATERAL ST_DumpPoints(a.geom) p ORDER BY md5(ST_AsText(p.geom)) LIMIT 800",
            &[],
        )
        .await
        .unwrap();
    points.extend(vertices.iter().map(|r| (r.get(0), r.get(1), "vertex")));
    let edges = db
        .query(
            "WITH seg AS (
               SELECT ST_PointN(ring, i) a, ST_PointN(ring, i + 1) b
               FROM (SELECT ST_ExteriorRing((ST_Dump(geom)).geom) ring FROM areas WHERE level = 'grid') r,
                    LATERAL generate_series(1, ST_NPoints(ring) - 1) i)
             SELECT ST_X(a), ST_Y(a), ST_X(b), ST_Y(b) FROM seg ORDER BY md5(ST_AsText(a) || ST_AsText(b)) LIMIT 800",
            &[],
        )
        .await
        .unwrap();
    for r in &edges {
        let (ax, ay, bx, by): (f64, f64, f64, f64) = (r.get(0), r.get(1), r.get(2), r.get(3));
        let t: f64 = rng.random_range(0.0..1.0);
        points.push((ax + t * (bx - ax), ay + t * (by - ay), "edge"));
        points.push((f64::midpoint(ax, bx), f64::midpoint(ay, by), "midpoint"));
    }
    assert!(points.len() >= 3000);

    let stmt = db
        .prepare(
            "SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM areas
             WHERE level = 'grid' AND valid_to IS NULL
               AND ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))",
        )
        .await
        .unwrap();
    let mut covered_by_several = 0;
    for (lon, lat, kind) in points {
        let want: Vec<i64> = db.query_one(&stmt, &[&lon, &lat]).await.unwrap().get(0);
        let (status, body) = s
            .get(&format!("/api/v1/locate?lon={lon:?}&lat={lat:?}"))
            .await;
        if want.is_empty() {
            assert_eq!(
                status, 404,
                "{kind} ({lon:?}, {lat:?}): PostGIS finds no grid, minqing {body}"
            );
        } else {
            assert_eq!(status, 200, "{kind} ({lon:?}, {lat:?}) covered by {want:?}");
            let got = body["grid"]["id"].as_i64().unwrap();
            assert_eq!(
                got, want[0],
                "{kind} ({lon:?}, {lat:?}): PostGIS covers {want:?}"
            );
            if want.len() > 1 {
                covered_by_several += 1;
            }
        }
    }
    assert!(
        covered_by_several > 500,
        "vertices and edges were exercised: {covered_by_several}"
    );
}

#[tokio::test]
async fn nearby_equals_postgis_geography_knn() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let stmt = db
        .prepare(
            "SELECT id, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) d
             FROM events
             WHERE ($3::text[] IS NULL OR status = ANY($3))
               AND ($4::text IS NULL OR category = $4 OR category LIKE $4 || '.%')
               AND ($5::float8 IS NULL OR ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, $5))
             ORDER BY d, id LIMIT $6",
        )
        .await
        .unwrap();
    let open: Vec<String> = [
        "reported",
        "accepted",
        "assigned",
        "in_progress",
        "reopened",
    ]
    .map(String::from)
    .to_vec();
    for i in 0..1000 {
        let (lon, lat) = (rng.random_range(WEST..EAST), rng.random_range(SOUTH..NORTH));
        let limit: i64 = rng.random_range(1..=60);
        let (status_param, statuses): (&str, Option<Vec<String>>) = match i % 4 {
            0 => ("open", Some(open.clone())),
            1 => ("all", None),
            2 => ("closed", Some(vec!["closed".into()])),
            _ => ("reopened", Some(vec!["reopened".into()])),
        };
        let category =
            [None, Some("hazard"), Some("service.water"), Some("dispute")][i % 4 / 2 + (i % 3) % 2];
        let within = (i % 5 == 0).then(|| rng.random_range(200.0..8000.0));
        let mut path = format!(
            "/api/v1/events/nearby?lon={lon:?}&lat={lat:?}&limit={limit}&status={status_param}"
        );
        if let Some(c) = category {
            path.push_str(&format!("&category={c}"));
        }
        if let Some(w) = within {
            path.push_str(&format!("&within_m={w:?}"));
        }
        let want: Vec<(i64, f64)> = db
            .query(&stmt, &[&lon, &lat, &statuses, &category, &within, &limit])
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let (status, body) = s.get(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        let got: Vec<(i64, f64)> = body["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["id"].as_i64().unwrap(),
                    f["properties"]["distance_m"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got.len(), want.len(), "{path}");
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g.1 - w.1).abs() < 1e-3,
                "{path} #{k}: {} m vs PostGIS {} m",
                g.1,
                w.1
            );
            // Ids agree unless two events are equally far (within a millimetre).
            if g.0 != w.0 {
                let tie = want.iter().any(|x| x.0 == g.0 && (x.1 - w.1).abs() < 1e-3)
                    || (k + 1 == want.len() && (g.1 - w.1).abs() < 1e-3);
                assert!(tie, "{path} #{k}: id {} vs PostGIS {}", g.0, w.0);
            }
        }
        let ordered = got.windows(2).all(|w| w[0].1 <= w[1].1);
        assert!(ordered, "{path}: not ordered by distance");
    }
}

#[tokio::test]
async fn bbox_equals_st_intersects() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let events = db
        .prepare(
            "SELECT id FROM events WHERE ST_Intersects(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))
             AND ($5::text IS NULL OR status = $5) ORDER BY id",
        )
        .await
        .unwrap();
    let areas = db
        .prepare(
            "SELECT id FROM areas WHERE valid_to IS NULL AND ST_Intersects(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))
             AND ($5::text IS NULL OR level = $5) ORDER BY id",
        )
        .await
        .unwrap();
    // Boxes whose edges pass exactly through stored points test the inclusive boundary.
    let anchors = sample_events(&db, 100).await;
    for i in 0..1000 {
        let size = [0.002, 0.02, 0.1, 0.4][i % 4];
        let (x0, y0) = if i % 3 == 0 {
            anchors[i % anchors.len()]
        } else {
            (rng.random_range(WEST..EAST), rng.random_range(SOUTH..NORTH))
        };
        let (x1, y1) = (
            x0 + rng.random_range(0.0..size),
            y0 + rng.random_range(0.0..size),
        );
        let status = [None, Some("closed"), Some("in_progress")][i % 3];
        let mut path = format!("/api/v1/events?bbox={x0:?},{y0:?},{x1:?},{y1:?}&limit=1000");
        path.push_str(&format!("&status={}", status.unwrap_or("all")));
        let want: Vec<i64> = db
            .query(&events, &[&x0, &y0, &x1, &y1, &status])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(s.all_pages(path.clone()).await, want, "{path}");
        if i % 6 == 0 {
            let level = [None, Some("grid"), Some("community")][i / 6 % 3];
            let mut path = format!("/api/v1/areas?bbox={x0:?},{y0:?},{x1:?},{y1:?}&limit=1000");
            if let Some(l) = level {
                path.push_str(&format!("&level={l}"));
            }
            let want: Vec<i64> = db
                .query(&areas, &[&x0, &y0, &x1, &y1, &level])
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            assert_eq!(s.all_pages(path.clone()).await, want, "{path}");
        }
    }
}
