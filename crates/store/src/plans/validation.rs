//! Validation of a draft: every fault with where it is, and what publishing would change
//! (see the plans module documentation, *Validation*).

use crate::rows::RowExt;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;

use super::checks::check_stored;
pub use super::fault::{Fault, Piece};
use super::model::{Plan, PlanError, PlanResult, loc, read_plan};
use crate::Store;

/// Overlaps, gaps and outside parts smaller than this (m²) are slivers, not faults.
pub const SLIVER_M2: f64 = 1.0;
/// Most events listed one by one in a report (all are counted).
const MAX_LISTED_EVENTS: usize = 5000;

/// An event whose grid would change.
#[derive(Debug, Clone, Serialize)]
pub struct EventMove {
    /// Event id.
    pub id: i64,
    /// Its grid now.
    pub from_grid: Option<i64>,
    /// That grid's code.
    pub from_code: Option<String>,
    /// The existing grid that would cover it (kept unchanged).
    pub to_grid: Option<i64>,
    /// Or the draft grid (key) that would.
    pub to_key: Option<i32>,
    /// The code of the grid it would be in (`None`: no grid covers it).
    pub to_code: Option<String>,
}

/// Households estimated to change grid code.
#[derive(Debug, Clone, Serialize)]
pub struct HouseholdMove {
    /// Old grid (area id).
    pub from_grid: i64,
    /// Its code.
    pub from_code: String,
    /// Draft grid receiving the land.
    pub to_key: i32,
    /// Its code.
    pub to_code: String,
    /// Land moved, m².
    pub area_m2: f64,
    /// Households estimated by area share.
    pub households: i64,
}

/// What publishing would change.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Changes {
    /// Draft grids that will be new versions of their code.
    pub changed: Vec<i32>,
    /// Draft grids with a new code.
    pub new: Vec<i32>,
    /// Current grids closed (their code not continued, or continued by a changed grid).
    pub closed: Vec<i64>,
    /// Draft grids left as they are.
    pub unchanged: usize,
    /// Events whose grid id changes (every event of a closed grid gets a new grid row).
    pub events_regridded: usize,
    /// Of them, events whose grid code changes.
    pub events_moving: usize,
    /// Those events, up to 5,000.
    pub event_moves: Vec<EventMove>,
    /// Whether `event_moves` was cut short.
    pub event_moves_truncated: bool,
    /// Households estimated to change grid code.
    pub household_moves: Vec<HouseholdMove>,
}

/// A validation report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// No fault.
    pub valid: bool,
    /// When checked.
    pub checked_at: DateTime<Utc>,
    /// How long the check took, ms.
    pub took_ms: f64,
    /// Grids in the draft.
    pub grids: usize,
    /// Every fault.
    pub faults: Vec<Fault>,
    /// Overlaps, gaps and outside parts below the sliver area, ignored.
    pub slivers: usize,
    /// Their total area, m².
    pub sliver_area_m2: f64,
    /// The sliver area, m².
    pub sliver_limit_m2: f64,
    /// What publishing would change.
    pub changes: Changes,
    /// Every event publishing would move, for publish itself (not listed in responses).
    #[serde(skip)]
    pub(super) regrid: Vec<Regrid>,
}

/// One event publishing would move: (event, its grid now, the existing grid or the draft
/// grid's code that would cover it).
#[derive(Debug, Clone)]
pub(super) struct Regrid {
    pub(super) id: i64,
    pub(super) from: Option<i64>,
    pub(super) to_grid: Option<i64>,
    pub(super) to_code: Option<String>,
}

impl Store {
    /// Validates a draft and keeps the report with it.
    pub async fn validate_plan(&self, id: i64) -> PlanResult<Report> {
        let conn = self.conn().await?;
        let plan = read_plan(&conn, id).await?;
        let report = validate(&conn, &plan).await?;
        if plan.status == "draft" {
            conn.execute(
                include_str!("../sql/plan_keep_report.sql"),
                &[&id, &report.to_json()],
            )
            .await?;
        }
        Ok(report)
    }
}

impl Report {
    /// The report as kept with its plan (JSON).
    pub(super) fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// A draft holding grids PostGIS cannot measure: refused before anything is computed
    /// with them, those grids its faults.
    fn unusable(grids: usize, faults: Vec<Fault>, started: std::time::Instant) -> Report {
        Report {
            valid: false,
            checked_at: Utc::now(),
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
            grids,
            faults,
            slivers: 0,
            sliver_area_m2: 0.0,
            sliver_limit_m2: SLIVER_M2,
            changes: Changes::default(),
            regrid: Vec::new(),
        }
    }
}

/// Overlaps, gaps and outside parts below [`SLIVER_M2`]: counted, not faults.
#[derive(Default)]
struct Slivers {
    count: usize,
    area_m2: f64,
}

impl Slivers {
    /// Whether a piece is a sliver (then counted).
    fn take(&mut self, piece: &Piece) -> bool {
        let small = piece.area_m2 < SLIVER_M2;
        if small {
            self.count += 1;
            self.area_m2 += piece.area_m2;
        }
        small
    }
}

/// Checks a draft (see the plans module documentation).
pub(super) async fn validate(c: &impl GenericClient, plan: &Plan) -> PlanResult<Report> {
    let started = std::time::Instant::now();
    let id = plan.id;
    // Grids PostGIS cannot measure (stored before the input checks) make the draft invalid
    // before anything is computed with them.
    let (grids, unusable) = check_stored(c, id, None, false).await?;
    if !unusable.is_empty() {
        return Err(PlanError::Invalid(Box::new(Report::unusable(
            grids, unusable, started,
        ))));
    }
    let mut slivers = Slivers::default();
    let mut faults = invalid_geometries(c, id).await?;
    faults.extend(overlaps(c, id, &mut slivers).await?);
    faults.extend(gaps(c, id, &mut slivers).await?);
    faults.extend(outside_parents(c, id, &mut slivers).await?);
    let (grids, mut changes) = figures_and_states(c, plan, &mut faults).await?;
    changes.closed = c
        .query(include_str!("../sql/plan_retired.sql"), &[&id])
        .await?
        .iter()
        .map(|r| r.col("id"))
        .collect::<Result<_, _>>()?;
    let regrid = event_moves(c, id, &mut changes).await?;
    changes.household_moves = household_moves(c, id).await?;
    Ok(Report {
        valid: faults.is_empty(),
        checked_at: Utc::now(),
        took_ms: started.elapsed().as_secs_f64() * 1000.0,
        grids,
        faults,
        slivers: slivers.count,
        sliver_area_m2: slivers.area_m2,
        sliver_limit_m2: SLIVER_M2,
        changes,
        regrid,
    })
}

/// Grids whose geometry is not valid, with reason and location.
async fn invalid_geometries(c: &impl GenericClient, id: i64) -> PlanResult<Vec<Fault>> {
    let mut faults = Vec::new();
    for r in c
        .query(include_str!("../sql/plan_invalid.sql"), &[&id])
        .await?
    {
        faults.push(Fault::InvalidGeometry {
            grid: r.col("key")?,
            code: r.col("code")?,
            reason: r.col::<Option<String>>("reason")?.unwrap_or_default(),
            location: loc(r.col("x")?, r.col("y")?),
        });
    }
    Ok(faults)
}

/// Overlaps between grids larger than a sliver.
async fn overlaps(
    c: &impl GenericClient,
    id: i64,
    slivers: &mut Slivers,
) -> PlanResult<Vec<Fault>> {
    let mut faults = Vec::new();
    for r in c
        .query(include_str!("../sql/plan_overlaps.sql"), &[&id])
        .await?
    {
        let piece = Piece::from_row(&r)?;
        if slivers.take(&piece) {
            continue;
        }
        faults.push(Fault::Overlap {
            grids: [r.col("ka")?, r.col("kb")?],
            codes: [r.col("ca")?, r.col("cb")?],
            piece,
        });
    }
    Ok(faults)
}

/// Holes in each parent's coverage larger than a sliver.
async fn gaps(c: &impl GenericClient, id: i64, slivers: &mut Slivers) -> PlanResult<Vec<Fault>> {
    let mut faults = Vec::new();
    for r in c
        .query(include_str!("../sql/plan_gaps.sql"), &[&id])
        .await?
    {
        let piece = Piece::from_row(&r)?;
        if slivers.take(&piece) {
            continue;
        }
        faults.push(Fault::Gap {
            parent: r.col("parent")?,
            parent_code: r.col("parent_code")?,
            piece,
        });
    }
    Ok(faults)
}

/// Parts of grids outside their parent larger than a sliver.
async fn outside_parents(
    c: &impl GenericClient,
    id: i64,
    slivers: &mut Slivers,
) -> PlanResult<Vec<Fault>> {
    let mut faults = Vec::new();
    for r in c
        .query(include_str!("../sql/plan_outside.sql"), &[&id])
        .await?
    {
        let piece = Piece::from_row(&r)?;
        if slivers.take(&piece) {
            continue;
        }
        faults.push(Fault::OutsideParent {
            grid: r.col("key")?,
            code: r.col("code")?,
            parent: r.col("parent")?,
            piece,
        });
    }
    Ok(faults)
}

/// Counts the grids by state (unchanged, changed, new) and adds a fault for each whose
/// households or population fall outside the plan's bounds; returns the number of grids
/// and the counts.
async fn figures_and_states(
    c: &impl GenericClient,
    plan: &Plan,
    faults: &mut Vec<Fault>,
) -> PlanResult<(usize, Changes)> {
    let rows = c
        .query(include_str!("../sql/plan_grid_states.sql"), &[&plan.id])
        .await?;
    let mut changes = Changes::default();
    for r in &rows {
        let key: i32 = r.col("key")?;
        let code: String = r.col("code")?;
        let h: i32 = r.col("households")?;
        let p: i32 = r.col("population")?;
        let changed: bool = r.col("changed")?;
        let source: Option<i64> = r.col("source_id")?;
        match (changed, source) {
            (false, _) => changes.unchanged += 1,
            (true, Some(_)) => changes.changed.push(key),
            (true, None) => changes.new.push(key),
        }
        if h < plan.households_min || h > plan.households_max {
            faults.push(Fault::Households {
                grid: key,
                code: code.clone(),
                households: h,
                min: plan.households_min,
                max: plan.households_max,
            });
        }
        if plan.population_min.is_some_and(|m| p < m) || plan.population_max.is_some_and(|m| p > m)
        {
            faults.push(Fault::Population {
                grid: key,
                code,
                population: p,
                min: plan.population_min,
                max: plan.population_max,
            });
        }
    }
    Ok((rows.len(), changes))
}

/// Every event whose grid would change on publish: counted and listed (up to
/// [`MAX_LISTED_EVENTS`] of those changing grid code) in `changes`; returned all, for
/// publish itself.
async fn event_moves(
    c: &impl GenericClient,
    id: i64,
    changes: &mut Changes,
) -> PlanResult<Vec<Regrid>> {
    let mut regrid = Vec::new();
    for r in c
        .query(include_str!("../sql/plan_event_moves.sql"), &[&id])
        .await?
    {
        changes.events_regridded += 1;
        let m = EventMove {
            id: r.col("id")?,
            from_grid: r.col("from_grid")?,
            from_code: r.col("from_code")?,
            to_grid: r.col("to_grid")?,
            to_key: r.col("to_key")?,
            to_code: r.col("to_code")?,
        };
        regrid.push(Regrid {
            id: m.id,
            from: m.from_grid,
            to_grid: m.to_grid,
            to_code: m.to_key.and(m.to_code.clone()),
        });
        if m.from_code != m.to_code {
            changes.events_moving += 1;
            if changes.event_moves.len() < MAX_LISTED_EVENTS {
                changes.event_moves.push(m);
            } else {
                changes.event_moves_truncated = true;
            }
        }
    }
    Ok(regrid)
}

/// Households estimated to change grid code, by area share.
async fn household_moves(c: &impl GenericClient, id: i64) -> PlanResult<Vec<HouseholdMove>> {
    let mut moves = Vec::new();
    for r in c
        .query(include_str!("../sql/plan_household_moves.sql"), &[&id])
        .await?
    {
        let h: i32 = r.col("households")?;
        let area: f64 = r.col("grid_m2")?;
        let inter: f64 = r.col("moved_m2")?;
        #[allow(clippy::cast_possible_truncation)]
        let moved = if area > 0.0 {
            (f64::from(h) * inter / area).round() as i64
        } else {
            0
        };
        moves.push(HouseholdMove {
            from_grid: r.col("from_grid")?,
            from_code: r.col("from_code")?,
            to_key: r.col("to_key")?,
            to_code: r.col("to_code")?,
            area_m2: inter,
            households: moved,
        });
    }
    Ok(moves)
}
