//! Tiles checked by tools minqing shares no code with.
//!
//! - Mapbox's Python MVT decoder (`mapbox-vector-tile`) reads every tile, and the official
//!   TileJSON 3.0.0 JSON schema validates every TileJSON document (with Python `jsonschema`),
//!   both through `tests/py/check.py` in the venv `scripts/py-env.sh` makes.
//! - PostGIS, on the same database, says what each tile must hold: `ST_TileEnvelope` bounds,
//!   `ST_Intersects`, `ST_Transform` to Web Mercator for tile-local positions, clipping and
//!   snapping for polygons.
//! - Snapshots of a few decoded tiles (`tests/snapshots/`) catch any other change.
//!
//! What each layer promises, and so what is compared:
//!
//! - single events (zoom ≥ 14): every event intersecting the tile's *buffered* envelope
//!   (edges included), with its properties and its position rounded to the tile grid;
//! - clusters (zoom < 14) and heat: every event the tile *owns* — the half-open box
//!   `[west, east) × (south, north]`, so that each event is counted by exactly one tile per
//!   zoom and the counts of a zoom add up (see `minqing_tiles::cluster`); points in the
//!   buffer belong to a neighbour and are not counted. Compared cell by cell: 8 × 8 cluster
//!   cells and 64 × 64 heat cells per tile;
//! - areas: the current areas of the level drawn at the zoom that intersect the buffered
//!   envelope, less those whose clipped part collapses to zero area on the tile's integer
//!   grid (minqing drops those; PostGIS computes the same clip and snap here).
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used,
    clippy::format_push_string
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{TestServer, demo_db, sample_events, sql};
use minqing::render::{EVENTS_SINGLE_FROM_ZOOM, level_for_zoom};
use minqing_tiles::{DEFAULT_BUFFER, DEFAULT_EXTENT};
use serde_json::{Value, json};
use tokio_postgres::Client;

/// Tile extent and buffer minqing draws with.
const EXTENT: f64 = DEFAULT_EXTENT as f64;
const BUFFER: f64 = DEFAULT_BUFFER as f64;
/// Cluster cells (512 units: 64 px of a 512-px tile) and heat cells (64 per side).
const CLUSTER_CELL: f64 = 512.0;
const HEAT_CELL: f64 = EXTENT / 64.0;
const DAY_US: i64 = 86_400_000_000;
/// Degrees off a tile edge within which double-precision arithmetic may place a point on
/// either side (a few ulps of a longitude or latitude are ~1e-14°; 1e-13° is ~10 nm).
const NEAR: f64 = 1e-13;
/// The city centre of 汕尾 (城区), where the snapshot tiles are.
const CITY: (f64, f64) = (115.37, 22.79);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------------------
// Python: the venv and the checker.

/// The venv of `scripts/py-env.sh`, made once (under a lock: nextest runs every test in its
/// own process, in parallel).
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

/// Runs `tests/py/check.py`: validates TileJSON documents and decodes tile files.
fn check(tilejson: &BTreeMap<String, PathBuf>, tiles: &BTreeMap<String, PathBuf>) -> Value {
    check_exact(tilejson, tiles, None)
}

/// [`check`], and which of `exact`'s tiles hold which of its points, decided exactly.
fn check_exact(
    tilejson: &BTreeMap<String, PathBuf>,
    tiles: &BTreeMap<String, PathBuf>,
    exact: Option<Value>,
) -> Value {
    let mut manifest = json!({
        "schema": root().join("tests/py/tilejson-3.0.0.schema.json"),
        "tilejson": tilejson,
        "tiles": tiles,
    });
    if let Some(e) = exact {
        manifest["exact"] = e;
    }
    let mut child = Command::new(python())
        .arg(root().join("tests/py/check.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    serde_json::to_writer(child.stdin.take().unwrap(), &manifest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "tests/py/check.py failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A scratch directory for one test process, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let d = root().join(format!(
            "target/test-files/tiles-independent-{test}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tiles, fetched over HTTP.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Tile {
    z: i32,
    x: i32,
    y: i32,
}

/// The tile holding a point: the usual slippy-map formula, written here apart from
/// minqing's tile code.
fn tile_of(lon: f64, lat: f64, z: i32) -> Tile {
    let n = f64::from(1 << z);
    let r = lat.to_radians();
    Tile {
        z,
        x: ((lon + 180.0) / 360.0 * n).floor() as i32,
        y: ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as i32,
    }
}

impl Tile {
    fn path(&self, layer: &str, query: &str) -> String {
        let q = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        format!("/tiles/{layer}/{}/{}/{}{q}", self.z, self.x, self.y)
    }

    fn offset(&self, dx: i32, dy: i32) -> Tile {
        Tile {
            z: self.z,
            x: self.x + dx,
            y: self.y + dy,
        }
    }
}

/// Fetches a tile plainly and with `Accept-Encoding: gzip`, checks both carry the same
/// bytes (an empty tile is `204 No Content`), saves it as `{dir}/{name}.mvt`.
async fn fetch(s: &TestServer, path: &str, dir: &Path, name: &str) -> PathBuf {
    let plain = s.http.get(s.url(path)).send().await.unwrap();
    let status = plain.status().as_u16();
    let ctype = plain.headers().get("content-type").cloned();
    let raw = plain.bytes().await.unwrap();
    assert!(
        status == 200 || (status == 204 && raw.is_empty()),
        "{path}: {status}"
    );
    if status == 200 {
        assert_eq!(
            ctype.unwrap(),
            "application/vnd.mapbox-vector-tile",
            "{path}"
        );
        let gz = s
            .http
            .get(s.url(path))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(gz.status().as_u16(), 200, "{path}");
        assert_eq!(gz.headers()["content-encoding"], "gzip", "{path}");
        let body = gz.bytes().await.unwrap();
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, raw.to_vec(), "{path}: gzip holds the same tile");
    }
    let file = dir.join(format!("{name}.mvt"));
    std::fs::write(&file, &raw).unwrap();
    file
}

/// One tile to check: a name for files, the URL path, the layer, the tile, and the filter
/// as PostGIS applies it (an SQL condition on `events`, or empty).
struct Case {
    name: String,
    path: String,
    layer: &'static str,
    tile: Tile,
    sql: String,
}

/// Fetches every case's tile and decodes them all with the Python decoder.
async fn fetch_and_decode(s: &TestServer, cases: &[Case], dir: &Path) -> Value {
    fetch_and_decode_exact(s, cases, dir, None).await
}

async fn fetch_and_decode_exact(
    s: &TestServer,
    cases: &[Case],
    dir: &Path,
    exact: Option<Value>,
) -> Value {
    let mut files = BTreeMap::new();
    for c in cases {
        let file = fetch(s, &c.path, dir, &c.name).await;
        assert!(
            files.insert(c.name.clone(), file).is_none(),
            "{}: two cases share a name",
            c.name
        );
    }
    check_exact(&BTreeMap::new(), &files, exact)
}

/// The features of a decoded tile's layer (none when the layer is absent: an empty tile);
/// checks the layer's extent.
fn features<'a>(decoded: &'a Value, name: &str, layer: &str) -> &'a [Value] {
    let tile = &decoded["tiles"][name];
    assert!(tile.is_object(), "{name} was not decoded");
    for (l, v) in tile.as_object().unwrap() {
        assert_eq!(l, layer, "{name}: only the {layer} layer");
        assert_eq!(v["extent"].as_f64(), Some(EXTENT), "{name}: extent");
        assert_eq!(v["version"], 2, "{name}: MVT version");
    }
    tile[layer]["features"]
        .as_array()
        .map_or(&[], Vec::as_slice)
}

fn int(v: &Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("{v} is not an integer"))
}

fn point(f: &Value) -> [i64; 2] {
    assert_eq!(f["type"], "Point", "{f}");
    [int(&f["geometry"][0]), int(&f["geometry"][1])]
}

/// `vector_layers[0].fields` of each layer's TileJSON.
async fn announced_fields(s: &TestServer) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for layer in ["areas", "events", "heat"] {
        let (status, doc) = s.get(&format!("/tiles/{layer}")).await;
        assert_eq!(status, 200);
        let fields = doc["vector_layers"][0]["fields"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        out.insert(layer.to_owned(), fields);
    }
    out
}

/// Geometry inside `[-buffer, extent + buffer]`, and properties of the types TileJSON's
/// `vector_layers` announces (a `count_<category>` key is announced as `count_<category>`).
fn check_common(ctx: &str, feats: &[Value], fields: &BTreeMap<String, String>) {
    for f in feats {
        if let Some(b) = f["bounds"].as_array() {
            let b: Vec<f64> = b.iter().map(|v| v.as_f64().unwrap()).collect();
            assert!(
                b[0] >= -BUFFER
                    && b[1] >= -BUFFER
                    && b[2] <= EXTENT + BUFFER
                    && b[3] <= EXTENT + BUFFER,
                "{ctx}: feature {} reaches {b:?}",
                f["id"]
            );
        }
        for (k, v) in f["properties"].as_object().unwrap() {
            let key = if k.starts_with("count_") {
                "count_<category>"
            } else {
                k.as_str()
            };
            let ty = fields
                .get(key)
                .unwrap_or_else(|| panic!("{ctx}: property {k} is not announced in TileJSON"));
            let ok = if ty.starts_with("Number") {
                v.is_number()
            } else if ty.starts_with("String") {
                v.is_string()
            } else if ty.starts_with("Boolean") {
                v.is_boolean()
            } else {
                panic!("{ctx}: TileJSON announces {k} as {ty:?}, not Number/String/Boolean")
            };
            assert!(ok, "{ctx}: {k} = {v} is not a {ty}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// PostGIS: what a tile must hold.

/// `m`: the tile's Web-Mercator envelope; `b`: the buffered envelope in lon/lat; `o`: the
/// tile's own envelope in lon/lat. Parameters: `$1..$3` = z, x, y; `$4` = buffer / extent;
/// `$5` = extent.
const ENVELOPES: &str = "WITH e AS (SELECT ST_TileEnvelope($1::int, $2::int, $3::int) AS m,
    ST_Transform(ST_TileEnvelope($1::int, $2::int, $3::int, margin => $4::float8), 4326) AS b,
    ST_Transform(ST_TileEnvelope($1::int, $2::int, $3::int), 4326) AS o)";

/// Tile-local x and y of `geom` (y down), as PostGIS projects it.
const LOCAL: &str =
    "(ST_X(ST_Transform(geom, 3857)) - ST_XMin(m)) / (ST_XMax(m) - ST_XMin(m)) * $5::float8,
    (ST_YMax(m) - ST_Y(ST_Transform(geom, 3857))) / (ST_YMax(m) - ST_YMin(m)) * $5::float8";

/// Events the tile owns by the half-open rule `[west, east) × (south, north]`.
const OWNED: &str = "ST_X(geom) >= ST_XMin(o) AND ST_X(geom) < ST_XMax(o)
    AND ST_Y(geom) > ST_YMin(o) AND ST_Y(geom) <= ST_YMax(o)";

fn params(t: &Tile) -> [Box<dyn tokio_postgres::types::ToSql + Sync>; 5] {
    [
        Box::new(t.z),
        Box::new(t.x),
        Box::new(t.y),
        Box::new(BUFFER / EXTENT),
        Box::new(EXTENT),
    ]
}

async fn query(db: &Client, q: &str, t: &Tile) -> Vec<tokio_postgres::Row> {
    let p = params(t);
    let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
        p.iter().map(|b| b.as_ref() as _).collect();
    db.query(q, &refs)
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{q}"))
}

/// The SQL condition of `?category=code`: the code itself or, for a category, its
/// subcategories (`Taxonomy::matching`).
fn category_sql(code: &str) -> String {
    format!("(category = '{code}' OR starts_with(category, '{code}.'))")
}

/// The SQL condition of `?status=open`: every state but resolved, closed, rejected
/// (`Status::is_open`).
const OPEN_SQL: &str = "status NOT IN ('resolved', 'closed', 'rejected')";

fn top(category: &str) -> &str {
    category.split('.').next().unwrap()
}

/// The cell (column, row) of a tile-local position, clamped to the tile as minqing bins.
fn cell(p: [f64; 2], size: f64) -> (i64, i64) {
    let last = (EXTENT / size) as i64 - 1;
    let i = |v: f64| ((v / size).floor() as i64).clamp(0, last);
    (i(p[0]), i(p[1]))
}

/// Wall clock, microseconds.
fn now_us() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(d.as_micros()).unwrap()
}

/// Single events: exactly the events intersecting the buffered envelope, each with its
/// category, state, priority, age and overdue flag (rendered between `t0` and `t1`), at
/// its position rounded to the tile grid. Returns how many were checked.
async fn check_singles(db: &Client, c: &Case, feats: &[Value], t0: i64, t1: i64) -> usize {
    let q = format!(
        "{ENVELOPES} SELECT id, category, status, priority::int4,
            (extract(epoch FROM reported_at) * 1000000)::int8,
            (extract(epoch FROM due_at) * 1000000)::int8, {LOCAL}
         FROM events, e WHERE ST_Intersects(geom, b) {}",
        c.sql
    );
    let rows = query(db, &q, &c.tile).await;
    let want: BTreeMap<i64, &tokio_postgres::Row> = rows.iter().map(|r| (r.get(0), r)).collect();
    let got: BTreeSet<i64> = feats.iter().map(|f| int(&f["id"])).collect();
    assert_eq!(got.len(), feats.len(), "{}: ids are unique", c.path);
    let want_ids: BTreeSet<i64> = want.keys().copied().collect();
    assert_eq!(
        got,
        want_ids,
        "{}: the events intersecting the buffered tile (missing {:?}, extra {:?})",
        c.path,
        want_ids.difference(&got).collect::<Vec<_>>(),
        got.difference(&want_ids).collect::<Vec<_>>()
    );
    for f in feats {
        let r = want[&int(&f["id"])];
        let ctx = format!("{} event {}", c.path, int(&f["id"]));
        let p = &f["properties"];
        let category: String = r.get(1);
        let status: String = r.get(2);
        assert_eq!(p["category"], top(&category), "{ctx}");
        assert_eq!(p["subcategory"], category.as_str(), "{ctx}");
        assert_eq!(p["status"], status.as_str(), "{ctx}");
        assert_eq!(int(&p["priority"]), i64::from(r.get::<_, i32>(3)), "{ctx}");
        let reported: i64 = r.get(4);
        let age = |now: i64| ((now - reported) / DAY_US).max(0);
        let a = int(&p["age_days"]);
        assert!(
            (age(t0)..=age(t1)).contains(&a),
            "{ctx}: age_days {a}, not {}",
            age(t0)
        );
        let due: Option<i64> = r.get(5);
        let open = !matches!(status.as_str(), "resolved" | "closed" | "rejected");
        if due.is_none_or(|d| d < t0 || d > t1) {
            let overdue = open && due.is_some_and(|d| d < t0);
            assert_eq!(p["overdue"], overdue, "{ctx}");
        }
        let (x, y): (f64, f64) = (r.get(6), r.get(7));
        let [gx, gy] = point(f);
        assert!(
            (gx as f64 - x).abs() <= 0.5 + 1e-6 && (gy as f64 - y).abs() <= 0.5 + 1e-6,
            "{ctx}: drawn at [{gx}, {gy}], PostGIS projects it to [{x}, {y}]"
        );
    }
    feats.len()
}

/// What PostGIS puts in each cell of a tile: events, per top-level category, and ids.
#[derive(Default, Debug)]
struct Cell {
    count: i64,
    categories: BTreeMap<String, i64>,
    ids: Vec<i64>,
}

async fn owned_cells(db: &Client, c: &Case, size: f64) -> BTreeMap<(i64, i64), Cell> {
    let q = format!(
        "{ENVELOPES} SELECT id, category, {LOCAL} FROM events, e WHERE {OWNED} {}",
        c.sql
    );
    let mut cells: BTreeMap<(i64, i64), Cell> = BTreeMap::new();
    for r in query(db, &q, &c.tile).await {
        let category: String = r.get(1);
        let k = cell([r.get(2), r.get(3)], size);
        let e = cells.entry(k).or_default();
        e.count += 1;
        *e.categories.entry(top(&category).to_owned()).or_default() += 1;
        e.ids.push(r.get(0));
    }
    cells
}

/// Clusters: one per non-empty 512-unit cell of what the tile owns, with its count, its
/// counts per category (which add up to it) and, for a single member, that event's id.
/// Returns the events counted.
async fn check_clusters(db: &Client, c: &Case, feats: &[Value]) -> i64 {
    let want = owned_cells(db, c, CLUSTER_CELL).await;
    let mut matched: BTreeSet<(i64, i64)> = BTreeSet::new();
    for f in feats {
        let p = point(f);
        let props = f["properties"].as_object().unwrap();
        let n = int(&props["point_count"]);
        let per_category: BTreeMap<String, i64> = props
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("count_").map(|k| (k.to_owned(), int(v))))
            .collect();
        assert_eq!(
            per_category.values().sum::<i64>(),
            n,
            "{}: count_<category> add up to point_count at {p:?}",
            c.path
        );
        // The mean position of the members lies in their cell; rounded, it may land on the
        // cell's far edge.
        let (cx, cy) = cell([p[0] as f64, p[1] as f64], CLUSTER_CELL);
        let key = [(0, 0), (-1, 0), (0, -1), (-1, -1)]
            .into_iter()
            .map(|(dx, dy)| (cx + dx, cy + dy))
            .find(|k| {
                !matched.contains(k) && want.get(k).is_some_and(|w| w.categories == per_category)
            })
            .unwrap_or_else(|| {
                panic!(
                    "{}: cluster at {p:?} ({n} events, {per_category:?}) matches no cell PostGIS counts: {:?}",
                    c.path,
                    want.get(&(cx, cy))
                )
            });
        matched.insert(key);
        let w = &want[&key];
        assert_eq!(n, w.count, "{}", c.path);
        if n == 1 {
            assert_eq!(int(&f["id"]), w.ids[0], "{}: a lone event's id", c.path);
        } else {
            assert!(f["id"].is_null(), "{}: a cluster has no id", c.path);
        }
    }
    let missing: Vec<_> = want.keys().filter(|k| !matched.contains(k)).collect();
    assert!(
        missing.is_empty(),
        "{}: cells with events but no cluster: {missing:?}",
        c.path
    );
    want.values().map(|w| w.count).sum()
}

/// Heat: one cell per non-empty 64-unit cell of what the tile owns, drawn at the cell's
/// centre, weighing its events. Returns the events counted.
async fn check_heat(db: &Client, c: &Case, feats: &[Value]) -> i64 {
    let want: BTreeMap<(i64, i64), i64> = owned_cells(db, c, HEAT_CELL)
        .await
        .into_iter()
        .map(|(k, v)| (k, v.count))
        .collect();
    let half = (HEAT_CELL / 2.0) as i64;
    let size = HEAT_CELL as i64;
    let mut got = BTreeMap::new();
    for f in feats {
        let p = point(f);
        assert!(
            p[0] % size == half && p[1] % size == half,
            "{}: heat point {p:?} is not a cell centre",
            c.path
        );
        let k = ((p[0] - half) / size, (p[1] - half) / size);
        assert!(
            got.insert(k, int(&f["properties"]["weight"])).is_none(),
            "{}: two heat points in cell {k:?}",
            c.path
        );
    }
    if got != want {
        let diff: Vec<String> = want
            .keys()
            .chain(got.keys())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter(|k| got.get(k) != want.get(k))
            .take(10)
            .map(|k| {
                format!(
                    "cell {k:?}: drawn {:?}, PostGIS {:?}",
                    got.get(k),
                    want.get(k)
                )
            })
            .collect();
        panic!(
            "{}: heat cells differ from PostGIS's:\n{}",
            c.path,
            diff.join("\n")
        );
    }
    want.values().sum()
}

/// Areas: exactly the current areas of the zoom's level that intersect the buffered
/// envelope, less those whose part inside the buffered tile, snapped to the tile's integer
/// grid, has no area left (minqing clips, snaps and drops collapsed polygons: see
/// `minqing_tiles::simplify`); with their code, name, level, households and `generated`.
/// Returns how many were drawn, and those legitimately dropped.
async fn check_areas(db: &Client, c: &Case, feats: &[Value]) -> (usize, Vec<String>) {
    let level = level_for_zoom(u8::try_from(c.tile.z).unwrap()).as_str();
    let q = format!(
        "{ENVELOPES}, c AS (
           SELECT a.id, a.code, a.name, a.level, a.households, a.generated,
             ST_ClipByBox2D(
               ST_Scale(ST_Translate(ST_Transform(a.geom, 3857), -ST_XMin(m), -ST_YMax(m)),
                        $5::float8 / (ST_XMax(m) - ST_XMin(m)), -$5::float8 / (ST_YMax(m) - ST_YMin(m))),
               ST_MakeEnvelope(-$4::float8 * $5::float8, -$4::float8 * $5::float8,
                               $5::float8 * (1 + $4::float8), $5::float8 * (1 + $4::float8))::box2d) AS g
           FROM areas a, e
           WHERE a.valid_to IS NULL AND a.level = '{level}' AND ST_Intersects(a.geom, b))
         SELECT id, code, name, level, households, generated, ST_Area(g), ST_Area(ST_SnapToGrid(g, 1)) FROM c"
    );
    let rows = query(db, &q, &c.tile).await;
    let drawn: BTreeMap<i64, &Value> = feats.iter().map(|f| (int(&f["id"]), f)).collect();
    assert_eq!(drawn.len(), feats.len(), "{}: ids are unique", c.path);
    let mut want = BTreeSet::new();
    let mut dropped = Vec::new();
    for r in &rows {
        let id: i64 = r.get(0);
        let (area, snapped): (f64, f64) = (r.get(6), r.get(7));
        if snapped > 0.0 {
            want.insert(id);
            let f = drawn.get(&id).unwrap_or_else(|| {
                panic!(
                    "{}: area {id} ({area:.2} units² in the tile, {snapped} snapped) is missing",
                    c.path
                )
            });
            let p = &f["properties"];
            assert!(
                f["type"] == "Polygon" || f["type"] == "MultiPolygon",
                "{}: area {id}",
                c.path
            );
            assert_eq!(
                p["code"],
                r.get::<_, String>(1).as_str(),
                "{}: {id}",
                c.path
            );
            assert_eq!(
                p["name"],
                r.get::<_, String>(2).as_str(),
                "{}: {id}",
                c.path
            );
            assert_eq!(
                p["level"],
                r.get::<_, String>(3).as_str(),
                "{}: {id}",
                c.path
            );
            assert_eq!(
                int(&p["households"]),
                i64::from(r.get::<_, i32>(4)),
                "{}: {id}",
                c.path
            );
            assert_eq!(p["generated"], r.get::<_, bool>(5), "{}: {id}", c.path);
        } else {
            assert!(
                !drawn.contains_key(&id),
                "{}: area {id} is drawn, but its part in the tile ({area:.3} units²) snaps to nothing",
                c.path
            );
            dropped.push(format!("{} area {id}: {area:.3} units²", c.path));
        }
    }
    let extra: Vec<_> = drawn.keys().filter(|id| !want.contains(id)).collect();
    assert!(
        extra.is_empty(),
        "{}: areas drawn that are not current {level}s intersecting the buffered tile: {extra:?}",
        c.path
    );
    (drawn.len(), dropped)
}

/// Points on the demo region's outer edge: its westernmost, easternmost, southernmost and
/// northernmost district vertices.
async fn region_edges(db: &Client) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for order in ["ST_X(p)", "-ST_X(p)", "ST_Y(p)", "-ST_Y(p)"] {
        let r = db
            .query_one(
                &format!(
                    "SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_DumpPoints(geom)).geom AS p FROM areas
                     WHERE level = 'district' AND valid_to IS NULL) v ORDER BY {order} LIMIT 1"
                ),
                &[],
            )
            .await
            .unwrap();
        out.push((r.get(0), r.get(1)));
    }
    out
}

/// Places to draw tiles at: five pseudo-random events and the region's four extremes.
async fn places(db: &Client) -> Vec<(f64, f64)> {
    let mut out = sample_events(db, 5).await;
    out.extend(region_edges(db).await);
    out
}

/// Adds a case unless the same URL is already there.
fn push(cases: &mut Vec<Case>, layer: &'static str, t: Tile, query: &str, sql: String) {
    let path = t.path(layer, query);
    if cases.iter().any(|c| c.path == path) {
        return;
    }
    let name = path
        .trim_start_matches("/tiles/")
        .replace(['/', '?', '&', '=', ':'], "_");
    cases.push(Case {
        name,
        path,
        layer,
        tile: t,
        sql,
    });
}

// ---------------------------------------------------------------------------------------
// The tests.

#[tokio::test]
async fn tilejson_of_every_layer_validates_against_the_official_schema() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let dir = Scratch::new("tilejson");
    let (status, catalog) = s.get("/tiles").await;
    assert_eq!(status, 200);
    let mut docs = BTreeMap::new();
    let mut layers = Vec::new();
    for entry in catalog["tiles"].as_array().unwrap() {
        let id = entry["id"].as_str().unwrap().to_owned();
        assert!(
            entry["tilejson"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/tiles/{id}")),
            "{entry}"
        );
        // Areas and the registers' buildings and places take no filter (see
        // `areas_tilejson_with_a_filter_advertises_tiles_that_are_served`); coverage needs
        // its place type; patrols take a period.
        let queries: &[&str] = match id.as_str() {
            "areas" | "buildings" | "places" => &[""],
            "coverage" => &["?type=elder_canteen", "?type=school&within_m=500"],
            "patrols" => &["", "?from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z"],
            _ => &["", "?category=hazard&status=open"],
        };
        for query in queries {
            let (status, doc) = s.get(&format!("/tiles/{id}{query}")).await;
            assert_eq!(status, 200, "/tiles/{id}{query}: {doc}");
            assert_eq!(doc["tilejson"], "3.0.0");
            assert_eq!(doc["vector_layers"][0]["id"], id.as_str());
            let template = doc["tiles"][0].as_str().unwrap();
            assert!(
                template.contains(&format!("/tiles/{id}/{{z}}/{{x}}/{{y}}")),
                "{template}"
            );
            assert_template_serves(&s, &doc).await;
            docs.insert(format!("{id}{query}"), doc);
        }
        layers.push(id);
    }
    assert_eq!(
        layers,
        [
            "areas",
            "events",
            "heat",
            "buildings",
            "places",
            "coverage",
            "patrols"
        ]
    );

    // Broken copies must fail, so that a validator that accepts anything is noticed.
    let good = docs["events"].clone();
    let mut broken = BTreeMap::new();
    let mut no_tiles = good.clone();
    no_tiles.as_object_mut().unwrap().remove("tiles");
    broken.insert("broken: no tiles", no_tiles);
    let mut zoom = good.clone();
    zoom["maxzoom"] = json!(31);
    broken.insert("broken: maxzoom 31", zoom);
    let mut fields = good.clone();
    fields["vector_layers"][0]["fields"] = json!({"id": 1});
    broken.insert("broken: a field type that is not a string", fields);
    let mut version = good;
    version["tilejson"] = json!("three");
    broken.insert("broken: version", version);

    let mut files = BTreeMap::new();
    for (name, doc) in docs
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .chain(broken.iter().map(|(k, v)| (*k, v)))
    {
        let file = dir.0.join(format!("{}.json", files.len()));
        std::fs::write(&file, doc.to_string()).unwrap();
        files.insert(name.to_owned(), file);
    }
    let out = check(&files, &BTreeMap::new());
    eprintln!("TileJSON validated with {}", out["validator"]);
    for (name, errors) in out["tilejson"].as_object().unwrap() {
        if name.starts_with("broken") {
            assert_ne!(errors, &json!([]), "{name} passes the schema");
        } else {
            assert_eq!(
                errors,
                &json!([]),
                "TileJSON of {name} against the 3.0.0 schema"
            );
        }
    }
    assert_eq!(
        out["tilejson"].as_object().unwrap().len(),
        files.len(),
        "every document was validated"
    );
}

/// The TileJSON's tile URL template, filled in with a tile of the region, is served.
async fn assert_template_serves(s: &TestServer, doc: &Value) {
    let t = tile_of(CITY.0, CITY.1, 12);
    let url = doc["tiles"][0]
        .as_str()
        .unwrap()
        .replace("{z}", &t.z.to_string())
        .replace("{x}", &t.x.to_string())
        .replace("{y}", &t.y.to_string());
    let r = s.http.get(&url).send().await.unwrap();
    let status = r.status().as_u16();
    let body = r.text().await.unwrap_or_default();
    assert!(
        status == 200 || status == 204,
        "{}: the template gives {url} → {status} {body}",
        doc["name"]
    );
}

/// Areas tiles take no parameter, so a TileJSON asked for with one must either refuse it
/// (400, as the tiles do) or advertise tiles that are served.
#[tokio::test]
async fn areas_tilejson_with_a_filter_advertises_tiles_that_are_served() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let (status, doc) = s.get("/tiles/areas?status=all").await;
    if status == 200 {
        assert_template_serves(&s, &doc).await;
    } else {
        assert_eq!(status, 400, "{doc}");
    }
}

#[tokio::test]
async fn single_events_are_those_postgis_finds_in_the_buffered_tile() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let dir = Scratch::new("singles");
    let fields = announced_fields(&s).await;
    let mut cases = Vec::new();
    for (lon, lat) in places(&db).await {
        for z in [14, 15, 17] {
            push(
                &mut cases,
                "events",
                tile_of(lon, lat, z),
                "status=all",
                String::new(),
            );
        }
        let t = tile_of(lon, lat, 14);
        push(&mut cases, "events", t, "", format!("AND {OPEN_SQL}"));
        push(
            &mut cases,
            "events",
            t,
            "category=service.water&status=all",
            format!("AND {}", category_sql("service.water")),
        );
    }
    let t0 = now_us();
    let decoded = fetch_and_decode(&s, &cases, &dir.0).await;
    let t1 = now_us();
    let mut total = 0;
    let mut empty = 0;
    for c in &cases {
        assert!(c.tile.z >= i32::from(EVENTS_SINGLE_FROM_ZOOM));
        let feats = features(&decoded, &c.name, c.layer);
        check_common(&c.path, feats, &fields["events"]);
        for f in feats {
            for k in fields["events"].keys() {
                if k != "id" && !k.starts_with("count_") && k != "point_count" {
                    assert!(f["properties"].get(k).is_some(), "{}: no {k}", c.path);
                }
            }
        }
        let n = check_singles(&db, c, feats, t0, t1).await;
        total += n;
        empty += usize::from(n == 0);
    }
    eprintln!(
        "{} single-event tiles, {total} events checked, {empty} tiles empty",
        cases.len()
    );
    assert!(total > 100, "too few events checked: {total}");
}

#[tokio::test]
async fn clusters_and_heat_count_what_postgis_counts_cell_by_cell() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let dir = Scratch::new("clusters");
    let fields = announced_fields(&s).await;
    let hazard_open = format!("AND {} AND {OPEN_SQL}", category_sql("hazard"));
    let mut cases = Vec::new();
    for (lon, lat) in places(&db).await {
        for z in [5, 9, 11, 13] {
            push(
                &mut cases,
                "events",
                tile_of(lon, lat, z),
                "status=all",
                String::new(),
            );
        }
        for z in [9, 12] {
            let t = tile_of(lon, lat, z);
            push(
                &mut cases,
                "events",
                t,
                "category=hazard&status=open",
                hazard_open.clone(),
            );
            push(
                &mut cases,
                "heat",
                t,
                "category=hazard&status=open",
                hazard_open.clone(),
            );
        }
        // With a time window clusters are binned from the events, not from the pyramid.
        push(
            &mut cases,
            "events",
            tile_of(lon, lat, 12),
            "status=all&from=2026-03-01T00:00:00Z&to=2026-07-01T00:00:00Z",
            "AND reported_at >= '2026-03-01T00:00:00Z' AND reported_at < '2026-07-01T00:00:00Z'"
                .to_owned(),
        );
        // Heat from the pyramid (z ≤ 10) and binned (z > 10).
        for z in [7, 10, 12, 15] {
            push(
                &mut cases,
                "heat",
                tile_of(lon, lat, z),
                "status=all",
                String::new(),
            );
        }
        push(
            &mut cases,
            "heat",
            tile_of(lon, lat, 11),
            "",
            format!("AND {OPEN_SQL}"),
        );
    }
    let decoded = fetch_and_decode(&s, &cases, &dir.0).await;
    let mut counted: BTreeMap<&str, (usize, i64)> = BTreeMap::new();
    for c in &cases {
        let feats = features(&decoded, &c.name, c.layer);
        check_common(&c.path, feats, &fields[c.layer]);
        let n = if c.layer == "heat" {
            check_heat(&db, c, feats).await
        } else {
            assert!(c.tile.z < i32::from(EVENTS_SINGLE_FROM_ZOOM));
            check_clusters(&db, c, feats).await
        };
        let e = counted.entry(c.layer).or_default();
        e.0 += 1;
        e.1 += n;
    }
    eprintln!("tiles and events counted per layer: {counted:?}");
    assert!(counted.values().all(|(_, n)| *n > 1000), "{counted:?}");
}

#[tokio::test]
async fn areas_are_the_current_areas_of_the_zooms_level_postgis_finds() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let dir = Scratch::new("areas");
    let fields = announced_fields(&s).await;
    let mut cases = Vec::new();
    for (lon, lat) in places(&db).await {
        for z in 6..=16 {
            push(&mut cases, "areas", tile_of(lon, lat, z), "", String::new());
        }
    }
    let decoded = fetch_and_decode(&s, &cases, &dir.0).await;
    let (mut drawn, mut dropped) = (0, Vec::new());
    for c in &cases {
        let feats = features(&decoded, &c.name, c.layer);
        check_common(&c.path, feats, &fields["areas"]);
        for f in feats {
            for k in fields["areas"].keys() {
                if k != "id" {
                    assert!(f["properties"].get(k).is_some(), "{}: no {k}", c.path);
                }
            }
        }
        let (d, x) = check_areas(&db, c, feats).await;
        assert!(d > 0, "{}: no areas", c.path);
        drawn += d;
        dropped.extend(x);
    }
    eprintln!(
        "{} areas tiles: {drawn} areas drawn; {} intersecting the buffered tile but collapsed to nothing:\n{}",
        cases.len(),
        dropped.len(),
        dropped.join("\n")
    );
}

#[tokio::test]
async fn decoded_tiles_match_snapshots() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let dir = Scratch::new("snapshots");
    let (lon, lat) = CITY;
    let mut cases = Vec::new();
    push(
        &mut cases,
        "areas",
        tile_of(lon, lat, 10),
        "",
        String::new(),
    );
    push(
        &mut cases,
        "events",
        tile_of(lon, lat, 11),
        "status=all",
        String::new(),
    );
    push(
        &mut cases,
        "heat",
        tile_of(lon, lat, 12),
        "status=all",
        String::new(),
    );
    push(
        &mut cases,
        "events",
        tile_of(lon, lat, 15),
        "status=all",
        String::new(),
    );
    let t0 = now_us();
    let decoded = fetch_and_decode(&s, &cases, &dir.0).await;
    let t1 = now_us();
    let mut failures = Vec::new();
    for c in &cases {
        // The snapshot tiles are themselves checked against PostGIS.
        let feats = features(&decoded, &c.name, c.layer);
        assert!(!feats.is_empty(), "{}: empty", c.path);
        match (c.layer, c.tile.z >= i32::from(EVENTS_SINGLE_FROM_ZOOM)) {
            ("areas", _) => drop(check_areas(&db, c, feats).await),
            ("heat", _) => drop(check_heat(&db, c, feats).await),
            (_, true) => drop(check_singles(&db, c, feats, t0, t1).await),
            (_, false) => drop(check_clusters(&db, c, feats).await),
        }
        let text = snapshot_text(&c.path, &decoded["tiles"][&c.name]);
        if let Err(e) = compare_snapshot(&c.name, &text) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------------------
// Snapshots.

/// Properties left out of snapshots because they follow the clock (or live case counts).
fn time_dependent(layer: &str, key: &str) -> bool {
    match layer {
        "events" => matches!(key, "age_days" | "overdue"),
        "areas" => matches!(key, "open" | "overdue"),
        _ => false,
    }
}

/// A decoded tile as canonical JSON: layers by name, features sorted (by id, then
/// geometry, then properties), properties sorted, time-dependent ones left out; one feature
/// per line so that a difference shows feature by feature.
fn snapshot_text(path: &str, tile: &Value) -> String {
    let mut out = format!("{{\n  \"tile\": {},\n  \"layers\": {{", json!(path));
    let layers = tile.as_object().unwrap();
    for (i, (name, layer)) in layers.iter().enumerate() {
        let mut feats: Vec<(i64, String, String, Value)> = layer["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let props: BTreeMap<&String, &Value> = f["properties"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(k, _)| !time_dependent(name, k))
                    .collect();
                let v = json!({"id": f["id"], "type": f["type"], "properties": props, "geometry": f["geometry"]});
                (
                    f["id"].as_i64().unwrap_or(-1),
                    f["geometry"].to_string(),
                    json!(props).to_string(),
                    v,
                )
            })
            .collect();
        feats.sort_by(|a, b| (a.0, &a.1, &a.2).cmp(&(b.0, &b.1, &b.2)));
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&format!(
            "    {}: {{\n      \"extent\": {},\n      \"features\": [",
            json!(name),
            layer["extent"]
        ));
        for (j, (.., f)) in feats.iter().enumerate() {
            out.push_str(if j == 0 { "\n        " } else { ",\n        " });
            out.push_str(&f.to_string());
        }
        out.push_str("\n      ]\n    }");
    }
    out.push_str("\n  }\n}\n");
    let _: Value = serde_json::from_str(&out).expect("a snapshot is JSON");
    out
}

/// Compares with `tests/snapshots/{name}.json`; writes it when missing or when
/// `UPDATE_SNAPSHOTS` is set. On a difference, says which lines (features) differ.
fn compare_snapshot(name: &str, text: &str) -> Result<(), String> {
    let file = root().join(format!("tests/snapshots/{name}.json"));
    let update = std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| !v.is_empty() && v != "0");
    if update || !file.exists() {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
        eprintln!("snapshot written: {}", file.display());
        return Ok(());
    }
    let want = std::fs::read_to_string(&file).unwrap();
    // Compared as JSON values (key order aside); the text serves the diff.
    let parsed: Value = serde_json::from_str(&want)
        .unwrap_or_else(|e| panic!("tests/snapshots/{name}.json is not JSON: {e}"));
    if parsed == serde_json::from_str::<Value>(text).unwrap() {
        return Ok(());
    }
    let (a, b): (Vec<&str>, Vec<&str>) = (want.lines().collect(), text.lines().collect());
    let only = |x: &[&str], y: &[&str], sign: char| -> Vec<String> {
        let mut left: BTreeMap<&str, usize> = BTreeMap::new();
        for l in y {
            *left.entry(l).or_default() += 1;
        }
        x.iter()
            .enumerate()
            .filter(|(_, l)| match left.get_mut(*l) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            })
            .map(|(i, l)| {
                let short: String = l.trim().chars().take(300).collect();
                let more = if l.trim().chars().count() > 300 {
                    " …"
                } else {
                    ""
                };
                format!("{sign} line {:>5}: {short}{more}", i + 1)
            })
            .collect()
    };
    let (removed, added) = (only(&a, &b, '-'), only(&b, &a, '+'));
    let shown: Vec<&String> = removed
        .iter()
        .take(12)
        .chain(added.iter().take(12))
        .collect();
    Err(format!(
        "tile {name} differs from tests/snapshots/{name}.json: {} lines only in the snapshot (-), {} only in the tile (+){}; \
         run with UPDATE_SNAPSHOTS=1 if the change is intended\n{}",
        removed.len(),
        added.len(),
        if removed.len() > 12 || added.len() > 12 {
            ", first 12 of each"
        } else {
            ""
        },
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    ))
}

/// The west edge longitude of (fractional) column `x` at zoom `z`: exact in `f64` here (a
/// dyadic fraction of 360°).
fn edge_lon(z: i32, x: f64) -> f64 {
    x / f64::from(1 << z) * 360.0 - 180.0
}

/// The north edge latitude of (fractional) row `y` at zoom `z`, by the usual `f64` formula.
fn edge_lat(z: i32, y: f64) -> f64 {
    (std::f64::consts::PI * (1.0 - 2.0 * y / f64::from(1 << z)))
        .sinh()
        .atan()
        .to_degrees()
}

/// PostGIS's envelope of a tile in lon/lat: `[west, south, east, north]`.
async fn pg_envelope(db: &Client, t: Tile, margin: f64) -> [f64; 4] {
    let r = db
        .query_one(
            "SELECT ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g) FROM
             (SELECT ST_Transform(ST_TileEnvelope($1::int, $2::int, $3::int, margin => $4::float8), 4326) AS g) e",
            &[&t.z, &t.x, &t.y, &margin],
        )
        .await
        .unwrap();
    [r.get(0), r.get(1), r.get(2), r.get(3)]
}

/// Events exactly on tile edges and a hair off them (1e-9°, about 0.1 mm), placed on the
/// edges as three parties compute them: exact longitudes (dyadic fractions of 360°, exact in
/// `f64`), PostGIS's lon/lat envelope, and the usual `f64` latitude formula. Each is counted
/// by clusters (from the pyramid and binned) and heat of exactly one tile — the one the
/// half-open rule `[west, east) × (south, north]` names, decided exactly (rationals and
/// 60-digit arithmetic in `check.py`) — and drawn as a single event by exactly the tiles
/// whose closed buffered box holds it.
///
/// PostGIS is not the arbiter here: its `ST_Transform(ST_TileEnvelope(..), 4326)` edges are
/// a few ulps (up to ~1e-14°) off the exact ones, so for points within that distance of an
/// edge PostGIS's lon/lat comparisons can disagree with the exact answer. The test checks
/// that this is the only way PostGIS disagrees, and prints those points.
#[tokio::test]
async fn events_on_tile_edges_are_counted_by_the_tile_the_rule_names() {
    let url = demo_db().await;
    let db = sql(&url).await;
    let (lon, lat) = sample_events(&db, 1).await[0];
    let c = tile_of(lon, lat, 12);
    let s15 = tile_of(lon, lat, 15);
    let pad = BUFFER / EXTENT;
    // Candidate edge coordinates of the two boxes: C's own box and S's buffered box.
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for (t, p) in [(c, 0.0), (s15, pad)] {
        let pg = pg_envelope(&db, t, p).await;
        let (x0, x1) = (f64::from(t.x) - p, f64::from(t.x + 1) + p);
        let (y0, y1) = (f64::from(t.y) - p, f64::from(t.y + 1) + p);
        for x in [edge_lon(t.z, x0), edge_lon(t.z, x1), pg[0], pg[2]] {
            xs.extend([x, x - 1e-9, x + 1e-9]);
        }
        for y in [edge_lat(t.z, y0), edge_lat(t.z, y1), pg[1], pg[3]] {
            ys.extend([y, y - 1e-9, y + 1e-9]);
        }
        xs.push(f64::midpoint(pg[0], pg[2]));
        ys.push(f64::midpoint(pg[1], pg[3]));
    }
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    ys.sort_by(f64::total_cmp);
    ys.dedup();
    let points: Vec<[f64; 2]> = xs
        .iter()
        .flat_map(|x| ys.iter().map(move |y| [*x, *y]))
        .collect();
    // Each point in a category of its own, so that a cluster's `count_<category>` says which
    // points it holds.
    let mut index_of_id = BTreeMap::new();
    for (i, p) in points.iter().enumerate() {
        let id: i64 = db
            .query_one(
                "INSERT INTO events (category, title, status, geom)
                 VALUES ($1, 'on an edge', 'reported', ST_SetSRID(ST_MakePoint($2, $3), 4326)) RETURNING id",
                &[&format!("edgept{i}"), &p[0], &p[1]],
            )
            .await
            .unwrap()
            .get(0);
        index_of_id.insert(id, i);
    }

    let s = TestServer::start(&url).await;
    let dir = Scratch::new("edges");
    let mut cases = Vec::new();
    let mut block = Vec::new();
    for dy in -1..=1 {
        for dx in -1..=1 {
            block.push((c.offset(dx, dy), s15.offset(dx, dy)));
        }
    }
    for (t12, t15) in &block {
        push(&mut cases, "events", *t12, "status=all", String::new());
        push(
            &mut cases,
            "events",
            *t12,
            "status=all&from=2000-01-01T00:00:00Z",
            String::new(),
        );
        push(&mut cases, "heat", *t12, "status=all", String::new());
        push(&mut cases, "events", *t15, "status=all", String::new());
    }
    let tiles: Vec<Tile> = block.iter().flat_map(|(a, b)| [*a, *b]).collect();
    let exact = json!({
        "points": points,
        "tiles": tiles.iter().map(|t| [t.z, t.x, t.y]).collect::<Vec<_>>(),
        "pad": pad,
        "near": NEAR,
    });
    let decoded = fetch_and_decode_exact(&s, &cases, &dir.0, Some(exact)).await;
    let truth: BTreeMap<Tile, Exact> = tiles
        .iter()
        .zip(decoded["exact"].as_array().unwrap())
        .map(|(t, e)| {
            let set = |k: &str| -> BTreeSet<usize> {
                e[k].as_array()
                    .unwrap()
                    .iter()
                    .map(|v| usize::try_from(v.as_u64().unwrap()).unwrap())
                    .collect()
            };
            let exact = Exact {
                owned: set("owned"),
                owned_ambiguous: set("owned_ambiguous"),
                buffered: set("buffered"),
                buffered_ambiguous: set("buffered_ambiguous"),
            };
            (*t, exact)
        })
        .collect();
    let show =
        |set: &BTreeSet<usize>| -> Vec<[f64; 2]> { set.iter().map(|i| points[*i]).collect() };
    // What minqing decided differently from the exact rule (only ever for ambiguous points).
    let mut rounded = Vec::new();

    // Clusters and heat: the points the tile owns, each point counted by one tile only.
    let mut owners: BTreeMap<usize, Vec<Tile>> = BTreeMap::new();
    for cs in cases.iter().filter(|cs| cs.tile.z == c.z) {
        let feats = features(&decoded, &cs.name, cs.layer);
        if cs.layer == "heat" {
            let weight: i64 = feats.iter().map(|f| int(&f["properties"]["weight"])).sum();
            let twin = cases
                .iter()
                .find(|o| {
                    o.tile == cs.tile && o.layer == "events" && o.path.ends_with("?status=all")
                })
                .unwrap();
            let clustered: i64 = features(&decoded, &twin.name, "events")
                .iter()
                .map(|f| int(&f["properties"]["point_count"]))
                .sum();
            assert_eq!(
                weight, clustered,
                "{}: heat counts what clusters count",
                cs.path
            );
            continue;
        }
        let mut got = BTreeSet::new();
        for f in feats {
            for (k, v) in f["properties"].as_object().unwrap() {
                if let Some(i) = k.strip_prefix("count_edgept") {
                    assert_eq!(int(v), 1, "{}: {k}", cs.path);
                    got.insert(i.parse::<usize>().unwrap());
                }
            }
        }
        let x = &truth[&cs.tile];
        let missing: BTreeSet<usize> = x.owned.difference(&got).copied().collect();
        let extra: BTreeSet<usize> = got.difference(&x.owned).copied().collect();
        assert!(
            missing.is_subset(&x.owned_ambiguous) && extra.is_subset(&x.owned_ambiguous),
            "{}: edge points counted wrongly: missing {:?}, extra {:?}",
            cs.path,
            show(&missing.difference(&x.owned_ambiguous).copied().collect()),
            show(&extra.difference(&x.owned_ambiguous).copied().collect())
        );
        for i in missing.iter().chain(&extra) {
            rounded.push(format!(
                "{} {:?}: counted {}",
                cs.path,
                points[*i],
                extra.contains(i)
            ));
        }
        if !cs.path.contains("from=") {
            for i in got {
                owners.entry(i).or_default().push(cs.tile);
            }
        }
    }
    assert_eq!(
        owners.len(),
        points.len(),
        "every point is counted at zoom {}",
        c.z
    );
    let twice: Vec<_> = owners.iter().filter(|(_, o)| o.len() > 1).collect();
    assert!(twice.is_empty(), "points counted by two tiles: {twice:?}");

    // Single events: the points inside the closed buffered box.
    let mut drawn = 0;
    for cs in cases.iter().filter(|cs| cs.tile.z == s15.z) {
        let got: BTreeSet<usize> = features(&decoded, &cs.name, "events")
            .iter()
            .filter_map(|f| index_of_id.get(&int(&f["id"])).copied())
            .collect();
        let x = &truth[&cs.tile];
        let differ: BTreeSet<usize> = got.symmetric_difference(&x.buffered).copied().collect();
        assert!(
            differ.is_subset(&x.buffered_ambiguous),
            "{}: edge points drawn wrongly: {:?}",
            cs.path,
            show(&differ.difference(&x.buffered_ambiguous).copied().collect())
        );
        for i in &differ {
            rounded.push(format!(
                "{} {:?}: drawn {}",
                cs.path,
                points[*i],
                got.contains(i)
            ));
        }
        drawn += got.len();
    }

    // PostGIS, with its lon/lat envelopes, differs from the exact rule only on ambiguous
    // points too.
    let mut pg_differs = Vec::new();
    for t in &tiles {
        let x = &truth[t];
        let (cond, want, ambiguous) = if t.z == c.z {
            (OWNED, &x.owned, &x.owned_ambiguous)
        } else {
            ("ST_Intersects(geom, b)", &x.buffered, &x.buffered_ambiguous)
        };
        let q = format!(
            "{ENVELOPES} SELECT id FROM events, e WHERE title = 'on an edge' AND {cond} AND $5::float8 > 0"
        );
        let pg: BTreeSet<usize> = query(&db, &q, t)
            .await
            .iter()
            .map(|r| index_of_id[&r.get::<_, i64>(0)])
            .collect();
        let differ: BTreeSet<usize> = pg.symmetric_difference(want).copied().collect();
        assert!(
            differ.is_subset(ambiguous),
            "tile {t:?}: PostGIS differs from the exact rule on {:?}",
            show(&differ.difference(ambiguous).copied().collect())
        );
        for i in &differ {
            pg_differs.push(format!(
                "{}/{}/{} {:?}: PostGIS {}",
                t.z,
                t.x,
                t.y,
                points[*i],
                pg.contains(i)
            ));
        }
    }
    let ambiguous: BTreeSet<usize> = truth
        .values()
        .flat_map(|x| x.owned_ambiguous.iter().chain(&x.buffered_ambiguous))
        .copied()
        .collect();
    let first = |v: &[String]| v.iter().take(4).cloned().collect::<Vec<_>>().join("\n  ");
    eprintln!(
        "{} edge points ({} a hair off an edge); {drawn} drawn as single events\n\
         minqing decides {} hair-off cases the other way than the exact rule, e.g.\n  {}\n\
         PostGIS's lon/lat envelopes decide {} hair-off cases the other way, e.g.\n  {}",
        points.len(),
        ambiguous.len(),
        rounded.len(),
        first(&rounded),
        pg_differs.len(),
        first(&pg_differs)
    );
}

/// Which points a tile holds, decided exactly by `check.py`.
struct Exact {
    owned: BTreeSet<usize>,
    owned_ambiguous: BTreeSet<usize>,
    buffered: BTreeSet<usize>,
    buffered_ambiguous: BTreeSet<usize>,
}
