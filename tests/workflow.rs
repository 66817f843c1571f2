//! The closed loop on a real server and a real PostGIS: transitions and their history,
//! conflicts, deadlines and escalation, the return visit, duplicates and merging,
//! statistics (checked against SQL over the same tables) and streamed exports.
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{PNG, TestServer, demo_db, get_with, sample_events, sql};
use serde_json::{Value, json};

/// A point inside some grid of the demo, and its grid/community/street/district codes.
async fn place(s: &TestServer, url: &str, nth: usize) -> ((f64, f64), Vec<String>) {
    let db = sql(url).await;
    let p = sample_events(&db, 50).await[nth];
    (p, s.codes_at(p.0, p.1).await)
}

fn history_actions(v: &Value) -> Vec<(String, String)> {
    v["properties"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap_or("").to_owned(),
                h["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_case_runs_the_whole_loop_and_every_step_is_in_its_history() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let ((lon, lat), codes) = place(&s, &url, 0).await;
    let reporter = s.client("reporter", None).await;
    let field = s.client("field", Some(&codes[1])).await;

    let (status, created) = s
        .report_with(&reporter, lon, lat, "hazard.gas", Some("13800000000"))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["properties"]["status"], "reported");
    assert!(created["properties"]["due_at"].is_null());

    // Illegal from "reported": 409 naming what is allowed.
    let (status, v) = s
        .act(&field, id, json!({"action": "resolve", "note": "x"}))
        .await;
    assert_eq!(status, 409, "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("reported") && msg.contains("accept") && msg.contains("reject"),
        "{msg}"
    );

    let t0 = chrono::Utc::now();
    let (status, v) = s
        .act(&field, id, json!({"action": "accept", "note": "收到"}))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["properties"]["status"], "accepted");
    // hazard: 3 days from acceptance.
    let due: chrono::DateTime<chrono::Utc> =
        v["properties"]["due_at"].as_str().unwrap().parse().unwrap();
    let days = (due - t0).num_seconds() as f64 / 86_400.0;
    assert!((days - 3.0).abs() < 0.01, "due in {days} days");

    // assign needs an assignee.
    let (status, v) = s.act(&field, id, json!({"action": "assign"})).await;
    assert_eq!(status, 422, "{v}");
    for (body, want) in [
        (json!({"action": "assign", "assignee": "李四"}), "assigned"),
        (json!({"action": "start"}), "in_progress"),
        (json!({"action": "resolve", "note": "已关阀"}), "resolved"),
    ] {
        let (status, v) = s.act(&field, id, body).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["properties"]["status"], want);
    }
    // The field worker may not close: the return visit is the reporter's (or command's).
    let (status, v) = s
        .act(&field, id, json!({"action": "close", "satisfied": true}))
        .await;
    assert_eq!(status, 403, "{v}");
    // close needs the answer.
    let (status, v) = s.act(&reporter, id, json!({"action": "close"})).await;
    assert_eq!(status, 422, "{v}");
    // Not satisfied: the case reopens with a new deadline.
    let (status, v) = s
        .act(
            &reporter,
            id,
            json!({"action": "close", "satisfied": false, "note": "还有气味"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["properties"]["status"], "reopened");
    for body in [
        json!({"action": "assign", "assignee": "王五"}),
        json!({"action": "start"}),
        json!({"action": "resolve"}),
    ] {
        let (status, v) = s.act(&field, id, body).await;
        assert_eq!(status, 200, "{v}");
    }
    let (status, v) = s
        .act(
            &reporter,
            id,
            json!({"action": "close", "satisfied": true, "note": "满意"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["properties"]["status"], "closed");
    assert_eq!(v["properties"]["allowed_actions"], json!([]));

    // The whole story, in order, as the admin sees it (with actors and assignees).
    let (status, v) = s.get(&format!("/api/v1/events/{id}")).await;
    assert_eq!(status, 200);
    let want: Vec<(String, String)> = [
        ("report", "reported"),
        ("accept", "accepted"),
        ("assign", "assigned"),
        ("start", "in_progress"),
        ("resolve", "resolved"),
        ("close", "reopened"),
        ("assign", "assigned"),
        ("start", "in_progress"),
        ("resolve", "resolved"),
        ("close", "closed"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(history_actions(&v), want);
    let h = v["properties"]["history"].as_array().unwrap();
    assert_eq!(h[1]["note"], "收到");
    assert!(h[1]["actor"].as_str().unwrap().starts_with("field:"));
    assert_eq!(h[2]["assignee"], "李四");
    assert_eq!(h[5]["note"], "还有气味");
    assert_eq!(v["properties"]["assignee"], "王五");
    assert_eq!(v["properties"]["satisfied"], true);
    assert_eq!(v["properties"]["reporter"], "13800000000");

    // The same history in PostGIS, and the reporter sees roles, not staff names.
    let db = sql(&url).await;
    let n: i64 = db
        .query_one(
            "SELECT count(*) FROM event_history WHERE event_id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 10);
    let (_, mine) = get_with(&reporter, &s.url(&format!("/api/v1/events/{id}"))).await;
    assert_eq!(mine["properties"]["history"][1]["actor"], "field");
    assert!(mine["properties"].get("reporter").is_none());
    // Whoever handles it is named masked to the resident (王五 → 王*).
    assert_eq!(mine["properties"]["assignee"], "王*");
    let shown: Vec<&str> = mine["properties"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["assignee"].as_str())
        .collect();
    assert!(!shown.is_empty());
    assert!(shown.iter().all(|a| a.contains('*')), "{shown:?}");
}

#[tokio::test]
async fn concurrent_transitions_of_one_case_one_wins_the_others_get_409() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let ((lon, lat), _) = place(&s, &url, 1).await;
    let (_, created) = s
        .report_with(&s.http, lon, lat, "dispute.neighbour", None)
        .await;
    let id = created["id"].as_i64().unwrap();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let c = s.http.clone();
        let u = s.url(&format!("/api/v1/events/{id}/transitions"));
        // Half accept, half reject: whichever commits first decides, the rest conflict.
        let action = if i % 2 == 0 { "accept" } else { "reject" };
        tasks.push(tokio::spawn(async move {
            common::send_json(&c, reqwest::Method::POST, &u, &json!({"action": action})).await
        }));
    }
    let mut codes = BTreeMap::new();
    for t in tasks {
        let (status, _) = t.await.unwrap();
        *codes.entry(status).or_insert(0) += 1;
    }
    assert_eq!(codes.get(&200), Some(&1), "{codes:?}");
    assert_eq!(codes.get(&409), Some(&11), "{codes:?}");
    let n: i64 = sql(&url)
        .await
        .query_one(
            "SELECT count(*) FROM event_history WHERE event_id = $1 AND action IN ('accept', 'reject')",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

#[tokio::test]
async fn overdue_cases_are_raised_level_by_level_on_schedule_and_shown_in_tiles() {
    let url = demo_db().await;
    // A step every 2 s, looked for every second.
    let s = TestServer::start_with(&url, |c| {
        c.escalation_check_secs = 1;
        c.escalate_every_secs = 2.0;
    })
    .await;
    let ((lon, lat), _) = place(&s, &url, 2).await;
    let (_, created) = s.report_with(&s.http, lon, lat, "hazard.fire", None).await;
    let id = created["id"].as_i64().unwrap();
    let (status, _) = s.act(&s.http, id, json!({"action": "accept"})).await;
    assert_eq!(status, 200);
    // Time passes: the deadline is now behind us.
    let db = sql(&url).await;
    db.execute(
        "UPDATE events SET due_at = now() - interval '1 second' WHERE id = $1",
        &[&id],
    )
    .await
    .unwrap();
    let started = Instant::now();
    let mut seen = Vec::new();
    loop {
        let (_, v) = s.get(&format!("/api/v1/events/{id}")).await;
        let level = v["properties"]["escalation"].as_str().unwrap().to_owned();
        if seen.last() != Some(&level) {
            seen.push(level.clone());
        }
        if level == "district" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "stuck at {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Raised one level at a time (the sweep may be faster than this poll), never past district.
    let order = ["grid", "community", "street", "district"];
    let mut last = 0;
    for l in &seen {
        let i = order.iter().position(|o| o == l).unwrap();
        assert!(i >= last, "{seen:?}");
        last = i;
    }
    let raised: Vec<String> = db
        .query(
            "SELECT note FROM event_history WHERE event_id = $1 AND action = 'escalate' ORDER BY at",
            &[&id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(raised.len(), 3, "{raised:?}");
    assert!(raised[0].contains("community") && raised[2].contains("district"));
    // At most three steps, and not faster than the schedule: 2 s apart.
    let at: Vec<chrono::DateTime<chrono::Utc>> = db
        .query(
            "SELECT at FROM event_history WHERE event_id = $1 AND action = 'escalate' ORDER BY at",
            &[&id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!((at[2] - at[1]).num_milliseconds() >= 1900);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, v) = s.get(&format!("/api/v1/events/{id}")).await;
    assert_eq!(v["properties"]["escalation"], "district");
    // On the map: the event's z16 tile shows it raised.
    let t = minqing_tiles::TileId::containing(lon, lat, 16);
    let (status, layers) = s.tile(&format!("/tiles/events/16/{}/{}", t.x, t.y)).await;
    assert_eq!(status, 200);
    let f = layers[0]
        .features
        .iter()
        .find(|f| f.id == Some(u64::try_from(id).unwrap()))
        .unwrap();
    assert_eq!(common::count(common::prop(f, "escalation")), 3);
    assert_eq!(
        common::prop(f, "overdue"),
        Some(&minqing_tiles::Value::Bool(true))
    );
}

#[tokio::test]
async fn a_new_report_lists_nearby_open_duplicates_and_merge_links_them() {
    let url = demo_db().await;
    let s = TestServer::start_with(&url, |c| c.duplicate_radius_m = 250.0).await;
    let ((lon, lat), codes) = place(&s, &url, 3).await;
    let (_, first) = s
        .report_with(&s.http, lon, lat, "environment.garbage", None)
        .await;
    let first_id = first["id"].as_i64().unwrap();
    // ~100 m north: a duplicate; ~1 km: not one.
    let (_, second) = s
        .report_with(&s.http, lon, lat + 0.0009, "environment.garbage", None)
        .await;
    let dups = second["properties"]["possible_duplicates"]
        .as_array()
        .unwrap();
    let d = dups.iter().find(|d| d["id"] == first_id).unwrap();
    let m = d["distance_m"].as_f64().unwrap();
    assert!((95.0..106.0).contains(&m), "{m}");
    assert!(d.get("lon").is_none() && d.get("geometry").is_none());
    // Exactly the open cases of that category within 250 m, as PostGIS finds them.
    let db = sql(&url).await;
    let second_id = second["id"].as_i64().unwrap();
    let want: Vec<i64> = db
        .query(
            "SELECT id FROM events WHERE category = 'environment.garbage' AND id <> $3
               AND status IN ('reported','accepted','assigned','in_progress','reopened')
               AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, 250)
             ORDER BY ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography), id
             LIMIT 10",
            &[&lon, &(lat + 0.0009), &second_id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let got: Vec<i64> = dups.iter().map(|d| d["id"].as_i64().unwrap()).collect();
    assert_eq!(got, want);
    let (_, far) = s
        .report_with(&s.http, lon, lat + 0.009, "environment.garbage", None)
        .await;
    assert!(
        !far["properties"]["possible_duplicates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == first_id)
    );

    // Merge the second into the first: closed, linked, noted on both.
    let (status, v) = s
        .act(
            &s.http,
            second_id,
            json!({"action": "merge", "into": first_id, "note": "同一堆垃圾"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["properties"]["status"], "closed");
    assert_eq!(v["properties"]["merged_into"], first_id);
    let (_, target) = s.get(&format!("/api/v1/events/{first_id}")).await;
    assert!(
        target["properties"]["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["note"]
                .as_str()
                .unwrap()
                .contains(&format!("#{second_id}")))
    );
    // Into itself, into a closed case, or into a case outside the caller's scope: refused.
    let (status, _) = s
        .act(
            &s.http,
            first_id,
            json!({"action": "merge", "into": first_id}),
        )
        .await;
    assert_eq!(status, 422);
    let (_, third) = s
        .report_with(&s.http, lon, lat, "environment.garbage", None)
        .await;
    let third_id = third["id"].as_i64().unwrap();
    let (status, _) = s
        .act(
            &s.http,
            third_id,
            json!({"action": "merge", "into": second_id}),
        )
        .await;
    assert_eq!(status, 422);
    let other = db
        .query_one(
            "SELECT e.id FROM events e JOIN areas g ON g.id = e.grid_id
             JOIN areas c ON c.id = g.parent_id
             WHERE c.code <> $1 AND e.status = 'reported' ORDER BY e.id LIMIT 1",
            &[&codes[1]],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    let command = s.client("command", Some(&codes[1])).await;
    let (status, _) = s
        .act(
            &command,
            third_id,
            json!({"action": "merge", "into": other}),
        )
        .await;
    assert_eq!(status, 422);
}

/// Statistics from memory equal the same figures computed by SQL over the same rows.
#[tokio::test]
async fn statistics_of_any_area_equal_sql_over_the_same_rows() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let ((_, _), codes) = place(&s, &url, 4).await;
    let windows = [
        ("", None, None),
        (
            "&from=2026-06-01T00:00:00Z&to=2026-09-01T00:00:00Z",
            Some("2026-06-01T00:00:00Z"),
            Some("2026-09-01T00:00:00Z"),
        ),
    ];
    // Everywhere, a district, a street, a community, a grid.
    let mut areas: Vec<Option<String>> = vec![None];
    areas.extend(codes.iter().rev().map(|c| Some(c.clone())));
    for area in &areas {
        for (q, from, to) in &windows {
            let path = match area {
                Some(a) => format!("/api/v1/stats?area={a}{q}"),
                None => format!("/api/v1/stats?{}", q.trim_start_matches('&')),
            };
            let (status, v) = s.get(&path).await;
            assert_eq!(status, 200, "{path}: {v}");
            let from: Option<chrono::DateTime<chrono::Utc>> = from.map(|t| t.parse().unwrap());
            let to: Option<chrono::DateTime<chrono::Utc>> = to.map(|t| t.parse().unwrap());
            let scope = "WITH RECURSIVE sub AS (
                    SELECT id FROM areas WHERE $1::text IS NULL OR code = $1
                    UNION SELECT a.id FROM areas a JOIN sub ON a.parent_id = sub.id),
                  ev AS (SELECT * FROM events e
                    WHERE ($1::text IS NULL OR e.grid_id IN (SELECT id FROM sub))
                      AND ($2::timestamptz IS NULL OR e.reported_at >= $2)
                      AND ($3::timestamptz IS NULL OR e.reported_at < $3))";
            let row = db
                .query_one(
                    &format!(
                        "{scope} SELECT count(*),
                           count(*) FILTER (WHERE status IN ('reported','accepted','assigned','in_progress','reopened')),
                           count(*) FILTER (WHERE status IN ('reported','accepted','assigned','in_progress','reopened') AND due_at < now()),
                           count(*) FILTER (WHERE satisfied IS NOT NULL),
                           count(*) FILTER (WHERE satisfied),
                           percentile_disc(0.5) WITHIN GROUP (ORDER BY floor(extract(epoch FROM resolved_at - reported_at))::float8)
                             FILTER (WHERE status IN ('resolved','closed') AND resolved_at IS NOT NULL)
                         FROM ev"
                    ),
                    &[area, &from, &to],
                )
                .await
                .unwrap();
            let n: i64 = row.get(0);
            assert_eq!(v["total"], n, "{path}");
            assert!(n > 0 || area.is_some(), "{path}: no events at all");
            assert_eq!(v["open"], row.get::<_, i64>(1), "{path}");
            // Overdue moves with the clock; the two readings are a moment apart.
            let overdue: i64 = row.get(2);
            assert!(
                (v["overdue"].as_i64().unwrap() - overdue).abs() <= 2,
                "{path}: {} vs {overdue}",
                v["overdue"]
            );
            assert_eq!(
                v["satisfaction"]["answered"],
                row.get::<_, i64>(3),
                "{path}"
            );
            assert_eq!(
                v["satisfaction"]["satisfied"],
                row.get::<_, i64>(4),
                "{path}"
            );
            let median: Option<f64> = row.get(5);
            match median {
                None => assert!(v["median_resolve_hours"].is_null(), "{path}"),
                Some(m) => {
                    let got = v["median_resolve_hours"].as_f64().unwrap() * 3600.0;
                    assert!((got - m).abs() < 0.01, "{path}: {got} vs {m}");
                }
            }
            let rows = db
                .query(
                    &format!("{scope} SELECT split_part(category, '.', 1), status, count(*) FROM ev GROUP BY 1, 2"),
                    &[area, &from, &to],
                )
                .await
                .unwrap();
            for r in rows {
                let (cat, st, k): (String, String, i64) = (r.get(0), r.get(1), r.get(2));
                assert_eq!(
                    v["by_category"][&cat]["by_status"][&st], k,
                    "{path}: {cat} {st}"
                );
            }
            let trend_total: u64 = v["trend"]["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["reported"].as_u64().unwrap())
                .sum();
            assert_eq!(i64::try_from(trend_total).unwrap(), n, "{path}");
        }
    }
    let (status, _) = s.get("/api/v1/stats?area=nonexistent").await;
    assert_eq!(status, 404);
    let (status, _) = s
        .get("/api/v1/stats?from=2026-09-01T00:00:00Z&to=2026-06-01T00:00:00Z")
        .await;
    assert_eq!(status, 400);
    // Public: an aggregate needs no token.
    let (status, _) = get_with(&s.anon, &s.url("/api/v1/stats")).await;
    assert_eq!(status, 200);
}

/// Parses CSV (RFC 4180) into rows of fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (_, c) => field.push(c),
        }
    }
    rows
}

#[tokio::test]
async fn exports_stream_every_matching_event_in_scope() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    // A description that needs quoting survives the round trip.
    let ((lon, lat), codes) = place(&s, &url, 5).await;
    let body = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"category": "service.water", "title": "=cmd, \"停水\"", "description": "第一行\n第二行"}});
    let (status, _) = common::send_json(
        &s.http,
        reqwest::Method::POST,
        &s.url("/api/v1/events"),
        &body,
    )
    .await;
    assert_eq!(status, 201);
    let total: i64 = db
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);

    // Everything, as CSV.
    let r = s
        .http
        .get(s.url("/api/v1/events.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let rows = parse_csv(&r.text().await.unwrap());
    assert_eq!(rows[0][0], "id");
    let width = rows[0].len();
    assert!(rows.iter().all(|r| r.len() == width));
    assert_eq!(i64::try_from(rows.len() - 1).unwrap(), total);
    assert!(
        !rows[0]
            .iter()
            .any(|h| h.contains("reporter") || h.contains("contact"))
    );
    let mine = rows.iter().find(|r| r[4] == "第一行\n第二行").unwrap();
    assert_eq!(mine[3], "'=cmd, \"停水\"");

    // A filter, as GeoJSON: the same ids PostGIS selects.
    let q = "category=hazard&status=open&from=2026-03-01T00:00:00Z&bbox=115.2,22.7,115.5,23.0";
    let r = s
        .http
        .get(s.url(&format!("/api/v1/events.geojson?{q}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let fc: Value = r.json().await.unwrap();
    let got: Vec<i64> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    let want: Vec<i64> = db
        .query(
            "SELECT id FROM events WHERE split_part(category, '.', 1) = 'hazard'
               AND status IN ('reported','accepted','assigned','in_progress','reopened')
               AND reported_at >= '2026-03-01T00:00:00Z'
               AND ST_Intersects(geom, ST_MakeEnvelope(115.2, 22.7, 115.5, 23.0, 4326))
             ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);

    // A field worker exports only their community.
    let field = s.client("field", Some(&codes[1])).await;
    let r = field.get(s.url("/api/v1/events.csv")).send().await.unwrap();
    let rows = parse_csv(&r.text().await.unwrap());
    let want: i64 = db
        .query_one(
            "SELECT count(*) FROM events e JOIN areas g ON g.id = e.grid_id
             JOIN areas c ON c.id = g.parent_id WHERE c.code = $1",
            &[&codes[1]],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(i64::try_from(rows.len() - 1).unwrap(), want);
    assert!(want > 0);
    // No token: no export.
    let r = s
        .anon
        .get(s.url("/api/v1/events.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_report_carries_a_checked_photo_shown_only_to_who_may_see_the_case() {
    use base64::Engine;
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let ((lon, lat), codes) = place(&s, &url, 6).await;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let report = |photo: Value| {
        json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
               "properties": {"category": "urban.road", "title": "路面塌陷", "photo": photo}})
    };
    let post = |body: Value| {
        let c = s.http.clone();
        let u = s.url("/api/v1/events");
        async move { common::send_json(&c, reqwest::Method::POST, &u, &body).await }
    };
    let db = sql(&url).await;
    let before: i64 = db
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    // Not an image (whatever it claims), not base64, too large: refused, nothing stored.
    let (status, v) = post(report(json!({"data": b64(b"<svg onload=alert(1)>")}))).await;
    assert_eq!(status, 415, "{v}");
    let (status, v) = post(report(json!({"data": "%%%"}))).await;
    assert_eq!(status, 400, "{v}");
    let mut big = PNG.to_vec();
    big.resize(5 * 1024 * 1024 + 1, 0);
    let (status, v) = post(report(json!(format!(
        "data:image/png;base64,{}",
        b64(&big)
    ))))
    .await;
    assert_eq!(status, 413, "{v}");
    let after: i64 = db
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(before, after);

    // A real image (a few MB are accepted) is stored with the report, in one transaction.
    let mut photo = PNG.to_vec();
    photo.resize(3 * 1024 * 1024, 0);
    let (status, v) = post(report(json!({"data": b64(&photo)}))).await;
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (_, detail) = s.get(&format!("/api/v1/events/{id}")).await;
    let link = detail["properties"]["photo"].as_str().unwrap().to_owned();
    let r = s.http.get(s.url(&link)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().as_ref(), photo.as_slice());
    // Out of scope or anonymous: not there.
    let other: String = db
        .query_one(
            "SELECT code FROM areas WHERE level = 'community' AND code <> $1 ORDER BY code LIMIT 1",
            &[&codes[1]],
        )
        .await
        .unwrap()
        .get(0);
    let field = s.client("field", Some(&other)).await;
    assert_eq!(field.get(s.url(&link)).send().await.unwrap().status(), 404);
    assert_eq!(s.anon.get(s.url(&link)).send().await.unwrap().status(), 401);
    let field = s.client("field", Some(&codes[1])).await;
    assert_eq!(field.get(s.url(&link)).send().await.unwrap().status(), 200);
}
