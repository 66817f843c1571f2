//! Bulk reads for the in-memory index: binary COPY, streamed, progress reported.
//!
//! These are the only rows the store reads by position, by design of the format: the rows
//! of `COPY … TO STDOUT (FORMAT binary)` carry no column names, only fields in the order of
//! the query, and the reader must be told the type of each field, by position, before it
//! can read any. So each load keeps its type list next to its reads, in the order of the
//! select list of its `.sql` file (`copy_areas.sql`, `copy_events.sql`); keep the three
//! in step. The reads use `try_get` all the same: a mismatch is an error, not a panic.
//! Every other row is read by column name (see `rows.rs`).

use futures_util::{StreamExt, pin_mut};
use tokio_postgres::binary_copy::BinaryCopyOutStream;
use tokio_postgres::types::Type;

use super::rows::{escalation, get};
use super::{Result, Store, StoreError};
use minqing_model::{Area, Event, Level, Status, wkb};

impl Store {
    /// Reads every current area.
    #[tracing::instrument(skip_all)]
    pub async fn load_areas(&self) -> Result<Vec<Area>> {
        let conn = self.conn().await?;
        let stream = conn.copy_out(include_str!("sql/copy_areas.sql")).await?;
        let types = [
            Type::INT8,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::INT8,
            Type::INT4,
            Type::INT4,
            Type::TEXT,
            Type::BOOL,
            Type::TEXT,
            Type::INT4,
            Type::BYTEA,
        ];
        let rows = BinaryCopyOutStream::new(stream, &types);
        pin_mut!(rows);
        let mut out = Vec::new();
        while let Some(row) = rows.next().await {
            let row = row?;
            let id: i64 = row.try_get(0)?;
            let level: &str = row.try_get(4)?;
            let level = Level::parse(level).ok_or_else(|| StoreError::Invalid {
                what: "area",
                id,
                detail: format!("level {level:?}"),
            })?;
            let workers: &str = row.try_get(8)?;
            let workers = serde_json::from_str(workers).map_err(|e| StoreError::Invalid {
                what: "area",
                id,
                detail: format!("workers: {e}"),
            })?;
            let geom = wkb::read_multipolygon(row.try_get(12)?).map_err(|source| {
                StoreError::Geometry {
                    what: "area",
                    id,
                    source,
                }
            })?;
            out.push(Area {
                id,
                code: row.try_get(1)?,
                name: row.try_get(2)?,
                name_en: row.try_get(3)?,
                level,
                parent_id: row.try_get(5)?,
                households: row.try_get(6)?,
                population: row.try_get(7)?,
                workers,
                generated: row.try_get(9)?,
                source: row.try_get(10)?,
                version: row.try_get(11)?,
                geom,
            });
        }
        Ok(out)
    }

    /// The planner's estimate of the number of events (to size the index up front).
    pub async fn estimate_events(&self) -> Result<usize> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(include_str!("sql/estimate_events.sql"), &[])
            .await?;
        let n: f32 = get(&row, "estimate")?;
        // Estimates can be stale; a little headroom avoids a reallocation of every column.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok((f64::from(n) * 1.02) as usize + 1024)
    }

    /// Streams every event to `sink` (without descriptions, which the index does not keep), calling `progress(rows)` every 100,000 rows.
    #[tracing::instrument(skip_all)]
    pub async fn load_events(
        &self,
        mut sink: impl FnMut(Event),
        progress: impl Fn(u64),
    ) -> Result<u64> {
        let conn = self.conn().await?;
        let stream = conn.copy_out(include_str!("sql/copy_events.sql")).await?;
        let types = [
            Type::INT8,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::INT2,
            Type::INT8,
            Type::TIMESTAMPTZ,
            Type::TIMESTAMPTZ,
            Type::TIMESTAMPTZ,
            Type::FLOAT8,
            Type::FLOAT8,
            Type::BOOL,
            Type::INT2,
            Type::TIMESTAMPTZ,
            Type::BOOL,
            Type::INT8,
            Type::INT8,
        ];
        let rows = BinaryCopyOutStream::new(stream, &types);
        pin_mut!(rows);
        let mut n = 0u64;
        while let Some(row) = rows.next().await {
            let row = row?;
            let id: i64 = row.try_get(0)?;
            let status: &str = row.try_get(3)?;
            let status = Status::parse(status).ok_or_else(|| StoreError::Invalid {
                what: "event",
                id,
                detail: format!("status {status:?}"),
            })?;
            sink(Event {
                id,
                category: row.try_get(1)?,
                title: row.try_get(2)?,
                description: None,
                status,
                priority: row.try_get(4)?,
                grid_id: row.try_get(5)?,
                reported_at: row.try_get(6)?,
                due_at: row.try_get(7)?,
                updated_at: row.try_get(8)?,
                lon: row.try_get(9)?,
                lat: row.try_get(10)?,
                generated: row.try_get(11)?,
                escalation: escalation(id, row.try_get(12)?)?,
                resolved_at: row.try_get(13)?,
                satisfied: row.try_get(14)?,
                worker_id: row.try_get(15)?,
                reporter_worker: row.try_get(16)?,
            });
            n += 1;
            if n.is_multiple_of(100_000) {
                progress(n);
            }
        }
        progress(n);
        Ok(n)
    }
}
