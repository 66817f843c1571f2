//! Visits and the rules of how often what must be visited (`sql/visits/*.sql`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::rows::get;
use super::{Result, Store, StoreError};
use minqing_model::register::{LinkKind, RegisterLink};
use minqing_model::worker::{Visit, VisitOutcome, VisitRule};

/// A visit to record.
#[derive(Debug, Clone)]
pub struct NewVisit {
    /// Who.
    pub worker: i64,
    /// The phone's id for the visit (a resent visit is one visit).
    pub client_id: String,
    /// What was visited.
    pub target: RegisterLink,
    /// The grid it lies in.
    pub grid_code: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// What it found.
    pub outcome: VisitOutcome,
    /// Free text.
    pub note: String,
    /// A photo: (content type, bytes), checked by the caller.
    pub photo: Option<(&'static str, Vec<u8>)>,
}

/// What visits to list.
#[derive(Debug, Clone, Default)]
pub struct VisitFilter {
    /// Only to this record.
    pub target: Option<RegisterLink>,
    /// Only by this worker.
    pub worker: Option<i64>,
    /// Only in these grids (codes).
    pub grids: Option<Vec<String>>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// Ids above this (the page after).
    pub after: i64,
}

fn visit_from_row(r: &tokio_postgres::Row) -> Result<Visit> {
    let id: i64 = get(r, "id")?;
    let invalid = |detail: String| StoreError::Invalid {
        what: "visit",
        id,
        detail,
    };
    let kind: String = get(r, "target_kind")?;
    let outcome: String = get(r, "outcome")?;
    Ok(Visit {
        id,
        worker_id: get(r, "worker_id")?,
        worker_name: get(r, "worker_name")?,
        target: RegisterLink {
            kind: LinkKind::parse(&kind).ok_or_else(|| invalid(format!("kind {kind:?}")))?,
            id: get(r, "target_id")?,
        },
        grid_code: get(r, "grid_code")?,
        at: get(r, "at")?,
        outcome: VisitOutcome::parse(&outcome)
            .ok_or_else(|| invalid(format!("outcome {outcome:?}")))?,
        note: get(r, "note")?,
        generated: get(r, "generated")?,
        has_photo: get(r, "has_photo")?,
    })
}

impl Store {
    /// Records a visit; returns its id and whether it is new (false: the same visit sent
    /// again).
    pub async fn record_visit(&self, v: &NewVisit) -> Result<(i64, bool)> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(
                include_str!("sql/visits/insert.sql"),
                &[
                    &v.worker,
                    &v.client_id,
                    &v.target.kind.code(),
                    &v.target.id,
                    &v.grid_code,
                    &v.at,
                    &v.outcome.code(),
                    &v.note,
                    &v.photo.as_ref().map(|p| p.0),
                    &v.photo.as_ref().map(|p| p.1.as_slice()),
                ],
            )
            .await?;
        Ok((get(&row, "id")?, get(&row, "inserted")?))
    }

    /// Visits matching `f`, in id order, at most `limit`.
    pub async fn visits(&self, f: &VisitFilter, limit: i64) -> Result<Vec<Visit>> {
        let conn = self.conn().await?;
        conn.query(
            include_str!("sql/visits/list.sql"),
            &[
                &f.after,
                &limit,
                &f.target.map(|t| t.kind.code()),
                &f.target.map(|t| t.id),
                &f.worker,
                &f.grids,
                &f.from,
                &f.to,
            ],
        )
        .await?
        .iter()
        .map(visit_from_row)
        .collect()
    }

    /// The last visit to each of `targets` that was ever visited.
    pub async fn last_visits(
        &self,
        targets: &[RegisterLink],
    ) -> Result<HashMap<RegisterLink, DateTime<Utc>>> {
        let conn = self.conn().await?;
        let kinds: Vec<&str> = targets.iter().map(|t| t.kind.code()).collect();
        let ids: Vec<i64> = targets.iter().map(|t| t.id).collect();
        let mut out = HashMap::new();
        for r in conn
            .query(include_str!("sql/visits/last.sql"), &[&kinds, &ids])
            .await?
        {
            let kind: String = get(&r, "kind")?;
            if let Some(kind) = LinkKind::parse(&kind) {
                out.insert(
                    RegisterLink {
                        kind,
                        id: get(&r, "id")?,
                    },
                    get(&r, "last")?,
                );
            }
        }
        Ok(out)
    }

    /// Every visit rule.
    pub async fn visit_rules(&self) -> Result<Vec<VisitRule>> {
        let conn = self.conn().await?;
        conn.query(include_str!("sql/visits/rules.sql"), &[])
            .await?
            .iter()
            .map(|r| {
                Ok(VisitRule {
                    subject: get(r, "subject")?,
                    code: get(r, "code")?,
                    every_days: get(r, "every_days")?,
                    since: get(r, "since")?,
                })
            })
            .collect()
    }

    /// What was visited in a grid (by code) in a time window.
    pub async fn visited_in(
        &self,
        grid_code: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RegisterLink>> {
        let conn = self.conn().await?;
        let mut out = Vec::new();
        for r in conn
            .query(
                include_str!("sql/visits/targets_in.sql"),
                &[&grid_code, &from, &to],
            )
            .await?
        {
            let kind: String = get(&r, "target_kind")?;
            if let Some(kind) = LinkKind::parse(&kind) {
                out.push(RegisterLink {
                    kind,
                    id: get(&r, "target_id")?,
                });
            }
        }
        Ok(out)
    }

    /// Generated demo visits for the 90 days before `end` (`sql/visits/generate.sql`),
    /// only into an empty table; the visit rules then count from 90 days before `end`.
    /// Returns how many were made.
    pub async fn generate_visits(&self, end: DateTime<Utc>) -> Result<u64> {
        let conn = self.conn().await?;
        Ok(conn
            .execute(include_str!("sql/visits/generate.sql"), &[&end])
            .await?)
    }

    /// A visit's photo: (content type, bytes, the visit's grid code).
    pub async fn visit_photo(&self, id: i64) -> Result<Option<(String, Vec<u8>, Option<String>)>> {
        let conn = self.conn().await?;
        conn.query_opt(include_str!("sql/visits/photo.sql"), &[&id])
            .await?
            .map(|r| {
                Ok((
                    get(&r, "content_type")?,
                    get(&r, "bytes")?,
                    get(&r, "grid_code")?,
                ))
            })
            .transpose()
    }
}
