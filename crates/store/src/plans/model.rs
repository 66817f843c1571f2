//! The types of a plan: its header, its grids, the grids it closes, and why a request was
//! refused; reading them from rows by column name.

use crate::rows::RowExt;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use geo_types::MultiPolygon;
use serde::Serialize;
use tokio_postgres::Row;

use crate::StoreError;
use minqing_model::wkb;

/// Default bounds of households per grid.
pub const DEFAULT_HOUSEHOLDS: (i32, i32) = (200, 500);

/// A plan's header.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Id.
    pub id: i64,
    /// The area it was opened over.
    pub area_id: i64,
    /// Free name.
    pub name: String,
    /// `draft`, `published` or `abandoned`.
    pub status: String,
    /// Households per grid, lowest allowed.
    pub households_min: i32,
    /// Households per grid, highest allowed.
    pub households_max: i32,
    /// Population per grid, lowest allowed (none when `None`).
    pub population_min: Option<i32>,
    /// Population per grid, highest allowed.
    pub population_max: Option<i32>,
    /// Who opened it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last operation.
    pub updated_at: DateTime<Utc>,
    /// When published.
    pub published_at: Option<DateTime<Utc>>,
    /// By whom.
    pub published_by: Option<String>,
    /// The last validation report.
    #[serde(skip)]
    pub report: Option<serde_json::Value>,
}

impl Plan {
    /// From a row of `sql/plan_header.sql` (or `plan_lock.sql`, `plan_list.sql`).
    pub(super) fn from_row(r: &Row) -> Result<Plan, StoreError> {
        Ok(Plan {
            id: r.col("id")?,
            area_id: r.col("area_id")?,
            name: r.col("name")?,
            status: r.col("status")?,
            households_min: r.col("households_min")?,
            households_max: r.col("households_max")?,
            population_min: r.col("population_min")?,
            population_max: r.col("population_max")?,
            created_by: r.col("created_by")?,
            created_at: r.col("created_at")?,
            updated_at: r.col("updated_at")?,
            published_at: r.col("published_at")?,
            published_by: r.col("published_by")?,
            report: r.col("report")?,
        })
    }
}

/// A grid of a draft.
#[derive(Debug, Clone)]
pub struct PlanGrid {
    /// Key within the plan.
    pub key: i32,
    /// The current grid it continues (`None`: created in the draft).
    pub source_id: Option<i64>,
    /// Parent area.
    pub parent_id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// English name.
    pub name_en: Option<String>,
    /// Households.
    pub households: i32,
    /// Population.
    pub population: i32,
    /// Workers, JSON text.
    pub workers: String,
    /// Whether it differs from its source (or is new).
    pub changed: bool,
    /// Boundary.
    pub geom: MultiPolygon<f64>,
}

impl PlanGrid {
    /// From a row of `sql/plan_grids.sql`.
    pub(super) fn from_row(r: &Row) -> Result<PlanGrid, StoreError> {
        let key: i32 = r.col("key")?;
        let geom =
            wkb::read_multipolygon(r.col("geom")?).map_err(|source| StoreError::Geometry {
                what: "plan grid",
                id: i64::from(key),
                source,
            })?;
        Ok(PlanGrid {
            key,
            source_id: r.col("source_id")?,
            parent_id: r.col("parent_id")?,
            code: r.col("code")?,
            name: r.col("name")?,
            name_en: r.col("name_en")?,
            households: r.col("households")?,
            population: r.col("population")?,
            workers: r.col("workers")?,
            changed: r.col("changed")?,
            geom,
        })
    }
}

/// A base grid the draft closes on publish.
#[derive(Debug, Clone, Serialize)]
pub struct ClosedGrid {
    /// Area id of the current row.
    pub id: i64,
    /// Code (it may live on in a changed draft grid).
    pub code: String,
    /// Name.
    pub name: String,
    /// Its version.
    pub version: i32,
}

impl ClosedGrid {
    /// From a row of `sql/plan_retired.sql`.
    pub(super) fn from_row(r: &Row) -> Result<ClosedGrid, StoreError> {
        Ok(ClosedGrid {
            id: r.col("id")?,
            code: r.col("code")?,
            name: r.col("name")?,
            version: r.col("version")?,
        })
    }
}

/// Why a plan request was refused.
#[derive(Debug)]
pub enum PlanError {
    /// No such plan (or grid of it).
    NotFound(String),
    /// The plan is not a draft any more.
    State(String),
    /// The input is unusable.
    Input(String),
    /// An input geometry is not valid: reason and location.
    Geometry {
        /// What was given.
        what: String,
        /// `ST_IsValidDetail`'s reason.
        reason: String,
        /// Where, lon/lat.
        location: Option<[f64; 2]>,
    },
    /// The grids it started from changed since.
    Conflict {
        /// What changed.
        message: String,
        /// Area ids concerned.
        areas: Vec<i64>,
    },
    /// Publishing refused: the draft is not valid.
    Invalid(Box<super::Report>),
    /// A database failure.
    Store(StoreError),
}

impl From<StoreError> for PlanError {
    fn from(e: StoreError) -> PlanError {
        PlanError::Store(e)
    }
}

/// A failed statement is the server's fault, never the client's: whatever its text says
/// (PostGIS's messages name geometries too), it is a [`StoreError::Db`] — answered as a 500
/// with a generic message, the detail only in the log. Faults of the input are found before
/// the database computes anything (`checked_wkb`, `check_line`, `check_stored`) or by a
/// check statement whose result is read as data (`ST_IsValidDetail`), never by reading the
/// text of an error.
impl From<tokio_postgres::Error> for PlanError {
    fn from(e: tokio_postgres::Error) -> PlanError {
        PlanError::Store(StoreError::Db(e))
    }
}

impl From<deadpool_postgres::PoolError> for PlanError {
    fn from(e: deadpool_postgres::PoolError) -> PlanError {
        PlanError::Store(StoreError::Pool(e))
    }
}

/// Result of plan operations.
pub type PlanResult<T> = std::result::Result<T, PlanError>;

/// A point from two optional coordinates, when both are there.
pub(super) fn loc(x: Option<f64>, y: Option<f64>) -> Option<[f64; 2]> {
    match (x, y) {
        (Some(x), Some(y)) => Some([x, y]),
        _ => None,
    }
}

/// A plan's header (404 when there is none).
pub(super) async fn read_plan(c: &impl GenericClient, id: i64) -> PlanResult<Plan> {
    let row = c
        .query_opt(include_str!("../sql/plan_header.sql"), &[&id])
        .await?
        .ok_or_else(|| PlanError::NotFound(format!("no plan {id}")))?;
    Ok(Plan::from_row(&row)?)
}
