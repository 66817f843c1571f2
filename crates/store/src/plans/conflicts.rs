//! Conflicts between drafts: a publish refused because the grids a draft started from
//! changed since, and the rebase that carries the draft over to the current grids (see the
//! plans module documentation, *Conflicts*).

use crate::rows::RowExt;
use deadpool_postgres::GenericClient;

use super::drafts::{lock_draft, log_operation};
use super::model::{PlanError, PlanResult};
use crate::Store;

/// Most changed grids named one by one in a conflict's message (all are listed by id).
const MAX_NAMED: usize = 20;

impl Store {
    /// Rebases a draft on the current grids (see the plans module documentation); returns
    /// (dropped, continued, added) grid counts.
    pub async fn rebase_plan(&self, id: i64, actor: &str) -> PlanResult<(i64, i64, i64)> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        tx.batch_execute(include_str!("../sql/plan_lock_areas_share.sql"))
            .await?;
        lock_draft(&tx, id).await?;
        let r = tx
            .query_one(include_str!("../sql/plan_rebase.sql"), &[&id])
            .await?;
        let (dropped, continued): (i64, i64) = (r.col("dropped")?, r.col("continued")?);
        let added: i64 = tx
            .query_one(include_str!("../sql/plan_rebase_add.sql"), &[&id])
            .await?
            .col("added")?;
        tx.execute(include_str!("../sql/plan_rebase_clear_base.sql"), &[&id])
            .await?;
        tx.execute(include_str!("../sql/plan_rebase_base.sql"), &[&id])
            .await?;
        log_operation(&tx, id, actor, &serde_json::json!({"op": "rebase"})).await?;
        tx.execute(include_str!("../sql/plan_touch.sql"), &[&id])
            .await?;
        tx.commit().await?;
        Ok((dropped, continued, added))
    }
}

/// Refuses to publish draft `id` when the grids it started from are no longer current
/// ([`PlanError::Conflict`], naming them); the draft is kept for a rebase or to be
/// abandoned.
pub(super) async fn refuse_conflicts(c: &impl GenericClient, id: i64) -> PlanResult<()> {
    let rows = c
        .query(include_str!("../sql/plan_conflicts.sql"), &[&id])
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut areas = Vec::with_capacity(rows.len());
    let mut named = Vec::new();
    for r in &rows {
        let area: i64 = r.col("area_id")?;
        areas.push(area);
        if named.len() < MAX_NAMED {
            let code: String = r.col("code")?;
            let why: String = r.col("why")?;
            named.push(format!("{why} {code} ({area})"));
        }
    }
    Err(PlanError::Conflict {
        message: format!(
            "the grids this draft started from changed since it was opened: {}{}; rebase the draft (POST /api/v1/plans/{id}/rebase) or abandon it",
            named.join(", "),
            if rows.len() > MAX_NAMED { ", …" } else { "" }
        ),
        areas,
    })
}
