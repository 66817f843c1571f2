//! Tile math and Mapbox Vector Tile production for minqing: pure functions, no IO.
//!
//! Web-Mercator (EPSG:3857) XYZ tiles as MapLibre requests them: tile `(z, x, y)` with `y`
//! counted from the north. The server queries its in-memory index with a tile's buffered
//! bounds, projects what it finds into tile-local coordinates, clips and simplifies polygons,
//! clusters or bins points, and encodes the result as MVT 2.1; this crate does every step but
//! the query.
//!
//! ```
//! use minqing_tiles::{
//!     clip_polygon, simplify_polygon, Geometry, SimplifyOptions, TileBuilder, TileId,
//!     TileProjection, DEFAULT_EXTENT,
//! };
//!
//! let tile = TileId::parse("14", "13443", "7249").unwrap();
//! let proj = TileProjection::with_defaults(tile);
//! let b = tile.bounds();
//! let ring = [[b.west, b.south], [b.east, b.south], [b.east, b.north], [b.west, b.north]];
//! let projected = vec![proj.project_line(&ring)];
//! let clipped = clip_polygon(&projected, &proj.clip_box());
//! let rings = simplify_polygon(&clipped, SimplifyOptions::default()).unwrap();
//! let mut mvt = TileBuilder::new();
//! mvt.layer("areas", DEFAULT_EXTENT)
//!     .add_feature(Some(1), &Geometry::Polygon(rings), &[("name", "东区".into())]);
//! let bytes = mvt.encode();
//! assert_eq!(minqing_tiles::decode(&bytes).unwrap()[0].features.len(), 1);
//! ```
//!
//! # Layout
//!
//! - `tile` — [`TileId`] (address, [`TileId::parse`], bounds, buffered bounds, children,
//!   parent, [`TileId::containing`] with its half-open edge rule), [`TileProjection`]
//!   (lon/lat → tile-local coordinates, ownership test [`TileProjection::locate`];
//!   [`TileProjection::project_world`] for callers that keep each vertex in 32-bit world
//!   coordinates ([`world_u32`]);
//!   [`FastProjection`] for tiles of many points).
//! - `mvt` — the MVT 2.1 encoder: [`TileBuilder`], [`LayerBuilder`], [`Value`] (key/value
//!   tables, features, layers); [`Tag`] for properties many features repeat.
//! - `geometry` — [`Geometry`] in tile-local integer coordinates, its cleaning (duplicates,
//!   degenerate rings, winding) and command encoding; [`FlatPolygons`] (every ring in one
//!   buffer, for [`LayerBuilder::add_flat_polygons`]); [`signed_area2`].
//! - `clip` — [`ClipBox`], [`clip_polygon`], [`clip_ring`], [`clip_line`], [`clip_points`] on
//!   projected `f64` coordinates; [`RingClipper`] reuses its buffers from ring to ring.
//! - [`sdf`] — signed distance fields of glyph outlines (map label glyphs).
//! - `simplify` — crack-free simplification by snapping to the tile grid:
//!   [`simplify_polygon`], [`simplify_ring`], [`simplify_ring_into`], [`simplify_line`],
//!   [`SimplifyOptions`].
//! - `cluster` — grid clustering with exact counts: [`cluster_points`], [`Membership`].
//! - `heat` — density bins with exact counts: [`heat_bins`].
//! - `decode` — a minimal MVT decoder for round-trip tests: [`decode()`].
//! - [`pbf`] — protobuf varints, zigzag and field keys; its field writers are public for
//!   the glyph ranges the service encodes.

mod clip;
mod cluster;
mod decode;
mod geometry;
mod hash;
mod heat;
mod mvt;
pub mod pbf;
pub mod sdf;
mod simplify;
mod tile;

pub use clip::{ClipBox, RingClipper, clip_line, clip_points, clip_polygon, clip_ring};
pub use cluster::{Cluster, ClusterOptions, ClusterPoint, Clusters, Membership, cluster_points};
pub use decode::{DecodedFeature, DecodedLayer, decode};
pub use geometry::{FlatPolygons, GeomType, Geometry, TileCoord, signed_area2};
pub use hash::{FastHashMap, FastHasher};
pub use heat::{Heat, HeatCell, HeatOptions, HeatPoint, heat_bins};
pub use mvt::{LayerBuilder, MVT_VERSION, Tag, TileBuilder, Value};
pub use pbf::PbfError;
pub use simplify::{
    SimplifyOptions, simplify_line, simplify_polygon, simplify_ring, simplify_ring_into,
};
pub use tile::{
    DEFAULT_BUFFER, DEFAULT_EXTENT, FastProjection, LonLatBounds, MAX_LAT, MAX_ZOOM, TileId,
    TileIdError, TileProjection, round_coord, world_u32, world_xy,
};
