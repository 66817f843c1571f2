//! Vector tiles over HTTP, decoded and checked against PostGIS on the same data.
// Test code: a failed expectation is the test failing, and a scenario reads best as one
// function from setup to assertion.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use common::{TestServer, count, demo_db, prop, sql};
use minqing_tiles::{TileId, Value, decode};

/// Events PostGIS finds in the part of the world a tile owns: [west, east) × (south, north].
async fn owned(db: &tokio_postgres::Client, t: TileId) -> i64 {
    let b = t.bounds();
    db.query_one(
        "SELECT count(*) FROM events WHERE ST_X(geom) >= $1 AND ST_X(geom) < $3 AND ST_Y(geom) > $2 AND ST_Y(geom) <= $4",
        &[&b.west, &b.south, &b.east, &b.north],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn catalog_tilejson_and_errors() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let (status, cat) = s.get("/tiles").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = cat["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
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
    let (status, tj) = s.get("/tiles/events?status=all").await;
    assert_eq!(status, 200);
    assert_eq!(tj["tilejson"], "3.0.0");
    assert!(
        tj["tiles"][0]
            .as_str()
            .unwrap()
            .ends_with("/tiles/events/{z}/{x}/{y}?status=all")
    );
    let b: Vec<f64> = tj["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    // Shanwei, islands of 陆丰 included.
    assert!(
        b[0] > 114.5 && b[2] < 117.5 && b[1] > 20.0 && b[3] < 24.0,
        "{b:?}"
    );
    assert_eq!(tj["vector_layers"][0]["id"], "events");
    for bad in [
        "/tiles/events/1/2/9",
        "/tiles/events/a/0/0",
        "/tiles/events/30/0/0",
        "/tiles/events/3/1/1?status=done",
    ] {
        assert_eq!(s.get(bad).await.0, 400, "{bad}");
    }
    assert_eq!(s.get("/tiles/unicorns").await.0, 404);
}

#[tokio::test]
async fn areas_tile_holds_the_grids_there() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let t = TileId::containing(115.37, 22.79, 14);
    let (status, layers) = s
        .tile(&format!("/tiles/areas/{}/{}/{}", t.z, t.x, t.y))
        .await;
    assert_eq!(status, 200);
    let areas = &layers[0];
    assert_eq!(areas.name, "areas");
    let here = s.get("/api/v1/locate?lon=115.37&lat=22.79").await.1["grid"]["id"]
        .as_u64()
        .unwrap();
    assert!(areas.features.iter().any(|f| f.id == Some(here)));
    for f in &areas.features {
        assert!(matches!(prop(f, "level"), Some(Value::String(l)) if l == "grid"));
        for ring in &f.geometry {
            assert!(
                ring.iter()
                    .all(|p| (-64..=4160).contains(&p[0]) && (-64..=4160).contains(&p[1]))
            );
        }
    }
    // Exactly the grids whose bounding box meets the buffered tile, as PostGIS finds them.
    let bb = t.buffered_bounds(4096, 64);
    let want: i64 = sql(&url)
        .await
        .query_one(
            "SELECT count(*) FROM areas WHERE level = 'grid' AND geom && ST_MakeEnvelope($1, $2, $3, $4, 4326)
             AND ST_Intersects(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))",
            &[&bb.west, &bb.south, &bb.east, &bb.north],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(areas.features.len() as i64, want);
}

#[tokio::test]
async fn cluster_counts_equal_postgis_and_single_events_appear_live() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let db = sql(&url).await;
    for z in [8u8, 10, 12] {
        let t = TileId::containing(115.37, 22.79, z);
        let (status, layers) = s
            .tile(&format!("/tiles/events/{}/{}/{}?status=all", t.z, t.x, t.y))
            .await;
        assert_eq!(status, 200);
        let mut total = 0;
        for f in &layers[0].features {
            let n = count(prop(f, "point_count"));
            let per_category: u64 = f
                .properties
                .iter()
                .filter(|(k, _)| k.starts_with("count_"))
                .map(|(_, v)| count(Some(v)))
                .sum();
            assert_eq!(per_category, n, "category counts add up in each cluster");
            total += n;
        }
        let want = owned(&db, t).await;
        assert_eq!(
            total as i64, want,
            "z{z}: cluster counts = events in the tile"
        );
        assert!(want > 0);
    }

    // Close in: single events, exactly those in the buffered tile; a new report shows at once.
    let (lon, lat) = (115.3712, 22.7903);
    let created: serde_json::Value = s
        .http
        .post(s.url("/api/v1/events"))
        .header("content-type", "application/json")
        .body(serde_json::json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"category": "hazard.gas", "title": "燃气泄漏", "reporter": "李先生 13700000000"}}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_u64().unwrap();
    let t = TileId::containing(lon, lat, 16);
    let (status, layers) = s
        .tile(&format!("/tiles/events/{}/{}/{}?status=all", t.z, t.x, t.y))
        .await;
    assert_eq!(status, 200);
    let ids: Vec<u64> = layers[0].features.iter().filter_map(|f| f.id).collect();
    assert!(
        ids.contains(&id),
        "the new report is in the next tile fetch"
    );
    let bb = t.buffered_bounds(4096, 64);
    let mut want: Vec<i64> = db
        .query(
            "SELECT id FROM events WHERE ST_Intersects(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))",
            &[&bb.west, &bb.south, &bb.east, &bb.north],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    want.sort_unstable();
    let mut got: Vec<i64> = ids.iter().map(|i| i64::try_from(*i).unwrap()).collect();
    got.sort_unstable();
    assert_eq!(got, want);
    let raw = s
        .http
        .get(s.url(&format!("/tiles/events/{}/{}/{}?status=all", t.z, t.x, t.y)))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        !raw.windows(11).any(|w| w == b"13700000000"),
        "no personal data in tiles"
    );

    // Heat: weights add up to the events the tile owns.
    let t = TileId::containing(lon, lat, 11);
    let (_, layers) = s
        .tile(&format!("/tiles/heat/{}/{}/{}?status=all", t.z, t.x, t.y))
        .await;
    let total: u64 = layers[0]
        .features
        .iter()
        .map(|f| count(prop(f, "weight")))
        .sum();
    let want = owned(&db, t).await;
    assert_eq!(total as i64, want);
}

#[tokio::test]
async fn etags_gzip_and_precise_invalidation() {
    let url = demo_db().await;
    let s = TestServer::start(&url).await;
    let (lon, lat) = (115.3733, 22.7911);
    let here = TileId::containing(lon, lat, 12);
    let far = TileId::containing(115.9, 23.3, 12);
    let get = |t: TileId, etag: Option<String>, gzip: bool| {
        let s = &s;
        async move {
            let mut req = s
                .http
                .get(s.url(&format!("/tiles/events/{}/{}/{}?status=all", t.z, t.x, t.y)));
            if let Some(e) = etag {
                req = req.header("if-none-match", e);
            }
            if gzip {
                req = req.header("accept-encoding", "gzip, deflate");
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let etag = r
                .headers()
                .get("etag")
                .map(|v| v.to_str().unwrap().to_owned());
            let enc = r
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, etag, enc, r.bytes().await.unwrap())
        }
    };
    let (status, etag_here, enc, raw) = get(here, None, false).await;
    assert_eq!((status, enc), (200, None));
    let etag_here = etag_here.unwrap();
    let (status, _, _, body) = get(here, Some(etag_here.clone()), false).await;
    assert_eq!(status, 304);
    assert!(body.is_empty());
    let (status, etag2, enc, gz) = get(here, None, true).await;
    assert_eq!((status, enc.as_deref()), (200, Some("gzip")));
    assert_eq!(etag2.as_deref(), Some(etag_here.as_str()));
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped).unwrap();
    assert_eq!(unzipped, raw.to_vec(), "gzip bytes are the tile");
    let etag_far = get(far, None, false).await.1.unwrap();

    // A report inside `here`: that tile changes at once, the far one keeps its ETag.
    let r = s
        .http
        .post(s.url("/api/v1/events"))
        .header("content-type", "application/json")
        .body(serde_json::json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"category": "urban.road", "title": "路面塌陷"}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let (status, etag_new, _, body) = get(here, Some(etag_here.clone()), false).await;
    assert_eq!(status, 200, "the touched tile is re-rendered");
    assert_ne!(etag_new.unwrap(), etag_here);
    let before: u64 = decode(&raw).unwrap()[0]
        .features
        .iter()
        .map(|f| count(prop(f, "point_count")))
        .sum();
    let after: u64 = decode(&body).unwrap()[0]
        .features
        .iter()
        .map(|f| count(prop(f, "point_count")))
        .sum();
    assert_eq!(after, before + 1);
    let (status, _, _, _) = get(far, Some(etag_far), false).await;
    assert_eq!(status, 304, "an untouched tile keeps its ETag");
}
