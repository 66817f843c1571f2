//! Time travel: the areas as they were at a time (every publish keeps the closed versions,
//! `valid_from`/`valid_to`), and the stamp by which an instance knows the current set
//! changed.

use crate::rows::RowExt;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use crate::{Result, Store, StoreError};
use minqing_model::{Area, Level, wkb};

/// Filters of a historical area listing.
#[derive(Debug, Clone, Copy, Default)]
pub struct AreasAt {
    /// Only this level.
    pub level: Option<Level>,
    /// Only children of this area.
    pub parent: Option<i64>,
    /// Only areas meeting this box.
    pub bbox: Option<minqing_model::BBox>,
}

impl Store {
    /// The grid covering a point at a time (smallest id among the grids valid then), and
    /// its ancestors, nearest first.
    pub async fn locate_at(
        &self,
        lon: f64,
        lat: f64,
        at: DateTime<Utc>,
    ) -> Result<Option<(Area, Vec<Area>)>> {
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("../sql/plan_locate_at.sql"))
            .await?;
        let rows = conn.query(&stmt, &[&lon, &lat, &at]).await?;
        let mut areas = rows.iter().map(area_from_row).collect::<Result<Vec<_>>>()?;
        if areas.is_empty() {
            return Ok(None);
        }
        let grid = areas.remove(0);
        Ok(Some((grid, areas)))
    }

    /// Areas valid at a time, in id order after `after`, at most `limit`.
    pub async fn areas_at(
        &self,
        at: DateTime<Utc>,
        filter: &AreasAt,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Area>> {
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("../sql/plan_areas_at.sql"))
            .await?;
        let b = filter.bbox;
        let rows = conn
            .query(
                &stmt,
                &[
                    &at,
                    &after.unwrap_or(i64::MIN),
                    &limit,
                    &filter.level.map(Level::as_str),
                    &filter.parent,
                    &b.map(|b| b.min_lon),
                    &b.map(|b| b.min_lat),
                    &b.map(|b| b.max_lon),
                    &b.map(|b| b.max_lat),
                ],
            )
            .await?;
        rows.iter().map(area_from_row).collect()
    }

    /// Identifies the set of current areas: (count, sum of ids). A redraw or an import
    /// changes it (new rows take ids above every existing one), so an instance compares it
    /// with its index to know whether to reload.
    pub async fn areas_stamp(&self) -> Result<(i64, i64)> {
        let conn = self.conn().await?;
        let r = conn
            .query_one(include_str!("../sql/plan_areas_stamp.sql"), &[])
            .await?;
        Ok((r.col("areas")?, r.col("id_sum")?))
    }
}

/// An area from a row of `sql/plan_locate_at.sql` or `sql/plan_areas_at.sql`.
fn area_from_row(r: &Row) -> Result<Area> {
    let id: i64 = r.col("id")?;
    let level: &str = r.col("level")?;
    let level = Level::parse(level).ok_or_else(|| StoreError::Invalid {
        what: "area",
        id,
        detail: format!("level {level:?}"),
    })?;
    let workers: &str = r.col("workers")?;
    let workers = serde_json::from_str(workers).map_err(|e| StoreError::Invalid {
        what: "area",
        id,
        detail: format!("workers: {e}"),
    })?;
    let geom = wkb::read_multipolygon(r.col("geom")?).map_err(|source| StoreError::Geometry {
        what: "area",
        id,
        source,
    })?;
    Ok(Area {
        id,
        code: r.col("code")?,
        name: r.col("name")?,
        name_en: r.col("name_en")?,
        level,
        parent_id: r.col("parent_id")?,
        households: r.col("households")?,
        population: r.col("population")?,
        workers,
        generated: r.col("generated")?,
        source: r.col("source")?,
        version: r.col("version")?,
        geom,
    })
}
