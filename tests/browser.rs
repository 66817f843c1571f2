//! The web app in a real browser: the built front end (`web/dist`) served by a real server
//! on a real port, driven by headless Chromium (Debian's `/usr/bin/chromium`, never a
//! downloaded one) through `playwright-core` from `web/node_modules`.
//!
//! The assertions live in `tests/browser/run.mjs` (command centre, field, report),
//! `tests/browser/registers.mjs` (the registers: layers, a building's linked view, area
//! profiles, service coverage, the field worker's grid) and `tests/browser/plan.mjs` (the
//! planning view: drafts edited with mouse clicks, faults, publish) and `tests/browser/reports.mjs`
//! (the review reports: render, drill-down, CSV, print to PDF); this test prepares the
//! data (the demo with generated registers, tokens of each role, a point with open cases, a
//! building), makes sure the app is built, runs the scripts one after the other (the plan one
//! last: it publishes new grids) and fails when one fails. Screenshots and the scripts' logs
//! are kept under `target/browser-artifacts/`. `BROWSER_ONLY=plan` (or `run`, `registers`, `reports`)
//! runs one script only.
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{TestServer, demo_registers_db, sql, write_demo_registers_key};

/// The longest one browser script may run.
const SCRIPT_TIMEOUT: Duration = Duration::from_mins(4);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a command in `dir`, panicking with its name when it fails.
fn run(dir: &Path, program: &str, args: &[&str]) {
    let status = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {program} {args:?} in {}: {e}", dir.display()));
    assert!(
        status.success(),
        "{program} {args:?} in {} failed: {status}",
        dir.display()
    );
}

/// Builds `web/dist` from the committed lockfile (installing `node_modules` first when it
/// is missing), so that the test always drives the current sources.
fn build_web() {
    let web = root().join("web");
    if !web.join("node_modules/playwright-core").is_dir()
        || !web.join("node_modules/maplibre-gl").is_dir()
    {
        run(&web, "npm", &["ci", "--no-audit", "--no-fund"]);
    }
    run(&web, "npm", &["run", "build", "--silent"]);
    assert!(
        web.join("dist/index.html").is_file(),
        "web/dist/index.html is missing after `npm run build` in web/"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_centre_field_report_and_planning_work_in_chromium() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "no Chromium at {chromium}: install Debian's chromium (`make test-deps`) or set CHROMIUM"
    );
    build_web();

    // The demo with its generated registers; the server's data directory holds the key
    // that sealed them.
    let url = demo_registers_db().await;
    let data_dir = std::env::temp_dir().join(format!("minqing-browser-{}", std::process::id()));
    write_demo_registers_key(&data_dir);
    let s = TestServer::start_with(&url, |c| c.data_dir = data_dir.clone()).await;

    // A point with an open case that a field worker may accept: a reported case's own
    // position, so the field view finds it first among the nearby ones.
    let (status, page) = s.get("/api/v1/events?status=reported&limit=1").await;
    assert_eq!(status, 200, "{page}");
    let case = &page["features"][0];
    let lon = case["geometry"]["coordinates"][0].as_f64().unwrap();
    let lat = case["geometry"]["coordinates"][1].as_f64().unwrap();
    let codes = s.codes_at(lon, lat).await;

    let admin = s.token("admin", None).await;
    let field = s.token("field", Some(&codes[1])).await;
    let reporter = s.token("reporter", None).await;

    let planner = s.token("planner", None).await;

    let artifacts = root().join("target/browser-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let only = std::env::var("BROWSER_ONLY").unwrap_or_default();
    let common: Vec<(&str, String)> = vec![
        ("BASE", s.base.clone()),
        ("CHROMIUM", chromium.clone()),
        ("ARTIFACTS", artifacts.display().to_string()),
    ];
    if only.is_empty() || only == "run" {
        let mut vars = common.clone();
        vars.extend([
            ("ADMIN_TOKEN", admin),
            ("FIELD_TOKEN", field),
            ("REPORTER_TOKEN", reporter),
            ("FIELD_LON", lon.to_string()),
            ("FIELD_LAT", lat.to_string()),
            ("FIELD_GRID", codes[0].clone()),
            ("FIELD_CASE", case["id"].to_string()),
        ]);
        run_script("run.mjs", &vars, &artifacts).await;
    }
    if only.is_empty() || only == "registers" {
        // A residential building with people in care and a risk site within 200 m, the
        // fullest such (its linked view shows every part).
        let db = sql(&url).await;
        let b = db
            .query_one(
                "SELECT b.id, ST_X(b.point), ST_Y(b.point)
                 FROM buildings b
                 JOIN households h ON h.building_id = b.id
                 JOIN residents r ON r.household_id = h.id
                 WHERE b.kind = 'residential' AND EXISTS (
                     SELECT 1 FROM places p WHERE p.risk_level IS NOT NULL
                       AND ST_DWithin(p.geom, b.point, 0.003)
                       AND ST_DWithin(p.geom::geography, b.point::geography, 200))
                 GROUP BY b.id
                 HAVING count(*) FILTER (WHERE cardinality(r.tags) > 0) > 0
                 ORDER BY count(*) DESC, b.id LIMIT 1",
                &[],
            )
            .await
            .unwrap();
        let (building, b_lon, b_lat): (i64, f64, f64) = (b.get(0), b.get(1), b.get(2));
        let grid_id: i64 = db
            .query_one(
                "SELECT id FROM areas WHERE code = $1 AND valid_to IS NULL",
                &[&codes[0]],
            )
            .await
            .unwrap()
            .get(0);
        let mut vars = common.clone();
        vars.extend([
            ("ADMIN_TOKEN", s.token("admin", None).await),
            ("FIELD_TOKEN", s.token("field", Some(&codes[1])).await),
            ("FIELD_LON", lon.to_string()),
            ("FIELD_LAT", lat.to_string()),
            ("FIELD_GRID", codes[0].clone()),
            ("FIELD_GRID_ID", grid_id.to_string()),
            ("BUILDING", building.to_string()),
            ("BUILDING_LON", b_lon.to_string()),
            ("BUILDING_LAT", b_lat.to_string()),
        ]);
        run_script("registers.mjs", &vars, &artifacts).await;
    }
    if only.is_empty() || only == "reports" {
        // The review reports of the demo's last month: the whole city, and its first root area.
        let db = sql(&url).await;
        let area: String = db
            .query_one(
                "SELECT code FROM areas WHERE parent_id IS NULL AND valid_to IS NULL ORDER BY code LIMIT 1",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        // A generated worker of the grid with the most households in care, and a point in it.
        let w = db
            .query_one(
                "WITH g AS (
                     SELECT a.code, a.geom FROM areas a
                     JOIN buildings b ON ST_Covers(a.geom, b.point)
                     JOIN households h ON h.building_id = b.id
                     JOIN residents r ON r.household_id = h.id AND cardinality(r.tags) > 0
                     WHERE a.level = 'grid' AND a.valid_to IS NULL
                     GROUP BY a.code, a.geom ORDER BY count(DISTINCT h.id) DESC, a.code LIMIT 1)
                 SELECT d.worker_id, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom)),
                        g.code, (SELECT id FROM areas WHERE code = g.code AND valid_to IS NULL)
                 FROM g JOIN worker_duties d ON d.grid_code = g.code AND d.valid_to IS NULL
                 ORDER BY d.worker_id LIMIT 1",
                &[],
            )
            .await
            .unwrap();
        let (worker, w_lon, w_lat): (i64, f64, f64) = (w.get(0), w.get(1), w.get(2));
        let (w_grid, w_grid_id): (String, i64) = (w.get(3), w.get(4));
        let (_, worker_token) = s
            .state
            .store
            .create_worker_token("browser", worker, minqing::model::register::Tags::default())
            .await
            .unwrap();
        let mut vars = common.clone();
        vars.extend([
            ("ADMIN_TOKEN", s.token("admin", None).await),
            ("WORKER_TOKEN", worker_token),
            ("WORKER_ID", worker.to_string()),
            ("WORKER_LON", w_lon.to_string()),
            ("WORKER_LAT", w_lat.to_string()),
            ("WORKER_GRID", w_grid),
            ("WORKER_GRID_ID", w_grid_id.to_string()),
            ("REPORT_AREA", area),
            ("REPORT_AT", "2026-10-15".to_owned()),
        ]);
        run_script("reports.mjs", &vars, &artifacts).await;
    }
    if only.is_empty() || only == "plan" {
        // The planner drafts over the community with the most grids (54 on the demo),
        // chosen by a click at a point inside it.
        let db = sql(&url).await;
        let r = db
            .query_one(
                "WITH c AS (SELECT parent_id FROM areas WHERE level = 'grid' AND valid_to IS NULL
                            GROUP BY parent_id ORDER BY count(*) DESC, parent_id LIMIT 1)
                 SELECT a.code, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
                 FROM c JOIN areas a ON a.id = c.parent_id
                 JOIN areas g ON g.parent_id = c.parent_id AND g.valid_to IS NULL
                 ORDER BY g.code LIMIT 1",
                &[],
            )
            .await
            .unwrap();
        let (community, plan_lon, plan_lat): (String, f64, f64) = (r.get(0), r.get(1), r.get(2));
        let mut vars = common;
        vars.extend([
            ("PLANNER_TOKEN", planner),
            ("PLAN_LON", plan_lon.to_string()),
            ("PLAN_LAT", plan_lat.to_string()),
            ("PLAN_COMMUNITY", community),
        ]);
        run_script("plan.mjs", &vars, &artifacts).await;
    }
}

/// Runs `tests/browser/<name>` with node in `web/` and the given environment; panics when
/// it fails or runs too long.
async fn run_script(name: &str, vars: &[(&str, String)], artifacts: &Path) {
    let script = root().join("tests/browser").join(name);
    let mut child = tokio::process::Command::new("node")
        .arg(&script)
        .current_dir(root().join("web"))
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs (Node 18 or later)");
    let status = tokio::time::timeout(SCRIPT_TIMEOUT, child.wait())
        .await
        .unwrap_or_else(|_| panic!("tests/browser/{name} ran longer than {SCRIPT_TIMEOUT:?}"))
        .unwrap();
    assert!(
        status.success(),
        "tests/browser/{name} failed ({status}); screenshots in {}",
        artifacts.display()
    );
}
