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
//! bounding box longer than [`MAX_INPUT_SIDE_DEG`](checks::MAX_INPUT_SIDE_DEG), and within
//! [`INPUT_MARGIN_DEG`](checks::INPUT_MARGIN_DEG) of the bounding box of the plan's area (a
//! world-size polygon is refused, 422, before anything is written). Each operation runs in one transaction together with the validation of its
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
//! Clients send them as JSON read into [`Operation`] (the form of each is checked there, a
//! 400 naming the field); what they ask is checked when applied (a 422).
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
//!
//! # Files
//!
//! | file | holds |
//! |---|---|
//! | `model.rs` | the types: [`Plan`], [`PlanGrid`], [`ClosedGrid`], [`PlanError`] |
//! | `operation.rs` | the operations as clients send them: [`Operation`], a serde enum tagged by `op` |
//! | `apply.rs` | applying an operation, one function per operation |
//! | `checks.rs` | checks of input geometries and stored grids before PostGIS computes with them |
//! | `drafts.rs` | opening, reading, listing, operating on and abandoning drafts; the preview tile |
//! | `validation.rs` | [`Report`] and its faults; validating a draft |
//! | `publish.rs` | publishing a draft and re-assigning the events of the grids it closes |
//! | `conflicts.rs` | the conflict check of publish, and rebase |
//! | `history.rs` | areas as they were at a time ([`AreasAt`]), the stamp of the current set |
//!
//! Every statement is in `sql/plan_*.sql`, its columns read by name.

mod apply;
mod checks;
mod conflicts;
mod drafts;
mod fault;
mod history;
mod model;
mod operation;
mod publish;
mod validation;

pub use history::AreasAt;
pub use model::{ClosedGrid, DEFAULT_HOUSEHOLDS, Plan, PlanError, PlanGrid, PlanResult};
pub use operation::{MoveBoundary, Operation};
pub use publish::Published;
pub use validation::{Changes, EventMove, Fault, HouseholdMove, Piece, Report, SLIVER_M2};
