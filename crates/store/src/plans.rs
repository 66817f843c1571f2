//! Grid planning in PostGIS: drafts of grid boundaries, their operations, validation and
//! publication as new area versions (migrations/0005).
//!
//! # Tables
//!
//! A **plan** is a draft over one area (a community usually; a street or district works
//! too). Opening it copies the current grids below the area into `plan_grids` (each keyed
//! within the plan by `key`, remembering the grid it continues in `source_id`), records
//! those grid rows as the draft's **base** (`plan_base`) and the communities it covers as
//! its **parents** (`plan_parents`). Every operation is logged in `plan_operations`; the
//! last validation report is kept in `plans.report`. Drafts live in PostGIS only.
//!
//! # Operations
//!
//! All geometry work is PostGIS's (`ST_Split`, `ST_Union`, `ST_Difference`,
//! `ST_Intersection`); an input geometry that is not valid is refused with the reason and
//! location `ST_IsValidDetail` gives — never repaired (`ST_MakeValid` is not used). An input
//! polygon must also be of a grid's size and place: finite coordinates, no side of its
//! bounding box longer than [`MAX_INPUT_SIDE_DEG`], and within [`INPUT_MARGIN_DEG`] of the
//! bounding box of the plan's area (a world-size polygon is refused, 422, before anything is
//! written). Each operation runs in one transaction together with the validation of its
//! result: any error rolls it back, leaving the draft exactly as it was.
//!
//! Faults of the input are found before PostGIS computes with it, and are typed: the size
//! and place checks above in Rust, validity by a check statement whose result is read as
//! data (`sql/plan_check_geom.sql`), and grids already stored are checked the same way
//! before an operation or a validation computes with them (`sql/plan_check_grids.sql`: a
//! draft may hold a grid stored before these checks). A statement that fails anyway is the
//! server's fault, whatever its text: [`PlanError::Store`], a 500 with a generic message and
//! the detail in the log — an error's text is never read to decide whose fault it is.
//!
//! - `reshape`: a grid gets a new geometry and/or figures (households, population, name).
//!   Without explicit figures a reshaped grid keeps its own.
//! - `split`: a grid is cut by a line into two or more parts (largest first: it keeps the
//!   key, code and name; the others are new grids with the next codes of the parent).
//! - `merge`: adjacent grids (their union one polygon) become one: the first keeps its key,
//!   code and name, the others are retired; figures are summed.
//! - `move_boundary`: two neighbours change together — either the part of `from` inside a
//!   `piece` polygon is given to `to` (the piece must share a boundary line with `to`), or
//!   their union is cut by a new shared `line` and each part goes to the grid it overlapped
//!   most.
//! - `create` and `retire`: a new grid (figures given), or a grid removed from the draft.
//!
//! Where figures are not given, households and population follow the land: each new grid
//! receives from each old grid its share of the old grid's figures in proportion to the area
//! (m², on the ellipsoid) it takes, rounded so that the totals are kept.
//!
//! # Validation
//!
//! [`Report`] lists every fault with where it is: polygons that are not valid (reason and
//! location; a grid PostGIS cannot measure — larger than an input may be, or outside the
//! plan's region — makes validation and publish refuse the draft at once, [`PlanError::Invalid`],
//! with that grid as an `invalid_geometry` fault), overlaps between grids (each piece: area and a point in it), gaps inside each
//! parent (each hole: area and a point), parts of grids outside their parent, and grids
//! whose households (default 200–500) or population (no default bounds) fall outside the
//! plan's bounds. It also lists what publishing would move: every event whose grid would
//! change, and the households estimated to change grid code.
//!
//! **Tolerance.** A cut introduces vertices where the line crosses a boundary; their
//! coordinates are rounded to doubles, so the cut grid's edge and its neighbour's (or the
//! parent's) edge differ by hair-thin slivers (around 10⁻³ m² on the demo). Overlaps, gaps
//! and outside parts smaller than [`SLIVER_M2`] (1 m²) are therefore counted as `slivers`
//! in the report and are not faults; everything larger is. Boundaries that are not cut —
//! the demo's shared edges, merges, pieces given along existing edges — stay exact.
//!
//! # Publish
//!
//! One transaction, under `LOCK TABLE areas IN EXCLUSIVE MODE` (reads go on): the base is
//! checked to be still current (else [`PlanError::Conflict`], the draft kept for a rebase
//! or to be abandoned), the draft validated again (else [`PlanError::Invalid`]); then the
//! closed base grids get `valid_to`, every changed draft grid a new row (`valid_from`,
//! version + 1 of its code; new ids in key order), grids left unchanged stay as they are;
//! the events of the closed grids are re-assigned to the grid that now covers them
//! (smallest id among covering grids, as `locate` answers) with a `regrid` history entry
//! each. The events' UPDATE notifies the change feed; the areas' statement trigger notifies
//! `minqing_areas`, so other instances reload their area index.
//!
//! # Conflicts
//!
//! A draft records the grid rows it started from. Two drafts over overlapping areas: the
//! first publish closes some of the second's base rows, so the second publish finds them no
//! longer current and is refused (409), naming them. Nothing of the refused draft is lost:
//! it can be rebased (its unchanged grids replaced by the current ones, its changed grids
//! continuing the current versions of their codes) or abandoned.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use geo_types::MultiPolygon;
use serde::Serialize;

use super::write::event_from_row;
use super::{Result, Store, StoreError};
use minqing_model::{Area, Event, Level, wkb};

/// Overlaps, gaps and outside parts smaller than this (m²) are slivers, not faults.
pub const SLIVER_M2: f64 = 1.0;
/// Default bounds of households per grid.
pub const DEFAULT_HOUSEHOLDS: (i32, i32) = (200, 500);
/// Most events listed one by one in a report (all are counted).
const MAX_LISTED_EVENTS: usize = 5000;

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

/// New figures for a grid.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Households.
    pub households: Option<i32>,
    /// Population.
    pub population: Option<i32>,
    /// Name.
    pub name: Option<String>,
}

/// An operation on a draft (see the module documentation).
#[derive(Debug, Clone)]
pub enum Operation {
    /// New geometry and/or figures of a grid.
    Reshape {
        /// Key.
        grid: i32,
        /// New boundary.
        geom: Option<MultiPolygon<f64>>,
        /// New figures.
        figures: Figures,
    },
    /// Cut a grid by a line.
    Split {
        /// Key.
        grid: i32,
        /// The line, lon/lat positions.
        line: Vec<(f64, f64)>,
    },
    /// Merge adjacent grids.
    Merge {
        /// Keys; the first keeps its identity.
        grids: Vec<i32>,
    },
    /// Give the part of `from` inside `piece` to `to`.
    Give {
        /// Key of the grid giving.
        from: i32,
        /// Key of the grid receiving.
        to: i32,
        /// The piece.
        piece: MultiPolygon<f64>,
    },
    /// Redraw the shared boundary of two grids along a line.
    Redraw {
        /// The two keys.
        grids: [i32; 2],
        /// The new boundary line.
        line: Vec<(f64, f64)>,
    },
    /// A new grid.
    Create {
        /// Boundary.
        geom: MultiPolygon<f64>,
        /// Figures (households and population required).
        figures: Figures,
        /// Code (default: the parent's next).
        code: Option<String>,
        /// Parent (default: the plan's area when it is a community).
        parent: Option<i64>,
    },
    /// Remove a grid.
    Retire {
        /// Key.
        grid: i32,
    },
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
    Invalid(Box<Report>),
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

/// A piece of the plane a fault is about (an overlap, a hole, a part outside its parent).
#[derive(Debug, Clone, Serialize)]
pub struct Piece {
    /// Area, m².
    pub area_m2: f64,
    /// A point inside it.
    pub location: Option<[f64; 2]>,
    /// Its shape (GeoJSON Polygon), to draw.
    pub geometry: Option<serde_json::Value>,
}

impl Piece {
    /// From the columns area, x, y, GeoJSON of a row, starting at `at`.
    fn from_row(r: &tokio_postgres::Row, at: usize) -> Piece {
        Piece {
            area_m2: r.get(at),
            location: loc(r.get(at + 1), r.get(at + 2)),
            geometry: r.get(at + 3),
        }
    }
}

/// One fault of a draft.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// A polygon that is not valid.
    InvalidGeometry {
        /// Key.
        grid: i32,
        /// Code.
        code: String,
        /// Reason.
        reason: String,
        /// Where.
        location: Option<[f64; 2]>,
    },
    /// Two grids overlap.
    Overlap {
        /// The two keys.
        grids: [i32; 2],
        /// Their codes.
        codes: [String; 2],
        /// The overlapping piece.
        #[serde(flatten)]
        piece: Piece,
    },
    /// A hole in a parent's coverage.
    Gap {
        /// Parent area id.
        parent: i64,
        /// Its code.
        parent_code: String,
        /// The hole.
        #[serde(flatten)]
        piece: Piece,
    },
    /// Part of a grid outside its parent.
    OutsideParent {
        /// Key.
        grid: i32,
        /// Code.
        code: String,
        /// Parent area id.
        parent: i64,
        /// The part outside.
        #[serde(flatten)]
        piece: Piece,
    },
    /// Households outside the bounds.
    Households {
        /// Key.
        grid: i32,
        /// Code.
        code: String,
        /// Its households.
        households: i32,
        /// Lowest allowed.
        min: i32,
        /// Highest allowed.
        max: i32,
    },
    /// Population outside the bounds.
    Population {
        /// Key.
        grid: i32,
        /// Code.
        code: String,
        /// Its population.
        population: i32,
        /// Lowest allowed.
        min: Option<i32>,
        /// Highest allowed.
        max: Option<i32>,
    },
}

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
    regrid: Vec<Regrid>,
}

/// One event publishing would move: (event, its grid now, the existing grid or the draft
/// grid's code that would cover it).
#[derive(Debug, Clone)]
struct Regrid {
    id: i64,
    from: Option<i64>,
    to_grid: Option<i64>,
    to_code: Option<String>,
}

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

/// Filters of a historical area listing.
#[derive(Debug, Clone, Copy, Default)]
pub struct AreasAt {
    /// Only this level.
    pub level: Option<Level>,
    /// Only children of this area.
    pub parent: Option<i64>,
    /// Only areas meeting this box.
    pub bbox: Option<minqing_model::BBox>,
}

fn plan_from_row(r: &tokio_postgres::Row) -> Plan {
    Plan {
        id: r.get(0),
        area_id: r.get(1),
        name: r.get(2),
        status: r.get(3),
        households_min: r.get(4),
        households_max: r.get(5),
        population_min: r.get(6),
        population_max: r.get(7),
        created_by: r.get(8),
        created_at: r.get(9),
        updated_at: r.get(10),
        published_at: r.get(11),
        published_by: r.get(12),
        report: r.get(13),
    }
}

const PLAN_COLUMNS: &str = "id, area_id, name, status, households_min, households_max, \
     population_min, population_max, created_by, created_at, updated_at, published_at, \
     published_by, report";

fn loc(x: Option<f64>, y: Option<f64>) -> Option<[f64; 2]> {
    match (x, y) {
        (Some(x), Some(y)) => Some([x, y]),
        _ => None,
    }
}

/// Little-endian WKB of a line string.
fn line_wkb(line: &[(f64, f64)]) -> Vec<u8> {
    let mut b = Vec::with_capacity(9 + line.len() * 16);
    b.push(1);
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(&u32::try_from(line.len()).unwrap_or(0).to_le_bytes());
    for (x, y) in line {
        b.extend_from_slice(&x.to_le_bytes());
        b.extend_from_slice(&y.to_le_bytes());
    }
    b
}

/// Splits `total` over weights, rounding so that the parts add up to the rounded total
/// (largest remainders first).
fn apportion(shares: &[f64]) -> Vec<i32> {
    let total: f64 = shares.iter().sum();
    #[allow(clippy::cast_possible_truncation)]
    let target = total.round() as i64;
    #[allow(clippy::cast_possible_truncation)]
    let mut out: Vec<i64> = shares.iter().map(|s| s.floor() as i64).collect();
    let mut rest: Vec<(usize, f64)> = shares
        .iter()
        .enumerate()
        .map(|(i, s)| (i, s - s.floor()))
        .collect();
    rest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut missing = target - out.iter().sum::<i64>();
    for (i, _) in rest {
        if missing <= 0 {
            break;
        }
        out[i] += 1;
        missing -= 1;
    }
    out.into_iter()
        .map(|v| i32::try_from(v.max(0)).unwrap_or(i32::MAX))
        .collect()
}

/// Longest side (degrees) of the bounding box of an input geometry: a grid, a piece of one
/// or a new grid is a few kilometres across; no input may be anywhere near a hemisphere
/// (geography computations refuse edges of 180°, and such a polygon could never be a grid).
pub const MAX_INPUT_SIDE_DEG: f64 = 2.0;
/// How far (degrees) an input geometry may reach beyond the bounding box of the plan's area.
pub const INPUT_MARGIN_DEG: f64 = 0.5;

/// Why a geometry is not of a grid's size and place (see [`MAX_INPUT_SIDE_DEG`] and
/// [`INPUT_MARGIN_DEG`]): decided in Rust from its coordinates and bounding box, before
/// PostGIS computes anything with it.
#[derive(Debug, Clone, PartialEq)]
enum ExtentFault {
    /// No coordinate.
    Empty,
    /// A position that is not a finite longitude and latitude.
    NotLonLat([f64; 2]),
    /// A side of its bounding box longer than [`MAX_INPUT_SIDE_DEG`]: width and height, °.
    TooLarge([f64; 2]),
    /// Its bounding box reaches further than [`INPUT_MARGIN_DEG`] beyond the plan area's.
    OutsideRegion {
        /// Its bounding box.
        bounds: [f64; 4],
        /// The plan area's.
        area: [f64; 4],
    },
}

impl ExtentFault {
    /// The refusal of an input geometry described by `what` (nothing was written).
    fn refusal(&self, what: &str) -> String {
        let m = INPUT_MARGIN_DEG;
        match self {
            ExtentFault::Empty => format!("{what}: the geometry is empty"),
            ExtentFault::NotLonLat([x, y]) => {
                format!("{what}: the position ({x}, {y}) is not a finite longitude and latitude")
            }
            ExtentFault::TooLarge([w, h]) => format!(
                "{what} is too large: its bounding box is {w:.4}° × {h:.4}°, more than \
                 {MAX_INPUT_SIDE_DEG}° a side; nothing was changed"
            ),
            ExtentFault::OutsideRegion { bounds: b, area: a } => format!(
                "{what} lies outside the plan's region: its bounding box [{:.5}, {:.5}, {:.5}, \
                 {:.5}] must be within {m}° of the plan area's [{:.5}, {:.5}, {:.5}, \
                 {:.5}]; nothing was changed",
                b[0], b[1], b[2], b[3], a[0], a[1], a[2], a[3]
            ),
        }
    }

    /// The reason a stored grid cannot be computed with (a fault of its draft).
    fn reason(&self) -> String {
        match self {
            ExtentFault::Empty => "the grid's geometry is empty".to_owned(),
            ExtentFault::NotLonLat([x, y]) => format!(
                "the position ({x}, {y}) is not a finite longitude and latitude; reshape or retire the grid"
            ),
            ExtentFault::TooLarge([w, h]) => format!(
                "the grid is too large to be a grid: its bounding box is {w:.4}° × {h:.4}°, more \
                 than {MAX_INPUT_SIDE_DEG}° a side; reshape or retire it"
            ),
            ExtentFault::OutsideRegion { bounds: b, .. } => format!(
                "the grid lies outside the plan's region (bounding box [{:.5}, {:.5}, {:.5}, \
                 {:.5}]); reshape or retire it",
                b[0], b[1], b[2], b[3]
            ),
        }
    }
}

/// Whether a position is a finite longitude and latitude (NaN and infinities are in no
/// range).
fn is_lon_lat(x: f64, y: f64) -> bool {
    (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y)
}

/// Bounding box `[min_lon, min_lat, max_lon, max_lat]` of a geometry's coordinates, or why
/// it has none usable (no coordinate, or one not finite or off the globe).
fn input_bounds(g: &MultiPolygon<f64>) -> Result<[f64; 4], ExtentFault> {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for poly in &g.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            for c in &ring.0 {
                if !is_lon_lat(c.x, c.y) {
                    return Err(ExtentFault::NotLonLat([c.x, c.y]));
                }
                b = [b[0].min(c.x), b[1].min(c.y), b[2].max(c.x), b[3].max(c.y)];
            }
        }
    }
    if b[0] > b[2] {
        return Err(ExtentFault::Empty);
    }
    Ok(b)
}

/// Whether bounding box `b` is of a grid's size and, when the plan's area has a bounding
/// box, of its place.
fn check_extent(b: [f64; 4], area: Option<[f64; 4]>) -> Result<(), ExtentFault> {
    if !(is_lon_lat(b[0], b[1]) && is_lon_lat(b[2], b[3])) {
        let at = if is_lon_lat(b[0], b[1]) {
            [b[2], b[3]]
        } else {
            [b[0], b[1]]
        };
        return Err(ExtentFault::NotLonLat(at));
    }
    let (w_deg, h_deg) = (b[2] - b[0], b[3] - b[1]);
    if w_deg > MAX_INPUT_SIDE_DEG || h_deg > MAX_INPUT_SIDE_DEG {
        return Err(ExtentFault::TooLarge([w_deg, h_deg]));
    }
    if let Some(a) = area {
        let m = INPUT_MARGIN_DEG;
        if b[0] < a[0] - m || b[1] < a[1] - m || b[2] > a[2] + m || b[3] > a[3] + m {
            return Err(ExtentFault::OutsideRegion { bounds: b, area: a });
        }
    }
    Ok(())
}

/// Four optional numbers, when all are there.
fn all4(v: [Option<f64>; 4]) -> Option<[f64; 4]> {
    match v {
        [Some(a), Some(b), Some(c), Some(d)] => Some([a, b, c, d]),
        _ => None,
    }
}

/// A geometry to be stored in draft `plan`: its WKB, after checking that its coordinates
/// are finite, that it is no larger than [`MAX_INPUT_SIDE_DEG`] a side, that it is valid
/// (reason and location otherwise) and that it lies within the bounding box of the plan's
/// area grown by [`INPUT_MARGIN_DEG`]. Nothing is written before these checks pass.
async fn checked_wkb(
    c: &impl GenericClient,
    plan: i64,
    what: &str,
    g: &MultiPolygon<f64>,
) -> PlanResult<Vec<u8>> {
    let refuse = |f: ExtentFault| PlanError::Input(f.refusal(what));
    if g.0.is_empty() {
        return Err(refuse(ExtentFault::Empty));
    }
    let b = input_bounds(g).map_err(refuse)?;
    check_extent(b, None).map_err(refuse)?;
    let w = wkb::write_multipolygon(g);
    let row = c
        .query_one(include_str!("sql/plan_check_geom.sql"), &[&w, &plan])
        .await?;
    let valid: bool = row.try_get("valid")?;
    if !valid {
        return Err(PlanError::Geometry {
            what: what.to_owned(),
            reason: row
                .try_get::<_, Option<String>>("reason")?
                .unwrap_or_default(),
            location: loc(row.try_get("x")?, row.try_get("y")?),
        });
    }
    let area = all4([
        row.try_get("area_xmin")?,
        row.try_get("area_ymin")?,
        row.try_get("area_xmax")?,
        row.try_get("area_ymax")?,
    ]);
    check_extent(b, area).map_err(refuse)?;
    Ok(w)
}

/// Checks the stored grids of draft `plan` before PostGIS computes with them: each must be
/// of a grid's size and place (as an input geometry must be: a draft may hold grids stored
/// before those checks), and with `valid`, valid. `keys`: only these grids (`None`: all).
/// Returns the grids that fail, each with its fault; a check statement decides validity
/// (`ST_IsValidDetail`), read as data.
async fn check_stored(
    c: &impl GenericClient,
    plan: i64,
    keys: Option<&[i32]>,
    valid: bool,
) -> PlanResult<(usize, Vec<Fault>)> {
    let keys: Option<Vec<i32>> = keys.map(<[i32]>::to_vec);
    let rows = c
        .query(
            include_str!("sql/plan_check_grids.sql"),
            &[&plan, &keys, &valid],
        )
        .await?;
    let mut faults = Vec::new();
    for r in &rows {
        let grid: i32 = r.try_get("key")?;
        let code: String = r.try_get("code")?;
        let bounds = all4([
            r.try_get("xmin")?,
            r.try_get("ymin")?,
            r.try_get("xmax")?,
            r.try_get("ymax")?,
        ]);
        let area = all4([
            r.try_get("area_xmin")?,
            r.try_get("area_ymin")?,
            r.try_get("area_xmax")?,
            r.try_get("area_ymax")?,
        ]);
        let extent = bounds.map_or(Err(ExtentFault::Empty), |b| check_extent(b, area));
        if let Err(f) = extent {
            faults.push(Fault::InvalidGeometry {
                grid,
                code,
                reason: f.reason(),
                location: None,
            });
            continue;
        }
        if r.try_get::<_, Option<bool>>("valid")? == Some(false) {
            faults.push(Fault::InvalidGeometry {
                grid,
                code,
                reason: r
                    .try_get::<_, Option<String>>("reason")?
                    .unwrap_or_default(),
                location: loc(r.try_get("x")?, r.try_get("y")?),
            });
        }
    }
    Ok((rows.len(), faults))
}

/// Refuses an operation that would compute with grids `keys` of draft `plan` when one of
/// them cannot be computed with (see [`check_stored`]): a 422 naming the grid and why,
/// before PostGIS is asked.
async fn ensure_usable(c: &impl GenericClient, plan: i64, keys: &[i32]) -> PlanResult<()> {
    let (_, faults) = check_stored(c, plan, Some(keys), true).await?;
    match faults.into_iter().next() {
        None => Ok(()),
        Some(Fault::InvalidGeometry {
            grid,
            reason,
            location: Some(location),
            ..
        }) => Err(PlanError::Geometry {
            what: format!("grid {grid}'s geometry"),
            reason,
            location: Some(location),
        }),
        Some(Fault::InvalidGeometry { grid, reason, .. }) => Err(PlanError::Input(format!(
            "grid {grid} cannot be computed with: {reason}; nothing was changed"
        ))),
        Some(_) => Err(PlanError::Input(format!(
            "grids {keys:?} cannot be computed with; nothing was changed"
        ))),
    }
}

fn check_line(line: &[(f64, f64)]) -> PlanResult<Vec<u8>> {
    if line.len() < 2 {
        return Err(PlanError::Input(
            "a line needs at least two positions".into(),
        ));
    }
    if line.windows(2).any(|w| w[0] == w[1]) {
        return Err(PlanError::Input(
            "the line repeats a position (a segment of length 0)".into(),
        ));
    }
    if let Some((x, y)) = line.iter().find(|(x, y)| !is_lon_lat(*x, *y)) {
        return Err(PlanError::Input(
            ExtentFault::NotLonLat([*x, *y]).refusal("the line"),
        ));
    }
    Ok(line_wkb(line))
}

/// An output of an operation: an existing key to rewrite, or a new grid.
struct Output {
    key: Option<i32>,
    wkb: Vec<u8>,
    households: Option<i32>,
    population: Option<i32>,
}

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
            .query_opt(
                "SELECT level FROM areas WHERE id = $1 AND valid_to IS NULL",
                &[&area_id],
            )
            .await?
            .map(|r| r.get(0));
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
                "INSERT INTO plans (area_id, name, households_min, households_max, population_min, population_max, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                &[&area_id, &name, &households.0, &households.1, &population.0, &population.1, &actor],
            )
            .await?
            .get(0);
        tx.execute(include_str!("sql/plan_create.sql"), &[&id, &area_id])
            .await?;
        let n: i64 = tx
            .query_one("SELECT count(*) FROM plan_grids WHERE plan_id = $1", &[&id])
            .await?
            .get(0);
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
            .query(
                &format!(
                    "SELECT {PLAN_COLUMNS} FROM plans WHERE ($1::text IS NULL OR status = $1) ORDER BY id DESC LIMIT $2"
                ),
                &[&status, &limit],
            )
            .await?;
        Ok(rows.iter().map(plan_from_row).collect())
    }

    /// The grids of a draft, in key order, and the base grids it closes.
    pub async fn plan_grids(&self, id: i64) -> PlanResult<(Vec<PlanGrid>, Vec<ClosedGrid>)> {
        let conn = self.conn().await?;
        let grids = read_grids(&conn, id).await?;
        let closed = conn
            .query(include_str!("sql/plan_retired.sql"), &[&id])
            .await?
            .iter()
            .map(|r| ClosedGrid {
                id: r.get(0),
                code: r.get(1),
                name: r.get(2),
                version: r.get(3),
            })
            .collect();
        Ok((grids, closed))
    }

    /// Applies one operation to a draft and validates the result, all in one transaction
    /// (logged, the report kept with the draft); returns the keys it touched and the new
    /// report. Any error — a refused input, a database or PostGIS failure, a draft the
    /// validation cannot check any more — rolls the whole operation back: the draft stays
    /// exactly as it was.
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
        let touched = apply_operation(&tx, &plan, op).await?;
        tx.execute(
            "INSERT INTO plan_operations (plan_id, seq, actor, body) SELECT $1, coalesce(max(seq), 0) + 1, $2, $3 FROM plan_operations WHERE plan_id = $1",
            &[&id, &actor, body],
        )
        .await?;
        let report = validate(&tx, &plan).await?;
        let v = serde_json::to_value(&report).unwrap_or(serde_json::Value::Null);
        tx.execute(
            "UPDATE plans SET updated_at = clock_timestamp(), report = $2 WHERE id = $1",
            &[&id, &v],
        )
        .await?;
        tx.commit().await?;
        Ok((touched, report))
    }

    /// Validates a draft and keeps the report with it.
    pub async fn validate_plan(&self, id: i64) -> PlanResult<Report> {
        let conn = self.conn().await?;
        let plan = read_plan(&conn, id).await?;
        let report = validate(&conn, &plan).await?;
        if plan.status == "draft" {
            let v = serde_json::to_value(&report).unwrap_or(serde_json::Value::Null);
            conn.execute(
                "UPDATE plans SET report = $2 WHERE id = $1 AND status = 'draft'",
                &[&id, &v],
            )
            .await?;
        }
        Ok(report)
    }

    /// Publishes a valid draft (see the module documentation).
    pub async fn publish_plan(&self, id: i64, actor: &str) -> PlanResult<Published> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let mut steps = Steps::new();
        tx.batch_execute("LOCK TABLE areas IN EXCLUSIVE MODE")
            .await?;
        let plan = lock_draft(&tx, id).await?;
        let conflicts = tx
            .query(include_str!("sql/plan_conflicts.sql"), &[&id])
            .await?;
        if !conflicts.is_empty() {
            let areas: Vec<i64> = conflicts.iter().map(|r| r.get(0)).collect();
            let what: Vec<String> = conflicts
                .iter()
                .take(20)
                .map(|r| {
                    format!(
                        "{} {} ({})",
                        r.get::<_, String>(2),
                        r.get::<_, String>(1),
                        r.get::<_, i64>(0)
                    )
                })
                .collect();
            return Err(PlanError::Conflict {
                message: format!(
                    "the grids this draft started from changed since it was opened: {}{}; rebase the draft (POST /api/v1/plans/{id}/rebase) or abandon it",
                    what.join(", "),
                    if conflicts.len() > 20 { ", …" } else { "" }
                ),
                areas,
            });
        }
        steps.mark("lock and conflicts");
        let mut report = validate(&tx, &plan).await?;
        if !report.valid {
            return Err(PlanError::Invalid(Box::new(report)));
        }
        steps.mark("validate");
        let at: DateTime<Utc> = tx.query_one("SELECT clock_timestamp()", &[]).await?.get(0);
        let closed: Vec<i64> = report.changes.closed.clone();
        tx.execute(
            "UPDATE areas SET valid_to = $2 WHERE id = ANY($1) AND valid_to IS NULL",
            &[&closed, &at],
        )
        .await?;
        let created: Vec<(i64, String, i32)> = tx
            .query(include_str!("sql/plan_publish_insert.sql"), &[&id, &at])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        steps.mark("close and insert grids");
        let note = format!("plan #{id}");
        let mut events = regrid_listed(&tx, &mut report, &created, actor, &note).await?;
        steps.mark("re-assign events");
        events.extend(regrid_stragglers(&tx, id, &closed, actor, &note).await?);
        steps.mark("re-assign reported meanwhile");
        let v = serde_json::to_value(&report).unwrap_or(serde_json::Value::Null);
        tx.execute(
            "UPDATE plans SET status = 'published', published_at = $2, published_by = $3, report = $4, updated_at = $2 WHERE id = $1",
            &[&id, &at, &actor, &v],
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
        tx.batch_execute("LOCK TABLE areas IN SHARE MODE").await?;
        let events = regrid_stragglers(&tx, plan, closed, actor, &format!("plan #{plan}")).await?;
        tx.commit().await?;
        Ok(events)
    }

    /// Rebases a draft on the current grids (see the module documentation); returns
    /// (dropped, continued, added) grid counts.
    pub async fn rebase_plan(&self, id: i64, actor: &str) -> PlanResult<(i64, i64, i64)> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        tx.batch_execute("LOCK TABLE areas IN SHARE MODE").await?;
        lock_draft(&tx, id).await?;
        let r = tx
            .query_one(include_str!("sql/plan_rebase.sql"), &[&id])
            .await?;
        let (dropped, moved): (i64, i64) = (r.get(0), r.get(1));
        let added: i64 = tx
            .query_one(include_str!("sql/plan_rebase_add.sql"), &[&id])
            .await?
            .get(0);
        tx.execute("DELETE FROM plan_base WHERE plan_id = $1", &[&id])
            .await?;
        tx.execute(
            "INSERT INTO plan_base (plan_id, area_id) SELECT $1, a.id FROM areas a JOIN plan_parents p ON p.plan_id = $1 AND a.parent_id = p.area_id WHERE a.valid_to IS NULL AND a.level = 'grid'",
            &[&id],
        )
        .await?;
        let body = serde_json::json!({"op": "rebase"});
        tx.execute(
            "INSERT INTO plan_operations (plan_id, seq, actor, body) SELECT $1, coalesce(max(seq), 0) + 1, $2, $3 FROM plan_operations WHERE plan_id = $1",
            &[&id, &actor, &body],
        )
        .await?;
        tx.execute(
            "UPDATE plans SET updated_at = clock_timestamp() WHERE id = $1",
            &[&id],
        )
        .await?;
        tx.commit().await?;
        Ok((dropped, moved, added))
    }

    /// Abandons a draft (kept, no longer editable).
    pub async fn abandon_plan(&self, id: i64) -> PlanResult<()> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        lock_draft(&tx, id).await?;
        tx.execute(
            "UPDATE plans SET status = 'abandoned', updated_at = clock_timestamp() WHERE id = $1",
            &[&id],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A draft as one MVT tile (layer `plan`), encoded by PostGIS.
    pub async fn plan_tile(&self, id: i64, z: i32, x: i32, y: i32) -> PlanResult<Vec<u8>> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(include_str!("sql/plan_tile.sql"), &[&id, &z, &x, &y])
            .await?;
        Ok(row.get::<_, Option<Vec<u8>>>(0).unwrap_or_default())
    }

    /// The grid covering a point at a time (smallest id among the grids valid then), and
    /// its ancestors, nearest first.
    pub async fn locate_at(
        &self,
        lon: f64,
        lat: f64,
        at: DateTime<Utc>,
    ) -> Result<Option<(Area, Vec<Area>)>> {
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("sql/plan_locate_at.sql"))
            .await?;
        let rows = conn.query(&stmt, &[&lon, &lat, &at]).await?;
        let mut areas = rows.iter().map(area_from_row).collect::<Result<Vec<_>>>()?;
        if areas.is_empty() {
            return Ok(None);
        }
        let grid = areas.remove(0);
        Ok(Some((grid, areas)))
    }

    /// Areas valid at a time, in id order after `after`, at most `limit`.
    pub async fn areas_at(
        &self,
        at: DateTime<Utc>,
        filter: &AreasAt,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Area>> {
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("sql/plan_areas_at.sql"))
            .await?;
        let b = filter.bbox;
        let rows = conn
            .query(
                &stmt,
                &[
                    &at,
                    &after.unwrap_or(i64::MIN),
                    &limit,
                    &filter.level.map(Level::as_str),
                    &filter.parent,
                    &b.map(|b| b.min_lon),
                    &b.map(|b| b.min_lat),
                    &b.map(|b| b.max_lon),
                    &b.map(|b| b.max_lat),
                ],
            )
            .await?;
        rows.iter().map(area_from_row).collect()
    }

    /// Identifies the set of current areas: (count, sum of ids). A redraw or an import
    /// changes it (new rows take ids above every existing one), so an instance compares it
    /// with its index to know whether to reload.
    pub async fn areas_stamp(&self) -> Result<(i64, i64)> {
        let conn = self.conn().await?;
        let r = conn
            .query_one(
                "SELECT count(*), coalesce(sum(id), 0)::bigint FROM areas WHERE valid_to IS NULL",
                &[],
            )
            .await?;
        Ok((r.get(0), r.get(1)))
    }
}

fn area_from_row(r: &tokio_postgres::Row) -> Result<Area> {
    let id: i64 = r.get(0);
    let level: &str = r.get(4);
    let level = Level::parse(level).ok_or_else(|| StoreError::Invalid {
        what: "area",
        id,
        detail: format!("level {level:?}"),
    })?;
    let workers: &str = r.get(8);
    let workers = serde_json::from_str(workers).map_err(|e| StoreError::Invalid {
        what: "area",
        id,
        detail: format!("workers: {e}"),
    })?;
    let geom = wkb::read_multipolygon(r.get(12)).map_err(|source| StoreError::Geometry {
        what: "area",
        id,
        source,
    })?;
    Ok(Area {
        id,
        code: r.get(1),
        name: r.get(2),
        name_en: r.get(3),
        level,
        parent_id: r.get(5),
        households: r.get(6),
        population: r.get(7),
        workers,
        generated: r.get(9),
        source: r.get(10),
        version: r.get(11),
        geom,
    })
}

async fn read_grids(c: &impl GenericClient, id: i64) -> PlanResult<Vec<PlanGrid>> {
    let rows = c.query(include_str!("sql/plan_grids.sql"), &[&id]).await?;
    rows.iter()
        .map(|r| {
            let key: i32 = r.get(0);
            let geom = wkb::read_multipolygon(r.get(10)).map_err(|source| {
                PlanError::Store(StoreError::Geometry {
                    what: "plan grid",
                    id: i64::from(key),
                    source,
                })
            })?;
            Ok(PlanGrid {
                key,
                source_id: r.get(1),
                parent_id: r.get(2),
                code: r.get(3),
                name: r.get(4),
                name_en: r.get(5),
                households: r.get(6),
                population: r.get(7),
                workers: r.get(8),
                changed: r.get(9),
                geom,
            })
        })
        .collect()
}

/// Locks a plan's row; refuses unless it is a draft.
async fn lock_draft(c: &impl GenericClient, id: i64) -> PlanResult<Plan> {
    let row = c
        .query_opt(
            &format!("SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1 FOR UPDATE"),
            &[&id],
        )
        .await?
        .ok_or_else(|| PlanError::NotFound(format!("no plan {id}")))?;
    let plan = plan_from_row(&row);
    if plan.status != "draft" {
        return Err(PlanError::State(format!(
            "plan {id} is {}; only a draft can be changed or published",
            plan.status
        )));
    }
    Ok(plan)
}

/// Households and population of a grid.
async fn figures_of(c: &impl GenericClient, plan: i64, key: i32) -> PlanResult<(i32, i32)> {
    let r = c
        .query_opt(
            "SELECT households, population FROM plan_grids WHERE plan_id = $1 AND key = $2",
            &[&plan, &key],
        )
        .await?
        .ok_or_else(|| PlanError::NotFound(format!("plan {plan} has no grid {key}")))?;
    Ok((r.get(0), r.get(1)))
}

/// Households and population of the new geometries by area share of the old grids `keys`.
async fn shares(
    c: &impl GenericClient,
    plan: i64,
    keys: &[i32],
    news: &[Vec<u8>],
) -> PlanResult<(Vec<i32>, Vec<i32>)> {
    let rows = c
        .query(include_str!("sql/plan_shares.sql"), &[&plan, &keys, &news])
        .await?;
    let mut h = vec![0.0; news.len()];
    let mut p = vec![0.0; news.len()];
    for k in keys {
        let (hh, pop) = figures_of(c, plan, *k).await?;
        for r in rows.iter().filter(|r| r.get::<_, i32>(0) == *k) {
            let j = usize::try_from(r.get::<_, i32>(1) - 1).unwrap_or(0);
            let area: f64 = r.get(2);
            let inter: f64 = r.get(3);
            if area > 0.0 && j < news.len() {
                h[j] += f64::from(hh) * inter / area;
                p[j] += f64::from(pop) * inter / area;
            }
        }
    }
    Ok((apportion(&h), apportion(&p)))
}

async fn ensure_keys(c: &impl GenericClient, plan: i64, keys: &[i32]) -> PlanResult<()> {
    for k in keys {
        figures_of(c, plan, *k).await?;
    }
    Ok(())
}

/// The next free grid code and name under a parent.
async fn next_code(c: &impl GenericClient, plan: i64, parent: i64) -> PlanResult<(String, String)> {
    let r = c
        .query_opt(include_str!("sql/plan_next_code.sql"), &[&parent, &plan])
        .await?
        .ok_or_else(|| PlanError::Input(format!("no parent area {parent}")))?;
    let code: String = r.get(0);
    let name: String = r.get(1);
    let n: i64 = r.get::<_, i64>(2) + 1;
    Ok((format!("{code}{n:03}"), format!("{name}第{n}网格")))
}

/// Writes the outputs of an operation: rewrites existing keys, inserts new grids (parent
/// and workers of `like`), marks them changed.
async fn write_outputs(
    c: &impl GenericClient,
    plan: i64,
    like: i32,
    outputs: Vec<Output>,
) -> PlanResult<Vec<i32>> {
    let mut touched = Vec::new();
    for o in outputs {
        match o.key {
            Some(k) => {
                c.execute(
                    "UPDATE plan_grids SET geom = ST_GeomFromWKB($3, 4326), households = coalesce($4, households), population = coalesce($5, population), changed = true WHERE plan_id = $1 AND key = $2",
                    &[&plan, &k, &o.wkb, &o.households, &o.population],
                )
                .await?;
                touched.push(k);
            }
            None => {
                let parent: i64 = c
                    .query_one(
                        "SELECT parent_id FROM plan_grids WHERE plan_id = $1 AND key = $2",
                        &[&plan, &like],
                    )
                    .await?
                    .get(0);
                let (code, name) = next_code(c, plan, parent).await?;
                let key: i32 = c
                    .query_one(
                        "INSERT INTO plan_grids (plan_id, key, parent_id, code, name, households, population, changed, geom) SELECT $1, coalesce(max(key), 0) + 1, $2, $3, $4, coalesce($5, 0), coalesce($6, 0), true, ST_GeomFromWKB($7, 4326) FROM plan_grids WHERE plan_id = $1 RETURNING key",
                        &[&plan, &parent, &code, &name, &o.households, &o.population, &o.wkb],
                    )
                    .await?
                    .get(0);
                touched.push(key);
            }
        }
    }
    Ok(touched)
}

async fn apply_operation(
    c: &impl GenericClient,
    plan: &Plan,
    op: &Operation,
) -> PlanResult<Vec<i32>> {
    let id = plan.id;
    match op {
        Operation::Reshape {
            grid,
            geom,
            figures,
        } => {
            ensure_keys(c, id, &[*grid]).await?;
            if let Some(g) = geom {
                let w = checked_wkb(c, id, &format!("grid {grid}'s new geometry"), g).await?;
                c.execute(
                    "UPDATE plan_grids SET geom = ST_GeomFromWKB($3, 4326), changed = true WHERE plan_id = $1 AND key = $2",
                    &[&id, grid, &w],
                )
                .await?;
            }
            c.execute(
                "UPDATE plan_grids SET households = coalesce($3, households), population = coalesce($4, population), name = coalesce($5, name), changed = changed OR $3 IS NOT NULL OR $4 IS NOT NULL OR $5 IS NOT NULL WHERE plan_id = $1 AND key = $2",
                &[&id, grid, &figures.households, &figures.population, &figures.name],
            )
            .await?;
            Ok(vec![*grid])
        }
        Operation::Split { grid, line } => {
            ensure_keys(c, id, &[*grid]).await?;
            ensure_usable(c, id, &[*grid]).await?;
            let w = check_line(line)?;
            let parts: Vec<Vec<u8>> = c
                .query(include_str!("sql/plan_split.sql"), &[&id, grid, &w])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            if parts.len() < 2 {
                return Err(PlanError::Input(format!(
                    "the line does not cut grid {grid} in two: it must cross the grid from one side to another"
                )));
            }
            let (h, p) = shares(c, id, &[*grid], &parts).await?;
            let outputs = parts
                .into_iter()
                .enumerate()
                .map(|(i, wkb)| Output {
                    key: (i == 0).then_some(*grid),
                    wkb,
                    households: Some(h[i]),
                    population: Some(p[i]),
                })
                .collect();
            write_outputs(c, id, *grid, outputs).await
        }
        Operation::Merge { grids } => {
            let mut seen = grids.clone();
            seen.sort_unstable();
            seen.dedup();
            if grids.len() < 2 || seen.len() != grids.len() {
                return Err(PlanError::Input(
                    "merge needs two or more different grids".into(),
                ));
            }
            ensure_keys(c, id, grids).await?;
            ensure_usable(c, id, grids).await?;
            let parents: i64 = c
                .query_one(
                    "SELECT count(DISTINCT parent_id) FROM plan_grids WHERE plan_id = $1 AND key = ANY($2)",
                    &[&id, grids],
                )
                .await?
                .get(0);
            if parents != 1 {
                return Err(PlanError::Input(
                    "grids of different parents cannot be merged".into(),
                ));
            }
            let r = c
                .query_one(include_str!("sql/plan_merge.sql"), &[&id, grids])
                .await?;
            let parts: i32 = r.get(1);
            if parts != 1 {
                return Err(PlanError::Input(format!(
                    "grids {grids:?} are not adjacent: their union has {parts} separate parts (grids must share a boundary line, not only a point)"
                )));
            }
            let w: Vec<u8> = r.get(0);
            let (mut h, mut p) = (0i64, 0i64);
            for k in grids {
                let (hh, pp) = figures_of(c, id, *k).await?;
                h += i64::from(hh);
                p += i64::from(pp);
            }
            let first = grids[0];
            c.execute(
                "DELETE FROM plan_grids WHERE plan_id = $1 AND key = ANY($2) AND key <> $3",
                &[&id, grids, &first],
            )
            .await?;
            write_outputs(
                c,
                id,
                first,
                vec![Output {
                    key: Some(first),
                    wkb: w,
                    households: Some(i32::try_from(h).unwrap_or(i32::MAX)),
                    population: Some(i32::try_from(p).unwrap_or(i32::MAX)),
                }],
            )
            .await
        }
        Operation::Give { from, to, piece } => {
            if from == to {
                return Err(PlanError::Input(
                    "from and to must be different grids".into(),
                ));
            }
            ensure_keys(c, id, &[*from, *to]).await?;
            ensure_usable(c, id, &[*from, *to]).await?;
            let w = checked_wkb(c, id, "the piece", piece).await?;
            let r = c
                .query_one(include_str!("sql/plan_give.sql"), &[&id, from, to, &w])
                .await?;
            let area: f64 = r.get(2);
            let touches: bool = r.get(3);
            if area <= 0.0 {
                return Err(PlanError::Input(format!(
                    "the piece does not cover any part of grid {from}"
                )));
            }
            if !touches {
                return Err(PlanError::Input(format!(
                    "the piece of grid {from} does not share a boundary line with grid {to}"
                )));
            }
            let news: Vec<Vec<u8>> = vec![r.get(0), r.get(1)];
            let (h, p) = shares(c, id, &[*from, *to], &news).await?;
            let outputs = vec![
                Output {
                    key: Some(*from),
                    wkb: news[0].clone(),
                    households: Some(h[0]),
                    population: Some(p[0]),
                },
                Output {
                    key: Some(*to),
                    wkb: news[1].clone(),
                    households: Some(h[1]),
                    population: Some(p[1]),
                },
            ];
            write_outputs(c, id, *from, outputs).await
        }
        Operation::Redraw { grids, line } => {
            let [a, b] = *grids;
            if a == b {
                return Err(PlanError::Input(
                    "move_boundary needs two different grids".into(),
                ));
            }
            ensure_keys(c, id, &[a, b]).await?;
            ensure_usable(c, id, &[a, b]).await?;
            let w = check_line(line)?;
            let rows = c
                .query(include_str!("sql/plan_redraw.sql"), &[&id, &a, &b, &w])
                .await?;
            let (mut to_a, mut to_b) = (Vec::new(), Vec::new());
            for r in &rows {
                let part: Vec<u8> = r.get(0);
                let (in_a, in_b): (f64, f64) = (r.get(1), r.get(2));
                if in_a >= in_b {
                    to_a.push(part);
                } else {
                    to_b.push(part);
                }
            }
            if to_a.is_empty() || to_b.is_empty() {
                return Err(PlanError::Input(format!(
                    "the line does not divide grids {a} and {b} into a part for each: draw it across their union, from one outer edge to another"
                )));
            }
            let mut news = Vec::new();
            for parts in [to_a, to_b] {
                let u: Vec<u8> = c
                    .query_one(include_str!("sql/plan_union_parts.sql"), &[&parts])
                    .await?
                    .get(0);
                news.push(u);
            }
            let (h, p) = shares(c, id, &[a, b], &news).await?;
            let outputs = vec![
                Output {
                    key: Some(a),
                    wkb: news[0].clone(),
                    households: Some(h[0]),
                    population: Some(p[0]),
                },
                Output {
                    key: Some(b),
                    wkb: news[1].clone(),
                    households: Some(h[1]),
                    population: Some(p[1]),
                },
            ];
            write_outputs(c, id, a, outputs).await
        }
        Operation::Create {
            geom,
            figures,
            code,
            parent,
        } => {
            let parents: Vec<i64> = c
                .query(
                    "SELECT area_id FROM plan_parents WHERE plan_id = $1 ORDER BY area_id",
                    &[&id],
                )
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let parent = match parent {
                Some(p) if parents.contains(p) => *p,
                Some(p) => {
                    return Err(PlanError::Input(format!(
                        "area {p} is not a parent of this plan's grids; parents: {parents:?}"
                    )));
                }
                None if parents.len() == 1 => parents[0],
                None => {
                    return Err(PlanError::Input(format!(
                        "this plan covers several parents; name one with \"parent\": {parents:?}"
                    )));
                }
            };
            let (Some(h), Some(p)) = (figures.households, figures.population) else {
                return Err(PlanError::Input(
                    "create needs households and population".into(),
                ));
            };
            let w = checked_wkb(c, id, "the new grid's geometry", geom).await?;
            let (next, default_name) = next_code(c, id, parent).await?;
            let code = match code {
                Some(code) => {
                    let taken = c
                        .query_opt(
                            "SELECT 1 FROM plan_grids WHERE plan_id = $1 AND code = $2 UNION ALL SELECT 1 FROM areas WHERE code = $2 AND valid_to IS NULL AND NOT EXISTS (SELECT 1 FROM plan_base b WHERE b.plan_id = $1 AND b.area_id = areas.id)",
                            &[&id, code],
                        )
                        .await?
                        .is_some();
                    if taken {
                        return Err(PlanError::Input(format!("code {code} is already used")));
                    }
                    code.clone()
                }
                None => next,
            };
            let name = figures.name.clone().unwrap_or(default_name);
            let key: i32 = c
                .query_one(
                    "INSERT INTO plan_grids (plan_id, key, parent_id, code, name, households, population, changed, geom) SELECT $1, coalesce(max(key), 0) + 1, $2, $3, $4, $5, $6, true, ST_GeomFromWKB($7, 4326) FROM plan_grids WHERE plan_id = $1 RETURNING key",
                    &[&id, &parent, &code, &name, &h, &p, &w],
                )
                .await?
                .get(0);
            Ok(vec![key])
        }
        Operation::Retire { grid } => {
            ensure_keys(c, id, &[*grid]).await?;
            c.execute(
                "DELETE FROM plan_grids WHERE plan_id = $1 AND key = $2",
                &[&id, grid],
            )
            .await?;
            Ok(vec![*grid])
        }
    }
}

/// Checks a draft (see the module documentation).
async fn validate(c: &impl GenericClient, plan: &Plan) -> PlanResult<Report> {
    let started = std::time::Instant::now();
    let id = plan.id;
    // Grids PostGIS cannot measure (stored before the input checks) make the draft invalid
    // before anything is computed with them.
    let (grids, unusable) = check_stored(c, id, None, false).await?;
    if !unusable.is_empty() {
        return Err(PlanError::Invalid(Box::new(Report {
            valid: false,
            checked_at: Utc::now(),
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
            grids,
            faults: unusable,
            slivers: 0,
            sliver_area_m2: 0.0,
            sliver_limit_m2: SLIVER_M2,
            changes: Changes::default(),
            regrid: Vec::new(),
        })));
    }
    let mut faults = Vec::new();
    let mut slivers = 0usize;
    let mut sliver_area = 0.0;
    let mut sliver = |a: f64| {
        let small = a < SLIVER_M2;
        if small {
            slivers += 1;
            sliver_area += a;
        }
        small
    };
    for r in c
        .query(include_str!("sql/plan_invalid.sql"), &[&id])
        .await?
    {
        faults.push(Fault::InvalidGeometry {
            grid: r.get(0),
            code: r.get(1),
            reason: r.get::<_, Option<String>>(2).unwrap_or_default(),
            location: loc(r.get(3), r.get(4)),
        });
    }
    for r in c
        .query(include_str!("sql/plan_overlaps.sql"), &[&id])
        .await?
    {
        let piece = Piece::from_row(&r, 4);
        if sliver(piece.area_m2) {
            continue;
        }
        faults.push(Fault::Overlap {
            grids: [r.get(0), r.get(2)],
            codes: [r.get(1), r.get(3)],
            piece,
        });
    }
    for r in c.query(include_str!("sql/plan_gaps.sql"), &[&id]).await? {
        let piece = Piece::from_row(&r, 2);
        if sliver(piece.area_m2) {
            continue;
        }
        faults.push(Fault::Gap {
            parent: r.get(0),
            parent_code: r.get(1),
            piece,
        });
    }
    for r in c
        .query(include_str!("sql/plan_outside.sql"), &[&id])
        .await?
    {
        let piece = Piece::from_row(&r, 3);
        if sliver(piece.area_m2) {
            continue;
        }
        faults.push(Fault::OutsideParent {
            grid: r.get(0),
            code: r.get(1),
            parent: r.get(2),
            piece,
        });
    }
    let grids = c
        .query(
            "SELECT key, code, households, population, changed, source_id FROM plan_grids WHERE plan_id = $1 ORDER BY key",
            &[&id],
        )
        .await?;
    let mut changes = Changes::default();
    for r in &grids {
        let (key, code): (i32, String) = (r.get(0), r.get(1));
        let (h, p): (i32, i32) = (r.get(2), r.get(3));
        let changed: bool = r.get(4);
        let source: Option<i64> = r.get(5);
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
    let mut regrid = Vec::new();
    changes.closed = c
        .query(include_str!("sql/plan_retired.sql"), &[&id])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for r in c
        .query(include_str!("sql/plan_event_moves.sql"), &[&id])
        .await?
    {
        changes.events_regridded += 1;
        let m = EventMove {
            id: r.get(0),
            from_grid: r.get(1),
            from_code: r.get(2),
            to_grid: r.get(3),
            to_key: r.get(4),
            to_code: r.get(5),
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
    for r in c
        .query(include_str!("sql/plan_household_moves.sql"), &[&id])
        .await?
    {
        let (h, area, inter): (i32, f64, f64) = (r.get(2), r.get(5), r.get(6));
        #[allow(clippy::cast_possible_truncation)]
        let moved = if area > 0.0 {
            (f64::from(h) * inter / area).round() as i64
        } else {
            0
        };
        changes.household_moves.push(HouseholdMove {
            from_grid: r.get(0),
            from_code: r.get(1),
            to_key: r.get(3),
            to_code: r.get(4),
            area_m2: inter,
            households: moved,
        });
    }
    Ok(Report {
        valid: faults.is_empty(),
        checked_at: Utc::now(),
        took_ms: started.elapsed().as_secs_f64() * 1000.0,
        grids: grids.len(),
        faults,
        slivers,
        sliver_area_m2: sliver_area,
        sliver_limit_m2: SLIVER_M2,
        changes,
        regrid,
    })
}

/// A plan's header (404 when there is none).
async fn read_plan(c: &impl GenericClient, id: i64) -> PlanResult<Plan> {
    let row = c
        .query_opt(
            &format!("SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1"),
            &[&id],
        )
        .await?
        .ok_or_else(|| PlanError::NotFound(format!("no plan {id}")))?;
    Ok(plan_from_row(&row))
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
        .query(include_str!("sql/plan_stragglers.sql"), &[&closed, &plan])
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let from: Vec<Option<i64>> = rows.iter().map(|r| r.get(1)).collect();
    let to: Vec<Option<i64>> = rows.iter().map(|r| r.get(2)).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
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
            include_str!("sql/plan_publish_regrid.sql"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    #[test]
    fn apportioning_keeps_the_total() {
        assert_eq!(apportion(&[100.4, 99.6]), [100, 100]);
        assert_eq!(apportion(&[1.0 / 3.0; 3].map(|x| x * 10.0)), [4, 3, 3]);
        let v = apportion(&[123.45, 76.55, 0.0]);
        assert_eq!(v.iter().sum::<i32>(), 200);
    }

    #[test]
    fn extents_of_a_grid_size_and_place_pass_others_are_typed_faults() {
        let area = Some([115.0, 22.0, 115.2, 22.2]);
        assert_eq!(check_extent([115.05, 22.05, 115.1, 22.1], area), Ok(()));
        assert_eq!(
            check_extent([-180.0, -90.0, 180.0, 90.0], area),
            Err(ExtentFault::TooLarge([360.0, 180.0]))
        );
        assert!(matches!(
            check_extent([2.35, 48.85, 2.36, 48.86], area),
            Err(ExtentFault::OutsideRegion { .. })
        ));
        assert_eq!(check_extent([2.35, 48.85, 2.36, 48.86], None), Ok(()));
        assert!(matches!(
            check_extent([f64::NAN, 22.0, 115.1, 22.1], area),
            Err(ExtentFault::NotLonLat(_))
        ));
        let world = MultiPolygon(vec![polygon![
            (x: -180.0, y: -90.0), (x: 180.0, y: -90.0), (x: 180.0, y: 90.0), (x: -180.0, y: -90.0)
        ]]);
        let b = input_bounds(&world).unwrap();
        let f = check_extent(b, None).unwrap_err();
        assert!(f.refusal("the piece").starts_with("the piece is too large"));
        assert!(f.reason().contains("too large"));
        assert_eq!(input_bounds(&MultiPolygon(vec![])), Err(ExtentFault::Empty));
    }

    #[test]
    fn a_line_off_the_globe_is_refused_before_the_database() {
        let e = check_line(&[(115.0, 22.0), (f64::INFINITY, 22.1)]).unwrap_err();
        assert!(
            matches!(&e, PlanError::Input(m) if m.contains("not a finite longitude")),
            "{e:?}"
        );
        assert!(check_line(&[(115.0, 22.0), (115.1, 22.1)]).is_ok());
    }

    #[test]
    fn line_wkb_is_little_endian_linestring() {
        let w = line_wkb(&[(1.0, 2.0), (3.0, 4.0)]);
        assert_eq!(w.len(), 9 + 32);
        assert_eq!(&w[..5], &[1, 2, 0, 0, 0]);
    }
}
