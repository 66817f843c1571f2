//! Imports of the registers (issue 17), against PostGIS and over real HTTP: files in every
//! format (CSV with Chinese headers, GeoJSON with outlines, an office's `.xlsx`), an import
//! with one bad row stores nothing and names the row, every fault of a file is listed by
//! line, references by code, scope, roles, no personal data in a refusal, and a running
//! server sees what another process imported (the change feed's `minqing_registers`).
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::unwrap_used
)]

mod common;

use std::path::{Path, PathBuf};

use common::{TestServer, demo_db, get_with, sql};
use minqing::model::sealed::{Keys, new_key, parse_key};
use minqing::store::Store;
use minqing_service::imports::{self, Format, ImportError, Kind, RowError};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/imports")
        .join(name)
}

/// A data directory with a new key, and the keys.
fn key_dir(name: &str) -> (PathBuf, Keys) {
    let dir = std::env::temp_dir().join(format!("minqing-imports-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hex = new_key();
    std::fs::write(dir.join("minqing.key"), &hex).unwrap();
    (dir, Keys::new(&parse_key(&hex).unwrap()))
}

/// Checks and stores a fixture as `minqing import` does (everywhere in scope).
async fn import(store: &Store, keys: &Keys, kind: Kind, name: &str) -> Result<u64, Vec<RowError>> {
    let path = fixture(name);
    let format = Format::of_path(&path).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let today = chrono::Utc::now().date_naive();
    let v = imports::validate(kind, format, Box::new(file), keys, today, &|_, _, _| {});
    let v = match v {
        Ok(v) => v,
        Err(ImportError::Invalid(e)) => return Err(e),
        Err(ImportError::Store(e)) => panic!("{e}"),
    };
    match imports::store(store, keys, v, &|_, _| true, &|_, _, _| {}).await {
        Ok(c) => Ok(imports::total(&c)),
        Err(ImportError::Invalid(e)) => Err(e),
        Err(ImportError::Store(e)) => panic!("{e}"),
    }
}

async fn count(url: &str, table: &str) -> i64 {
    sql(url)
        .await
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn an_import_with_one_bad_row_stores_nothing_and_names_the_row() {
    let url = demo_db().await;
    let (_dir, keys) = key_dir("bad-row");
    let store = Store::connect(&url, 4).unwrap();
    store.migrate().await.unwrap();

    assert_eq!(
        import(&store, &keys, Kind::Buildings, "buildings.csv").await,
        Ok(2)
    );
    assert_eq!(
        import(&store, &keys, Kind::Households, "households.csv").await,
        Ok(3)
    );

    // One mistyped ID number on line 4: nothing is stored, and the row is named.
    let errors = import(&store, &keys, Kind::Residents, "residents_one_bad_row.csv")
        .await
        .unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, 4);
    assert_eq!(errors[0].field, "id_number");
    assert!(errors[0].reason.contains("check digit"), "{errors:?}");
    assert_eq!(count(&url, "residents").await, 0);

    // The command line says the same and fails.
    let err = minqing::cli::import_register(
        &store,
        &keys,
        Kind::Residents,
        Format::Csv,
        &fixture("residents_one_bad_row.csv"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("nothing was stored"), "{err}");
    assert_eq!(count(&url, "residents").await, 0);

    // The good file goes in whole, through the command line; personal data sealed.
    minqing::cli::import_register(
        &store,
        &keys,
        Kind::Residents,
        Format::Csv,
        &fixture("residents.csv"),
    )
    .await
    .unwrap();
    assert_eq!(count(&url, "residents").await, 4);
    let db = sql(&url).await;
    let row = db
        .query_one(
            "SELECT r.birth_date::text, r.sex, r.registration, r.tags, r.id_number_sealed,
                    r.phone_sealed, h.code
             FROM residents r JOIN households h ON h.id = r.household_id
             WHERE r.name = '陈测甲'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, String>(0),
        "1940-01-01",
        "the birth date from the ID number"
    );
    assert_eq!(row.get::<_, String>(1), "male");
    assert_eq!(row.get::<_, String>(2), "registered");
    assert_eq!(row.get::<_, Vec<String>>(3), ["elderly_alone", "very_old"]);
    let sealed: Vec<u8> = row.get(4);
    assert_eq!(
        keys.open(minqing::model::sealed::Field::IdNumber, &sealed)
            .as_deref(),
        Some("441502194001010018")
    );
    assert!(!sealed.windows(6).any(|w| w == b"194001"));
    assert_eq!(row.get::<_, String>(6), "IMP-H1");

    // The same people again: every one of them is registered already (by lookup hash, the
    // number masked in the reason); nothing is stored.
    let errors = import(&store, &keys, Kind::Residents, "residents.csv")
        .await
        .unwrap_err();
    assert_eq!(
        errors.iter().map(|e| e.line).collect::<Vec<_>>(),
        [2, 3, 4, 5]
    );
    assert!(errors.iter().all(|e| e.field == "id_number"));
    assert!(
        errors[0].reason.contains("441502********0018"),
        "{errors:?}"
    );
    assert!(!format!("{errors:?}").contains("441502194001010018"));
    assert_eq!(count(&url, "residents").await, 4);

    // A code already stored, and references to codes nobody has.
    let errors = import(&store, &keys, Kind::Buildings, "buildings.csv")
        .await
        .unwrap_err();
    assert_eq!(errors.len(), 2);
    assert!(errors[0].reason.contains("already stored"), "{errors:?}");
}

#[tokio::test]
async fn every_fault_of_a_file_is_listed_by_line_and_field() {
    let (_dir, keys) = key_dir("faults");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    let csv = "户号,姓名,身份证号,联系电话,出生日期,性别,户籍类型,标签\n\
               H1,张三,11010519491231002X,12345,,,户籍,\n\
               \n\
               H1,,11010519491231002X,,1949-12-30,男,外地,独居老人;土豪\n\
               H2,李四,441502194001010018,13800000001,,,流动,\n\
               H3,王五,441502194001010018,,,,户籍,\n";
    let errors = match imports::validate(
        Kind::Residents,
        Format::Csv,
        Box::new(std::io::Cursor::new(csv.as_bytes().to_vec())),
        &keys,
        today,
        &|_, _, _| {},
    ) {
        Err(ImportError::Invalid(e)) => e,
        other => panic!("{other:?}"),
    };
    let got: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(
        got,
        [
            (2, "phone"),
            (4, "name"),
            (4, "birth_date"),
            (4, "sex"),
            (4, "registration"),
            (4, "tags"),
            (6, "id_number"),
        ],
        "{errors:#?}"
    );
    let text = format!("{errors:?}");
    assert!(
        !text.contains("11010519491231002X") && !text.contains("12345\""),
        "{text}"
    );
    assert!(text.contains("also on line 5"), "{text}");

    // A missing column is named with the headers it may have.
    let errors = match imports::validate(
        Kind::Households,
        Format::Csv,
        Box::new(std::io::Cursor::new(b"code,door\nH1,101\n".to_vec())),
        &keys,
        today,
        &|_, _, _| {},
    ) {
        Err(ImportError::Invalid(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].line, errors[0].field.as_str()),
        (1, "building_code")
    );
    assert!(errors[0].reason.contains("楼栋编码"), "{errors:?}");

    // Not a workbook.
    let errors = match imports::validate(
        Kind::Residents,
        Format::Xlsx,
        Box::new(std::io::Cursor::new(b"not a zip".to_vec())),
        &keys,
        today,
        &|_, _, _| {},
    ) {
        Err(ImportError::Invalid(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!((errors[0].line, errors[0].field.as_str()), (0, "file"));
}

#[tokio::test]
async fn the_api_imports_every_format_for_command_and_admin_in_scope() {
    let url = demo_db().await;
    let (dir, _) = key_dir("api");
    let server = TestServer::start_with(&url, |c| c.data_dir.clone_from(&dir)).await;
    let post = |client: &reqwest::Client, query: &str, name: &str| {
        let req = client
            .post(server.url(&format!("/api/v1/imports?{query}")))
            .header("content-type", "application/octet-stream")
            .body(std::fs::read(fixture(name)).unwrap());
        async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    // Who may import.
    let (s, _) = post(&server.anon, "kind=buildings&format=csv", "buildings.csv").await;
    assert_eq!(s, 401);
    for role in ["field", "planner", "reporter"] {
        let c = server.client(role, None).await;
        let (s, v) = post(&c, "kind=buildings&format=csv", "buildings.csv").await;
        assert_eq!(s, 403, "{role}: {v}");
    }
    let (s, v) = post(&server.http, "kind=people&format=csv", "buildings.csv").await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = post(&server.http, "kind=buildings", "buildings.csv").await;
    assert_eq!(s, 400, "{v}");

    // A command token of another district: the buildings lie outside it, rows refused.
    let luhe = server.client("command", Some("441581")).await;
    let (s, v) = post(&luhe, "kind=buildings&format=csv", "buildings.csv").await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["error"]["code"], "invalid_rows");
    assert_eq!(v["error_count"], 2);
    assert_eq!(v["errors"][0]["line"], 2);
    assert_eq!(v["errors"][0]["field"], "location");
    assert_eq!(count(&url, "buildings").await, 0);

    // The district's own command token imports them (CSV), then GeoJSON with an outline.
    let chengqu = server.client("command", Some("441502")).await;
    let (s, v) = post(&chengqu, "kind=buildings&format=csv", "buildings.csv").await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["imported"], 2);
    assert_eq!(v["ignored_columns"][0], "备注");
    let (s, v) = post(
        &chengqu,
        "kind=buildings&format=geojson",
        "buildings.geojson",
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let db = sql(&url).await;
    let kind: String = db
        .query_one(
            "SELECT GeometryType(geom) FROM buildings WHERE code = 'IMP-G1'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kind, "MULTIPOLYGON");
    for (q, name, n) in [
        ("kind=households&format=csv", "households.csv", 3),
        ("kind=places&format=csv", "places.csv", 3),
        ("kind=organisations&format=csv", "organisations.csv", 1),
        ("kind=residents&format=xlsx", "residents.xlsx", 2),
    ] {
        let (s, v) = post(&server.http, q, name).await;
        assert_eq!(s, 201, "{name}: {v}");
        assert_eq!(v["imported"], n, "{name}: {v}");
    }

    // Seen at once by the importing instance: the building's linked view, the residents.
    let bid: i64 = db
        .query_one("SELECT id FROM buildings WHERE code = 'IMP-B2'", &[])
        .await
        .unwrap()
        .get(0);
    let (s, v) = server.get(&format!("/api/v1/buildings/{bid}")).await;
    assert_eq!(s, 200, "{v}");
    let body = v.to_string();
    assert!(body.contains("黄*戊"), "{body}");
    assert!(!body.contains("黄测戊"), "masked: {body}");
    let (s, v) = server.get("/api/v1/residents?q=黄测").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["residents"].as_array().unwrap().len(), 2, "{v}");
    let tags: Vec<&str> = v["residents"][0]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tags, ["disabled", "low_income"]);
    let place: (Option<i64>, f64) = {
        let r = db
            .query_one(
                "SELECT building_id, ST_X(geom) FROM places WHERE code = 'IMP-P1'",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert!(place.0.is_some());
    assert!((place.1 - 115.37).abs() < 1e-9, "the building's point");

    // A refusal over HTTP names the row and holds no personal data.
    let (s, v) = post(&server.http, "kind=residents&format=xlsx", "residents.xlsx").await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(
        v["errors"][0]["line"], 3,
        "the spreadsheet's own row number"
    );
    let body = v.to_string();
    assert!(!body.contains("441502195505050"), "{body}");
    assert!(!body.contains("13800000005"), "{body}");
    assert_eq!(count(&url, "residents").await, 2);
}

#[tokio::test]
async fn a_running_server_sees_what_another_process_imported() {
    let url = demo_db().await;
    let (dir, keys) = key_dir("feed");
    let server = TestServer::start_with(&url, |c| c.data_dir.clone_from(&dir)).await;
    // Another process (here: the command line's function with its own pool).
    let store = Store::connect(&url, 4).unwrap();
    minqing::cli::import_register(
        &store,
        &keys,
        Kind::Buildings,
        Format::GeoJson,
        &fixture("buildings.geojson"),
    )
    .await
    .unwrap();
    let bid: i64 = sql(&url)
        .await
        .query_one("SELECT id FROM buildings WHERE code = 'IMP-G2'", &[])
        .await
        .unwrap()
        .get(0);
    let mut seen = false;
    for _ in 0..100 {
        let (s, _) = get_with(
            &server.anon,
            &server.url(&format!("/api/v1/buildings/{bid}")),
        )
        .await;
        if s == 200 {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        seen,
        "the import did not reach the running server within 10 s"
    );

    // People too, and a removal by another instance (here: SQL) reaches the index the same
    // way.
    for (kind, name) in [
        (Kind::Buildings, "buildings.csv"),
        (Kind::Households, "households.csv"),
        (Kind::Residents, "residents.csv"),
    ] {
        let format = Format::of_path(Path::new(name)).unwrap();
        minqing::cli::import_register(&store, &keys, kind, format, &fixture(name))
            .await
            .unwrap();
    }
    let people = |n: usize| {
        let server = &server;
        async move {
            for _ in 0..100 {
                let (s, v) = server.get("/api/v1/residents?q=%E9%99%88%E6%B5%8B").await;
                assert_eq!(s, 200, "{v}");
                if v["residents"].as_array().unwrap().len() == n {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            false
        }
    };
    assert!(
        people(2).await,
        "the imported residents (陈测…) did not appear"
    );
    sql(&url)
        .await
        .execute("DELETE FROM residents WHERE name = '陈测乙'", &[])
        .await
        .unwrap();
    assert!(
        people(1).await,
        "the removal did not reach the running server"
    );
}
