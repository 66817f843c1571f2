//! Grid workers and their duties against PostGIS over real HTTP: the demo's generated
//! workers, listing in scope, a worker's token scoped to the grids they hold (and following
//! a change of duties), and cases assigned to a grid's worker by id.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use common::{TestServer, client_with_token, demo_db, get_with, sql};
use minqing::model::register::Tags;
use minqing::model::worker::WorkerKind;
use minqing::store::NewWorker;
use serde_json::{Value, json};

#[tokio::test]
async fn workers_hold_grids_scope_their_tokens_and_take_cases() {
    let url = demo_db().await;
    let db = sql(&url).await;
    let server = TestServer::start(&url).await;

    // The demo: a generated worker per name the generator put on each grid, holding it.
    let row = db
        .query_one(
            "SELECT (SELECT count(*) FROM workers WHERE generated) AS workers,
                    (SELECT coalesce(sum(jsonb_array_length(workers)), 0) FROM areas
                     WHERE level = 'grid' AND valid_to IS NULL) AS names,
                    (SELECT count(*) FROM areas a WHERE level = 'grid' AND valid_to IS NULL
                     AND jsonb_array_length(workers) > 0 AND NOT EXISTS (SELECT 1 FROM worker_duties d
                       WHERE d.grid_code = a.code AND d.valid_to IS NULL)) AS unheld",
            &[],
        )
        .await
        .unwrap();
    let n: i64 = row.get("workers");
    assert!(n > 3000, "{n} workers");
    assert_eq!(n, row.get::<_, i64>("names"));
    assert_eq!(row.get::<_, i64>("unheld"), 0);

    // Two grids of one community, each with an open reported case; a third grid elsewhere.
    let pick = db
        .query(
            "SELECT g.id, g.code, g.parent_id, e.id AS event FROM areas g
             JOIN LATERAL (SELECT id FROM events WHERE grid_id = g.id AND status = 'reported'
                           ORDER BY id LIMIT 1) e ON true
             WHERE g.level = 'grid' AND g.valid_to IS NULL ORDER BY g.parent_id, g.id",
            &[],
        )
        .await
        .unwrap();
    let (a, b) = pick
        .windows(2)
        .map(|w| (&w[0], &w[1]))
        .find(|(x, y)| x.get::<_, i64>("parent_id") == y.get::<_, i64>("parent_id"))
        .expect("two grids of one community with reported cases");
    let other = pick
        .iter()
        .find(|r| r.get::<_, i64>("parent_id") != a.get::<_, i64>("parent_id"))
        .unwrap();
    let code = |r: &tokio_postgres::Row| r.get::<_, String>("code");
    let event = |r: &tokio_postgres::Row| r.get::<_, i64>("event");

    // A worker of A and B; bad input is refused with the reason.
    let store = &server.state.store;
    let new = |code: &str, grids: Vec<String>| NewWorker {
        code: code.into(),
        name: "测试网格员".into(),
        kind: WorkerKind::FullTime,
        phone: None,
        generated: false,
        grids,
    };
    let err = store
        .create_worker(&new("T-bad", vec!["no-such-grid".into()]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no-such-grid"), "{err}");
    let w = store
        .create_worker(&new("T-1", vec![code(a), code(b)]))
        .await
        .unwrap();
    assert!(
        store.create_worker(&new("T-1", vec![])).await.is_err(),
        "codes are unique"
    );
    let (_, secret) = store
        .create_worker_token("worker T-1", w, Tags::default())
        .await
        .unwrap();
    let mine = client_with_token(&secret);

    // Their token sees the cases of their grids only, and the profiles of those grids.
    for (r, want) in [(a, 200), (b, 200), (other, 404)] {
        let (s, _) = get_with(&mine, &server.url(&format!("/api/v1/events/{}", event(r)))).await;
        assert_eq!(s, want, "event in {}", code(r));
    }
    let (s, _) = get_with(
        &mine,
        &server.url(&format!("/api/v1/areas/{}/profile", a.get::<_, i64>("id"))),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = get_with(
        &mine,
        &server.url(&format!(
            "/api/v1/areas/{}/profile",
            a.get::<_, i64>("parent_id")
        )),
    )
    .await;
    assert_eq!(s, 404, "the community above is not theirs");

    // Listing: a token is needed; the worker's token lists the workers of its grids only.
    let (s, _) = get_with(&server.anon, &server.url("/api/v1/workers")).await;
    assert_eq!(s, 401);
    let (s, v) = get_with(&mine, &server.url("/api/v1/workers?limit=1000")).await;
    assert_eq!(s, 200, "{v}");
    let listed = v["workers"].as_array().unwrap();
    assert!(listed.iter().any(|x| x["id"] == w));
    for x in listed {
        let grids: Vec<&str> = x["grids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap())
            .collect();
        assert!(
            grids.contains(&code(a).as_str()) || grids.contains(&code(b).as_str()),
            "{x}"
        );
        assert!(x.get("phone").is_none());
    }
    let command = server.client("command", None).await;
    let (s, v) = get_with(
        &command,
        &server.url(&format!("/api/v1/workers?grid={}", code(a))),
    )
    .await;
    assert_eq!(s, 200);
    let want: Vec<i64> = db
        .query(
            "SELECT w.id FROM workers w JOIN worker_duties d ON d.worker_id = w.id
             WHERE d.grid_code = $1 AND d.valid_to IS NULL AND w.active ORDER BY w.id",
            &[&code(a)],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let got: Vec<i64> = v["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, want);
    let (s, _) = get_with(
        &mine,
        &server.url(&format!("/api/v1/workers?grid={}", code(other))),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = get_with(&command, &server.url("/api/v1/workers?active=maybe")).await;
    assert_eq!(s, 400);

    // Accepting a case gives it to the grid's longest-serving worker (the generated one).
    let (s, v) = server
        .act(&command, event(a), json!({"action": "accept"}))
        .await;
    assert_eq!(s, 200, "{v}");
    let first: i64 = db
        .query_one(
            "SELECT d.worker_id FROM worker_duties d JOIN workers w ON w.id = d.worker_id AND w.active
             WHERE d.grid_code = $1 AND d.valid_to IS NULL ORDER BY d.valid_from, d.worker_id LIMIT 1",
            &[&code(a)],
        )
        .await
        .unwrap()
        .get(0);
    assert_ne!(first, w, "the generated worker has held the grid longer");
    assert_eq!(v["properties"]["worker"]["id"], first, "{v}");
    // Assigning picks a worker holding the grid, by id.
    let outsider = store
        .create_worker(&new("T-2", vec![code(other)]))
        .await
        .unwrap();
    let (s, v) = server
        .act(
            &command,
            event(a),
            json!({"action": "assign", "worker": outsider}),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    let (s, v) = server
        .act(
            &command,
            event(a),
            json!({"action": "assign", "worker": "T-1"}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = server
        .act(&command, event(a), json!({"action": "assign", "worker": w}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["properties"]["worker"]["id"], w);
    assert_eq!(v["properties"]["assignee"], "测试网格员");
    let stored: Option<i64> = db
        .query_one("SELECT worker_id FROM events WHERE id = $1", &[&event(a)])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, Some(w));

    // A change of duties: B is given up, the history keeps it; a token follows the grids.
    assert!(store.set_worker_grids(w, &[code(a)]).await.unwrap());
    let (s, v) = get_with(&command, &server.url(&format!("/api/v1/workers/{w}"))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["grids"], json!([code(a)]));
    let duties = v["duties"].as_array().unwrap();
    assert_eq!(duties.len(), 2, "{v}");
    let ended: Vec<&Value> = duties.iter().filter(|d| !d["to"].is_null()).collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0]["grid_code"], code(b));
    let (_, fresh) = store
        .create_worker_token("worker T-1 again", w, Tags::default())
        .await
        .unwrap();
    let fresh = client_with_token(&fresh);
    let (s, _) = get_with(&fresh, &server.url(&format!("/api/v1/events/{}", event(b)))).await;
    assert_eq!(s, 404, "B is no longer theirs");
    // One who leaves holds nothing.
    assert!(store.set_worker_active(w, false).await.unwrap());
    assert!(store.set_worker_grids(w, &[code(a)]).await.is_err());
    let (_, gone) = store
        .create_worker_token("worker T-1 gone", w, Tags::default())
        .await
        .err()
        .map_or_else(|| (None::<()>, String::new()), |e| (None, e.to_string()));
    assert!(gone.contains("no active worker"), "{gone}");
    let (s, _) = get_with(&command, &server.url("/api/v1/workers/abc")).await;
    assert_eq!(s, 400);
    let (s, _) = get_with(&command, &server.url("/api/v1/workers/999999999")).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn patrol_tracks_are_stored_once_in_order_and_seen_in_scope() {
    let url = demo_db().await;
    let db = sql(&url).await;
    let server = TestServer::start(&url).await;
    let store = &server.state.store;

    // A worker of one grid; a second worker of another district's grid.
    let grids = db
        .query(
            "SELECT g.code, ST_X(ST_PointOnSurface(g.geom)) AS lon, ST_Y(ST_PointOnSurface(g.geom)) AS lat,
                    d.code AS district
             FROM areas g JOIN areas c ON c.id = g.parent_id JOIN areas s ON s.id = c.parent_id
             JOIN areas d ON d.id = s.parent_id
             WHERE g.level = 'grid' AND g.valid_to IS NULL ORDER BY g.id",
            &[],
        )
        .await
        .unwrap();
    let first = &grids[0];
    let far = grids
        .iter()
        .find(|r| r.get::<_, String>("district") != first.get::<_, String>("district"))
        .unwrap();
    let worker = |code: &'static str, grid: String| NewWorker {
        code: code.into(),
        name: "巡查员".into(),
        kind: WorkerKind::PartTime,
        phone: None,
        generated: false,
        grids: vec![grid],
    };
    let w = store
        .create_worker(&worker("P-1", first.get("code")))
        .await
        .unwrap();
    let w2 = store
        .create_worker(&worker("P-2", far.get("code")))
        .await
        .unwrap();
    let token = |w: i64| async move {
        let (_, s) = store
            .create_worker_token("patrol", w, Tags::default())
            .await
            .unwrap();
        client_with_token(&s)
    };
    let phone = token(w).await;
    let other_phone = token(w2).await;
    let post = |c: &reqwest::Client, path: String, body: Value| {
        let c = c.clone();
        let url = server.url(&path);
        async move { common::send_json(&c, reqwest::Method::POST, &url, &body).await }
    };

    // Only a worker's token starts one; a start sent twice is one patrol.
    let command = server.client("command", None).await;
    let start = json!({"client_id": "phone-7f3a", "started_at": "2026-11-30T08:00:00Z"});
    let (s, _) = post(&command, "/api/v1/patrols".into(), start.clone()).await;
    assert_eq!(s, 403);
    let (s, v) = post(&phone, "/api/v1/patrols".into(), start.clone()).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (s, v) = post(&phone, "/api/v1/patrols".into(), start).await;
    assert_eq!((s, v["id"].as_i64()), (200, Some(id)));

    // Points in batches; the second batch is sent twice (its answer "lost"), and overlaps.
    let (lon0, lat0): (f64, f64) = (first.get("lon"), first.get("lat"));
    let point = |seq: i64| {
        json!({"seq": seq, "at": format!("2026-11-30T08:{:02}:00Z", seq + 1),
               "lon": lon0 + 0.0001 * seq as f64, "lat": lat0, "accuracy_m": 5})
    };
    let batch = |r: std::ops::Range<i64>| json!({"points": r.map(point).collect::<Vec<_>>()});
    let path = format!("/api/v1/patrols/{id}/points");
    let (s, v) = post(&phone, path.clone(), batch(0..10)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v, json!({"stored": 10, "repeated": 0}));
    for _ in 0..2 {
        let (s, _) = post(&phone, path.clone(), batch(5..20)).await;
        assert_eq!(s, 200);
    }
    let stored: i64 = db
        .query_one(
            "SELECT count(*) FROM patrol_points WHERE patrol_id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 20, "each point once");
    // Refused: another worker's patrol (404), a point before the start (422), bad input (400).
    let (s, _) = post(&other_phone, path.clone(), batch(20..21)).await;
    assert_eq!(s, 404);
    let early =
        json!({"points": [{"seq": 99, "at": "2026-11-29T08:00:00Z", "lon": lon0, "lat": lat0}]});
    let (s, _) = post(&phone, path.clone(), early).await;
    assert_eq!(s, 422);
    for bad in [
        json!({"points": []}),
        json!({"points": [{"seq": -1, "at": "2026-11-30T09:00:00Z", "lon": 1, "lat": 1}]}),
        json!({"points": [{"seq": 1, "at": "yesterday", "lon": 1, "lat": 1}]}),
        json!({"points": [{"seq": 1, "at": "2026-11-30T09:00:00Z", "lon": 1}]}),
        json!({"points": [{"seq": 1, "at": "2026-11-30T09:00:00Z", "lon": 1, "lat": 1, "speed": 3}]}),
    ] {
        let (s, v) = post(&phone, path.clone(), bad.clone()).await;
        assert!(s == 400 || s == 422, "{bad}: {s} {v}");
    }
    let (s, _) = post(
        &phone,
        format!("/api/v1/patrols/{id}/end"),
        json!({"ended_at": "2026-11-30T08:30:00Z"}),
    )
    .await;
    assert_eq!(s, 200);
    let late =
        json!({"points": [{"seq": 50, "at": "2026-11-30T08:45:00Z", "lon": lon0, "lat": lat0}]});
    let (s, _) = post(&phone, path.clone(), late).await;
    assert_eq!(s, 422, "after the end");

    // A full batch (1,000 points, ~130 KB of JSON) is taken whole.
    let (s, v) = post(
        &phone,
        "/api/v1/patrols".into(),
        json!({"client_id": "phone-full", "started_at": "2026-11-30T08:00:00Z"}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let full = v["id"].as_i64().unwrap();
    let many: Vec<Value> = (0..1000)
        .map(|i| json!({"seq": i, "at": "2026-11-30T09:00:00Z", "lon": lon0, "lat": lat0, "accuracy_m": 12.5}))
        .collect();
    let (s, v) = post(
        &phone,
        format!("/api/v1/patrols/{full}/points"),
        json!({"points": many}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["stored"], 1000);

    // The track: points in seq order, length as PostGIS measures it on the ellipsoid.
    let (s, v) = get_with(
        &command,
        &server.url(&format!("/api/v1/patrols?worker={w}")),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let f = &v["features"][0];
    assert_eq!(f["id"], id);
    let coords = f["geometry"]["coordinates"].as_array().unwrap();
    assert_eq!(coords.len(), 20);
    for (i, c) in coords.iter().enumerate() {
        let want = lon0 + 0.0001 * i as f64;
        assert!((c[0].as_f64().unwrap() - want).abs() < 1e-6, "{i}: {c}");
    }
    let want: f64 = db
        .query_one(
            "SELECT ST_Length(ST_MakeLine(ST_SetSRID(ST_MakePoint($1::float8 + 0.0001 * i, $2::float8), 4326) ORDER BY i)::geography)
             FROM generate_series(0, 19) i",
            &[&lon0, &lat0],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        (f["properties"]["length_m"].as_f64().unwrap() - want).abs() < 0.1,
        "{f} vs {want}"
    );
    assert_eq!(f["properties"]["points"], 20);
    assert_eq!(f["properties"]["ended_at"], "2026-11-30T08:30:00Z");

    // Scope: the other worker does not see it; a command token of the far district neither.
    let (_, v) = get_with(&other_phone, &server.url("/api/v1/patrols")).await;
    assert!(
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"] != id),
        "{v}"
    );
    let far_command = server
        .client("command", Some(far.get::<_, String>("district").as_str()))
        .await;
    let (_, v) = get_with(&far_command, &server.url("/api/v1/patrols")).await;
    assert!(
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"] != id),
        "{v}"
    );
    let (s, _) = get_with(&server.anon, &server.url("/api/v1/patrols")).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn visits_are_recorded_once_and_the_due_list_follows_the_rules_in_scope() {
    let url = common::demo_registers_db().await;
    let data_dir = std::env::temp_dir().join(format!("minqing-visits-{}", std::process::id()));
    common::write_demo_registers_key(&data_dir);
    let db = sql(&url).await;
    let server = TestServer::start_with(&url, |c| c.data_dir.clone_from(&data_dir)).await;
    let store = &server.state.store;

    // The grid holding most households with an elderly resident living alone.
    let grid: String = db
        .query_one(
            "SELECT g.code FROM residents r JOIN households h ON h.id = r.household_id
             JOIN buildings b ON b.id = h.building_id
             JOIN areas g ON g.level = 'grid' AND g.valid_to IS NULL AND ST_Covers(g.geom, b.point)
             WHERE 'elderly_alone' = ANY (r.tags)
             GROUP BY g.code ORDER BY count(DISTINCT h.id) DESC, g.code LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let w = store
        .create_worker(&NewWorker {
            code: "V-1".into(),
            name: "走访员".into(),
            kind: WorkerKind::FullTime,
            phone: None,
            generated: false,
            grids: vec![grid.clone()],
        })
        .await
        .unwrap();
    let (_, secret) = store
        .create_worker_token("visits", w, Tags::default())
        .await
        .unwrap();
    let phone = client_with_token(&secret);

    // The due list of their grid: every household with a resident carrying a ruled,
    // non-sensitive tag, and every risk site with a rule (the oracle reads the same rules).
    let (s, v) = get_with(
        &phone,
        &server.url("/api/v1/visits/due?within_days=366&limit=5000"),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let mut got: Vec<(String, i64)> = v["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["target"]["kind"].as_str().unwrap().to_owned(),
                s["target"]["id"].as_i64().unwrap(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, i64)> = db
        .query(
            "WITH g AS (SELECT geom FROM areas WHERE code = $1 AND valid_to IS NULL)
             SELECT DISTINCT 'household' AS kind, h.id FROM residents r
             JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id, g
             WHERE ST_Covers(g.geom, b.point) AND EXISTS (
                 SELECT 1 FROM visit_rules vr WHERE vr.subject = 'tag' AND vr.code = ANY (r.tags)
                 AND vr.code NOT IN ('community_correction', 'released', 'mental_disorder'))
             UNION ALL
             SELECT 'place', p.id FROM places p, g
             WHERE ST_Covers(g.geom, p.geom) AND p.type IN (SELECT code FROM visit_rules WHERE subject = 'place')",
            &[&grid],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    want.sort();
    assert!(!want.is_empty());
    assert_eq!(got, want);
    for s in v["subjects"].as_array().unwrap() {
        for r in s["reasons"].as_array().unwrap() {
            assert!(
                !["community_correction", "released", "mental_disorder"]
                    .contains(&r.as_str().unwrap()),
                "a sensitive tag shown without a grant: {s}"
            );
        }
    }
    let household = got.iter().find(|(k, _)| k == "household").unwrap().1;

    // A visit, sent twice, is one visit; afterwards the household is not due today.
    let post = |c: &reqwest::Client, body: Value| {
        let c = c.clone();
        let url = server.url("/api/v1/visits");
        async move { common::send_json(&c, reqwest::Method::POST, &url, &body).await }
    };
    let visit = json!({"client_id": "v-1", "target": {"kind": "household", "id": household},
                       "outcome": "normal", "note": "身体状况良好"});
    let (s, v) = post(&phone, visit.clone()).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (s, v) = post(&phone, visit).await;
    assert_eq!((s, v["id"].as_i64()), (200, Some(id)));
    let (_, v) = get_with(
        &phone,
        &server.url("/api/v1/visits/due?within_days=0&limit=5000"),
    )
    .await;
    assert!(
        v["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["target"]["id"] != household || s["target"]["kind"] != "household"),
        "{v}"
    );
    let command = server.client("command", None).await;
    let (s, v) = get_with(
        &command,
        &server.url(&format!(
            "/api/v1/visits?target_kind=household&target_id={household}&worker={w}"
        )),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["visits"].as_array().unwrap().len(), 1);
    assert_eq!(v["visits"][0]["worker"]["id"], w);
    assert_eq!(v["visits"][0]["grid_code"], grid);

    // A visit may carry a photo, checked as a report's is, shown to staff in scope only.
    {
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let (s, v) = post(
            &phone,
            json!({"client_id": "v-photo", "target": {"kind": "household", "id": household},
                   "outcome": "issue_found", "photo": {"data": b64(common::PNG)}}),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        let with_photo = v["id"].as_i64().unwrap();
        let (s, v) = post(
            &phone,
            json!({"client_id": "v-not-a-photo", "target": {"kind": "household", "id": household},
                   "outcome": "normal", "photo": {"data": b64(b"not an image at all")}}),
        )
        .await;
        assert_eq!(s, 415, "{v}");
        let (_, v) = get_with(
            &command,
            &server.url(&format!(
                "/api/v1/visits?target_kind=household&target_id={household}&worker={w}"
            )),
        )
        .await;
        let listed = v["visits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == with_photo)
            .unwrap()
            .clone();
        let path = format!("/api/v1/visits/{with_photo}/photo");
        assert_eq!(listed["photo"], path.as_str());
        let r = command.get(server.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/png");
        assert_eq!(r.bytes().await.unwrap().as_ref(), common::PNG);
        let reporter = server.client("reporter", None).await;
        assert_eq!(
            reporter
                .get(server.url(&path))
                .send()
                .await
                .unwrap()
                .status(),
            403
        );
        let other = db
            .query_one(
                "SELECT code FROM areas WHERE level = 'grid' AND valid_to IS NULL AND code <> $1 LIMIT 1",
                &[&grid],
            )
            .await
            .unwrap()
            .get::<_, String>(0);
        let elsewhere = server.client("command", Some(&other)).await;
        assert_eq!(
            elsewhere
                .get(server.url(&path))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        let (s, _) = get_with(&command, &server.url("/api/v1/visits/x/photo")).await;
        assert_eq!(s, 400);
    }

    // Refused: a household outside their grids (404), a staff token without a worker (403),
    // bad input (400).
    let elsewhere: i64 = db
        .query_one(
            "SELECT h.id FROM households h JOIN buildings b ON b.id = h.building_id
             WHERE NOT ST_Covers((SELECT geom FROM areas WHERE code = $1 AND valid_to IS NULL), b.point)
             ORDER BY h.id LIMIT 1",
            &[&grid],
        )
        .await
        .unwrap()
        .get(0);
    let (s, _) = post(
        &phone,
        json!({"client_id": "v-2", "target": {"kind": "household", "id": elsewhere}, "outcome": "normal"}),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = post(
        &command,
        json!({"client_id": "v-3", "target": {"kind": "household", "id": household}, "outcome": "normal"}),
    )
    .await;
    assert_eq!(s, 403);
    for bad in [
        json!({"client_id": "v-4", "target": {"kind": "ship", "id": 1}, "outcome": "normal"}),
        json!({"client_id": "v-4", "target": {"kind": "household", "id": household}, "outcome": "fine"}),
        json!({"target": {"kind": "household", "id": household}, "outcome": "normal"}),
        json!({"client_id": "v-4", "target": {"kind": "household", "id": household}, "outcome": "normal", "mood": 1}),
    ] {
        let (s, v) = post(&phone, bad.clone()).await;
        assert_eq!(s, 400, "{bad}: {v}");
    }
    // Patrol coverage of the grid: a patrol passing some of its buildings ~10 m away, and
    // the visit above; against ST_DWithin on geography.
    let passing: Vec<(f64, f64)> = db
        .query(
            "SELECT ST_X(b.point) + 0.0001, ST_Y(b.point) FROM buildings b
             WHERE ST_Covers((SELECT geom FROM areas WHERE code = $1 AND valid_to IS NULL), b.point)
             ORDER BY b.id LIMIT 5",
            &[&grid],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let (s, v) = common::send_json(
        &phone,
        reqwest::Method::POST,
        &server.url("/api/v1/patrols"),
        &json!({"client_id": "walk-1", "started_at": "2026-11-30T08:00:00Z"}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let patrol = v["id"].as_i64().unwrap();
    let pts: Vec<Value> = passing
        .iter()
        .enumerate()
        .map(|(i, (lon, lat))| json!({"seq": i, "at": "2026-11-30T08:10:00Z", "lon": lon, "lat": lat}))
        .collect();
    let (s, v) = common::send_json(
        &phone,
        reqwest::Method::POST,
        &server.url(&format!("/api/v1/patrols/{patrol}/points")),
        &json!({"points": pts}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, cov) = get_with(
        &command,
        &server.url(&format!(
            "/api/v1/patrols/coverage?grid={grid}&from=2026-11-01T00:00:00Z"
        )),
    )
    .await;
    assert_eq!(s, 200, "{cov}");
    let want = db
        .query_one(
            "WITH g AS (SELECT geom FROM areas WHERE code = $1 AND valid_to IS NULL),
             b AS (SELECT b.id, b.point FROM buildings b, g WHERE ST_Covers(g.geom, b.point)),
             passed AS (SELECT b.id FROM b WHERE EXISTS (SELECT 1 FROM patrol_points t
                 WHERE t.at >= '2026-11-01' AND ST_DWithin(t.geom::geography, b.point::geography, 30))),
             visited AS (SELECT h.building_id AS id FROM visits v JOIN households h
                 ON v.target_kind = 'household' AND h.id = v.target_id WHERE v.grid_code = $1)
             SELECT (SELECT count(*) FROM b) AS buildings,
                    (SELECT count(*) FROM passed) AS passed,
                    (SELECT count(*) FROM b WHERE id IN (SELECT id FROM passed) OR id IN (SELECT id FROM visited)) AS covered",
            &[&grid],
        )
        .await
        .unwrap();
    assert_eq!(
        cov["buildings"].as_i64().unwrap(),
        want.get::<_, i64>("buildings"),
        "{cov}"
    );
    assert_eq!(
        cov["passed"].as_i64().unwrap(),
        want.get::<_, i64>("passed"),
        "{cov}"
    );
    assert_eq!(
        cov["covered"].as_i64().unwrap(),
        want.get::<_, i64>("covered"),
        "{cov}"
    );
    assert!(!passing.is_empty());
    assert!(
        cov["passed"].as_i64().unwrap() >= i64::try_from(passing.len()).unwrap(),
        "{cov}"
    );
    assert_eq!(
        cov["uncovered_total"].as_i64().unwrap(),
        want.get::<_, i64>("buildings") - want.get::<_, i64>("covered")
    );
    let (s, _) = get_with(
        &phone,
        &server.url(&format!(
            "/api/v1/patrols/coverage?grid={}",
            code_of_elsewhere(&db, &grid).await
        )),
    )
    .await;
    assert_eq!(s, 404, "another grid is not the worker's");

    // The due list shows who carries a care tag: a planner may not read it.
    let planner = server.client("planner", None).await;
    let (s, _) = get_with(
        &planner,
        &server.url(&format!("/api/v1/visits/due?area={grid}")),
    )
    .await;
    assert_eq!(s, 403);
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// The code of a current grid other than `grid`.
async fn code_of_elsewhere(db: &tokio_postgres::Client, grid: &str) -> String {
    db.query_one(
        "SELECT code FROM areas WHERE level = 'grid' AND valid_to IS NULL AND code <> $1 ORDER BY id LIMIT 1",
        &[&grid],
    )
    .await
    .unwrap()
    .get(0)
}

// ---------------------------------------------------------------------------------------
// The `patrols` tile layer: the density of track points per cell, against PostGIS.

/// Tile extent and cells per side of the `patrols` layer (64 × 64: a cell is the tile six
/// zooms down).
const EXTENT: i64 = 4096;
const CELLS: i64 = 64;

/// The tile `(z, x, y)` holding a point: the slippy-map formula, apart from minqing's.
fn tile_of(lon: f64, lat: f64, z: i32) -> (i32, i32, i32) {
    let n = f64::from(1 << z);
    let r = lat.to_radians();
    (
        z,
        ((lon + 180.0) / 360.0 * n).floor() as i32,
        ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as i32,
    )
}

/// A tile's raw answer: status, bytes and `ETag`.
async fn tile_bytes(c: &reqwest::Client, url: &str) -> (u16, Vec<u8>, Option<String>) {
    let r = c.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let etag = r
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    if status == 200 {
        assert_eq!(
            r.headers()["content-type"],
            "application/vnd.mapbox-vector-tile"
        );
    }
    (status, r.bytes().await.unwrap().to_vec(), etag)
}

/// Decodes `tiles` (name, bytes) with Mapbox's Python decoder (`mapbox-vector-tile`, through
/// `tests/py/check.py` in the venv `scripts/py-env.sh` makes), not minqing's own.
fn decode_independently(tiles: &[(String, Vec<u8>)]) -> Value {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join(format!(
        "target/test-files/workers-patrols-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let lock = std::fs::File::create(root.join("target/py-env.lock")).unwrap();
    lock.lock().unwrap();
    let st = std::process::Command::new(root.join("scripts/py-env.sh"))
        .status()
        .unwrap();
    lock.unlock().unwrap();
    assert!(st.success(), "scripts/py-env.sh failed");
    let mut files = serde_json::Map::new();
    for (name, bytes) in tiles {
        let f = dir.join(format!("{name}.mvt"));
        std::fs::write(&f, bytes).unwrap();
        files.insert(name.clone(), json!(f));
    }
    let manifest = json!({
        "schema": root.join("tests/py/tilejson-3.0.0.schema.json"),
        "tilejson": {},
        "tiles": files,
    });
    let mut child = std::process::Command::new(root.join("target/py/bin/python"))
        .arg(root.join("tests/py/check.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    serde_json::to_writer(child.stdin.take().unwrap(), &manifest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "tests/py/check.py failed");
    std::fs::remove_dir_all(&dir).unwrap();
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["tiles"].clone()
}

/// The cells of a decoded `patrols` tile: (column, row) → `n`; every feature a point at a
/// cell's centre, one per cell, in the one layer `patrols`.
fn cells_of(decoded: &Value, name: &str) -> std::collections::BTreeMap<(i64, i64), i64> {
    let tile = decoded[name].as_object().unwrap();
    let mut out = std::collections::BTreeMap::new();
    for (layer, v) in tile {
        assert_eq!(layer, "patrols", "{name}");
        assert_eq!(v["extent"], EXTENT, "{name}");
        assert_eq!(v["version"], 2, "{name}");
        for f in v["features"].as_array().unwrap() {
            assert_eq!(f["type"], "Point", "{name}: {f}");
            let (x, y) = (
                f["geometry"][0].as_i64().unwrap(),
                f["geometry"][1].as_i64().unwrap(),
            );
            let size = EXTENT / CELLS;
            assert!(
                x % size == size / 2 && y % size == size / 2,
                "{name}: {f} is not at a cell's centre"
            );
            let n = f["properties"]["n"].as_i64().unwrap();
            assert!(n > 0, "{name}: {f}");
            let key = ((x - size / 2) / size, (y - size / 2) / size);
            assert!(
                out.insert(key, n).is_none(),
                "{name}: two points in {key:?}"
            );
        }
    }
    out
}

/// What PostGIS counts in each cell of tile `t` — the points of `patrols` (`None`: every
/// patrol) recorded in [`from`, `to`) that intersect the cell, the cell being the tile six
/// zooms down (`ST_TileEnvelope`) — and in the whole tile.
async fn postgis_cells(
    db: &tokio_postgres::Client,
    t: (i32, i32, i32),
    (from, to): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    patrols: Option<&[i64]>,
) -> (std::collections::BTreeMap<(i64, i64), i64>, i64) {
    let rows = db
        .query(
            "WITH c AS (SELECT cx, cy, ST_Transform(ST_TileEnvelope($1 + 6, $2 * 64 + cx, $3 * 64 + cy), 4326) AS env
                        FROM generate_series(0, 63) cx, generate_series(0, 63) cy)
             SELECT cx::int8, cy::int8, count(*) AS n
             FROM c JOIN patrol_points t ON ST_Intersects(t.geom, c.env)
             WHERE t.at >= $4 AND t.at < $5 AND ($6::int8[] IS NULL OR t.patrol_id = ANY ($6))
             GROUP BY cx, cy",
            &[&t.0, &t.1, &t.2, &from, &to, &patrols],
        )
        .await
        .unwrap();
    let cells = rows
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect();
    let total: i64 = db
        .query_one(
            "SELECT count(*) FROM patrol_points t
             WHERE ST_Intersects(t.geom, ST_Transform(ST_TileEnvelope($1, $2, $3), 4326))
               AND t.at >= $4 AND t.at < $5 AND ($6::int8[] IS NULL OR t.patrol_id = ANY ($6))",
            &[&t.0, &t.1, &t.2, &from, &to, &patrols],
        )
        .await
        .unwrap()
        .get(0);
    (cells, total)
}

/// The patrols started over a grid of the area `code`'s subtree (or of the grid `code`).
async fn patrols_under(db: &tokio_postgres::Client, code: &str) -> Vec<i64> {
    db.query(
        "WITH RECURSIVE sub AS (
             SELECT id, code, level FROM areas WHERE code = $1 AND valid_to IS NULL
             UNION ALL
             SELECT a.id, a.code, a.level FROM areas a JOIN sub ON a.parent_id = sub.id
             WHERE a.valid_to IS NULL)
         SELECT p.id FROM patrols p
         WHERE p.grid_codes && (SELECT array_agg(code) FROM sub WHERE level = 'grid')
         ORDER BY p.id",
        &[&code],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[tokio::test]
async fn the_patrols_layer_counts_track_points_per_cell_as_postgis_does_in_scope() {
    use chrono::{Duration, SecondsFormat, Utc};
    let url = common::demo_registers_db().await;
    let db = sql(&url).await;
    let server = TestServer::start(&url).await;
    let store = &server.state.store;
    let rfc = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let path = |t: (i32, i32, i32), q: &str| format!("/tiles/patrols/{}/{}/{}{q}", t.0, t.1, t.2);

    // The generated month of patrols: a z13 tile about the busiest grid's walks, as an
    // admin sees it and as the command tokens of its district and of another see it.
    let busy = db
        .query_one(
            "SELECT g.code, d.code AS district, ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat
             FROM patrols p JOIN patrol_points t ON t.patrol_id = p.id AND t.seq = 0
             JOIN areas g ON g.code = p.grid_codes[1] AND g.valid_to IS NULL
             JOIN areas c ON c.id = g.parent_id JOIN areas s ON s.id = c.parent_id
             JOIN areas d ON d.id = s.parent_id
             WHERE p.generated ORDER BY (SELECT count(*) FROM patrol_points WHERE patrol_id = p.id) DESC, p.id
             LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let district: String = busy.get("district");
    let other_district: String = db
        .query_one(
            "SELECT code FROM areas WHERE level = 'district' AND valid_to IS NULL AND code <> $1
             ORDER BY code LIMIT 1",
            &[&district],
        )
        .await
        .unwrap()
        .get(0);
    let month = (
        common::demo_end() - Duration::days(31),
        common::demo_end() + Duration::days(1),
    );
    let month_q = format!("?from={}&to={}", rfc(month.0), rfc(month.1));
    let t13 = tile_of(busy.get("lon"), busy.get("lat"), 13);
    let command = server.client("command", Some(district.as_str())).await;
    let elsewhere = server
        .client("command", Some(other_district.as_str()))
        .await;
    let mut fetched = Vec::new();
    for (name, c) in [
        ("admin", &server.http),
        ("command", &command),
        ("elsewhere", &elsewhere),
    ] {
        let (s, bytes, _) = tile_bytes(c, &server.url(&path(t13, &month_q))).await;
        assert!(s == 200 || s == 204, "{name}: {s}");
        fetched.push((name.to_owned(), bytes));
    }
    let decoded = decode_independently(&fetched);
    let in_district = patrols_under(&db, &district).await;
    let in_other = patrols_under(&db, &other_district).await;
    for (name, scope) in [
        ("admin", None),
        ("command", Some(&in_district[..])),
        ("elsewhere", Some(&in_other[..])),
    ] {
        let (want, total) = postgis_cells(&db, t13, month, scope).await;
        let got = cells_of(&decoded, name);
        assert_eq!(
            got, want,
            "{name}: the cells of {t13:?} as PostGIS counts them"
        );
        assert_eq!(
            got.values().sum::<i64>(),
            total,
            "{name}: every point of the tile"
        );
        if name != "elsewhere" {
            assert!(total > 1000, "{name}: {total} points in {t13:?}");
        }
    }

    // Two workers of their own: P holds a grid, Q one of another district; both walk in
    // P's grid within the last hours, Q's points among P's.
    let grids = db
        .query(
            "SELECT g.code, ST_X(ST_PointOnSurface(g.geom)) AS lon, ST_Y(ST_PointOnSurface(g.geom)) AS lat,
                    d.code AS district
             FROM areas g JOIN areas c ON c.id = g.parent_id JOIN areas s ON s.id = c.parent_id
             JOIN areas d ON d.id = s.parent_id
             WHERE g.level = 'grid' AND g.valid_to IS NULL ORDER BY g.id",
            &[],
        )
        .await
        .unwrap();
    let a = &grids[0];
    let b = grids
        .iter()
        .find(|r| r.get::<_, String>("district") != a.get::<_, String>("district"))
        .unwrap();
    let worker = |code: &'static str, grid: String| NewWorker {
        code: code.into(),
        name: "巡查员".into(),
        kind: WorkerKind::PartTime,
        phone: None,
        generated: false,
        grids: vec![grid],
    };
    let p_id = store
        .create_worker(&worker("D-1", a.get("code")))
        .await
        .unwrap();
    let q_id = store
        .create_worker(&worker("D-2", b.get("code")))
        .await
        .unwrap();
    let phone = |w: i64| async move {
        let (_, s) = store
            .create_worker_token("density", w, Tags::default())
            .await
            .unwrap();
        client_with_token(&s)
    };
    let (p, q) = (phone(p_id).await, phone(q_id).await);
    let started = Utc::now() - Duration::hours(3);
    let (lon0, lat0): (f64, f64) = (a.get("lon"), a.get("lat"));
    let walk = |c: reqwest::Client, client_id: &'static str, points: Vec<(f64, f64)>| {
        let server = &server;
        async move {
            let (s, v) = common::send_json(
                &c,
                reqwest::Method::POST,
                &server.url("/api/v1/patrols"),
                &json!({"client_id": client_id, "started_at": rfc(started)}),
            )
            .await;
            assert_eq!(s, 201, "{v}");
            let id = v["id"].as_i64().unwrap();
            let batch: Vec<Value> = points
                .iter()
                .enumerate()
                .map(|(i, (lon, lat))| {
                    json!({"seq": i, "at": rfc(started + Duration::seconds(12 * i as i64)),
                           "lon": lon, "lat": lat})
                })
                .collect();
            let (s, v) = common::send_json(
                &c,
                reqwest::Method::POST,
                &server.url(&format!("/api/v1/patrols/{id}/points")),
                &json!({"points": batch}),
            )
            .await;
            assert_eq!(s, 200, "{v}");
            id
        }
    };
    // P: 12 points ~30 m apart, the first three at one spot (one cell).
    let p_points: Vec<(f64, f64)> = (0..12)
        .map(|i| match i {
            0..3 => (lon0, lat0),
            _ => (
                lon0 + 0.0003 * f64::from(i),
                lat0 + 0.0001 * f64::from(i % 3),
            ),
        })
        .collect();
    let p_patrol = walk(p.clone(), "density-p", p_points).await;
    let q_points: Vec<(f64, f64)> = (0..6)
        .map(|i| (lon0 + 0.00002, lat0 + 0.0002 * f64::from(i)))
        .collect();
    let q_patrol = walk(q.clone(), "density-q", q_points).await;

    // The z16 tile of P's first point: with the default period (the last 30 days) and with
    // it written out, as an admin, P, Q, a command token of Q's district and one of P's.
    let t16 = tile_of(lon0, lat0, 16);
    let recent = (Utc::now() - Duration::days(30), Utc::now());
    let recent_q = format!(
        "?from={}&to={}",
        rfc(started - Duration::minutes(1)),
        rfc(Utc::now())
    );
    let far_command = server
        .client("command", Some(b.get::<_, String>("district").as_str()))
        .await;
    let near_command = server
        .client("command", Some(a.get::<_, String>("district").as_str()))
        .await;
    let callers = [
        ("admin", &server.http, None),
        ("p", &p, Some(vec![p_patrol])),
        ("q", &q, Some(vec![q_patrol])),
        (
            "far_command",
            &far_command,
            Some(patrols_under(&db, &b.get::<_, String>("district")).await),
        ),
        (
            "near_command",
            &near_command,
            Some(patrols_under(&db, &a.get::<_, String>("district")).await),
        ),
    ];
    let mut fetched = Vec::new();
    for (name, c, _) in &callers {
        for (suffix, q) in [("default", String::new()), ("explicit", recent_q.clone())] {
            let (s, bytes, etag) = tile_bytes(c, &server.url(&path(t16, &q))).await;
            assert_eq!(s, 200, "{name} {suffix}");
            fetched.push((format!("{name}-{suffix}"), bytes));
            // The ETag answers 304 while the tile is unchanged.
            let r = c
                .get(server.url(&path(t16, &q)))
                .header("if-none-match", etag.unwrap())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 304, "{name} {suffix}");
        }
    }
    let decoded = decode_independently(&fetched);
    for (name, _, scope) in &callers {
        let (want, total) = postgis_cells(&db, t16, recent, scope.as_deref()).await;
        let got = cells_of(&decoded, &format!("{name}-default"));
        assert_eq!(
            got, want,
            "{name}: the cells of {t16:?} as PostGIS counts them"
        );
        assert_eq!(got.values().sum::<i64>(), total, "{name}");
        assert_eq!(
            cells_of(&decoded, &format!("{name}-explicit")),
            got,
            "{name}: the default period is the last 30 days"
        );
    }
    // P sees their own points only, Q theirs only, where they lie in the tile; the admin
    // both; the three close points in one cell.
    let mine = |patrol: i64| {
        let db = &db;
        async move { postgis_cells(db, t16, recent, Some(&[patrol])).await.1 }
    };
    let (p_here, q_here) = (mine(p_patrol).await, mine(q_patrol).await);
    assert!(
        p_here >= 3 && q_here >= 1,
        "P {p_here}, Q {q_here} in {t16:?}"
    );
    let sum = |name: &str| {
        cells_of(&decoded, &format!("{name}-default"))
            .values()
            .sum::<i64>()
    };
    assert_eq!(sum("p"), p_here, "Q's points are not P's to count");
    assert_eq!(sum("q"), q_here, "P's points are not Q's to count");
    assert_eq!(sum("admin"), p_here + q_here);
    assert_eq!(
        sum("far_command"),
        q_here,
        "Q's district sees Q's walk, not P's"
    );
    assert_eq!(
        sum("near_command"),
        p_here,
        "P's district sees P's walk, not Q's"
    );
    assert!(
        cells_of(&decoded, "p-default").values().any(|n| *n >= 3),
        "three points a metre apart share a cell"
    );

    // Who may not: anonymous 401, a resident 403; Q's token on a tile of P's walk only.
    let (s, _, _) = tile_bytes(&server.anon, &server.url(&path(t16, ""))).await;
    assert_eq!(s, 401);
    let reporter = server.client("reporter", None).await;
    let (s, _, _) = tile_bytes(&reporter, &server.url(&path(t16, ""))).await;
    assert_eq!(s, 403);
    // Bad input: 4xx with the reason, never a 5xx.
    for bad in [
        "?from=yesterday",
        "?to=2026-13-01T00:00:00Z",
        "?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z",
        "?from=2026-11-01T00:00:00Z&to=2026-11-01T00:00:00Z",
        "?from=2024-01-01T00:00:00Z&to=2026-11-01T00:00:00Z",
        "?category=hazard",
        "?status=open",
    ] {
        let r = server
            .http
            .get(server.url(&path(t16, bad)))
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        assert_eq!(s, 400, "{bad}: {v}");
        assert!(v["error"]["message"].is_string(), "{bad}: {v}");
    }
    for bad in [
        "/tiles/patrols/30/0/0",
        "/tiles/patrols/3/8/0",
        "/tiles/patrols/a/0/0",
    ] {
        let (s, _, _) = tile_bytes(&server.http, &server.url(bad)).await;
        assert_eq!(s, 400, "{bad}");
    }
    // A tile away from every walk of the period is empty.
    let (s, bytes, _) = tile_bytes(&p, &server.url(&path(tile_of(lon0 + 1.0, lat0, 16), ""))).await;
    assert_eq!((s, bytes.len()), (204, 0));
    // The layer is in the catalog, its TileJSON advertising tiles with the period.
    let (s, v) = get_with(
        &server.http,
        &server.url(&format!("/tiles/patrols{month_q}")),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["vector_layers"][0]["id"], "patrols");
    assert!(
        v["tiles"][0]
            .as_str()
            .unwrap()
            .contains("/tiles/patrols/{z}/{x}/{y}?from="),
        "{v}"
    );
    let (s, _) = get_with(&server.http, &server.url("/tiles/patrols?from=soon")).await;
    assert_eq!(s, 400);
}
