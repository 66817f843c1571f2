//! Faults, with the real `minqing` binary as a child process: shutdown on SIGTERM within
//! 5 s with event streams open and a request stalled mid-body, slow clients cut off by the header-read timeout, early
//! error answers that say `Connection: close`, a PostgreSQL restart while serving (its own
//! private cluster: the shared test cluster is never stopped), and `kill -9` in the middle
//! of concurrent reports retried with their Idempotency-Keys.
//!
//! `MINQING_TEST_BIN` runs these against another build of the binary (to show which of
//! them an older build fails).
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{TestServer, demo_db, empty_db, sql};
use minqing::store::{EmbeddedPostgres, Store};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn bin() -> PathBuf {
    std::env::var_os("MINQING_TEST_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_minqing")),
        PathBuf::from,
    )
}

struct Server {
    child: Child,
    base: String,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `minqing serve` on a free port of 127.0.0.1 against `url`.
    fn spawn(url: &str) -> Server {
        Server::spawn_on(url, "127.0.0.1:0")
    }

    fn spawn_on(url: &str, listen: &str) -> Server {
        let mut child = Command::new(bin())
            .args(["serve", "--listen", listen])
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "minqing=info,warn")
            .env("MINQING_ESCALATION_CHECK", "0")
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
            addr,
            log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Sends SIGTERM; the exit status, or `None` if the process still ran after `within`.
    fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let st = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(st.success());
        let started = Instant::now();
        while started.elapsed() < within {
            if let Some(st) = self.child.try_wait().unwrap() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `minqing token create …`: the printed secret.
fn token(url: &str, role: &str) -> String {
    let out = Command::new(bin())
        .args(["token", "create", "--role", role, "--name", "faults"])
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

async fn wait_ready(http: &reqwest::Client, base: &str) {
    let mut last = String::new();
    for _ in 0..1200 {
        match http.get(format!("{base}/readyz")).send().await {
            Ok(r) if r.status() == 200 => return,
            Ok(r) => last = format!("status {}", r.status()),
            Err(e) => last = format!("{e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} never became ready: {last}");
}

fn report(i: usize, title: &str) -> Value {
    #[allow(clippy::cast_precision_loss)]
    let lon = 115.30 + (i % 500) as f64 * 0.0005;
    json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, 22.95]},
        "properties": {"category": "environment.garbage", "title": format!("{title} {i}")}
    })
}

async fn post_report(
    http: &reqwest::Client,
    server_base: &str,
    body: &Value,
    key: Option<&str>,
) -> reqwest::Result<reqwest::Response> {
    let mut req = http
        .post(format!("{server_base}/api/v1/events"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await
}

/// Reads a response head from a raw connection (until the blank line), at most `within`.
async fn read_head(conn: &mut TcpStream, within: Duration) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + within;
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, conn.read(&mut chunk)).await {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => panic!("read failed: {e}"),
        }
    }
    String::from_utf8_lossy(&buf).to_ascii_lowercase()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_with_streams_open_exits_within_5s_and_loses_no_acknowledged_report() {
    let url = demo_db().await;
    let admin = token(&url, "admin");
    let http = common::client_with_token(&admin);
    let mut server = Server::spawn(&url);
    wait_ready(&http, &server.base).await;

    // Three open event streams: they never end on their own.
    let mut streams = Vec::new();
    for _ in 0..3 {
        let r = http.get(server.url("/api/v1/stream")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        streams.push(r);
    }
    // Reports in flight while the signal arrives.
    let mut tasks = Vec::new();
    for i in 0..30 {
        let http = http.clone();
        let base = server.base.clone();
        tasks.push(tokio::spawn(async move {
            let r = post_report(&http, &base, &report(i, "关停上报"), None).await;
            match r {
                Ok(r) if r.status() == 201 => Some(r.json::<Value>().await.ok()?["id"].as_i64()?),
                _ => None,
            }
        }));
    }
    // A client that stalls halfway through a request body: its request stays in flight
    // until the grace period ends.
    let mut stalled = TcpStream::connect(&server.addr).await.unwrap();
    stalled
        .write_all(
            format!(
                "POST /api/v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {admin}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"type\":"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let started = Instant::now();
    let status = tokio::task::block_in_place(|| server.terminate(Duration::from_secs(5)));
    let took = started.elapsed();
    let status = status.unwrap_or_else(|| panic!("still running {took:?} after SIGTERM"));
    assert!(status.success(), "exit status {status}");
    let mut acknowledged = Vec::new();
    for t in tasks {
        if let Some(id) = t.await.unwrap() {
            acknowledged.push(id);
        }
    }
    let db = sql(&url).await;
    for id in &acknowledged {
        let n: i64 = db
            .query_one("SELECT count(*) FROM events WHERE id = $1", &[id])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 1, "report {id} was acknowledged but is not stored");
    }
    drop(streams);
    drop(stalled);
    eprintln!(
        "exited in {took:?}; {} reports acknowledged before",
        acknowledged.len()
    );
}

#[tokio::test]
async fn slow_clients_are_cut_off_by_the_header_read_timeout() {
    let url = demo_db().await;
    let server = Server::spawn(&url);
    wait_ready(&reqwest::Client::new(), &server.base).await;

    // Connections that send half a request head, and one that sends nothing.
    let mut conns = Vec::new();
    for i in 0..100 {
        let mut c = TcpStream::connect(&server.addr).await.unwrap();
        if i > 0 {
            c.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
                .await
                .unwrap();
        }
        conns.push(c);
    }
    let started = Instant::now();
    // A well-behaved client is still served meanwhile.
    let r = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
    let mut open_after = 0;
    for c in &mut conns {
        let left = Duration::from_secs(14).saturating_sub(started.elapsed());
        let mut b = [0u8; 256];
        match tokio::time::timeout(left, c.read(&mut b)).await {
            // Closed (with or without an answer such as 408), or reset.
            Ok(Ok(_) | Err(_)) => {}
            Err(_) => open_after += 1,
        }
    }
    assert_eq!(
        open_after, 0,
        "{open_after} of 100 slow connections still open after 14 s"
    );
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(5), "closed too early: {took:?}");
    // And the server still serves.
    let r = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn answers_given_before_the_body_was_read_say_connection_close() {
    let url = demo_db().await;
    let admin = token(&url, "admin");
    let server = Server::spawn(&url);
    wait_ready(&reqwest::Client::new(), &server.base).await;

    // A bad token is refused before the body is read; the client is still sending it.
    let mut c = TcpStream::connect(&server.addr).await.unwrap();
    c.write_all(
        b"POST /api/v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer mq_not_a_token\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"type\":",
    )
    .await
    .unwrap();
    let head = read_head(&mut c, Duration::from_secs(5)).await;
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert!(head.contains("\r\nconnection: close\r\n"), "{head}");

    // An oversized body: refused once the limit (64 KiB here) is passed, the rest unread.
    let mut c = TcpStream::connect(&server.addr).await.unwrap();
    let body = vec![b' '; 400 * 1024];
    c.write_all(
        format!(
            "POST /api/v1/events/1/transitions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {admin}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let (mut rd, mut wr) = c.into_split();
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(&body).await;
        wr
    });
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), rd.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 413"), "{head}");
    assert!(head.contains("\r\nconnection: close\r\n"), "{head}");
    let _ = writer.await;

    // A request whose body was read keeps its connection.
    let mut c = TcpStream::connect(&server.addr).await.unwrap();
    c.write_all(
        b"POST /api/v1/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    )
    .await
    .unwrap();
    let head = read_head(&mut c, Duration::from_secs(5)).await;
    assert!(head.starts_with("http/1.1 4"), "{head}");
    assert!(!head.contains("connection: close"), "{head}");
}

/// A private cluster in a scratch directory, with the generated demo (few events) loaded.
/// Removed, stopped, when dropped.
struct OwnCluster {
    dir: PathBuf,
    pg: Option<EmbeddedPostgres>,
}

impl OwnCluster {
    async fn start(name: &str) -> OwnCluster {
        let dir = std::env::temp_dir().join(format!(
            "minqing-faults-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let d = dir.clone();
        let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&d))
            .await
            .unwrap()
            .unwrap();
        let store = Store::connect(&pg.url(), 4).unwrap();
        store.migrate().await.unwrap();
        let end = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
            .unwrap()
            .to_utc();
        minqing::cli::generate_into(&store, 7, None, 2_000, end)
            .await
            .unwrap();
        OwnCluster { dir, pg: Some(pg) }
    }

    fn url(&self) -> String {
        self.pg.as_ref().unwrap().url()
    }

    fn stop(&mut self) {
        if let Some(pg) = self.pg.take() {
            pg.stop().unwrap();
        }
    }

    fn restart(&mut self) {
        assert!(self.pg.is_none());
        self.pg = Some(EmbeddedPostgres::start(&self.dir).unwrap());
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        if let Some(pg) = self.pg.take() {
            let _ = pg.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_restart_while_serving() {
    let mut pg = OwnCluster::start("restart").await;
    let url = pg.url();
    let reporter = token(&url, "reporter");
    let http = common::client_with_token(&reporter);
    let anon = reqwest::Client::new();
    let server = Server::spawn(&url);
    wait_ready(&anon, &server.base).await;
    let r = post_report(&http, &server.base, &report(0, "重启前"), None)
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let before = server.log_lines().len();
    tokio::task::block_in_place(|| pg.stop());

    // Readiness says so within a few seconds.
    let started = Instant::now();
    let body = loop {
        let r = anon.get(server.url("/readyz")).send().await.unwrap();
        if r.status() == 503 {
            break r.json::<Value>().await.unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "/readyz still {} while the database is stopped",
            r.status()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("database unreachable"),
        "{body}"
    );
    // Reads from memory go on; liveness too.
    for _ in 0..20 {
        let r = anon
            .get(server.url("/api/v1/locate?lon=115.37&lat=22.79"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(
        anon.get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Writes are refused at once (503), not after a connect timeout each.
    let started = Instant::now();
    for i in 0..50 {
        let r = post_report(&http, &server.base, &report(i, "停库中"), None)
            .await
            .unwrap();
        assert_eq!(r.status(), 503, "a report while the database is stopped");
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "50 refused reports took {took:?}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Not a line per request: refused requests log nothing (the outage is logged once,
    // below); the rest (the change feed's reconnects, the pool's closed
    // connections) is bounded by time and pool size, not by traffic.
    let during: Vec<String> = server.log_lines()[before..].to_vec();
    let per_request: Vec<&String> = during
        .iter()
        .filter(|l| {
            (l.contains("WARN") || l.contains("ERROR"))
                && (l.contains("minqing_server") || l.contains("minqing_store::intake"))
        })
        .collect();
    assert!(
        per_request.is_empty(),
        "{} warnings/errors of requests logged during the outage (50 refused reports):\n{}",
        per_request.len(),
        during.join("\n")
    );
    assert!(
        during.len() < 40,
        "{} lines logged during the outage:\n{}",
        during.len(),
        during.join("\n")
    );
    let began = during
        .iter()
        .filter(|l| l.contains("database unreachable; refusing requests"))
        .count();
    assert_eq!(
        began,
        1,
        "the outage is logged once:\n{}",
        during.join("\n")
    );

    // PostgreSQL comes back: writes and readiness follow without a restart of minqing.
    tokio::task::block_in_place(|| pg.restart());
    let started = Instant::now();
    loop {
        let r = post_report(&http, &server.base, &report(99, "重启后"), Some("after-1"))
            .await
            .unwrap();
        if r.status() == 201 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "reports still refused {:?} after PostgreSQL restarted: {}",
            started.elapsed(),
            r.status()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_ready(&anon, &server.base).await;
    let ended = server
        .log_lines()
        .iter()
        .filter(|l| l.contains("database reachable again"))
        .count();
    assert_eq!(ended, 1, "the end of the outage is logged once");
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_mid_intake_then_retries_store_each_key_once() {
    const N: usize = 300;
    let url = demo_db().await;
    let reporter = token(&url, "reporter");
    let http = common::client_with_token(&reporter);
    let mut server = Server::spawn(&url);
    wait_ready(&http, &server.base).await;

    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for i in 0..N {
        let http = http.clone();
        let base = server.base.clone();
        let acked = acked_tx.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("kill9-{i}");
            if let Ok(r) = post_report(&http, &base, &report(i, "断电上报"), Some(&key)).await
                && r.status() == 201
                && let Ok(v) = r.json::<Value>().await
            {
                let _ = acked.send((key, v["id"].as_i64().unwrap()));
            }
        }));
    }
    drop(acked_tx);
    // Kill once some, not all, are acknowledged.
    let mut acknowledged = BTreeMap::new();
    while acknowledged.len() < N / 10 {
        let (k, id) = acked_rx.recv().await.unwrap();
        acknowledged.insert(k, id);
    }
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    while let Ok((k, id)) = acked_rx.try_recv() {
        acknowledged.insert(k, id);
    }
    assert!(
        acknowledged.len() < N,
        "every report was acknowledged before the kill; nothing was in flight"
    );

    // Every acknowledged report is stored …
    let db = sql(&url).await;
    for (k, id) in &acknowledged {
        let n: i64 = db
            .query_one("SELECT count(*) FROM events WHERE id = $1", &[id])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 1, "report {k} (id {id}) acknowledged but lost");
    }
    // … and retrying every report with its key, after a restart, stores each exactly once.
    let restarted = Server::spawn(&url);
    wait_ready(&http, &restarted.base).await;
    let mut retries = Vec::new();
    for i in 0..N {
        let http = http.clone();
        let base = restarted.base.clone();
        retries.push(tokio::spawn(async move {
            let key = format!("kill9-{i}");
            let r = post_report(&http, &base, &report(i, "断电上报"), Some(&key))
                .await
                .unwrap();
            assert!(r.status().is_success(), "retry of {key}: {}", r.status());
            let v: Value = r.json().await.unwrap();
            (key, v["id"].as_i64().unwrap())
        }));
    }
    for t in retries {
        let (key, id) = t.await.unwrap();
        if let Some(first) = acknowledged.get(&key) {
            assert_eq!(*first, id, "{key} answered with another event on retry");
        }
    }
    let rows = db
        .query(
            "SELECT title, count(*) FROM events WHERE title LIKE '断电上报 %' GROUP BY title",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), N, "every report stored");
    for r in rows {
        let n: i64 = r.get(1);
        let title: String = r.get(0);
        assert_eq!(n, 1, "{title} stored {n} times");
    }
}

/// Reads SSE messages off a response until one whose `data` mentions `needle` (or, with
/// `needle` empty, the first message); returns (event type, id).
async fn sse_until(r: &mut reqwest::Response, needle: &str, within: Duration) -> (String, String) {
    let deadline = Instant::now() + within;
    let mut buf = String::new();
    loop {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut event, mut id, mut data) =
                ("message".to_owned(), String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    v.trim().clone_into(&mut event);
                } else if let Some(v) = line.strip_prefix("id:") {
                    v.trim().clone_into(&mut id);
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if !data.is_empty() && (needle.is_empty() || data.contains(needle)) {
                return (event, id);
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, r.chunk())
            .await
            .expect("an SSE message in time")
            .unwrap()
            .expect("the stream is open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stream_resume_across_an_instance_restart_resets_instead_of_skipping() {
    let url = demo_db().await;
    let secret = token(&url, "admin");
    let http = common::client_with_token(&secret);
    let mut server = Server::spawn(&url);
    wait_ready(&http, &server.base).await;
    let mut stream = http.get(server.url("/api/v1/stream")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let r = post_report(&http, &server.base, &report(1, "重启前"), None)
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (_, seen) = sse_until(
        &mut stream,
        &format!("\"id\":{id},"),
        Duration::from_secs(5),
    )
    .await;
    drop(stream);
    // The client is away while the instance restarts and reports keep coming.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let restarted = Server::spawn(&url);
    wait_ready(&http, &restarted.base).await;
    for i in 2..20 {
        let r = post_report(&http, &restarted.base, &report(i, "重启后"), None)
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    // Resuming with the old process's position: `reset`, never a silent gap.
    let mut resumed = http
        .get(restarted.url("/api/v1/stream"))
        .header("last-event-id", &seen)
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    let (event, _) = sse_until(&mut resumed, "", Duration::from_secs(5)).await;
    assert_eq!(event, "reset", "a position of a process since restarted");
}

/// One shutdown signal stops every background task (change feed, register reloads, overdue
/// clock, escalation), not only the streams.
#[tokio::test]
async fn every_background_task_obeys_the_shutdown_signal() {
    let url = empty_db().await;
    let s = TestServer::start_with(&url, |c| c.escalation_check_secs = 1).await;
    assert_eq!(
        s.state.background_tasks(),
        4,
        "feed, register reloads, overdue clock, escalation"
    );
    let started = std::time::Instant::now();
    assert!(
        s.state.core.shut_down(Duration::from_secs(3)).await,
        "background tasks still running 3 s after the shutdown signal"
    );
    assert_eq!(s.state.background_tasks(), 0);
    assert!(started.elapsed() < Duration::from_secs(3));
}
