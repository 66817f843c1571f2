//! Durability with a real process: a report acknowledged with 201 survives `kill -9` of the
//! server, and is served again after a restart. Tokens made with `minqing token create` work
//! at once, and never appear in the server's log.
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{demo_db, sql};
use serde_json::{Value, json};

struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

/// `minqing token create …`: the printed secret.
fn token(url: &str, role: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_minqing"))
        .args(["token", "create", "--role", role, "--name", "durability"])
        .env("DATABASE_URL", url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(secret.starts_with("mq_"), "{secret}");
    secret
}

fn spawn(url: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_minqing"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "minqing=info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let lines = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("server: {line}");
            lines.lock().unwrap().push(line.clone());
            if let Some(addr) = line.split("addr=").nth(1) {
                let _ = tx.send(addr.split_whitespace().next().unwrap_or("").to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_mins(1))
        .expect("server printed its address");
    Server {
        child,
        base: format!("http://{addr}"),
        log,
    }
}

async fn wait_ready(http: &reqwest::Client, base: &str) {
    let mut last = String::new();
    for _ in 0..600 {
        match http.get(format!("{base}/readyz")).send().await {
            Ok(r) if r.status() == 200 => return,
            Ok(r) => last = format!("status {}", r.status()),
            Err(e) => last = format!("{e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} never became ready: {last}");
}

#[tokio::test]
async fn acknowledged_reports_survive_kill_9() {
    let url = demo_db().await;
    let reporter = token(&url, "reporter");
    let admin = token(&url, "admin");
    let http = common::client_with_token(&reporter);
    let mut server = spawn(&url);
    wait_ready(&http, &server.base).await;

    // Many reports in flight at once; kill the process right after the last 201.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let http = http.clone();
        let base = server.base.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [115.30 + f64::from(i) * 0.001, 22.95]},
                "properties": {"category": "environment.garbage", "title": format!("垃圾堆积 {i}")}
            });
            let r = http
                .post(format!("{base}/api/v1/events"))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 201);
            r.json::<Value>().await.unwrap()
        }));
    }
    let mut acknowledged = Vec::new();
    for t in tasks {
        acknowledged.push(t.await.unwrap());
    }
    server.child.kill().unwrap(); // SIGKILL: no graceful shutdown
    server.child.wait().unwrap();

    let log = server.log.lock().unwrap().join("\n");
    assert!(
        !log.contains(&reporter[3..20]) && !log.contains(&admin[3..20]),
        "a token appears in the log"
    );
    let http = common::client_with_token(&admin);
    let restarted = spawn(&url);
    wait_ready(&http, &restarted.base).await;
    for a in &acknowledged {
        let id = a["id"].as_i64().unwrap();
        let r = http
            .get(format!("{}/api/v1/events/{id}", restarted.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "event {id} lost");
        let got: Value = r.json().await.unwrap();
        assert_eq!(got["properties"]["title"], a["properties"]["title"]);
    }
    let n: i64 = sql(&url)
        .await
        .query_one(
            "SELECT count(*) FROM events WHERE title LIKE '垃圾堆积 %'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 40);
    let mut restarted = restarted;
    restarted.child.kill().unwrap();
    let _ = restarted.child.wait();
}
