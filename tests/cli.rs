//! The `minqing` command end to end: generate files deterministically, import them with
//! validation, refuse a bad file without writing anything.
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{empty_db, sql};

fn minqing(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_minqing"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "minqing=info")
        .output()
        .unwrap()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("test-files")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn count(url: &str, q: &str) -> i64 {
    sql(url).await.query_one(q, &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn generate_is_deterministic_and_imports() {
    let a = tmp("gen-a");
    let b = tmp("gen-b");
    for d in [&a, &b] {
        let out = minqing(
            "unused",
            &[
                "generate",
                "--seed",
                "3",
                "--events",
                "3000",
                "--end",
                "2026-10-01",
                "--out",
                d.to_str().unwrap(),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for f in ["areas.geojson", "events.geojsonl"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between runs"
        );
    }

    let url = empty_db().await;
    let out = minqing(
        &url,
        &["import", "areas", a.join("areas.geojson").to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = minqing(
        &url,
        &[
            "import",
            "events",
            a.join("events.geojsonl").to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let areas: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("areas.geojson")).unwrap()).unwrap();
    let n_areas = areas["features"].as_array().unwrap().len() as i64;
    assert_eq!(count(&url, "SELECT count(*) FROM areas").await, n_areas);
    assert_eq!(count(&url, "SELECT count(*) FROM events").await, 3000);
    assert_eq!(
        count(&url, "SELECT count(*) FROM events WHERE grid_id IS NULL").await,
        0
    );
    assert!(count(&url, "SELECT count(*) FROM event_reporters").await > 0);
    // Indexes dropped for the bulk load are all back: as many as the schema makes.
    let fresh = empty_db().await;
    let schema = count(
        &fresh,
        "SELECT count(*) FROM pg_indexes WHERE tablename = 'events'",
    )
    .await;
    assert!(schema >= 6);
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'events'"
        )
        .await,
        schema
    );
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'areas'"
        )
        .await,
        count(
            &fresh,
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'areas'"
        )
        .await
    );
}

#[tokio::test]
async fn a_bad_file_is_refused_whole() {
    let url = empty_db().await;
    let d = tmp("bad");
    let good = r#"{"type":"Feature","properties":{"category":"hazard.fire","title":"a","reported_at":"2026-01-01T00:00:00Z"},"geometry":{"type":"Point","coordinates":[115.3,22.8]}}"#;
    let bad = r#"{"type":"Feature","properties":{"category":"hazard.fire","title":"b","reported_at":"2026-01-01T00:00:00Z"},"geometry":{"type":"Point","coordinates":[215.3,22.8]}}"#;
    let file = d.join("events.geojsonl");
    std::fs::write(&file, format!("{good}\n{good}\n{bad}\n")).unwrap();
    let out = minqing(&url, &["import", "events", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("event 3") && err.contains("lon"), "{err}");
    assert_eq!(
        count(&url, "SELECT count(*) FROM events").await,
        0,
        "nothing half-written"
    );

    let unknown = d.join("unknown.geojsonl");
    std::fs::write(&unknown, good.replace("hazard.fire", "unicorn")).unwrap();
    let out = minqing(&url, &["import", "events", unknown.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown category"));

    let areas = d.join("areas.geojson");
    std::fs::write(&areas, r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"1","name":"坏","level":"grid"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}]}"#).unwrap();
    let out = minqing(&url, &["import", "areas", areas.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid geometry"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&url, "SELECT count(*) FROM areas").await, 0);
}

/// `token create --grant` stores the sensitive tags granted (and refuses any other tag);
/// `key rotate` replaces the key file and keeps the old key apart.
#[tokio::test]
async fn tokens_are_granted_sensitive_tags_and_the_key_rotates() {
    let url = empty_db().await;
    let dir = tmp("key-rotate");
    let dir_s = dir.to_str().unwrap();
    let out = minqing(
        &url,
        &[
            "token",
            "create",
            "--role",
            "command",
            "--name",
            "corrections office",
            "--grant",
            "社区矫正,mental_disorder",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let grants: Vec<String> = sql(&url)
        .await
        .query_one(
            "SELECT grants FROM tokens WHERE name = 'corrections office'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(grants, ["community_correction", "mental_disorder"]);
    let out = minqing(
        &url,
        &[
            "token",
            "create",
            "--role",
            "command",
            "--name",
            "x",
            "--grant",
            "elderly_alone",
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("only sensitive care tags"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The first use of the data directory makes the key; a rotation replaces it.
    let out = minqing(&url, &["--data-dir", dir_s, "key", "rotate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let retired: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("minqing.key.retired-"))
        .collect();
    assert_eq!(retired.len(), 1, "{retired:?}");
    let old = std::fs::read_to_string(dir.join(&retired[0])).unwrap();
    let new = std::fs::read_to_string(dir.join("minqing.key")).unwrap();
    assert_ne!(old.trim(), new.trim());
    assert!(String::from_utf8_lossy(&out.stderr).contains("re-sealed"));
    let _ = std::fs::remove_dir_all(&dir);
}
