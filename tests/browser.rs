//! The web app in a real browser: the built front end (`web/dist`) served by a real server
//! on a real port, driven by headless Chromium (Debian's `/usr/bin/chromium`, never a
//! downloaded one) through `playwright-core` from `web/node_modules`.
//!
//! The assertions live in `tests/browser/run.mjs`; this test prepares the data (tokens of
//! each role, a point with open cases), makes sure the app is built, runs the script and
//! fails when it fails. Screenshots and the script's log are kept under
//! `target/browser-artifacts/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{TestServer, demo_db};

/// The longest the browser script may run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);

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
async fn command_centre_field_and_report_work_in_chromium() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "no Chromium at {chromium}: install Debian's chromium (`make test-deps`) or set CHROMIUM"
    );
    build_web();

    let url = demo_db().await;
    let s = TestServer::start(&url).await;

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

    let artifacts = root().join("target/browser-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let script = root().join("tests/browser/run.mjs");
    let mut child = tokio::process::Command::new("node")
        .arg(&script)
        .current_dir(root().join("web"))
        .env("BASE", &s.base)
        .env("CHROMIUM", &chromium)
        .env("ADMIN_TOKEN", &admin)
        .env("FIELD_TOKEN", &field)
        .env("REPORTER_TOKEN", &reporter)
        .env("FIELD_LON", lon.to_string())
        .env("FIELD_LAT", lat.to_string())
        .env("FIELD_GRID", &codes[0])
        .env("FIELD_CASE", case["id"].to_string())
        .env("ARTIFACTS", &artifacts)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs (Node 18 or later)");
    let status = tokio::time::timeout(SCRIPT_TIMEOUT, child.wait())
        .await
        .unwrap_or_else(|_| panic!("the browser script ran longer than {SCRIPT_TIMEOUT:?}"))
        .unwrap();
    assert!(
        status.success(),
        "tests/browser/run.mjs failed ({status}); screenshots in {}",
        artifacts.display()
    );
}
