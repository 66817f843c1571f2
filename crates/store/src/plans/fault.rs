//! The faults a validation finds in a draft, and the pieces of the plane they are about
//! (found by `validation` and by the input checks of `checks`).

use serde::Serialize;
use tokio_postgres::Row;

use super::model::loc;
use crate::rows::RowExt;

/// A piece of the plane a fault is about (an overlap, a hole, a part outside its parent).
#[derive(Debug, Clone, Serialize)]
pub struct Piece {
    /// Area, m².
    pub area_m2: f64,
    /// A point inside it.
    pub location: Option<[f64; 2]>,
    /// Its shape (GeoJSON Polygon), to draw.
    pub geometry: Option<serde_json::Value>,
}

impl Piece {
    /// From the columns `area_m2`, `x`, `y` and `geometry` (GeoJSON) of a row.
    pub(super) fn from_row(r: &Row) -> Result<Piece, crate::StoreError> {
        Ok(Piece {
            area_m2: r.col("area_m2")?,
            location: loc(r.col("x")?, r.col("y")?),
            geometry: r.col("geometry")?,
        })
    }
}

/// One fault of a draft.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// A polygon that is not valid.
    InvalidGeometry {
        /// Key.
        grid: i32,
        /// Code.
        code: String,
        /// Reason.
        reason: String,
        /// Where.
        location: Option<[f64; 2]>,
    },
    /// Two grids overlap.
    Overlap {
        /// The two keys.
        grids: [i32; 2],
        /// Their codes.
        codes: [String; 2],
        /// The overlapping piece.
        #[serde(flatten)]
        piece: Piece,
    },
    /// A hole in a parent's coverage.
    Gap {
        /// Parent area id.
        parent: i64,
        /// Its code.
        parent_code: String,
        /// The hole.
        #[serde(flatten)]
        piece: Piece,
    },
    /// Part of a grid outside its parent.
    OutsideParent {
        /// Key.
        grid: i32,
        /// Code.
        code: String,
        /// Parent area id.
        parent: i64,
        /// The part outside.
        #[serde(flatten)]
        piece: Piece,
    },
    /// Households outside the bounds.
    Households {
        /// Key.
        grid: i32,
        /// Code.
        code: String,
        /// Its households.
        households: i32,
        /// Lowest allowed.
        min: i32,
        /// Highest allowed.
        max: i32,
    },
    /// Population outside the bounds.
    Population {
        /// Key.
        grid: i32,
        /// Code.
        code: String,
        /// Its population.
        population: i32,
        /// Lowest allowed.
        min: Option<i32>,
        /// Highest allowed.
        max: Option<i32>,
    },
}
