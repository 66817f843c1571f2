//! Side channels past the scope, and tokens that stop when revoked: each test here failed
//! before its fix (issue 15).
//!
//! - duplicate hints tell a caller only of cases it may see;
//! - heat follows a token's scope (a resident gets the public heat);
//! - every aggregate shown to a caller who may not see the cases counts 0 or at least
//!   `MIN_COUNT` cases (`model::privacy`), whatever the filters;
//! - idempotency keys belong to their caller, and a key reused for another report is 422;
//! - a revoked token stops on every instance within a second, and its streams end;
//! - a token already known keeps working for reads from memory while PostgreSQL is away;
//! - a stream position from another instance is answered with `reset`, never a silent gap.
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use std::time::{Duration, Instant};

use common::{TestServer, client_with_token, demo_db, get_with, prop, send_json, sql};
use minqing::model::privacy::MIN_COUNT;
use minqing_tiles::TileId;
use serde_json::{Value, json};

/// An open case of the demo with its position, category, grid code and district code.
struct Case {
    id: i64,
    lon: f64,
    lat: f64,
    category: String,
    grid: String,
    district: String,
    reported_at: chrono::DateTime<chrono::Utc>,
}

/// `n` open cases, each in a district of its own where possible (ordered by id).
async fn open_cases(db: &tokio_postgres::Client, n: i64) -> Vec<Case> {
    db.query(
        "WITH RECURSIVE up AS (
             SELECT e.id AS event, g.id AS area, g.code AS grid, g.parent_id, g.level
             FROM events e JOIN areas g ON g.id = e.grid_id
             WHERE e.status IN ('reported', 'accepted', 'assigned', 'in_progress', 'reopened')
           UNION ALL
             SELECT up.event, a.id, up.grid, a.parent_id, a.level
             FROM up JOIN areas a ON a.id = up.parent_id
         ), picked AS (
             SELECT DISTINCT ON (a.code) up.event, up.grid, a.code AS district
             FROM up JOIN areas a ON a.id = up.area
             WHERE up.level = 'district'
             ORDER BY a.code, up.event
         )
         SELECT e.id, ST_X(e.geom), ST_Y(e.geom), e.category, p.grid, p.district, e.reported_at
         FROM picked p JOIN events e ON e.id = p.event
         ORDER BY e.id LIMIT $1",
        &[&n],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| Case {
        id: r.get(0),
        lon: r.get(1),
        lat: r.get(2),
        category: r.get(3),
        grid: r.get(4),
        district: r.get(5),
        reported_at: r.get(6),
    })
    .collect()
}

fn report(lon: f64, lat: f64, category: &str, title: &str) -> Value {
    json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"category": category, "title": title, "description": "side channel"},
    })
}

async fn post_report(
    s: &TestServer,
    c: &reqwest::Client,
    body: &Value,
    key: Option<&str>,
) -> (u16, Value) {
    let mut req = c
        .post(s.url("/api/v1/events"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn duplicate_ids(v: &Value) -> Vec<i64> {
    v["properties"]["possible_duplicates"]
        .as_array()
        .unwrap_or_else(|| panic!("no possible_duplicates in {v}"))
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn duplicate_hints_name_only_cases_the_caller_may_see() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let cases = open_cases(&db, 2).await;
    let (here, elsewhere) = (&cases[0], &cases[1]);
    assert_ne!(here.district, elsewhere.district);
    // A case of our own at a spot, then reports a few metres away.
    let (status, first) = post_report(
        &s,
        &s.http,
        &report(here.lon, here.lat, &here.category, "原始案件"),
        None,
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let original = first["id"].as_i64().unwrap();
    let near = |i: f64| report(here.lon + 0.00005 * i, here.lat, &here.category, "附近");

    let (status, v) = post_report(&s, &s.http, &near(1.0), None).await;
    assert_eq!(status, 201);
    assert!(duplicate_ids(&v).contains(&original), "admin is told: {v}");
    let inside = s.client("command", Some(&here.district)).await;
    let (_, v) = post_report(&s, &inside, &near(2.0), None).await;
    assert!(duplicate_ids(&v).contains(&original), "in scope: {v}");

    let outside = s.client("command", Some(&elsewhere.district)).await;
    let (_, v) = post_report(&s, &outside, &near(3.0), None).await;
    assert_eq!(duplicate_ids(&v), Vec::<i64>::new(), "out of scope: {v}");
    let resident = s.client("reporter", None).await;
    let (_, v) = post_report(&s, &resident, &near(4.0), None).await;
    assert_eq!(duplicate_ids(&v), Vec::<i64>::new(), "resident: {v}");
    let residents_own = v["id"].as_i64().unwrap();
    let (status, v) = post_report(&s, &s.anon, &near(5.0), None).await;
    assert_eq!(status, 201);
    assert_eq!(duplicate_ids(&v), Vec::<i64>::new(), "anonymous: {v}");
    // A resident is told of their own earlier report, and of nothing else there.
    let (_, v) = post_report(&s, &resident, &near(6.0), None).await;
    assert_eq!(
        duplicate_ids(&v),
        vec![residents_own],
        "resident's own: {v}"
    );
}

/// Heat features of a tile as (weight) list.
async fn heat_weights(s: &TestServer, c: &reqwest::Client, t: TileId) -> Vec<u64> {
    let r = c
        .get(s.url(&format!("/tiles/heat/{}/{}/{}?status=all", t.z, t.x, t.y)))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert!(status == 200 || status == 204, "heat {t:?}: {status}");
    let bytes = r.bytes().await.unwrap();
    if status == 204 {
        return Vec::new();
    }
    let layers = minqing_tiles::decode(&bytes).unwrap();
    layers
        .iter()
        .flat_map(|l| l.features.iter())
        .map(|f| common::count(prop(f, "weight")))
        .collect()
}

#[tokio::test]
async fn heat_follows_the_scope_of_a_token() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let cases = open_cases(&db, 2).await;
    let (mine, theirs) = (&cases[0], &cases[1]);
    let t = TileId::containing(theirs.lon, theirs.lat, 16);
    // The case shows to an unscoped reader …
    assert!(!heat_weights(&s, &s.http, t).await.is_empty());
    // … but not to a token of another district (cases there are 404 to it) …
    let other = s.client("field", Some(&mine.district)).await;
    let r = get_with(&other, &s.url(&format!("/api/v1/events/{}", theirs.id))).await;
    assert_eq!(r.0, 404);
    assert_eq!(heat_weights(&s, &other, t).await, Vec::<u64>::new());
    // … and the district's own token sees it.
    let own = s.client("field", Some(&theirs.district)).await;
    assert!(!heat_weights(&s, &own, t).await.is_empty());
    // A resident sees the public heat: no cell of fewer than MIN_COUNT reports.
    let resident = s.client("reporter", None).await;
    for z in [12, 14, 16] {
        let t = TileId::containing(theirs.lon, theirs.lat, z);
        for w in heat_weights(&s, &resident, t).await {
            assert!(w >= MIN_COUNT, "z{z}: resident heat cell of {w}");
        }
    }
}

/// Every count in a stats answer (ids and the threshold itself aside).
fn counts(v: &Value, key: &str, out: &mut Vec<(String, u64)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k != "area" && k != "min_count" {
                    counts(x, k, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| counts(x, key, out)),
        Value::Number(n) => {
            if let Some(n) = n.as_u64() {
                out.push((key.to_owned(), n));
            }
        }
        _ => {}
    }
}

fn assert_public(v: &Value, what: &str) {
    let mut all = Vec::new();
    counts(v, "", &mut all);
    for (k, n) in all {
        assert!(
            n == 0 || n >= MIN_COUNT,
            "{what}: {k} = {n} shown to a caller who may not see the cases: {v}"
        );
    }
}

#[tokio::test]
async fn aggregates_never_single_out_a_case() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let cases = open_cases(&db, 2).await;
    let (c, other) = (&cases[0], &cases[1]);
    let from = (c.reported_at - chrono::Duration::milliseconds(500)).to_rfc3339();
    let to = (c.reported_at + chrono::Duration::milliseconds(500)).to_rfc3339();
    let q = |area: &str| {
        format!(
            "/api/v1/stats?area={area}&from={}&to={}",
            urlencode(&from),
            urlencode(&to)
        )
    };
    // Exact for a caller who may see the case: one case in that second.
    let (status, exact) = get_with(&s.http, &s.url(&q(&c.grid))).await;
    assert_eq!(status, 200, "{exact}");
    assert_eq!(exact["total"], 1, "{exact}");
    let inside = s.client("command", Some(&c.district)).await;
    let (_, v) = get_with(&inside, &s.url(&q(&c.grid))).await;
    assert_eq!(v["total"], 1, "in scope: {v}");
    // Anonymous, a resident, another district's token: the public rule.
    let outside = s.client("command", Some(&other.district)).await;
    let resident = s.client("reporter", None).await;
    for (who, client) in [
        ("anonymous", &s.anon),
        ("out of scope", &outside),
        ("resident", &resident),
    ] {
        let (status, v) = get_with(client, &s.url(&q(&c.grid))).await;
        assert_eq!(status, 200, "{who}: {v}");
        assert_public(&v, who);
        assert_eq!(v["exact"], false, "{who}");
    }
    // Whatever the area or window: grids, communities, districts, all time.
    for area in [c.grid.as_str(), c.district.as_str(), other.grid.as_str()] {
        for path in [q(area), format!("/api/v1/stats?area={area}")] {
            let (status, v) = get_with(&s.anon, &s.url(&path)).await;
            assert_eq!(status, 200, "{path}: {v}");
            assert_public(&v, &path);
        }
    }

    // Areas tiles: exact counts for an unscoped reader (small counts occur) …
    let mut small = 0;
    let mut shown = Vec::new();
    for z in [11, 12, 13, 14] {
        let t = TileId::containing(c.lon, c.lat, z);
        let path = format!("/tiles/areas/{}/{}/{}", t.z, t.x, t.y);
        let (_, exact_layers) = s.tile(&path).await;
        for f in exact_layers.iter().flat_map(|l| l.features.iter()) {
            let n = common::count(prop(f, "open"));
            if (1..MIN_COUNT).contains(&n) {
                small += 1;
            }
        }
        shown.push(path);
    }
    assert!(small > 0, "the demo has areas with 1 or 2 open cases");
    // … and the public rule for everyone else (a scoped token: outside its district).
    let own: Vec<i64> = db
        .query(
            "WITH RECURSIVE sub AS (SELECT id FROM areas WHERE code = $1 AND valid_to IS NULL
               UNION SELECT a.id FROM areas a JOIN sub ON a.parent_id = sub.id)
             SELECT id FROM sub",
            &[&other.district],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for (who, client) in [("anonymous", &s.anon), ("out of scope", &outside)] {
        for path in &shown {
            let r = client.get(s.url(path)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{who} {path}");
            let layers = minqing_tiles::decode(&r.bytes().await.unwrap()).unwrap();
            for f in layers.iter().flat_map(|l| l.features.iter()) {
                if who != "anonymous"
                    && f.id
                        .is_some_and(|id| own.contains(&i64::try_from(id).unwrap()))
                {
                    continue;
                }
                for key in ["open", "overdue"] {
                    let n = common::count(prop(f, key));
                    assert!(
                        n == 0 || n >= MIN_COUNT,
                        "{who} {path}: area {:?} {key} = {n}",
                        f.id
                    );
                }
            }
        }
    }
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn idempotency_keys_belong_to_their_caller() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let c = &open_cases(&db, 1).await[0];
    let mine = report(c.lon, c.lat, &c.category, "我的报告");
    let (status, first) = post_report(&s, &s.http, &mine, Some("key-1")).await;
    assert_eq!(status, 201, "{first}");
    let id = first["id"].as_i64().unwrap();
    // A retry is the same case.
    let (status, again) = post_report(&s, &s.http, &mine, Some("key-1")).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["id"], id);
    // The same key for another report by the same caller: refused, nothing revealed.
    let other = report(c.lon + 0.001, c.lat, &c.category, "另一个报告");
    let (status, v) = post_report(&s, &s.http, &other, Some("key-1")).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["error"]["code"], "idempotency_key_reused");
    assert!(!v.to_string().contains("我的报告"), "{v}");
    // The same key from other callers is their own key: their own new case.
    let someone = s.client("field", None).await;
    for (who, client) in [("another token", &someone), ("anonymous", &s.anon)] {
        let (status, v) = post_report(&s, client, &other, Some("key-1")).await;
        assert_eq!(status, 201, "{who}: {v}");
        assert_ne!(v["id"], id, "{who} got another caller's case: {v}");
        assert_eq!(v["properties"]["title"], "另一个报告", "{who}");
    }
}

/// Reads a response to its end; true when it ended within `within`.
async fn ends_within(mut r: reqwest::Response, within: Duration) -> bool {
    tokio::time::timeout(within, async { while let Ok(Some(_)) = r.chunk().await {} })
        .await
        .is_ok()
}

#[tokio::test]
async fn a_revoked_token_stops_everywhere_within_a_second_and_its_streams_end() {
    let url = demo_db().await;
    let a = TestServer::start(&url).await;
    let b = TestServer::start(&url).await;
    let db = sql(&url).await;
    let secret = a.token("field", None).await;
    let c = client_with_token(&secret);
    let nearby = "/api/v1/events/nearby?lon=115.37&lat=22.79&limit=1";
    for s in [&a, &b] {
        let (status, v) = get_with(&c, &s.url(nearby)).await;
        assert_eq!(status, 200, "{v}");
    }
    let stream = c.get(a.url("/api/v1/stream")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let stream_b = c.get(b.url("/api/v1/stream")).send().await.unwrap();
    assert_eq!(stream_b.status(), 200);
    // Both instances have the token cached now; revoke it in the database.
    let revoked = Instant::now();
    let n = db
        .execute(
            "UPDATE tokens SET revoked_at = now() WHERE hash = $1",
            &[&minqing::auth::hash(&secret)],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    for s in [&a, &b] {
        loop {
            let (status, _) = get_with(&c, &s.url(nearby)).await;
            if status == 401 {
                break;
            }
            assert_eq!(status, 200);
            assert!(
                revoked.elapsed() < Duration::from_secs(1),
                "the revoked token still works after {:?}",
                revoked.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert!(
        ends_within(stream, Duration::from_secs(2)).await,
        "stream on A still open"
    );
    assert!(
        ends_within(stream_b, Duration::from_secs(2)).await,
        "stream on B still open"
    );
    // Other tokens are unaffected.
    let (status, _) = a.get(nearby).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn known_tokens_keep_working_for_reads_from_memory_while_the_database_is_away() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let secret = s.token("field", None).await;
    let known = client_with_token(&secret);
    let revoked_secret = s.token("field", None).await;
    let revoked = client_with_token(&revoked_secret);
    let nearby = s.url("/api/v1/events/nearby?lon=115.37&lat=22.79&limit=3");
    assert_eq!(get_with(&known, &nearby).await.0, 200);
    assert_eq!(get_with(&revoked, &nearby).await.0, 200);
    db.execute(
        "UPDATE tokens SET revoked_at = now() WHERE hash = $1",
        &[&minqing::auth::hash(&revoked_secret)],
    )
    .await
    .unwrap();
    // Every cached lookup is now due for a check (as after its minute in the cache).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(get_with(&revoked, &nearby).await.0, 401);
    let name: String = db
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0);
    db.execute(
        "UPDATE tokens SET name = name WHERE id = -1", // a write to tokens: checks are due
        &[],
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The outage: no new connections to the database, the open ones cut (from another
    // database of the same server).
    let mut admin: tokio_postgres::Config = url.parse().unwrap();
    admin.dbname("postgres");
    let (db, conn) = admin.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    db.batch_execute(&format!(
        "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false;
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = '{name}';"
    ))
    .await
    .unwrap();
    let started = Instant::now();
    let (status, v) = get_with(&known, &nearby).await;
    let (revoked_status, _) = get_with(&revoked, &nearby).await;
    let unknown =
        client_with_token("mq_0000000000000000000000000000000000000000000000000000000000000000");
    let (unknown_status, _) = get_with(&unknown, &nearby).await;
    db.batch_execute(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    assert_eq!(status, 200, "a known token during the outage: {v}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(revoked_status, 401, "a known-revoked token stays refused");
    assert_eq!(unknown_status, 503, "an unknown token cannot be checked");
}

#[tokio::test]
async fn a_stream_position_of_another_instance_is_answered_with_reset() {
    let url = demo_db().await;
    let a = TestServer::start(&url).await;
    let mut on_a = a.stream("", None).await;
    // Two reports on A; a client sees the first and loses its connection.
    let mut ids = Vec::new();
    for i in 0..2 {
        let lon = 115.37 + 0.001 * f64::from(i);
        let (status, v) = a
            .report_with(&a.http, lon, 22.79, "hazard.fire", None)
            .await;
        assert_eq!(status, 201, "{v}");
        ids.push(v["id"].as_i64().unwrap());
    }
    let seen = on_a
        .until_event(ids[0], Duration::from_secs(5))
        .await
        .unwrap();
    // B starts after them (it loads them, it does not stream them), then a third report
    // reaches B through the change feed: B's own first position.
    let b = TestServer::start(&url).await;
    let mut watch_b = b.stream("", None).await;
    let (_, v) = a
        .report_with(&a.http, 115.375, 22.79, "hazard.fire", None)
        .await;
    let third = v["id"].as_i64().unwrap();
    watch_b
        .until_event(third, Duration::from_secs(5))
        .await
        .unwrap();
    // Resuming on B with A's position: the client missed two reports that B cannot
    // replay, so it must be told to reload, not given a silent gap.
    let mut on_b = b.stream("", Some(&seen.id)).await;
    let first = on_b.next(Duration::from_secs(3)).await;
    assert_eq!(
        first.as_ref().map(|e| e.event.as_str()),
        Some("reset"),
        "{first:?}"
    );
    // Resuming on A itself replays exactly what came after.
    let mut again = a.stream("", Some(&seen.id)).await;
    for id in [ids[1], third] {
        let e = again.until_event(id, Duration::from_secs(5)).await.unwrap();
        assert_eq!(e.event, "created");
    }
    let _ = send_json; // shared helpers
}
