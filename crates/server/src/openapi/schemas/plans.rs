//! Schemas: grid plans.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Plan states.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Draft,
    Published,
    Abandoned,
}

/// A plan's header.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub id: i64,
    /// The area it was opened over.
    pub area_id: i64,
    pub name: String,
    pub status: PlanStatus,
    pub households_min: i32,
    pub households_max: i32,
    #[schema(required = true)]
    pub population_min: Option<i32>,
    #[schema(required = true)]
    pub population_max: Option<i32>,
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(required = true, format = DateTime)]
    pub published_at: Option<String>,
    #[schema(required = true)]
    pub published_by: Option<String>,
}

/// Plans.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanList {
    pub plans: Vec<Plan>,
}

/// A plan's own answer.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanAnswer {
    pub plan: Plan,
}

/// An area id or code.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum AreaRef {
    Id(i64),
    Code(String),
}

/// A new draft.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlan {
    /// The area whose grids are redrawn.
    pub area: AreaRef,
    /// At most 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(minimum = 0, maximum = 2_147_483_647)]
    pub households_min: Option<i32>,
    #[schema(minimum = 0, maximum = 2_147_483_647)]
    pub households_max: Option<i32>,
    #[schema(minimum = 0, maximum = 2_147_483_647)]
    pub population_min: Option<i32>,
    #[schema(minimum = 0, maximum = 2_147_483_647)]
    pub population_max: Option<i32>,
}

/// The state of a draft grid.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GridState {
    Unchanged,
    Changed,
    New,
}

/// A draft grid's properties.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanGridProperties {
    pub key: i32,
    pub code: String,
    pub name: String,
    #[schema(required = true)]
    pub name_en: Option<String>,
    pub parent_id: i64,
    #[schema(required = true)]
    pub source_id: Option<i64>,
    pub households: i32,
    pub population: i32,
    /// Grid workers.
    #[schema(value_type = Value)]
    pub workers: Value,
    pub state: GridState,
}

/// A draft grid (feature id = its key).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanGridFeature {
    #[serde(rename = "type")]
    pub kind: FeatureType,
    pub id: i32,
    pub geometry: MultiPolygon,
    pub properties: PlanGridProperties,
}

/// A current grid the draft closes on publish.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosedGrid {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub version: i32,
}

/// Kinds of fault.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    InvalidGeometry,
    Overlap,
    Gap,
    OutsideParent,
    Households,
    Population,
}

/// A fault of a draft (with the fields of its kind).
#[derive(ToSchema)]
pub struct Fault {
    pub kind: FaultKind,
}

/// What publishing would change.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Changes {
    pub changed: Vec<i32>,
    pub new: Vec<i32>,
    pub closed: Vec<i64>,
    pub unchanged: u64,
    pub events_regridded: u64,
    pub events_moving: u64,
    #[schema(value_type = Vec<Object>)]
    pub event_moves: Vec<Value>,
    pub event_moves_truncated: bool,
    #[schema(value_type = Vec<Object>)]
    pub household_moves: Vec<Value>,
}

/// A validation report.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidationReport {
    pub valid: bool,
    #[schema(format = DateTime)]
    pub checked_at: String,
    pub took_ms: f64,
    pub grids: u64,
    pub faults: Vec<Fault>,
    pub slivers: u64,
    pub sliver_area_m2: f64,
    pub sliver_limit_m2: f64,
    pub changes: Changes,
}

/// A draft as GeoJSON.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanDraft {
    #[serde(rename = "type")]
    pub kind: CollectionType,
    pub plan: Plan,
    #[serde(rename = "numberReturned")]
    pub number_returned: u64,
    pub features: Vec<PlanGridFeature>,
    /// Current grids closed on publish.
    pub closed: Vec<ClosedGrid>,
    /// The last validation (none before the first).
    #[schema(required = true)]
    pub validation: Option<ValidationReport>,
}

/// One operation on a draft (`grid`, `grids`, `from`, `to` are draft keys; geometries
/// GeoJSON): `reshape` (grid, geometry?, households?, population?, name?), `split`
/// (grid, line), `merge` (grids), `move_boundary` (from, to, piece; or grids [a, b],
/// line), `create` (geometry, households, population, name?, code?, parent?), `retire`
/// (grid).
#[derive(ToSchema)]
pub struct PlanOperation {
    pub op: PlanOp,
    pub grid: Option<i32>,
    pub grids: Option<Vec<i32>>,
    pub from: Option<i32>,
    pub to: Option<i32>,
    #[schema(value_type = Object)]
    pub geometry: Option<Value>,
    #[schema(value_type = Object)]
    pub piece: Option<Value>,
    #[schema(value_type = Object)]
    pub line: Option<Value>,
    #[schema(minimum = 0)]
    pub households: Option<i32>,
    #[schema(minimum = 0)]
    pub population: Option<i32>,
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub code: Option<String>,
    pub parent: Option<i64>,
}

/// Operations.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanOp {
    Reshape,
    Split,
    Merge,
    MoveBoundary,
    Create,
    Retire,
}

/// A grid created by publishing.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatedGrid {
    pub id: i64,
    pub code: String,
    pub version: i32,
}

/// What publishing did.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishedDetail {
    #[schema(format = DateTime)]
    pub at: String,
    pub closed: Vec<i64>,
    pub created: Vec<CreatedGrid>,
    pub events_reassigned: u64,
    pub committed_ms: f64,
    pub total_ms: f64,
}

/// A published plan.
// `published` is the name of the field in the API's answer.
#[allow(clippy::struct_field_names)]
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Published {
    pub plan: Plan,
    pub published: PublishedDetail,
    pub validation: ValidationReport,
}
