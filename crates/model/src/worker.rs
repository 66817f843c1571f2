//! Grid workers (网格员) and their duties: who is responsible for which grid, when
//! (定格、定人、定职、定责). A worker's phone is personal data under the registers' rules
//! (sealed at rest, masked when shown).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::register::codes;

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
