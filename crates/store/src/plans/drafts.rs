//! A draft's life: opening it, reading and listing plans, one operation at a time (applied
//! and validated in one transaction), abandoning it, and its preview tile.

use crate::rows::RowExt;
use deadpool_postgres::GenericClient;

use super::apply::apply;
use super::model::{ClosedGrid, Plan, PlanError, PlanGrid, PlanResult, read_plan};
use super::operation::Operation;
use super::validation::{Report, validate};
use crate::Store;

impl Store {
    /// Opens a draft over a current area; returns its id.
    pub async fn create_plan(
        &self,
        area_id: i64,
        name: &str,
        households: (i32, i32),
        population: (Option<i32>, Option<i32>),
        actor: &str,
    ) -> PlanResult<i64> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let level: Option<String> = tx
            .query_opt(include_str!("../sql/plan_area_level.sql"), &[&area_id])
            .await?
            .map(|r| r.col("level"))
            .transpose()?;
        let Some(level) = level else {
            return Err(PlanError::NotFound(format!("no current area {area_id}")));
        };
        if level == "grid" {
            return Err(PlanError::Input(format!(
                "area {area_id} is a grid; open a plan over its community"
            )));
        }
        let id: i64 = tx
            .query_one(
                include_str!("../sql/plan_insert.sql"),
                &[
                    &area_id,
                    &name,
                    &households.0,
                    &households.1,
                    &population.0,
                    &population.1,
                    &actor,
                ],
            )
            .await?
            .col("id")?;
        tx.execute(include_str!("../sql/plan_create.sql"), &[&id, &area_id])
            .await?;
        let n: i64 = tx
            .query_one(include_str!("../sql/plan_grid_count.sql"), &[&id])
            .await?
            .col("grids")?;
        if n == 0 && level != "community" {
            return Err(PlanError::Input(format!(
                "area {area_id} has no grids below it to plan"
            )));
        }
        tx.commit().await?;
        Ok(id)
    }

    /// A plan's header.
    pub async fn plan(&self, id: i64) -> PlanResult<Plan> {
        read_plan(&self.conn().await?, id).await
    }

    /// Plans, newest first, of a status (`None`: any).
    pub async fn plans(&self, status: Option<&str>, limit: i64) -> PlanResult<Vec<Plan>> {
        let conn = self.conn().await?;
        let rows = conn
            .query(include_str!("../sql/plan_list.sql"), &[&status, &limit])
            .await?;
        Ok(rows.iter().map(Plan::from_row).collect::<Result<_, _>>()?)
    }

    /// The grids of a draft, in key order, and the base grids it closes.
    pub async fn plan_grids(&self, id: i64) -> PlanResult<(Vec<PlanGrid>, Vec<ClosedGrid>)> {
        let conn = self.conn().await?;
        let grids = conn
            .query(include_str!("../sql/plan_grids.sql"), &[&id])
            .await?
            .iter()
            .map(PlanGrid::from_row)
            .collect::<Result<_, _>>()?;
        let closed = conn
            .query(include_str!("../sql/plan_retired.sql"), &[&id])
            .await?
            .iter()
            .map(ClosedGrid::from_row)
            .collect::<Result<_, _>>()?;
        Ok((grids, closed))
    }

    /// Applies one operation to a draft and validates the result, all in one transaction
    /// (logged as `body`, the report kept with the draft); returns the keys it touched and
    /// the new report. Any error — a refused input, a database or PostGIS failure, a draft
    /// the validation cannot check any more — rolls the whole operation back: the draft
    /// stays exactly as it was.
    pub async fn plan_operation(
        &self,
        id: i64,
        op: &Operation,
        body: &serde_json::Value,
        actor: &str,
    ) -> PlanResult<(Vec<i32>, Report)> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let plan = lock_draft(&tx, id).await?;
        let touched = apply(&tx, &plan, op).await?;
        log_operation(&tx, id, actor, body).await?;
        let report = validate(&tx, &plan).await?;
        tx.execute(
            include_str!("../sql/plan_operated.sql"),
            &[&id, &report.to_json()],
        )
        .await?;
        tx.commit().await?;
        Ok((touched, report))
    }

    /// Abandons a draft (kept, no longer editable).
    pub async fn abandon_plan(&self, id: i64) -> PlanResult<()> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        lock_draft(&tx, id).await?;
        tx.execute(include_str!("../sql/plan_abandon.sql"), &[&id])
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A draft as one MVT tile (layer `plan`), encoded by PostGIS.
    pub async fn plan_tile(&self, id: i64, z: i32, x: i32, y: i32) -> PlanResult<Vec<u8>> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(include_str!("../sql/plan_tile.sql"), &[&id, &z, &x, &y])
            .await?;
        Ok(row.col::<Option<Vec<u8>>>("tile")?.unwrap_or_default())
    }
}

/// Locks a plan's row; refuses unless it is a draft.
pub(super) async fn lock_draft(c: &impl GenericClient, id: i64) -> PlanResult<Plan> {
    let row = c
        .query_opt(include_str!("../sql/plan_lock.sql"), &[&id])
        .await?
        .ok_or_else(|| PlanError::NotFound(format!("no plan {id}")))?;
    let plan = Plan::from_row(&row)?;
    if plan.status != "draft" {
        return Err(PlanError::State(format!(
            "plan {id} is {}; only a draft can be changed or published",
            plan.status
        )));
    }
    Ok(plan)
}

/// Logs an operation of a draft (`body`: as sent, or what the store did, like a rebase).
pub(super) async fn log_operation(
    c: &impl GenericClient,
    id: i64,
    actor: &str,
    body: &serde_json::Value,
) -> PlanResult<()> {
    c.execute(
        include_str!("../sql/plan_log_operation.sql"),
        &[&id, &actor, body],
    )
    .await?;
    Ok(())
}
