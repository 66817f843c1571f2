//! The event index: every event, columnar, with one packed tree per group of workflow
//! states.
//!
//! Points sit in packed trees ([`super::points`]) with their earth-centred (ECEF)
//! positions kept beside them (see [`super::geodesic`]): nearest-event search takes the
//! tree's nodes best first, with box distances that are lower bounds of the true
//! ellipsoidal distance, so it is exact; bounding-box queries test lon/lat exactly. Open
//! and finished cases live in two trees, so the common "open cases near me" query never walks the far larger body of closed ones;
//! finer state filters are checked per candidate.
//!
//! Inserts are taken while serving (the caller holds a write lock for microseconds; once a
//! quarter of a tree has changed, for the rebuild of that tree). Slots
//! are in arrival order; a separate id-sorted list serves lookups and id-ordered paging.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::areas::GridSet;
use super::cells::{Nearest, Pt};
use super::counts::CaseState;
use super::filter::EventFilter;
use super::geodesic::{self, From};
use super::points::PointTree;
use super::pyramid::Pyramid;
use super::pyramid::morton;
use minqing_model::BBox;
use minqing_model::{Event, Status, StatusFilter};
use std::collections::BTreeMap;

const NO_TIME: i64 = i64::MIN;
/// Tree of open cases.
const OPEN: usize = 0;
/// Tree of resolved, closed and rejected cases.
const CLOSED: usize = 1;
const TREES: usize = 2;

/// The state and category parts of a filter, on what a bucket stores.
fn passes_inline(pt: &Pt, f: &EventFilter) -> bool {
    f.accepts(pt.status, pt.category)
}

fn tree_of(s: Status) -> usize {
    if s.is_open() { OPEN } else { CLOSED }
}
const NO_GRID: i64 = i64::MIN;

/// `flags` bits 0–1: escalation step (0 grid … 3 district).
const ESCALATION: u8 = 0b0011;
/// `flags` bit: the return visit was answered.
const ANSWERED: u8 = 0b0100;
/// `flags` bit: … and the reporter was satisfied.
const SATISFIED: u8 = 0b1000;
/// `flags` bit: generated data.
const GENERATED: u8 = 0b1_0000;
/// `resolve_s` of a case never resolved.
const NOT_RESOLVED: u32 = u32::MAX;

/// Position of a point along a Morton curve over `b` (16 bits an axis): points near on
/// the curve are near on the map.
fn curve_key(lon: f64, lat: f64, b: &BBox) -> u64 {
    let q = |v: f64, lo: f64, hi: f64| -> u32 {
        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let i = (t * 65535.0).clamp(0.0, 65535.0) as u32;
        i
    };
    morton(q(lon, b.min_lon, b.max_lon), q(lat, b.min_lat, b.max_lat))
}

/// The packed small fields of an event.
fn flags(e: &Event) -> u8 {
    (e.escalation.min(3) & ESCALATION)
        | match e.satisfied {
            None => 0,
            Some(false) => ANSWERED,
            Some(true) => ANSWERED | SATISFIED,
        }
        | if e.generated { GENERATED } else { 0 }
}

/// Whole seconds from report to resolution, as the index keeps them.
fn resolve_seconds(e: &Event) -> u32 {
    e.resolved_at.map_or(NOT_RESOLVED, |r| {
        u32::try_from((r - e.reported_at).num_seconds().max(0))
            .unwrap_or(NOT_RESOLVED - 1)
            .min(NOT_RESOLVED - 1)
    })
}

/// Truncates `resolved_at` to what the index keeps, so that a state read back from the
/// index compares equal to the same state read from the database.
fn quantise(e: &mut Event) {
    let s = resolve_seconds(e);
    e.resolved_at =
        (s != NOT_RESOLVED).then(|| e.reported_at + chrono::Duration::seconds(i64::from(s)));
}

/// Columnar storage of every event's public fields. Position = slot.
#[derive(Default)]
struct Columns {
    id: Vec<i64>,
    lon: Vec<f64>,
    lat: Vec<f64>,
    category: Vec<u16>,
    status: Vec<u8>,
    priority: Vec<u8>,
    /// Packed small fields, see [`flags`].
    flags: Vec<u8>,
    /// Seconds from report to (last) resolution; [`NOT_RESOLVED`] when never resolved.
    resolve_s: Vec<u32>,
    grid: Vec<i64>,
    reported_at: Vec<i64>,
    due_at: Vec<i64>,
    updated_at: Vec<i64>,
    /// Titles of every slot, back to back.
    text: String,
    /// Start of slot i's title in `text`.
    text_start: Vec<u64>,
    /// Length of slot i's title, bytes.
    text_len: Vec<u32>,
}

impl Columns {
    /// Puts the slots in Morton order of their position (16 bits an axis over the data's
    /// box), so that the events of one area sit together in every column: a tile or a box
    /// query then reads memory nearly in sequence. Temporary memory: 12 bytes an event,
    /// then one column at a time.
    fn sort_spatially(&mut self) {
        let n = self.id.len();
        if n < 2 {
            return;
        }
        let fold = |(a, b): (f64, f64), v: f64| (a.min(v), b.max(v));
        let (x0, x1) = self
            .lon
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |acc, v| fold(acc, *v));
        let (y0, y1) = self
            .lat
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |acc, v| fold(acc, *v));
        let b = BBox {
            min_lon: x0,
            min_lat: y0,
            max_lon: x1,
            max_lat: y1,
        };
        let mut keyed: Vec<u64> = (0..n)
            .map(|s| (curve_key(self.lon[s], self.lat[s], &b) << 32) | s as u64)
            .collect();
        keyed.sort_unstable();
        #[allow(clippy::cast_possible_truncation)]
        let perm: Vec<u32> = keyed.iter().map(|k| *k as u32).collect();
        drop(keyed);
        fn permute<T: Copy>(v: &mut Vec<T>, perm: &[u32]) {
            let out: Vec<T> = perm.iter().map(|s| v[*s as usize]).collect();
            *v = out;
        }
        permute(&mut self.id, &perm);
        permute(&mut self.lon, &perm);
        permute(&mut self.lat, &perm);
        permute(&mut self.category, &perm);
        permute(&mut self.status, &perm);
        permute(&mut self.priority, &perm);
        permute(&mut self.flags, &perm);
        permute(&mut self.resolve_s, &perm);
        permute(&mut self.grid, &perm);
        permute(&mut self.reported_at, &perm);
        permute(&mut self.due_at, &perm);
        permute(&mut self.updated_at, &perm);
        permute(&mut self.text_start, &perm);
        permute(&mut self.text_len, &perm);
    }
}

/// Streams events into columns, then bulk-loads the trees once (start-up path).
pub struct EventIndexBuilder {
    ix: EventIndex,
}

impl EventIndexBuilder {
    /// A builder expecting about `capacity` events.
    #[must_use]
    pub fn new(categories: &[String], capacity: usize) -> EventIndexBuilder {
        let mut ix = EventIndex::new(categories);
        let c = &mut ix.cols;
        c.id.reserve_exact(capacity);
        c.lon.reserve_exact(capacity);
        c.lat.reserve_exact(capacity);
        c.category.reserve_exact(capacity);
        c.status.reserve_exact(capacity);
        c.priority.reserve_exact(capacity);
        c.flags.reserve_exact(capacity);
        c.resolve_s.reserve_exact(capacity);
        c.grid.reserve_exact(capacity);
        c.reported_at.reserve_exact(capacity);
        c.due_at.reserve_exact(capacity);
        c.updated_at.reserve_exact(capacity);
        c.text_start.reserve_exact(capacity);
        c.text_len.reserve_exact(capacity);
        c.text.reserve(capacity * 40);
        ix.order.reserve_exact(capacity);
        EventIndexBuilder { ix }
    }

    /// Adds one event.
    pub fn add(&mut self, e: Event) {
        self.ix.push(e);
    }

    /// Sorts the id list and builds the open and closed trees.
    #[must_use]
    pub fn build(mut self) -> EventIndex {
        let ix = &mut self.ix;
        ix.cols.sort_spatially();
        let ids = &ix.cols.id;
        ix.order.sort_unstable_by_key(|s| ids[*s as usize]);
        for tree in [OPEN, CLOSED] {
            ix.rebuild(tree);
        }
        let c = &ix.cols;
        for s in 0..c.id.len() {
            ix.pyramid
                .add_base(c.lon[s], c.lat[s], c.category[s], c.status[s], c.id[s]);
        }
        ix.pyramid.derive();
        self.ix
    }
}

/// A nearest-search candidate: a distance (the squared chord while searching, metres in
/// the answer), id (for ties), slot.
#[derive(PartialEq)]
struct Cand(f64, i64, u32);
impl Eq for Cand {}
impl PartialOrd for Cand {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Cand {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0).then(self.1.cmp(&o.1))
    }
}

/// A nearest search. Candidates are ranked by chord, which costs a subtraction, and
/// measured exactly only at the end: a point can be among the `k` nearest by true distance
/// only if its chord is at most the longest geodesic the `k` shortest chords can stand for
/// ([`geodesic::arc_bound`]), so every candidate within that is kept: the `k` shortest in
/// order, any other (a near tie, or many reports at one spot) on a side list, and all of
/// them ranked by true distance, ties by id, at the end.
struct Search<'a> {
    ix: &'a EventIndex,
    q: From,
    f: &'a EventFilter,
    k: usize,
    within_m: f64,
    /// The `k` shortest chords so far, by (squared chord, id), with positions.
    best: Vec<(Cand, [f64; 3])>,
    /// Other candidates offered within the limit of their time (filtered at the end).
    rest: Vec<(Cand, [f64; 3])>,
    /// Metres beyond which no point can enter the answer (a micrometre of slack for
    /// rounding); shrinks as `best` fills.
    limit: f64,
}

impl<'a> Search<'a> {
    fn new(ix: &'a EventIndex, q: From, f: &'a EventFilter, k: usize, within_m: f64) -> Self {
        Search {
            ix,
            q,
            f,
            k,
            within_m,
            best: Vec::with_capacity(k + 1),
            rest: Vec::new(),
            limit: within_m + 1e-6,
        }
    }

    /// (slot, metres) of the `k` nearest within `within_m`, nearest first, ties by id.
    fn answer(self) -> Vec<(u32, f64)> {
        let c = &self.ix.cols;
        let exact = |(k, xyz): &(Cand, [f64; 3])| {
            let s = k.2 as usize;
            Cand(self.q.distance(xyz, k.0, || (c.lon[s], c.lat[s])), k.1, k.2)
        };
        let mut out: Vec<Cand> = self.best.iter().map(exact).collect();
        out.sort_unstable();
        let lim2 = self.limit * self.limit;
        for r in self.rest.iter().filter(|r| r.0.0 <= lim2) {
            let cand = exact(r);
            if out.len() == self.k && out.last().is_some_and(|w| cand >= *w) {
                continue;
            }
            let at = out.partition_point(|b| *b < cand);
            out.insert(at, cand);
            out.truncate(self.k);
        }
        out.into_iter()
            .filter(|c| c.0 <= self.within_m)
            .map(|c| (c.2, c.0))
            .collect()
    }
}

impl Nearest for Search<'_> {
    fn limit(&self) -> f64 {
        self.limit
    }

    fn consider(&mut self, pt: &Pt, d2: f64) {
        if !passes_inline(pt, self.f) {
            return;
        }
        if !self.f.inline_only() && !self.ix.passes(pt.slot as usize, self.f) {
            return;
        }
        let cand = (Cand(d2, pt.id, pt.slot), pt.xyz);
        if self.best.len() == self.k && self.best.last().is_some_and(|w| cand.0 >= w.0) {
            self.rest.push(cand);
            return;
        }
        let at = self.best.partition_point(|b| b.0 < cand.0);
        self.best.insert(at, cand);
        if self.best.len() > self.k
            && let Some(out) = self.best.pop()
        {
            self.rest.push(out);
        }
        if let Some((kth, _)) = self.best.get(self.k - 1) {
            self.limit = geodesic::arc_bound(kth.0.sqrt()).min(self.within_m) + 1e-6;
        }
    }
}

/// Every event, indexed for nearest, bbox and id-ordered queries.
pub struct EventIndex {
    cols: Columns,
    /// Slots sorted by id (4 bytes an event; ids are read from the id column).
    order: Vec<u32>,
    trees: [PointTree; TREES],
    /// Dense category numbering: position = number.
    categories: Vec<String>,
    /// Titles changed after the slot was written (titles are stored back to back).
    retitled: HashMap<u32, String>,
    /// Counts per zoom-16 tile, for low-zoom clusters and heat.
    pyramid: Pyramid,
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

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(us: i64) -> Option<DateTime<Utc>> {
    (us != NO_TIME)
        .then(|| DateTime::from_timestamp_micros(us))
        .flatten()
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

    /// Builds an index from events at once (tests; start-up streams through the builder).
    #[cfg(test)]
    #[must_use]
    pub fn bulk(categories: &[String], events: Vec<Event>) -> EventIndex {
        let mut b = EventIndexBuilder::new(categories, events.len());
        for e in events {
            b.add(e);
        }
        b.build()
    }

    /// Appends columns for an event; returns its slot and tree number.
    fn push(&mut self, e: Event) -> (u32, usize) {
        let cat = self.number_or_add(&e.category);
        let c = &mut self.cols;
        let slot = u32::try_from(c.id.len()).unwrap_or(u32::MAX);
        c.id.push(e.id);
        c.lon.push(e.lon);
        c.lat.push(e.lat);
        c.category.push(cat);
        c.status.push(e.status as u8);
        c.priority.push(u8::try_from(e.priority).unwrap_or(2));
        c.flags.push(flags(&e));
        c.resolve_s.push(resolve_seconds(&e));
        c.grid.push(e.grid_id.unwrap_or(NO_GRID));
        c.reported_at.push(micros(e.reported_at));
        c.due_at.push(e.due_at.map_or(NO_TIME, micros));
        c.updated_at.push(micros(e.updated_at));
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
            self.insert(e);
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
        match self.category_number(code) {
            Some(i) => i,
            None => {
                self.categories.push(code.to_owned());
                u16::try_from(self.categories.len() - 1).unwrap_or(u16::MAX)
            }
        }
    }

    /// Adds one event (after its commit). An id already present is ignored.
    pub fn insert(&mut self, e: Event) {
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
    fn rebuild(&mut self, tree: usize) {
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
    fn order_position(&self, id: i64) -> usize {
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
    fn passes(&self, slot: usize, f: &EventFilter) -> bool {
        let c = &self.cols;
        f.accepts(c.status[slot], c.category[slot])
            && f.from.is_none_or(|t| c.reported_at[slot] >= t)
            && f.to.is_none_or(|t| c.reported_at[slot] < t)
            && f.scope
                .as_ref()
                .is_none_or(|sc| sc.has_grid((c.grid[slot] != NO_GRID).then_some(c.grid[slot])))
    }

    /// The trees that can hold events passing a state filter.
    fn state_trees(&self, f: StatusFilter) -> impl Iterator<Item = &PointTree> {
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

    /// The `k` events nearest to a point by true distance, within `within_m` metres,
    /// matching `f`; returns (slot, metres), nearest first, ties by id.
    ///
    /// Each state group's tree offers its points nearest box first and stops once the next
    /// box lies beyond the k-th best so far: exact, since box distances are lower bounds of
    /// true distances.
    #[must_use]
    pub fn nearest(
        &self,
        lon: f64,
        lat: f64,
        k: usize,
        within_m: f64,
        f: &EventFilter,
    ) -> Vec<(u32, f64)> {
        if k == 0 {
            return Vec::new();
        }
        let mut search = Search::new(self, From::new(lon, lat), f, k, within_m);
        for tree in self.state_trees(f.status) {
            let xyz = search.q.xyz;
            tree.nearest(&xyz, lon, lat, &mut search);
        }
        search.answer()
    }

    /// Calls `visit(slot, lon, lat, category)` for every event in the box (edges included)
    /// matching `f`, in no particular order.
    pub fn for_each_in(
        &self,
        b: &BBox,
        f: &EventFilter,
        mut visit: impl FnMut(u32, f64, f64, u16),
    ) {
        let c = &self.cols;
        let timed = !f.inline_only();
        // A scope narrows the box first (a community's cases in a z0 tile read one area).
        let b = &match &f.scope {
            Some(sc) => match b.intersection(&sc.bbox) {
                Some(x) => x,
                None => return,
            },
            None => *b,
        };
        for tree in self.state_trees(f.status) {
            for pt in tree.in_bbox(b) {
                // State and category are inline: columns are read only for candidates.
                if !passes_inline(pt, f) {
                    continue;
                }
                let s = pt.slot as usize;
                if timed && !self.passes(s, f) {
                    continue;
                }
                let (lon, lat) = (c.lon[s], c.lat[s]);
                if b.contains(lon, lat) {
                    visit(pt.slot, lon, lat, pt.category);
                }
            }
        }
    }

    /// Up to `limit` events matching `f` (and the box, if any) with id greater than `after`,
    /// in id order.
    #[must_use]
    pub fn list(
        &self,
        bbox: Option<&BBox>,
        f: &EventFilter,
        after: Option<i64>,
        limit: usize,
    ) -> Vec<u32> {
        let after = after.unwrap_or(i64::MIN);
        match bbox {
            Some(b) => {
                let mut found: Vec<(i64, u32)> = Vec::new();
                let c = &self.cols;
                for tree in self.state_trees(f.status) {
                    for pt in tree.in_bbox(b) {
                        let s = pt.slot as usize;
                        if pt.id > after && b.contains(c.lon[s], c.lat[s]) && self.passes(s, f) {
                            found.push((pt.id, pt.slot));
                        }
                    }
                }
                if found.len() > limit {
                    found.select_nth_unstable(limit);
                    found.truncate(limit);
                }
                found.sort_unstable();
                found.into_iter().map(|(_, s)| s).collect()
            }
            None => {
                let start = self.order_position(after.saturating_add(1));
                self.order[start..]
                    .iter()
                    .filter(|s| self.passes(**s as usize, f))
                    .take(limit)
                    .copied()
                    .collect()
            }
        }
    }
}

/// Case statistics of an area (or everywhere), from memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseStats {
    /// Cases counted.
    pub total: u64,
    /// By full category code, then by state (index = `Status as usize`).
    pub by_category: BTreeMap<String, [u64; 8]>,
    /// Open cases past their deadline, by full category code.
    pub overdue_by_category: BTreeMap<String, u64>,
    /// Open cases past their deadline.
    pub overdue: u64,
    /// Open cases raised above grid level.
    pub escalated: u64,
    /// Median whole seconds from report to (last) resolution, of resolved and closed cases
    /// (the lower middle value when their number is even).
    pub median_resolve_s: Option<u32>,
    /// Return visits answered, and how many of them satisfied.
    pub answered: u64,
    /// … satisfied.
    pub satisfied: u64,
    /// Cases reported per day (UTC dates as days since the epoch).
    pub reported_per_day: BTreeMap<i64, u64>,
    /// Cases resolved per day (by their resolution time).
    pub resolved_per_day: BTreeMap<i64, u64>,
}

impl EventIndex {
    /// Statistics of the cases in `scope` (every case when `None`) reported in
    /// [`from`, `to`) (µs since the epoch), with "overdue" as of `now`.
    #[must_use]
    pub fn stats(
        &self,
        scope: Option<&GridSet>,
        from: Option<i64>,
        to: Option<i64>,
        now: i64,
    ) -> CaseStats {
        const DAY_US: i64 = 86_400_000_000;
        let c = &self.cols;
        let mut per_cat: Vec<[u64; 8]> = vec![[0; 8]; self.categories.len()];
        let mut overdue_cat: Vec<u64> = vec![0; self.categories.len()];
        let mut st = CaseStats::default();
        let mut resolve: Vec<u32> = Vec::new();
        // Days are counted in dense arrays over the data's span (a map entry per event
        // costs more than the rest of the count).
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        for s in 0..c.id.len() {
            let t = c.reported_at[s];
            let r = if c.resolve_s[s] == NOT_RESOLVED {
                t
            } else {
                t + i64::from(c.resolve_s[s]) * 1_000_000
            };
            first = first.min(t);
            last = last.max(r);
        }
        let day0 = first.div_euclid(DAY_US);
        let days = usize::try_from((last.div_euclid(DAY_US) - day0 + 1).max(0)).unwrap_or(0);
        let mut reported_days = vec![0u64; days];
        let mut resolved_days = vec![0u64; days];
        let day = |t: i64| usize::try_from(t.div_euclid(DAY_US) - day0).unwrap_or(0);
        let mut count = |s: usize| {
            let t = c.reported_at[s];
            if from.is_some_and(|f| t < f) || to.is_some_and(|x| t >= x) {
                return;
            }
            let status = Status::ALL[c.status[s] as usize];
            st.total += 1;
            per_cat[c.category[s] as usize][status as usize] += 1;
            reported_days[day(t)] += 1;
            if status.is_open() {
                if c.due_at[s] != NO_TIME && c.due_at[s] < now {
                    st.overdue += 1;
                    overdue_cat[c.category[s] as usize] += 1;
                }
                if c.flags[s] & ESCALATION != 0 {
                    st.escalated += 1;
                }
            }
            if c.resolve_s[s] != NOT_RESOLVED {
                let at = t + i64::from(c.resolve_s[s]) * 1_000_000;
                resolved_days[day(at)] += 1;
                if matches!(status, Status::Resolved | Status::Closed) {
                    resolve.push(c.resolve_s[s]);
                }
            }
            if c.flags[s] & ANSWERED != 0 {
                st.answered += 1;
                if c.flags[s] & SATISFIED != 0 {
                    st.satisfied += 1;
                }
            }
        };
        match scope {
            None => (0..c.id.len()).for_each(&mut count),
            Some(sc) => {
                // The area's box through the trees, then its grids exactly.
                for tree in &self.trees {
                    for pt in tree.in_bbox(&sc.bbox) {
                        let s = pt.slot as usize;
                        if sc.bbox.contains(c.lon[s], c.lat[s])
                            && sc.has_grid((c.grid[s] != NO_GRID).then_some(c.grid[s]))
                        {
                            count(s);
                        }
                    }
                }
            }
        }
        for (i, (rep, res)) in reported_days.iter().zip(&resolved_days).enumerate() {
            let d = day0 + i64::try_from(i).unwrap_or(0);
            if *rep > 0 {
                st.reported_per_day.insert(d, *rep);
            }
            if *res > 0 {
                st.resolved_per_day.insert(d, *res);
            }
        }
        if !resolve.is_empty() {
            // The lower middle value, as PostgreSQL's percentile_disc(0.5) chooses.
            let mid = (resolve.len() - 1) / 2;
            let (_, m, _) = resolve.select_nth_unstable(mid);
            st.median_resolve_s = Some(*m);
        }
        for (i, counts) in per_cat.into_iter().enumerate() {
            if counts.iter().any(|n| *n > 0) {
                st.by_category.insert(self.categories[i].clone(), counts);
            }
        }
        for (i, n) in overdue_cat.into_iter().enumerate() {
            if n > 0 {
                st.overdue_by_category.insert(self.categories[i].clone(), n);
            }
        }
        st
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn ev(id: i64, lon: f64, lat: f64, status: Status, cat: &str) -> Event {
        Event {
            id,
            category: cat.into(),
            title: format!("事件{id}"),
            description: None,
            status,
            priority: 2,
            grid_id: None,
            reported_at: DateTime::from_timestamp(1_700_000_000 + id, 0).unwrap(),
            due_at: None,
            updated_at: DateTime::from_timestamp(1_700_000_000 + id, 0).unwrap(),
            lon,
            lat,
            generated: true,
            escalation: 0,
            resolved_at: None,
            satisfied: None,
        }
    }

    /// Ids of the `k` events nearest to (lon, lat) among those `keep` accepts, by Karney
    /// distance, ties by id.
    fn brute(
        events: &[Event],
        lon: f64,
        lat: f64,
        k: usize,
        keep: impl Fn(&Event) -> bool,
    ) -> Vec<i64> {
        let mut all: Vec<(f64, i64)> = events
            .iter()
            .filter(|e| keep(e))
            .map(|e| (geodesic::distance_m(lon, lat, e.lon, e.lat), e.id))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        all.iter().take(k).map(|w| w.1).collect()
    }

    fn random(n: i64, seed: u64) -> Vec<Event> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (1..=n)
            .map(|id| {
                let s = Status::ALL[rng.random_range(0..Status::ALL.len())];
                let cat = if rng.random_bool(0.5) {
                    "hazard.fire"
                } else {
                    "service.water"
                };
                ev(
                    id,
                    rng.random_range(115.0..116.0),
                    rng.random_range(22.5..23.5),
                    s,
                    cat,
                )
            })
            .collect()
    }

    #[test]
    fn nearest_equals_brute_force() {
        let events = random(5_000, 1);
        let cats = ["hazard.fire".to_string(), "service.water".to_string()];
        let ix = EventIndex::bulk(&cats, events.clone());
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        for _ in 0..200 {
            let (lon, lat) = (rng.random_range(115.0..116.0), rng.random_range(22.5..23.5));
            let f = EventFilter {
                status: StatusFilter::Open,
                categories: Some(vec![0]),
                ..EventFilter::default()
            };
            let got: Vec<i64> = ix
                .nearest(lon, lat, 10, 30_000.0, &f)
                .iter()
                .map(|(s, _)| ix.event(*s).id)
                .collect();
            let want = brute(&events, lon, lat, 10, |e| {
                e.status.is_open()
                    && e.category == "hazard.fire"
                    && geodesic::distance_m(lon, lat, e.lon, e.lat) <= 30_000.0
            });
            assert_eq!(got, want);
            // Many neighbours, no filter: the same as brute force too.
            let all = EventFilter::default();
            let many: Vec<i64> = ix
                .nearest(lon, lat, 300, f64::INFINITY, &all)
                .iter()
                .map(|(s, _)| ix.event(*s).id)
                .collect();
            let want = brute(&events, lon, lat, 300, |_| true);
            assert_eq!(many, want);
        }
    }

    #[test]
    fn stacked_reports_are_ranked_by_id() {
        // Reports piled on a few spots (one pothole, many residents) and near ties around
        // them: chord ranking must still give the exact order by distance, then id.
        let mut events = random(2_000, 21);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(22);
        let spots: Vec<(f64, f64)> = (0..5)
            .map(|_| (rng.random_range(115.4..115.6), rng.random_range(22.9..23.1)))
            .collect();
        for id in 2_001..2_600 {
            let (lon, lat) = spots[rng.random_range(0..spots.len())];
            let jitter = if id % 3 == 0 { 1e-12 } else { 0.0 };
            events.push(ev(id, lon + jitter, lat, Status::Reported, "hazard.fire"));
        }
        events.swap(10, 2_300); // ids out of slot order
        let mut ix = EventIndex::bulk(&[], events[..2_300].to_vec());
        for e in &events[2_300..] {
            ix.insert(e.clone());
        }
        for (lon, lat) in spots.iter().chain(&[(115.5, 23.0)]) {
            for k in [1, 20, 150] {
                let got: Vec<i64> = ix
                    .nearest(*lon, *lat, k, f64::INFINITY, &EventFilter::default())
                    .iter()
                    .map(|(s, _)| ix.event(*s).id)
                    .collect();
                assert_eq!(got, brute(&events, *lon, *lat, k, |_| true));
            }
        }
    }

    #[test]
    fn bbox_and_paging_equal_brute_force() {
        let events = random(3_000, 3);
        let ix = EventIndex::bulk(&[], events.clone());
        let b = BBox {
            min_lon: 115.2,
            min_lat: 22.7,
            max_lon: 115.5,
            max_lat: 23.1,
        };
        let f = EventFilter::default();
        let mut got = Vec::new();
        let mut after = None;
        loop {
            let page = ix.list(Some(&b), &f, after, 37);
            if page.is_empty() {
                break;
            }
            after = Some(ix.event(*page.last().unwrap()).id);
            got.extend(page.iter().map(|s| ix.event(*s).id));
        }
        let want: Vec<i64> = events
            .iter()
            .filter(|e| b.contains(e.lon, e.lat))
            .map(|e| e.id)
            .collect();
        assert_eq!(got, want);
        let open = EventFilter {
            status: StatusFilter::Open,
            ..EventFilter::default()
        };
        let firsts: Vec<i64> = ix
            .list(None, &open, Some(10), 5)
            .iter()
            .map(|s| ix.event(*s).id)
            .collect();
        let want: Vec<i64> = events
            .iter()
            .filter(|e| e.id > 10 && e.status.is_open())
            .take(5)
            .map(|e| e.id)
            .collect();
        assert_eq!(firsts, want);
    }

    #[test]
    fn inserted_events_rebuild_the_tree_and_stay_exact() {
        let events = random(6_000, 9);
        let mut ix = EventIndex::new(&[]);
        for e in events.iter().rev() {
            ix.insert(e.clone());
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
        ix.insert(ev(5, 115.0, 23.0, Status::Reported, "hazard.fire"));
        ix.insert(ev(3, 115.001, 23.0, Status::Reported, "hazard.fire"));
        ix.insert(ev(5, 115.0, 23.0, Status::Reported, "hazard.fire"));
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
