//! Schemas: errors, health, GeoJSON geometry, areas and links.

#[allow(clippy::wildcard_imports)]
use super::*;

/// An error of the REST API.
#[derive(ToSchema)]
pub struct Error {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The code and message of an error (some errors carry more fields, e.g. a plan's
/// `report`, `reason`, `location` or `areas`).
#[derive(ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable (`bad_request`, `unauthorized`, `not_found`, `conflict`, …).
    pub code: String,
    /// For people.
    pub message: String,
}

/// `/healthz`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// `ok`.
    #[schema(pattern = "^ok$")]
    pub status: String,
}

/// `/readyz`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ready {
    /// `ready`.
    #[schema(pattern = "^ready$")]
    pub status: String,
    /// Areas loaded.
    pub areas: u64,
    /// Grids among them.
    pub grids: u64,
    /// Events loaded.
    pub events: u64,
}

/// `"Feature"`.
#[derive(ToSchema)]
pub enum FeatureType {
    /// A GeoJSON Feature.
    Feature,
}

/// `"FeatureCollection"`.
#[derive(ToSchema)]
pub enum CollectionType {
    /// A GeoJSON FeatureCollection.
    FeatureCollection,
}

/// `"Point"`.
#[derive(ToSchema)]
pub enum PointType {
    /// A GeoJSON Point.
    Point,
}

/// `"MultiPolygon"`.
#[derive(ToSchema)]
pub enum MultiPolygonType {
    /// A GeoJSON MultiPolygon.
    MultiPolygon,
}

/// A GeoJSON Point.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Point {
    #[serde(rename = "type")]
    pub kind: PointType,
    /// `[lon, lat]`.
    #[schema(min_items = 2, max_items = 2)]
    pub coordinates: Vec<f64>,
}

/// A GeoJSON MultiPolygon.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MultiPolygon {
    #[serde(rename = "type")]
    pub kind: MultiPolygonType,
    /// Polygons of rings of `[lon, lat]` positions.
    pub coordinates: Vec<Vec<Vec<Vec<f64>>>>,
}

/// Area levels.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    City,
    District,
    Street,
    Community,
    Grid,
}

/// The public properties of an area.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaProperties {
    pub id: i64,
    pub code: String,
    pub name: String,
    #[schema(required = true)]
    pub name_en: Option<String>,
    pub level: Level,
    #[schema(required = true)]
    pub parent_id: Option<i64>,
    pub households: i32,
    pub population: i32,
    /// Grid workers (网格员).
    pub workers: Vec<String>,
    /// Generated demo data.
    pub generated: bool,
    pub source: String,
    pub version: i32,
}

/// An area with its boundary.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaFeature {
    #[serde(rename = "type")]
    pub kind: FeatureType,
    /// The area id.
    pub id: i64,
    pub geometry: MultiPolygon,
    pub properties: AreaProperties,
}

/// `rel` of a link.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rel {
    #[serde(rename = "self")]
    This,
    Next,
}

/// A paging link.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub rel: Rel,
    /// `application/geo+json`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Path and query of the page.
    pub href: String,
}

/// A page of areas.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaCollection {
    #[serde(rename = "type")]
    pub kind: CollectionType,
    #[serde(rename = "numberReturned")]
    pub number_returned: u64,
    pub features: Vec<AreaFeature>,
    /// `self`, and `next` when more may follow.
    pub links: Vec<Link>,
}

/// The grid covering a point and its ancestors.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Located {
    pub grid: AreaProperties,
    /// `[community, street, district]` (nearest first).
    pub ancestors: Vec<AreaProperties>,
}
