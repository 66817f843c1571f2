//! The registers (issue 17), end to end over HTTP against PostGIS: who sees whom, masking,
//! the purpose-bound unmasked read and its record in the append-only access log, exact
//! search by lookup hash, sealed values in a database dump, and the linked view's risk
//! sites against PostGIS's geography distance.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use chrono::NaiveDate;
use common::{TestServer, area_records, demo_db, get_with, sql};
use minqing::model::register::{
    BuildingKind, BuildingRecord, CareTag, HouseholdRecord, IdNumber, NewOrganisation, NewResident,
    OrgKind, OrganisationRecord, PlaceRecord, PlaceType, Registers, Registration, ResidentRecord,
    Sex, Tags, id_check_char,
};
use minqing::model::sealed::{Keys, new_key, parse_key};
use minqing::store::Store;
use serde_json::Value;

fn id_number(prefix17: &str) -> String {
    format!(
        "{prefix17}{}",
        char::from(id_check_char(prefix17.as_bytes()))
    )
}

struct Grid {
    code: String,
    district: String,
    lon: f64,
    lat: f64,
}

/// A grid of each of two districts, with a point inside each.
async fn two_grids(url: &str) -> (Grid, Grid) {
    let db = sql(url).await;
    let rows = db
        .query(
            "SELECT DISTINCT ON (d.code) g.id, g.code, d.code AS district,
                    ST_X(ST_PointOnSurface(g.geom)) AS lon, ST_Y(ST_PointOnSurface(g.geom)) AS lat
             FROM areas g
             JOIN areas c ON c.id = g.parent_id AND c.valid_to IS NULL
             JOIN areas s ON s.id = c.parent_id AND s.valid_to IS NULL
             JOIN areas d ON d.id = s.parent_id AND d.valid_to IS NULL
             WHERE g.level = 'grid' AND g.valid_to IS NULL
             ORDER BY d.code, g.id LIMIT 2",
            &[],
        )
        .await
        .unwrap();
    let g = |i: usize| Grid {
        code: rows[i].get("code"),
        district: rows[i].get("district"),
        lon: rows[i].get("lon"),
        lat: rows[i].get("lat"),
    };
    (g(0), g(1))
}

fn resident(
    id: i64,
    household: i64,
    name: &str,
    birth: (i32, u32, u32),
    tags: Tags,
) -> ResidentRecord {
    ResidentRecord {
        id,
        household_id: household,
        name: name.into(),
        birth_date: NaiveDate::from_ymd_opt(birth.0, birth.1, birth.2).unwrap(),
        sex: Sex::Male,
        registration: Registration::Registered,
        tags,
        generated: true,
    }
}

#[tokio::test]
async fn people_are_masked_scoped_and_every_unmasked_read_is_recorded() {
    let url = demo_db().await;
    let (a, b) = two_grids(&url).await;
    assert_ne!(a.district, b.district);

    // The key the server will use, in its data directory.
    let dir = std::env::temp_dir().join(format!("minqing-registers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_hex = new_key();
    std::fs::write(dir.join("minqing.key"), &key_hex).unwrap();
    let keys = Keys::new(&parse_key(&key_hex).unwrap());

    let ids = [
        id_number("44150219400101001"),
        id_number("44150219800202002"),
        id_number("44150220100303003"),
        id_number("44152119700404004"),
    ];
    let phones = ["13800138001", "13800138002", "13800138003", "13800138004"];
    let building = |id: i64, g: &Grid, kind| BuildingRecord {
        id,
        code: format!("T-{id}"),
        address: format!("测试路{id}号"),
        kind,
        floors: 6,
        lon: g.lon,
        lat: g.lat,
        outline: None,
        generated: true,
    };
    let tags_old = Tags::default()
        .with(CareTag::ElderlyAlone)
        .with(CareTag::VeryOld);
    let tags_sensitive = Tags::default().with(CareTag::MentalDisorder);
    let regs = Registers {
        buildings: vec![
            building(1, &a, BuildingKind::Residential),
            building(2, &b, BuildingKind::Residential),
        ],
        places: vec![
            PlaceRecord {
                id: 1,
                code: "T-P1".into(),
                name: "测试长者饭堂".into(),
                kind: PlaceType::ElderCanteen,
                risk_level: None,
                state: None,
                building_id: Some(1),
                lon: a.lon,
                lat: a.lat,
                generated: true,
            },
            // About 60 m north-east of building 1.
            PlaceRecord {
                id: 2,
                code: "T-P2".into(),
                name: "测试加油站".into(),
                kind: PlaceType::FuelStation,
                risk_level: Some(3),
                state: None,
                building_id: None,
                lon: a.lon + 0.0004,
                lat: a.lat + 0.0004,
                generated: true,
            },
        ],
        organisations: vec![NewOrganisation {
            record: OrganisationRecord {
                id: 1,
                code: "T-O1".into(),
                name: "测试物业公司".into(),
                kind: OrgKind::PropertyCompany,
                building_id: Some(1),
                contact_name: Some("王小明".into()),
                lon: a.lon,
                lat: a.lat,
                generated: true,
            },
            contact_phone: Some(phones[3].into()),
        }],
        households: vec![
            HouseholdRecord {
                id: 1,
                code: "T-H1".into(),
                building_id: 1,
                door: "101".into(),
                generated: true,
            },
            HouseholdRecord {
                id: 2,
                code: "T-H2".into(),
                building_id: 2,
                door: "201".into(),
                generated: true,
            },
        ],
        residents: vec![
            NewResident {
                record: resident(1, 1, "陈老伯", (1940, 1, 1), tags_old),
                id_number: IdNumber::parse(&ids[0]).unwrap(),
                phone: Some(phones[0].into()),
            },
            NewResident {
                record: resident(2, 1, "陈大明", (1980, 2, 2), tags_sensitive),
                id_number: IdNumber::parse(&ids[1]).unwrap(),
                phone: Some(phones[1].into()),
            },
            NewResident {
                record: resident(3, 1, "陈小明", (2010, 3, 3), Tags::default()),
                id_number: IdNumber::parse(&ids[2]).unwrap(),
                phone: Some(phones[2].into()),
            },
            NewResident {
                record: resident(4, 2, "林阿婆", (1970, 4, 4), Tags::default()),
                id_number: IdNumber::parse(&ids[3]).unwrap(),
                phone: None,
            },
        ],
    };
    let store = Store::connect(&url, 2).unwrap();
    store.migrate().await.unwrap();
    let counts = store
        .insert_registers(&regs, &keys, |_, _| {})
        .await
        .unwrap();
    assert_eq!(counts.residents, 4);

    // Stored ids follow what was there (nothing, in the demo).
    let db = sql(&url).await;
    let bid: i64 = db
        .query_one("SELECT id FROM buildings WHERE code = 'T-1'", &[])
        .await
        .unwrap()
        .get(0);
    let rid = |name: &'static str| {
        let db = &db;
        async move {
            db.query_one("SELECT id FROM residents WHERE name = $1", &[&name])
                .await
                .unwrap()
                .get::<_, i64>(0)
        }
    };
    let (old, mid) = (rid("陈老伯").await, rid("陈大明").await);
    let other = rid("林阿婆").await;

    let server = TestServer::start_with(&url, |c| c.data_dir = dir.clone()).await;

    // Anonymous: the building, counts shown as "<5", no person, no contact.
    let (s, v) = get_with(
        &server.anon,
        &server.url(&format!("/api/v1/buildings/{bid}")),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let p = &v["properties"];
    assert_eq!(p["residents"], "<5");
    assert_eq!(p["households"], "<5");
    assert!(p.get("household_list").is_none(), "{p}");
    assert!(p["tags"].get("mental_disorder").is_none(), "{p}");
    assert_eq!(p["organisations"][0]["contact_name"], Value::Null);
    assert_eq!(p["places"][0]["type"], "elder_canteen");
    let body = v.to_string();
    assert!(
        !body.contains("陈老伯") && !body.contains("王小明"),
        "{body}"
    );
    let (s, _) = get_with(&server.anon, &server.url("/api/v1/residents")).await;
    assert_eq!(s, 401);
    let planner = server.client("planner", None).await;
    let (s, _) = get_with(&planner, &server.url("/api/v1/residents")).await;
    assert_eq!(s, 403);

    // The risk site's distance is PostGIS's geography distance.
    let risk = &p["risk_sites"][0];
    assert_eq!(risk["type"], "fuel_station");
    let want: f64 = db
        .query_one(
            "SELECT ST_Distance(b.point::geography, p.geom::geography) FROM buildings b, places p
             WHERE b.code = 'T-1' AND p.code = 'T-P2'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let got = risk["distance_m"].as_f64().unwrap();
    assert!((got - want).abs() < 0.2, "{got} vs PostGIS {want}");

    // A command centre: masked people of its scope, no sensitive tag.
    let command = server.client("command", None).await;
    let (s, v) = get_with(
        &command,
        &server.url(&format!("/api/v1/residents?grid={}", a.code)),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let list = v["residents"].as_array().unwrap();
    assert_eq!(list.len(), 3, "{v}");
    let names: Vec<&str> = list.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["陈*伯", "陈*明", "陈*明"]);
    let text = v.to_string();
    for secret in ids.iter().map(String::as_str).chain(phones) {
        assert!(!text.contains(secret), "{secret} in a list");
    }
    let mid_row = list.iter().find(|r| r["id"] == mid).unwrap();
    assert_eq!(
        mid_row["tags"],
        serde_json::json!([]),
        "sensitive tag hidden"
    );
    let (_, v) = server
        .get(&format!("/api/v1/residents?grid={}", a.code))
        .await;
    let mid_admin = v["residents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == mid)
        .unwrap()
        .clone();
    assert_eq!(mid_admin["tags"], serde_json::json!(["mental_disorder"]));
    let (s, _) = get_with(
        &command,
        &server.url("/api/v1/residents?tag=mental_disorder"),
    )
    .await;
    assert_eq!(s, 403);

    // Exact search by ID number or phone, without decrypting.
    let (s, v) = get_with(
        &command,
        &server.url(&format!("/api/v1/residents?q={}", ids[0])),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let found: Vec<i64> = v["residents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(found, [old]);
    let (_, v) = get_with(
        &command,
        &server.url(&format!("/api/v1/residents?q={}", phones[1])),
    )
    .await;
    assert_eq!(v["residents"][0]["id"], mid);

    // Scoped to the other district: 404 for what lies outside.
    let scoped = server.client("command", Some(&b.district)).await;
    let (s, _) = get_with(&scoped, &server.url(&format!("/api/v1/residents/{old}"))).await;
    assert_eq!(s, 404);
    let (s, _) = get_with(&scoped, &server.url(&format!("/api/v1/buildings/{bid}"))).await;
    assert_eq!(s, 404);
    let (s, v) = get_with(&scoped, &server.url(&format!("/api/v1/residents/{other}"))).await;
    assert_eq!(s, 200, "{v}");
    let (_, v) = get_with(&scoped, &server.url("/api/v1/residents")).await;
    let seen: Vec<i64> = v["residents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(seen, [other]);

    // Every register endpoint holds the scope: buildings, places, organisations, search,
    // profile and coverage outside it are not seen (404 when asked for by name).
    let ids_of = |v: &Value, key: &str| -> Vec<i64> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_i64().unwrap())
            .collect()
    };
    let (_, v) = get_with(&scoped, &server.url("/api/v1/buildings?limit=1000")).await;
    let seen = ids_of(&v, "features");
    assert!(!seen.contains(&bid), "{seen:?}");
    assert_eq!(seen.len(), 1, "{seen:?}");
    let (_, v) = get_with(&scoped, &server.url("/api/v1/places")).await;
    assert_eq!(ids_of(&v, "features").len(), 0, "{v}");
    let (_, v) = get_with(&scoped, &server.url("/api/v1/organisations")).await;
    assert_eq!(ids_of(&v, "features").len(), 0, "{v}");
    let (_, v) = get_with(&scoped, &server.url("/api/v1/search?q=%E6%B5%8B%E8%AF%95")).await;
    assert_eq!(v["buildings"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["places"].as_array().unwrap().len(), 0, "{v}");
    let district_a: i64 = db
        .query_one(
            "SELECT id FROM areas WHERE code = $1 AND valid_to IS NULL",
            &[&a.district],
        )
        .await
        .unwrap()
        .get(0);
    let (s, _) = get_with(
        &scoped,
        &server.url(&format!("/api/v1/areas/{district_a}/profile")),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = get_with(
        &scoped,
        &server.url(&format!(
            "/api/v1/coverage?type=elder_canteen&area={}",
            a.district
        )),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = get_with(
        &scoped,
        &server.url(&format!("/api/v1/residents?area={}", a.district)),
    )
    .await;
    assert_eq!(s, 404);

    // One resident: masked without a purpose, in full with one, and recorded.
    let (s, v) = get_with(&command, &server.url(&format!("/api/v1/residents/{old}"))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["id_number"], Value::Null);
    assert!(!v.to_string().contains(&ids[0]));
    let (_, log) = server
        .get(&format!("/api/v1/access-log?resident={old}"))
        .await;
    assert_eq!(log["entries"].as_array().unwrap().len(), 0, "{log}");
    let (s, v) = get_with(
        &command,
        &server.url(&format!("/api/v1/residents/{old}?purpose=上门走访核实")),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["id_number"], ids[0].as_str());
    assert_eq!(v["phone"], phones[0]);
    assert_eq!(v["name"], "陈老伯");
    let (s, log) = server
        .get(&format!("/api/v1/access-log?resident={old}"))
        .await;
    assert_eq!(s, 200);
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["purpose"], "上门走访核实");
    assert_eq!(entries[0]["role"], "command");
    assert_eq!(entries[0]["request_id"], v["request_id"]);
    assert!(
        !log.to_string().contains(&ids[0]),
        "the log keeps no personal data"
    );
    let (s, _) = get_with(&command, &server.url("/api/v1/access-log")).await;
    assert_eq!(s, 403);
    let (s, _) = get_with(
        &planner,
        &server.url(&format!("/api/v1/residents/{old}?purpose=x")),
    )
    .await;
    assert_eq!(s, 403);

    // The access log cannot be changed, not even in SQL.
    assert!(
        db.execute("UPDATE register_access_log SET purpose = 'x'", &[])
            .await
            .is_err()
    );
    assert!(
        db.execute("DELETE FROM register_access_log", &[])
            .await
            .is_err()
    );

    // A dump of the database holds no ID number or phone in the clear.
    let pg_dump = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .filter_map(Result::ok)
        .map(|d| d.path().join("bin/pg_dump"))
        .find(|p| p.exists())
        .expect("pg_dump");
    let out = std::process::Command::new(pg_dump)
        .args([
            "--data-only",
            "--table=residents",
            "--table=organisations",
            "--table=register_access_log",
            "-d",
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = String::from_utf8_lossy(&out.stdout);
    assert!(dump.contains("陈老伯"), "the dump has the rows");
    for secret in ids.iter().map(String::as_str).chain(phones) {
        assert!(!dump.contains(secret), "{secret} in the dump");
    }

    // One search across the registers: people only for people-reading roles, in scope.
    let (s, v) = get_with(
        &server.anon,
        &server.url("/api/v1/search?q=%E6%B5%8B%E8%AF%95"),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(v.get("residents").is_none(), "{v}");
    assert_eq!(v["buildings"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["places"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["organisations"][0]["contact_name"], Value::Null);
    let (_, v) = get_with(&command, &server.url("/api/v1/search?q=%E9%99%88")).await;
    assert_eq!(v["residents"].as_array().unwrap().len(), 3, "{v}");
    assert_eq!(v["organisations"].as_array().unwrap().len(), 0);
    assert!(!v.to_string().contains("陈老伯"));
    let (_, v) = get_with(&scoped, &server.url("/api/v1/search?q=%E9%99%88")).await;
    assert_eq!(v["residents"].as_array().unwrap().len(), 0, "{v}");
    let (_, v) = get_with(
        &command,
        &server.url(&format!("/api/v1/search?q={}", phones[2])),
    )
    .await;
    assert_eq!(v["residents"].as_array().unwrap().len(), 1, "{v}");

    // Removal: command or admin, with a reason; the record and its personal data go.
    let delete = |c: &reqwest::Client, path: String| {
        let c = c.clone();
        let url = server.url(&path);
        async move { c.delete(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        delete(
            &planner,
            format!("/api/v1/residents/{other}?reason=moved_away")
        )
        .await,
        403
    );
    assert_eq!(
        delete(&command, format!("/api/v1/residents/{other}")).await,
        400
    );
    assert_eq!(
        delete(&command, format!("/api/v1/residents/{other}?reason=bored")).await,
        400
    );
    // The profiles of the resident's grid and of every area above it count them until
    // the removal, and one fewer after it.
    let chain: Vec<i64> = db
        .query(
            "WITH RECURSIVE up AS (
                 SELECT g.id, g.parent_id FROM residents r
                 JOIN households h ON h.id = r.household_id
                 JOIN buildings b ON b.id = h.building_id
                 JOIN areas g ON g.level = 'grid' AND g.valid_to IS NULL AND ST_Covers(g.geom, b.point)
                 WHERE r.id = $1
                 UNION ALL
                 SELECT a.id, a.parent_id FROM areas a JOIN up ON a.id = up.parent_id)
             SELECT id FROM up",
            &[&other],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(chain.len() >= 3, "{chain:?}");
    let residents_of = |ids: Vec<i64>| {
        let command = command.clone();
        let server = &server;
        async move {
            let mut out = Vec::new();
            for id in ids {
                let (s, v) = get_with(
                    &command,
                    &server.url(&format!("/api/v1/areas/{id}/profile")),
                )
                .await;
                assert_eq!(s, 200, "{v}");
                out.push(v["residents"].as_i64().unwrap());
            }
            out
        }
    };
    let before = residents_of(chain.clone()).await;
    assert_eq!(
        delete(
            &command,
            format!("/api/v1/residents/{other}?reason=moved_away")
        )
        .await,
        200
    );
    let after = residents_of(chain.clone()).await;
    let fewer: Vec<i64> = before.iter().map(|n| n - 1).collect();
    assert_eq!(after, fewer, "areas {chain:?}");
    let (s, _) = get_with(&command, &server.url(&format!("/api/v1/residents/{other}"))).await;
    assert_eq!(s, 404);
    assert_eq!(
        delete(
            &command,
            format!("/api/v1/residents/{other}?reason=moved_away")
        )
        .await,
        404
    );
    let left: i64 = db
        .query_one("SELECT count(*) FROM residents WHERE id = $1", &[&other])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    let removal = db
        .query_one(
            "SELECT reason FROM register_removals WHERE resident_id = $1",
            &[&other],
        )
        .await
        .unwrap();
    assert_eq!(removal.get::<_, String>(0), "moved_away");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn register_inputs_are_refused_with_a_clear_4xx() {
    let url = demo_db().await;
    let server = TestServer::start(&url).await;
    for path in [
        "/api/v1/buildings?kind=castle",
        "/api/v1/buildings?limit=0",
        "/api/v1/buildings/abc",
        "/api/v1/places?type=volcano",
        "/api/v1/organisations?kind=guild",
        "/api/v1/residents?tag=happy",
        "/api/v1/residents?bogus=1",
        "/api/v1/access-log?resident=x",
        "/api/v1/search",
        "/api/v1/coverage?type=elder_canteen&within_m=abc",
    ] {
        let (s, v) = server.get(path).await;
        assert_eq!(s, 400, "{path}: {v}");
        assert!(v["error"]["message"].is_string(), "{path}: {v}");
    }
    let (s, _) = server.get("/api/v1/buildings/999999999").await;
    assert_eq!(s, 404);
    let (s, _) = server.get("/api/v1/residents/999999999").await;
    assert_eq!(s, 404);
    let (s, _) = server.get("/api/v1/residents?area=nowhere").await;
    assert_eq!(s, 404);
}

/// Profiles and coverage from memory equal PostGIS's answers (`ST_Covers` for where, and
/// `ST_DWithin` on geography for reach) on generated registers.
/// The demo with generated registers (1 % of the demo's people, the pilots richest), and a
/// server over it whose key sealed them.
async fn with_generated_registers(
    name: &str,
) -> (
    TestServer,
    tokio_postgres::Client,
    std::path::PathBuf,
    String,
) {
    let url = demo_db().await;
    let dir = std::env::temp_dir().join(format!("minqing-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_hex = new_key();
    std::fs::write(dir.join("minqing.key"), &key_hex).unwrap();
    let keys = Keys::new(&parse_key(&key_hex).unwrap());
    let store = Store::connect(&url, 2).unwrap();
    store.migrate().await.unwrap();
    let records = area_records(&store).await;
    let regs = minqing::generate::registers(
        &records,
        &minqing::generate::RegisterOptions {
            seed: 7,
            scale: 0.01,
            pilots: minqing::cli::PILOTS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        },
    );
    assert!(regs.residents.len() > 10_000, "{}", regs.residents.len());
    store
        .insert_registers(&regs, &keys, |_, _| {})
        .await
        .unwrap();
    let server = TestServer::start_with(&url, |c| c.data_dir.clone_from(&dir)).await;
    let db = sql(&url).await;
    (server, db, dir, url)
}

#[tokio::test]
async fn profiles_and_coverage_equal_postgis() {
    let (server, db, dir, _) = with_generated_registers("coverage").await;

    // A district and the city: households, residents, age bands, buildings.
    let districts: Vec<(i64, String)> = db
        .query(
            "SELECT id, code FROM areas WHERE level IN ('district', 'city') AND valid_to IS NULL ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    // And a grid holding residents and its community: a grid's profile is counted when
    // asked, the levels above are kept summed.
    let small: Vec<(i64, String)> = db
        .query(
            "WITH g AS (SELECT g.id, g.code, g.parent_id FROM areas g
                 JOIN buildings b ON ST_Covers(g.geom, b.point)
                 JOIN households h ON h.building_id = b.id
                 JOIN residents r ON r.household_id = h.id
                 WHERE g.level = 'grid' AND g.valid_to IS NULL ORDER BY g.id LIMIT 1)
             SELECT id, code FROM g UNION ALL SELECT a.id, a.code FROM areas a JOIN g ON a.id = g.parent_id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(small.len(), 2, "a grid with residents and its parent");
    for (id, code) in districts.iter().chain(&small) {
        let (s, v) = server.get(&format!("/api/v1/areas/{id}/profile")).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["exact"], true);
        let as_of: NaiveDate = serde_json::from_value(v["as_of"].clone()).unwrap();
        let row = db
            .query_one(
                "WITH RECURSIVE sub AS (
                     SELECT id, level FROM areas WHERE id = $1
                     UNION ALL
                     SELECT a.id, a.level FROM areas a JOIN sub ON a.parent_id = sub.id
                     WHERE a.valid_to IS NULL),
                 b AS (SELECT b.* FROM buildings b WHERE EXISTS (
                     SELECT 1 FROM sub JOIN areas g ON g.id = sub.id
                     WHERE sub.level = 'grid' AND ST_Covers(g.geom, b.point)))
                 SELECT (SELECT count(*) FROM b) AS buildings,
                        (SELECT count(*) FROM households h JOIN b ON b.id = h.building_id) AS households,
                        (SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id
                            JOIN b ON b.id = h.building_id) AS residents,
                        (SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id
                            JOIN b ON b.id = h.building_id
                            WHERE date_part('year', age($2::date, r.birth_date)) >= 80) AS old,
                        (SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id
                            JOIN b ON b.id = h.building_id WHERE 'elderly_alone' = ANY (r.tags)) AS alone",
                &[id, &as_of],
            )
            .await
            .unwrap();
        let n = |k: &str| row.get::<_, i64>(k);
        let sum = |o: &Value| {
            o.as_object()
                .unwrap()
                .values()
                .map(|x| x.as_i64().unwrap())
                .sum::<i64>()
        };
        assert_eq!(v["households"].as_i64().unwrap(), n("households"), "{code}");
        assert_eq!(v["residents"].as_i64().unwrap(), n("residents"), "{code}");
        assert_eq!(sum(&v["buildings"]), n("buildings"), "{code}");
        assert_eq!(v["age_bands"]["80+"].as_i64().unwrap(), n("old"), "{code}");
        assert_eq!(
            v["tags"]["elderly_alone"].as_i64().unwrap(),
            n("alone"),
            "{code}"
        );
        assert_eq!(sum(&v["age_bands"]), n("residents"), "{code}");
    }

    // Residents by name prefix in a district, both ways in (a long range of the name order
    // read in id order with an early stop; a short one read whole), against SQL.
    let (_, dcode0) = &districts[districts.len() - 1];
    // A two-character prefix that exists there (a short range, read whole).
    let two: String = db
        .query_one(
            "SELECT r.name FROM residents r JOIN households h ON h.id = r.household_id
             JOIN buildings b ON b.id = h.building_id
             JOIN areas g ON g.level = 'grid' AND g.valid_to IS NULL AND ST_Covers(g.geom, b.point)
             WHERE g.code LIKE $1 || '%' AND char_length(r.name) >= 3 ORDER BY r.id LIMIT 1",
            &[dcode0],
        )
        .await
        .unwrap()
        .get::<_, String>(0)
        .chars()
        .take(2)
        .collect();
    for prefix in ["陈", "林", "黄", two.as_str()] {
        let q: String = url_escape(prefix);
        let (s, v) = server
            .get(&format!("/api/v1/residents?area={dcode0}&q={q}&limit=50"))
            .await;
        assert_eq!(s, 200, "{v}");
        let got: Vec<i64> = v["residents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        let want: Vec<i64> = db
            .query(
                "WITH RECURSIVE sub AS (
                     SELECT id, level FROM areas WHERE code = $1 AND valid_to IS NULL
                     UNION ALL
                     SELECT a.id, a.level FROM areas a JOIN sub ON a.parent_id = sub.id
                     WHERE a.valid_to IS NULL)
                 SELECT r.id FROM residents r JOIN households h ON h.id = r.household_id
                 JOIN buildings b ON b.id = h.building_id
                 WHERE starts_with(r.name, $2) AND EXISTS (
                     SELECT 1 FROM sub JOIN areas g ON g.id = sub.id
                     WHERE sub.level = 'grid' AND ST_Covers(g.geom, b.point))
                 ORDER BY r.id LIMIT 50",
                &[dcode0, &prefix],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(!want.is_empty(), "{prefix}");
        assert_eq!(got, want, "{prefix}");
    }

    // Anonymous: small counts of people hidden, sensitive tags absent.
    let (city, _) = &districts[0];
    let (s, v) = get_with(
        &server.anon,
        &server.url(&format!("/api/v1/areas/{city}/profile")),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["exact"], false);
    assert!(v["tags"].get("mental_disorder").is_none(), "{v}");
    for x in v["age_bands"]
        .as_object()
        .unwrap()
        .values()
        .chain(v["tags"].as_object().unwrap().values())
    {
        assert!(
            x == "<5" || x.as_i64().is_some_and(|n| n == 0 || n >= 5),
            "{x}"
        );
    }

    // Coverage of elder canteens within 800 m, per child of a district, against ST_DWithin.
    let (district, dcode) = &districts[1];
    let (s, v) = server
        .get(&format!(
            "/api/v1/coverage?type=elder_canteen&within_m=800&area={dcode}&tag=very_old"
        ))
        .await;
    assert_eq!(s, 200, "{v}");
    let rows = v["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    let mut beyond_total = 0;
    for r in rows {
        let child = r["area"]["id"].as_i64().unwrap();
        let want = db
            .query_one(
                "WITH RECURSIVE sub AS (
                     SELECT id, level FROM areas WHERE id = $1
                     UNION ALL
                     SELECT a.id, a.level FROM areas a JOIN sub ON a.parent_id = sub.id
                     WHERE a.valid_to IS NULL),
                 b AS (SELECT b.*, EXISTS (SELECT 1 FROM places p WHERE p.type = 'elder_canteen'
                          AND ST_DWithin(b.point::geography, p.geom::geography, 800)) AS reached
                       FROM buildings b WHERE EXISTS (
                          SELECT 1 FROM sub JOIN areas g ON g.id = sub.id
                          WHERE sub.level = 'grid' AND ST_Covers(g.geom, b.point)))
                 SELECT count(*) FILTER (WHERE b.reached) AS within,
                        count(*) FILTER (WHERE NOT b.reached) AS beyond,
                        (SELECT count(*) FROM residents r JOIN households h2 ON h2.id = r.household_id
                           JOIN b b2 ON b2.id = h2.building_id
                           WHERE NOT b2.reached AND 'very_old' = ANY (r.tags)) AS old_beyond
                 FROM households h JOIN b ON b.id = h.building_id",
                &[&child],
            )
            .await
            .unwrap();
        assert_eq!(
            r["households_within"].as_i64().unwrap(),
            want.get::<_, i64>("within"),
            "{r}"
        );
        assert_eq!(
            r["households_beyond"].as_i64().unwrap(),
            want.get::<_, i64>("beyond"),
            "{r}"
        );
        assert_eq!(
            r["tagged_beyond"].as_i64().unwrap(),
            want.get::<_, i64>("old_beyond"),
            "{r}"
        );
        beyond_total += r["buildings_beyond"].as_i64().unwrap();
    }
    assert_eq!(v["uncovered_total"].as_i64().unwrap(), beyond_total);
    assert!(*district > 0);
    // Without an area: the whole city, a row per top-level area; the district's row holds
    // the sums of its children's rows above.
    let sum_of = |rows: &[Value], k: &str| rows.iter().map(|r| r[k].as_i64().unwrap()).sum::<i64>();
    let (s, whole) = server
        .get("/api/v1/coverage?type=elder_canteen&within_m=800&tag=very_old")
        .await;
    assert_eq!(s, 200, "{whole}");
    assert!(whole["area"].is_null(), "{whole}");
    let roots: Vec<i64> = db
        .query(
            "SELECT id FROM areas WHERE parent_id IS NULL AND valid_to IS NULL ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let whole_rows = whole["rows"].as_array().unwrap();
    let mut got: Vec<i64> = whole_rows
        .iter()
        .map(|r| r["area"]["id"].as_i64().unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, roots);
    let row = whole_rows
        .iter()
        .find(|r| r["area"]["id"].as_i64() == Some(*district))
        .expect("the district's row");
    for k in [
        "households_within",
        "households_beyond",
        "tagged_beyond",
        "buildings_beyond",
    ] {
        assert_eq!(row[k].as_i64().unwrap(), sum_of(rows, k), "{k}");
    }
    let (s, _) = server
        .get("/api/v1/coverage?type=elder_canteen&within_m=0")
        .await;
    assert_eq!(s, 400);
    let (s, _) = server.get("/api/v1/coverage").await;
    assert_eq!(s, 400);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Percent-encodes a query value.
fn url_escape(s: &str) -> String {
    use std::fmt::Write as _;
    s.bytes().fold(String::new(), |mut out, b| {
        let _ = write!(out, "%{b:02X}");
        out
    })
}

/// The tile at zoom `z` holding a point (the slippy-map formula, written apart from
/// minqing's).
#[allow(clippy::cast_possible_truncation)]
fn tile_of(lon: f64, lat: f64, z: i32) -> (i32, i32, i32) {
    let n = f64::from(1 << z);
    let r = lat.to_radians();
    (
        z,
        ((lon + 180.0) / 360.0 * n).floor() as i32,
        ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as i32,
    )
}

/// Fetches a tile with `c`: its status and decoded features (id → properties).
async fn tile_features(
    c: &reqwest::Client,
    url: &str,
) -> (
    u16,
    std::collections::BTreeMap<u64, std::collections::BTreeMap<String, Value>>,
) {
    let r = c.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap();
    let mut out = std::collections::BTreeMap::new();
    if status == 200 {
        for layer in minqing_tiles::decode(&bytes).unwrap() {
            for f in layer.features {
                let props = f
                    .properties
                    .iter()
                    .map(|(k, v)| (k.clone(), tile_value(v)))
                    .collect();
                out.insert(f.id.unwrap(), props);
            }
        }
    }
    (status, out)
}

fn tile_value(v: &minqing_tiles::Value<'_>) -> Value {
    use minqing_tiles::Value as V;
    match v {
        V::String(s) => Value::from(s.as_ref()),
        V::F64(f) => Value::from(*f),
        V::I64(i) => Value::from(*i),
        V::U64(u) => Value::from(*u),
        V::Bool(b) => Value::from(*b),
    }
}

/// The registers' tile layers against PostGIS: which buildings, places and covered
/// buildings each tile holds (`ST_TileEnvelope` with the tile buffer, `ST_DWithin` on
/// geography), and who sees which counts.
#[tokio::test]
async fn register_tiles_equal_postgis() {
    let (server, db, dir, _) = with_generated_registers("tiles").await;
    // A busy spot: the building with the most households nearby.
    let row = db
        .query_one(
            "SELECT ST_X(b.point), ST_Y(b.point) FROM buildings b
             JOIN households h ON h.building_id = b.id
             GROUP BY b.id ORDER BY count(*) DESC, b.id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (lon, lat): (f64, f64) = (row.get(0), row.get(1));
    let anon = reqwest::Client::new();
    let command = server.client("command", None).await;
    let buffer = 64.0f64 / 4096.0;

    // Buildings at z15: every building whose point is in the buffered envelope.
    let (z, x, y) = tile_of(lon, lat, 15);
    let want: Vec<(i64, i64)> = db
        .query(
            "SELECT b.id, (SELECT count(*) FROM households h WHERE h.building_id = b.id)
             FROM buildings b
             WHERE ST_Intersects(ST_Transform(b.point, 3857), ST_TileEnvelope($1, $2, $3, margin => $4))
             ORDER BY b.id",
            &[&z, &x, &y, &buffer],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert!(want.len() > 5, "{}", want.len());
    let path = server.url(&format!("/tiles/buildings/{z}/{x}/{y}"));
    for (who, c, exact) in [("anonymous", &anon, false), ("command", &command, true)] {
        let (s, got) = tile_features(c, &path).await;
        assert_eq!(s, 200, "{who}");
        let ids: Vec<i64> = got.keys().map(|k| i64::try_from(*k).unwrap()).collect();
        let want_ids: Vec<i64> = want.iter().map(|w| w.0).collect();
        assert_eq!(ids, want_ids, "{who}");
        for (id, n) in &want {
            let props = &got[&u64::try_from(*id).unwrap()];
            let shown = props.get("households").and_then(Value::as_i64);
            if exact || *n >= 5 {
                assert_eq!(shown, Some(*n), "{who} building {id}");
            } else {
                assert_eq!(
                    shown, None,
                    "{who} building {id}: {n} households must not show"
                );
            }
            assert!(props["kind"].is_string());
        }
    }
    // Below z14: no buildings.
    let (zl, xl, yl) = tile_of(lon, lat, 13);
    let r = anon
        .get(server.url(&format!("/tiles/buildings/{zl}/{xl}/{yl}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);

    // A field token of one grid sees that grid's buildings only.
    let (grid_code, grid_id): (String, i64) = {
        let r = db
            .query_one(
                "SELECT g.code, g.id FROM areas g, buildings b
                 WHERE g.level = 'grid' AND g.valid_to IS NULL AND ST_Covers(g.geom, b.point)
                   AND ST_Intersects(ST_Transform(b.point, 3857), ST_TileEnvelope($1, $2, $3))
                 GROUP BY g.code, g.id ORDER BY count(*) DESC LIMIT 1",
                &[&z, &x, &y],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    let field = server.client("field", Some(&grid_code)).await;
    let (s, got) = tile_features(&field, &path).await;
    assert_eq!(s, 200);
    let want_scoped: Vec<u64> = db
        .query(
            "SELECT b.id FROM buildings b JOIN areas g ON g.id = $5 AND ST_Covers(g.geom, b.point)
             WHERE ST_Intersects(ST_Transform(b.point, 3857), ST_TileEnvelope($1, $2, $3, margin => $4))
             ORDER BY b.id",
            &[&z, &x, &y, &buffer, &grid_id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| u64::try_from(r.get::<_, i64>(0)).unwrap())
        .collect();
    assert!(!want_scoped.is_empty());
    assert_eq!(got.keys().copied().collect::<Vec<_>>(), want_scoped);

    // Places at z13, with their type and risk level.
    let (z, x, y) = tile_of(lon, lat, 13);
    let want: Vec<(i64, String, Option<i16>)> = db
        .query(
            "SELECT id, type, risk_level FROM places
             WHERE ST_Intersects(ST_Transform(geom, 3857), ST_TileEnvelope($1, $2, $3, margin => $4))
             ORDER BY id",
            &[&z, &x, &y, &buffer],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert!(!want.is_empty());
    let (s, got) = tile_features(&anon, &server.url(&format!("/tiles/places/{z}/{x}/{y}"))).await;
    assert_eq!(s, 200);
    assert_eq!(got.len(), want.len());
    for (id, kind, level) in &want {
        let p = &got[&u64::try_from(*id).unwrap()];
        assert_eq!(p["type"].as_str(), Some(kind.as_str()));
        assert_eq!(
            p.get("risk_level").and_then(Value::as_i64),
            level.map(i64::from)
        );
    }

    // Coverage at z14: every building with households in the buffered envelope, covered
    // exactly when a place of the type lies within the distance on the ellipsoid.
    let (z, x, y) = tile_of(lon, lat, 14);
    let want: Vec<(i64, bool, Option<f64>, i64)> = db
        .query(
            "SELECT b.id,
                    EXISTS (SELECT 1 FROM places p WHERE p.type = 'elder_canteen'
                            AND ST_DWithin(p.geom::geography, b.point::geography, 500)),
                    (SELECT min(ST_Distance(p.geom::geography, b.point::geography)) FROM places p
                     WHERE p.type = 'elder_canteen'
                       AND ST_DWithin(p.geom::geography, b.point::geography, 5000)),
                    (SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id
                     WHERE h.building_id = b.id AND 'elderly_alone' = ANY (r.tags))
             FROM buildings b
             WHERE EXISTS (SELECT 1 FROM households h WHERE h.building_id = b.id)
               AND ST_Intersects(ST_Transform(b.point, 3857), ST_TileEnvelope($1, $2, $3, margin => $4))
             ORDER BY b.id",
            &[&z, &x, &y, &buffer],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert!(
        want.iter().any(|w| w.1) && want.iter().any(|w| !w.1),
        "{want:?}"
    );
    let cov = server.url(&format!(
        "/tiles/coverage/{z}/{x}/{y}?type=elder_canteen&within_m=500&tag=elderly_alone"
    ));
    for (who, c, exact) in [("anonymous", &anon, false), ("command", &command, true)] {
        let (s, got) = tile_features(c, &cov).await;
        assert_eq!(s, 200, "{who}");
        assert_eq!(got.len(), want.len(), "{who}");
        for (id, covered, dist, tagged) in &want {
            let p = &got[&u64::try_from(*id).unwrap()];
            assert_eq!(
                p["covered"].as_bool(),
                Some(*covered),
                "{who} building {id}"
            );
            match dist {
                Some(d) => {
                    let shown = p["distance_m"].as_f64().unwrap();
                    assert!((shown - d).abs() <= 1.0, "building {id}: {shown} vs {d}");
                }
                None => assert!(p.get("distance_m").is_none()),
            }
            let shown = p.get("tagged").and_then(Value::as_i64);
            assert_eq!(shown, exact.then_some(*tagged), "{who} building {id}");
        }
    }
    // A sensitive tag needs a grant; the type is required; bad values are 400.
    let sensitive = server.url(&format!(
        "/tiles/coverage/{z}/{x}/{y}?type=elder_canteen&tag=community_correction"
    ));
    assert_eq!(command.get(&sensitive).send().await.unwrap().status(), 403);
    assert_eq!(
        server.http.get(&sensitive).send().await.unwrap().status(),
        200
    );
    // A token granted the tag may use it, and sees it counted; the ungranted one does not.
    let (_, secret) = server
        .state
        .store
        .create_token_with_grants(
            "granted command",
            minqing::auth::Role::Command,
            None,
            Tags::default().with(CareTag::CommunityCorrection),
        )
        .await
        .unwrap();
    let granted = common::client_with_token(&secret);
    assert_eq!(granted.get(&sensitive).send().await.unwrap().status(), 200);
    let city: i64 = db
        .query_one(
            "SELECT id FROM areas WHERE parent_id IS NULL AND valid_to IS NULL ORDER BY id LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let profile = server.url(&format!("/api/v1/areas/{city}/profile"));
    let (_, v) = get_with(&granted, &profile).await;
    assert!(v["tags"]["community_correction"].is_i64(), "{v}");
    assert!(v["tags"].get("mental_disorder").is_none(), "{v}");
    let (_, v) = get_with(&command, &profile).await;
    assert!(v["tags"].get("community_correction").is_none(), "{v}");
    // Only sensitive tags can be granted.
    assert!(
        server
            .state
            .store
            .create_token_with_grants(
                "bad grant",
                minqing::auth::Role::Command,
                None,
                Tags::default().with(CareTag::ElderlyAlone),
            )
            .await
            .is_err()
    );
    for bad in [
        "",
        "?type=nope",
        "?type=school&within_m=0",
        "?type=school&colour=red",
    ] {
        let r = anon
            .get(server.url(&format!("/tiles/coverage/{z}/{x}/{y}{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{bad}");
    }
    let (s, v) = get_with(&anon, &server.url("/tiles")).await;
    assert_eq!(s, 200);
    let ids: Vec<&str> = v["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    for l in ["buildings", "places", "coverage"] {
        assert!(ids.contains(&l), "{ids:?}");
    }

    // A removal is seen by cached tiles at once: the tag count of its building drops.
    let (id, _, _, tagged) = want.iter().find(|w| w.3 > 0).copied().unwrap();
    let resident: i64 = db
        .query_one(
            "SELECT r.id FROM residents r JOIN households h ON h.id = r.household_id
             WHERE h.building_id = $1 AND 'elderly_alone' = ANY (r.tags) LIMIT 1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    let r = server
        .http
        .delete(server.url(&format!("/api/v1/residents/{resident}?reason=moved_away")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    let (_, got) = tile_features(&command, &cov).await;
    assert_eq!(
        got[&u64::try_from(id).unwrap()]["tagged"].as_i64(),
        Some(tagged - 1)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A report names a building, place, organisation or household of the registers; the case
/// detail shows the link, and the building's linked view lists the events that name it or
/// lie within 30 m of it (against PostGIS `ST_DWithin` on geography).
#[tokio::test]
async fn reports_name_register_records_and_linked_views_list_them() {
    let (server, db, dir, _) = with_generated_registers("links").await;
    // A residential building with households, inside a grid, and a household of it.
    let row = db
        .query_one(
            "SELECT b.id, ST_X(b.point), ST_Y(b.point), b.address, g.code, min(h.id)
             FROM buildings b JOIN households h ON h.building_id = b.id
             JOIN areas g ON g.level = 'grid' AND g.valid_to IS NULL AND ST_Covers(g.geom, b.point)
             GROUP BY b.id, g.code ORDER BY b.id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (building, lon, lat, address, grid, household): (i64, f64, f64, String, String, i64) = (
        row.get(0),
        row.get(1),
        row.get(2),
        row.get(3),
        row.get(4),
        row.get(5),
    );
    let far: i64 = db
        .query_one(
            "SELECT b.id FROM buildings b, buildings a WHERE a.id = $1
             AND NOT ST_DWithin(a.point::geography, b.point::geography, 1000) ORDER BY b.id LIMIT 1",
            &[&building],
        )
        .await
        .unwrap()
        .get(0);
    let anon = reqwest::Client::new();
    let field = server.client("field", Some(&grid)).await;
    let command = server.client("command", None).await;
    // About 10 m and 20 m north, and 60 m north (beyond 30 m).
    let north = |m: f64| lat + m / 110_574.0;
    let report = |lat: f64, extra: Value| {
        let mut props = serde_json::json!({"category": "urban.streetlight", "title": "路灯不亮"});
        for (k, v) in extra.as_object().unwrap() {
            props[k] = v.clone();
        }
        serde_json::json!({"type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props})
    };
    let url = server.url("/api/v1/events");
    let post = |c: reqwest::Client, body: Value| {
        let url = url.clone();
        async move { common::send_json(&c, reqwest::Method::POST, &url, &body).await }
    };

    // Named by an anonymous resident: stored with its link.
    let (s, v) = post(
        anon.clone(),
        report(north(10.0), serde_json::json!({"building_id": building})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let named = v["id"].as_i64().unwrap();
    let (s, v) = get_with(&command, &server.url(&format!("/api/v1/events/{named}"))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["properties"]["link"]["kind"], "building");
    assert_eq!(v["properties"]["link"]["id"], building);
    assert_eq!(v["properties"]["link"]["label"], address.as_str());
    // A household: grid staff only; the field worker of its grid may.
    let body = report(north(5.0), serde_json::json!({"household_id": household}));
    let (s, v) = post(anon.clone(), body.clone()).await;
    assert_eq!(s, 422, "{v}");
    let (s, v) = post(field.clone(), body).await;
    assert_eq!(s, 201, "{v}");
    let by_household = v["id"].as_i64().unwrap();
    let (_, v) = get_with(
        &field,
        &server.url(&format!("/api/v1/events/{by_household}")),
    )
    .await;
    assert_eq!(v["properties"]["link"]["kind"], "household", "{v}");
    // Unlinked reports 20 m and 60 m away.
    let (s, v) = post(anon.clone(), report(north(20.0), serde_json::json!({}))).await;
    assert_eq!(s, 201, "{v}");
    let near = v["id"].as_i64().unwrap();
    let (s, v) = post(anon.clone(), report(north(60.0), serde_json::json!({}))).await;
    assert_eq!(s, 201, "{v}");
    let beyond = v["id"].as_i64().unwrap();

    // Refused with a clear error, nothing stored: too far, unknown, two links, not a number.
    let before: i64 = db
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    for (extra, status) in [
        (serde_json::json!({"building_id": far}), 422),
        (serde_json::json!({"building_id": 999_999_999}), 422),
        (
            serde_json::json!({"building_id": building, "household_id": household}),
            422,
        ),
        (serde_json::json!({"place_id": "x"}), 400),
        (serde_json::json!({"organisation_id": -1}), 400),
    ] {
        let (s, v) = post(command.clone(), report(north(10.0), extra.clone())).await;
        assert_eq!(s, status, "{extra}: {v}");
        assert!(
            v["error"]["message"].is_string() || v["message"].is_string(),
            "{v}"
        );
    }
    let after: i64 = db
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(before, after);

    // The linked view: the events naming the building or its households, or within 30 m,
    // newest first, as PostGIS finds them.
    let want: Vec<i64> = db
        .query(
            "SELECT e.id FROM events e, buildings b WHERE b.id = $1
               AND (ST_DWithin(e.geom::geography, b.point::geography, 30)
                    OR e.building_id = b.id
                    OR e.household_id IN (SELECT id FROM households WHERE building_id = b.id))
             ORDER BY e.reported_at DESC, e.id DESC LIMIT 20",
            &[&building],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(want.contains(&named) && want.contains(&near) && want.contains(&by_household));
    assert!(!want.contains(&beyond));
    let (s, v) = get_with(
        &command,
        &server.url(&format!("/api/v1/buildings/{building}")),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let events = v["properties"]["events"].as_array().unwrap();
    let got: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(got, want);
    let flag = |id: i64| {
        events
            .iter()
            .find(|e| e["id"] == id)
            .map(|e| e["named"].as_bool().unwrap())
    };
    assert_eq!(flag(named), Some(true));
    assert_eq!(flag(near), Some(false));
    // Anonymous callers see no events in a linked view.
    let (s, v) = get_with(&anon, &server.url(&format!("/api/v1/buildings/{building}"))).await;
    assert_eq!(s, 200);
    assert!(v["properties"].get("events").is_none(), "{v}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Key rotation re-seals every ID number and phone under a new key in one transaction:
/// afterwards the old key is refused, the values read the same with the new one, exact
/// search finds them by their new lookup hashes, and the old key is kept for old backups.
#[tokio::test]
async fn the_key_rotates_and_every_sealed_value_follows() {
    let (server, db, dir, url) = with_generated_registers("rotate").await;
    let some: Vec<i64> = db
        .query(
            "SELECT id FROM residents WHERE phone_sealed IS NOT NULL ORDER BY md5(id::text) LIMIT 3",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let read = |c: reqwest::Client, base: String, id: i64| async move {
        let (s, v) = get_with(
            &c,
            &format!("{base}/api/v1/residents/{id}?purpose=核对密钥轮换"),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        (
            v["id_number"].as_str().unwrap().to_owned(),
            v["phone"].as_str().unwrap().to_owned(),
        )
    };
    let mut before = Vec::new();
    for id in &some {
        before.push(read(server.http.clone(), server.base.clone(), *id).await);
    }
    let (sealed_before, n) = sealed_digest(&db).await;
    let old_key = std::fs::read_to_string(dir.join("minqing.key")).unwrap();
    // A grid worker's phone, sealed with the same key, follows too.
    let grid: String = db
        .query_one(
            "SELECT code FROM areas WHERE level = 'grid' AND valid_to IS NULL ORDER BY id LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let before_keys = Keys::new(&parse_key(&old_key).unwrap());
    let worker = server
        .state
        .store
        .create_worker(&minqing::store::NewWorker {
            code: "ROTATE-1".into(),
            name: "轮换测试".into(),
            kind: minqing::model::worker::WorkerKind::FullTime,
            phone: Some((
                before_keys.seal(minqing::model::sealed::Field::Phone, "13800138000"),
                before_keys.lookup(minqing::model::sealed::Field::Phone, "13800138000"),
            )),
            generated: false,
            grids: vec![grid],
        })
        .await
        .unwrap();

    // Servers stop before a rotation (they hold the key).
    drop(server);
    let store = Store::connect(&url, 2).unwrap();
    let done = std::sync::atomic::AtomicU64::new(0);
    let r = minqing::service::registers::rotate_key(&store, &dir, |d| {
        done.store(d, std::sync::atomic::Ordering::Relaxed);
    })
    .await
    .unwrap();
    let organisations: i64 = db
        .query_one(
            "SELECT count(*) FROM organisations WHERE contact_phone_sealed IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(r.resealed, u64::try_from(n + organisations + 1).unwrap());
    assert_eq!(done.load(std::sync::atomic::Ordering::Relaxed), r.resealed);
    let new_key = std::fs::read_to_string(dir.join("minqing.key")).unwrap();
    assert_ne!(new_key, old_key);
    let retired = r.retired_key_file.unwrap();
    assert_eq!(std::fs::read_to_string(&retired).unwrap(), old_key);
    assert!(!dir.join("minqing.key.new").exists());
    let (sealed_after, n_after) = sealed_digest(&db).await;
    assert_eq!(n_after, n);
    assert_ne!(sealed_after, sealed_before);
    let old = Keys::new(&parse_key(&old_key).unwrap());
    assert!(store.check_key_if_sealed(&old).await.is_err());
    let new = Keys::new(&parse_key(&new_key).unwrap());
    let sealed: Vec<u8> = db
        .query_one("SELECT phone_sealed FROM workers WHERE id = $1", &[&worker])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        new.open(minqing::model::sealed::Field::Phone, &sealed)
            .as_deref(),
        Some("13800138000")
    );

    // A server with the new key reads the same values and finds them exactly.
    let server = TestServer::start_with(&url, |c| c.data_dir = dir.clone()).await;
    for (id, (id_number, phone)) in some.iter().zip(&before) {
        assert_eq!(
            read(server.http.clone(), server.base.clone(), *id).await,
            (id_number.clone(), phone.clone())
        );
        for q in [id_number, phone] {
            let (s, v) = server.get(&format!("/api/v1/residents?q={q}")).await;
            assert_eq!(s, 200, "{v}");
            let found: Vec<i64> = v["residents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_i64().unwrap())
                .collect();
            assert!(found.contains(id), "{id} not found by its value: {v}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A digest of every resident's sealed values and lookup hashes, and how many residents.
async fn sealed_digest(db: &tokio_postgres::Client) -> (String, i64) {
    let r = db
        .query_one(
            "SELECT md5(string_agg(id_number_sealed::text || coalesce(phone_sealed::text, '')
                                   || id_number_lookup::text, ',' ORDER BY id)),
                    count(*)
             FROM residents",
            &[],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1))
}
