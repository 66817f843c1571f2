//! Patrols and their tracks (`sql/patrols/*.sql`). A phone starts a patrol with its own id
//! for it and sends points in batches with sequence numbers: a start or a batch sent again
//! (after an answer that never arrived) is stored once.

use chrono::{DateTime, Utc};

use super::rows::{RowExt, get};
use super::{Result, Store, StoreError};
use minqing_model::worker::{Patrol, TrackPoint};

/// Why points or an end were refused.
#[derive(Debug, PartialEq, Eq)]
pub enum PatrolRefusal {
    /// No such patrol of this worker.
    NotFound,
    /// A point lies before the patrol's start or after its end.
    Outside(String),
}

/// What a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    /// Points new to the patrol.
    pub stored: i64,
    /// Points it had already (a replay).
    pub repeated: i64,
}

/// What patrols to list.
#[derive(Debug, Clone, Default)]
pub struct PatrolFilter {
    /// Only this worker's.
    pub worker: Option<i64>,
    /// Only those started over one of these grids (codes).
    pub grids: Option<Vec<String>>,
    /// Started at or after.
    pub from: Option<DateTime<Utc>>,
    /// Started before.
    pub to: Option<DateTime<Utc>>,
    /// Ids above this (the page after).
    pub after: i64,
}

/// One cell of a tile's patrol density (`sql/patrols/density.sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DensityCell {
    /// Column, from the tile's west edge (0 to cells − 1).
    pub cx: u32,
    /// Row, from the tile's north edge (0 to cells − 1).
    pub cy: u32,
    /// Track points in the cell.
    pub n: u64,
}

/// Patrol `id` locked in `tx`, if it is `worker`'s.
async fn lock_own(
    tx: &deadpool_postgres::Transaction<'_>,
    id: i64,
    worker: i64,
) -> Result<Option<tokio_postgres::Row>> {
    Ok(tx
        .query_opt(include_str!("sql/patrols/lock.sql"), &[&id])
        .await?
        .filter(|r| get::<i64>(r, "worker_id").ok() == Some(worker)))
}

impl Store {
    /// Starts a patrol of `worker` (the phone's `client_id` for it) at `at`; returns its id
    /// and whether it is new (false: the same start sent again).
    pub async fn start_patrol(
        &self,
        worker: i64,
        client_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(i64, bool)> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(
                include_str!("sql/patrols/start.sql"),
                &[&worker, &client_id, &at],
            )
            .await?;
        Ok((get(&row, "id")?, get(&row, "inserted")?))
    }

    /// Adds points to patrol `id` of `worker`, in one transaction: every point or none.
    pub async fn add_patrol_points(
        &self,
        id: i64,
        worker: i64,
        points: &[TrackPoint],
    ) -> Result<std::result::Result<Batch, PatrolRefusal>> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let Some(row) = lock_own(&tx, id, worker).await? else {
            return Ok(Err(PatrolRefusal::NotFound));
        };
        let started: DateTime<Utc> = get(&row, "started_at")?;
        let ended: Option<DateTime<Utc>> = get(&row, "ended_at")?;
        if let Some(p) = points
            .iter()
            .find(|p| p.at < started || ended.is_some_and(|e| p.at > e))
        {
            return Ok(Err(PatrolRefusal::Outside(format!(
                "point {} at {} lies outside the patrol ({} to {})",
                p.seq,
                p.at.to_rfc3339(),
                started.to_rfc3339(),
                ended.map_or_else(|| "now".to_owned(), |e| e.to_rfc3339())
            ))));
        }
        let seq: Vec<i32> = points.iter().map(|p| p.seq).collect();
        let at: Vec<DateTime<Utc>> = points.iter().map(|p| p.at).collect();
        let lon: Vec<f64> = points.iter().map(|p| p.lon).collect();
        let lat: Vec<f64> = points.iter().map(|p| p.lat).collect();
        let acc: Vec<f32> = points
            .iter()
            .map(|p| p.accuracy_m.unwrap_or(f32::NAN))
            .collect();
        let row = tx
            .query_one(
                include_str!("sql/patrols/add_points.sql"),
                &[&id, &seq, &at, &lon, &lat, &acc],
            )
            .await?;
        let stored: i64 = get(&row, "stored")?;
        tx.commit().await?;
        let sent = i64::try_from(points.len()).unwrap_or(i64::MAX);
        Ok(Ok(Batch {
            stored,
            repeated: sent - stored,
        }))
    }

    /// Ends patrol `id` of `worker` at `at` (an end sent again keeps the first).
    pub async fn end_patrol(
        &self,
        id: i64,
        worker: i64,
        at: DateTime<Utc>,
    ) -> Result<std::result::Result<(), PatrolRefusal>> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let Some(row) = lock_own(&tx, id, worker).await? else {
            return Ok(Err(PatrolRefusal::NotFound));
        };
        let started: DateTime<Utc> = get(&row, "started_at")?;
        if at < started {
            return Ok(Err(PatrolRefusal::Outside(format!(
                "the end {} lies before the start {}",
                at.to_rfc3339(),
                started.to_rfc3339()
            ))));
        }
        tx.execute(include_str!("sql/patrols/end.sql"), &[&id, &at])
            .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Patrols matching `f`, in id order, at most `limit`, with their tracks.
    pub async fn patrols(&self, f: &PatrolFilter, limit: i64) -> Result<Vec<Patrol>> {
        let conn = self.conn().await?;
        conn.query(
            include_str!("sql/patrols/list.sql"),
            &[&f.after, &limit, &f.worker, &f.grids, &f.from, &f.to],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Patrol {
                id: get(r, "id")?,
                worker_id: get(r, "worker_id")?,
                worker_name: get(r, "worker_name")?,
                started_at: get(r, "started_at")?,
                ended_at: get(r, "ended_at")?,
                grid_codes: get(r, "grid_codes")?,
                points: get(r, "points")?,
                length_m: get(r, "length_m")?,
                track: get(r, "track")?,
                generated: get(r, "generated")?,
            })
        })
        .collect()
    }

    /// Which of the points `at` (lon, lat) a track point of [`from`, `to`) passed within
    /// `within_m` metres on the ellipsoid (`sql/patrols/passed.sql`: an index probe per point,
    /// in a box of `margin` degrees (lon, lat) around it, which must hold the reach).
    pub async fn passed(
        &self,
        at: &[(f64, f64)],
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        within_m: f64,
        margin: (f64, f64),
    ) -> Result<Vec<bool>> {
        let conn = self.conn().await?;
        let lons: Vec<f64> = at.iter().map(|p| p.0).collect();
        let lats: Vec<f64> = at.iter().map(|p| p.1).collect();
        let mut out = vec![false; at.len()];
        for r in conn
            .query(
                include_str!("sql/patrols/passed.sql"),
                &[&lons, &lats, &from, &to, &within_m, &margin.0, &margin.1],
            )
            .await?
        {
            let ord: i64 = get(&r, "ord")?;
            if let Some(x) = usize::try_from(ord - 1).ok().and_then(|i| out.get_mut(i)) {
                *x = true;
            }
        }
        Ok(out)
    }

    /// The density of track points in tile `z/x/y`: the tile cut into `cells` × `cells`
    /// cells, and the points recorded in [`from`, `to`) counted per non-empty cell, of the
    /// patrols started over one of `grids` (codes; `None`: every patrol). Each point counts
    /// in one tile of a zoom and one cell of it (`sql/patrols/density.sql`: west and north
    /// edges in). Cells in row order.
    pub async fn patrol_density(
        &self,
        (z, x, y): (u8, u32, u32),
        cells: u32,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        grids: Option<&[String]>,
    ) -> Result<Vec<DensityCell>> {
        let int = |v: u32| {
            i32::try_from(v).map_err(|_| StoreError::Internal(format!("{v} is not a tile number")))
        };
        let conn = self.conn().await?;
        conn.query(
            include_str!("sql/patrols/density.sql"),
            &[
                &i32::from(z),
                &int(x)?,
                &int(y)?,
                &int(cells)?,
                &from,
                &to,
                &grids,
            ],
        )
        .await?
        .iter()
        .map(|r| {
            let cx: i32 = r.col("cx")?;
            let cy: i32 = r.col("cy")?;
            let n: i64 = r.col("n")?;
            let bad = || StoreError::Internal(format!("density cell {cx}, {cy} of {n} points"));
            Ok(DensityCell {
                cx: u32::try_from(cx).map_err(|_| bad())?,
                cy: u32::try_from(cy).map_err(|_| bad())?,
                n: u64::try_from(n).map_err(|_| bad())?,
            })
        })
        .collect()
    }

    /// Generated demo patrols for the 30 days before `end` (`sql/patrols/generate.sql`),
    /// only into an empty table. Returns how many track points were made.
    pub async fn generate_patrols(&self, end: DateTime<Utc>) -> Result<u64> {
        let conn = self.conn().await?;
        Ok(conn
            .execute(include_str!("sql/patrols/generate.sql"), &[&end])
            .await?)
    }
}
