//! The embedded Shanwei reference data: county polygons and the street/village name lists.

use geo_types::{LineString, MultiPolygon, Polygon};
use serde_json::Value;

use super::GenerateError;
use minqing_model::geojson::multipolygon_from_json;

const COUNTIES: &str = include_str!("../../../geodata/shanwei/shanwei_counties_cgcs2000.geojson");
const TOWNSHIPS: &str = include_str!("../../../geodata/shanwei/shanwei_townships_names.csv");
const VILLAGES: &str = include_str!("../../../geodata/shanwei/shanwei_villages_names.csv");

/// A real county-level district.
#[derive(Debug, Clone)]
pub(crate) struct County {
    /// Adcode, e.g. `441502`.
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// English name.
    pub name_en: &'static str,
    /// Provenance of the boundary.
    pub source: String,
    /// Boundary, exteriors CCW and holes CW (vertices exactly as in the file).
    pub geom: MultiPolygon<f64>,
    /// Urban centre (lon, lat).
    pub centre: [f64; 2],
    /// Plausible resident population.
    pub population: f64,
}

/// A named child: a street (parent = county) or a community (parent = street).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Named {
    /// Statistical division code.
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// Code of the parent.
    pub parent: String,
}

fn known(code: &str) -> Option<(&'static str, [f64; 2], f64)> {
    match code {
        "441502" => Some(("Chengqu", [115.37, 22.78], 550_000.0)),
        "441521" => Some(("Haifeng County", [115.32, 22.97], 760_000.0)),
        "441523" => Some(("Luhe County", [115.66, 23.30], 240_000.0)),
        "441581" => Some(("Lufeng City", [115.64, 22.95], 1_150_000.0)),
        _ => None,
    }
}

/// Twice the signed area of a closed ring (positive when counter-clockwise).
pub(crate) fn ring_area2(r: &LineString<f64>) -> f64 {
    r.0.windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum()
}

fn oriented(r: &LineString<f64>, ccw: bool) -> LineString<f64> {
    let mut r = r.clone();
    if (ring_area2(&r) > 0.0) != ccw {
        r.0.reverse();
    }
    r
}

/// The 4 counties, sorted by code.
pub(crate) fn counties() -> Result<Vec<County>, GenerateError> {
    let bad = |m: &str| GenerateError::Data(format!("counties: {m}"));
    let v: Value = serde_json::from_str(COUNTIES).map_err(|e| bad(&e.to_string()))?;
    let features = v
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no features"))?;
    let mut out = Vec::new();
    for f in features {
        let p = f.get("properties").ok_or_else(|| bad("no properties"))?;
        let s = |k: &str| {
            p.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| bad(&format!("missing {k}")))
        };
        let code = s("adcode")?;
        let (name_en, centre, population) =
            known(&code).ok_or_else(|| bad(&format!("unknown county {code}")))?;
        let geom = multipolygon_from_json(f.get("geometry").ok_or_else(|| bad("no geometry"))?)
            .map_err(|e| bad(&e))?;
        let geom = MultiPolygon(
            geom.0
                .iter()
                .map(|p| {
                    Polygon::new(
                        oriented(p.exterior(), true),
                        p.interiors().iter().map(|h| oriented(h, false)).collect(),
                    )
                })
                .collect(),
        );
        out.push(County {
            code,
            name: s("name")?,
            name_en,
            source: s("source")?,
            geom,
            centre,
            population,
        });
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    if out.len() != 4 {
        return Err(bad("expected 4 counties"));
    }
    Ok(out)
}

fn csv(text: &str, parent_col: &str) -> Result<Vec<Named>, GenerateError> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| GenerateError::Data("empty csv".into()))?
        .split(',')
        .collect();
    let col = |n: &str| {
        header
            .iter()
            .position(|h| h.trim() == n)
            .ok_or_else(|| GenerateError::Data(format!("csv has no column {n}")))
    };
    let (ic, iname, ip) = (col("code")?, col("name")?, col(parent_col)?);
    let mut out = Vec::new();
    for l in lines {
        let cells: Vec<&str> = l.split(',').map(|c| c.trim().trim_matches('"')).collect();
        let get = |i: usize| {
            cells
                .get(i)
                .map(|s| (*s).to_string())
                .ok_or_else(|| GenerateError::Data(format!("short csv line {l:?}")))
        };
        out.push(Named {
            code: get(ic)?,
            name: get(iname)?,
            parent: get(ip)?,
        });
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}

/// The 63 streets/townships (parent = county code), sorted by code.
pub(crate) fn streets() -> Result<Vec<Named>, GenerateError> {
    csv(TOWNSHIPS, "areaCode")
}

/// The 907 communities/villages (parent = street code), sorted by code.
pub(crate) fn communities() -> Result<Vec<Named>, GenerateError> {
    csv(VILLAGES, "streetCode")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reference_data_loads() {
        let c = counties().unwrap();
        assert_eq!(c.len(), 4);
        for county in &c {
            for p in &county.geom.0 {
                assert!(ring_area2(p.exterior()) > 0.0);
            }
        }
        let s = streets().unwrap();
        assert_eq!(s.len(), 63);
        assert!(s.iter().all(|x| c.iter().any(|c| c.code == x.parent)));
        let v = communities().unwrap();
        assert_eq!(v.len(), 907);
        assert!(v.iter().all(|x| s.iter().any(|s| s.code == x.parent)));
        assert_eq!(v[0].name, "立新社区居委会");
    }
}
