//! The in-memory index: areas for point-in-grid, events for nearest and bbox queries.
//!
//! Reads never touch PostGIS; answers equal PostGIS's on the same data (`ST_Covers`,
//! geography distance, `ST_Intersects`), which the oracle tests check.
//!
//! Locking: the area index is immutable and swapped whole (`RwLock<Arc<_>>`, the lock held
//! only to clone the `Arc`). The event index takes inserts while serving, behind a
//! `parking_lot::RwLock`: queries hold the read lock for the few microseconds of a search
//! and copy out what they need; writers hold the write lock for one bucket insert (and,
//! rarely, a re-size of a bucket grid that has grown fourfold). The per-area counts sit
//! behind their own mutex, taken inside the event write lock (order: events, then counts) or
//! alone. No lock is ever held across an `.await`.

mod areas;
mod cells;
mod counts;
mod drawing;
mod events;
pub mod geodesic;
mod gridcells;
pub mod pip;
mod points;
mod pyramid;

pub use areas::{AreaFilter, AreaIndex, BBox, GridSet};
pub use counts::{AreaCount, AreaCounts, CaseState};
pub use drawing::{Drawing, Outline};
pub use events::{CaseStats, EventFilter, EventIndex, EventIndexBuilder, TileFields, Upsert};
pub use pyramid::{BASE_ZOOM, Pyramid};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use parking_lot::{Mutex, RwLock};

use crate::model::Event;

/// Shared handle to both indexes and the per-area counts.
pub struct Index {
    areas: RwLock<Arc<AreaIndex>>,
    events: RwLock<EventIndex>,
    /// Taken only while holding `events` for writing, or alone (lock order: events, counts).
    counts: Mutex<AreaCounts>,
    ready: AtomicBool,
}

/// Open and overdue cases per area, counted afresh.
fn count_cases(events: &EventIndex, areas: &AreaIndex) -> AreaCounts {
    let mut counts = AreaCounts::new(Utc::now().timestamp_micros());
    let mut changed = Vec::new();
    for slot in events.slots() {
        counts.add(areas, events.case(slot), &mut changed);
        changed.clear();
    }
    counts
}

/// A change the index took.
#[derive(Debug)]
pub struct Applied {
    /// The state replaced, if the event was known.
    pub old: Option<Event>,
    /// Areas whose open or overdue counts changed.
    pub areas: Vec<i64>,
}

impl Index {
    /// An empty, not-yet-ready index whose category numbering follows `categories`.
    #[must_use]
    pub fn new(categories: &[String]) -> Index {
        Index {
            areas: RwLock::new(Arc::new(AreaIndex::new(Vec::new()))),
            events: RwLock::new(EventIndex::new(categories)),
            counts: Mutex::new(AreaCounts::new(Utc::now().timestamp_micros())),
            ready: AtomicBool::new(false),
        }
    }

    /// The current area index.
    #[must_use]
    pub fn areas(&self) -> Arc<AreaIndex> {
        self.areas.read().clone()
    }

    /// Replaces the area index, and recounts open and overdue cases per area against it
    /// (a new hierarchy changes which areas a case counts in).
    pub fn set_areas(&self, areas: AreaIndex) {
        let areas = Arc::new(areas);
        let events = self.events.write();
        let counts = count_cases(&events, &areas);
        *self.areas.write() = areas;
        *self.counts.lock() = counts;
    }

    /// Replaces the event index, and counts its open and overdue cases per area anew.
    pub fn set_events(&self, events: EventIndex) {
        let counts = count_cases(&events, &self.areas());
        let mut guard = self.events.write();
        *guard = events;
        *self.counts.lock() = counts;
    }

    /// Takes a committed state of an event (new or changed); `None` when the index already
    /// held it or a newer one.
    pub fn apply(&self, e: Event) -> Option<Applied> {
        let areas = self.areas();
        let mut events = self.events.write();
        let id = e.id;
        let before = events.slot(id).map(|s| events.case(s));
        let old = match events.upsert(e) {
            Upsert::Unchanged => return None,
            Upsert::Inserted => None,
            Upsert::Replaced(old) => Some(old),
        };
        let after = events.slot(id).map(|s| events.case(s));
        let mut changed = Vec::new();
        if before != after {
            let mut counts = self.counts.lock();
            if let Some(b) = before {
                counts.remove(&areas, b, &mut changed);
            }
            if let Some(a) = after {
                counts.add(&areas, a, &mut changed);
            }
        }
        Some(Applied {
            old,
            areas: changed,
        })
    }

    /// Moves the overdue clock to now; returns the areas whose counts changed.
    pub fn sweep_overdue(&self) -> Vec<i64> {
        let areas = self.areas();
        self.counts
            .lock()
            .sweep(&areas, Utc::now().timestamp_micros())
    }

    /// Open and overdue cases of an area.
    #[must_use]
    pub fn area_count(&self, area: i64) -> AreaCount {
        self.counts.lock().get(area)
    }

    /// Runs `f` with the counts locked (for many reads at once).
    pub fn with_counts<R>(&self, f: impl FnOnce(&AreaCounts) -> R) -> R {
        f(&self.counts.lock())
    }

    /// Runs a read-only query on the event index.
    pub fn events<R>(&self, f: impl FnOnce(&EventIndex) -> R) -> R {
        f(&self.events.read())
    }

    /// Marks the index loaded (readiness).
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// Whether the index is loaded.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}
