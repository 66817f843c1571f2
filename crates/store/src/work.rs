//! The grid workers' record for the in-memory index (assessment): every worker, every duty
//! with its history, every visit — loaded whole at start-up by binary COPY, and followed: visits from the
//! change feed's watermark ([`crate::Listener::visits_since`]), workers and duties reloaded
//! whole when written (they change rarely).

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, pin_mut};
use tokio_postgres::binary_copy::BinaryCopyOutStream;
use tokio_postgres::types::Type;

use crate::rows::get;
use crate::{Result, Store, StoreError};
use minqing_model::register::{LinkKind, RegisterLink};
use minqing_model::worker::{DutyRecord, VisitRecord, WorkerRecord};

impl Store {
    /// Every worker and every duty, past and present (binary COPY).
    ///
    /// # Errors
    /// The database's.
    pub async fn load_staff(&self) -> Result<(Vec<WorkerRecord>, Vec<DutyRecord>)> {
        let conn = self.conn().await?;
        let mut workers = Vec::new();
        let types = [Type::INT8, Type::TEXT, Type::TEXT, Type::BOOL, Type::BOOL];
        let rows = copy_out(&conn, include_str!("sql/work/copy_workers.sql"), &types).await?;
        pin_mut!(rows);
        while let Some(row) = rows.next().await {
            let row = row?;
            workers.push(WorkerRecord {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                kind: row.try_get(2)?,
                active: row.try_get(3)?,
                generated: row.try_get(4)?,
            });
        }
        let mut duties = Vec::new();
        let types = [Type::INT8, Type::TEXT, Type::TIMESTAMPTZ, Type::TIMESTAMPTZ];
        let rows = copy_out(&conn, include_str!("sql/work/copy_duties.sql"), &types).await?;
        pin_mut!(rows);
        while let Some(row) = rows.next().await {
            let row = row?;
            let from: DateTime<Utc> = row.try_get(2)?;
            let to: Option<DateTime<Utc>> = row.try_get(3)?;
            duties.push(DutyRecord {
                worker: row.try_get(0)?,
                grid_code: row.try_get(1)?,
                from: from.timestamp_micros(),
                to: to.map(|t| t.timestamp_micros()),
            });
        }
        Ok((workers, duties))
    }

    /// Every visit (binary COPY).
    ///
    /// # Errors
    /// The database's.
    pub async fn load_visits(&self) -> Result<Vec<VisitRecord>> {
        let conn = self.conn().await?;
        let types = [
            Type::INT8,
            Type::INT8,
            Type::TEXT,
            Type::INT8,
            Type::TEXT,
            Type::TIMESTAMPTZ,
        ];
        let rows = copy_out(&conn, include_str!("sql/work/copy_visits.sql"), &types).await?;
        pin_mut!(rows);
        let mut out = Vec::new();
        while let Some(row) = rows.next().await {
            let row = row?;
            let id: i64 = row.try_get(0)?;
            let kind: &str = row.try_get(2)?;
            let at: DateTime<Utc> = row.try_get(5)?;
            out.push(VisitRecord {
                id,
                worker: row.try_get(1)?,
                target: RegisterLink {
                    kind: link_kind(id, kind)?,
                    id: row.try_get(3)?,
                },
                grid_code: row.try_get(4)?,
                at: at.timestamp_micros(),
            });
        }
        Ok(out)
    }
}

/// Starts a binary COPY out of `sql`, its rows of `types`.
async fn copy_out(
    conn: &tokio_postgres::Client,
    sql: &str,
    types: &[Type],
) -> Result<BinaryCopyOutStream> {
    let stream = conn.copy_out(sql).await?;
    Ok(BinaryCopyOutStream::new(stream, types))
}

/// A visit's target kind, checked.
fn link_kind(id: i64, kind: &str) -> Result<LinkKind> {
    LinkKind::parse(kind).ok_or_else(|| StoreError::Invalid {
        what: "visit",
        id,
        detail: format!("target kind {kind:?}"),
    })
}

/// The visits written at or after the watermark `since` (text of an `xid8`).
pub(crate) async fn visits_since(
    c: &tokio_postgres::Client,
    since: &str,
) -> Result<Vec<VisitRecord>> {
    let rows = c
        .query(include_str!("sql/work/visits.sql"), &[&since])
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let kind: &str = get(r, "target_kind")?;
        let id: i64 = get(r, "id")?;
        let kind = link_kind(id, kind)?;
        let at: DateTime<Utc> = get(r, "at")?;
        out.push(VisitRecord {
            id,
            worker: get(r, "worker_id")?,
            target: RegisterLink {
                kind,
                id: get(r, "target_id")?,
            },
            grid_code: get(r, "grid_code")?,
            at: at.timestamp_micros(),
        });
    }
    Ok(out)
}
