//! The grid workers' record for the in-memory index (assessment): every worker, every duty
//! with its history, every visit — loaded whole at start-up, and followed: visits from the
//! change feed's watermark ([`crate::Listener::visits_since`]), workers and duties reloaded
//! whole when written (they change rarely).

use chrono::{DateTime, Utc};

use crate::rows::get;
use crate::{Result, Store, StoreError};
use minqing_model::register::{LinkKind, RegisterLink};
use minqing_model::worker::{DutyRecord, VisitRecord, WorkerRecord};

impl Store {
    /// Every worker and every duty, past and present.
    ///
    /// # Errors
    /// The database's.
    pub async fn load_staff(&self) -> Result<(Vec<WorkerRecord>, Vec<DutyRecord>)> {
        let conn = self.conn().await?;
        let workers = conn
            .query(include_str!("sql/work/workers.sql"), &[])
            .await?
            .iter()
            .map(|r| {
                Ok(WorkerRecord {
                    id: get(r, "id")?,
                    name: get(r, "name")?,
                    kind: get(r, "kind")?,
                    active: get(r, "active")?,
                    generated: get(r, "generated")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let duties = conn
            .query(include_str!("sql/work/duties.sql"), &[])
            .await?
            .iter()
            .map(|r| {
                let from: DateTime<Utc> = get(r, "valid_from")?;
                let to: Option<DateTime<Utc>> = get(r, "valid_to")?;
                Ok(DutyRecord {
                    worker: get(r, "worker_id")?,
                    grid_code: get(r, "grid_code")?,
                    from: from.timestamp_micros(),
                    to: to.map(|t| t.timestamp_micros()),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((workers, duties))
    }

    /// Every visit.
    ///
    /// # Errors
    /// The database's.
    pub async fn load_visits(&self) -> Result<Vec<VisitRecord>> {
        let conn = self.conn().await?;
        visits_since(&conn, "0").await
    }
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
        let kind = LinkKind::parse(kind).ok_or_else(|| StoreError::Invalid {
            what: "visit",
            id,
            detail: format!("target kind {kind:?}"),
        })?;
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
