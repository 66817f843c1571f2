//! Tiles checked by tools minqing shares no code with: Mapbox's Python MVT decoder
//! (`mapbox-vector-tile`) reads them and the official TileJSON 3.0.0 JSON schema validates
//! the TileJSON (both via `tests/py/check.py`), and PostGIS answers what each tile must hold:
//! `ST_TileEnvelope` bounds, `ST_Intersects`, counts. Plus snapshots of a few decoded tiles.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{TestServer, demo_db, sample_events, sql};
use serde_json::{Value, json};

const EXTENT: f64 = 4096.0;
const BUFFER: f64 = 64.0;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv of `scripts/py-env.sh`, made once (under a lock: tests run as parallel processes).
fn python() -> PathBuf {
    let lock = std::fs::File::create(root().join("target/py-env.lock")).unwrap();
    lock.lock().unwrap();
    let st = Command::new(root().join("scripts/py-env.sh"))
        .status()
        .unwrap();
    assert!(st.success(), "scripts/py-env.sh failed");
    lock.unlock().unwrap();
    root().join("target/py/bin/python")
}

/// Runs `tests/py/check.py` on files; returns its JSON answer.
fn check(tilejson: &BTreeMap<String, PathBuf>, tiles: &BTreeMap<String, PathBuf>) -> Value {
    let manifest = json!({
        "schema": root().join("tests/py/tilejson-3.0.0.schema.json"),
        "tilejson": tilejson,
        "tiles": tiles,
    });
    let mut child = Command::new(python())
        .arg(root().join("tests/py/check.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    serde_json::to_writer(child.stdin.take().unwrap(), &manifest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "check.py failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

struct Tile {
    z: i32,
    x: i32,
    y: i32,
}

/// The tile holding a point (the usual slippy-map formula, computed here in Rust apart from
/// minqing's own tile code).
fn tile_of(lon: f64, lat: f64, z: i32) -> Tile {
    let n = f64::from(1 << z);
    let r = lat.to_radians();
    Tile {
        z,
        x: ((lon + 180.0) / 360.0 * n).floor() as i32,
        y: ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as i32,
    }
}

/// PostGIS: the tile's envelope in lon/lat, with or without the buffer.
const ENVELOPE: &str =
    "ST_Transform(ST_TileEnvelope($1::int, $2::int, $3::int, margin => $4::float8), 4326)";

async fn buffered_ids(db: &tokio_postgres::Client, sql_where: &str, t: &Tile) -> BTreeSet<i64> {
    let q = format!("SELECT id FROM events WHERE ST_Intersects(geom, {ENVELOPE}) {sql_where}");
    db.query(&q, &[&t.z, &t.x, &t.y, &(BUFFER / EXTENT)])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Events the tile owns: [west, east) × (south, north], as clusters and heat count them.
async fn owned_count(db: &tokio_postgres::Client, sql_where: &str, t: &Tile) -> i64 {
    let q = format!(
        "WITH e AS (SELECT {ENVELOPE} AS g)
         SELECT count(*) FROM events, e
         WHERE ST_X(geom) >= ST_XMin(g) AND ST_X(geom) < ST_XMax(g)
           AND ST_Y(geom) > ST_YMin(g) AND ST_Y(geom) <= ST_YMax(g) {sql_where}"
    );
    db.query_one(&q, &[&t.z, &t.x, &t.y, &0.0f64])
        .await
        .unwrap()
        .get(0)
}

fn level_for_zoom(z: i32) -> &'static str {
    match z {
        0..=8 => "district",
        9..=10 => "street",
        11..=12 => "community",
        _ => "grid",
    }
}

/// Fetches a tile twice (plain and gzip), checks both carry the same tile, saves it.
async fn fetch(s: &TestServer, path: &str, dir: &Path, name: &str) -> PathBuf {
    let plain = s.http.get(s.url(path)).send().await.unwrap();
    let status = plain.status().as_u16();
    let raw = plain.bytes().await.unwrap();
    // An empty tile is 204 No Content.
    assert!(
        status == 200 || (status == 204 && raw.is_empty()),
        "{path}: {status}"
    );
    if status == 200 {
        let gz = s
            .http
            .get(s.url(path))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
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

fn features<'a>(decoded: &'a Value, name: &str, layer: &str) -> &'a [Value] {
    decoded["tiles"][name][layer]["features"]
        .as_array()
        .map_or(&[], Vec::as_slice)
}

fn count(v: &Value) -> i64 {
    v.as_i64().expect("an integer count")
}

#[tokio::test]
async fn tiles_match_postgis_through_an_independent_decoder() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    let dir = tempdir();

    // TileJSON of every layer in the catalog, against the official schema.
    let (status, catalog) = s.get("/tiles").await;
    assert_eq!(status, 200);
    let mut tilejson = BTreeMap::new();
    let mut fields: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for entry in catalog["tiles"].as_array().unwrap() {
        let id = entry["id"].as_str().unwrap().to_owned();
        let (status, doc) = s.get(&format!("/tiles/{id}")).await;
        assert_eq!(status, 200);
        let f = &doc["vector_layers"][0]["fields"];
        fields.insert(
            id.clone(),
            f.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect(),
        );
        let file = dir.join(format!("{id}.tilejson"));
        std::fs::write(&file, doc.to_string()).unwrap();
        tilejson.insert(id, file);
    }
    assert_eq!(tilejson.len(), 3);

    // Tiles where the events are (5 pseudo-random events), and on the city's western edge.
    let mut places = sample_events(&db, 5).await;
    let edge = db
        .query_one(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointN(ST_ExteriorRing((ST_Dump(geom)).geom), 1) p FROM areas WHERE level = 'grid' ORDER BY ST_XMin(geom) LIMIT 1) x",
            &[],
        )
        .await
        .unwrap();
    places.push((edge.get(0), edge.get(1)));

    // (name, path, layer, tile, SQL filter for PostGIS)
    let mut cases: Vec<(String, String, &str, Tile, &str)> = Vec::new();
    for (i, (lon, lat)) in places.iter().enumerate() {
        for z in [15, 17] {
            let t = tile_of(*lon, *lat, z);
            cases.push((
                format!("ev{i}z{z}"),
                format!("/tiles/events/{}/{}/{}?status=all", t.z, t.x, t.y),
                "events",
                t,
                "",
            ));
        }
        for z in [9, 12] {
            let t = tile_of(*lon, *lat, z);
            cases.push((
                format!("cl{i}z{z}"),
                format!("/tiles/events/{}/{}/{}?status=all", t.z, t.x, t.y),
                "events",
                t,
                "",
            ));
            let t = tile_of(*lon, *lat, z);
            cases.push((
                format!("clf{i}z{z}"),
                format!(
                    "/tiles/events/{}/{}/{}?category=hazard&status=open",
                    t.z, t.x, t.y
                ),
                "events",
                t,
                "AND category LIKE 'hazard.%' AND status NOT IN ('resolved', 'closed', 'rejected')",
            ));
        }
        for z in [8, 12] {
            let t = tile_of(*lon, *lat, z);
            cases.push((
                format!("heat{i}z{z}"),
                format!("/tiles/heat/{}/{}/{}?status=all", t.z, t.x, t.y),
                "heat",
                t,
                "",
            ));
        }
        for z in [7, 10, 12, 14] {
            let t = tile_of(*lon, *lat, z);
            cases.push((
                format!("ar{i}z{z}"),
                format!("/tiles/areas/{}/{}/{}", t.z, t.x, t.y),
                "areas",
                t,
                "",
            ));
        }
    }
    let mut files = BTreeMap::new();
    for (name, path, ..) in &cases {
        files.insert(name.clone(), fetch(&s, path, &dir, name).await);
    }
    let decoded = check(&tilejson, &files);
    for (name, errors) in decoded["tilejson"].as_object().unwrap() {
        assert_eq!(
            errors,
            &json!([]),
            "TileJSON of {name} against the 3.0.0 schema"
        );
    }

    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (name, path, layer, t, filter) in &cases {
        let feats = features(&decoded, name, layer);
        let kind: String = name
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        *seen.entry(kind).or_default() += feats.len();
        let layer_fields = &fields[*layer];
        for f in feats {
            // Geometry inside the buffered extent; properties typed as TileJSON says.
            let b: Vec<f64> = f["bounds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            assert!(
                b[0] >= -BUFFER
                    && b[1] >= -BUFFER
                    && b[2] <= EXTENT + BUFFER
                    && b[3] <= EXTENT + BUFFER,
                "{path}: {b:?}"
            );
            for (k, v) in f["properties"].as_object().unwrap() {
                let key = if k.starts_with("count_") {
                    "count_<category>"
                } else {
                    k.as_str()
                };
                let ty = layer_fields
                    .get(key)
                    .unwrap_or_else(|| panic!("{path}: {k} is not announced in TileJSON"));
                let ok = if ty.starts_with("Number") {
                    v.is_number()
                } else if ty.starts_with("String") {
                    v.is_string()
                } else if ty.starts_with("Boolean") {
                    v.is_boolean()
                } else {
                    false
                };
                assert!(ok, "{path}: {k} = {v} is not a {ty}");
            }
        }
        match (*layer, name.as_str()) {
            ("events", n) if n.starts_with("ev") => {
                let got: BTreeSet<i64> = feats.iter().map(|f| f["id"].as_i64().unwrap()).collect();
                assert!(feats.iter().all(|f| f["type"] == "Point"));
                assert_eq!(
                    got,
                    buffered_ids(&db, filter, t).await,
                    "{path}: the events intersecting the buffered tile"
                );
            }
            ("events", _) => {
                let total: i64 = feats
                    .iter()
                    .map(|f| count(&f["properties"]["point_count"]))
                    .sum();
                for f in feats {
                    let per_category: i64 = f["properties"]
                        .as_object()
                        .unwrap()
                        .iter()
                        .filter(|(k, _)| k.starts_with("count_"))
                        .map(|(_, v)| count(v))
                        .sum();
                    assert_eq!(
                        per_category,
                        count(&f["properties"]["point_count"]),
                        "{path}"
                    );
                }
                assert_eq!(
                    total,
                    owned_count(&db, filter, t).await,
                    "{path}: cluster counts add up to PostGIS's"
                );
            }
            ("heat", _) => {
                let total: i64 = feats
                    .iter()
                    .map(|f| count(&f["properties"]["weight"]))
                    .sum();
                assert_eq!(
                    total,
                    owned_count(&db, filter, t).await,
                    "{path}: heat weights add up to PostGIS's"
                );
            }
            _ => {
                let got: BTreeSet<i64> = feats.iter().map(|f| f["id"].as_i64().unwrap()).collect();
                assert!(
                    feats
                        .iter()
                        .all(|f| f["type"] == "Polygon" || f["type"] == "MultiPolygon")
                );
                assert!(
                    feats
                        .iter()
                        .all(|f| f["properties"]["level"] == level_for_zoom(t.z)),
                    "{path}"
                );
                // Areas meeting the buffered tile, less those whose part in it is too small
                // to draw (under one tile unit²; minqing drops what simplifies to nothing).
                let rows = db
                    .query(
                        &format!(
                            "WITH e AS (SELECT {ENVELOPE} AS g)
                             SELECT id, ST_Area(ST_Transform(ST_Intersection(geom, g), 3857)) / (ST_Area(ST_TileEnvelope($1::int, $2::int, $3::int)) / {EXTENT}^2)
                             FROM areas, e WHERE valid_to IS NULL AND level = $5 AND ST_Intersects(geom, g)"
                        ),
                        &[&t.z, &t.x, &t.y, &(BUFFER / EXTENT), &level_for_zoom(t.z)],
                    )
                    .await
                    .unwrap();
                let want: BTreeSet<i64> = rows.iter().map(|r| r.get(0)).collect();
                assert!(
                    got.is_subset(&want),
                    "{path}: {:?} drawn but not in PostGIS",
                    got.difference(&want)
                );
                for r in &rows {
                    let (id, units): (i64, f64) = (r.get(0), r.get(1));
                    assert!(
                        got.contains(&id) || units < 1.0,
                        "{path}: area {id} ({units:.1} units²) missing"
                    );
                }
                assert!(!got.is_empty(), "{path}");
            }
        }
    }

    // Every kind of tile was checked with something in it.
    for kind in ["ev", "cl", "clf", "heat", "ar"] {
        assert!(
            seen.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} features: {seen:?}"
        );
    }
    eprintln!("features checked per kind of tile: {seen:?}");

    // Snapshots of a few decoded tiles (time-dependent properties left out).
    for name in ["ar0z10", "cl0z12", "heat0z12", "ev0z15"] {
        compare_snapshot(name, canonical(&decoded["tiles"][name]));
    }
}

/// A decoded tile with features sorted and time-dependent properties removed.
fn canonical(tile: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for (layer, l) in tile.as_object().unwrap() {
        let mut feats: Vec<Value> = l["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let mut props: BTreeMap<String, Value> = f["properties"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                for k in ["age_days", "overdue", "open"] {
                    props.remove(k);
                }
                json!({"id": f["id"], "type": f["type"], "geometry": f["geometry"], "properties": props})
            })
            .collect();
        feats.sort_by_key(|f| (f["id"].as_i64().unwrap_or(-1), f["geometry"].to_string()));
        out.insert(
            layer.clone(),
            json!({"extent": l["extent"], "features": feats}),
        );
    }
    Value::Object(out)
}

fn compare_snapshot(name: &str, got: Value) {
    let file = root().join(format!("tests/snapshots/{name}.json"));
    let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
    if std::env::var("UPDATE_SNAPSHOTS").is_ok() || !file.exists() {
        std::fs::write(&file, &text).unwrap();
        eprintln!("snapshot written: {}", file.display());
        return;
    }
    let want = std::fs::read_to_string(&file).unwrap();
    if want != text {
        let diff: Vec<String> = want
            .lines()
            .zip(text.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(10)
            .map(|(i, (a, b))| format!("line {}: want {a} / got {b}", i + 1))
            .collect();
        panic!(
            "tile {name} differs from tests/snapshots/{name}.json ({} vs {} lines; set UPDATE_SNAPSHOTS=1 if intended):\n{}",
            want.lines().count(),
            text.lines().count(),
            diff.join("\n")
        );
    }
}

fn tempdir() -> PathBuf {
    let d = root().join(format!(
        "target/test-files/tiles-independent-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}
