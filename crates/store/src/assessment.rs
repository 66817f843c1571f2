//! What assessment (考核) and the review reports read from PostGIS
//! (`sql/assessment/*.sql`): who of a grid found its cases, the workers' own tallies,
//! visits by record, the score's weights, the drill-down lists and the kept snapshots.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::rows::get;
use super::{Result, Store};
use minqing_model::register::{LinkKind, RegisterLink};

/// A worker on duty now, and one grid they hold (a row per worker and grid).
#[derive(Debug, Clone)]
pub struct DutyRow {
    /// Worker id.
    pub worker: i64,
    /// Name (staff see it).
    pub name: String,
    /// `full_time`, `part_time` or `volunteer`.
    pub kind: String,
    /// Generated demo data.
    pub generated: bool,
    /// The grid's code.
    pub grid_code: String,
}

/// A worker's own counts in a period (see `sql/assessment/workers.sql`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerTally {
    /// Cases they reported.
    pub reports: i64,
    /// … not rejected.
    pub kept: i64,
    /// Cases they handled (accepted).
    pub handled: i64,
    /// … decided by now (resolved, or open past the deadline).
    pub decided: i64,
    /// … resolved within the deadline.
    pub on_time: i64,
    /// … whose reporter answered the return visit.
    pub answered: i64,
    /// … satisfied.
    pub satisfied: i64,
    /// Visits they made.
    pub visits: i64,
}

/// A register record's visits around a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetVisits {
    /// Its last visit before the period (within a year).
    pub last_before: Option<DateTime<Utc>>,
    /// Its visits in the period.
    pub done: i64,
}

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
}

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
    /// Cases reported in [`from`, `to`) by a worker of their grid, by grid id: (own, of
    /// them not rejected).
    pub async fn own_reports(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<HashMap<i64, (i64, i64)>> {
        let conn = self.conn().await?;
        conn.query(
            include_str!("sql/assessment/own_reports.sql"),
            &[&from, &to],
        )
        .await?
        .iter()
        .map(|r| Ok((get(r, "grid_id")?, (get(r, "own")?, get(r, "kept")?))))
        .collect()
    }

    /// Every active worker's current grids, a row per worker and grid.
    pub async fn current_duties(&self) -> Result<Vec<DutyRow>> {
        let conn = self.conn().await?;
        conn.query(include_str!("sql/assessment/duties.sql"), &[])
            .await?
            .iter()
            .map(|r| {
                Ok(DutyRow {
                    worker: get(r, "id")?,
                    name: get(r, "name")?,
                    kind: get(r, "kind")?,
                    generated: get(r, "generated")?,
                    grid_code: get(r, "grid_code")?,
                })
            })
            .collect()
    }

    /// The workers' own counts in [`from`, `to`), by worker id (workers without any have
    /// no row); `None`: of every worker.
    pub async fn worker_tallies(
        &self,
        workers: Option<&[i64]>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<HashMap<i64, WorkerTally>> {
        let conn = self.conn().await?;
        conn.query(
            include_str!("sql/assessment/workers.sql"),
            &[&from, &to, &workers],
        )
        .await?
        .iter()
        .map(|r| {
            Ok((
                get(r, "id")?,
                WorkerTally {
                    reports: get(r, "reports")?,
                    kept: get(r, "kept")?,
                    handled: get(r, "handled")?,
                    decided: get(r, "decided")?,
                    on_time: get(r, "on_time")?,
                    answered: get(r, "answered")?,
                    satisfied: get(r, "satisfied")?,
                    visits: get(r, "visits")?,
                },
            ))
        })
        .collect()
    }

    /// Every record visited in the year before `to`: its last visit before `from` and its
    /// visits in [`from`, `to`).
    pub async fn visits_by_target(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<HashMap<RegisterLink, TargetVisits>> {
        let conn = self.conn().await?;
        let mut out = HashMap::new();
        for r in conn
            .query(
                include_str!("sql/assessment/visits_by_target.sql"),
                &[&from, &to],
            )
            .await?
        {
            let kind: String = get(&r, "target_kind")?;
            if let Some(kind) = LinkKind::parse(&kind) {
                out.insert(
                    RegisterLink {
                        kind,
                        id: get(&r, "target_id")?,
                    },
                    TargetVisits {
                        last_before: get(&r, "last_before")?,
                        done: get(&r, "done")?,
                    },
                );
            }
        }
        Ok(out)
    }

    /// Visits made in [`from`, `to`), by the code of the grid the record lay in then.
    pub async fn visits_by_grid(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<HashMap<String, i64>> {
        let conn = self.conn().await?;
        conn.query(
            include_str!("sql/assessment/visits_by_grid.sql"),
            &[&from, &to],
        )
        .await?
        .iter()
        .map(|r| Ok((get(r, "grid_code")?, get(r, "visits")?)))
        .collect()
    }

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
        let (grids, handler, reporter): (Option<&[i64]>, Option<i64>, Option<i64>) = match of {
            ExplainOf::Grids(g) => (Some(g), None, None),
            ExplainOf::Everywhere => (None, None, None),
            ExplainOf::Handler(w) => (Some(&[]), Some(w), None),
            ExplainOf::Reporter(w) => (Some(&[]), None, Some(w)),
        };
        conn.query(
            include_str!("sql/assessment/explain_cases.sql"),
            &[&grids, &from, &to, &measure, &handler, &reporter, &limit],
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
