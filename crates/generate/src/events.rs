//! A year of generated events inside the grids.
//!
//! Events are streamed: setting up costs O(grids) (cumulative households, bounding boxes,
//! an R-tree of grids, a few hotspots per district) and each event is then drawn in O(log n)
//! time without further memory.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use geo_types::MultiPolygon;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

use super::names;
use minqing_model::{AreaRecord, EventRecord, Level, Status, Taxonomy};

/// Options of [`events`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventOptions {
    /// Seed of the random generator: the same seed (and grids) gives the same events.
    pub seed: u64,
    /// Number of events to yield.
    pub count: usize,
    /// Events are reported during the 365 days before this instant (and before it).
    pub end: DateTime<Utc>,
}

/// Share of events drawn around hotspots rather than by households alone.
const HOTSPOT_SHARE: f64 = 0.2;
/// Hotspots per district.
const HOTSPOTS_PER_DISTRICT: usize = 3;
/// Spread of a hotspot, degrees (≈ 400 m).
const HOTSPOT_SIGMA: f64 = 0.004;
/// Relative frequency of reports by local hour (UTC+8).
const HOURS: [u32; 24] = [
    1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 10, 7, 9, 11, 11, 10, 8, 6, 5, 4, 3, 2, 1,
];

/// Streams `opts.count` generated events placed in `grids`.
///
/// `grids` are the areas of level [`Level::Grid`] (other levels in the slice are ignored; if
/// there is no grid at all, every area given is used). Each event lies strictly inside one grid,
/// chosen with probability ∝ households; 20 % are drawn around a few hotspots per district.
/// Category ∝ taxonomy weight, subcategory uniform; times span the 365 days before `end`
/// with a daily and weekly rhythm; the state follows the age of the event, and so do the
/// deadline and the last change. All events are marked `generated`. Yields nothing when no
/// area is given.
pub fn events<'a>(
    grids: &'a [AreaRecord],
    taxonomy: &'a Taxonomy,
    opts: &EventOptions,
) -> impl Iterator<Item = EventRecord> + 'a {
    Events::new(grids, taxonomy, opts)
}

struct Grid {
    index: u32,
    bbox: [f64; 4],
}

struct Events<'a> {
    grids: &'a [AreaRecord],
    taxonomy: &'a Taxonomy,
    rng: ChaCha8Rng,
    remaining: usize,
    used: Vec<Grid>,
    cum: Vec<u64>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
    hotspots: Vec<[f64; 2]>,
    cat_cum: Vec<u64>,
    hour_cum: [u32; 24],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    local_midnight: DateTime<Utc>,
}

fn bbox(mp: &MultiPolygon<f64>) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in &mp.0 {
        for c in &p.exterior().0 {
            b = [b[0].min(c.x), b[1].min(c.y), b[2].max(c.x), b[3].max(c.y)];
        }
    }
    b
}

/// Even-odd test over every ring of the MultiPolygon.
pub(crate) fn inside(mp: &MultiPolygon<f64>, x: f64, y: f64) -> bool {
    let mut inside = false;
    for p in &mp.0 {
        for r in std::iter::once(p.exterior()).chain(p.interiors()) {
            for w in r.0.windows(2) {
                let (a, b) = (w[0], w[1]);
                if (a.y > y) != (b.y > y) {
                    let cx = a.x + (y - a.y) / (b.y - a.y) * (b.x - a.x);
                    if x == cx {
                        return false; // on the boundary: not strictly inside
                    }
                    if x < cx {
                        inside = !inside;
                    }
                }
            }
        }
    }
    inside
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.random::<f64>().max(1e-12);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

impl<'a> Events<'a> {
    #[allow(clippy::too_many_lines)] // the generator's tables of weights read best as one list
    fn new(grids: &'a [AreaRecord], taxonomy: &'a Taxonomy, opts: &EventOptions) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(opts.seed ^ 0x6576_656e_7473);
        let any_grid = grids.iter().any(|g| g.level == Level::Grid);
        let used: Vec<Grid> = grids
            .iter()
            .enumerate()
            .filter(|(_, g)| (!any_grid || g.level == Level::Grid) && !g.geom.0.is_empty())
            .map(|(i, g)| Grid {
                index: i as u32,
                bbox: bbox(&g.geom),
            })
            .collect();
        let all_zero = used.iter().all(|g| grids[g.index as usize].households <= 0);
        let mut acc = 0u64;
        let cum: Vec<u64> = used
            .iter()
            .map(|g| {
                let h = grids[g.index as usize].households;
                acc += if all_zero {
                    1
                } else {
                    u64::try_from(h).unwrap_or(0)
                };
                acc
            })
            .collect();
        let tree = RTree::bulk_load(
            used.iter()
                .enumerate()
                .map(|(k, g)| {
                    GeomWithData::new(
                        Rectangle::from_corners([g.bbox[0], g.bbox[1]], [g.bbox[2], g.bbox[3]]),
                        k as u32,
                    )
                })
                .collect(),
        );
        let mut this = Events {
            grids,
            taxonomy,
            rng,
            remaining: if used.is_empty() { 0 } else { opts.count },
            used,
            cum,
            tree,
            hotspots: Vec::new(),
            cat_cum: Vec::new(),
            hour_cum: [0; 24],
            start: opts.end - Duration::days(365),
            end: opts.end,
            local_midnight: opts.end,
        };
        // hotspots: per district (code prefix), grids drawn ∝ households
        let mut by_district: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (k, g) in this.used.iter().enumerate() {
            let code = &grids[g.index as usize].code;
            by_district
                .entry(code.get(..6).unwrap_or(code))
                .or_default()
                .push(k);
        }
        let mut hotspots = Vec::new();
        for ks in by_district.values() {
            let total: u64 = ks.iter().map(|&k| this.weight(k)).sum();
            for _ in 0..HOTSPOTS_PER_DISTRICT {
                if total == 0 {
                    break;
                }
                let mut r = this.rng.random_range(0..total);
                let k = ks
                    .iter()
                    .copied()
                    .find(|&k| {
                        let w = this.weight(k);
                        if r < w {
                            true
                        } else {
                            r -= w;
                            false
                        }
                    })
                    .unwrap_or(ks[0]);
                hotspots.push(this.point_in(k));
            }
        }
        this.hotspots = hotspots;
        let mut acc = 0u64;
        this.cat_cum = taxonomy
            .categories()
            .iter()
            .map(|c| {
                acc += u64::from(c.weight.max(1));
                acc
            })
            .collect();
        let mut acc = 0;
        for (h, w) in HOURS.iter().enumerate() {
            acc += w;
            this.hour_cum[h] = acc;
        }
        // local (UTC+8) midnight at or before start
        let shifted = this.start + Duration::hours(8);
        let midnight = shifted.timestamp().div_euclid(86_400) * 86_400 - 8 * 3600;
        this.local_midnight = Utc
            .timestamp_opt(midnight, 0)
            .single()
            .unwrap_or(this.start);
        this
    }

    fn weight(&self, k: usize) -> u64 {
        self.cum[k] - if k == 0 { 0 } else { self.cum[k - 1] }
    }

    /// A uniform point strictly inside used grid `k`.
    fn point_in(&mut self, k: usize) -> [f64; 2] {
        let b = self.used[k].bbox;
        let geom = &self.grids[self.used[k].index as usize].geom;
        for _ in 0..100_000 {
            let x = b[0] + self.rng.random::<f64>() * (b[2] - b[0]);
            let y = b[1] + self.rng.random::<f64>() * (b[3] - b[1]);
            if inside(geom, x, y) {
                return [x, y];
            }
        }
        [f64::midpoint(b[0], b[2]), f64::midpoint(b[1], b[3])]
    }

    fn place(&mut self) -> (usize, [f64; 2]) {
        if !self.hotspots.is_empty() && self.rng.random_bool(HOTSPOT_SHARE) {
            let h = self.hotspots[self.rng.random_range(0..self.hotspots.len())];
            for _ in 0..32 {
                let p = [
                    h[0] + HOTSPOT_SIGMA * normal(&mut self.rng),
                    h[1] + HOTSPOT_SIGMA * normal(&mut self.rng),
                ];
                let found = self
                    .tree
                    .locate_all_at_point(&p)
                    .map(|g| g.data as usize)
                    .filter(|&k| inside(&self.grids[self.used[k].index as usize].geom, p[0], p[1]))
                    .min();
                if let Some(k) = found {
                    return (k, p);
                }
            }
        }
        let total = self.cum.last().copied().unwrap_or(1);
        let r = self.rng.random_range(0..total);
        let k = self
            .cum
            .partition_point(|&c| c <= r)
            .min(self.used.len() - 1);
        (k, self.point_in(k))
    }

    fn reported_at(&mut self) -> DateTime<Utc> {
        loop {
            let d = self.rng.random_range(0..=366i64);
            let day = self.local_midnight + Duration::days(d);
            let weekday = (day + Duration::hours(8)).weekday().num_days_from_monday();
            let w = match weekday {
                5 => 0.75,
                6 => 0.65,
                _ => 1.0,
            } * (0.8 + 0.4 * d as f64 / 366.0);
            if self.rng.random::<f64>() * 1.2 > w {
                continue;
            }
            let r = self.rng.random_range(0..self.hour_cum[23]);
            let hour = self.hour_cum.partition_point(|&c| c <= r) as i64;
            let t = day + Duration::seconds(hour * 3600 + self.rng.random_range(0..3600));
            if t >= self.start && t < self.end {
                return t;
            }
        }
    }
}

/// A state for an event of the given age, in days.
fn status_for(age: f64, u: f64) -> Status {
    use Status::{Accepted, Assigned, Closed, InProgress, Rejected, Reopened, Reported, Resolved};
    let table: &[(f64, Status)] = if age < 3.0 {
        &[
            (0.35, Reported),
            (0.25, Accepted),
            (0.18, Assigned),
            (0.15, InProgress),
            (0.05, Rejected),
            (0.02, Resolved),
        ]
    } else if age < 14.0 {
        &[
            (0.03, Reported),
            (0.07, Accepted),
            (0.15, Assigned),
            (0.35, InProgress),
            (0.25, Resolved),
            (0.05, Closed),
            (0.05, Rejected),
            (0.05, Reopened),
        ]
    } else if age < 60.0 {
        &[
            (0.03, Assigned),
            (0.10, InProgress),
            (0.20, Resolved),
            (0.55, Closed),
            (0.07, Rejected),
            (0.05, Reopened),
        ]
    } else {
        &[
            (0.01, InProgress),
            (0.05, Resolved),
            (0.85, Closed),
            (0.08, Rejected),
            (0.01, Reopened),
        ]
    };
    let mut acc = 0.0;
    for &(p, s) in table {
        acc += p;
        if u < acc {
            return s;
        }
    }
    table.last().map_or(Closed, |x| x.1)
}

impl Iterator for Events<'_> {
    type Item = EventRecord;

    fn next(&mut self) -> Option<EventRecord> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let (k, p) = self.place();
        let grid = &self.grids[self.used[k].index as usize];
        let place = match grid.name.rfind('第') {
            Some(i) if grid.name.ends_with("网格") => &grid.name[..i],
            _ => grid.name.as_str(),
        };
        let total = self.cat_cum.last().copied().unwrap_or(0);
        let (category, title_zh, deadline) = if total == 0 {
            ("other".to_string(), "其他事件".to_string(), 7)
        } else {
            let r = self.rng.random_range(0..total);
            let ci = self.cat_cum.partition_point(|&c| c <= r);
            let cat = &self.taxonomy.categories()[ci.min(self.cat_cum.len() - 1)];
            if cat.subcategories.is_empty() {
                (cat.code.clone(), cat.zh.clone(), cat.deadline_days)
            } else {
                let sub = &cat.subcategories[self.rng.random_range(0..cat.subcategories.len())];
                (
                    format!("{}.{}", cat.code, sub.code),
                    sub.zh.clone(),
                    cat.deadline_days,
                )
            }
        };
        let reported_at = self.reported_at();
        let age = (self.end - reported_at).num_seconds() as f64 / 86_400.0;
        let status = status_for(age, self.rng.random());
        let hours = |rng: &mut ChaCha8Rng, lo: f64, hi: f64| {
            Duration::seconds((rng.random_range(lo..hi) * 3600.0) as i64)
        };
        let accepted = reported_at + hours(&mut self.rng, 1.0, 24.0);
        let due_at = match status {
            Status::Reported | Status::Rejected => None,
            _ => Some(accepted + Duration::days(i64::from(deadline))),
        };
        let d = f64::from(deadline) * 24.0;
        let delay = match status {
            Status::Reported => Duration::zero(),
            Status::Rejected => hours(&mut self.rng, 1.0, 48.0),
            Status::Accepted => hours(&mut self.rng, 1.0, 24.0),
            Status::Assigned => hours(&mut self.rng, 4.0, 48.0),
            Status::InProgress => hours(&mut self.rng, 12.0, 24.0 + d),
            Status::Resolved => hours(&mut self.rng, 24.0, 24.0 + d),
            Status::Closed => hours(&mut self.rng, 48.0, 200.0 + d),
            Status::Reopened => hours(&mut self.rng, 72.0, 360.0 + d),
        };
        let updated_at = (reported_at + delay).min(self.end);
        let urgent = if deadline <= 3 { 0.3 } else { 0.1 };
        let u: f64 = self.rng.random();
        let priority = if u < urgent {
            1
        } else if u < urgent + 0.45 {
            2
        } else {
            3
        };
        let reporter = self
            .rng
            .random_bool(0.6)
            .then(|| names::reporter(&mut self.rng));
        let description = names::description(&mut self.rng, place, &title_zh);
        // Resolution and the return visit, derived without drawing from the generator (so
        // that the rest of the data stays as it was for a given seed): a closed case was
        // resolved a quarter of its handling time (at most a day) before it was closed; about
        // one return visit in ten was unsatisfied, and every reopened case was one.
        let visit = (updated_at - reported_at) / 4;
        let resolved_at = match status {
            Status::Resolved => Some(updated_at),
            Status::Closed | Status::Reopened => Some(updated_at - visit.min(Duration::days(1))),
            _ => None,
        };
        let satisfied = match status {
            Status::Closed => Some(reported_at.timestamp() % 10 != 0),
            Status::Reopened => Some(false),
            _ => None,
        };
        Some(EventRecord {
            category,
            title: format!("{title_zh} · {place}"),
            description,
            status,
            priority,
            reported_at,
            due_at,
            updated_at,
            lon: p[0],
            lat: p[1],
            reporter,
            generated: true,
            resolved_at,
            satisfied,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use geo_types::{LineString, Polygon};

    fn square_grid(code: &str, x: f64, households: i32) -> AreaRecord {
        let ring = LineString::from(vec![
            (x, 22.0),
            (x + 0.01, 22.0),
            (x + 0.01, 22.01),
            (x, 22.01),
            (x, 22.0),
        ]);
        AreaRecord {
            code: code.into(),
            name: "立新社区居委会第1网格".into(),
            name_en: None,
            level: Level::Grid,
            parent_code: None,
            households,
            population: households * 3,
            workers: vec![],
            generated: true,
            source: "test".into(),
            geom: MultiPolygon(vec![Polygon::new(ring, vec![])]),
        }
    }

    #[test]
    fn events_are_deterministic_and_well_formed() {
        let grids = vec![
            square_grid("441502001001001", 115.0, 300),
            square_grid("441502001001002", 115.01, 100),
            square_grid("441521001001001", 115.3, 0),
        ];
        let tax = Taxonomy::builtin();
        let end = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).single().unwrap();
        let opts = EventOptions {
            seed: 5,
            count: 20_000,
            end,
        };
        let a: Vec<EventRecord> = events(&grids, &tax, &opts).collect();
        let b: Vec<EventRecord> = events(&grids, &tax, &opts).collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 20_000);
        for s in Status::ALL {
            assert!(a.iter().any(|e| e.status == s), "{s:?} missing");
        }
        for e in &a {
            assert!(e.reported_at >= end - Duration::days(365) && e.reported_at < end);
            assert!(e.updated_at >= e.reported_at && e.updated_at <= end);
            assert!(tax.number(&e.category).is_some());
            assert!((1..=3).contains(&e.priority));
            assert!(e.title.contains(" · 立新社区居委会"));
            assert!(grids.iter().any(|g| inside(&g.geom, e.lon, e.lat)));
            assert!(
                !inside(&grids[2].geom, e.lon, e.lat),
                "no households, no events"
            );
            match e.status {
                Status::Reported | Status::Rejected => assert!(e.due_at.is_none()),
                _ => assert!(e.due_at.unwrap() > e.reported_at),
            }
        }
        let in_first = a
            .iter()
            .filter(|e| inside(&grids[0].geom, e.lon, e.lat))
            .count();
        assert!(in_first > 12_000, "{in_first}");
        let with_reporter = a.iter().filter(|e| e.reporter.is_some()).count();
        assert!((11_000..13_000).contains(&with_reporter));
        assert_eq!(events(&[], &tax, &opts).count(), 0);
    }
}
