//! Durability with a real process: a report acknowledged with 201 survives `kill -9` of the
//! server, and is served again after a restart.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{demo_db, sql};
use serde_json::{Value, json};

struct Server {
    child: Child,
    base: String,
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
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("server: {line}");
            if let Some(addr) = line.split("addr=").nth(1) {
                let _ = tx.send(addr.split_whitespace().next().unwrap_or("").to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server printed its address");
    Server {
        child,
        base: format!("http://{addr}"),
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
    let http = reqwest::Client::new();
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
