//! Who may see and do what, endpoint by endpoint, on a real server and a real PostGIS.
//!
//! Scope answers are checked against SQL over the same tables: a field worker of one
//! community sees exactly that community's cases, wherever they ask.
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use std::time::Duration;

use common::{TestServer, client_with_token, demo_db, get_with, sample_events, sql};
use minqing_tiles::TileId;
use serde_json::json;

/// Ids of the events of an area's subtree, by SQL.
async fn ids_in(db: &tokio_postgres::Client, code: &str) -> Vec<i64> {
    db.query(
        "WITH RECURSIVE sub AS (SELECT id FROM areas WHERE code = $1
           UNION SELECT a.id FROM areas a JOIN sub ON a.parent_id = sub.id)
         SELECT id FROM events WHERE grid_id IN (SELECT id FROM sub) ORDER BY id",
        &[&code],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[tokio::test]
async fn anonymous_callers_see_aggregates_only_and_may_report() {
    let url = demo_db().await;
    let s = TestServer::start_with(&url, |c| {
        c.reports_burst = 3;
        c.reports_per_minute = 1;
    })
    .await;
    let db = sql(&url).await;
    let (lon, lat) = sample_events(&db, 1).await[0];
    let t = TileId::containing(lon, lat, 14);
    let id: i64 = db
        .query_one("SELECT min(id) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    for path in [
        "/api/v1/events".to_owned(),
        format!("/api/v1/events/nearby?lon={lon}&lat={lat}"),
        format!("/api/v1/events/{id}"),
        "/api/v1/stream".to_owned(),
        format!("/tiles/events/14/{}/{}", t.x, t.y),
        "/api/v1/events.csv".to_owned(),
        "/api/v1/events.geojson".to_owned(),
    ] {
        let r = s.anon.get(s.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"minqing\"");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{path}");
    }
    let (status, _) = s.act(&s.anon, id, json!({"action": "accept"})).await;
    assert_eq!(status, 401);
    // Aggregates are public.
    for path in [
        format!("/api/v1/locate?lon={lon}&lat={lat}"),
        "/api/v1/areas?level=district".to_owned(),
        "/api/v1/stats".to_owned(),
        "/tiles".to_owned(),
    ] {
        let (status, _) = get_with(&s.anon, &s.url(&path)).await;
        assert_eq!(status, 200, "{path}");
    }
    for layer in ["areas", "heat"] {
        let r = s
            .anon
            .get(s.url(&format!("/tiles/{layer}/10/{}/{}", t.x >> 4, t.y >> 4)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{layer}");
    }
    // The public heat layer never shows a cell of fewer than 3 reports; staff see all.
    let t16 = TileId::containing(lon, lat, 16);
    let path = format!("/tiles/heat/16/{}/{}?status=all", t16.x, t16.y);
    let weights = |layers: Vec<minqing_tiles::DecodedLayer>| -> Vec<u64> {
        layers
            .iter()
            .flat_map(|l| l.features.iter())
            .map(|f| common::count(common::prop(f, "weight")))
            .collect()
    };
    let r = s.anon.get(s.url(&path)).send().await.unwrap();
    let public = if r.status() == 200 {
        weights(minqing_tiles::decode(&r.bytes().await.unwrap()).unwrap())
    } else {
        Vec::new()
    };
    assert!(public.iter().all(|w| *w >= 3), "{public:?}");
    let (_, staff) = s.tile(&path).await;
    let staff = weights(staff);
    assert!(staff.contains(&1), "{staff:?}");

    // Anyone may report, a few at a time.
    let mut codes = Vec::new();
    for _ in 0..5 {
        let (status, v) = s
            .report_with(&s.anon, lon, lat, "service.water", Some("13900000000"))
            .await;
        codes.push(status);
        if status == 201 {
            // The response is the reporter's own case: no contact echoed.
            assert!(v["properties"].get("reporter").is_none());
        } else {
            assert_eq!(v["error"]["code"], "rate_limited", "{v}");
        }
    }
    assert_eq!(codes, [201, 201, 201, 429, 429]);
    // A bad or unknown token is refused, not treated as anonymous.
    let bad = client_with_token("mq_0000");
    let (status, _) = get_with(&bad, &s.url("/api/v1/stats")).await;
    assert_eq!(status, 401);
    let r = s
        .anon
        .get(s.url("/api/v1/stats"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_field_worker_sees_and_acts_only_within_their_community() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let (lon, lat) = sample_events(&db, 1).await[0];
    let codes = s.codes_at(lon, lat).await;
    let community = &codes[1];
    let field = s.client("field", Some(community)).await;
    let inside = ids_in(&db, community).await;
    assert!(!inside.is_empty());
    let outside: i64 = db
        .query_one(
            "SELECT min(id) FROM events WHERE grid_id IS NOT NULL AND NOT (id = ANY($1))",
            &[&inside],
        )
        .await
        .unwrap()
        .get(0);

    // Lists: exactly the community's events, across pages.
    let got = {
        let mut ids = Vec::new();
        let mut next = Some(s.url("/api/v1/events?limit=1000"));
        while let Some(u) = next {
            let (status, page) = get_with(&field, &u).await;
            assert_eq!(status, 200, "{page}");
            ids.extend(
                page["features"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["id"].as_i64().unwrap()),
            );
            next = page["links"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["rel"] == "next")
                .map(|l| s.url(l["href"].as_str().unwrap()));
        }
        ids
    };
    assert_eq!(got, inside);

    // Nearby from a far point: only in-scope cases, never others.
    let (status, v) = get_with(
        &field,
        &s.url(&format!(
            "/api/v1/events/nearby?lon={}&lat={}&limit=200&status=all",
            lon + 0.2,
            lat
        )),
    )
    .await;
    assert_eq!(status, 200);
    for f in v["features"].as_array().unwrap() {
        assert!(inside.contains(&f["id"].as_i64().unwrap()));
    }

    // One case: inside 200, outside 404 (not 403: its existence is not revealed).
    let (status, _) = get_with(&field, &s.url(&format!("/api/v1/events/{}", inside[0]))).await;
    assert_eq!(status, 200);
    let (status, v) = get_with(&field, &s.url(&format!("/api/v1/events/{outside}"))).await;
    assert_eq!(status, 404, "{v}");
    // … nor can it be changed.
    let before: String = db
        .query_one("SELECT status FROM events WHERE id = $1", &[&outside])
        .await
        .unwrap()
        .get(0);
    let (status, _) = s.act(&field, outside, json!({"action": "accept"})).await;
    assert_eq!(status, 404);
    let after: String = db
        .query_one("SELECT status FROM events WHERE id = $1", &[&outside])
        .await
        .unwrap()
        .get(0);
    assert_eq!(before, after);
    // A field worker may not merge, even in scope.
    let (status, _) = s
        .act(
            &field,
            inside[0],
            json!({"action": "merge", "into": inside[1]}),
        )
        .await;
    assert_eq!(status, 403);

    // Tiles: the events of a tile around the outside case are not in the field's tile.
    let (olon, olat): (f64, f64) = {
        let r = db
            .query_one(
                "SELECT ST_X(geom), ST_Y(geom) FROM events WHERE id = $1",
                &[&outside],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    for (x, y) in [(olon, olat), (lon, lat)] {
        let t = TileId::containing(x, y, 15);
        let path = format!("/tiles/events/15/{}/{}?status=all", t.x, t.y);
        let r = field.get(s.url(&path)).send().await.unwrap();
        let status = r.status().as_u16();
        assert!(status == 200 || status == 204, "{path}: {status}");
        if status == 200 {
            let layers = minqing_tiles::decode(&r.bytes().await.unwrap()).unwrap();
            for f in layers.iter().flat_map(|l| l.features.iter()) {
                let id = i64::try_from(f.id.unwrap()).unwrap();
                assert!(inside.contains(&id), "{path}: event {id} is out of scope");
            }
        }
        // Admin's tile of the same address is a different cache entry, with more in it.
        let (_, all) = s.tile(&path).await;
        if (x, y) == (olon, olat) {
            assert!(
                all.iter()
                    .flat_map(|l| l.features.iter())
                    .any(|f| f.id == Some(u64::try_from(outside).unwrap()))
            );
        }
    }
    // Low zoom: clusters count only the community's open cases.
    let t = TileId::containing(lon, lat, 9);
    let r = field
        .get(s.url(&format!("/tiles/events/9/{}/{}?status=all", t.x, t.y)))
        .send()
        .await
        .unwrap();
    let layers = minqing_tiles::decode(&r.bytes().await.unwrap()).unwrap();
    let total: u64 = layers
        .iter()
        .flat_map(|l| l.features.iter())
        .map(|f| common::count(common::prop(f, "point_count")).max(1))
        .sum();
    assert_eq!(total, inside.len() as u64);

    // The stream: an admin reports inside and outside; the field worker hears only inside.
    let mut stream = {
        let r = field.get(s.url("/api/v1/stream")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r
    };
    let (_, out_ev) = s
        .report_with(&s.http, olon, olat, "hazard.fire", None)
        .await;
    let (_, in_ev) = s.report_with(&s.http, lon, lat, "hazard.fire", None).await;
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !text.contains(&format!("\"id\":{}", in_ev["id"])) {
        match tokio::time::timeout_at(deadline, stream.chunk()).await {
            Ok(Ok(Some(b))) => text.push_str(&String::from_utf8_lossy(&b)),
            _ => panic!("no message for the in-scope report: {text}"),
        }
    }
    assert!(
        !text.contains(&format!("\"id\":{}", out_ev["id"])),
        "{text}"
    );
}

#[tokio::test]
async fn reporter_contacts_reach_only_command_and_admin_covering_the_area() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let (lon, lat) = sample_events(&db, 1).await[0];
    let codes = s.codes_at(lon, lat).await;
    let other_district: String = db
        .query_one(
            "SELECT code FROM areas WHERE level = 'district' AND code <> $1 ORDER BY code LIMIT 1",
            &[&codes[3]],
        )
        .await
        .unwrap()
        .get(0);
    let reporter_token = s.token("reporter", None).await;
    let reporter = client_with_token(&reporter_token);
    let (status, created) = s
        .report_with(
            &reporter,
            lon,
            lat,
            "public_order.noise",
            Some("微信 zhang_san_88"),
        )
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_i64().unwrap();
    assert!(created["properties"].get("reporter").is_none());
    let path = s.url(&format!("/api/v1/events/{id}"));

    let command = s.client("command", Some(&codes[3])).await;
    let (status, v) = get_with(&command, &path).await;
    assert_eq!(status, 200);
    assert_eq!(v["properties"]["reporter"], "微信 zhang_san_88");
    let (_, v) = s.get(&format!("/api/v1/events/{id}")).await;
    assert_eq!(v["properties"]["reporter"], "微信 zhang_san_88");
    for (role, area) in [
        ("field", Some(codes[1].as_str())),
        ("planner", None),
        ("reporter", None),
    ] {
        let c = s.client(role, area).await;
        let r = c.get(&path).send().await.unwrap();
        let text = r.text().await.unwrap();
        assert!(!text.contains("zhang_san"), "{role}: {text}");
    }
    // The reporter follows their own report, but not anyone else's.
    let (status, v) = get_with(&reporter, &path).await;
    assert_eq!(status, 200);
    assert!(!v.to_string().contains("zhang_san"));
    let (_, mine) = get_with(&reporter, &s.url("/api/v1/events")).await;
    let ids: Vec<i64> = mine["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![id]);
    let someone_else: i64 = db
        .query_one("SELECT min(id) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    let (status, _) = get_with(&reporter, &s.url(&format!("/api/v1/events/{someone_else}"))).await;
    assert_eq!(status, 404);
    for p in [
        format!("/api/v1/events/nearby?lon={lon}&lat={lat}"),
        "/api/v1/stream".to_owned(),
        "/api/v1/events.csv".to_owned(),
    ] {
        let (status, _) = get_with(&reporter, &s.url(&p)).await;
        assert_eq!(status, 403, "{p}");
    }
    let (status, _) = s.act(&reporter, id, json!({"action": "accept"})).await;
    assert_eq!(status, 403);
    // A command centre of another district: the case does not exist for it.
    let elsewhere = s.client("command", Some(&other_district)).await;
    let (status, _) = get_with(&elsewhere, &path).await;
    assert_eq!(status, 404);
    // A planner reads, but acts on no case.
    let planner = s.client("planner", None).await;
    let (status, _) = s.act(&planner, id, json!({"action": "accept"})).await;
    assert_eq!(status, 403);
    // Contacts are never in tiles, lists, streams or exports, for anyone.
    let t = TileId::containing(lon, lat, 16);
    let r = s
        .http
        .get(s.url(&format!("/tiles/events/16/{}/{}", t.x, t.y)))
        .send()
        .await
        .unwrap();
    let bytes = r.bytes().await.unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("zhang_san"));
    let csv = s
        .http
        .get(s.url("/api/v1/events.csv?category=public_order"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!csv.contains("zhang_san"));
    // The token itself is stored only as a hash.
    let n: i64 = db
        .query_one(
            "SELECT count(*) FROM tokens WHERE hash = $1",
            &[&minqing::auth::hash(&reporter_token)],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let leaked: i64 = db
        .query_one(
            "SELECT count(*) FROM tokens WHERE position($1 in hash || name) > 0",
            &[&reporter_token],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(leaked, 0);
}
