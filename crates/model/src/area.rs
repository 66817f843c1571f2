//! Areas of the governance hierarchy: district → street → community → grid.

use geo_types::MultiPolygon;
use serde::{Deserialize, Serialize};

/// A level of the hierarchy, from the city down to the grid (网格).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 市: the whole city.
    City,
    /// 区/县: a county-level district.
    District,
    /// 街道/乡镇: a street or township.
    Street,
    /// 社区/村: a community or village.
    Community,
    /// 网格: a grid of roughly 200–500 households, the unit events are assigned to.
    Grid,
}

impl Level {
    /// All levels, top down.
    pub const ALL: [Level; 5] = [
        Level::City,
        Level::District,
        Level::Street,
        Level::Community,
        Level::Grid,
    ];

    /// The name used in the database, the API and files.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::District => "district",
            Level::Street => "street",
            Level::Community => "community",
            Level::Grid => "grid",
        }
    }

    /// Parses the name used in the database, the API and files.
    #[must_use]
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The Chinese name of the level.
    #[must_use]
    pub fn zh(self) -> &'static str {
        match self {
            Level::City => "市",
            Level::District => "区县",
            Level::Street => "街道乡镇",
            Level::Community => "社区村",
            Level::Grid => "网格",
        }
    }
}

/// An area to be stored: what generators and importers produce.
///
/// The parent is named by its code so that files can be written before ids exist.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaRecord {
    /// Administrative or generated code, unique among current areas.
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// English name, when known.
    pub name_en: Option<String>,
    /// Level in the hierarchy.
    pub level: Level,
    /// Code of the parent area; `None` only at the top.
    pub parent_code: Option<String>,
    /// Households living in the area.
    pub households: i32,
    /// Residents living in the area.
    pub population: i32,
    /// Names of the responsible grid workers (grids only).
    pub workers: Vec<String>,
    /// True when the boundary or the figures are generated rather than real.
    pub generated: bool,
    /// Where the boundary and the name come from.
    pub source: String,
    /// Boundary in EPSG:4326 (lon, lat).
    pub geom: MultiPolygon<f64>,
}

/// A stored area, as the index and the API see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    /// Database id.
    pub id: i64,
    /// Administrative or generated code.
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// English name, when known.
    pub name_en: Option<String>,
    /// Level in the hierarchy.
    pub level: Level,
    /// Id of the parent area.
    pub parent_id: Option<i64>,
    /// Households living in the area.
    pub households: i32,
    /// Residents living in the area.
    pub population: i32,
    /// Names of the responsible grid workers.
    pub workers: Vec<String>,
    /// True when generated rather than real.
    pub generated: bool,
    /// Provenance.
    pub source: String,
    /// Boundary version, starting at 1.
    pub version: i32,
    /// Boundary in EPSG:4326.
    pub geom: MultiPolygon<f64>,
}

impl Area {
    /// An area for unit tests (of this and other crates): generated, version 1, no
    /// households or workers.
    #[doc(hidden)]
    #[must_use]
    pub fn for_tests(
        id: i64,
        code: &str,
        name: &str,
        level: Level,
        parent_id: Option<i64>,
        geom: MultiPolygon<f64>,
    ) -> Area {
        Area {
            id,
            code: code.to_owned(),
            name: name.to_owned(),
            name_en: None,
            level,
            parent_id,
            households: 0,
            population: 0,
            workers: Vec::new(),
            generated: true,
            source: String::new(),
            version: 1,
            geom,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_round_trip() {
        for l in Level::ALL {
            assert_eq!(Level::parse(l.as_str()), Some(l));
        }
        assert_eq!(Level::parse("county"), None);
    }
}
