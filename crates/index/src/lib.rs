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
//! behind their own mutex, taken inside the event write lock or alone (order: events, then
//! counts, then the area index's lock for its swap). No lock is ever held across an
//! `.await`.
//!
//! A new area index recounts every case against the new hierarchy without holding a lock
//! for long ([`Index::set_areas`]): it copies the cases that count (open, in a grid) a
//! chunk of slots at a time under the events *read* lock, counts the copy with no lock
//! held, then, under the counts mutex alone, replays the changes applied meanwhile (kept in
//! a journal) onto the new counts and swaps counts and areas together. Queries never wait
//! for a publish; a change applied meanwhile waits at most for the copy of one chunk.
//!
//! The registers (module `registers`) are immutable once loaded and swapped whole like the
//! area index; only where each record lies (its grid, per-grid profiles and resident
//! lists) is recomputed after a publish, with no lock held, and swapped in at once.
//!
//! The grid workers' record (module [`work`]: workers, duties with their history, visits)
//! is changed in place behind its own `RwLock`, never while waiting for the events lock:
//! an assessment reads it and then the events (order: work, then events).
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
pub mod registers;
pub mod work;

pub use areas::{AreaFilter, AreaIndex, GridSet};
pub use counts::{AreaCount, AreaCounts, CaseState};
pub use drawing::{Drawing, Outline};
pub use events::{
    CaseStats, CaseTally, EventIndex, EventIndexBuilder, FastMap, GridTally, PeriodSummary,
    TileFields, Upsert, WorkTallies, WorkerCases,
};
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
    /// The registers (people, buildings, places, organisations), swapped whole on a load.
    registers: RwLock<Arc<registers::RegisterIndex>>,
    /// The grid workers' record (workers, duties, visits), changed in place. Never held
    /// while waiting for `events` for writing (readers may take both: work, then events).
    work: RwLock<work::WorkIndex>,
    events: RwLock<EventIndex>,
    /// Taken only while holding `events`, or alone (lock order: events, counts, areas).
    counts: Mutex<Counted>,
    /// Held through a recount ([`Index::set_areas`], [`Index::set_events`]): one at a time.
    recounting: Mutex<()>,
    ready: AtomicBool,
    /// The time overdue is measured against.
    clock: Clock,
    /// Runs inside a recount (tests: what may happen meanwhile).
    #[cfg(test)]
    during_recount: Mutex<Option<RecountHook>>,
}

/// What a test runs inside a recount, between its copy of the cases and its count.
#[cfg(test)]
type RecountHook = Box<dyn FnOnce(&Index) + Send>;

/// The per-area counts and the hierarchy they follow, with the journal of a recount under
/// way.
struct Counted {
    counts: AreaCounts,
    /// The area index `counts` go by: the one [`Index::areas`] gives, swapped with it.
    areas: Arc<AreaIndex>,
    /// While [`Index::set_areas`] counts: the hierarchy it counts against, and every change
    /// of a case since its copy of the cases, as (before, after), in order.
    journal: Option<Journal>,
}

/// The changes a recount under way has yet to take (see [`Counted::journal`]).
///
/// The recount copies slots `0..end` (every event held when it began) in order, up to
/// `copied` so far. A change to a slot not yet copied needs no entry: the copy will read the
/// changed state. A change to a slot already copied, or to a slot added since (`end` or
/// beyond, never copied), is kept, to be replayed onto the count of the copy. Slots never
/// move, and the copy and every change take the events lock, so each change falls either
/// before or after the copy of its slot.
struct Journal {
    /// The hierarchy the recount counts against.
    areas: Arc<AreaIndex>,
    /// Slots copied so far.
    copied: u32,
    /// Slots to copy: those held when the recount began.
    end: u32,
    /// Changes to replay, as (before, after), in order.
    changes: Vec<(Option<CaseState>, Option<CaseState>)>,
}

/// Slots a recount copies under one hold of the events read lock (some 100 µs of work; a
/// change waits at most that long).
const COPY_CHUNK: u32 = if cfg!(test) { 2 } else { 1 << 14 };

/// A case that counts (open, in a grid) as a recount copies it: 24 bytes.
#[derive(Clone, Copy)]
struct OpenCase {
    id: i64,
    grid: i64,
    /// Deadline (µs), or [`OpenCase::NO_DUE`].
    due: i64,
}

impl OpenCase {
    const NO_DUE: i64 = i64::MIN;

    fn of(c: CaseState) -> Option<OpenCase> {
        Some(OpenCase {
            id: c.id,
            grid: c.grid.filter(|_| c.open)?,
            due: c.due.unwrap_or(OpenCase::NO_DUE),
        })
    }

    fn state(self) -> CaseState {
        CaseState {
            id: self.id,
            grid: Some(self.grid),
            open: true,
            due: (self.due != OpenCase::NO_DUE).then_some(self.due),
        }
    }
}

/// Open and overdue cases per area, counted afresh at `now` (µs).
fn count_cases(
    cases: impl IntoIterator<Item = CaseState>,
    areas: &AreaIndex,
    now: i64,
) -> AreaCounts {
    let mut counts = AreaCounts::new(now);
    let mut changed = Vec::new();
    for case in cases {
        counts.add(areas, case, &mut changed);
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
        let areas = Arc::new(AreaIndex::new(Vec::new()));
        Index {
            areas: RwLock::new(areas.clone()),
            registers: RwLock::new(Arc::new(registers::RegisterIndex::default())),
            work: RwLock::new(work::WorkIndex::default()),
            events: RwLock::new(EventIndex::new(categories)),
            counts: Mutex::new(Counted {
                counts: AreaCounts::new(clock.now_micros()),
                areas,
                journal: None,
            }),
            recounting: Mutex::new(()),
            ready: AtomicBool::new(false),
            clock,
            #[cfg(test)]
            during_recount: Mutex::new(None),
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

    /// The current registers.
    #[must_use]
    pub fn registers(&self) -> Arc<registers::RegisterIndex> {
        self.registers.read().clone()
    }

    /// Replaces the registers.
    pub fn set_registers(&self, r: registers::RegisterIndex) {
        *self.registers.write() = Arc::new(r);
    }

    /// Reads the grid workers' record.
    pub fn work<R>(&self, f: impl FnOnce(&work::WorkIndex) -> R) -> R {
        f(&self.work.read())
    }

    /// Changes the grid workers' record.
    pub fn work_mut<R>(&self, f: impl FnOnce(&mut work::WorkIndex) -> R) -> R {
        f(&mut self.work.write())
    }

    /// The current area index.
    #[must_use]
    pub fn areas(&self) -> Arc<AreaIndex> {
        self.areas.read().clone()
    }

    /// Replaces the area index, and recounts open and overdue cases per area against it
    /// (a new hierarchy changes which areas a case counts in).
    ///
    /// Queries go on meanwhile: the cases that count are copied a chunk at a time under the
    /// events read lock (a change waits for one chunk at most), counted with no lock held,
    /// and the new counts swapped in under the counts mutex together with the area index.
    /// Changes applied meanwhile that the copy did not see are kept in a journal and
    /// replayed onto the new counts before the swap, so that these hold every change, as if
    /// counted at the swap. Blocking for as long as the count takes (half a second for a
    /// million open cases): call it off the async threads.
    pub fn set_areas(&self, areas: AreaIndex) {
        let areas = Arc::new(areas);
        let _one = self.recounting.lock();
        let t = std::time::Instant::now();
        let end = {
            let events = self.events.read();
            let end = u32::try_from(events.len()).unwrap_or(u32::MAX);
            self.counts.lock().journal = Some(Journal {
                areas: areas.clone(),
                copied: 0,
                end,
                changes: Vec::new(),
            });
            end
        };
        let mut cases: Vec<OpenCase> = Vec::new();
        let mut from = 0;
        while from < end {
            let to = from.saturating_add(COPY_CHUNK).min(end);
            // Room for the chunk, so that the copy's vector never grows under the lock.
            cases.reserve((to - from) as usize);
            {
                let events = self.events.read();
                cases.extend((from..to).filter_map(|s| OpenCase::of(events.case(s))));
                // Still under the read lock: no change falls between the copy and this.
                if let Some(j) = &mut self.counts.lock().journal {
                    j.copied = to;
                }
            }
            #[cfg(test)]
            if let Some(hook) = self.during_recount.lock().take() {
                hook(self);
            }
            from = to;
        }
        let copied = t.elapsed();
        let mut fresh = count_cases(
            cases.iter().map(|c| c.state()),
            &areas,
            self.clock.now_micros(),
        );
        drop(cases);
        let counted = t.elapsed();
        let (old, replayed) = {
            let mut held = self.counts.lock();
            let changes = held.journal.take().map(|j| j.changes).unwrap_or_default();
            let mut changed = Vec::new();
            for (before, after) in &changes {
                if let Some(b) = before {
                    fresh.remove(&areas, *b, &mut changed);
                }
                if let Some(a) = after {
                    fresh.add(&areas, *a, &mut changed);
                }
                changed.clear();
            }
            let old_areas = std::mem::replace(&mut *self.areas.write(), areas.clone());
            let old = std::mem::replace(
                &mut *held,
                Counted {
                    counts: fresh,
                    areas,
                    journal: None,
                },
            );
            ((old, old_areas), changes.len())
        };
        // The old index and counts are freed here, with no lock held.
        drop(old);
        // The registers follow the new grids.
        self.registers()
            .relocate(&self.areas(), self.now().date_naive());
        tracing::info!(
            copy_ms = copied.as_millis(),
            count_ms = counted.saturating_sub(copied).as_millis(),
            replayed,
            "areas replaced, cases recounted"
        );
    }

    /// Replaces the event index, and counts its open and overdue cases per area anew.
    pub fn set_events(&self, events: EventIndex) {
        let _one = self.recounting.lock();
        let areas = self.counts.lock().areas.clone();
        let counts = count_cases(
            events.slots().map(|s| events.case(s)),
            &areas,
            self.clock.now_micros(),
        );
        let old = {
            let mut guard = self.events.write();
            self.counts.lock().counts = counts;
            std::mem::replace(&mut *guard, events)
        };
        drop(old);
    }

    /// Takes a committed state of an event (new or changed); `None` when the index already
    /// held it or a newer one.
    pub fn apply(&self, e: Event) -> Option<Applied> {
        let mut events = self.events.write();
        let id = e.id;
        let before = events.slot(id).map(|s| events.case(s));
        let old = match events.upsert(e) {
            Upsert::Unchanged => return None,
            Upsert::Inserted => None,
            Upsert::Replaced(old) => Some(old),
        };
        let slot = events.slot(id);
        let after = slot.map(|s| events.case(s));
        let mut changed = Vec::new();
        if before != after {
            let mut held = self.counts.lock();
            let Counted {
                counts,
                areas,
                journal,
            } = &mut *held;
            if let Some(b) = before {
                counts.remove(areas, b, &mut changed);
            }
            if let Some(a) = after {
                counts.add(areas, a, &mut changed);
            }
            if let Some(j) = journal {
                // A recount is under way: the change counts in the areas of the new
                // hierarchy too, which are named here; the recount's copy will see it unless
                // it has passed the slot already (see Journal).
                for grid in [before, after]
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.grid.filter(|_| c.open))
                {
                    for area in crate::counts::chain(&j.areas, grid) {
                        if !changed.contains(&area) {
                            changed.push(area);
                        }
                    }
                }
                if slot.is_none_or(|s| s < j.copied || s >= j.end) {
                    j.changes.push((before, after));
                }
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
        let now = self.clock.now_micros();
        let mut held = self.counts.lock();
        let Counted { counts, areas, .. } = &mut *held;
        counts.sweep(areas, now)
    }

    /// Open and overdue cases of an area.
    #[must_use]
    pub fn area_count(&self, area: i64) -> AreaCount {
        self.counts.lock().counts.get(area)
    }

    /// Runs `f` with the counts locked (for many reads at once).
    pub fn with_counts<R>(&self, f: impl FnOnce(&AreaCounts) -> R) -> R {
        f(&self.counts.lock().counts)
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
            worker_id: None,
            reporter_worker: None,
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

    /// `e` in grid `grid`, changed at `at`.
    fn changed(mut e: Event, grid: i64, at: DateTime<Utc>) -> Event {
        e.grid_id = Some(grid);
        e.updated_at = at;
        e
    }

    #[test]
    fn a_publish_does_not_pause_event_queries_and_counts_what_arrives_meanwhile() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let day = TimeDelta::days(1);
        let index = Index::with_clock(&["hazard.fire".to_owned()], Clock::manual(t0));
        // Grid 3 is in community 1, and the publish moves it to community 4.
        let hierarchy = |parent_of_3: i64| {
            AreaIndex::new(vec![
                square(1, None, Level::Community),
                square(4, None, Level::Community),
                square(2, Some(1), Level::Grid),
                square(3, Some(parent_of_3), Level::Grid),
            ])
        };
        index.set_areas(hierarchy(1));
        // Grid 2: a case due tomorrow, one overdue; grid 3: a case due tomorrow.
        index.apply(case(10, t0 + day)).unwrap();
        index.apply(case(11, t0 - day)).unwrap();
        index.apply(changed(case(12, t0 + day), 3, t0)).unwrap();
        // The hook runs once the first chunk of the copy is taken: cases 10 and 11 (slots 0
        // and 1) are copied, case 12 (slot 2) is not yet.
        *index.during_recount.lock() = Some(Box::new(move |ix: &Index| {
            // A query in the middle of the recount is answered at once: the event index is
            // not locked for writing ...
            let query = ix.events.try_read();
            assert!(
                query.is_some(),
                "the recount holds the event index locked: queries wait for it"
            );
            drop(query);
            // ... from another thread too, as a request would ask it.
            let n = std::thread::scope(|s| s.spawn(|| ix.events(EventIndex::len)).join());
            assert_eq!(n.unwrap(), 3);
            // Changes arrive meanwhile: a new case in grid 3 (a slot the copy never reads;
            // its areas are named in both hierarchies: its tiles must be drawn again
            // whichever is current) ...
            let mut applied = ix.apply(changed(case(13, t0 + day), 3, t0)).unwrap().areas;
            applied.sort_unstable();
            assert_eq!(applied, [1, 3, 4]);
            // ... case 10 (copied) resolved, case 12 (not yet copied) moved to grid 2 and
            // made overdue ...
            let mut resolved = changed(case(10, t0 + day), 2, t0);
            resolved.status = Status::Resolved;
            ix.apply(resolved).unwrap();
            ix.apply(changed(case(12, t0 - day), 2, t0)).unwrap();
            // ... and case 13 changed again (due a day later).
            ix.apply(changed(case(13, t0 + day * 2), 3, t0 + day))
                .unwrap();
        }));
        index.set_areas(hierarchy(4));
        assert!(index.during_recount.lock().is_none(), "the hook ran");
        let count = |open, overdue| AreaCount { open, overdue };
        // Grid 2: cases 11 and 12, both overdue; grid 3: case 13.
        assert_eq!(index.area_count(2), count(2, 2));
        assert_eq!(index.area_count(3), count(1, 0));
        assert_eq!(index.area_count(1), count(2, 2));
        assert_eq!(index.area_count(4), count(1, 0));
        // As a recount from scratch counts them; and deadlines still fall due.
        let fresh = index.events(|ix| {
            let cases = ix.slots().map(|s| ix.case(s));
            count_cases(cases, &index.areas(), t0.timestamp_micros())
        });
        for id in 1..=4 {
            assert_eq!(index.area_count(id), fresh.get(id), "area {id}");
        }
        index.clock().advance(day * 3);
        assert_eq!(index.sweep_overdue(), vec![3, 4]);
        assert_eq!(index.area_count(4), count(1, 1));
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
