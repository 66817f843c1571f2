//! The event index itself: the columns, the id order, the open and finished trees and the
//! count pyramid, kept together as events arrive and change.

use std::collections::HashMap;

use super::columns::{
    ANSWERED, Columns, ESCALATION, GENERATED, NO_GRID, NO_TIME, NOT_RESOLVED, SATISFIED, flags,
    from_micros, micros, quantise, resolve_seconds, worker_column, worker_id,
};
use crate::cells::Pt;
use crate::counts::CaseState;
use crate::filter::EventFilter;
use crate::geodesic;
use crate::points::PointTree;
use crate::pyramid::Pyramid;
use minqing_model::{Event, Status, StatusFilter};

/// Tree of open cases.
pub(super) const OPEN: usize = 0;
/// Tree of resolved, closed and rejected cases.
pub(super) const CLOSED: usize = 1;
/// Trees.
pub(super) const TREES: usize = 2;

/// The tree of cases in a state.
pub(super) fn tree_of(s: Status) -> usize {
    if s.is_open() { OPEN } else { CLOSED }
}

/// Every event, indexed for nearest, bbox and id-ordered queries.
pub struct EventIndex {
    /// Every event's fields, by slot.
    pub(super) cols: Columns,
    /// Slots sorted by id (4 bytes an event; ids are read from the id column).
    pub(super) order: Vec<u32>,
    /// Positions of open and of finished cases (by `OPEN` and `CLOSED`).
    pub(super) trees: [PointTree; TREES],
    /// Dense category numbering: position = number.
    pub(super) categories: Vec<String>,
    /// Titles changed after the slot was written (titles are stored back to back).
    retitled: HashMap<u32, String>,
    /// Counts per zoom-16 tile, for low-zoom clusters and heat.
    pub(super) pyramid: Pyramid,
}

/// The fields a tile shows of an event, borrowed from the index (no copies).
#[derive(Debug, Clone, Copy)]
pub struct TileFields<'a> {
    /// Event id.
    pub id: i64,
    /// Category code.
    pub category: &'a str,
    /// Workflow state.
    pub status: Status,
    /// Priority (1 highest).
    pub priority: u8,
    /// Reported at, µs since the epoch.
    pub reported_at: i64,
    /// Deadline, µs since the epoch.
    pub due_at: Option<i64>,
    /// Escalation step (0 grid … 3 district).
    pub escalation: u8,
}

/// What [`EventIndex::upsert`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Upsert {
    /// The event was new.
    Inserted,
    /// The event replaced this earlier state.
    Replaced(Event),
    /// Nothing changed: the same state, or an older one than the index holds.
    Unchanged,
}

impl EventIndex {
    /// An empty index whose category numbering starts with `categories` (taxonomy order).
    #[must_use]
    pub fn new(categories: &[String]) -> EventIndex {
        let cols = Columns::default();
        EventIndex {
            cols,
            order: Vec::new(),
            trees: [PointTree::empty(), PointTree::empty()],
            categories: categories.to_vec(),
            retitled: HashMap::new(),
            pyramid: Pyramid::default(),
        }
    }

    /// Appends columns for an event; returns its slot and tree number.
    pub(super) fn push(&mut self, e: &Event) -> (u32, usize) {
        let cat = self.number_or_add(&e.category);
        let c = &mut self.cols;
        let slot = u32::try_from(c.id.len()).unwrap_or(u32::MAX);
        c.id.push(e.id);
        c.lon.push(e.lon);
        c.lat.push(e.lat);
        c.category.push(cat);
        c.status.push(e.status as u8);
        c.priority.push(u8::try_from(e.priority).unwrap_or(2));
        c.flags.push(flags(e));
        c.resolve_s.push(resolve_seconds(e));
        c.grid.push(e.grid_id.unwrap_or(NO_GRID));
        c.reported_at.push(micros(e.reported_at));
        c.due_at.push(e.due_at.map_or(NO_TIME, micros));
        c.updated_at.push(micros(e.updated_at));
        c.worker.push(worker_column(e.worker_id));
        c.reporter.push(worker_column(e.reporter_worker));
        c.text_start.push(c.text.len() as u64);
        c.text_len
            .push(u32::try_from(e.title.len()).unwrap_or(u32::MAX));
        c.text.push_str(&e.title);
        self.order.push(slot);
        (slot, tree_of(e.status))
    }

    /// Adds a committed event, or replaces the state held for it by a newer one (as the
    /// change feed delivers them, possibly more than once and possibly late: an older state
    /// than the one held, by `updated_at`, which only grows, is ignored).
    pub fn upsert(&mut self, mut e: Event) -> Upsert {
        let Some(slot) = self.slot(e.id) else {
            self.insert(&e);
            return Upsert::Inserted;
        };
        let old = self.event(slot);
        e.description = None;
        quantise(&mut e);
        if e.updated_at < old.updated_at || e == old {
            return Upsert::Unchanged;
        }
        let s = slot as usize;
        let cat = self.number_or_add(&e.category);
        // The trees and the pyramid hold position, category and status only: a change of
        // anything else (a re-assigned grid, a new deadline, …) leaves them as they are.
        let placed = {
            let c = &self.cols;
            (c.lon[s], c.lat[s], c.category[s], c.status[s])
        };
        let moves = placed != (e.lon, e.lat, cat, e.status as u8);
        if moves {
            self.trees[tree_of(old.status)].remove(slot, old.lon, old.lat);
            let c = &self.cols;
            self.pyramid
                .remove(c.lon[s], c.lat[s], c.category[s], c.status[s], c.id[s]);
        }
        let c = &mut self.cols;
        c.lon[s] = e.lon;
        c.lat[s] = e.lat;
        c.category[s] = cat;
        c.status[s] = e.status as u8;
        c.priority[s] = u8::try_from(e.priority).unwrap_or(2);
        c.flags[s] = flags(&e);
        c.resolve_s[s] = resolve_seconds(&e);
        c.grid[s] = e.grid_id.unwrap_or(NO_GRID);
        c.reported_at[s] = micros(e.reported_at);
        c.due_at[s] = e.due_at.map_or(NO_TIME, micros);
        c.updated_at[s] = micros(e.updated_at);
        c.worker[s] = worker_column(e.worker_id);
        c.reporter[s] = worker_column(e.reporter_worker);
        if e.title != old.title {
            self.retitled.insert(slot, e.title);
        }
        if moves {
            self.pyramid.add(e.lon, e.lat, cat, e.status as u8, e.id);
            let tree = tree_of(e.status);
            self.trees[tree].insert(self.pt(slot), e.lon, e.lat);
            if self.trees[tree].needs_rebuild() {
                self.rebuild(tree);
            }
        }
        Upsert::Replaced(old)
    }

    /// What counts of the event in a slot for the per-area counts.
    #[must_use]
    pub fn case(&self, slot: u32) -> CaseState {
        let c = &self.cols;
        let s = slot as usize;
        CaseState {
            id: c.id[s],
            grid: (c.grid[s] != NO_GRID).then_some(c.grid[s]),
            open: Status::ALL[c.status[s] as usize].is_open(),
            due: (c.due_at[s] != NO_TIME).then_some(c.due_at[s]),
        }
    }

    /// Every slot.
    pub fn slots(&self) -> impl Iterator<Item = u32> + use<> {
        0..u32::try_from(self.cols.id.len()).unwrap_or(u32::MAX)
    }

    fn number_or_add(&mut self, code: &str) -> u16 {
        if let Some(i) = self.category_number(code) {
            i
        } else {
            self.categories.push(code.to_owned());
            u16::try_from(self.categories.len() - 1).unwrap_or(u16::MAX)
        }
    }

    /// Adds one event (after its commit). An id already present is ignored.
    pub fn insert(&mut self, e: &Event) {
        let pos = self.order_position(e.id);
        if self
            .order
            .get(pos)
            .is_some_and(|s| self.cols.id[*s as usize] == e.id)
        {
            return;
        }
        let (slot, tree) = self.push(e);
        // push() appended to `order`; move it to its sorted place (usually already there).
        if let Some(last) = self.order.pop() {
            self.order.insert(pos, last);
        }
        let s = slot as usize;
        let c = &self.cols;
        self.trees[tree].insert(self.pt(slot), c.lon[s], c.lat[s]);
        self.pyramid
            .add(c.lon[s], c.lat[s], c.category[s], c.status[s], c.id[s]);
        // Rebuild a tree once a quarter of it has changed (amortised O(1)).
        if self.trees[tree].needs_rebuild() {
            self.rebuild(tree);
        }
    }

    /// What a tree stores of a slot.
    fn pt(&self, slot: u32) -> Pt {
        let c = &self.cols;
        let s = slot as usize;
        Pt {
            xyz: geodesic::ecef(c.lon[s], c.lat[s]),
            id: c.id[s],
            slot,
            category: c.category[s],
            status: c.status[s],
        }
    }

    /// Builds the tree of `tree` anew from its events. While serving, this runs under the
    /// write lock once a quarter of a tree has changed; its time is logged.
    pub(super) fn rebuild(&mut self, tree: usize) {
        let t = std::time::Instant::now();
        let c = &self.cols;
        let members: Vec<u32> = (0..c.id.len())
            .filter(|s| tree_of(Status::ALL[c.status[*s] as usize]) == tree)
            .filter_map(|s| u32::try_from(s).ok())
            .collect();
        self.trees[tree] = PointTree::build(
            &members,
            |s| (c.lon[s as usize], c.lat[s as usize]),
            |s| self.pt(s),
        );
        tracing::info!(
            tree = if tree == OPEN { "open" } else { "finished" },
            points = members.len(),
            ms = t.elapsed().as_millis(),
            "event tree built"
        );
    }

    /// Number of events.
    #[must_use]
    pub fn len(&self) -> usize {
        self.cols.id.len()
    }

    /// True when empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.cols.id.is_empty()
    }

    /// Position in `order` of the first slot whose id is not less than `id`.
    pub(super) fn order_position(&self, id: i64) -> usize {
        self.order
            .partition_point(|s| self.cols.id[*s as usize] < id)
    }

    /// Slot of an event id.
    #[must_use]
    pub fn slot(&self, id: i64) -> Option<u32> {
        let pos = self.order_position(id);
        self.order
            .get(pos)
            .copied()
            .filter(|s| self.cols.id[*s as usize] == id)
    }

    /// The id of the event in a slot.
    #[must_use]
    pub fn event_id(&self, slot: u32) -> i64 {
        self.cols.id[slot as usize]
    }

    /// The public fields of the event in a slot.
    #[must_use]
    pub fn event(&self, slot: u32) -> Event {
        let c = &self.cols;
        let s = slot as usize;
        let start = c.text_start[s] as usize;
        let end = start + c.text_len[s] as usize;
        Event {
            id: c.id[s],
            category: self.categories[c.category[s] as usize].clone(),
            title: match self.retitled.get(&slot) {
                Some(t) => t.clone(),
                None => c.text[start..end].to_owned(),
            },
            description: None,
            status: Status::ALL[c.status[s] as usize],
            priority: i16::from(c.priority[s]),
            grid_id: (c.grid[s] != NO_GRID).then_some(c.grid[s]),
            reported_at: from_micros(c.reported_at[s]).unwrap_or_default(),
            due_at: from_micros(c.due_at[s]),
            updated_at: from_micros(c.updated_at[s]).unwrap_or_default(),
            lon: c.lon[s],
            lat: c.lat[s],
            generated: c.flags[s] & GENERATED != 0,
            escalation: c.flags[s] & ESCALATION,
            resolved_at: (c.resolve_s[s] != NOT_RESOLVED)
                .then(|| from_micros(c.reported_at[s] + i64::from(c.resolve_s[s]) * 1_000_000))
                .flatten(),
            satisfied: (c.flags[s] & ANSWERED != 0).then_some(c.flags[s] & SATISFIED != 0),
            worker_id: worker_id(c.worker[s]),
            reporter_worker: worker_id(c.reporter[s]),
        }
    }

    /// What a tile shows of the event in a slot.
    #[must_use]
    pub fn tile_fields(&self, slot: u32) -> TileFields<'_> {
        let c = &self.cols;
        let s = slot as usize;
        TileFields {
            id: c.id[s],
            category: self.categories[c.category[s] as usize].as_str(),
            status: Status::ALL[c.status[s] as usize],
            priority: c.priority[s],
            reported_at: c.reported_at[s],
            due_at: (c.due_at[s] != NO_TIME).then_some(c.due_at[s]),
            escalation: c.flags[s] & ESCALATION,
        }
    }

    /// Counts per zoom-16 tile (low-zoom clusters and heat).
    #[must_use]
    pub fn pyramid(&self) -> &Pyramid {
        &self.pyramid
    }

    /// Category codes by dense number.
    #[must_use]
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// Dense number of a category code, if any event or the taxonomy has it.
    #[must_use]
    pub fn category_number(&self, code: &str) -> Option<u16> {
        self.categories
            .iter()
            .position(|c| c == code)
            .and_then(|i| u16::try_from(i).ok())
    }

    /// Whether the slot passes the non-spatial parts of a filter.
    pub(super) fn passes(&self, slot: usize, f: &EventFilter) -> bool {
        let c = &self.cols;
        f.accepts(c.status[slot], c.category[slot])
            && f.from.is_none_or(|t| c.reported_at[slot] >= t)
            && f.to.is_none_or(|t| c.reported_at[slot] < t)
            && f.scope
                .as_ref()
                .is_none_or(|sc| sc.has_grid((c.grid[slot] != NO_GRID).then_some(c.grid[slot])))
    }

    /// The trees that can hold events passing a state filter.
    pub(super) fn state_trees(&self, f: StatusFilter) -> impl Iterator<Item = &PointTree> {
        let (open, closed) = match f {
            StatusFilter::One(s) => (s.is_open(), !s.is_open()),
            StatusFilter::Open => (true, false),
            StatusFilter::All => (true, true),
        };
        [(open, OPEN), (closed, CLOSED)]
            .into_iter()
            .filter(|(wanted, _)| *wanted)
            .map(|(_, t)| &self.trees[t])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::{brute, ev, random};
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn inserted_events_rebuild_the_tree_and_stay_exact() {
        let events = random(6_000, 9);
        let mut ix = EventIndex::new(&[]);
        for e in events.iter().rev() {
            ix.insert(e);
        }
        let (lon, lat) = (115.5, 23.0);
        let got: Vec<i64> = ix
            .nearest(lon, lat, 25, f64::INFINITY, &EventFilter::default())
            .iter()
            .map(|(s, _)| ix.event(*s).id)
            .collect();
        assert_eq!(got, brute(&events, lon, lat, 25, |_| true));
        assert_eq!(ix.list(None, &EventFilter::default(), None, 3).len(), 3);
    }

    #[test]
    fn upserts_move_events_between_states_and_places_and_stay_exact() {
        let mut events = random(4_000, 11);
        let mut ix = EventIndex::bulk(&[], events.clone());
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        for round in 0..3_000 {
            let i = rng.random_range(0..events.len());
            let mut e = events[i].clone();
            e.status = Status::ALL[rng.random_range(0..Status::ALL.len())];
            if round % 3 == 0 {
                e.lon = rng.random_range(115.0..116.0);
                e.lat = rng.random_range(22.5..23.5);
                e.title = format!("moved {round}");
            }
            e.updated_at += chrono::Duration::microseconds(round + 1);
            let changed = e != events[i];
            let out = ix.upsert(e.clone());
            assert_eq!(matches!(out, Upsert::Replaced(_)), changed);
            // The same state again, or an older one, changes nothing.
            assert_eq!(ix.upsert(e.clone()), Upsert::Unchanged);
            assert_eq!(ix.upsert(events[i].clone()), Upsert::Unchanged);
            events[i] = e;
        }
        let open = EventFilter {
            status: StatusFilter::Open,
            ..EventFilter::default()
        };
        for (lon, lat) in [(115.5, 23.0), (115.1, 22.6), (115.9, 23.4)] {
            let got: Vec<i64> = ix
                .nearest(lon, lat, 30, f64::INFINITY, &open)
                .iter()
                .map(|(s, _)| ix.event(*s).id)
                .collect();
            assert_eq!(got, brute(&events, lon, lat, 30, |e| e.status.is_open()));
        }
        for e in &events {
            let slot = ix.slot(e.id).unwrap();
            assert_eq!(&ix.event(slot), e);
        }
        assert_eq!(
            ix.upsert(ev(99_999, 115.2, 22.7, Status::Reported, "x.y")),
            Upsert::Inserted
        );
    }

    #[test]
    fn inserts_out_of_order_are_found() {
        let mut ix = EventIndex::new(&[]);
        ix.insert(&ev(5, 115.0, 23.0, Status::Reported, "hazard.fire"));
        ix.insert(&ev(3, 115.001, 23.0, Status::Reported, "hazard.fire"));
        ix.insert(&ev(5, 115.0, 23.0, Status::Reported, "hazard.fire"));
        assert_eq!(ix.len(), 2);
        assert_eq!(ix.event(ix.slot(3).unwrap()).title, "事件3");
        let near = ix.nearest(115.0, 23.0, 5, f64::INFINITY, &EventFilter::default());
        assert_eq!(near.len(), 2);
        assert_eq!(ix.event(near[0].0).id, 5);
        assert_eq!(
            ix.list(None, &EventFilter::default(), None, 10)
                .iter()
                .map(|s| ix.event(*s).id)
                .collect::<Vec<_>>(),
            [3, 5]
        );
    }
}
