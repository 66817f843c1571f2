//! The REST API against a real server on port 0 and a real PostGIS holding the demo.
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use common::{TestServer, demo_db, sql};
use serde_json::{Value, json};

async fn count(url: &str, table: &str) -> i64 {
    sql(url)
        .await
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0)
}

fn report(lon: f64, lat: f64, category: &str) -> Value {
    json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"category": category, "title": "井盖缺失", "description": "人行道井盖缺失，夜间危险", "reporter": "王女士 13900001111"}
    })
}

#[tokio::test]
async fn health_locate_and_areas() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    assert_eq!(s.get("/healthz").await.0, 200);
    let (status, ready) = s.get("/readyz").await;
    assert_eq!(status, 200);
    assert!(ready["grids"].as_u64().unwrap() >= 2000);

    // 汕尾市区 (城区) — a point on land inside the demo area.
    let (status, body) = s.get("/api/v1/locate?lon=115.37&lat=22.79").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["grid"]["level"], "grid");
    let levels: Vec<&str> = body["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["community", "street", "district"]);
    assert_eq!(body["ancestors"][2]["name"], "城区");

    // Open sea south of Shanwei: no grid.
    let (status, body) = s.get("/api/v1/locate?lon=115.5&lat=22.3").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");

    // One area, and listing by level with paging to the end.
    let id = body_id(&s.get("/api/v1/locate?lon=115.37&lat=22.79").await.1["grid"]);
    let (status, area) = s.get(&format!("/api/v1/areas/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(area["geometry"]["type"], "MultiPolygon");
    let streets = s
        .all_pages("/api/v1/areas?level=street&limit=10".into())
        .await;
    let mut unique = streets.clone();
    unique.dedup();
    assert_eq!(unique.len(), 63, "every street once, across pages");
}

fn body_id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

#[tokio::test]
async fn report_is_committed_visible_and_private() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let r = s
        .http
        .post(s.url("/api/v1/events"))
        .header("content-type", "application/geo+json")
        .body(report(115.371, 22.791, "urban.road").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.unwrap();
    let id = body_id(&created);
    assert_eq!(created["properties"]["status"], "reported");
    let grid = s.get("/api/v1/locate?lon=115.371&lat=22.791").await.1["grid"]["id"].clone();
    assert_eq!(created["properties"]["grid_id"], grid);
    assert!(
        !created.to_string().contains("13900001111"),
        "no personal data in responses"
    );

    // Committed in PostGIS before the response, with the contact stored apart.
    let db = sql(&url).await;
    let row = db
        .query_one("SELECT e.grid_id, r.contact FROM events e JOIN event_reporters r ON r.event_id = e.id WHERE e.id = $1", &[&id])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<i64>>(0), grid.as_i64());
    assert_eq!(row.get::<_, String>(1), "王女士 13900001111");

    // Visible to the very next queries.
    // … without the contact, except for the roles that may see it (admin, command).
    let planner = s.client("planner", None).await;
    let (status, one) = common::get_with(&planner, &s.url(&format!("/api/v1/events/{id}"))).await;
    assert_eq!(status, 200);
    assert!(!one.to_string().contains("13900001111"));
    let (_, admin_view) = s.get(&format!("/api/v1/events/{id}")).await;
    assert_eq!(admin_view["properties"]["reporter"], "王女士 13900001111");
    let (_, near) = s
        .get("/api/v1/events/nearby?lon=115.371&lat=22.791&limit=1")
        .await;
    assert_eq!(near["features"][0]["id"], id);
    assert!(
        near["features"][0]["properties"]["distance_m"]
            .as_f64()
            .unwrap()
            < 1e-6
    );
    let (_, listed) = s
        .get("/api/v1/events?bbox=115.37,22.79,115.372,22.792&status=reported")
        .await;
    assert!(
        listed["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == id)
    );
    assert!(!listed.to_string().contains("13900001111"));
}

#[tokio::test]
async fn idempotent_retry_stores_one_row() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let before = count(&url, "events").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = s
            .http
            .post(s.url("/api/v1/events"))
            .header("content-type", "application/json")
            .header("idempotency-key", "field-app-7f3a")
            .body(report(115.36, 22.78, "hazard.fire").to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        ids.push(body_id(&r.json::<Value>().await.unwrap()));
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(count(&url, "events").await, before + 1);
    assert_eq!(count(&url, "event_history").await, 1);
}

/// Reports sent at the same moment are committed in shared batches: each is stored once
/// (retries sharing a key get the first), with its own contact and history entry, in the
/// grid PostGIS finds, and every 201 names the row that holds it.
#[tokio::test]
async fn concurrent_reports_are_each_stored_once() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let before = count(&url, "events").await;
    let sends = (0..120).map(|i| {
        let s = &s;
        async move {
            let mut req = s
                .http
                .post(s.url("/api/v1/events"))
                .header("content-type", "application/json");
            // Every third report is one of ten keys, each sent four times (a retry is the
            // same report again: a key reused for another report is refused).
            let key = (i % 3 == 0).then(|| format!("burst-{}", (i / 3) % 10));
            if let Some(k) = &key {
                req = req.header("idempotency-key", k.clone());
            }
            let n = if key.is_some() { (i / 3) % 10 } else { i };
            let lon = 115.30 + f64::from(n % 40) * 0.002;
            let mut body = report(lon, 22.78, "hazard.fire");
            body["properties"]["reporter"] = json!(format!("reporter {n}"));
            let r = req.body(body.to_string()).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 201);
            let v: Value = r.json().await.unwrap();
            (i, key, body_id(&v), v)
        }
    });
    let done = futures_util::future::join_all(sends).await;
    // 80 without a key, and one row per key.
    assert_eq!(count(&url, "events").await, before + 80 + 10);
    let db = sql(&url).await;
    let mut by_key = std::collections::HashMap::new();
    for (i, key, id, v) in &done {
        if let Some(k) = key {
            let first = *by_key.entry(k.clone()).or_insert(*id);
            assert_eq!(first, *id, "{k}: one event for every retry");
            continue;
        }
        let row = db
            .query_one(
                "SELECT e.grid_id, r.contact, (SELECT count(*) FROM event_history h WHERE h.event_id = e.id),
                        (SELECT g.id FROM areas g WHERE g.valid_to IS NULL AND g.level = 'grid' AND ST_Covers(g.geom, e.geom) ORDER BY g.id LIMIT 1)
                 FROM events e JOIN event_reporters r ON r.event_id = e.id WHERE e.id = $1",
                &[id],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(1), format!("reporter {i}"));
        assert_eq!(row.get::<_, i64>(2), 1);
        assert_eq!(row.get::<_, Option<i64>>(0), row.get::<_, Option<i64>>(3));
        assert_eq!(
            v["properties"]["grid_id"].as_i64(),
            row.get::<_, Option<i64>>(0)
        );
    }
    assert_eq!(by_key.len(), 10);
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_written() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let before = (
        count(&url, "events").await,
        count(&url, "event_reporters").await,
    );

    let gets = [
        "/api/v1/locate?lon=181&lat=22",
        "/api/v1/locate?lon=115&lat=-91",
        "/api/v1/locate?lon=NaN&lat=22",
        "/api/v1/locate?lon=abc&lat=22",
        "/api/v1/locate?lat=22",
        "/api/v1/locate?lon=115&lat=22&x=1",
        "/api/v1/events/nearby?lon=115.3&lat=22.8&limit=0",
        "/api/v1/events/nearby?lon=115.3&lat=22.8&limit=100000",
        "/api/v1/events/nearby?lon=115.3&lat=22.8&within_m=-5",
        "/api/v1/events/nearby?lon=115.3&lat=22.8&status=done",
        "/api/v1/events/nearby?lon=115.3&lat=22.8&category=unicorns",
        "/api/v1/events?bbox=116,22,115,23",
        "/api/v1/events?bbox=100,10,120,30",
        "/api/v1/events?bbox=1,2,3",
        "/api/v1/events?from=yesterday",
        "/api/v1/events?cursor=zz",
        "/api/v1/areas?level=planet",
        "/api/v1/areas/abc",
        "/api/v1/events/1.5",
    ];
    for path in gets {
        let (status, body) = s.get(path).await;
        assert!((400..500).contains(&status), "{path} → {status}");
        assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "{path} → {body}"
        );
    }

    let post = |body: String, ctype: &'static str| {
        let s = &s;
        async move {
            let r = s
                .http
                .post(s.url("/api/v1/events"))
                .header("content-type", ctype)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let mut bad: Vec<(String, &str)> = vec![
        ("{not json".into(), "application/json"),
        ("[]".into(), "application/json"),
        (json!({"type": "Point", "coordinates": [115.3, 22.8]}).to_string(), "application/json"),
        (report(200.0, 22.8, "hazard.fire").to_string(), "application/json"),
        (report(115.3, 22.8, "unicorns").to_string(), "application/json"),
        (report(115.3, 22.8, "hazard.fire").to_string(), "text/plain"),
        (json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[115.3, 22.8], [115.4, 22.9]]}, "properties": {"category": "hazard.fire", "title": "x"}}).to_string(), "application/json"),
        (json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [115.3, 22.8]}, "properties": {"category": "hazard.fire", "title": "  "}}).to_string(), "application/json"),
        (json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [115.3, 22.8]}, "properties": {"category": "hazard.fire", "title": 5}}).to_string(), "application/json"),
    ];
    let mut huge = report(115.3, 22.8, "hazard.fire");
    huge["properties"]["description"] = json!("很".repeat(100_000));
    bad.push((huge.to_string(), "application/json"));
    for (body, ctype) in bad {
        let (status, resp) = post(body.clone(), ctype).await;
        assert!(
            (400..500).contains(&status),
            "{} → {status}",
            &body[..body.len().min(80)]
        );
        assert!(resp["error"]["message"].is_string(), "{resp}");
    }
    let r = s
        .http
        .post(s.url("/api/v1/events"))
        .header("content-type", "application/json")
        .header("idempotency-key", "x".repeat(500))
        .body(report(115.3, 22.8, "hazard.fire").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    let after = (
        count(&url, "events").await,
        count(&url, "event_reporters").await,
    );
    assert_eq!(before, after, "nothing half-written");
}
