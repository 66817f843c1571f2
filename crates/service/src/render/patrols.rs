//! The `patrols` layer: the density of grid workers' patrol track points, counted by PostGIS
//! per tile (`minqing-store`'s `sql/patrols/density.sql`) and drawn here.
//!
//! A tile is cut into [`CELLS`] × [`CELLS`] cells, as the `heat` layer is: each cell is 64
//! units of the 4,096-unit tile (8 px of a 512-px tile), exactly the tile six zooms down,
//! about 38 m wide at zoom 14 and 600 m at zoom 10 in Shanwei — fine enough to show the
//! streets walked, coarse enough that a zoomed-out tile stays small (at most 4,096 points).
//! Each non-empty cell is a point at its centre with `n`, the number of track points in it.
//! A point counts in the one tile of a zoom, and the one cell of it, whose west and north
//! edges hold it or that it lies inside (the same half-open rule as the clusters and heat).
//!
//! Who sees what is the rule of `GET /api/v1/patrols`: staff tokens (the roles that read
//! events), counting only the points of patrols started over a grid of the caller's scope
//! (a grid worker's: the grids they hold); anyone else gets no tile. A patrol's points are
//! counted wherever the walk went, as the list shows its whole track.
//!
//! Not cached: each request counts afresh, so a tile is current as soon as a batch of
//! points is committed, and no entry could outlive a change of scope or period.

use chrono::{DateTime, Utc};
use minqing_index::{AreaIndex, GridSet};
use minqing_store::{DensityCell, Store, StoreError};
use minqing_tiles::{DEFAULT_EXTENT, Geometry, TileId, Value};

use super::{Layer, with_tile_builder};

/// Cells per tile side: 64 × 64, each the tile [`CELL_ZOOMS`] zooms down.
pub const CELLS: u32 = 1 << CELL_ZOOMS;
/// How many zooms down a cell is a whole tile.
pub const CELL_ZOOMS: u8 = 6;
/// The longest period a tile counts over: a year and a day.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// The `patrols` tile `tile` for an audience whose scope is `grids` (`None`: every grid):
/// the track points recorded in [`from`, `to`) of the patrols started over one of those
/// grids, counted per cell by PostGIS. Empty (no bytes) when no cell holds a point.
///
/// # Errors
///
/// The store's, when the database cannot be reached or the statement fails.
pub async fn patrols_tile(
    store: &Store,
    areas: &AreaIndex,
    grids: Option<&GridSet>,
    tile: TileId,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<u8>, StoreError> {
    // The scope's grids by code, as patrols record the grids they were started over.
    let codes: Option<Vec<String>> = grids.map(|s| {
        s.grids
            .iter()
            .filter_map(|g| areas.get(*g).map(|a| a.code.clone()))
            .collect()
    });
    if codes.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let cells = store
        .patrol_density(
            (tile.z, tile.x, tile.y),
            CELLS,
            (from, to),
            codes.as_deref(),
        )
        .await?;
    Ok(draw(&cells))
}

/// The tile of `cells` (as [`Store::patrol_density`] counts them with [`CELLS`]): a point
/// at each cell's centre with its count `n`; empty when there is none.
#[must_use]
pub fn draw(cells: &[DensityCell]) -> Vec<u8> {
    if cells.is_empty() {
        return Vec::new();
    }
    let size = DEFAULT_EXTENT / CELLS;
    let centre = |i: u32| i32::try_from(i * size + size / 2).unwrap_or(i32::MAX);
    with_tile_builder(|mvt| {
        let layer = mvt.layer(Layer::Patrols.name(), DEFAULT_EXTENT);
        for c in cells.iter().filter(|c| c.cx < CELLS && c.cy < CELLS) {
            layer.add_feature(
                None,
                &Geometry::Point([centre(c.cx), centre(c.cy)]),
                &[("n", Value::from(c.n))],
            );
        }
        mvt.encode()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use minqing_tiles::decode;

    /// A decoded feature's geometry and properties.
    type Drawn = (Vec<Vec<[i32; 2]>>, Vec<(String, Value<'static>)>);

    #[test]
    fn each_cell_is_a_point_at_its_centre_with_its_count() {
        let cells = [
            DensityCell { cx: 0, cy: 0, n: 3 },
            DensityCell {
                cx: 63,
                cy: 10,
                n: 1,
            },
        ];
        let layers = decode(&draw(&cells)).unwrap_or_default();
        assert_eq!(layers.len(), 1);
        assert_eq!(layers[0].name, "patrols");
        let got: Vec<Drawn> = layers[0]
            .features
            .iter()
            .map(|f| (f.geometry.clone(), f.properties.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (vec![vec![[32, 32]]], vec![("n".into(), Value::U64(3))]),
                (vec![vec![[4064, 672]]], vec![("n".into(), Value::U64(1))]),
            ]
        );
        assert!(draw(&[]).is_empty());
    }
}
