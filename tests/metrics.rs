//! `GET /metrics`: after a few requests of different kinds, the text parses with the
//! Prometheus project's own parser (`prometheus_client.parser`, in the venv of
//! `scripts/py-env.sh`), holds what it promises (requests by route template and status,
//! latency histograms, the pool and outage state, intake batch sizes, tile cache hits and
//! misses, open streams), and names no token, raw path or event id.
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{TestServer, client_with_token, demo_db, sql};
use minqing_tiles::TileId;
use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv of `scripts/py-env.sh`, made once (under a lock: tests run in parallel).
fn python() -> PathBuf {
    std::fs::create_dir_all(root().join("target")).unwrap();
    let lock = std::fs::File::create(root().join("target/py-env.lock")).unwrap();
    lock.lock().unwrap();
    let st = Command::new(root().join("scripts/py-env.sh"))
        .status()
        .unwrap();
    lock.unlock().unwrap();
    assert!(st.success(), "scripts/py-env.sh failed");
    root().join("target/py/bin/python")
}

const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": fam.name, "type": fam.type, "samples": [
        {"name": s.name, "labels": s.labels, "value": s.value} for s in fam.samples]})
print(json.dumps(out))
"#;

/// Parses exposition text with the official parser: families with their samples.
fn parse(text: &str) -> Vec<Value> {
    let mut child = Command::new(python())
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused the text: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

fn family<'a>(families: &'a [Value], name: &str) -> &'a Value {
    families
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no metric family {name}"))
}

/// The value of the sample `name` whose labels include `labels`.
fn sample(fam: &Value, name: &str, labels: &Value) -> Option<f64> {
    fam["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["name"] == name
                && labels
                    .as_object()
                    .unwrap()
                    .iter()
                    .all(|(k, v)| &s["labels"][k] == v)
        })
        .map(|s| s["value"].as_f64().unwrap())
}

#[tokio::test]
async fn metrics_parse_and_say_what_happened_without_ids_or_tokens() {
    let url = demo_db().await;
    let server = TestServer::start(&url).await;
    let secret = server.token("admin", None).await;
    let admin = client_with_token(&secret);
    let id: i64 = sql(&url)
        .await
        .query_one("SELECT max(id) FROM events", &[])
        .await
        .unwrap()
        .get(0);

    for _ in 0..3 {
        let r = server
            .anon
            .get(server.url("/api/v1/locate?lon=115.37&lat=22.79"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = admin
        .get(server.url(&format!("/api/v1/events/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = admin
        .get(server.url("/api/v1/events/987654321"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let _ = server
        .anon
        .get(server.url("/no/such/path/4242"))
        .send()
        .await
        .unwrap();
    let t = TileId::containing(115.37, 22.79, 10);
    for _ in 0..2 {
        let r = server
            .anon
            .get(server.url(&format!("/tiles/heat/10/{}/{}", t.x, t.y)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let created = admin
        .post(server.url("/api/v1/events"))
        .header("content-type", "application/json")
        .header("idempotency-key", "metrics-1")
        .body(
            json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [115.37, 22.79]},
                "properties": {"category": "environment.garbage", "title": "指标测试"}
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let new_id = created["id"].as_i64().unwrap();

    let stream = server.stream("", None).await;
    let r = server
        .anon
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ctype = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    let text = r.text().await.unwrap();
    let families = parse(&text);

    let requests = family(&families, "minqing_http_requests");
    assert_eq!(requests["type"], "counter");
    let count = |route: &str, method: &str, status: &str| {
        sample(
            requests,
            "minqing_http_requests_total",
            &json!({"route": route, "method": method, "status": status}),
        )
        .unwrap_or(0.0)
    };
    assert!(count("/api/v1/locate", "GET", "200") >= 3.0, "{text}");
    assert!(count("/api/v1/events/{id}", "GET", "200") >= 1.0, "{text}");
    assert!(count("/api/v1/events/{id}", "GET", "404") >= 1.0, "{text}");
    assert!(count("/tiles/{layer}/{z}/{x}/{y}", "GET", "200") >= 2.0);
    assert!(count("/api/v1/events", "POST", "201") >= 1.0);
    assert!(count("unmatched", "GET", "404") + count("unmatched", "GET", "200") >= 1.0);

    let latency = family(&families, "minqing_http_request_duration_seconds");
    assert_eq!(latency["type"], "histogram");
    let n = sample(
        latency,
        "minqing_http_request_duration_seconds_count",
        &json!({"route": "/api/v1/locate", "method": "GET"}),
    )
    .unwrap();
    assert!(n >= 3.0);
    let inf = sample(
        latency,
        "minqing_http_request_duration_seconds_bucket",
        &json!({"route": "/api/v1/locate", "method": "GET", "le": "+Inf"}),
    )
    .unwrap();
    assert!((inf - n).abs() < f64::EPSILON);

    let gauge = |name: &str| {
        let f = family(&families, name);
        assert_eq!(f["type"], "gauge", "{name}");
        sample(f, name, &json!({})).unwrap()
    };
    assert!(gauge("minqing_db_pool_max_connections") >= 1.0);
    assert!(gauge("minqing_db_pool_connections") >= 1.0);
    assert!(gauge("minqing_db_pool_available_connections") >= 0.0);
    assert!(gauge("minqing_db_pool_waiting_requests") >= 0.0);
    assert!(gauge("minqing_db_outage").abs() < f64::EPSILON);
    assert!(
        gauge("minqing_open_streams") >= 1.0,
        "an open stream is counted"
    );
    drop(stream);

    let batches = family(&families, "minqing_intake_batch_size");
    assert_eq!(batches["type"], "histogram");
    assert!(sample(batches, "minqing_intake_batch_size_count", &json!({})).unwrap() >= 1.0);

    let hits = family(&families, "minqing_tile_cache_hits");
    assert!(sample(hits, "minqing_tile_cache_hits_total", &json!({})).unwrap() >= 1.0);
    let misses = family(&families, "minqing_tile_cache_misses");
    assert!(sample(misses, "minqing_tile_cache_misses_total", &json!({})).unwrap() >= 1.0);

    // Nothing private: no token, no raw path, no event id in any label.
    assert!(!text.contains(&secret), "a token in /metrics");
    assert!(
        !text.contains(&secret[3..15]),
        "part of a token in /metrics"
    );
    for f in &families {
        for s in f["samples"].as_array().unwrap() {
            for (k, v) in s["labels"].as_object().unwrap() {
                let v = v.as_str().unwrap();
                assert!(
                    !v.contains(&id.to_string())
                        && !v.contains(&new_id.to_string())
                        && !v.contains("987654321")
                        && !v.contains("4242")
                        && !v.contains('?'),
                    "label {k}={v} names a raw path or an id"
                );
            }
        }
    }
}
