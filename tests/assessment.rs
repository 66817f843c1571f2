//! Assessment (考核) over real HTTP against an independent recount in SQL: every figure of
//! every district and every worker of the demo city for a month, recomputed from the raw
//! cases, duties, registers and visits in PostGIS; every figure explained by its drill-down
//! list; the score as documented; and the scope (staff only, in their area, a worker in
//! their grids).
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use std::collections::HashMap;

use common::{
    TestServer, client_with_token, demo_registers_db, get_with, sql, write_demo_registers_key,
};
use minqing::model::register::Tags;
use serde_json::Value;

// The figures the API reports, in this order; the oracle below computes each by name.
use minqing::service::assessment::FIGURE_NAMES as FIGURES;

/// Per grid, the month's figures recomputed from the raw tables ($1 from, $2 to): cases
/// by their grid and the duty held by the reporting worker at report time, visit subjects
/// by the residents' tags and the places' types located in grids by PostGIS.
const ORACLE_GRIDS: &str = "
WITH grids AS (
    SELECT id, code, geom FROM areas WHERE level = 'grid' AND valid_to IS NULL
), ev AS (
    SELECT e.*, g.id AS grid,
           e.reporter_worker IS NOT NULL AND EXISTS (
               SELECT 1 FROM worker_duties d
               WHERE d.worker_id = e.reporter_worker AND d.grid_code = g.code
                 AND tstzrange(d.valid_from, d.valid_to, '[)') @> e.reported_at) AS own,
           e.status IN ('resolved', 'closed')
             AND (e.due_at IS NULL
                  OR e.reported_at + make_interval(secs => floor(extract(epoch FROM e.resolved_at - e.reported_at)))
                     <= e.due_at) AS in_time
    FROM events e JOIN grids g ON g.id = e.grid_id
    WHERE e.reported_at >= $1 AND e.reported_at < $2
), cases AS (
    SELECT grid,
           count(*) AS cases,
           count(*) FILTER (WHERE own) AS found,
           count(*) FILTER (WHERE NOT own) AS missed,
           count(*) FILTER (WHERE own) AS reports,
           count(*) FILTER (WHERE own AND status <> 'rejected') AS kept,
           count(*) FILTER (WHERE status = 'rejected') AS rejected,
           count(*) FILTER (WHERE status NOT IN ('reported', 'rejected')) AS handled,
           count(*) FILTER (WHERE status IN ('resolved', 'closed')
                               OR (status IN ('accepted', 'assigned', 'in_progress', 'reopened')
                                   AND due_at < now())) AS decided,
           count(*) FILTER (WHERE in_time) AS on_time,
           count(*) FILTER (WHERE status NOT IN ('resolved', 'closed', 'rejected')
                              AND due_at < now()) AS overdue,
           count(*) FILTER (WHERE satisfied IS NOT NULL) AS answered,
           count(*) FILTER (WHERE satisfied) AS satisfied
    FROM ev GROUP BY grid
), subjects AS (
    SELECT 'household' AS kind, h.id, min(r.every_days) AS every, b.point AS geom
    FROM households h JOIN buildings b ON b.id = h.building_id
    JOIN residents p ON p.household_id = h.id
    JOIN visit_rules r ON r.subject = 'tag' AND r.code = ANY (p.tags)
    GROUP BY h.id, b.point
    UNION ALL
    SELECT 'place', pl.id, r.every_days, pl.geom
    FROM places pl JOIN visit_rules r ON r.subject = 'place' AND r.code = pl.type
), due AS (
    SELECT s.*, (SELECT g.id FROM grids g WHERE ST_Covers(g.geom, s.geom) ORDER BY g.id LIMIT 1) AS grid,
           greatest(coalesce((SELECT max(v.at) FROM visits v WHERE v.target_kind = s.kind
                                AND v.target_id = s.id AND v.at < $1),
                             (SELECT min(since) FROM visit_rules)) + s.every * interval '1 day', $1) AS first,
           (SELECT count(*) FROM visits v WHERE v.target_kind = s.kind AND v.target_id = s.id
              AND v.at >= $1 AND v.at < $2) AS made
    FROM subjects s
), owed AS (
    SELECT grid, CASE WHEN first >= $2 THEN 0
                      ELSE ceil(extract(epoch FROM $2 - first) / (every * 86400.0))::int8 END AS required,
           made
    FROM due
), visits_due AS (
    SELECT grid, sum(required)::int8 AS visits_due, sum(least(made, required))::int8 AS visits_done
    FROM owed WHERE required > 0 GROUP BY grid
), visits_made AS (
    SELECT g.id AS grid, count(*) AS visits
    FROM visits v JOIN grids g ON g.code = v.grid_code
    WHERE v.at >= $1 AND v.at < $2 GROUP BY g.id
)
SELECT g.id AS grid,
       coalesce(c.cases, 0) AS cases, coalesce(c.found, 0) AS found, coalesce(c.missed, 0) AS missed,
       coalesce(c.reports, 0) AS reports, coalesce(c.kept, 0) AS kept,
       coalesce(c.rejected, 0) AS rejected, coalesce(c.handled, 0) AS handled,
       coalesce(c.decided, 0) AS decided, coalesce(c.on_time, 0) AS on_time,
       coalesce(c.overdue, 0) AS overdue, coalesce(c.answered, 0) AS answered,
       coalesce(c.satisfied, 0) AS satisfied, coalesce(d.visits_due, 0) AS visits_due,
       coalesce(d.visits_done, 0) AS visits_done, coalesce(m.visits, 0) AS visits
FROM grids g
LEFT JOIN cases c ON c.grid = g.id
LEFT JOIN visits_due d ON d.grid = g.id
LEFT JOIN visits_made m ON m.grid = g.id";

/// Per worker, their own cases and visits in the month ($1 from, $2 to).
const ORACLE_WORKERS: &str = "
SELECT w.id,
       (SELECT count(*) FROM events e WHERE e.reporter_worker = w.id
          AND e.reported_at >= $1 AND e.reported_at < $2) AS reports,
       (SELECT count(*) FROM events e WHERE e.reporter_worker = w.id AND e.status <> 'rejected'
          AND e.reported_at >= $1 AND e.reported_at < $2) AS kept,
       (SELECT count(*) FROM events e WHERE e.worker_id = w.id
          AND e.status NOT IN ('reported', 'rejected')
          AND e.reported_at >= $1 AND e.reported_at < $2) AS handled,
       (SELECT count(*) FROM events e WHERE e.worker_id = w.id
          AND e.status IN ('resolved', 'closed')
          AND (e.due_at IS NULL OR e.reported_at
               + make_interval(secs => floor(extract(epoch FROM e.resolved_at - e.reported_at))) <= e.due_at)
          AND e.reported_at >= $1 AND e.reported_at < $2) AS on_time,
       (SELECT count(*) FROM visits v WHERE v.worker_id = w.id AND v.at >= $1 AND v.at < $2) AS visits,
       array(SELECT d.grid_code FROM worker_duties d WHERE d.worker_id = w.id AND d.valid_to IS NULL
             ORDER BY d.grid_code) AS grids
FROM workers w WHERE w.active";

fn figure(row: &Value, name: &str) -> i64 {
    row["figures"][name]
        .as_i64()
        .unwrap_or_else(|| panic!("{name} in {row}"))
}

#[tokio::test]
async fn assessment_matches_a_recount_in_sql_and_every_figure_is_explained() {
    let url = demo_registers_db().await;
    let db = sql(&url).await;
    let dir = std::env::temp_dir().join(format!("minqing-assessment-{}", std::process::id()));
    write_demo_registers_key(&dir);
    let server = TestServer::start_with(&url, |c| c.data_dir.clone_from(&dir)).await;

    // October 2026, the demo's last full month (China time).
    let from: chrono::DateTime<chrono::Utc> = "2026-09-30T16:00:00Z".parse().unwrap();
    let to: chrono::DateTime<chrono::Utc> = "2026-10-31T16:00:00Z".parse().unwrap();
    // Without an area: the whole city, its root areas (the districts) as the children.
    let (st, a) = server
        .get("/api/v1/assessment?period=month&at=2026-10-15&limit=100000&list=2")
        .await;
    assert_eq!(st, 200, "{a}");
    assert_eq!(a["period"]["from"], "2026-09-30T16:00:00Z");
    assert_eq!(a["period_label"], "2026年10月");

    // The oracle, per grid, summed per root area by the area tree.
    let rows = db.query(ORACLE_GRIDS, &[&from, &to]).await.unwrap();
    let by_grid: HashMap<i64, Vec<i64>> = rows
        .iter()
        .map(|r| {
            (
                r.get("grid"),
                FIGURES.iter().map(|f| r.get::<_, i64>(*f)).collect(),
            )
        })
        .collect();
    let district_of: HashMap<i64, i64> = db
        .query(
            "WITH RECURSIVE t AS (
                 SELECT a.id, a.id AS top FROM areas a
                 WHERE a.parent_id IS NULL AND a.valid_to IS NULL
                 UNION ALL
                 SELECT a.id, t.top FROM areas a JOIN t ON a.parent_id = t.id WHERE a.valid_to IS NULL)
             SELECT t.id, t.top FROM t JOIN areas a ON a.id = t.id WHERE a.level = 'grid'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut expected: HashMap<i64, Vec<i64>> = HashMap::new();
    for (g, f) in &by_grid {
        let d = district_of[g];
        let e = expected.entry(d).or_insert_with(|| vec![0; FIGURES.len()]);
        for (i, v) in f.iter().enumerate() {
            e[i] += v;
        }
    }
    let children = a["children"].as_array().unwrap();
    assert!(children.len() >= 4, "{}", children.len());
    let mut totals = vec![0i64; FIGURES.len()];
    for c in children {
        let id = c["id"].as_i64().unwrap();
        let want = expected
            .get(&id)
            .cloned()
            .unwrap_or_else(|| vec![0; FIGURES.len()]);
        for (i, f) in FIGURES.iter().enumerate() {
            assert_eq!(figure(c, f), want[i], "{f} of {} ({id})", c["name"]);
            totals[i] += want[i];
        }
    }
    for (i, f) in FIGURES.iter().enumerate() {
        assert_eq!(figure(&a["area"], f), totals[i], "the city's {f}");
    }
    // The demo's month has something in every column that matters.
    for f in [
        "cases",
        "found",
        "missed",
        "handled",
        "on_time",
        "visits_due",
        "visits_done",
        "visits",
    ] {
        assert!(figure(&a["area"], f) > 0, "{f} is zero: {}", a["area"]);
    }
    assert!(figure(&a["area"], "visits_done") < figure(&a["area"], "visits_due"));

    // The score: the documented weighted mean of the shares.
    let w = &a["weights"];
    let f = &a["area"]["figures"];
    let share = |x: &str, y: &str| {
        let (x, y) = (f[x].as_f64().unwrap(), f[y].as_f64().unwrap());
        (y > 0.0).then(|| (x / y * 1000.0).round() / 1000.0)
    };
    let parts = [
        (share("kept", "reports"), w["kept"].as_f64().unwrap()),
        (share("found", "cases"), w["found"].as_f64().unwrap()),
        (share("on_time", "decided"), w["on_time"].as_f64().unwrap()),
        (
            share("visits_done", "visits_due"),
            w["visits"].as_f64().unwrap(),
        ),
        (
            share("satisfied", "answered"),
            w["satisfaction"].as_f64().unwrap(),
        ),
    ];
    let (s, ws) = parts
        .iter()
        .filter_map(|(v, w)| v.map(|v| (v * w, *w)))
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    assert_eq!(
        a["area"]["score"].as_f64().unwrap(),
        (s / ws * 1000.0).round() / 10.0
    );
    // Ranked best first; the lists are the ends of the ranking.
    let scores: Vec<f64> = children
        .iter()
        .filter_map(|c| c["score"].as_f64())
        .collect();
    assert!(scores.windows(2).all(|p| p[0] >= p[1]), "{scores:?}");
    assert_eq!(a["children_lists"]["red"][0]["id"], children[0]["id"]);
    assert_eq!(
        a["children_lists"]["black"][0]["id"],
        children[scores.len() - 1]["id"]
    );

    // Every worker: their own cases and visits, and their grids' figures.
    let workers = a["workers"].as_array().unwrap();
    assert_eq!(workers.len(), a["workers_total"].as_u64().unwrap() as usize);
    let oracle: HashMap<i64, tokio_postgres::Row> = db
        .query(ORACLE_WORKERS, &[&from, &to])
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.get("id"), r))
        .collect();
    let grid_ids: HashMap<String, i64> = db
        .query(
            "SELECT code, id FROM areas WHERE level = 'grid' AND valid_to IS NULL",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        workers.len(),
        oracle
            .values()
            .filter(|r| !r.get::<_, Vec<String>>("grids").is_empty())
            .count()
    );
    let mut busy = 0;
    for wk in workers {
        let o = &oracle[&wk["id"].as_i64().unwrap()];
        for f in ["reports", "kept", "handled", "on_time", "visits"] {
            assert_eq!(
                figure(wk, f),
                o.get::<_, i64>(f),
                "{f} of worker {}",
                wk["id"]
            );
        }
        let grids: Vec<String> = o.get("grids");
        for (i, f) in FIGURES.iter().enumerate() {
            if [
                "cases",
                "found",
                "missed",
                "visits_due",
                "visits_done",
                "overdue",
            ]
            .contains(f)
            {
                let want: i64 = grids
                    .iter()
                    .map(|g| by_grid.get(&grid_ids[g]).map_or(0, |v| v[i]))
                    .sum();
                assert_eq!(figure(wk, f), want, "{f} of worker {}'s grids", wk["id"]);
            }
        }
        busy += usize::from(figure(wk, "handled") > 0);
    }
    assert!(busy > 100, "{busy} workers handled cases");

    // Drill-down: the list behind each figure of a district has exactly that many rows.
    let d = &children[0];
    let id = d["id"].as_i64().unwrap();
    for m in [
        "cases",
        "found",
        "missed",
        "kept",
        "rejected",
        "handled",
        "decided",
        "on_time",
        "overdue",
        "answered",
        "satisfied",
        "visits",
    ] {
        let (st, e) = server
            .get(&format!(
                "/api/v1/assessment/explain?area={id}&period=month&at=2026-10-15&measure={m}&limit=5000"
            ))
            .await;
        assert_eq!(st, 200, "{m}: {e}");
        assert_eq!(e["count"].as_i64().unwrap(), figure(d, m), "explained {m}");
    }
    let (_, late) = server
        .get(&format!("/api/v1/assessment/explain?area={id}&period=month&at=2026-10-15&measure=late&limit=5000"))
        .await;
    assert_eq!(
        late["count"].as_i64().unwrap(),
        figure(d, "decided") - figure(d, "on_time")
    );
    for (m, f) in [("visits_due", "required"), ("visits_done", "done")] {
        let (st, e) = server
            .get(&format!(
                "/api/v1/assessment/explain?area={id}&period=month&at=2026-10-15&measure={m}&limit=5000"
            ))
            .await;
        assert_eq!(st, 200, "{e}");
        let listed: i64 = e["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s[f].as_i64().unwrap())
            .sum();
        assert_eq!(
            listed + e["hidden"][f].as_i64().unwrap(),
            figure(d, m),
            "explained {m}"
        );
    }
    // A worker's own figure explained.
    let wk = workers.iter().find(|w| figure(w, "handled") > 0).unwrap();
    let (_, e) = server
        .get(&format!(
            "/api/v1/assessment/explain?worker={}&period=month&at=2026-10-15&measure=handled",
            wk["id"]
        ))
        .await;
    assert_eq!(e["count"].as_i64().unwrap(), figure(wk, "handled"));

    // Scope: reporters may not; a command token of one district cannot ask another, nor
    // the whole city; a worker sees their own grid only.
    let reporter = server.client("reporter", None).await;
    let (st, _) = get_with(&reporter, &server.url("/api/v1/assessment?period=month")).await;
    assert_eq!(st, 403);
    let other = children[1]["code"].as_str().unwrap();
    let own = children[0]["code"].as_str().unwrap();
    let command = server.client("command", Some(own)).await;
    let (st, mine) = get_with(
        &command,
        &server.url(&format!("/api/v1/assessment?area={own}&at=2026-10-15")),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(mine["area"]["figures"], d["figures"]);
    let (st, _) = get_with(
        &command,
        &server.url(&format!("/api/v1/assessment?area={other}")),
    )
    .await;
    assert_eq!(st, 404);
    let (st, _) = get_with(&command, &server.url("/api/v1/assessment")).await;
    assert_eq!(st, 400);
    let (st, _) = get_with(
        &command,
        &server.url(&format!(
            "/api/v1/assessment/explain?area={other}&measure=cases"
        )),
    )
    .await;
    assert_eq!(st, 404);
    // A worker of another district is not the command token's to explain.
    let foreign = workers
        .iter()
        .find(|w| grids_of(w).iter().all(|g| g.starts_with(other)))
        .expect("a worker of the other district");
    let (st, _) = get_with(
        &command,
        &server.url(&format!(
            "/api/v1/assessment/explain?worker={}&measure=handled&at=2026-10-15",
            foreign["id"]
        )),
    )
    .await;
    assert_eq!(st, 404);
    let held = grids_of(wk);
    let (_, secret) = server
        .state
        .store
        .create_worker_token("assessment", wk["id"].as_i64().unwrap(), Tags::default())
        .await
        .unwrap();
    let worker = client_with_token(&secret);
    let (st, g) = get_with(
        &worker,
        &server.url(&format!(
            "/api/v1/assessment?area={}&at=2026-10-15",
            held[0]
        )),
    )
    .await;
    assert_eq!(st, 200, "{g}");
    let (st, _) = get_with(
        &worker,
        &server.url(&format!("/api/v1/assessment?area={own}")),
    )
    .await;
    assert_eq!(st, 404);

    // Bad input: a clear 4xx.
    for (q, want) in [
        ("period=year", 400),
        ("at=2026-13-01", 400),
        ("at=2999-01-01", 422),
        ("list=-1", 400),
        ("nonsense=1", 400),
    ] {
        let (st, e) = server.get(&format!("/api/v1/assessment?{q}")).await;
        assert_eq!(st, want, "{q}: {e}");
    }
    for q in ["measure=everything", "", "worker=x&measure=cases"] {
        let (st, e) = server.get(&format!("/api/v1/assessment/explain?{q}")).await;
        assert_eq!(st, 400, "{q}: {e}");
    }
}

fn grids_of(w: &Value) -> Vec<String> {
    w["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn review_reports_follow_the_record_and_kept_ones_never_change() {
    let url = demo_registers_db().await;
    let db = sql(&url).await;
    let dir = std::env::temp_dir().join(format!("minqing-review-{}", std::process::id()));
    write_demo_registers_key(&dir);
    let server = TestServer::start_with(&url, |c| c.data_dir.clone_from(&dir)).await;

    let (st, b) = server
        .get("/api/v1/reports?period=month&at=2026-10-15")
        .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["title"], "全市 2026年10月月报");
    assert_eq!(b["previous_label"], "2026年9月");
    assert!(b["snapshot"].is_null());
    assert_eq!(b["generated"], true);
    let area = &b["assessment"]["area"]["figures"];
    let cases = area["cases"].as_i64().unwrap();
    let kpi = |k: &str| {
        b["kpis"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["key"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(kpi("cases")["value"].as_i64(), Some(cases));
    // Per China day, as PostGIS counts them.
    let days: Vec<(String, i64)> = db
        .query(
            "SELECT to_char((reported_at AT TIME ZONE 'Asia/Shanghai')::date, 'YYYY-MM-DD'), count(*)
             FROM events WHERE grid_id IS NOT NULL
               AND reported_at >= '2026-09-30T16:00:00Z' AND reported_at < '2026-10-31T16:00:00Z'
             GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let daily = b["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 31);
    let got: Vec<(String, i64)> = daily
        .iter()
        .filter(|d| d["reported"].as_i64().unwrap() > 0)
        .map(|d| {
            (
                d["date"].as_str().unwrap().to_owned(),
                d["reported"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, days);
    let by_cat: i64 = b["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_i64().unwrap())
        .sum();
    assert_eq!(by_cat, cases);
    assert_eq!(b["map"]["points_total"].as_i64(), Some(cases));
    assert!(b["map"]["points"].as_array().unwrap().len() <= 4000);
    assert_eq!(b["overdue_cases"]["count"], area["overdue"]);
    assert_eq!(b["missed_visits"]["owed"], area["visits_due"]);
    assert_eq!(b["missed_visits"]["done"], area["visits_done"]);
    // No person in it: households are counted by reason, sensitive tags together.
    let text = b.to_string();
    for tag in ["community_correction", "released", "mental_disorder"] {
        assert!(!text.contains(tag), "{tag} in the report");
    }

    // Every table as CSV, with a byte-order mark for spreadsheets.
    let r = server
        .http
        .get(server.url("/api/v1/reports.csv?period=month&at=2026-10-15&table=children"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    assert!(
        csv.starts_with("\u{feff}rank,id,code,name,level,grids,score,cases"),
        "{csv}"
    );
    assert_eq!(
        csv.trim().lines().count(),
        b["assessment"]["children"].as_array().unwrap().len() + 1
    );
    let (st, _) = server.get("/api/v1/reports.csv?table=nothing").await;
    assert_eq!(st, 400);

    // Kept at each period's end: the last day, week and month of the city and its root areas.
    let core = &server.state.core;
    let now = chrono::Utc::now();
    let kept = minqing::service::review::keep_snapshots(core, now)
        .await
        .unwrap();
    let roots: i64 = db
        .query_one(
            "SELECT count(*) FROM areas WHERE parent_id IS NULL AND valid_to IS NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept as i64, 3 * (roots + 1));
    assert_eq!(
        minqing::service::review::keep_snapshots(core, now)
            .await
            .unwrap(),
        0
    );
    let (st, list) = server.get("/api/v1/reports/snapshots").await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(
        list["snapshots"].as_array().unwrap().len() as i64,
        3 * (roots + 1)
    );
    let month = list["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["period"] == "month" && s["area_code"] == "")
        .unwrap()
        .clone();
    let starts = month["starts"].as_str().unwrap();
    let (st, kept_body) = server
        .get(&format!("/api/v1/reports?period=month&at={starts}"))
        .await;
    assert_eq!(st, 200);
    assert_eq!(kept_body["snapshot"]["id"], month["id"]);
    // A kept report is never replaced, and is served as kept.
    let date: chrono::NaiveDate = starts.parse().unwrap();
    let again = server
        .state
        .store
        .keep_snapshot("", "month", date, &serde_json::json!({"other": true}))
        .await
        .unwrap();
    assert_eq!(again, None);
    let (_, same) = server
        .get(&format!("/api/v1/reports?period=month&at={starts}"))
        .await;
    assert_eq!(same, kept_body);
    let (_, live) = server
        .get(&format!(
            "/api/v1/reports?period=month&at={starts}&live=true"
        ))
        .await;
    assert!(live["snapshot"].is_null());
    assert_eq!(live["kpis"], kept_body["kpis"]);

    // Scope: a district's command token sees its own kept reports, not another's.
    let codes: Vec<String> = db
        .query(
            "SELECT code FROM areas WHERE parent_id IS NULL AND valid_to IS NULL ORDER BY code",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let command = server.client("command", Some(&codes[0])).await;
    let (st, mine) = get_with(
        &command,
        &server.url(&format!("/api/v1/reports/snapshots?area={}", codes[0])),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(mine["snapshots"].as_array().unwrap().len(), 3);
    let (st, _) = get_with(
        &command,
        &server.url(&format!("/api/v1/reports/snapshots?area={}", codes[1])),
    )
    .await;
    assert_eq!(st, 404);
    let (st, _) = get_with(
        &command,
        &server.url(&format!("/api/v1/reports?area={}", codes[1])),
    )
    .await;
    assert_eq!(st, 404);
    let reporter = server.client("reporter", None).await;
    let (st, _) = get_with(&reporter, &server.url("/api/v1/reports")).await;
    assert_eq!(st, 403);
}

/// The counts come from memory: a report by a worker, a visit and a change of duties
/// written by another instance (plain SQL here) are counted as soon as the change feed
/// brings them, without a restart.
#[tokio::test]
async fn the_assessment_follows_writes_of_any_instance() {
    let url = demo_registers_db().await;
    let db = sql(&url).await;
    let dir = std::env::temp_dir().join(format!("minqing-follow-{}", std::process::id()));
    write_demo_registers_key(&dir);
    let server = TestServer::start_with(&url, |c| c.data_dir.clone_from(&dir)).await;
    // A worker holding one grid now, and the grid's community.
    let row = db
        .query_one(
            "SELECT d.worker_id, d.grid_code, g.id AS grid, g.parent_id
             FROM worker_duties d JOIN workers w ON w.id = d.worker_id AND w.active
             JOIN areas g ON g.code = d.grid_code AND g.valid_to IS NULL
             WHERE d.valid_to IS NULL
               AND (SELECT count(*) FROM worker_duties o
                    WHERE o.worker_id = d.worker_id AND o.valid_to IS NULL) = 1
             ORDER BY d.worker_id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (worker, code, grid, community): (i64, String, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let path = format!("/api/v1/assessment?area={community}&period=day&limit=100000");
    let now_of = |a: &Value| -> (i64, i64, i64, Option<Vec<String>>) {
        let w = a["workers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"].as_i64() == Some(worker));
        (
            figure(&a["area"], "found"),
            w.map_or(0, |w| figure(w, "reports")),
            w.map_or(0, |w| figure(w, "visits")),
            w.map(|w| {
                w["grids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|g| g.as_str().unwrap().to_owned())
                    .collect()
            }),
        )
    };
    let (st, a) = server.get(&path).await;
    assert_eq!(st, 200, "{a}");
    let (found, reports, visits, grids) = now_of(&a);
    assert_eq!(grids, Some(vec![code.clone()]));

    // Another instance records a report by the worker in their grid, and a visit.
    db.execute(
        "INSERT INTO events (category, title, status, grid_id, geom, reporter_worker)
         SELECT 'environment.river', 'follow', 'reported', id, ST_PointOnSurface(geom), $2
         FROM areas WHERE id = $1",
        &[&grid, &worker],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO visits (worker_id, client_id, target_kind, target_id, grid_code, at, outcome)
         VALUES ($1, 'follow-test', 'household', 1, $2, now(), 'normal')",
        &[&worker, &code],
    )
    .await
    .unwrap();
    let mut seen = None;
    for _ in 0..100 {
        let (_, a) = server.get(&path).await;
        let now = now_of(&a);
        if now.0 == found + 1 && now.1 == reports + 1 && now.2 == visits + 1 {
            seen = Some(now);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen.is_some(), "the report and the visit were not counted");

    // The worker leaves the grid: no longer ranked in its community.
    db.execute(
        "UPDATE worker_duties SET valid_to = now() WHERE worker_id = $1 AND valid_to IS NULL",
        &[&worker],
    )
    .await
    .unwrap();
    let mut gone = false;
    for _ in 0..100 {
        let (_, a) = server.get(&path).await;
        if now_of(&a).3.is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "the worker who left is still ranked in the community");
}
