//! The event index: every event, columnar, with one R-tree per workflow state.
//!
//! Points are indexed by their ECEF position (see [`super::geodesic`]) so that nearest-event
//! search by true ellipsoidal distance is exact; bounding-box queries translate the lon/lat
//! box into an enclosing ECEF box, then test lon/lat exactly. One tree per state lets the
//! common "open cases near me" query skip the far larger body of closed cases entirely.
//!
//! Inserts are taken while serving (the caller holds a write lock for microseconds). Slots
//! are in arrival order; a separate id-sorted list serves lookups and id-ordered paging.

use std::collections::BinaryHeap;

use chrono::{DateTime, Utc};
use rstar::primitives::GeomWithData;
use rstar::{AABB, RTree};

use super::areas::BBox;
use super::geodesic::{self, From};
use crate::model::{Event, Status, StatusFilter};

type PointEntry = GeomWithData<[f64; 3], u32>;

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
}

impl Default for EventFilter {
    fn default() -> Self {
        EventFilter {
            status: StatusFilter::All,
            categories: None,
            from: None,
            to: None,
        }
    }
}

const NO_TIME: i64 = i64::MIN;
const NO_GRID: i64 = i64::MIN;

/// Columnar storage of every event's public fields. Position = slot.
#[derive(Default)]
struct Columns {
    id: Vec<i64>,
    lon: Vec<f64>,
    lat: Vec<f64>,
    category: Vec<u16>,
    status: Vec<u8>,
    priority: Vec<u8>,
    generated: Vec<bool>,
    grid: Vec<i64>,
    reported_at: Vec<i64>,
    due_at: Vec<i64>,
    updated_at: Vec<i64>,
    /// Titles of every slot, back to back.
    text: String,
    /// Start of slot i's title in `text`; one extra entry at the end.
    text_start: Vec<usize>,
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
        c.generated.reserve_exact(capacity);
        c.grid.reserve_exact(capacity);
        c.reported_at.reserve_exact(capacity);
        c.due_at.reserve_exact(capacity);
        c.updated_at.reserve_exact(capacity);
        c.text_start.reserve_exact(capacity + 1);
        c.text.reserve(capacity * 40);
        ix.order.reserve_exact(capacity);
        EventIndexBuilder { ix }
    }

    /// Adds one event.
    pub fn add(&mut self, e: Event) {
        self.ix.push(e);
    }

    /// Sorts the id list and bulk-loads one tree per state.
    #[must_use]
    pub fn build(mut self) -> EventIndex {
        let ix = &mut self.ix;
        ix.order.sort_unstable();
        let mut counts = [0usize; Status::ALL.len()];
        for s in &ix.cols.status {
            counts[*s as usize] += 1;
        }
        let mut per_status: Vec<Vec<PointEntry>> =
            counts.iter().map(|n| Vec::with_capacity(*n)).collect();
        for slot in 0..ix.cols.id.len() {
            let xyz = geodesic::ecef(ix.cols.lon[slot], ix.cols.lat[slot]);
            let s = u32::try_from(slot).unwrap_or(u32::MAX);
            per_status[ix.cols.status[slot] as usize].push(GeomWithData::new(xyz, s));
        }
        ix.trees = per_status.into_iter().map(RTree::bulk_load).collect();
        self.ix
    }
}

/// Every event, indexed for nearest, bbox and id-ordered queries.
pub struct EventIndex {
    cols: Columns,
    /// (id, slot), sorted by id.
    order: Vec<(i64, u32)>,
    trees: Vec<RTree<PointEntry>>,
    /// Dense category numbering: position = number.
    categories: Vec<String>,
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
        let mut cols = Columns::default();
        cols.text_start.push(0);
        EventIndex {
            cols,
            order: Vec::new(),
            trees: (0..Status::ALL.len()).map(|_| RTree::new()).collect(),
            categories: categories.to_vec(),
        }
    }

    /// Builds an index from loaded events at once (bulk-loaded trees).
    #[must_use]
    pub fn bulk(categories: &[String], events: Vec<Event>) -> EventIndex {
        let mut b = EventIndexBuilder::new(categories, events.len());
        for e in events {
            b.add(e);
        }
        b.build()
    }

    /// Appends columns for an event; returns its slot and state number.
    fn push(&mut self, e: Event) -> (u32, usize) {
        let cat = match self.category_number(&e.category) {
            Some(i) => i,
            None => {
                self.categories.push(e.category.clone());
                u16::try_from(self.categories.len() - 1).unwrap_or(u16::MAX)
            }
        };
        let c = &mut self.cols;
        let slot = u32::try_from(c.id.len()).unwrap_or(u32::MAX);
        c.id.push(e.id);
        c.lon.push(e.lon);
        c.lat.push(e.lat);
        c.category.push(cat);
        c.status.push(e.status as u8);
        c.priority.push(u8::try_from(e.priority).unwrap_or(2));
        c.generated.push(e.generated);
        c.grid.push(e.grid_id.unwrap_or(NO_GRID));
        c.reported_at.push(micros(e.reported_at));
        c.due_at.push(e.due_at.map_or(NO_TIME, micros));
        c.updated_at.push(micros(e.updated_at));
        c.text.push_str(&e.title);
        c.text_start.push(c.text.len());
        self.order.push((e.id, slot));
        (slot, e.status.index())
    }

    /// Adds one event (after its commit). An id already present is ignored.
    pub fn insert(&mut self, e: Event) {
        let pos = self.order.partition_point(|(id, _)| *id < e.id);
        if self.order.get(pos).is_some_and(|(id, _)| *id == e.id) {
            return;
        }
        let (slot, status) = self.push(e);
        // push() appended to `order`; move it to its sorted place (usually already there).
        if let Some(last) = self.order.pop() {
            self.order.insert(pos, last);
        }
        let s = slot as usize;
        let xyz = geodesic::ecef(self.cols.lon[s], self.cols.lat[s]);
        self.trees[status].insert(GeomWithData::new(xyz, slot));
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

    /// Slot of an event id.
    #[must_use]
    pub fn slot(&self, id: i64) -> Option<u32> {
        self.order
            .binary_search_by_key(&id, |(i, _)| *i)
            .ok()
            .map(|p| self.order[p].1)
    }

    /// The public fields of the event in a slot.
    #[must_use]
    pub fn event(&self, slot: u32) -> Event {
        let c = &self.cols;
        let s = slot as usize;
        let (start, end) = (c.text_start[s], c.text_start[s + 1]);
        Event {
            id: c.id[s],
            category: self.categories[c.category[s] as usize].clone(),
            title: c.text[start..end].to_owned(),
            description: None,
            status: Status::ALL[c.status[s] as usize],
            priority: i16::from(c.priority[s]),
            grid_id: (c.grid[s] != NO_GRID).then_some(c.grid[s]),
            reported_at: from_micros(c.reported_at[s]).unwrap_or_default(),
            due_at: from_micros(c.due_at[s]),
            updated_at: from_micros(c.updated_at[s]).unwrap_or_default(),
            lon: c.lon[s],
            lat: c.lat[s],
            generated: c.generated[s],
        }
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

    /// Whether the slot passes the non-spatial, non-state parts of a filter.
    fn passes(&self, slot: usize, f: &EventFilter) -> bool {
        let c = &self.cols;
        f.categories
            .as_ref()
            .is_none_or(|cs| cs.contains(&c.category[slot]))
            && f.from.is_none_or(|t| c.reported_at[slot] >= t)
            && f.to.is_none_or(|t| c.reported_at[slot] < t)
    }

    fn state_trees(&self, f: StatusFilter) -> impl Iterator<Item = &RTree<PointEntry>> {
        Status::ALL
            .into_iter()
            .filter(move |s| f.matches(*s))
            .map(|s| &self.trees[s.index()])
    }

    /// The `k` events nearest to a point by true distance, within `within_m` metres,
    /// matching `f`; returns (slot, metres), nearest first, ties by id.
    #[must_use]
    pub fn nearest(
        &self,
        lon: f64,
        lat: f64,
        k: usize,
        within_m: f64,
        f: &EventFilter,
    ) -> Vec<(u32, f64)> {
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
        if k == 0 {
            return Vec::new();
        }
        let q = From::new(lon, lat);
        let mut best: BinaryHeap<Cand> = BinaryHeap::with_capacity(k + 1);
        for tree in self.state_trees(f.status) {
            for (e, d2) in tree.nearest_neighbor_iter_with_distance_2(&q.xyz) {
                // The chord is a lower bound of the true distance (up to rounding, hence the
                // micrometre of slack): once it exceeds the k-th best, nothing further can win.
                let chord = d2.sqrt() - 1e-6;
                if chord > within_m || (best.len() == k && best.peek().is_some_and(|b| chord > b.0))
                {
                    break;
                }
                let s = e.data as usize;
                if !self.passes(s, f) {
                    continue;
                }
                let d = q.distance(self.cols.lon[s], self.cols.lat[s], e.geom(), d2);
                if d > within_m {
                    continue;
                }
                best.push(Cand(d, self.cols.id[s], e.data));
                if best.len() > k {
                    best.pop();
                }
            }
        }
        best.into_sorted_vec()
            .into_iter()
            .map(|c| (c.2, c.0))
            .collect()
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
                let env = ecef_envelope(b);
                let mut found: Vec<(i64, u32)> = Vec::new();
                for tree in self.state_trees(f.status) {
                    for e in tree.locate_in_envelope(&env) {
                        let s = e.data as usize;
                        let c = &self.cols;
                        if c.id[s] > after && b.contains(c.lon[s], c.lat[s]) && self.passes(s, f) {
                            found.push((c.id[s], e.data));
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
                let start = self.order.partition_point(|(id, _)| *id <= after);
                self.order[start..]
                    .iter()
                    .filter(|(_, s)| {
                        let s = *s as usize;
                        f.status.matches(Status::ALL[self.cols.status[s] as usize])
                            && self.passes(s, f)
                    })
                    .take(limit)
                    .map(|(_, s)| *s)
                    .collect()
            }
        }
    }
}

/// An ECEF box enclosing every surface point of a lon/lat box (with a millimetre of slack
/// for rounding), so a tree query misses nothing; callers then test lon/lat exactly.
fn ecef_envelope(b: &BBox) -> AABB<[f64; 3]> {
    let r = |lat: f64| {
        let sp = lat.to_radians().sin();
        geodesic::A / (1.0 - geodesic::E2 * sp * sp).sqrt() * lat.to_radians().cos()
    };
    let z = |lat: f64| geodesic::ecef(0.0, lat)[2];
    let r_max = r(0f64.clamp(b.min_lat, b.max_lat));
    let r_min = r(b.min_lat).min(r(b.max_lat));
    let range = |f: fn(f64) -> f64, special: &[(f64, f64)]| {
        let mut lo = f(b.min_lon.to_radians()).min(f(b.max_lon.to_radians()));
        let mut hi = f(b.min_lon.to_radians()).max(f(b.max_lon.to_radians()));
        for &(lon, v) in special {
            if (b.min_lon..=b.max_lon).contains(&lon) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
        (lo, hi)
    };
    let (cos_lo, cos_hi) = range(f64::cos, &[(0.0, 1.0), (180.0, -1.0), (-180.0, -1.0)]);
    let (sin_lo, sin_hi) = range(f64::sin, &[(90.0, 1.0), (-90.0, -1.0)]);
    let span = |lo: f64, hi: f64| {
        let v = [r_min * lo, r_min * hi, r_max * lo, r_max * hi];
        (
            v.iter().copied().fold(f64::INFINITY, f64::min) - 1e-3,
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max) + 1e-3,
        )
    };
    let (x0, x1) = span(cos_lo, cos_hi);
    let (y0, y1) = span(sin_lo, sin_hi);
    AABB::from_corners([x0, y0, z(b.min_lat) - 1e-3], [x1, y1, z(b.max_lat) + 1e-3])
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
        }
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
            let mut want: Vec<(f64, i64)> = events
                .iter()
                .filter(|e| e.status.is_open() && e.category == "hazard.fire")
                .map(|e| (geodesic::distance_m(lon, lat, e.lon, e.lat), e.id))
                .filter(|(d, _)| *d <= 30_000.0)
                .collect();
            want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let want: Vec<i64> = want.iter().take(10).map(|w| w.1).collect();
            assert_eq!(got, want);
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
