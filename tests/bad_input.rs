//! Bad input never reaches a 5xx (issue 15): NUL characters in any text, world-size
//! polygons in plan operations, empty exports, `Retry-After` on 429, and escalation steps
//! counted from the deadline — a real server over a real PostGIS holding the demo.
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

use std::time::Duration;

use common::{TestServer, demo_db, send_json, sql};
use reqwest::Method;
use serde_json::{Value, json};

/// A point in 城区 inside a grid of the demo.
const LON: f64 = 115.371;
const LAT: f64 = 22.791;

fn report(title: &str, description: &str, reporter: Option<&str>) -> Value {
    json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [LON, LAT]},
        "properties": {"category": "hazard.fire", "title": title,
                       "description": description, "reporter": reporter},
    })
}

/// Asserts a 400 `bad_request` whose message names `field` and the NUL character.
fn refused_naming(status: u16, body: &Value, field: &str) {
    assert_eq!(status, 400, "{field}: {body}");
    assert_eq!(body["error"]["code"], "bad_request", "{body}");
    let m = body["error"]["message"].as_str().unwrap();
    assert!(m.contains(field), "{field} not named in {m:?}");
    assert!(m.contains("NUL"), "NUL not named in {m:?}");
}

#[tokio::test]
async fn nul_characters_are_refused_naming_the_field() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let before: i64 = db
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    let events = s.url("/api/v1/events");

    // Reports: every text property.
    for (body, field) in [
        (report("井盖\0缺失", "ok", None), "properties.title"),
        (
            report("井盖缺失", "夜间\0危险", None),
            "properties.description",
        ),
        (
            report("井盖缺失", "ok", Some("王女士\u{0}")),
            "properties.reporter",
        ),
    ] {
        let (status, v) = send_json(&s.http, Method::POST, &events, &body).await;
        refused_naming(status, &v, field);
    }
    // An object key with a NUL.
    let mut body = report("井盖缺失", "ok", None);
    body["properties"]["x\0y"] = json!(1);
    let (status, v) = send_json(&s.http, Method::POST, &events, &body).await;
    refused_naming(status, &v, "properties");
    let after: i64 = db
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(before, after, "nothing was stored");

    // Transitions: note and assignee.
    let (status, created) = send_json(
        &s.http,
        Method::POST,
        &events,
        &report("井盖缺失", "ok", None),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (status, v) = s
        .act(&s.http, id, json!({"action": "accept", "note": "收到\0"}))
        .await;
    refused_naming(status, &v, "note");
    let (status, v) = s
        .act(&s.http, id, json!({"action": "assign", "assignee": "\0"}))
        .await;
    refused_naming(status, &v, "assignee");
    let (status, v) = s.act(&s.http, id, json!({"action": "accept"})).await;
    assert_eq!(status, 200, "the case is untouched and still acts: {v}");

    // Plans: the plan's name, and a grid name in an operation.
    let community: i64 = db
        .query_one(
            "SELECT parent_id FROM areas WHERE level = 'grid' AND valid_to IS NULL ORDER BY id LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let plans = s.url("/api/v1/plans");
    let (status, v) = send_json(
        &s.http,
        Method::POST,
        &plans,
        &json!({"area": community, "name": "规划\0一"}),
    )
    .await;
    refused_naming(status, &v, "name");
    let (status, v) = send_json(&s.http, Method::POST, &plans, &json!({"area": community})).await;
    assert_eq!(status, 201, "{v}");
    let plan = v["plan"]["id"].as_i64().unwrap();
    let key = v["features"][0]["id"].as_i64().unwrap();
    let ops = s.url(&format!("/api/v1/plans/{plan}/operations"));
    let (status, v) = send_json(
        &s.http,
        Method::POST,
        &ops,
        &json!({"op": "reshape", "grid": key, "name": "第一\0网格"}),
    )
    .await;
    refused_naming(status, &v, "name");
    let (status, v) = send_json(
        &s.http,
        Method::POST,
        &ops,
        &json!({"op": "create", "geometry": {"type": "Polygon", "coordinates": [[[LON, LAT], [LON + 0.001, LAT], [LON, LAT + 0.001], [LON, LAT]]]},
                "households": 300, "population": 900, "code": "X\0"}),
    )
    .await;
    refused_naming(status, &v, "code");

    // Query parameters.
    for path in [
        "/api/v1/events?category=hazard%00",
        "/api/v1/events.csv?area=44%00",
        "/api/v1/plans?status=draft%00",
    ] {
        let (status, v) = s.get(path).await;
        assert_eq!(status, 400, "{path}: {v}");
        let m = v["error"]["message"].as_str().unwrap();
        assert!(m.contains("NUL"), "{path}: {m}");
    }
    let (status, v) = s.get("/api/v1/events?x%00=1").await;
    assert_eq!(status, 400, "{v}");

    // Open311: form fields (URL-encoded and multipart) and query arguments, answered in
    // the GeoReport error format.
    let lon = LON.to_string();
    let lat = LAT.to_string();
    let v2 = |p: &str| s.url(&format!("/open311/v2/{p}"));
    for (field, value) in [
        ("description", "楼道堆放\0杂物"),
        ("address_string", "城区\0某路"),
        ("first_name", "\0"),
        ("email", "a\0@example.org"),
    ] {
        let mut fields = vec![
            ("service_code", "hazard.fire"),
            ("lat", lat.as_str()),
            ("long", lon.as_str()),
            ("description", "楼道堆放杂物"),
        ];
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let r = s
            .anon
            .post(v2("requests.json"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&fields).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{field}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e[0]["code"], 400, "{e}");
        let d = e[0]["description"].as_str().unwrap();
        assert!(d.contains(field) && d.contains("NUL"), "{field}: {d}");
    }
    // Multipart, XML.
    let boundary = "XyZ123";
    let mut mp = String::new();
    for (k, v) in [
        ("service_code", "hazard.fire"),
        ("lat", lat.as_str()),
        ("long", lon.as_str()),
        ("description", "堆放\0杂物"),
    ] {
        mp.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    mp.push_str(&format!("--{boundary}--\r\n"));
    let r = s
        .anon
        .post(v2("requests.xml"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(mp)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let x = r.text().await.unwrap();
    assert!(
        x.contains("<errors>") && x.contains("description") && x.contains("NUL"),
        "{x}"
    );
    for q in [
        "requests.json?service_request_id=1%00",
        "requests.json?service_code=hazard.fire%00",
        "requests.json?status=open%00",
    ] {
        let r = s.anon.get(v2(q)).send().await.unwrap();
        assert_eq!(r.status(), 400, "{q}");
        let e: Value = r.json().await.unwrap();
        assert!(
            e[0]["description"].as_str().unwrap().contains("NUL"),
            "{q}: {e}"
        );
    }
    let after: i64 = db
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(before + 1, after, "only the one good report was stored");
}

/// A polygon over the whole world, and others no grid can be.
fn world() -> Value {
    json!({"type": "Polygon", "coordinates": [[[-180.0, -90.0], [180.0, -90.0], [180.0, 90.0], [-180.0, 90.0], [-180.0, -90.0]]]})
}

fn square(lon: f64, lat: f64, side: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]]]})
}

#[tokio::test]
async fn a_world_size_polygon_is_refused_and_the_draft_left_as_it_was() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let community: i64 = db
        .query_one(
            "SELECT parent_id FROM areas WHERE level = 'grid' AND valid_to IS NULL GROUP BY parent_id ORDER BY count(*) DESC, parent_id LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let (status, v) = send_json(
        &s.http,
        Method::POST,
        &s.url("/api/v1/plans"),
        &json!({"area": community, "households_min": 0, "households_max": 100_000}),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let plan = v["plan"]["id"].as_i64().unwrap();
    let key = v["features"][0]["id"].as_i64().unwrap();
    let (status, before) = s.get(&format!("/api/v1/plans/{plan}")).await;
    assert_eq!(status, 200);
    let ops_before: i64 = db
        .query_one(
            "SELECT count(*) FROM plan_operations WHERE plan_id = $1",
            &[&plan],
        )
        .await
        .unwrap()
        .get(0);
    let ops = s.url(&format!("/api/v1/plans/{plan}/operations"));
    let far = square(2.35, 48.85, 0.01); // Paris: valid, small, far away
    let huge = square(110.0, 18.0, 10.0); // covers the region, 10° a side
    for body in [
        json!({"op": "reshape", "grid": key, "geometry": world()}),
        json!({"op": "create", "geometry": world(), "households": 300, "population": 900}),
        json!({"op": "reshape", "grid": key, "geometry": huge}),
        json!({"op": "create", "geometry": huge, "households": 300, "population": 900}),
        json!({"op": "reshape", "grid": key, "geometry": far}),
        json!({"op": "create", "geometry": far, "households": 300, "population": 900}),
        json!({"op": "move_boundary", "from": key, "to": key + 1, "piece": world()}),
    ] {
        let (status, v) = send_json(&s.http, Method::POST, &ops, &body).await;
        assert_eq!(status, 422, "{body}: {v}");
        assert!(v["error"]["message"].as_str().is_some(), "{v}");
    }
    // The draft is exactly as it was.
    let (status, after) = s.get(&format!("/api/v1/plans/{plan}")).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(before["features"], after["features"]);
    let ops_after: i64 = db
        .query_one(
            "SELECT count(*) FROM plan_operations WHERE plan_id = $1",
            &[&plan],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(ops_before, ops_after, "no operation logged");
    let (status, v) = send_json(
        &s.http,
        Method::POST,
        &s.url(&format!("/api/v1/plans/{plan}/validate")),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    let (status, v) = send_json(
        &s.http,
        Method::POST,
        &s.url(&format!("/api/v1/plans/{plan}/publish")),
        &json!({}),
    )
    .await;
    assert!(status < 500, "{status}: {v}");

    // A draft holding such a polygon from before these checks (written directly): its
    // validation and publish are refused (422), never a 500, and it can be abandoned.
    let (status, v) = send_json(
        &s.http,
        Method::POST,
        &s.url("/api/v1/plans"),
        &json!({"area": community}),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let plan = v["plan"]["id"].as_i64().unwrap();
    db.execute(
        "UPDATE plan_grids SET geom = ST_Multi(ST_MakeEnvelope(-180, -90, 180, 90, 4326)), changed = true WHERE plan_id = $1 AND key = (SELECT min(key) FROM plan_grids WHERE plan_id = $1)",
        &[&plan],
    )
    .await
    .unwrap();
    for what in ["validate", "publish"] {
        let (status, v) = send_json(
            &s.http,
            Method::POST,
            &s.url(&format!("/api/v1/plans/{plan}/{what}")),
            &json!({}),
        )
        .await;
        assert_eq!(status, 422, "{what}: {v}");
    }
    let (status, v) = send_json(
        &s.http,
        Method::POST,
        &s.url(&format!("/api/v1/plans/{plan}/abandon")),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
}

#[tokio::test]
async fn empty_exports_are_well_formed() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let admin = s.client("admin", None).await;
    for filter in ["bbox=0,0,0.1,0.1", "from=2100-01-01T00:00:00Z"] {
        let r = admin
            .get(s.url(&format!("/api/v1/events.geojson?{filter}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
        assert_eq!(v["type"], "FeatureCollection");
        assert_eq!(v["features"], json!([]));
        let r = admin
            .get(s.url(&format!("/api/v1/events.csv?{filter}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text:?}");
        assert!(lines[0].starts_with("id,category,"), "{text:?}");
    }
    // One match: a header row and the row.
    let r = admin
        .get(s.url("/api/v1/events.geojson?bbox=115.3,22.7,115.5,22.9"))
        .send()
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert!(!v["features"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn rate_limited_reports_carry_retry_after() {
    let url = demo_db().await;
    let s = TestServer::start_with(&url, |c| {
        c.reports_burst = 2;
        c.reports_per_minute = 1;
    })
    .await;
    let events = s.url("/api/v1/events");
    let mut limited = None;
    for _ in 0..4 {
        let r = s
            .anon
            .post(&events)
            .header("content-type", "application/json")
            .body(report("井盖缺失", "ok", None).to_string())
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), 201);
    }
    let r = limited.expect("a 429 beyond the burst");
    let after = r
        .headers()
        .get("retry-after")
        .expect("Retry-After on a 429")
        .to_str()
        .unwrap()
        .parse::<u64>()
        .expect("Retry-After in seconds");
    assert!(after >= 1, "{after}");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");
}

/// The escalation level and the number of escalation history entries of a case.
async fn level(db: &tokio_postgres::Client, id: i64) -> (i16, i64) {
    let r = db
        .query_one(
            "SELECT escalation, (SELECT count(*) FROM event_history h WHERE h.event_id = e.id AND h.action = 'escalate') FROM events e WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1))
}

#[tokio::test]
async fn escalation_is_counted_from_the_deadline_and_survives_restarts() {
    let url = demo_db().await;
    let db = sql(&url).await;
    // Three open cases, the only ones with a deadline: due 1 hour, 2.5 days and 30 days ago.
    let ids: Vec<i64> = db
        .query(
            "SELECT id FROM events WHERE status IN ('accepted', 'assigned', 'in_progress') ORDER BY id LIMIT 3",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    db.execute(
        "UPDATE events SET due_at = NULL, escalation = 0 WHERE id <> ALL($1)",
        &[&ids],
    )
    .await
    .unwrap();
    db.execute(
        "DELETE FROM event_history WHERE action = 'escalate' AND event_id = ANY($1)",
        &[&ids],
    )
    .await
    .unwrap();
    for (id, ago) in ids.iter().zip(["1 hour", "2.5 days", "30 days"]) {
        db.execute(
            &format!(
                "UPDATE events SET escalation = 0, escalated_at = NULL, due_at = now() - interval '{ago}' WHERE id = $1"
            ),
            &[id],
        )
        .await
        .unwrap();
    }
    let s = TestServer::start(&url).await;
    // One sweep brings each case to the level its deadline implies, one history entry a
    // step, in order.
    s.state
        .store
        .escalate_overdue(86_400.0, 5000)
        .await
        .unwrap();
    assert_eq!(level(&db, ids[0]).await, (1, 1), "due 1 hour ago");
    assert_eq!(level(&db, ids[1]).await, (3, 3), "due 2.5 days ago");
    assert_eq!(level(&db, ids[2]).await, (3, 3), "due 30 days ago");
    let notes: Vec<String> = db
        .query(
            "SELECT note FROM event_history WHERE event_id = $1 AND action = 'escalate' ORDER BY at, id",
            &[&ids[2]],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        notes[0].contains("community")
            && notes[1].contains("street")
            && notes[2].contains("district"),
        "{notes:?}"
    );
    // Sweep after sweep, a day a step: nothing more.
    for _ in 0..6 {
        s.state
            .store
            .escalate_overdue(86_400.0, 5000)
            .await
            .unwrap();
    }
    assert_eq!(level(&db, ids[0]).await, (1, 1), "due 1 hour ago");
    assert_eq!(level(&db, ids[1]).await, (3, 3), "due 2.5 days ago");
    assert_eq!(level(&db, ids[2]).await, (3, 3), "due 30 days ago");
    // Servers (re)starting with their sweeps on, a day a step: nothing more.
    for _ in 0..2 {
        let s = TestServer::start_with(&url, |c| {
            c.escalation_check_secs = 1;
            c.escalate_every_secs = 86_400.0;
        })
        .await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        drop(s);
    }
    assert_eq!(level(&db, ids[0]).await, (1, 1), "due 1 hour ago");
    assert_eq!(level(&db, ids[1]).await, (3, 3), "due 2.5 days ago");
    assert_eq!(level(&db, ids[2]).await, (3, 3), "due 30 days ago");
    // A case due 1.5 days ago at level 0 (a backlog) goes to level 2, no further.
    db.execute(
        "UPDATE events SET escalation = 0, due_at = now() - interval '1.5 days' WHERE id = $1",
        &[&ids[0]],
    )
    .await
    .unwrap();
    for _ in 0..6 {
        s.state
            .store
            .escalate_overdue(86_400.0, 5000)
            .await
            .unwrap();
    }
    assert_eq!(level(&db, ids[0]).await.0, 2, "due 1.5 days ago");
}
