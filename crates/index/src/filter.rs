//! Which events a query wants: the filter shared by listing, nearby, bbox and tile queries,
//! and by the count pyramid.

use std::sync::Arc;

use super::areas::GridSet;
use minqing_model::{Status, StatusFilter};

/// Filters shared by listing, nearby and bbox queries.
#[derive(Debug, Clone)]
pub struct EventFilter {
    /// Which workflow states.
    pub status: StatusFilter,
    /// Dense category numbers accepted (`None` = all).
    pub categories: Option<Vec<u16>>,
    /// Reported at or after (microseconds since the epoch).
    pub from: Option<i64>,
    /// Reported before (microseconds since the epoch).
    pub to: Option<i64>,
    /// Only events in these grids (a caller's area scope); `None` = everywhere.
    pub scope: Option<Arc<GridSet>>,
}

impl Default for EventFilter {
    fn default() -> Self {
        EventFilter {
            status: StatusFilter::All,
            categories: None,
            from: None,
            to: None,
            scope: None,
        }
    }
}

impl EventFilter {
    /// True when the filter is only about state and category (what buckets and the count
    /// pyramid store): no time window, no scope.
    #[must_use]
    pub fn inline_only(&self) -> bool {
        self.from.is_none() && self.to.is_none() && self.scope.is_none()
    }

    /// Whether a state (by number, [`Status::ALL`]) and a dense category number pass the
    /// state and category parts of the filter.
    pub(crate) fn accepts(&self, status: u8, category: u16) -> bool {
        self.status.matches(Status::ALL[status as usize])
            && self
                .categories
                .as_ref()
                .is_none_or(|cs| cs.contains(&category))
    }
}
