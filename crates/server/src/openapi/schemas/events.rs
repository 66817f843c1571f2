//! Schemas: events, cases, reports, statistics and exports.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Workflow states.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Reported,
    Accepted,
    Assigned,
    InProgress,
    Resolved,
    Closed,
    Rejected,
    Reopened,
}

/// Escalation levels.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Escalation {
    Grid,
    Community,
    Street,
    District,
}

/// Workflow actions.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Accept,
    Reject,
    Assign,
    Start,
    Resolve,
    Close,
    Merge,
}

/// The public properties of an event (never personal data).
#[derive(ToSchema)]
pub struct EventProperties {
    pub category: String,
    #[schema(required = true)]
    pub category_zh: Option<String>,
    #[schema(required = true)]
    pub category_en: Option<String>,
    pub title: String,
    /// In the detail view and exports, not in lists.
    pub description: Option<String>,
    pub status: State,
    pub priority: i16,
    #[schema(required = true)]
    pub grid_id: Option<i64>,
    #[schema(format = DateTime)]
    pub reported_at: String,
    #[schema(required = true, format = DateTime)]
    pub due_at: Option<String>,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub overdue: bool,
    /// The level an overdue case has been raised to.
    pub escalation: Escalation,
    #[schema(required = true, format = DateTime)]
    pub resolved_at: Option<String>,
    #[schema(required = true)]
    pub satisfied: Option<bool>,
    pub generated: bool,
    /// Metres from the asked point (nearby only).
    pub distance_m: Option<f64>,
}

/// An event as a public Feature.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventFeature {
    #[serde(rename = "type")]
    pub kind: FeatureType,
    pub id: i64,
    pub geometry: Point,
    pub properties: PublicProperties,
}

/// The public properties of an event in lists, nearby answers and the stream: nothing
/// else (no reporter, no handling).
#[derive(ToSchema)]
pub struct PublicProperties {
    #[serde(flatten)]
    pub public: EventProperties,
}

/// Events (a page with links, or nearby without).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventCollection {
    #[serde(rename = "type")]
    pub kind: CollectionType,
    #[serde(rename = "numberReturned")]
    pub number_returned: u64,
    pub features: Vec<EventFeature>,
    /// Pages only: `self`, and `next` when more may follow.
    pub links: Option<Vec<Link>>,
}

/// One step of a case's history.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    #[schema(format = DateTime)]
    pub at: String,
    /// `role:name` (residents see the role only), `anonymous` or `system`.
    pub actor: String,
    /// `report`, an action, `escalate`, …
    #[schema(required = true)]
    pub action: Option<String>,
    #[schema(required = true)]
    pub from: Option<String>,
    pub to: String,
    pub note: String,
    #[schema(required = true)]
    pub assignee: Option<String>,
}

/// The properties of a case in its detail view.
#[derive(ToSchema)]
pub struct CaseProperties {
    #[serde(flatten)]
    pub public: EventProperties,
    #[schema(required = true)]
    pub assignee: Option<String>,
    #[schema(required = true)]
    pub merged_into: Option<i64>,
    pub history: Vec<HistoryEntry>,
    /// What the caller may do now.
    pub allowed_actions: Vec<Action>,
    /// The photo's path, if there is one.
    #[schema(required = true)]
    pub photo: Option<String>,
    /// The reporter's contact (command and admin only).
    pub reporter: Option<String>,
    /// The register record the report named, as far as the caller may see it.
    #[schema(required = true)]
    pub link: Option<CaseLink>,
    /// The grid worker handling the case.
    #[schema(required = true)]
    pub worker: Option<CaseWorker>,
}

/// The grid worker a case is given to.
#[derive(ToSchema)]
pub struct CaseWorker {
    pub id: i64,
    pub name: String,
}

/// The register record a case names.
#[derive(ToSchema)]
pub struct CaseLink {
    /// `building`, `place`, `organisation` or `household`.
    #[schema(examples("building"))]
    pub kind: String,
    /// 建筑, 场所, 组织 or 住户.
    pub kind_label: String,
    pub id: i64,
    /// The building's address, the place's or organisation's name, or the household's
    /// address and door.
    pub label: String,
}

/// One case.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseFeature {
    #[serde(rename = "type")]
    pub kind: FeatureType,
    pub id: i64,
    pub geometry: Point,
    pub properties: CaseProperties,
}

/// A report's Point.
#[derive(ToSchema)]
pub struct ReportPoint {
    #[serde(rename = "type")]
    pub kind: PointType,
    /// `[lon, lat]`: lon -180 to 180, lat -90 to 90.
    #[schema(min_items = 2, max_items = 2, examples(json!([115.37, 22.79])))]
    pub coordinates: Vec<f64>,
}

/// A photo in base64.
#[derive(ToSchema)]
pub struct PhotoData {
    /// The JPEG, PNG or WebP image in base64 (at most 5 MiB decoded).
    pub data: String,
}

/// `properties.photo`: `{"data": …}` or a `data:image/…;base64,` URL.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum Photo {
    Object(PhotoData),
    Url(String),
}

/// What a report says.
#[derive(ToSchema)]
pub struct NewReportProperties {
    /// A taxonomy code, e.g. `hazard.fire` (an unknown one is a 422).
    #[schema(examples("hazard.fire", "urban.streetlight"))]
    pub category: String,
    /// Not empty, at most 200 characters.
    #[schema(min_length = 1, max_length = 200, examples("路灯不亮"))]
    pub title: String,
    /// At most 5,000 characters.
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// A contact (stored apart; shown only to command and admin), at most 200
    /// characters.
    #[schema(max_length = 200)]
    pub reporter: Option<String>,
    pub photo: Option<Photo>,
    /// The building the report is about (within 200 m of its point); at most one of
    /// the four links.
    #[schema(minimum = 1)]
    pub building_id: Option<i64>,
    /// A place (service place, risk site, public thing) within 200 m.
    #[schema(minimum = 1)]
    pub place_id: Option<i64>,
    /// An organisation within 200 m.
    #[schema(minimum = 1)]
    pub organisation_id: Option<i64>,
    /// A household within 200 m (admin, command and field tokens only).
    #[schema(minimum = 1)]
    pub household_id: Option<i64>,
}

/// A report: a GeoJSON Point Feature.
#[derive(ToSchema)]
pub struct NewReport {
    #[serde(rename = "type")]
    pub kind: FeatureType,
    pub geometry: ReportPoint,
    pub properties: NewReportProperties,
}

/// An open case of the same category near a new report.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Duplicate {
    pub id: i64,
    pub title: String,
    pub status: State,
    pub distance_m: f64,
}

/// A stored report's properties.
#[derive(ToSchema)]
pub struct ReportedProperties {
    #[serde(flatten)]
    pub public: EventProperties,
    /// Open cases of the category within 250 m that the caller may see.
    pub possible_duplicates: Vec<Duplicate>,
}

/// A stored report.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportedFeature {
    #[serde(rename = "type")]
    pub kind: FeatureType,
    pub id: i64,
    pub geometry: Point,
    pub properties: ReportedProperties,
}

/// A workflow action.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub action: Action,
    /// At most 5,000 characters.
    #[schema(max_length = 5000)]
    pub note: Option<String>,
    /// Who will handle the case (`assign`), at most 200 characters (superseded by
    /// `worker`).
    #[schema(max_length = 200)]
    pub assignee: Option<String>,
    /// The worker (id) who will handle the case (`assign`): one holding the case's grid.
    #[schema(minimum = 1)]
    pub worker: Option<i64>,
    /// The return visit's answer (`close`).
    pub satisfied: Option<bool>,
    /// The case this one duplicates (`merge`).
    pub into: Option<i64>,
}

/// The area of a statistic.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatsArea {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub level: Level,
}

/// Counts of a top category.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryStats {
    #[schema(required = true)]
    pub zh: Option<String>,
    #[schema(required = true)]
    pub en: Option<String>,
    pub total: u64,
    pub open: u64,
    pub overdue: u64,
    /// Counts by state (states without cases left out).
    pub by_status: BTreeMap<String, u64>,
}

/// Return-visit satisfaction.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Satisfaction {
    pub answered: u64,
    pub satisfied: u64,
    #[schema(required = true, minimum = 0, maximum = 1)]
    pub rate: Option<f64>,
}

/// Trend units.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrendUnit {
    Day,
    Month,
}

/// Cases reported and resolved in a day or month.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrendPoint {
    /// `YYYY-MM-DD` or `YYYY-MM`.
    pub period: String,
    pub reported: u64,
    pub resolved: u64,
}

/// Reported and resolved per day (per month over 400 days).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Trend {
    pub unit: TrendUnit,
    pub points: Vec<TrendPoint>,
}

/// Case statistics.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    #[schema(required = true)]
    pub area: Option<StatsArea>,
    #[schema(required = true, format = DateTime)]
    pub from: Option<String>,
    #[schema(required = true, format = DateTime)]
    pub to: Option<String>,
    #[schema(format = DateTime)]
    pub as_of: String,
    /// Whether the figures are exact (the caller's scope covers the area).
    pub exact: bool,
    /// Public aggregates: counts below this are shown as 0.
    #[schema(required = true)]
    pub min_count: Option<u64>,
    pub total: u64,
    pub open: u64,
    pub overdue: u64,
    pub escalated: u64,
    /// Counts by state (every state).
    pub by_status: BTreeMap<String, u64>,
    /// Counts by top category.
    pub by_category: BTreeMap<String, CategoryStats>,
    #[schema(required = true)]
    pub median_resolve_hours: Option<f64>,
    pub satisfaction: Satisfaction,
    pub trend: Trend,
}

/// An exported event's properties (never contacts).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportProperties {
    pub category: String,
    pub category_zh: String,
    pub title: String,
    pub description: String,
    pub status: State,
    pub priority: i16,
    #[schema(required = true)]
    pub grid_id: Option<i64>,
    #[schema(required = true)]
    pub grid_code: Option<String>,
    #[schema(format = DateTime)]
    pub reported_at: String,
    #[schema(required = true, format = DateTime)]
    pub due_at: Option<String>,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(required = true, format = DateTime)]
    pub resolved_at: Option<String>,
    pub overdue: bool,
    pub escalation: Escalation,
    #[schema(required = true)]
    pub satisfied: Option<bool>,
    #[schema(required = true)]
    pub assignee: Option<String>,
    #[schema(required = true)]
    pub merged_into: Option<i64>,
    pub generated: bool,
}

/// An exported event.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportFeature {
    #[serde(rename = "type")]
    pub kind: FeatureType,
    pub id: i64,
    pub geometry: Point,
    pub properties: ExportProperties,
}

/// An export.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportCollection {
    #[serde(rename = "type")]
    pub kind: CollectionType,
    pub features: Vec<ExportFeature>,
}

/// A patrol started by a worker's phone.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatrolStart {
    /// The phone's id for this patrol: sent again, it answers the same patrol.
    #[schema(min_length = 1, max_length = 64)]
    pub client_id: String,
    /// When it started (RFC 3339; default now).
    pub started_at: Option<String>,
}

/// One point of a track.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackPointIn {
    /// The phone's sequence number (a replayed batch repeats them).
    #[schema(minimum = 0, maximum = 2_147_483_647)]
    pub seq: i64,
    /// When (RFC 3339).
    pub at: String,
    #[schema(minimum = -180, maximum = 180)]
    pub lon: f64,
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    #[schema(minimum = 0, maximum = 100_000)]
    pub accuracy_m: Option<f64>,
}

/// A batch of track points.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatrolPoints {
    #[schema(min_items = 1, max_items = 1000)]
    pub points: Vec<TrackPointIn>,
}

/// The end of a patrol.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatrolEnd {
    /// When it ended (RFC 3339; default now).
    pub ended_at: Option<String>,
}

/// What a visit was to.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitTarget {
    /// `household`, `building`, `place` or `organisation`.
    #[schema(examples("household"))]
    pub kind: String,
    #[schema(minimum = 1)]
    pub id: i64,
}

/// A visit recorded by a worker's phone.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVisitBody {
    /// The phone's id for this visit: sent again, it answers the same visit.
    #[schema(min_length = 1, max_length = 64)]
    pub client_id: String,
    pub target: VisitTarget,
    /// When (RFC 3339; default now).
    pub at: Option<String>,
    /// `normal`, `issue_found`, `not_home` or `refused`.
    #[schema(examples("normal"))]
    pub outcome: String,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// A photo of the visit: JPEG, PNG or WebP in base64, at most 5 MB.
    pub photo: Option<Photo>,
}
