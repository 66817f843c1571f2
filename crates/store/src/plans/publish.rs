//! Publishing a draft as new area versions, and re-assigning the events of the grids it
//! closes (see the plans module documentation, *Publish*).

use crate::rows::RowExt;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use super::conflicts::refuse_conflicts;
use super::drafts::lock_draft;
use super::model::{PlanError, PlanResult};
use super::validation::{Report, validate};
use crate::rows::event_from_row;
use crate::{Result, Store, StoreError};
use minqing_model::Event;

/// Result of a publish.
#[derive(Debug, Clone)]
pub struct Published {
    /// When the new versions became valid.
    pub at: DateTime<Utc>,
    /// Closed rows.
    pub closed: Vec<i64>,
    /// New rows: (id, code, version).
    pub created: Vec<(i64, String, i32)>,
    /// Events re-assigned, in their new state.
    pub events: Vec<Event>,
    /// The report it was published with.
    pub report: Report,
}

impl Store {
    /// Publishes a valid draft (see the plans module documentation).
    pub async fn publish_plan(&self, id: i64, actor: &str) -> PlanResult<Published> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let mut steps = Steps::new();
        tx.batch_execute(include_str!("../sql/plan_lock_areas_exclusive.sql"))
            .await?;
        let plan = lock_draft(&tx, id).await?;
        refuse_conflicts(&tx, id).await?;
        steps.mark("lock and conflicts");
        let mut report = validate(&tx, &plan).await?;
        if !report.valid {
            return Err(PlanError::Invalid(Box::new(report)));
        }
        steps.mark("validate");
        let at: DateTime<Utc> = tx
            .query_one(include_str!("../sql/plan_clock.sql"), &[])
            .await?
            .col("at")?;
        let closed: Vec<i64> = report.changes.closed.clone();
        tx.execute(
            include_str!("../sql/plan_publish_close.sql"),
            &[&closed, &at],
        )
        .await?;
        let created: Vec<(i64, String, i32)> = tx
            .query(include_str!("../sql/plan_publish_insert.sql"), &[&id, &at])
            .await?
            .iter()
            .map(|r| Ok((r.col("id")?, r.col("code")?, r.col("version")?)))
            .collect::<Result<_, StoreError>>()?;
        steps.mark("close and insert grids");
        let note = format!("plan #{id}");
        let mut events = regrid_listed(&tx, &mut report, &created, actor, &note).await?;
        steps.mark("re-assign events");
        events.extend(regrid_stragglers(&tx, id, &closed, actor, &note).await?);
        steps.mark("re-assign reported meanwhile");
        tx.execute(
            include_str!("../sql/plan_publish_done.sql"),
            &[&id, &at, &actor, &report.to_json()],
        )
        .await?;
        tx.commit().await?;
        steps.mark("commit");
        tracing::info!(plan = id, events = events.len(), steps = %steps, "plan publish committed");
        Ok(Published {
            at,
            closed,
            created,
            events,
            report,
        })
    }

    /// Re-assigns the events still in the grids a publish closed (or without a grid inside
    /// the plan's parents): reports placed by an instance's old index between the publish
    /// and its switch to the new grids. Returns them in their new state.
    pub async fn regrid_stragglers(
        &self,
        plan: i64,
        closed: &[i64],
        actor: &str,
    ) -> Result<Vec<Event>> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        tx.batch_execute(include_str!("../sql/plan_lock_areas_share.sql"))
            .await?;
        let events = regrid_stragglers(&tx, plan, closed, actor, &format!("plan #{plan}")).await?;
        tx.commit().await?;
        Ok(events)
    }
}

/// Moves the events validation listed to their new grids (the draft's new versions found by
/// code among `created`).
async fn regrid_listed(
    c: &impl GenericClient,
    report: &mut Report,
    created: &[(i64, String, i32)],
    actor: &str,
    note: &str,
) -> Result<Vec<Event>> {
    let by_code: std::collections::HashMap<&str, i64> = created
        .iter()
        .map(|(id, code, _)| (code.as_str(), *id))
        .collect();
    let moves = std::mem::take(&mut report.regrid);
    let mut ids = Vec::with_capacity(moves.len());
    let mut from = Vec::with_capacity(moves.len());
    let mut to = Vec::with_capacity(moves.len());
    for m in moves {
        let target = match (&m.to_code, m.to_grid) {
            (Some(code), _) => Some(*by_code.get(code.as_str()).ok_or_else(|| {
                StoreError::Internal(format!(
                    "publish: no new version of grid {code} for event {}",
                    m.id
                ))
            })?),
            (None, grid) => grid,
        };
        ids.push(m.id);
        from.push(m.from);
        to.push(target);
    }
    move_events(c, &ids, &from, &to, actor, note).await
}

/// See [`Store::regrid_stragglers`].
async fn regrid_stragglers(
    c: &impl GenericClient,
    plan: i64,
    closed: &[i64],
    actor: &str,
    note: &str,
) -> Result<Vec<Event>> {
    let rows = c
        .query(
            include_str!("../sql/plan_stragglers.sql"),
            &[&closed, &plan],
        )
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids = Vec::with_capacity(rows.len());
    let mut from = Vec::with_capacity(rows.len());
    let mut to = Vec::with_capacity(rows.len());
    for r in &rows {
        ids.push(r.col::<i64>("id")?);
        from.push(r.col::<Option<i64>>("grid_id")?);
        to.push(r.col::<Option<i64>>("new_grid")?);
    }
    move_events(c, &ids, &from, &to, actor, note).await
}

/// Moves events `ids` from grids `from` to grids `to` with a history entry each; returns
/// them in their new state.
async fn move_events(
    c: &impl GenericClient,
    ids: &[i64],
    from: &[Option<i64>],
    to: &[Option<i64>],
    actor: &str,
    note: &str,
) -> Result<Vec<Event>> {
    let rows = c
        .query(
            include_str!("../sql/plan_publish_regrid.sql"),
            &[&ids, &from, &to, &actor, &note],
        )
        .await?;
    rows.iter().map(event_from_row).collect()
}

/// Wall-clock time of the named steps of a long operation, for its log line.
struct Steps {
    last: std::time::Instant,
    done: Vec<(&'static str, std::time::Duration)>,
}

impl Steps {
    fn new() -> Self {
        Self {
            last: std::time::Instant::now(),
            done: Vec::new(),
        }
    }

    fn mark(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        self.done.push((name, now - self.last));
        self.last = now;
    }
}

impl std::fmt::Display for Steps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (name, d)) in self.done.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{name} {} ms", d.as_millis())?;
        }
        Ok(())
    }
}
