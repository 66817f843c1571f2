//! The in-memory index: areas for point-in-grid, events for nearest and bbox queries.
//!
//! Reads never touch PostGIS; answers equal PostGIS's on the same data (`ST_Covers`,
//! geography distance, `ST_Intersects`), which the oracle tests check.
//!
//! Locking: the area index is immutable and swapped whole (`RwLock<Arc<_>>`, the lock held
//! only to clone the `Arc`). The event index takes inserts while serving, behind a
//! `parking_lot::RwLock`: queries hold the read lock for the few microseconds of a search
//! and copy out what they need; writers hold the write lock for one bucket insert (and,
//! rarely, a re-size of a bucket grid that has grown fourfold). No lock is ever held across
//! an `.await`.

mod areas;
mod cells;
mod events;
pub mod geodesic;
pub mod pip;

pub use areas::{AreaFilter, AreaIndex, BBox};
pub use events::{EventFilter, EventIndex, EventIndexBuilder};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::RwLock;

use crate::model::Event;

/// Shared handle to both indexes.
pub struct Index {
    areas: RwLock<Arc<AreaIndex>>,
    events: RwLock<EventIndex>,
    ready: AtomicBool,
}

impl Index {
    /// An empty, not-yet-ready index whose category numbering follows `categories`.
    #[must_use]
    pub fn new(categories: &[String]) -> Index {
        Index {
            areas: RwLock::new(Arc::new(AreaIndex::new(Vec::new()))),
            events: RwLock::new(EventIndex::new(categories)),
            ready: AtomicBool::new(false),
        }
    }

    /// The current area index.
    #[must_use]
    pub fn areas(&self) -> Arc<AreaIndex> {
        self.areas.read().clone()
    }

    /// Replaces the area index.
    pub fn set_areas(&self, areas: AreaIndex) {
        *self.areas.write() = Arc::new(areas);
    }

    /// Replaces the event index.
    pub fn set_events(&self, events: EventIndex) {
        *self.events.write() = events;
    }

    /// Runs a read-only query on the event index.
    pub fn events<R>(&self, f: impl FnOnce(&EventIndex) -> R) -> R {
        f(&self.events.read())
    }

    /// Adds a committed event.
    pub fn insert_event(&self, e: Event) {
        self.events.write().insert(e);
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
