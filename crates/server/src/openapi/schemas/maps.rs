//! Schemas: the tile catalog and TileJSON.

#[allow(clippy::wildcard_imports)]
use super::*;

/// A layer of the catalog.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogLayer {
    /// `areas`, `events` or `heat`.
    pub id: String,
    /// Its TileJSON URL.
    pub tilejson: String,
}

/// The tile catalog.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TileCatalog {
    pub tiles: Vec<CatalogLayer>,
}

/// A vector layer of a TileJSON.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VectorLayer {
    pub id: String,
    /// Field names and their types.
    pub fields: BTreeMap<String, String>,
    pub minzoom: u8,
    pub maxzoom: u8,
}

/// TileJSON 3.0.0.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TileJson {
    /// `3.0.0`.
    #[schema(pattern = r"^3\.0\.0$")]
    pub tilejson: String,
    pub name: String,
    /// The tile URL template.
    #[schema(min_items = 1)]
    pub tiles: Vec<String>,
    pub minzoom: u8,
    pub maxzoom: u8,
    /// `[west, south, east, north]`.
    #[schema(min_items = 4, max_items = 4)]
    pub bounds: Vec<f64>,
    /// `[lon, lat, zoom]`.
    #[schema(min_items = 3, max_items = 3)]
    pub center: Vec<f64>,
    pub vector_layers: Vec<VectorLayer>,
}
