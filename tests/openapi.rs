//! The OpenAPI document (`GET /api/v1/openapi.json`), checked by tools minqing shares no
//! code with, installed by `tests/py/openapi-env.sh` into `target/py-openapi`:
//!
//! - `openapi-spec-validator` validates it as OpenAPI 3.1, and every route the router serves
//!   (the README's API overview) is in it, and nothing else;
//! - Schemathesis sends every operation to a real server (the demo data) with a token of
//!   each role and anonymously, and checks every answer against the document: no 5xx, only
//!   documented statuses and content types, bodies that match their schemas, and errors under
//!   `/api/v1` in the `{"error": {"code", "message"}}` shape (`tests/py/fuzz.py`,
//!   `tests/py/fuzz_hooks.py`). Bounded: `MINQING_FUZZ_SECONDS` per role (default 20) and
//!   `MINQING_FUZZ_EXAMPLES` cases per operation and phase (default 10); `make fuzz` runs
//!   longer. Every failure is written to `target/fuzz-findings.md`;
//! - what Schemathesis cannot send (path parameters that are not UTF-8 once decoded) is
//!   sent by [`bad_paths`] and must be answered as documented too.
//!
//! Schemathesis reads whole bodies, so it cannot follow the event stream of a role that may
//! open it (the body never ends): it fuzzes the stream as anonymous and as a reporter (every
//! answer a 4xx), and [`the_document_is_valid_openapi_3_1_and_names_every_route`] checks the
//! stream's 200 (status and content type) against the document itself.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    clippy::format_push_string
)]
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{TestServer, client_with_token, demo_db};
use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv of `tests/py/openapi-env.sh`, made once (under a lock: nextest runs every test
/// in its own process, in parallel).
fn python() -> PathBuf {
    std::fs::create_dir_all(root().join("target")).unwrap();
    let lock = std::fs::File::create(root().join("target/py-openapi-env.lock")).unwrap();
    lock.lock().unwrap();
    let st = Command::new(root().join("tests/py/openapi-env.sh"))
        .status()
        .unwrap();
    lock.unlock().unwrap();
    assert!(st.success(), "tests/py/openapi-env.sh failed");
    root().join("target/py-openapi/bin/python")
}

/// Every route the router serves (the README's API overview), as the document writes it.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/locate"),
    ("get", "/api/v1/areas"),
    ("get", "/api/v1/areas/{id}"),
    ("get", "/api/v1/events"),
    ("post", "/api/v1/events"),
    ("get", "/api/v1/events/nearby"),
    ("get", "/api/v1/events/{id}"),
    ("post", "/api/v1/events/{id}/transitions"),
    ("get", "/api/v1/events/{id}/photo"),
    ("get", "/api/v1/stats"),
    ("get", "/api/v1/events.csv"),
    ("get", "/api/v1/events.geojson"),
    ("get", "/api/v1/stream"),
    ("get", "/tiles"),
    ("get", "/tiles/{layer}"),
    ("get", "/tiles/{layer}/{z}/{x}/{y}"),
    ("get", "/fonts"),
    ("get", "/fonts/{fontstack}/{range}.pbf"),
    ("get", "/api/v1/plans"),
    ("post", "/api/v1/plans"),
    ("get", "/api/v1/plans/{id}"),
    ("post", "/api/v1/plans/{id}/operations"),
    ("post", "/api/v1/plans/{id}/validate"),
    ("post", "/api/v1/plans/{id}/publish"),
    ("post", "/api/v1/plans/{id}/rebase"),
    ("post", "/api/v1/plans/{id}/abandon"),
    ("get", "/api/v1/plans/{id}/tiles/{z}/{x}/{y}"),
    ("get", "/api/v1/buildings"),
    ("get", "/api/v1/buildings/{id}"),
    ("get", "/api/v1/places"),
    ("get", "/api/v1/organisations"),
    ("get", "/api/v1/residents"),
    ("get", "/api/v1/residents/{id}"),
    ("delete", "/api/v1/residents/{id}"),
    ("get", "/api/v1/search"),
    ("get", "/api/v1/access-log"),
    ("get", "/api/v1/areas/{id}/profile"),
    ("get", "/api/v1/coverage"),
    ("get", "/api/v1/workers"),
    ("get", "/api/v1/workers/{id}"),
    ("get", "/api/v1/patrols"),
    ("post", "/api/v1/patrols"),
    ("post", "/api/v1/patrols/{id}/points"),
    ("post", "/api/v1/patrols/{id}/end"),
    ("get", "/api/v1/patrols/coverage"),
    ("get", "/api/v1/visits"),
    ("post", "/api/v1/visits"),
    ("get", "/api/v1/visits/due"),
    ("get", "/api/v1/visits/{id}/photo"),
    ("get", "/api/v1/assessment"),
    ("get", "/api/v1/assessment/explain"),
    ("get", "/api/v1/reports"),
    ("get", "/api/v1/reports.csv"),
    ("get", "/api/v1/reports/snapshots"),
    ("post", "/api/v1/imports"),
    ("get", "/open311/v2/discovery.json"),
    ("get", "/open311/v2/discovery.xml"),
    ("get", "/open311/v2/services.json"),
    ("get", "/open311/v2/services.xml"),
    ("get", "/open311/v2/services/{service_code}.json"),
    ("get", "/open311/v2/services/{service_code}.xml"),
    ("get", "/open311/v2/requests.json"),
    ("get", "/open311/v2/requests.xml"),
    ("post", "/open311/v2/requests.json"),
    ("post", "/open311/v2/requests.xml"),
    ("get", "/open311/v2/requests/{service_request_id}.json"),
    ("get", "/open311/v2/requests/{service_request_id}.xml"),
    ("get", "/open311/v2/tokens/{token}.json"),
    ("get", "/open311/v2/tokens/{token}.xml"),
    ("get", "/"),
    ("get", "/field"),
    ("get", "/report"),
    ("get", "/plan"),
    ("get", "/reports"),
];

/// A path of the document with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{layer}", "areas")
        .replace("{z}/{x}/{y}", "12/3360/1781")
        .replace("{fontstack}", "Noto%20Sans%20CJK%20SC%20Regular")
        .replace("{range}", "0-255")
        .replace("{service_code}", "hazard.fire")
        .replace("{service_request_id}", "1")
        .replace("{token}", "1")
}

/// Runs `tests/py/fuzz.py` with `args` (without blocking the server's runtime).
async fn fuzz_py(args: &[&str]) -> (bool, String, String) {
    let py = tokio::task::spawn_blocking(python).await.unwrap();
    let out = tokio::process::Command::new(py)
        .arg(root().join("tests/py/fuzz.py"))
        .args(args)
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn document(server: &TestServer) -> Value {
    let r = server
        .anon
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_valid_openapi_3_1_and_names_every_route() {
    let server = TestServer::start(&demo_db().await).await;
    let doc = document(&server).await;
    assert_eq!(doc["openapi"], "3.1.0");

    // openapi-spec-validator, as OpenAPI 3.1.
    let dir = root().join("target/openapi");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("openapi-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let (ok, out, err) = fuzz_py(&["validate", file.to_str().unwrap()]).await;
    assert!(
        ok,
        "openapi-spec-validator refused the document:\n{out}\n{err}"
    );
    let verdict: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(verdict["valid"], true, "{verdict}");
    std::fs::remove_file(&file).unwrap();

    // Every route is documented, and every documented operation is a route.
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in ROUTES {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} is not in the document"
        );
    }
    let mut documented = 0;
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete", "head", "options"] {
            if item.get(method).is_some() {
                documented += 1;
                assert!(
                    ROUTES.contains(&(method, path.as_str())),
                    "{method} {path} is documented but not a route of the README"
                );
            }
        }
    }
    assert_eq!(documented, ROUTES.len());

    // Every documented path is served: none falls through to the router's fallback.
    let admin = &server.http;
    for (method, path) in ROUTES {
        if *path == "/api/v1/stream" {
            continue;
        }
        let url = server.url(&concrete(path));
        let r = match *method {
            "get" => admin.get(&url).send().await.unwrap(),
            "delete" => admin.delete(&url).send().await.unwrap(),
            _ => admin
                .post(&url)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap(),
        };
        let status = r.status().as_u16();
        let body = r.text().await.unwrap_or_default();
        assert!(
            !body.contains("no such endpoint"),
            "{method} {path} is not routed: {status} {body}"
        );
        let documented = &paths[*path][*method]["responses"];
        assert!(
            documented.get(status.to_string()).is_some(),
            "{method} {path}: {status} is not documented ({body})"
        );
    }

    // The stream (which Schemathesis cannot read to its end): its 200 as documented.
    let token = server.token("field", Some("441502001001")).await;
    let r = client_with_token(&token)
        .get(server.url("/api/v1/stream?status=open"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/event-stream"), "{kind}");
    let ok = &paths["/api/v1/stream"]["get"]["responses"]["200"]["content"];
    assert!(ok.get("text/event-stream").is_some(), "{ok}");
    drop(r);
}

/// Requests Schemathesis cannot make: a path parameter that is not UTF-8 once
/// percent-decoded (it sends only valid UTF-8). (documented path, request path).
const BAD_PATHS: &[(&str, &str)] = &[
    ("/api/v1/areas/{id}", "/api/v1/areas/%FF"),
    ("/api/v1/events/{id}", "/api/v1/events/%FF"),
    ("/api/v1/events/{id}/photo", "/api/v1/events/%FF/photo"),
    ("/api/v1/plans/{id}", "/api/v1/plans/%FF"),
    (
        "/api/v1/plans/{id}/tiles/{z}/{x}/{y}",
        "/api/v1/plans/1/tiles/%FF/0/0",
    ),
    ("/tiles/{layer}", "/tiles/%FF"),
    ("/tiles/{layer}/{z}/{x}/{y}", "/tiles/areas/%FF/0/0"),
    ("/fonts/{fontstack}/{range}.pbf", "/fonts/%FF/0-255.pbf"),
    (
        "/open311/v2/services/{service_code}.json",
        "/open311/v2/services/%FF.json",
    ),
    (
        "/open311/v2/requests/{service_request_id}.json",
        "/open311/v2/requests/%FF.json",
    ),
    (
        "/open311/v2/tokens/{token}.json",
        "/open311/v2/tokens/%FF.json",
    ),
];

/// Known handler bugs among [`BAD_PATHS`], not yet fixed: each answers 400 but not in the
/// documented error format. Empty: every path rejection is mapped (`ApiPath`, Open311's
/// `O311Path`, the glyphs' own). Add an entry, naming its bug, only to track a new one.
const KNOWN_BAD_PATHS: &[&str] = &[];

/// Sends [`BAD_PATHS`] with an admin token: each answer must be a documented status with a
/// documented content type and the error format of its API. Returns the findings (Markdown
/// lines) of the known bugs, and the other failures.
async fn bad_paths(server: &TestServer, doc: &Value) -> (Vec<String>, Vec<String>) {
    let (mut known, mut failed) = (Vec::new(), Vec::new());
    for (path, url) in BAD_PATHS {
        let r = server.http.get(server.url(url)).send().await.unwrap();
        let status = r.status().as_u16();
        let kind = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = r.text().await.unwrap_or_default();
        let documented = &doc["paths"][*path]["get"]["responses"][status.to_string()];
        let media_ok = documented["content"]
            .as_object()
            .is_some_and(|c| c.keys().any(|m| kind.starts_with(m.as_str())));
        let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let shape_ok = if path.starts_with("/open311/") {
            parsed[0]["code"].is_u64() && parsed[0]["description"].is_string()
        } else {
            parsed["error"]["code"].is_string() && parsed["error"]["message"].is_string()
        };
        if !documented.is_null() && media_ok && shape_ok {
            continue;
        }
        let line = format!(
            "- `GET {url}` ({path}) answers {status} `{kind}` `{}`: not the documented error \
             (a {status} {}, in the API's error format)",
            body.chars().take(120).collect::<String>(),
            if documented.is_null() {
                "is not documented"
            } else {
                "is documented"
            },
        );
        if KNOWN_BAD_PATHS.contains(path) && status == 400 {
            known.push(line);
        } else {
            failed.push(line);
        }
    }
    (known, failed)
}

/// Failures Schemathesis reports that are known handler bugs, not yet fixed (operation,
/// check, status): each names its bug. Everything else must pass.
const KNOWN: &[(&str, &str, u16, &str)] = &[];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_every_answer_documented() {
    let server = TestServer::start(&demo_db().await).await;
    // A token of each role (command and field scoped as in the demo), and anonymous.
    let mut roles = serde_json::Map::new();
    roles.insert("anonymous".into(), Value::Null);
    for (role, area) in [
        ("reporter", None),
        ("field", Some("441502001001")),
        ("planner", None),
        ("command", Some("441502")),
        ("admin", None),
    ] {
        roles.insert(role.into(), json!(server.token(role, area).await));
    }
    let doc = document(&server).await;
    let dir = root().join(format!("target/openapi/fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let roles_file = dir.join("roles.json");
    std::fs::write(&roles_file, Value::Object(roles).to_string()).unwrap();
    let seconds = std::env::var("MINQING_FUZZ_SECONDS").unwrap_or_else(|_| "20".into());
    let examples = std::env::var("MINQING_FUZZ_EXAMPLES").unwrap_or_else(|_| "10".into());
    let findings = root().join("target/fuzz-findings.md");
    let (ok, out, err) = fuzz_py(&[
        "run",
        "--base",
        &server.base,
        "--roles",
        roles_file.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "--max-time",
        &seconds,
        "--max-examples",
        &examples,
        "--findings",
        findings.to_str().unwrap(),
    ])
    .await;
    assert!(ok, "tests/py/fuzz.py failed:\n{out}\n{err}");
    eprint!("{err}");
    let summary: Value = serde_json::from_str(out.trim().lines().last().unwrap()).unwrap();
    let cases = summary["cases"].as_u64().unwrap();
    eprintln!(
        "schemathesis: {cases} cases in {} s ({}); findings in {}",
        summary["seconds"],
        summary["roles"],
        findings.display()
    );
    assert!(cases > 500, "too few cases ran: {summary}");

    // What Schemathesis cannot send, sent here; known bugs go to the findings too.
    let (known, failed) = bad_paths(&server, &doc).await;
    let mut md = std::fs::read_to_string(&findings).unwrap_or_default();
    md.push_str(&format!(
        "\n# Path parameters that are not UTF-8 (tests/openapi.rs, not Schemathesis)\n\n{}\n",
        if known.is_empty() && failed.is_empty() {
            "All answered as documented.".to_owned()
        } else {
            known
                .iter()
                .chain(&failed)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        }
    ));
    std::fs::write(&findings, md).unwrap();
    if !known.is_empty() {
        eprintln!("known bugs (KNOWN_BAD_PATHS):\n{}", known.join("\n"));
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    let failures: Vec<&Value> = summary["failures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            !KNOWN.iter().any(|(op, check, status, _)| {
                f["operation"] == *op
                    && f["check"] == *check
                    && f["response"]["status"].as_u64() == Some(u64::from(*status))
            })
        })
        .collect();
    // Requests that got no answer are the server's failures too; Schemathesis's own errors
    // (an operation it could not generate for) are shown, not failed on.
    let errors = summary["errors"].as_array().unwrap();
    if !errors.is_empty() {
        eprintln!(
            "schemathesis errors:\n{}",
            serde_json::to_string_pretty(errors).unwrap()
        );
    }
    let unanswered: Vec<&Value> = errors
        .iter()
        .filter(|e| {
            let text = format!("{} {}", e["type"], e["message"]).to_lowercase();
            [
                "connection",
                "timeout",
                "timed out",
                "chunked",
                "remote",
                "protocol",
            ]
            .iter()
            .any(|w| text.contains(w))
        })
        .collect();
    assert!(
        unanswered.is_empty(),
        "requests got no answer:\n{}",
        serde_json::to_string_pretty(&unanswered).unwrap()
    );
    assert!(
        failures.is_empty(),
        "{} answers do not match the document (see {}):\n{}",
        failures.len(),
        findings.display(),
        serde_json::to_string_pretty(&failures).unwrap()
    );
    std::fs::remove_dir_all(&dir).ok();
}
