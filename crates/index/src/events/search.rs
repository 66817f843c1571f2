//! Queries over the event index: the `k` nearest events by true distance, the events in a
//! box, and pages in id order.

use super::index::EventIndex;
use crate::cells::{Nearest, Pt};
use crate::filter::EventFilter;
use crate::geodesic::{self, From};
use minqing_model::BBox;

/// The state and category parts of a filter, on what a bucket stores.
fn passes_inline(pt: &Pt, f: &EventFilter) -> bool {
    f.accepts(pt.status, pt.category)
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

impl EventIndex {
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
        if let Some(b) = bbox {
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
        } else {
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

#[cfg(test)]
mod tests {
    use super::super::testdata::{brute, ev, random};
    use super::*;
    use minqing_model::{Status, StatusFilter};
    use rand::{Rng, SeedableRng};

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
            ix.insert(e);
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
}
