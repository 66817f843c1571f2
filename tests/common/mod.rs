//! Test harness: a real PostgreSQL + PostGIS, a fresh database per test, real servers.
//!
//! With `DATABASE_URL` set, databases are created on that server; otherwise a private
//! cluster is started once under `target/test-pg` (shared by every test process, guarded by
//! a file lock, left running for the next test; `make test` stops it at the end).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use minqing::config::Config;
use minqing::http::{AppState, app};
use minqing::store::{EmbeddedPostgres, Store};
use minqing_tiles::{DecodedFeature, DecodedLayer, Value, decode};
use tokio_postgres::NoTls;

/// Seed and size of the demo fixture used by oracle tests.
pub const DEMO_SEED: u64 = 7;
pub const DEMO_EVENTS: usize = 20_000;

/// Fingerprint of what shapes the template databases (schema, generator, model, store), so
/// a cached template is rebuilt whenever one of them changes.
fn fingerprint() -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    // Recursive: the store's SQL and plans live in subfolders.
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for d in [
        "migrations",
        "crates/generate/src",
        "crates/model/src",
        "crates/store/src",
        "geodata",
    ] {
        walk(&root.join(d), &mut files);
    }
    files.sort();
    let mut h = DefaultHasher::new();
    for f in files {
        std::fs::read(&f).unwrap_or_default().hash(&mut h);
    }
    format!("{:08x}", h.finish() as u32)
}

fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target")
}

/// Admin connection string of the test server (database `postgres`-like).
/// Maps a database name to its connection string.
type UrlFor = Box<dyn Fn(&str) -> String>;

fn server() -> (String, UrlFor) {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let base: tokio_postgres::Config = url.parse().expect("DATABASE_URL parses");
        let u = url.clone();
        let _ = base;
        return (url, Box::new(move |db: &str| replace_dbname(&u, db)));
    }
    let dir = target_dir().join("test-pg");
    std::fs::create_dir_all(&dir).unwrap();
    let lock = File::create(target_dir().join("test-pg.lock")).unwrap();
    lock.lock().unwrap();
    let mut pg = EmbeddedPostgres::start(&dir).expect("private PostgreSQL for tests");
    pg.keep();
    lock.unlock().unwrap();
    let url = pg.url();
    (url, Box::new(move |db: &str| pg.url_for(db)))
}

fn replace_dbname(url: &str, db: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (head, tail) = url.split_at(url.rfind('/').unwrap());
        let query = tail.find('?').map_or("", |i| &tail[i..]);
        format!("{head}/{db}{query}")
    } else {
        let kept: Vec<&str> = url
            .split_whitespace()
            .filter(|kv| !kv.starts_with("dbname="))
            .collect();
        format!("{} dbname={db}", kept.join(" "))
    }
}

async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(conn);
    client
}

/// Creates `name` from `template` once (under a lock), building it with `build` if missing.
async fn ensure_template<F, Fut>(
    name: &str,
    from: Option<&str>,
    build: F,
) -> Box<dyn Fn(&str) -> String>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (url, url_for) = server();
    let lock = File::create(target_dir().join(format!("{name}.lock"))).unwrap();
    lock.lock().unwrap();
    let c = admin(&url).await;
    let exists = c
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .unwrap()
        .is_some();
    if !exists {
        let tmp = format!("{name}_building");
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {tmp}"))
            .await
            .unwrap();
        match from {
            Some(t) => c
                .batch_execute(&format!("CREATE DATABASE {tmp} TEMPLATE {t}"))
                .await
                .unwrap(),
            None => c
                .batch_execute(&format!("CREATE DATABASE {tmp}"))
                .await
                .unwrap(),
        }
        build(url_for(&tmp)).await;
        c.batch_execute(&format!("ALTER DATABASE {tmp} RENAME TO {name}"))
            .await
            .unwrap();
    }
    lock.unlock().unwrap();
    url_for
}

/// A fresh, migrated, empty database; returns its connection string.
pub async fn empty_db() -> String {
    let empty = format!("minqing_test_empty_{}", fingerprint());
    let url_for = ensure_template(&empty, None, |url| async move {
        let store = Store::connect(&url, 2).unwrap();
        store.migrate().await.unwrap();
    })
    .await;
    clone_db(&empty, &url_for).await
}

/// The end of the test demo's generated record (its events, visits and patrols lie before).
pub fn demo_end() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
        .unwrap()
        .to_utc()
}

/// A fresh database holding the generated Shanwei demo (seed 7, 20,000 events).
pub async fn demo_db() -> String {
    let empty = format!("minqing_test_empty_{}", fingerprint());
    let demo = format!("minqing_test_demo_{}", fingerprint());
    let _ = ensure_template(&empty, None, |url| async move {
        let store = Store::connect(&url, 2).unwrap();
        store.migrate().await.unwrap();
    })
    .await;
    let url_for = ensure_template(&demo, Some(&empty), |url| async move {
        let store = Store::connect(&url, 2).unwrap();
        minqing::cli::generate_into(&store, DEMO_SEED, None, DEMO_EVENTS, demo_end())
            .await
            .unwrap();
    })
    .await;
    clone_db(&demo, &url_for).await
}

/// The key sealing the personal data of [`demo_registers_db`] (64 hex digits; tests only).
pub const DEMO_REGISTERS_KEY: &str =
    "7e57a11ce0ffee0ddba11f00d5eed0c0ffee7e57a11ce0ffee0ddba11f00d5ee";
/// Share of each grid's households and population generated by [`demo_registers_db`].
pub const DEMO_REGISTERS_SCALE: f64 = 0.05;

/// The demo's areas as the register generator takes them (parents by code).
pub async fn area_records(store: &Store) -> Vec<minqing::model::AreaRecord> {
    let areas = store.load_areas().await.unwrap();
    let code: std::collections::HashMap<i64, String> =
        areas.iter().map(|a| (a.id, a.code.clone())).collect();
    areas
        .into_iter()
        .map(|a| minqing::model::AreaRecord {
            parent_code: a.parent_id.and_then(|p| code.get(&p).cloned()),
            code: a.code,
            name: a.name,
            name_en: a.name_en,
            level: a.level,
            households: a.households,
            population: a.population,
            workers: a.workers,
            generated: a.generated,
            source: a.source,
            geom: a.geom,
        })
        .collect()
}

/// A fresh database holding the demo of [`demo_db`] and its generated registers (buildings,
/// places, organisations, households, residents; seed 7, [`DEMO_REGISTERS_SCALE`] of the
/// grids' households, the pilots richest), sealed under [`DEMO_REGISTERS_KEY`]. A server
/// opens the sealed values when its data directory holds that key (see
/// [`write_demo_registers_key`]). Built once as a template, like the demo.
pub async fn demo_registers_db() -> String {
    let demo_url = demo_db().await;
    let demo = format!("minqing_test_demo_{}", fingerprint());
    let with = format!("minqing_test_demoreg_{}", fingerprint());
    let url_for = ensure_template(&with, Some(&demo), |url| async move {
        let store = Store::connect(&url, 2).unwrap();
        store.migrate().await.unwrap();
        let records = area_records(&store).await;
        let regs = minqing::generate::registers(
            &records,
            &minqing::generate::RegisterOptions {
                seed: DEMO_SEED,
                scale: DEMO_REGISTERS_SCALE,
                pilots: minqing::cli::PILOTS
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
            },
        );
        let keys = minqing::model::sealed::Keys::new(
            &minqing::model::sealed::parse_key(DEMO_REGISTERS_KEY).unwrap(),
        );
        store
            .insert_registers(&regs, &keys, |_, _| {})
            .await
            .unwrap();
        minqing::cli::generate_work(&store, demo_end())
            .await
            .unwrap();
    })
    .await;
    drop_db(&demo_url, &url_for).await;
    clone_db(&with, &url_for).await
}

/// Writes [`DEMO_REGISTERS_KEY`] as the key file of a data directory `dir` (made if missing).
pub fn write_demo_registers_key(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("minqing.key"), DEMO_REGISTERS_KEY).unwrap();
}

/// Drops the test database of `url` (a clone made only to build a template from).
async fn drop_db(url: &str, url_for: &dyn Fn(&str) -> String) {
    let cfg: tokio_postgres::Config = url.parse().unwrap();
    if let Some(name) = cfg.get_dbname() {
        let c = admin(&url_for("postgres")).await;
        let _ = c
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

async fn clone_db(template: &str, url_for: &dyn Fn(&str) -> String) -> String {
    let name = format!(
        "t_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let c = admin(&url_for("postgres")).await;
    // Databases of test processes that have ended are dropped here, so they do not pile up.
    for row in c
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 't\\_%'",
            &[],
        )
        .await
        .unwrap()
    {
        let db: String = row.get(0);
        let pid = db.split('_').nth(1).unwrap_or("");
        if !pid.is_empty() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = c
                .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .await;
        }
    }
    // CREATE DATABASE … TEMPLATE fails while another session copies the same template.
    for attempt in 0.. {
        match c
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
        {
            Ok(()) => break,
            Err(e) if attempt < 50 => {
                let _ = e;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot create test database: {e}"),
        }
    }
    url_for(&name)
}

/// Positions of `n` pseudo-random events (deterministic: md5 order of ids).
pub async fn sample_events(db: &tokio_postgres::Client, n: i64) -> Vec<(f64, f64)> {
    db.query(
        "SELECT ST_X(geom), ST_Y(geom) FROM events ORDER BY md5(id::text) LIMIT $1",
        &[&n],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

/// Direct SQL access for assertions.
pub async fn sql(url: &str) -> tokio_postgres::Client {
    admin(url).await
}

/// A real server on 127.0.0.1:0, in this process, with the index loaded.
///
/// `http` sends an admin token with every request (most tests are about answers, not
/// access); `anon` sends none; [`TestServer::client`] makes a client of any role.
pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub state: AppState,
    pub http: reqwest::Client,
    pub anon: reqwest::Client,
}

/// A client that sends `Authorization: Bearer <token>` with every request.
pub fn client_with_token(token: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .unwrap()
}

impl TestServer {
    /// A server without escalation (its sweeps would change shared test data on their own
    /// schedule); see [`TestServer::start_with`].
    pub async fn start(url: &str) -> TestServer {
        TestServer::start_with(url, |_| {}).await
    }

    /// A server whose configuration `tweak` may change first.
    pub async fn start_with(url: &str, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config {
            database_url: Some(url.to_owned()),
            pool_size: 8,
            escalation_check_secs: 0,
            snapshot_check_secs: 0,
            web_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/dist"),
            ..Config::default()
        };
        tweak(&mut config);
        let config = Arc::new(config);
        let store = Store::connect(url, config.pool_size).unwrap();
        store.migrate().await.unwrap();
        let state = minqing::app::state(store, config);
        minqing::app::load_and_follow(&state).await.unwrap();
        // The workers' record loads after the maps are ready; tests assess at once.
        for _ in 0..600 {
            if state.index.work(minqing::index::work::WorkIndex::is_loaded) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let (_, admin) = state
            .store
            .create_token("test-admin", minqing::auth::Role::Admin, None)
            .await
            .unwrap();
        TestServer {
            addr,
            base: format!("http://{addr}"),
            state,
            http: client_with_token(&admin),
            anon: reqwest::Client::new(),
        }
    }

    /// A new token of `role` scoped to the area with `area_code` (or everywhere).
    pub async fn token(&self, role: &str, area_code: Option<&str>) -> String {
        let role = minqing::auth::Role::parse(role).unwrap();
        let name = format!("test-{}", role.as_str());
        self.state
            .store
            .create_token(&name, role, area_code)
            .await
            .unwrap()
            .1
    }

    /// A client of a new token of `role` in `area_code`.
    pub async fn client(&self, role: &str, area_code: Option<&str>) -> reqwest::Client {
        client_with_token(&self.token(role, area_code).await)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        let body = r.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    /// Follows `next` links from `first` to the last page; returns every feature id.
    pub async fn all_pages(&self, first: String) -> Vec<i64> {
        let mut ids = Vec::new();
        let mut next = Some(first);
        while let Some(path) = next {
            let (status, page) = self.get(&path).await;
            assert_eq!(status, 200, "{path}: {page}");
            ids.extend(
                page["features"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["id"].as_i64().unwrap()),
            );
            next = page["links"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["rel"] == "next")
                .map(|l| l["href"].as_str().unwrap().to_owned());
        }
        ids
    }
}

impl TestServer {
    /// Fetches and decodes a tile (no layers unless 200).
    pub async fn tile(&self, path: &str) -> (u16, Vec<DecodedLayer>) {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        if status == 200 {
            assert_eq!(
                r.headers()["content-type"],
                "application/vnd.mapbox-vector-tile"
            );
        }
        let bytes = r.bytes().await.unwrap();
        let layers = if status == 200 {
            decode(&bytes).unwrap()
        } else {
            Vec::new()
        };
        (status, layers)
    }

    /// Opens `GET /api/v1/stream{query}`.
    pub async fn stream(&self, query: &str, last_event_id: Option<&str>) -> SseReader {
        let mut req = self.http.get(self.url(&format!("/api/v1/stream{query}")));
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200, "stream{query}");
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        SseReader {
            resp,
            buf: String::new(),
        }
    }
}

/// A tile feature's property.
pub fn prop<'a>(f: &'a DecodedFeature, key: &str) -> Option<&'a Value<'static>> {
    f.properties.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// A count property.
pub fn count(v: Option<&Value>) -> u64 {
    match v {
        Some(Value::U64(n)) => *n,
        Some(Value::I64(n)) => u64::try_from(*n).unwrap(),
        other => panic!("not a count: {other:?}"),
    }
}

/// One Server-Sent Event.
#[derive(Debug, Clone)]
pub struct Sse {
    pub event: String,
    pub id: String,
    pub data: String,
}

/// Reads Server-Sent Events off a response.
pub struct SseReader {
    resp: reqwest::Response,
    buf: String,
}

impl SseReader {
    /// The next event (comments skipped), or `None` after `within`.
    pub async fn next(&mut self, within: std::time::Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut e = Sse {
                    event: "message".into(),
                    id: String::new(),
                    data: String::new(),
                };
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        v.trim().clone_into(&mut e.event);
                        any = true;
                    } else if let Some(v) = line.strip_prefix("id:") {
                        v.trim().clone_into(&mut e.id);
                    } else if let Some(v) = line.strip_prefix("data:") {
                        e.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        any = true;
                    }
                }
                if any {
                    return Some(e);
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buf.push_str(std::str::from_utf8(&bytes).unwrap()),
                Ok(Ok(None)) | Err(_) => return None,
                Ok(Err(e)) => panic!("stream failed: {e}"),
            }
        }
    }

    /// The next event whose data mentions `"id":<id>`, skipping others, within `within`.
    pub async fn until_event(&mut self, id: i64, within: std::time::Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + within;
        let needle = format!("\"id\":{id},");
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let e = self.next(left).await?;
            if e.data.contains(&needle) {
                return Some(e);
            }
        }
    }
}

/// Sends JSON and returns (status, body).
pub async fn send_json(
    c: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let r = c
        .request(method, url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// GET with a given client; returns (status, body).
pub async fn get_with(c: &reqwest::Client, url: &str) -> (u16, serde_json::Value) {
    let r = c.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

impl TestServer {
    /// Reports an event with `c`; returns (status, body).
    pub async fn report_with(
        &self,
        c: &reqwest::Client,
        lon: f64,
        lat: f64,
        category: &str,
        reporter: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let body = serde_json::json!({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"category": category, "title": format!("测试 {category}"),
                           "description": "test", "reporter": reporter},
        });
        send_json(c, reqwest::Method::POST, &self.url("/api/v1/events"), &body).await
    }

    /// Applies a transition with `c`; returns (status, body).
    pub async fn act(
        &self,
        c: &reqwest::Client,
        id: i64,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        send_json(
            c,
            reqwest::Method::POST,
            &self.url(&format!("/api/v1/events/{id}/transitions")),
            &body,
        )
        .await
    }

    /// The grid, community, street and district codes of a point (via `locate`).
    pub async fn codes_at(&self, lon: f64, lat: f64) -> Vec<String> {
        let (status, v) = self
            .get(&format!("/api/v1/locate?lon={lon}&lat={lat}"))
            .await;
        assert_eq!(status, 200, "{v}");
        let mut out = vec![v["grid"]["code"].as_str().unwrap().to_owned()];
        for a in v["ancestors"].as_array().unwrap() {
            out.push(a["code"].as_str().unwrap().to_owned());
        }
        out
    }
}

/// A tiny valid PNG (1×1).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];
