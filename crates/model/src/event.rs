//! Events (事件): reports that run a closed-loop workflow.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Workflow state of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Just reported (上报).
    Reported,
    /// Registered and accepted (受理); the deadline starts.
    Accepted,
    /// Assigned to someone (派遣).
    Assigned,
    /// Being handled (处置中).
    InProgress,
    /// Handled (已办结); awaiting the return visit.
    Resolved,
    /// Closed after the return visit (已结案).
    Closed,
    /// Refused (不予受理).
    Rejected,
    /// Reopened after an unsatisfied return visit (重新办理).
    Reopened,
}

impl Status {
    /// All states, in workflow order.
    pub const ALL: [Status; 8] = [
        Status::Reported,
        Status::Accepted,
        Status::Assigned,
        Status::InProgress,
        Status::Resolved,
        Status::Closed,
        Status::Rejected,
        Status::Reopened,
    ];

    /// The name used in the database and the API.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Reported => "reported",
            Status::Accepted => "accepted",
            Status::Assigned => "assigned",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Rejected => "rejected",
            Status::Reopened => "reopened",
        }
    }

    /// Parses the name used in the database and the API.
    #[must_use]
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Small dense number, used by the index.
    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }

    /// Open means still to be handled: not resolved, closed or rejected.
    #[must_use]
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed | Status::Rejected)
    }
}

/// Which states a query asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// One state.
    One(Status),
    /// Every open state (the default).
    Open,
    /// Every state.
    All,
}

impl StatusFilter {
    /// Parses `open`, `all` or a state name.
    #[must_use]
    pub fn parse(s: &str) -> Option<StatusFilter> {
        match s {
            "open" => Some(StatusFilter::Open),
            "all" => Some(StatusFilter::All),
            other => Status::parse(other).map(StatusFilter::One),
        }
    }

    /// Whether a state passes the filter.
    #[must_use]
    pub fn matches(self, s: Status) -> bool {
        match self {
            StatusFilter::One(x) => x == s,
            StatusFilter::Open => s.is_open(),
            StatusFilter::All => true,
        }
    }
}

/// A report as a client submits it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Full category code, `category.subcategory` (or a bare category).
    pub category: String,
    /// Short title.
    pub title: String,
    /// Free text.
    pub description: String,
    /// Longitude, WGS84.
    pub lon: f64,
    /// Latitude, WGS84.
    pub lat: f64,
    /// Reporter contact: personal data, stored apart, never public.
    pub reporter: Option<String>,
    /// A photo, checked: (content type, bytes).
    pub photo: Option<(&'static str, Vec<u8>)>,
    /// The record of the registers it names as where it happened, if any.
    pub link: Option<crate::register::RegisterLink>,
}

/// The content type of an image minqing accepts, told by its first bytes (JPEG, PNG, WebP).
#[must_use]
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// An event to be stored in bulk, as generators and importers produce it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// Full category code, `category.subcategory`.
    pub category: String,
    /// Short title.
    pub title: String,
    /// Free text.
    pub description: String,
    /// Workflow state.
    pub status: Status,
    /// 1 (urgent) … 3 (low).
    pub priority: i16,
    /// When it was reported.
    pub reported_at: DateTime<Utc>,
    /// Deadline, set on acceptance.
    pub due_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Longitude, WGS84.
    pub lon: f64,
    /// Latitude, WGS84.
    pub lat: f64,
    /// Reporter contact (personal data).
    pub reporter: Option<String>,
    /// True when generated.
    pub generated: bool,
    /// When it was resolved (resolved and closed cases).
    pub resolved_at: Option<DateTime<Utc>>,
    /// The return visit's answer (closed cases).
    pub satisfied: Option<bool>,
}

/// A stored event, as the index and the API see it (without personal data).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Database id.
    pub id: i64,
    /// Full category code.
    pub category: String,
    /// Short title.
    pub title: String,
    /// Free text; `None` when answered from the index, which keeps only what lists show.
    pub description: Option<String>,
    /// Workflow state.
    pub status: Status,
    /// 1 (urgent) … 3 (low).
    pub priority: i16,
    /// Grid the event lies in, if any.
    pub grid_id: Option<i64>,
    /// When it was reported.
    pub reported_at: DateTime<Utc>,
    /// Deadline.
    pub due_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Longitude, WGS84.
    pub lon: f64,
    /// Latitude, WGS84.
    pub lat: f64,
    /// True when generated.
    pub generated: bool,
    /// How far an overdue case has been raised: 0 grid, 1 community, 2 street, 3 district.
    pub escalation: u8,
    /// When it was last resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The reporter's answer at the return visit.
    pub satisfied: Option<bool>,
    /// The grid worker handling it (given on accept or assign), if any: for assessment,
    /// never shown by itself.
    pub worker_id: Option<i64>,
    /// The grid worker who reported it, when a worker's token did: for assessment.
    pub reporter_worker: Option<i64>,
}

impl Event {
    /// Whether the case is open and past its deadline at `now`.
    #[must_use]
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status.is_open() && self.due_at.is_some_and(|d| d < now)
    }
}

/// The level an escalated case is handled at, by escalation step.
pub const ESCALATION_LEVELS: [&str; 4] = ["grid", "community", "street", "district"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trip_and_open() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert!(Status::Reopened.is_open());
        assert!(!Status::Closed.is_open());
        assert_eq!(StatusFilter::parse("open"), Some(StatusFilter::Open));
        assert_eq!(StatusFilter::parse("bogus"), None);
        assert!(StatusFilter::All.matches(Status::Rejected));
    }
}
