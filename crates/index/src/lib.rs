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
//!
//! Time: what is overdue is decided by the index's [`Clock`] ([`Index::now`]), never by
//! reading the wall clock directly, so that tests can set the time instead of waiting.

mod areas;
mod cells;
mod counts;
mod drawing;
mod events;
mod filter;
pub mod geodesic;
mod gridcells;
pub mod pip;
mod points;
mod pyramid;

pub use areas::{AreaFilter, AreaIndex, GridSet};
pub use counts::{AreaCount, AreaCounts, CaseState};
pub use drawing::{Drawing, Outline};
pub use events::{CaseStats, EventIndex, EventIndexBuilder, TileFields, Upsert};
pub use filter::EventFilter;
pub use minqing_model::BBox;
pub use pyramid::{BASE_ZOOM, Pyramid};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use parking_lot::{Mutex, RwLock};

use minqing_model::Event;

/// The time the index goes by: the system's (the wall clock), or a manual one that only
/// moves when told to (tests). Reading it costs one atomic load (and, for the system clock,
/// the wall clock's read).
#[derive(Debug)]
pub struct Clock {
    /// Microseconds since the epoch of a manual clock; [`Clock::SYSTEM`] for the system's.
    manual_us: AtomicI64,
}

impl Clock {
    /// The value of `manual_us` that means "the system's clock".
    const SYSTEM: i64 = i64::MIN;

    /// The system's clock.
    #[must_use]
    pub fn system() -> Clock {
        Clock {
            manual_us: AtomicI64::new(Clock::SYSTEM),
        }
    }

    /// A manual clock showing `t` until it is set or advanced.
    #[must_use]
    pub fn manual(t: DateTime<Utc>) -> Clock {
        let c = Clock::system();
        c.set(t);
        c
    }

    /// The time now.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        match self.manual_us.load(Ordering::Acquire) {
            Clock::SYSTEM => Utc::now(),
            us => DateTime::from_timestamp_micros(us).unwrap_or_else(Utc::now),
        }
    }

    /// The time now, microseconds since the epoch.
    #[must_use]
    pub fn now_micros(&self) -> i64 {
        match self.manual_us.load(Ordering::Acquire) {
            Clock::SYSTEM => Utc::now().timestamp_micros(),
            us => us,
        }
    }

    /// Whether the clock is manual.
    #[must_use]
    pub fn is_manual(&self) -> bool {
        self.manual_us.load(Ordering::Acquire) != Clock::SYSTEM
    }

    /// Sets the clock to `t`; a system clock becomes manual from then on (for tests: a
    /// running server's clock can be taken over).
    pub fn set(&self, t: DateTime<Utc>) {
        // (i64::MIN µs is far outside chrono's range, so no real time is taken for SYSTEM.)
        self.manual_us.store(
            t.timestamp_micros().max(Clock::SYSTEM + 1),
            Ordering::Release,
        );
    }

    /// Moves the clock forward by `d` (backward when negative); a system clock becomes
    /// manual, starting from the time it showed.
    pub fn advance(&self, d: chrono::TimeDelta) {
        let by = d.num_microseconds().unwrap_or(i64::MAX);
        let mut current = self.manual_us.load(Ordering::Acquire);
        loop {
            let base = if current == Clock::SYSTEM {
                Utc::now().timestamp_micros()
            } else {
                current
            };
            let next = base.saturating_add(by).max(Clock::SYSTEM + 1);
            match self.manual_us.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(seen) => current = seen,
            }
        }
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

/// Shared handle to both indexes and the per-area counts.
pub struct Index {
    areas: RwLock<Arc<AreaIndex>>,
    events: RwLock<EventIndex>,
    /// Taken only while holding `events` for writing, or alone (lock order: events, counts).
    counts: Mutex<AreaCounts>,
    ready: AtomicBool,
    /// The time overdue is measured against.
    clock: Clock,
}

/// Open and overdue cases per area, counted afresh at `now` (µs).
fn count_cases(events: &EventIndex, areas: &AreaIndex, now: i64) -> AreaCounts {
    let mut counts = AreaCounts::new(now);
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
    /// An empty, not-yet-ready index whose category numbering follows `categories`, on the
    /// system's clock.
    #[must_use]
    pub fn new(categories: &[String]) -> Index {
        Index::with_clock(categories, Clock::system())
    }

    /// An empty, not-yet-ready index on `clock`.
    #[must_use]
    pub fn with_clock(categories: &[String], clock: Clock) -> Index {
        Index {
            areas: RwLock::new(Arc::new(AreaIndex::new(Vec::new()))),
            events: RwLock::new(EventIndex::new(categories)),
            counts: Mutex::new(AreaCounts::new(clock.now_micros())),
            ready: AtomicBool::new(false),
            clock,
        }
    }

    /// The clock the index goes by (tests set it).
    #[must_use]
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The time now, by the index's clock.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
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
        let counts = count_cases(&events, &areas, self.clock.now_micros());
        *self.areas.write() = areas;
        *self.counts.lock() = counts;
    }

    /// Replaces the event index, and counts its open and overdue cases per area anew.
    pub fn set_events(&self, events: EventIndex) {
        let counts = count_cases(&events, &self.areas(), self.clock.now_micros());
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

    /// Moves the overdue clock to now (by [`Index::clock`]); returns the areas whose counts
    /// changed.
    pub fn sweep_overdue(&self) -> Vec<i64> {
        let areas = self.areas();
        let now = self.clock.now_micros();
        self.counts.lock().sweep(&areas, now)
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;
    use geo_types::{MultiPolygon, polygon};
    use minqing_model::{Area, Level, Status};

    fn square(id: i64, parent: Option<i64>, level: Level) -> Area {
        Area::for_tests(
            id,
            &id.to_string(),
            &id.to_string(),
            level,
            parent,
            MultiPolygon(vec![
                polygon![(x: 115.0, y: 22.0), (x: 115.1, y: 22.0), (x: 115.1, y: 22.1), (x: 115.0, y: 22.1), (x: 115.0, y: 22.0)],
            ]),
        )
    }

    /// An accepted case in grid 2, due at `due`.
    fn case(id: i64, due: DateTime<Utc>) -> Event {
        let at = due - TimeDelta::days(3);
        Event {
            id,
            category: "hazard.fire".into(),
            title: format!("case {id}"),
            description: None,
            status: Status::Accepted,
            priority: 2,
            grid_id: Some(2),
            reported_at: at,
            due_at: Some(due),
            updated_at: at,
            lon: 115.05,
            lat: 22.05,
            generated: false,
            escalation: 0,
            resolved_at: None,
            satisfied: None,
        }
    }

    #[test]
    fn a_set_clock_makes_a_case_overdue_without_waiting() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let index = Index::with_clock(&["hazard.fire".to_owned()], Clock::manual(t0));
        index.set_areas(AreaIndex::new(vec![
            square(1, None, Level::Community),
            square(2, Some(1), Level::Grid),
        ]));
        // Due in a day, and in a week.
        index.apply(case(10, t0 + TimeDelta::days(1))).unwrap();
        index.apply(case(11, t0 + TimeDelta::days(7))).unwrap();
        assert_eq!(index.now(), t0);
        assert_eq!(index.sweep_overdue(), Vec::<i64>::new());
        assert_eq!(
            index.area_count(2),
            AreaCount {
                open: 2,
                overdue: 0
            }
        );
        // Two days later, by the clock alone: the first deadline has passed.
        index.clock().advance(TimeDelta::days(2));
        assert_eq!(index.now(), t0 + TimeDelta::days(2));
        assert_eq!(index.sweep_overdue(), vec![2, 1]);
        assert_eq!(
            index.area_count(1),
            AreaCount {
                open: 2,
                overdue: 1
            }
        );
        // The clock set past the second deadline; a recount goes by the clock too.
        index.clock().set(t0 + TimeDelta::days(8));
        index.set_areas(AreaIndex::new(vec![
            square(1, None, Level::Community),
            square(2, Some(1), Level::Grid),
        ]));
        assert_eq!(
            index.area_count(2),
            AreaCount {
                open: 2,
                overdue: 2
            }
        );
    }

    #[test]
    fn the_system_clock_follows_the_wall_clock_until_set() {
        let c = Clock::system();
        assert!(!c.is_manual());
        let before = Utc::now();
        let now = c.now();
        assert!(now >= before && now <= Utc::now());
        let t = DateTime::from_timestamp(1_000_000_000, 123_000).unwrap();
        c.set(t);
        assert!(c.is_manual());
        assert_eq!(c.now(), t);
        assert_eq!(c.now_micros(), t.timestamp_micros());
        c.advance(TimeDelta::seconds(-1));
        assert_eq!(c.now(), t - TimeDelta::seconds(1));
    }
}
