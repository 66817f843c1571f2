//! What assessment (考核) and the review reports read from PostGIS
//! (`sql/assessment/*.sql`): the score's weights, the drill-down lists and the kept
//! snapshots. The counts themselves come from memory (the events' columns and the
//! workers' record of `minqing-index`, loaded by `work.rs`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::rows::get;
use super::{Result, Store};

/// One case behind an assessment figure.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExplainedCase {
    /// Case id.
    pub id: i64,
    /// Full category code.
    pub category: String,
    /// Title.
    pub title: String,
    /// State.
    pub status: String,
    /// Grid id.
    pub grid_id: Option<i64>,
    /// Reported.
    pub reported_at: DateTime<Utc>,
    /// Deadline.
    pub due_at: Option<DateTime<Utc>>,
    /// Last resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The reporter's answer at the return visit.
    pub satisfied: Option<bool>,
    /// The worker handling it.
    pub worker_id: Option<i64>,
    /// The worker who reported it.
    pub reporter_worker: Option<i64>,
    /// Reported by a worker holding its grid then.
    pub own: bool,
    /// Resolved within the deadline.
    pub on_time: bool,
}

/// Whose cases a drill-down lists.
#[derive(Debug, Clone, Copy)]
pub enum ExplainOf<'a> {
    /// The cases in these grids.
    Grids(&'a [i64]),
    /// The cases in any grid.
    Everywhere,
    /// The cases this worker handled.
    Handler(i64),
    /// The cases this worker reported.
    Reporter(i64),
    /// These cases (found in memory, read here for their details).
    Ids(&'a [i64]),
}

/// The parameters of `explain_cases.sql`: grids, handler, reporter, case ids.
type ExplainFilter<'a> = (
    Option<&'a [i64]>,
    Option<i64>,
    Option<i64>,
    Option<&'a [i64]>,
);

/// A kept review report, listed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SnapshotRow {
    /// Id.
    pub id: i64,
    /// Area code.
    pub area_code: String,
    /// `day`, `week` or `month`.
    pub period: String,
    /// First day of the period (China time).
    pub starts: NaiveDate,
    /// When it was kept.
    pub created_at: DateTime<Utc>,
}

fn snapshot_row(r: &tokio_postgres::Row) -> Result<SnapshotRow> {
    Ok(SnapshotRow {
        id: get(r, "id")?,
        area_code: get(r, "area_code")?,
        period: get(r, "period")?,
        starts: get(r, "starts")?,
        created_at: get(r, "created_at")?,
    })
}

impl Store {
    /// The weights of the composite score, by measure.
    pub async fn assessment_weights(&self) -> Result<HashMap<String, f32>> {
        let conn = self.conn().await?;
        conn.query(include_str!("sql/assessment/weights.sql"), &[])
            .await?
            .iter()
            .map(|r| Ok((get(r, "measure")?, get(r, "weight")?)))
            .collect()
    }

    /// The cases behind an assessment figure (`sql/assessment/explain_cases.sql`).
    pub async fn explain_cases(
        &self,
        of: ExplainOf<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        measure: &str,
        limit: i64,
    ) -> Result<Vec<ExplainedCase>> {
        let conn = self.conn().await?;
        let (grids, handler, reporter, ids): ExplainFilter<'_> = match of {
            ExplainOf::Grids(g) => (Some(g), None, None, None),
            ExplainOf::Everywhere => (None, None, None, None),
            ExplainOf::Handler(w) => (Some(&[]), Some(w), None, None),
            ExplainOf::Reporter(w) => (Some(&[]), None, Some(w), None),
            ExplainOf::Ids(ids) => (None, None, None, Some(ids)),
        };
        conn.query(
            include_str!("sql/assessment/explain_cases.sql"),
            &[
                &grids, &from, &to, &measure, &handler, &reporter, &limit, &ids,
            ],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(ExplainedCase {
                id: get(r, "id")?,
                category: get(r, "category")?,
                title: get(r, "title")?,
                status: get(r, "status")?,
                grid_id: get(r, "grid_id")?,
                reported_at: get(r, "reported_at")?,
                due_at: get(r, "due_at")?,
                resolved_at: get(r, "resolved_at")?,
                satisfied: get(r, "satisfied")?,
                worker_id: get(r, "worker_id")?,
                reporter_worker: get(r, "reporter_worker")?,
                own: get(r, "own")?,
                on_time: get(r, "on_time")?,
            })
        })
        .collect()
    }

    /// Keeps a period's review report; `Some(id)` when this call stored it, `None` when one
    /// was kept before (it stays as it was).
    pub async fn keep_snapshot(
        &self,
        area_code: &str,
        period: &str,
        starts: NaiveDate,
        body: &Value,
    ) -> Result<Option<i64>> {
        let conn = self.conn().await?;
        conn.query_opt(
            include_str!("sql/assessment/snapshot_insert.sql"),
            &[
                &area_code,
                &period,
                &starts,
                &tokio_postgres::types::Json(body),
            ],
        )
        .await?
        .map(|r| get(&r, "id"))
        .transpose()
    }

    /// The kept review reports of some areas (by code), newest first, without bodies.
    pub async fn snapshots(&self, area_codes: &[String], limit: i64) -> Result<Vec<SnapshotRow>> {
        let conn = self.conn().await?;
        conn.query(
            include_str!("sql/assessment/snapshots.sql"),
            &[&area_codes, &limit],
        )
        .await?
        .iter()
        .map(snapshot_row)
        .collect()
    }

    /// One kept review report with its body.
    pub async fn snapshot(
        &self,
        area_code: &str,
        period: &str,
        starts: NaiveDate,
    ) -> Result<Option<(SnapshotRow, Value)>> {
        let conn = self.conn().await?;
        conn.query_opt(
            include_str!("sql/assessment/snapshot.sql"),
            &[&area_code, &period, &starts],
        )
        .await?
        .map(|r| {
            let body: tokio_postgres::types::Json<Value> = get(&r, "body")?;
            Ok((snapshot_row(&r)?, body.0))
        })
        .transpose()
    }
}
