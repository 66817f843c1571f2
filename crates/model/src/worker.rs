//! Grid workers (网格员) and their duties: who is responsible for which grid, when
//! (定格、定人、定职、定责). A worker's phone is personal data under the registers' rules
//! (sealed at rest, masked when shown).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::register::{RegisterLink, codes};

codes! {
    /// How a worker serves.
    WorkerKind {
        /// A full-time grid worker (专职网格员).
        FullTime = "full_time", "专职";
        /// A part-time one (兼职网格员), e.g. a community cadre.
        PartTime = "part_time", "兼职";
        /// A volunteer (志愿者).
        Volunteer = "volunteer", "志愿者";
    }
}

/// A worker with the grids they hold now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Worker {
    /// Database id.
    pub id: i64,
    /// Stable code (a staff number).
    pub code: String,
    /// Full name (shown masked to callers who may not read personal data).
    pub name: String,
    /// How they serve.
    pub kind: WorkerKind,
    /// False once they left: no new duty, no new case.
    pub active: bool,
    /// True when generated rather than real.
    pub generated: bool,
    /// Codes of the grids they hold now, sorted.
    pub grids: Vec<String>,
    /// Whether a phone is on record (the value itself is sealed).
    pub has_phone: bool,
}

/// One duty: a worker held a grid from `from` until `to` (`None`: still).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Duty {
    /// The grid's code.
    pub grid_code: String,
    /// Since.
    pub from: DateTime<Utc>,
    /// Until (`None`: now).
    pub to: Option<DateTime<Utc>>,
}

/// The most grids one worker may hold.
pub const MAX_GRIDS_PER_WORKER: usize = 50;

/// One point of a patrol's track, as the phone sends it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackPoint {
    /// The phone's sequence number in the patrol (a replayed batch repeats them).
    pub seq: i32,
    /// When.
    pub at: DateTime<Utc>,
    /// Longitude, WGS84.
    pub lon: f64,
    /// Latitude, WGS84.
    pub lat: f64,
    /// The fix's accuracy, metres, if known.
    pub accuracy_m: Option<f32>,
}

/// A patrol with its track.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Patrol {
    /// Database id.
    pub id: i64,
    /// Whose.
    pub worker_id: i64,
    /// The worker's name.
    pub worker_name: String,
    /// Started.
    pub started_at: DateTime<Utc>,
    /// Ended (`None`: under way).
    pub ended_at: Option<DateTime<Utc>>,
    /// The grids the worker held when it started.
    pub grid_codes: Vec<String>,
    /// Points stored.
    pub points: i64,
    /// Length of the track on the ellipsoid, metres.
    pub length_m: f64,
    /// The track as a GeoJSON geometry (a LineString), if it has points.
    pub track: Option<String>,
    /// True when generated rather than real.
    pub generated: bool,
}

/// The most points one batch may carry.
pub const MAX_BATCH_POINTS: usize = 1000;

codes! {
    /// What a visit found.
    VisitOutcome {
        /// All well (正常).
        Normal = "normal", "正常";
        /// Something needs handling (发现问题): report it as a case.
        IssueFound = "issue_found", "发现问题";
        /// Nobody at home (未遇).
        NotHome = "not_home", "未遇";
        /// The visit was refused (拒访).
        Refused = "refused", "拒访";
    }
}

/// A recorded visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Visit {
    /// Database id.
    pub id: i64,
    /// Who.
    pub worker_id: i64,
    /// The worker's name.
    pub worker_name: String,
    /// What was visited.
    pub target: crate::register::RegisterLink,
    /// The grid it lay in.
    pub grid_code: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// What it found.
    pub outcome: VisitOutcome,
    /// Free text.
    pub note: String,
    /// True when generated rather than real.
    pub generated: bool,
    /// Whether it has a photo.
    pub has_photo: bool,
}

/// How often a subject must be visited: households with a care tag, or risk sites of a type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRule {
    /// `tag` or `place`.
    pub subject: String,
    /// The tag's or the place type's code.
    pub code: String,
    /// Days between visits.
    pub every_days: i32,
    /// When the rule began (a subject never visited is due `every_days` after it).
    pub since: DateTime<Utc>,
}

/// A worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerRecord {
    /// Database id.
    pub id: i64,
    /// Name (staff see it).
    pub name: String,
    /// `full_time`, `part_time` or `volunteer`.
    pub kind: String,
    /// Still working.
    pub active: bool,
    /// Generated demo data.
    pub generated: bool,
}

/// A worker's duty for a grid, as the index keeps its history (times in µs since the
/// epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyRecord {
    /// The worker's id.
    pub worker: i64,
    /// The grid's code.
    pub grid_code: String,
    /// From when.
    pub from: i64,
    /// Until when (`None`: holds it now).
    pub to: Option<i64>,
}

/// A visit, as the index keeps it (time in µs since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRecord {
    /// Database id.
    pub id: i64,
    /// The visiting worker's id.
    pub worker: i64,
    /// The record visited.
    pub target: RegisterLink,
    /// The grid it lay in then, by code.
    pub grid_code: Option<String>,
    /// When.
    pub at: i64,
}
