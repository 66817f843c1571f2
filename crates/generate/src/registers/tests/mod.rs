//! Tests of the registers: fixtures here, the checks in the child modules.

mod rates;
mod records;

use super::*;
use geo_types::{LineString, MultiPolygon, Polygon};
use minqing_model::register::{PlaceClass, age_on, check_phone};
use std::time::Instant;

fn square(x: f64, y: f64, d: f64) -> MultiPolygon<f64> {
    let ring = LineString::from(vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]);
    MultiPolygon(vec![Polygon::new(ring, vec![])])
}

fn area(
    code: &str,
    name: &str,
    level: Level,
    parent: Option<&str>,
    households: i32,
    geom: MultiPolygon<f64>,
) -> AreaRecord {
    AreaRecord {
        code: code.into(),
        name: name.into(),
        name_en: None,
        level,
        parent_code: parent.map(Into::into),
        households,
        population: households * 16 / 5,
        workers: vec![],
        generated: true,
        source: "test".into(),
        geom,
    }
}

const DENSE_COMM: &str = "441502003005";
const VILLAGE: &str = "441502003201";

/// 城区 / 凤山街道 / 凤翔社区 (two dense grids) and 布金村 (a town grid and a rural one).
fn small() -> Vec<AreaRecord> {
    let d = 0.004; // ≈ 0.18 km²: 400 households are dense
    vec![
        area(
            "441502",
            "城区",
            Level::District,
            None,
            0,
            square(115.3, 22.7, 0.2),
        ),
        area(
            "441502003",
            "凤山街道",
            Level::Street,
            Some("441502"),
            0,
            square(115.3, 22.7, 0.2),
        ),
        area(
            DENSE_COMM,
            "凤翔社区居委会",
            Level::Community,
            Some("441502003"),
            0,
            square(115.3, 22.7, 0.008),
        ),
        area(
            VILLAGE,
            "布金村民委员会",
            Level::Community,
            Some("441502003"),
            0,
            square(115.35, 22.7, 0.05),
        ),
        area(
            "441502003005001",
            "凤翔社区居委会第1网格",
            Level::Grid,
            Some(DENSE_COMM),
            400,
            square(115.3, 22.7, d),
        ),
        area(
            "441502003005002",
            "凤翔社区居委会第2网格",
            Level::Grid,
            Some(DENSE_COMM),
            350,
            square(115.3 + d, 22.7, d),
        ),
        area(
            "441502003201001",
            "布金村民委员会第1网格",
            Level::Grid,
            Some(VILLAGE),
            450,
            square(115.35, 22.7, 0.01),
        ),
        area(
            "441502003201002",
            "布金村民委员会第2网格",
            Level::Grid,
            Some(VILLAGE),
            300,
            square(115.36, 22.7, 0.03),
        ),
    ]
}

/// `n` communities of 2 dense, 2 town and 2 rural grids of 1,000 households each.
fn large(n: usize) -> Vec<AreaRecord> {
    let mut v = vec![
        area(
            "441521",
            "海丰县",
            Level::District,
            None,
            0,
            square(115.0, 22.0, 1.0),
        ),
        area(
            "441521100",
            "海城镇",
            Level::Street,
            Some("441521"),
            0,
            square(115.0, 22.0, 1.0),
        ),
    ];
    for c in 0..n {
        let code = format!("441521100{:03}", c + 1);
        let x = 115.0 + 0.1 * c as f64;
        v.push(area(
            &code,
            &format!("第{c}社区居委会"),
            Level::Community,
            Some("441521100"),
            0,
            square(x, 22.0, 0.1),
        ));
        for (g, side) in [0.005, 0.005, 0.015, 0.015, 0.05, 0.05]
            .into_iter()
            .enumerate()
        {
            let y = 22.0 + 0.06 * (g / 2) as f64;
            let gx = x + if g % 2 == 1 { 0.05 } else { 0.0 };
            v.push(area(
                &format!("{code}{:03}", g + 1),
                "网格",
                Level::Grid,
                Some(&code),
                1000,
                square(gx, y, side),
            ));
        }
    }
    v
}

fn opts(scale: f64) -> RegisterOptions {
    RegisterOptions {
        seed: 11,
        scale,
        pilots: vec![],
    }
}

/// The grid code of each building id (index id − 1).
fn building_grids(r: &Registers) -> Vec<&str> {
    r.buildings
        .iter()
        .map(|b| b.code.split("-B").next().unwrap())
        .collect()
}
