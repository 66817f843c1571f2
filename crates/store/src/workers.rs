//! Grid workers and their duties (`sql/workers/*.sql`): a worker record, the grids they hold
//! now, and the history of who held which grid when. A change of duties ends the old duty
//! rows (`valid_to`) and adds new ones; nothing is deleted.

use tokio_postgres::Row;

use super::rows::get;
use super::{Result, Store, StoreError};
use minqing_model::worker::{Duty, MAX_GRIDS_PER_WORKER, Worker, WorkerKind};

/// A worker to record.
#[derive(Debug, Clone)]
pub struct NewWorker {
    /// Stable code (a staff number), unique.
    pub code: String,
    /// Full name.
    pub name: String,
    /// How they serve.
    pub kind: WorkerKind,
    /// The phone sealed, and its lookup hash (the caller seals with the registers' key).
    pub phone: Option<(Vec<u8>, Vec<u8>)>,
    /// Generated rather than real.
    pub generated: bool,
    /// Codes of the grids they take up.
    pub grids: Vec<String>,
}

fn worker_from_row(row: &Row) -> Result<Worker> {
    let id: i64 = get(row, "id")?;
    let kind: String = get(row, "kind")?;
    Ok(Worker {
        id,
        code: get(row, "code")?,
        name: get(row, "name")?,
        kind: WorkerKind::parse(&kind).ok_or_else(|| StoreError::Invalid {
            what: "worker",
            id,
            detail: format!("kind {kind:?}"),
        })?,
        active: get(row, "active")?,
        generated: get(row, "generated")?,
        grids: get(row, "grids")?,
        has_phone: get(row, "has_phone")?,
    })
}

/// Grid codes, trimmed, sorted and deduplicated; refused when too many or any is not a
/// current grid.
async fn checked_grids(conn: &tokio_postgres::Client, grids: &[String]) -> Result<Vec<String>> {
    let mut codes: Vec<String> = grids.iter().map(|g| g.trim().to_owned()).collect();
    codes.sort_unstable();
    codes.dedup();
    if codes.len() > MAX_GRIDS_PER_WORKER {
        return Err(StoreError::Input(format!(
            "a worker holds at most {MAX_GRIDS_PER_WORKER} grids"
        )));
    }
    let found: Vec<String> = conn
        .query(include_str!("sql/workers/grids_current.sql"), &[&codes])
        .await?
        .iter()
        .map(|r| get(r, "code"))
        .collect::<Result<_>>()?;
    if let Some(bad) = codes.iter().find(|c| !found.contains(c)) {
        return Err(StoreError::Input(format!(
            "no current grid with code {bad:?}"
        )));
    }
    Ok(codes)
}

impl Store {
    /// Records a worker holding `w.grids` from now; returns their id.
    pub async fn create_worker(&self, w: &NewWorker) -> Result<i64> {
        let code = w.code.trim();
        let name = w.name.trim();
        if code.is_empty() || code.chars().count() > 64 {
            return Err(StoreError::Input(
                "a worker's code has 1 to 64 characters".into(),
            ));
        }
        if name.is_empty() || name.chars().count() > 50 {
            return Err(StoreError::Input(
                "a worker's name has 1 to 50 characters".into(),
            ));
        }
        let mut conn = self.conn().await?;
        let grids = checked_grids(&conn, &w.grids).await?;
        let tx = conn.transaction().await?;
        if tx
            .query_opt(include_str!("sql/workers/code_taken.sql"), &[&code])
            .await?
            .is_some()
        {
            return Err(StoreError::Input(format!(
                "a worker with code {code:?} exists"
            )));
        }
        let (sealed, lookup) = w.phone.clone().unzip();
        let row = tx
            .query_one(
                include_str!("sql/workers/insert.sql"),
                &[&code, &name, &w.kind.code(), &sealed, &lookup, &w.generated],
            )
            .await?;
        let id: i64 = get(&row, "id")?;
        tx.execute(include_str!("sql/workers/add_duties.sql"), &[&id, &grids])
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Sets the grids worker `id` holds: duties on grids not listed end now, listed grids not
    /// held start now. `Ok(false)`: no such worker. A worker who left takes up no grid.
    pub async fn set_worker_grids(&self, id: i64, grids: &[String]) -> Result<bool> {
        let mut conn = self.conn().await?;
        let grids = checked_grids(&conn, grids).await?;
        let tx = conn.transaction().await?;
        let Some(row) = tx
            .query_opt(include_str!("sql/workers/lock.sql"), &[&id])
            .await?
        else {
            return Ok(false);
        };
        if !get::<bool>(&row, "active")? && !grids.is_empty() {
            return Err(StoreError::Input(format!(
                "worker {id} has left; they take up no grid"
            )));
        }
        tx.execute(include_str!("sql/workers/end_duties.sql"), &[&id, &grids])
            .await?;
        tx.execute(include_str!("sql/workers/add_duties.sql"), &[&id, &grids])
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Marks worker `id` active or gone (gone: every duty ends now). `Ok(false)`: no such
    /// worker.
    pub async fn set_worker_active(&self, id: i64, active: bool) -> Result<bool> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        if tx
            .query_opt(include_str!("sql/workers/lock.sql"), &[&id])
            .await?
            .is_none()
        {
            return Ok(false);
        }
        tx.execute(include_str!("sql/workers/set_active.sql"), &[&id, &active])
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Workers in id order after `after`, at most `limit`; only those holding one of `grids`
    /// when given; only active ones when `active_only`.
    pub async fn workers(
        &self,
        grids: Option<&[String]>,
        active_only: bool,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Worker>> {
        let conn = self.conn().await?;
        let grids: Option<Vec<&str>> = grids.map(|g| g.iter().map(String::as_str).collect());
        conn.query(
            include_str!("sql/workers/list.sql"),
            &[&after, &limit, &grids, &active_only],
        )
        .await?
        .iter()
        .map(worker_from_row)
        .collect()
    }

    /// One worker and every duty they held or hold, newest first.
    pub async fn worker(&self, id: i64) -> Result<Option<(Worker, Vec<Duty>)>> {
        let conn = self.conn().await?;
        let Some(row) = conn
            .query_opt(include_str!("sql/workers/one.sql"), &[&id])
            .await?
        else {
            return Ok(None);
        };
        let duties = conn
            .query(include_str!("sql/workers/duties.sql"), &[&id])
            .await?
            .iter()
            .map(|r| {
                Ok(Duty {
                    grid_code: get(r, "grid_code")?,
                    from: get(r, "valid_from")?,
                    to: get(r, "valid_to")?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Some((worker_from_row(&row)?, duties)))
    }

    /// Generated workers for a generated demo: one per name the generator put on each
    /// current grid, holding that grid (only into an empty register of workers). Returns
    /// how many duties were made.
    pub async fn generate_workers_from_areas(&self) -> Result<u64> {
        let conn = self.conn().await?;
        Ok(conn
            .execute(include_str!("sql/workers/from_areas.sql"), &[])
            .await?)
    }

    /// Gives generated cases to the generated workers (`sql/workers/attribute_generated.sql`):
    /// who of the grid reported each (or nobody: missed) and who handled it. Returns how
    /// many cases were attributed.
    pub async fn attribute_generated_cases(&self) -> Result<u64> {
        let conn = self.conn().await?;
        Ok(conn
            .execute(include_str!("sql/workers/attribute_generated.sql"), &[])
            .await?)
    }
}
