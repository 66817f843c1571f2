//! Grid planning: drafts, operations, validation, publish, conflicts and access — a real
//! server over a real PostGIS, with PostGIS itself as the independent answer.
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used,
    clippy::print_stdout
)]

mod common;

use std::time::{Duration, Instant};

use common::{TestServer, demo_db, get_with, send_json, sql};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_postgres::Client;

/// The community with the most grids (54 on the demo).
async fn biggest_community(db: &Client) -> i64 {
    db.query_one(
        "SELECT parent_id FROM areas WHERE level = 'grid' AND valid_to IS NULL GROUP BY parent_id ORDER BY count(*) DESC, parent_id LIMIT 1",
        &[],
    )
    .await
    .unwrap()
    .get(0)
}

async fn open(s: &TestServer, c: &reqwest::Client, body: Value) -> (u16, Value) {
    send_json(c, Method::POST, &s.url("/api/v1/plans"), &body).await
}

async fn op(s: &TestServer, plan: i64, body: Value) -> (u16, Value) {
    send_json(
        &s.http,
        Method::POST,
        &s.url(&format!("/api/v1/plans/{plan}/operations")),
        &body,
    )
    .await
}

fn plan_id(v: &Value) -> i64 {
    v["plan"]["id"].as_i64().unwrap()
}

fn faults<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
    v["validation"]["faults"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

/// Two adjacent unchanged draft grids (sharing a boundary line), not in `avoid`.
async fn adjacent(db: &Client, plan: i64, avoid: &[i32]) -> (i32, i32) {
    let r = db
        .query_one(
            "SELECT a.key, b.key FROM plan_grids a JOIN plan_grids b ON a.plan_id = b.plan_id AND a.key < b.key AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, '****1****')
             WHERE a.plan_id = $1 AND NOT a.changed AND NOT b.changed AND NOT a.key = ANY($2) AND NOT b.key = ANY($2)
             ORDER BY a.key, b.key LIMIT 1",
            &[&plan, &avoid],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1))
}

/// A line between two vertices of a draft grid's ring, running inside it (so the cut makes
/// no new vertex and is exact), splitting it about in half by vertex count.
async fn chord(db: &Client, plan: i64, key: i32) -> Value {
    let r = db
        .query_one(
            "WITH g AS (SELECT geom, ST_ExteriorRing(ST_GeometryN(geom, 1)) AS r FROM plan_grids WHERE plan_id = $1 AND key = $2),
                  v AS (SELECT i, ST_PointN(g.r, i) AS p, ST_NPoints(g.r) - 1 AS n FROM g, generate_series(1, ST_NPoints(g.r) - 1) i)
             SELECT ST_X(a.p), ST_Y(a.p), ST_X(b.p), ST_Y(b.p)
             FROM v a JOIN v b ON b.i >= a.i + 2 AND NOT (a.i = 1 AND b.i = a.n), g
             WHERE ST_Covers(g.geom, ST_MakeLine(a.p, b.p)) AND ST_Relate(ST_MakeLine(a.p, b.p), g.geom, '1********')
             ORDER BY abs((b.i - a.i) - a.n / 2.0), a.i LIMIT 1",
            &[&plan, &key],
        )
        .await
        .expect("a chord inside the grid");
    let (x1, y1, x2, y2): (f64, f64, f64, f64) = (r.get(0), r.get(1), r.get(2), r.get(3));
    json!({"type": "LineString", "coordinates": [[x1, y1], [x2, y2]]})
}

/// A triangle of `from`'s vertices with one edge on its shared boundary with `to`, inside
/// `from`: a piece to give (exact: no new vertex).
async fn piece(db: &Client, plan: i64, from: i32, to: i32) -> Value {
    let r = db
        .query_one(
            "WITH a AS (SELECT geom, ST_ExteriorRing(ST_GeometryN(geom, 1)) AS r FROM plan_grids WHERE plan_id = $1 AND key = $2),
                  b AS (SELECT geom FROM plan_grids WHERE plan_id = $1 AND key = $3),
                  v AS (SELECT i, ST_PointN(a.r, i) AS p, ST_NPoints(a.r) - 1 AS n FROM a, generate_series(1, ST_NPoints(a.r) - 1) i),
                  t AS (SELECT p.p AS p1, q.p AS p2, r.p AS p3,
                               ST_MakePolygon(ST_MakeLine(ARRAY[p.p, q.p, r.p, p.p])) AS tri
                        FROM v p JOIN v q ON q.i = p.i + 1 JOIN v r ON r.i NOT IN (p.i, q.i), b
                        WHERE ST_Covers(ST_Boundary(b.geom), ST_MakeLine(p.p, q.p)))
             SELECT ST_X(p1), ST_Y(p1), ST_X(p2), ST_Y(p2), ST_X(p3), ST_Y(p3)
             FROM t, a
             WHERE ST_IsValid(tri) AND ST_Area(tri) > 0 AND ST_Covers(a.geom, tri) AND NOT ST_Equals(a.geom, tri)
             ORDER BY ST_Area(tri) DESC LIMIT 1",
            &[&plan, &from, &to],
        )
        .await
        .expect("a triangle to give");
    let c: Vec<f64> = (0..6).map(|i| r.get(i)).collect();
    json!({"type": "Polygon", "coordinates": [[[c[0], c[1]], [c[2], c[3]], [c[4], c[5]], [c[0], c[1]]]]})
}

fn key_of(v: &Value, code: &str) -> i32 {
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["code"] == code)
        .map(|f| i32::try_from(f["id"].as_i64().unwrap()).unwrap())
        .unwrap()
}

#[tokio::test]
async fn split_merge_move_then_publish() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let community = biggest_community(&db).await;
    let (status, v) = open(
        &s,
        &s.http,
        json!({"area": community, "households_min": 0, "households_max": 100_000}),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let plan = plan_id(&v);
    assert_eq!(v["validation"]["valid"], true, "{}", v["validation"]);
    let grids = v["features"].as_array().unwrap().len();
    let in_db: i64 = db
        .query_one(
            "SELECT count(*) FROM areas WHERE parent_id = $1 AND valid_to IS NULL AND level = 'grid'",
            &[&community],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(grids as i64, in_db);

    // Split the grid holding the most events, along a chord between two of its vertices.
    let (split_key, split_src, split_h): (i32, i64, i32) = {
        let r = db
            .query_one(
                "SELECT g.key, g.source_id, g.households FROM plan_grids g LEFT JOIN events e ON e.grid_id = g.source_id
                 WHERE g.plan_id = $1 GROUP BY g.key, g.source_id, g.households ORDER BY count(e.id) DESC, g.key LIMIT 1",
                &[&plan],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    let line = chord(&db, plan, split_key).await;
    let (status, v) = op(
        &s,
        plan,
        json!({"op": "split", "grid": split_key, "line": line}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["validation"]["valid"], true, "{}", v["validation"]);
    assert_eq!(
        v["validation"]["slivers"], 0,
        "a cut along vertices is exact"
    );
    assert_eq!(v["features"].as_array().unwrap().len(), grids + 1);
    let new_key = v["features"].as_array().unwrap().last().unwrap()["id"]
        .as_i64()
        .unwrap() as i32;
    let parts = [split_key, new_key];
    let r = db
        .query_one(
            "SELECT ST_Equals(ST_Union(g.geom), o.geom), ST_Area(ST_SymDifference(ST_Union(g.geom), o.geom)), sum(g.households)::int,
                    array_agg(g.households ORDER BY g.key), array_agg(ST_Area(g.geom::geography) / ST_Area(o.geom::geography) ORDER BY g.key)
             FROM plan_grids g, areas o WHERE g.plan_id = $1 AND g.key = ANY($2) AND o.id = $3 GROUP BY o.geom",
            &[&plan, &parts.to_vec(), &split_src],
        )
        .await
        .unwrap();
    assert!(r.get::<_, bool>(0), "the parts' union equals the old grid");
    assert_eq!(r.get::<_, f64>(1), 0.0);
    assert_eq!(r.get::<_, i32>(2), split_h, "households are kept");
    let hs: Vec<i32> = r.get(3);
    let shares: Vec<f64> = r.get(4);
    for (h, share) in hs.iter().zip(&shares) {
        assert!(
            (f64::from(*h) - f64::from(split_h) * share).abs() <= 1.0,
            "households by area share: {hs:?} {shares:?}"
        );
    }

    // Merge two adjacent grids.
    let (m1, m2) = adjacent(&db, plan, &parts).await;
    let before: (i32, Vec<u8>) = {
        let r = db
            .query_one(
                "SELECT sum(households)::int, ST_AsBinary(ST_Union(geom)) FROM plan_grids WHERE plan_id = $1 AND key = ANY($2)",
                &[&plan, &vec![m1, m2]],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    let (status, v) = op(&s, plan, json!({"op": "merge", "grids": [m1, m2]})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["validation"]["valid"], true, "{}", v["validation"]);
    let r = db
        .query_one(
            "SELECT ST_Equals(geom, ST_GeomFromWKB($3, 4326)), households, (SELECT count(*) FROM plan_grids WHERE plan_id = $1 AND key = $4)
             FROM plan_grids WHERE plan_id = $1 AND key = $2",
            &[&plan, &m1, &before.1, &m2],
        )
        .await
        .unwrap();
    assert!(r.get::<_, bool>(0), "the merged grid is the union");
    assert_eq!(r.get::<_, i32>(1), before.0);
    assert_eq!(r.get::<_, i64>(2), 0, "the second grid is retired");

    // Move a shared boundary: a triangle of one grid goes to its neighbour.
    let (a, b) = adjacent(&db, plan, &[split_key, new_key, m1]).await;
    let tri = piece(&db, plan, a, b).await;
    let old: (Vec<u8>, Vec<u8>, i32) = {
        let r = db
            .query_one(
                "SELECT ST_AsBinary(x.geom), ST_AsBinary(y.geom), x.households + y.households FROM plan_grids x, plan_grids y WHERE x.plan_id = $1 AND y.plan_id = $1 AND x.key = $2 AND y.key = $3",
                &[&plan, &a, &b],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    let (status, v) = op(
        &s,
        plan,
        json!({"op": "move_boundary", "from": a, "to": b, "piece": tri}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["validation"]["valid"], true, "{}", v["validation"]);
    assert!(v["validation"]["faults"].as_array().unwrap().is_empty());
    let r = db
        .query_one(
            "SELECT NOT ST_Equals(x.geom, ST_GeomFromWKB($4, 4326)), NOT ST_Equals(y.geom, ST_GeomFromWKB($5, 4326)),
                    ST_Equals(ST_Union(x.geom, y.geom), ST_Union(ST_GeomFromWKB($4, 4326), ST_GeomFromWKB($5, 4326))),
                    NOT ST_Relate(x.geom, y.geom, '2********'), x.households + y.households, x.changed AND y.changed
             FROM plan_grids x, plan_grids y WHERE x.plan_id = $1 AND y.plan_id = $1 AND x.key = $2 AND y.key = $3",
            &[&plan, &a, &b, &old.0, &old.1],
        )
        .await
        .unwrap();
    assert!(
        r.get::<_, bool>(0) && r.get::<_, bool>(1),
        "both grids change"
    );
    assert!(r.get::<_, bool>(2), "together they cover what they covered");
    assert!(r.get::<_, bool>(3), "they do not overlap");
    assert_eq!(r.get::<_, i32>(4), old.2);
    assert!(r.get::<_, bool>(5));

    // What would move is announced.
    let moving = v["validation"]["changes"]["events_regridded"]
        .as_u64()
        .unwrap();
    assert!(moving > 0, "{}", v["validation"]["changes"]);

    // Publish.
    let before: chrono::DateTime<chrono::Utc> =
        db.query_one("SELECT now()", &[]).await.unwrap().get(0);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let probe: (f64, f64, i64) = {
        let r = db
            .query_one(
                "SELECT ST_X(e.geom), ST_Y(e.geom), e.grid_id FROM events e WHERE e.grid_id = $1 ORDER BY e.id LIMIT 1",
                &[&split_src],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    let (status, p) = send_json(
        &s.http,
        Method::POST,
        &s.url(&format!("/api/v1/plans/{plan}/publish")),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["plan"]["status"], "published");
    let reassigned = p["published"]["events_reassigned"].as_i64().unwrap();
    assert_eq!(reassigned as u64, moving);
    let closed: Vec<i64> = serde_json::from_value(p["published"]["closed"].clone()).unwrap();
    let created: Vec<i64> = p["published"]["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    // split grid, its new part, the merged grid and the two of the moved boundary; the
    // second merged grid is closed without successor.
    assert_eq!(created.len(), 5, "{p}");
    assert_eq!(closed.len(), 5, "{p}");

    // PostGIS: old versions closed, new ones valid from the same moment, versions counted.
    let r = db
        .query_one(
            "SELECT count(*) FILTER (WHERE valid_to IS NULL), min(valid_to), max(valid_to) FROM areas WHERE id = ANY($1)",
            &[&closed],
        )
        .await
        .unwrap();
    assert_eq!(r.get::<_, i64>(0), 0);
    let closed_at: chrono::DateTime<chrono::Utc> = r.get(1);
    assert_eq!(closed_at, r.get::<_, chrono::DateTime<chrono::Utc>>(2));
    assert!(closed_at > before);
    let bad_versions: i64 = db
        .query_one(
            "SELECT count(*) FROM areas n WHERE n.id = ANY($1) AND (n.valid_from <> $2 OR n.valid_to IS NOT NULL OR n.version <> coalesce((SELECT max(o.version) FROM areas o WHERE o.code = n.code AND o.id <> n.id), 0) + 1)",
            &[&created, &closed_at],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(bad_versions, 0);
    let current: i64 = db
        .query_one(
            "SELECT count(*) FROM areas WHERE parent_id = $1 AND valid_to IS NULL AND level = 'grid'",
            &[&community],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        current, in_db,
        "one split, one merge: as many grids as before"
    );

    // Every event is in the covering grid with the smallest id, as PostGIS answers.
    let wrong: i64 = db
        .query_one(
            "SELECT count(*) FROM events e WHERE e.grid_id IS DISTINCT FROM (SELECT g.id FROM areas g WHERE g.valid_to IS NULL AND g.level = 'grid' AND ST_Covers(g.geom, e.geom) ORDER BY g.id LIMIT 1)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(wrong, 0);
    let notes: i64 = db
        .query_one(
            "SELECT count(*) FROM event_history WHERE action = 'regrid' AND note LIKE $1",
            &[&format!("plan #{plan}:%")],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(notes, reassigned, "one history note per re-assigned event");
    let stale: i64 = db
        .query_one(
            "SELECT count(*) FROM events WHERE grid_id = ANY($1)",
            &[&closed],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stale, 0);
    // A report placed by an index that has not switched yet (in a closed grid) is stored
    // in the grid now covering it.
    let (plon, plat, _) = probe;
    let late = s
        .state
        .store
        .insert_event(
            minqing::model::NewEvent {
                category: "safety.fire".into(),
                title: "placed by a stale index".into(),
                description: String::new(),
                lon: plon,
                lat: plat,
                reporter: None,
                photo: None,
                link: None,
            },
            2,
            Some(probe.2),
            None,
            minqing::store::ReportedBy::default(),
            "test",
        )
        .await
        .unwrap();
    let covering: i64 = covering_grid(&db, plon, plat).await;
    assert_ne!(covering, probe.2);
    assert_eq!(late.event.grid_id, Some(covering));
    // One that got into a closed grid all the same (written by an instance whose index
    // had not switched) is moved by the catch-up pass, with its history note.
    let stray: i64 = db
        .query_one(
            "INSERT INTO events (category, title, status, priority, grid_id, reported_at, updated_at, geom)
             VALUES ('safety.fire', 'stray', 'reported', 2, $1, now(), now(), ST_SetSRID(ST_MakePoint($2, $3), 4326)) RETURNING id",
            &[&probe.2, &plon, &plat],
        )
        .await
        .unwrap()
        .get(0);
    let moved = s
        .state
        .store
        .regrid_stragglers(plan, &closed, "test")
        .await
        .unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!((moved[0].id, moved[0].grid_id), (stray, Some(covering)));
    let note: String = db
        .query_one(
            "SELECT note FROM event_history WHERE event_id = $1 AND action = 'regrid'",
            &[&stray],
        )
        .await
        .unwrap()
        .get(0);
    assert!(note.starts_with(&format!("plan #{plan}: grid ")), "{note}");

    // locate answers the new grids at once, and the old ones at a time before.
    let (lon, lat, old_grid) = probe;
    let expect: i64 = covering_grid(&db, lon, lat).await;
    assert!(created.contains(&expect));
    let (status, l) = s.get(&format!("/api/v1/locate?lon={lon}&lat={lat}")).await;
    assert_eq!(status, 200, "{l}");
    assert_eq!(l["grid"]["id"], expect);
    let at = before.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let q = serde_urlencoded::to_string([
        ("lon", lon.to_string()),
        ("lat", lat.to_string()),
        ("at", at.clone()),
    ])
    .unwrap();
    let (status, l) = s.get(&format!("/api/v1/locate?{q}")).await;
    assert_eq!(status, 200, "{l}");
    assert_eq!(l["grid"]["id"], old_grid);
    assert_eq!(l["ancestors"][0]["id"], community);
    // The historical listing holds the old grids, the current one the new.
    let q = serde_urlencoded::to_string([
        ("parent", community.to_string()),
        ("limit", "1000".into()),
        ("at", at),
    ])
    .unwrap();
    let (status, then) = s.get(&format!("/api/v1/areas?{q}")).await;
    assert_eq!(status, 200, "{then}");
    let then: Vec<i64> = then["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert!(closed.iter().all(|c| then.contains(c)));
    assert!(created.iter().all(|c| !then.contains(c)));
    let (_, now) = s
        .get(&format!("/api/v1/areas?parent={community}&limit=1000"))
        .await;
    let now: Vec<i64> = now["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert!(created.iter().all(|c| now.contains(c)));
    assert!(closed.iter().all(|c| !now.contains(c)));
    // The index holds the re-assigned events.
    let areas = s.state.index.areas();
    assert!(created.iter().all(|c| areas.get(*c).is_some()));
    assert!(closed.iter().all(|c| areas.get(*c).is_none()));
    let in_index = s.state.index.events(|ix| {
        ix.list(
            None,
            &minqing::index::EventFilter {
                status: minqing::model::StatusFilter::All,
                categories: None,
                from: None,
                to: None,
                scope: None,
            },
            None,
            1_000_000,
        )
        .into_iter()
        .filter(|slot| ix.event(*slot).grid_id.is_some_and(|g| closed.contains(&g)))
        .count()
    });
    assert_eq!(in_index, 0, "no event of the index points to a closed grid");
    // A published plan is no longer a draft.
    let (status, _) = op(&s, plan, json!({"op": "retire", "grid": 1})).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn faults_are_named_and_block_publishing() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let community = biggest_community(&db).await;
    let (status, v) = open(&s, &s.http, json!({"area": community})).await;
    assert_eq!(status, 201, "{v}");
    let plan = plan_id(&v);

    // Overlap: a grid redrawn as itself plus its neighbour.
    let (a, b) = adjacent(&db, plan, &[]).await;
    let union: String = db
        .query_one(
            "SELECT ST_AsGeoJSON(ST_Union(geom), 15) FROM plan_grids WHERE plan_id = $1 AND key = ANY($2)",
            &[&plan, &vec![a, b]],
        )
        .await
        .unwrap()
        .get(0);
    let b_area: f64 = db
        .query_one(
            "SELECT ST_Area(geom::geography) FROM plan_grids WHERE plan_id = $1 AND key = $2",
            &[&plan, &b],
        )
        .await
        .unwrap()
        .get(0);
    let union: Value = serde_json::from_str(&union).unwrap();
    let (status, v) = op(
        &s,
        plan,
        json!({"op": "reshape", "grid": a, "geometry": union}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["validation"]["valid"], false);
    let o = faults(&v, "overlap");
    assert_eq!(o.len(), 1, "{}", v["validation"]);
    assert_eq!(o[0]["grids"], json!([a, b]));
    let area = o[0]["area_m2"].as_f64().unwrap();
    assert!((area - b_area).abs() < b_area * 1e-6, "{area} vs {b_area}");
    let [x, y] = [
        o[0]["location"][0].as_f64().unwrap(),
        o[0]["location"][1].as_f64().unwrap(),
    ];
    let inside: bool = db
        .query_one(
            "SELECT ST_Covers(geom, ST_SetSRID(ST_MakePoint($3, $4), 4326)) FROM plan_grids WHERE plan_id = $1 AND key = $2",
            &[&plan, &b, &x, &y],
        )
        .await
        .unwrap()
        .get(0);
    assert!(inside, "the overlap is located inside it");
    // … and its shape is grid b's (to within the 7 decimals of the GeoJSON).
    let off = piece_off(&db, &grid_shape(&db, plan, b).await, &o[0]["geometry"]).await;
    assert!(
        off < b_area * 0.01,
        "overlap shape off by {off} m² of {b_area}"
    );

    // Gap: a grid retired.
    let (c, _) = adjacent(&db, plan, &[a, b]).await;
    let (c_area, c_households): (f64, i32) = {
        let r = db
            .query_one(
                "SELECT ST_Area(geom::geography), households FROM plan_grids WHERE plan_id = $1 AND key = $2",
                &[&plan, &c],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    let _ = c_households;
    let c_shape = grid_shape(&db, plan, c).await;
    let (status, v) = op(&s, plan, json!({"op": "retire", "grid": c})).await;
    assert_eq!(status, 200, "{v}");
    let g = faults(&v, "gap");
    assert_eq!(g.len(), 1, "{}", v["validation"]);
    assert_eq!(g[0]["parent"], community);
    assert!((g[0]["area_m2"].as_f64().unwrap() - c_area).abs() < c_area * 1e-6);
    let off = piece_off(&db, &c_shape, &g[0]["geometry"]).await;
    assert!(off < c_area * 0.01, "gap shape off by {off} m² of {c_area}");

    // A self-intersecting ring is refused with the reason and the place.
    let (lon, lat): (f64, f64) = {
        let r = db
            .query_one(
                "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM areas WHERE id = $1",
                &[&community],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    let d = 0.001;
    let bowtie = json!({"type": "Polygon", "coordinates": [[[lon, lat], [lon + d, lat + d], [lon + d, lat], [lon, lat + d], [lon, lat]]]});
    let (status, e) = op(
        &s,
        plan,
        json!({"op": "reshape", "grid": b, "geometry": bowtie}),
    )
    .await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["error"]["code"], "invalid_geometry");
    assert!(
        e["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("Self-intersection"),
        "{e}"
    );
    let loc = &e["error"]["location"];
    assert!(
        (loc[0].as_f64().unwrap() - (lon + d / 2.0)).abs() < 1e-9,
        "{e}"
    );
    assert!(
        (loc[1].as_f64().unwrap() - (lat + d / 2.0)).abs() < 1e-9,
        "{e}"
    );
    let unchanged: bool = db
        .query_one(
            "SELECT NOT changed FROM plan_grids WHERE plan_id = $1 AND key = $2",
            &[&plan, &b],
        )
        .await
        .unwrap()
        .get(0);
    assert!(unchanged, "a refused operation changes nothing");

    // A grid leaving its parent: a square outside the community added to it.
    let (d_key, outside, out_area): (i32, String, f64) = {
        let (dk, _) = adjacent(&db, plan, &[a, b, c]).await;
        let r = db
            .query_one(
                "WITH sq AS (SELECT ST_MakeEnvelope(ST_XMax(c.geom) + 0.001, ST_YMin(c.geom), ST_XMax(c.geom) + 0.002, ST_YMin(c.geom) + 0.001, 4326) AS g FROM areas c WHERE c.id = $3)
                 SELECT ST_AsGeoJSON(ST_Multi(ST_Union(p.geom, sq.g)), 15), ST_Area(sq.g::geography) FROM plan_grids p, sq WHERE p.plan_id = $1 AND p.key = $2",
                &[&plan, &dk, &community],
            )
            .await
            .unwrap();
        (dk, r.get(0), r.get(1))
    };
    let outside: Value = serde_json::from_str(&outside).unwrap();
    let (status, v) = op(
        &s,
        plan,
        json!({"op": "reshape", "grid": d_key, "geometry": outside, "households": 10}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let out = faults(&v, "outside_parent");
    assert_eq!(out.len(), 1, "{}", v["validation"]);
    assert_eq!(out[0]["grid"], d_key);
    assert!((out[0]["area_m2"].as_f64().unwrap() - out_area).abs() < out_area * 1e-3);
    let h = faults(&v, "households");
    assert!(
        h.iter()
            .any(|f| f["grid"] == d_key && f["households"] == 10 && f["min"] == 200),
        "{}",
        v["validation"]
    );

    // Publishing is refused with the report; nothing changed in the areas.
    let areas_before: i64 = db
        .query_one("SELECT count(*) FROM areas", &[])
        .await
        .unwrap()
        .get(0);
    let (status, e) = send_json(
        &s.http,
        Method::POST,
        &s.url(&format!("/api/v1/plans/{plan}/publish")),
        &json!({}),
    )
    .await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["error"]["code"], "invalid_plan");
    let kinds: Vec<&str> = e["error"]["report"]["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    for k in ["overlap", "gap", "outside_parent", "households"] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }
    let areas_after: i64 = db
        .query_one("SELECT count(*) FROM areas", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(areas_before, areas_after);
    let (status, v) = s.get(&format!("/api/v1/plans/{plan}")).await;
    assert_eq!(status, 200);
    assert_eq!(v["plan"]["status"], "draft");

    // Bad requests.
    let (status, _) = op(&s, plan, json!({"op": "explode"})).await;
    assert_eq!(status, 400);
    // A body that is not an operation is a 400 `bad_request` naming what is wrong.
    let line = json!({"type": "LineString", "coordinates": [[115, 22], [115.1, 22.1]]});
    for (body, named) in [
        (json!({"op": "explode"}), "unknown op \"explode\""),
        (json!({"grid": a}), "op"),
        (
            json!({"op": "retire", "grid": a, "colour": "red"}),
            "colour",
        ),
        (json!({"op": "retire"}), "grid"),
        (
            json!({"op": "retire", "grid": "a"}),
            "grid must be a grid key",
        ),
        (json!({"op": "merge", "grids": []}), "grids"),
        (
            json!({"op": "split", "grid": a, "line": [[115, 22]]}),
            "line",
        ),
        (
            json!({"op": "reshape", "grid": a, "households": -1}),
            "households",
        ),
        (
            json!({"op": "move_boundary", "from": a, "to": b}),
            "move_boundary takes either",
        ),
        (
            json!({"op": "move_boundary", "grids": [a], "line": line}),
            "grids",
        ),
    ] {
        let (status, v) = op(&s, plan, body.clone()).await;
        assert_eq!(status, 400, "{body}: {v}");
        assert_eq!(v["error"]["code"], "bad_request", "{body}: {v}");
        let m = v["error"]["message"].as_str().unwrap();
        assert!(m.contains(named), "{body}: {m:?} does not name {named:?}");
    }
    let (status, _) = op(&s, plan, json!({"op": "split", "grid": 99999, "line": {"type": "LineString", "coordinates": [[115, 22], [115.1, 22.1]]}})).await;
    assert_eq!(status, 404);
    let (status, _) = op(&s, plan, json!({"op": "merge", "grids": [a]})).await;
    assert_eq!(status, 422);
    let (status, _) = s.get("/api/v1/plans/abc").await;
    assert_eq!(status, 400);

    // The preview tile draws the draft.
    let (lon, lat): (f64, f64) = (lon, lat);
    let t = minqing_tiles::TileId::containing(lon, lat, 14);
    let (status, layers) = s
        .tile(&format!("/api/v1/plans/{plan}/tiles/14/{}/{}", t.x, t.y))
        .await;
    assert_eq!(status, 200);
    assert_eq!(layers[0].name, "plan");
    assert!(!layers[0].features.is_empty());
}

#[tokio::test]
async fn the_second_overlapping_publish_is_a_conflict() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let community = biggest_community(&db).await;
    let body = json!({"area": community, "households_min": 0, "households_max": 100_000});
    let (_, v1) = open(&s, &s.http, body.clone()).await;
    let (_, v2) = open(&s, &s.http, body).await;
    let (p1, p2) = (plan_id(&v1), plan_id(&v2));
    let (a, b) = adjacent(&db, p1, &[]).await;
    let (status, v) = op(&s, p1, json!({"op": "merge", "grids": [a, b]})).await;
    assert_eq!(status, 200, "{v}");
    // The second draft redraws other grids of the same community.
    let (c, d) = adjacent(&db, p2, &[a, b]).await;
    let (status, v) = op(&s, p2, json!({"op": "merge", "grids": [c, d]})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["validation"]["valid"], true);
    let draft2 = s.get(&format!("/api/v1/plans/{p2}")).await.1;

    let publish = |p: i64| {
        let s = &s;
        async move {
            send_json(
                &s.http,
                Method::POST,
                &s.url(&format!("/api/v1/plans/{p}/publish")),
                &json!({}),
            )
            .await
        }
    };
    let (status, r) = publish(p1).await;
    assert_eq!(status, 200, "{r}");
    let (status, e) = publish(p2).await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(e["error"]["code"], "conflict");
    let named: Vec<i64> = serde_json::from_value(e["error"]["areas"].clone()).unwrap();
    let closed: Vec<i64> = serde_json::from_value(r["published"]["closed"].clone()).unwrap();
    assert!(closed.iter().all(|c| named.contains(c)), "{e}");
    // Nothing of the refused draft is lost.
    let (_, again) = s.get(&format!("/api/v1/plans/{p2}")).await;
    assert_eq!(again["plan"]["status"], "draft");
    assert_eq!(again["features"], draft2["features"]);
    // Rebased, it continues the current grids and can be published.
    let (status, rb) = send_json(
        &s.http,
        Method::POST,
        &s.url(&format!("/api/v1/plans/{p2}/rebase")),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{rb}");
    let codes = |v: &Value| -> Vec<String> {
        let mut c: Vec<String> = v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["code"].as_str().unwrap().to_owned())
            .collect();
        c.sort();
        c
    };
    let _ = key_of(
        &rb,
        rb["features"][0]["properties"]["code"].as_str().unwrap(),
    );
    // The first plan's merge retired one code; the rebased draft no longer holds it.
    assert_eq!(codes(&rb).len(), codes(&draft2).len() - 1);
    assert_eq!(rb["validation"]["valid"], true, "{}", rb["validation"]);
    let (status, r) = publish(p2).await;
    assert_eq!(status, 200, "{r}");
    // An abandoned draft stays readable, not editable.
    let (_, v3) = open(&s, &s.http, json!({"area": community})).await;
    let p3 = plan_id(&v3);
    let (status, _) = send_json(
        &s.http,
        Method::POST,
        &s.url(&format!("/api/v1/plans/{p3}/abandon")),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = op(&s, p3, json!({"op": "retire", "grid": 1})).await;
    assert_eq!(status, 409);
    let (status, v) = s.get(&format!("/api/v1/plans/{p3}")).await;
    assert_eq!(status, 200);
    assert_eq!(v["plan"]["status"], "abandoned");
}

#[tokio::test]
async fn only_planners_command_and_admin_plan_in_their_scope() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let community = biggest_community(&db).await;
    let (code, other): (String, String) = {
        let r = db
            .query_one(
                "SELECT c.code, (SELECT o.code FROM areas o WHERE o.level = 'community' AND o.id <> c.id AND o.valid_to IS NULL ORDER BY o.id LIMIT 1) FROM areas c WHERE c.id = $1",
                &[&community],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    let body = json!({"area": code});
    let (status, e) = open(&s, &s.anon, body.clone()).await;
    assert_eq!(status, 401, "{e}");
    let field = s.client("field", None).await;
    let (status, e) = open(&s, &field, body.clone()).await;
    assert_eq!(status, 403, "{e}");
    let reporter = s.client("reporter", None).await;
    assert_eq!(open(&s, &reporter, body.clone()).await.0, 403);
    let elsewhere = s.client("planner", Some(&other)).await;
    assert_eq!(open(&s, &elsewhere, body.clone()).await.0, 403);
    let planner = s.client("planner", Some(&code)).await;
    let (status, v) = open(&s, &planner, body.clone()).await;
    assert_eq!(status, 201, "{v}");
    let plan = plan_id(&v);
    let command = s.client("command", None).await;
    assert_eq!(
        get_with(&command, &s.url(&format!("/api/v1/plans/{plan}")))
            .await
            .0,
        200
    );
    assert_eq!(
        get_with(&elsewhere, &s.url(&format!("/api/v1/plans/{plan}")))
            .await
            .0,
        404
    );
    assert_eq!(
        get_with(&field, &s.url(&format!("/api/v1/plans/{plan}")))
            .await
            .0,
        403
    );
    assert_eq!(
        get_with(&s.anon, &s.url(&format!("/api/v1/plans/{plan}")))
            .await
            .0,
        401
    );
    let (status, list) = get_with(&planner, &s.url("/api/v1/plans")).await;
    assert_eq!(status, 200);
    assert!(
        list["plans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == plan)
    );
    let (status, list) = get_with(&elsewhere, &s.url("/api/v1/plans")).await;
    assert_eq!(status, 200);
    assert!(
        !list["plans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == plan)
    );
    let (status, _) = send_json(
        &field,
        Method::POST,
        &s.url(&format!("/api/v1/plans/{plan}/publish")),
        &json!({}),
    )
    .await;
    assert_eq!(status, 403);
}

/// Speed on the demo (run with `--ignored --nocapture`): validating the 54-grid community,
/// and publishing a redraw of it after 100,000 events were added inside it, while another
/// task locates continuously and records its slowest answer.
#[tokio::test]
#[ignore = "a measurement; prints timings"]
async fn speed() {
    // The server's step timings (RUST_LOG=minqing=info) go to the test's output.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let url = demo_db().await;
    let db = sql(&url).await;
    let community = biggest_community(&db).await;
    let extra: i64 = std::env::var("PLAN_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let t = Instant::now();
    db.batch_execute(&format!(
        "INSERT INTO events (category, title, status, priority, grid_id, reported_at, updated_at, generated, geom)
         SELECT 'safety.fire', 'bench', 'reported', 2,
                (SELECT g.id FROM areas g WHERE g.valid_to IS NULL AND g.level = 'grid' AND ST_Covers(g.geom, p.geom) ORDER BY g.id LIMIT 1),
                now(), now(), true, p.geom
         FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, {extra}, 7))).geom FROM areas WHERE id = {community}) p;
         ANALYZE events;"
    ))
    .await
    .unwrap();
    println!("inserted {extra} events in {:?}", t.elapsed());
    let s = TestServer::start(&url).await;
    let (status, v) = open(
        &s,
        &s.http,
        json!({"area": community, "households_min": 0, "households_max": 100_000}),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let plan = plan_id(&v);
    let grids = v["features"].as_array().unwrap().len();
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let (status, r) = send_json(
            &s.http,
            Method::POST,
            &s.url(&format!("/api/v1/plans/{plan}/validate")),
            &json!({}),
        )
        .await;
        assert_eq!(status, 200, "{r}");
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "validate {grids} grids (no change): median {:?}, max {:?}",
        times[2], times[4]
    );
    // Every grid gets a new version: all events of the community are re-assigned.
    for f in v["features"].as_array().unwrap() {
        let k = f["id"].as_i64().unwrap();
        let h = f["properties"]["households"].as_i64().unwrap();
        let (status, r) = op(
            &s,
            plan,
            json!({"op": "reshape", "grid": k, "households": h + 1}),
        )
        .await;
        assert_eq!(status, 200, "{r}");
    }
    let mut times = Vec::new();
    let mut regridded = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let (status, r) = send_json(
            &s.http,
            Method::POST,
            &s.url(&format!("/api/v1/plans/{plan}/validate")),
            &json!({}),
        )
        .await;
        assert_eq!(status, 200);
        regridded = r["changes"]["events_regridded"].as_u64().unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "validate {grids} changed grids with {regridded} events to re-assign: median {:?}",
        times[1]
    );
    // Locate continuously during the publish.
    let (lon, lat): (f64, f64) = {
        let r = db.query_one("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM areas WHERE id = $1", &[&community]).await.unwrap();
        (r.get(0), r.get(1))
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let prober = {
        let (http, url, stop) = (
            s.anon.clone(),
            s.url(&format!("/api/v1/locate?lon={lon}&lat={lat}")),
            stop.clone(),
        );
        tokio::spawn(async move {
            let (mut n, mut worst, mut errors) = (0u64, Duration::ZERO, 0u64);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                match http.get(&url).send().await {
                    Ok(r) if r.status() == 200 => {}
                    _ => errors += 1,
                }
                worst = worst.max(t.elapsed());
                n += 1;
            }
            (n, worst, errors)
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = Instant::now();
    let (status, p) = send_json(
        &s.http,
        Method::POST,
        &s.url(&format!("/api/v1/plans/{plan}/publish")),
        &json!({}),
    )
    .await;
    let took = t.elapsed();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (n, worst, errors) = prober.await.unwrap();
    assert_eq!(status, 200, "{p}");
    println!(
        "publish: {} events re-assigned in {took:?} (committed after {} ms, in memory after {} ms); locate during it: {n} answers, slowest {worst:?}, {errors} errors",
        p["published"]["events_reassigned"],
        p["published"]["committed_ms"],
        p["published"]["total_ms"]
    );
    assert_eq!(errors, 0);
}

/// A draft grid's shape as GeoJSON text.
async fn grid_shape(db: &tokio_postgres::Client, plan: i64, key: i32) -> String {
    db.query_one(
        "SELECT ST_AsGeoJSON(geom) FROM plan_grids WHERE plan_id = $1 AND key = $2",
        &[&plan, &key],
    )
    .await
    .unwrap()
    .get(0)
}

/// Area (m²) of the symmetric difference between a fault's GeoJSON shape and another.
async fn piece_off(db: &tokio_postgres::Client, shape: &str, piece: &Value) -> f64 {
    assert_eq!(piece["type"], "Polygon", "{piece}");
    db.query_one(
        "SELECT ST_Area(ST_SymDifference(ST_SetSRID(ST_GeomFromGeoJSON($1::text), 4326), ST_SetSRID(ST_GeomFromGeoJSON($2::text), 4326))::geography)",
        &[&piece.to_string(), &shape],
    )
    .await
    .unwrap()
    .get(0)
}

/// The grid PostGIS says covers a point now (smallest id among covering current grids).
async fn covering_grid(db: &tokio_postgres::Client, lon: f64, lat: f64) -> i64 {
    db.query_one(
        "SELECT g.id FROM areas g WHERE g.valid_to IS NULL AND g.level = 'grid' AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY g.id LIMIT 1",
        &[&lon, &lat],
    )
    .await
    .unwrap()
    .get(0)
}

/// A statement failing in the database is the server's fault: whatever its text says (here
/// PostGIS-like words: geometry, GEOS, antipodal), the answer is a 500 with a generic message
/// that does not repeat it, and the draft is left as it was. (Before, any message naming a
/// geometry was passed on to the client as a 422.)
#[tokio::test]
async fn a_database_failure_is_a_500_that_keeps_its_text_to_the_log() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;

    // The conversion itself, on a real PostGIS error naming a geometry.
    let err = db
        .query_one(
            "SELECT ST_AsText(ST_GeomFromText('POLYGON((0 0, 1 1))'))",
            &[],
        )
        .await
        .unwrap_err();
    let text = err.as_db_error().unwrap().message().to_owned();
    assert!(text.contains("geometry"), "{text}");
    let e = minqing::store::PlanError::from(err);
    assert!(
        matches!(
            e,
            minqing::store::PlanError::Store(minqing::store::StoreError::Db(_))
        ),
        "{e:?}"
    );

    // Over HTTP: an operation whose statement the database refuses.
    let community = biggest_community(&db).await;
    let (status, v) = open(&s, &s.http, json!({"area": community})).await;
    assert_eq!(status, 201, "{v}");
    let plan = plan_id(&v);
    let key = v["features"][0]["id"].as_i64().unwrap();
    db.batch_execute(
        "CREATE FUNCTION refuse_plan_grids() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'GEOSIntersects: TopologyException: invalid geometry, antipodal edge at secret-detail-1234'; END $$;
         CREATE TRIGGER refuse_plan_grids BEFORE UPDATE ON plan_grids
         FOR EACH ROW EXECUTE FUNCTION refuse_plan_grids();",
    )
    .await
    .unwrap();
    let (status, e) = op(
        &s,
        plan,
        json!({"op": "reshape", "grid": key, "households": 321}),
    )
    .await;
    assert_eq!(status, 500, "{e}");
    assert_eq!(e["error"]["code"], "internal", "{e}");
    let message = e["error"]["message"].as_str().unwrap();
    for word in ["secret-detail", "GEOS", "geometry", "antipodal", "Topology"] {
        assert!(!e.to_string().contains(word), "{word} in {e}");
    }
    assert!(!message.is_empty());
    db.batch_execute("DROP TRIGGER refuse_plan_grids ON plan_grids")
        .await
        .unwrap();
    let households: i32 = db
        .query_one(
            "SELECT households FROM plan_grids WHERE plan_id = $1 AND key = $2",
            &[&plan, &i32::try_from(key).unwrap()],
        )
        .await
        .unwrap()
        .get(0);
    assert_ne!(households, 321, "the refused operation changed nothing");
}

/// A draft holding a grid PostGIS cannot measure (a world-size polygon stored before the
/// input checks): found by a typed check before anything is computed with it, never by an
/// error's text. Validation and publish answer 422 `invalid_plan` naming the grid; an
/// operation computing with it is refused (422) naming it; reshaping it mends the draft.
#[tokio::test]
async fn a_stored_grid_postgis_cannot_measure_is_a_fault_found_before_computing() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let community = biggest_community(&db).await;
    let (status, v) = open(
        &s,
        &s.http,
        json!({"area": community, "households_min": 0, "households_max": 100_000}),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let plan = plan_id(&v);
    let key = i32::try_from(v["features"][0]["id"].as_i64().unwrap()).unwrap();
    let code = v["features"][0]["properties"]["code"].clone();
    let shape = v["features"][0]["geometry"].clone();
    db.execute(
        "UPDATE plan_grids SET geom = ST_Multi(ST_MakeEnvelope(-180, -90, 180, 90, 4326)), changed = true WHERE plan_id = $1 AND key = $2",
        &[&plan, &key],
    )
    .await
    .unwrap();
    for what in ["validate", "publish"] {
        let (status, e) = send_json(
            &s.http,
            Method::POST,
            &s.url(&format!("/api/v1/plans/{plan}/{what}")),
            &json!({}),
        )
        .await;
        assert_eq!(status, 422, "{what}: {e}");
        assert_eq!(e["error"]["code"], "invalid_plan", "{what}: {e}");
        let report = &e["error"]["report"];
        assert_eq!(report["valid"], false, "{e}");
        let f = report["faults"].as_array().unwrap();
        assert_eq!(f.len(), 1, "{e}");
        assert_eq!(f[0]["kind"], "invalid_geometry", "{e}");
        assert_eq!(f[0]["grid"], key, "{e}");
        assert_eq!(f[0]["code"], code, "{e}");
        assert!(
            f[0]["reason"].as_str().unwrap().contains("too large"),
            "{e}"
        );
    }
    // Splitting it would compute with it: refused, naming it.
    let line = json!({"type": "LineString", "coordinates": [[115.0, 22.0], [115.5, 23.0]]});
    let (status, e) = op(&s, plan, json!({"op": "split", "grid": key, "line": line})).await;
    assert_eq!(status, 422, "{e}");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("grid {key}")) && message.contains("too large"),
        "{e}"
    );
    // Reshaped back to a grid: the draft validates again.
    let (status, v) = op(
        &s,
        plan,
        json!({"op": "reshape", "grid": key, "geometry": shape}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["validation"]["valid"], true, "{}", v["validation"]);
}

/// A plan path that cannot be read (not UTF-8) is a 400 in the JSON error shape, on every
/// plan route (it was axum's plain-text rejection).
#[tokio::test]
async fn an_unreadable_plan_path_is_a_json_400() {
    let s = TestServer::start(&common::empty_db().await).await;
    for (method, path) in [
        (Method::GET, "/api/v1/plans/%FF"),
        (Method::GET, "/api/v1/plans/%FF/tiles/0/0/0"),
        (Method::GET, "/api/v1/plans/1/tiles/%FF/0/0"),
        (Method::POST, "/api/v1/plans/%FF/operations"),
        (Method::POST, "/api/v1/plans/%FF/validate"),
        (Method::POST, "/api/v1/plans/%FF/publish"),
        (Method::POST, "/api/v1/plans/%FF/rebase"),
        (Method::POST, "/api/v1/plans/%FF/abandon"),
    ] {
        let r = s
            .http
            .request(method.clone(), s.url(path))
            .json(&json!({"op": "retire", "grid": 1}))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        assert_eq!(status, 400, "{method} {path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        assert_eq!(v["error"]["code"], "bad_request", "{method} {path}: {body}");
    }
}
