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
