//! The grid workers' record in memory, for assessment (考核): the workers, the grids each
//! held and when (duties, with their history), and the visits they made.
//!
//! Which worker reported and which handles each case is kept with the case, in the
//! events' columns ([`crate::EventIndex::work_tallies`]); this index holds the rest, so
//! that an assessment of a whole city reads no database. Workers and duties change
//! rarely and are replaced whole ([`WorkIndex::set_staff`]); visits only grow and are
//! added as they are committed ([`WorkIndex::add_visits`], idempotent by id).
//!
//! Grid codes are interned: a duty and a visit keep a `u32` number of their grid's code.
//! Memory at the benchmark scale (1.3M workers and duties, 1.8M visits): about 200 MB.

use crate::FastMap;

use minqing_model::register::RegisterLink;

/// Number of a grid code in the index's table of codes.
pub type CodeId = u32;

pub use minqing_model::worker::{DutyRecord, VisitRecord, WorkerRecord as Worker};

/// A duty as kept.
#[derive(Debug, Clone, Copy)]
struct Duty {
    worker: i64,
    code: CodeId,
    from: i64,
    /// `i64::MAX`: holds it now.
    to: i64,
}

/// A visit as kept.
#[derive(Debug, Clone, Copy)]
pub struct Visit {
    /// Database id.
    pub id: i64,
    /// The visiting worker's id.
    pub worker: i64,
    /// The record visited.
    pub target: RegisterLink,
    /// The grid's code it lay in then (`None`: none).
    pub code: Option<CodeId>,
    /// When, µs since the epoch.
    pub at: i64,
}

/// A register record's visits around a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetVisits {
    /// Its last visit before the period (within a year), µs.
    pub last_before: Option<i64>,
    /// Its visits in the period.
    pub done: u64,
}

/// The visits around a period ([`WorkIndex::visit_tallies`]).
#[derive(Debug, Clone, Default)]
pub struct VisitTallies {
    /// By record visited in the period or in the year before it.
    pub by_target: FastMap<RegisterLink, TargetVisits>,
    /// Visits in the period by the grid (code number) the record lay in then.
    pub by_code: FastMap<CodeId, u64>,
    /// Visits in the period by worker id.
    pub by_worker: FastMap<i64, u64>,
}

/// The grids as the workers' record names them (by code), both ways, for one area index
/// ([`WorkIndex::grid_codes`]).
#[derive(Debug, Default)]
pub struct GridCodes {
    /// Grid id → number of its code (grids no duty or visit names are absent).
    pub of_grid: FastMap<i64, CodeId>,
    /// Code number → the grid of that code now (`None`: no such grid).
    pub grid: Vec<Option<i64>>,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct WorkIndex {
    /// Whether the record has been read from the database (start-up loads it after the
    /// maps are ready; until then assessment answers "not ready").
    loaded: bool,
    /// [`GridCodes`] as last made: for the area index of this generation and this many
    /// codes (codes are only ever added, so the count tells the table apart).
    grid_codes: parking_lot::Mutex<Option<(u64, usize, std::sync::Arc<GridCodes>)>>,
    /// By id.
    workers: Vec<Worker>,
    /// Worker id → place in `workers`.
    worker_pos: FastMap<i64, u32>,
    /// Each worker's place in the order of (name, id), by place in `workers`: rankings
    /// break ties of score by name without comparing strings.
    name_rank: Vec<u32>,
    /// By worker, then start.
    duties: Vec<Duty>,
    /// The duties of the worker at place i: `duties[duty_start[i]..duty_start[i + 1]]`.
    duty_start: Vec<u32>,
    codes: Vec<Box<str>>,
    code_ids: FastMap<Box<str>, CodeId>,
    /// By id.
    visits: Vec<Visit>,
}

impl WorkIndex {
    /// An index of these workers, duties and visits.
    #[must_use]
    pub fn new(workers: Vec<Worker>, duties: Vec<DutyRecord>, visits: Vec<VisitRecord>) -> Self {
        let mut ix = WorkIndex::default();
        ix.set_staff(workers, duties);
        ix.add_visits(visits);
        ix
    }

    /// Replaces the workers and their duties (visits stay).
    pub fn set_staff(&mut self, mut workers: Vec<Worker>, duties: Vec<DutyRecord>) {
        workers.sort_unstable_by_key(|w| w.id);
        workers.dedup_by_key(|w| w.id);
        self.workers = workers;
        let mut kept: Vec<Duty> = duties
            .into_iter()
            .map(|d| Duty {
                worker: d.worker,
                code: self.intern(&d.grid_code),
                from: d.from,
                to: d.to.unwrap_or(i64::MAX),
            })
            .collect();
        kept.sort_unstable_by_key(|d| (d.worker, d.from, d.code));
        // A duty of a worker not in the list (none: the table has a foreign key) is dropped.
        kept.retain(|d| {
            self.workers
                .binary_search_by_key(&d.worker, |w| w.id)
                .is_ok()
        });
        let place = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        self.worker_pos = self
            .workers
            .iter()
            .enumerate()
            .map(|(i, w)| (w.id, place(i)))
            .collect();
        let mut by_name: Vec<u32> = (0..self.workers.len()).map(place).collect();
        by_name.sort_unstable_by(|&a, &b| {
            let (a, b) = (&self.workers[a as usize], &self.workers[b as usize]);
            a.name.cmp(&b.name).then(a.id.cmp(&b.id))
        });
        self.name_rank = vec![0; self.workers.len()];
        for (rank, &w) in by_name.iter().enumerate() {
            self.name_rank[w as usize] = place(rank);
        }
        let mut start = Vec::with_capacity(self.workers.len() + 1);
        let mut d = 0;
        for w in &self.workers {
            start.push(place(d));
            while d < kept.len() && kept[d].worker == w.id {
                d += 1;
            }
        }
        start.push(place(d));
        self.duty_start = start;
        self.duties = kept;
    }

    /// Whether the record has been read from the database.
    #[must_use]
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    /// Marks the record read from the database.
    pub fn mark_loaded(&mut self) {
        self.loaded = true;
    }

    /// Adds committed visits; a visit held already (by id) is left as it is.
    pub fn add_visits(&mut self, visits: impl IntoIterator<Item = VisitRecord>) {
        let mut sorted = true;
        for v in visits {
            let kept = Visit {
                id: v.id,
                worker: v.worker,
                target: v.target,
                code: v.grid_code.as_deref().map(|c| self.intern(c)),
                at: v.at,
            };
            if self.visits.last().is_some_and(|last| last.id >= v.id) {
                sorted = false;
            }
            self.visits.push(kept);
        }
        if !sorted {
            self.visits.sort_by_key(|v| v.id);
            self.visits.dedup_by_key(|v| v.id);
        }
    }

    fn intern(&mut self, code: &str) -> CodeId {
        if let Some(id) = self.code_ids.get(code) {
            return *id;
        }
        let id = CodeId::try_from(self.codes.len()).unwrap_or(CodeId::MAX);
        self.codes.push(code.into());
        self.code_ids.insert(code.into(), id);
        id
    }

    /// The number of a grid code, when any duty or visit names it.
    #[must_use]
    pub fn code_id(&self, code: &str) -> Option<CodeId> {
        self.code_ids.get(code).copied()
    }

    /// The code of a number.
    #[must_use]
    pub fn code(&self, id: CodeId) -> Option<&str> {
        self.codes.get(id as usize).map(AsRef::as_ref)
    }

    /// How many grid codes are known: numbers are below it.
    #[must_use]
    pub fn code_count(&self) -> usize {
        self.codes.len()
    }

    /// Every worker, by id.
    #[must_use]
    pub fn workers(&self) -> &[Worker] {
        &self.workers
    }

    /// Whether worker `worker` held the grid of code `code` at `at` (µs).
    #[must_use]
    pub fn held(&self, worker: i64, code: CodeId, at: i64) -> bool {
        let Some(&p) = self.worker_pos.get(&worker) else {
            return false;
        };
        let p = p as usize;
        let (from, to) = (self.duty_start[p] as usize, self.duty_start[p + 1] as usize);
        self.duties[from..to]
            .iter()
            .any(|d| d.code == code && d.from <= at && at < d.to)
    }

    /// The duties held now by active workers: (the worker's place in
    /// [`WorkIndex::workers`], grid code number), by worker.
    pub fn current_duties(&self) -> impl Iterator<Item = (usize, CodeId)> + '_ {
        self.current_duties_of(0..self.workers.len())
    }

    /// [`WorkIndex::current_duties`] of the workers at these places.
    pub fn current_duties_of(
        &self,
        places: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (usize, CodeId)> + '_ {
        let places = places.start.min(self.workers.len())..places.end.min(self.workers.len());
        self.workers[places.clone()]
            .iter()
            .zip(places)
            .map(|(w, p)| (p, w))
            .filter(|(_, w)| w.active)
            .flat_map(move |(p, _)| {
                let (from, to) = (self.duty_start[p] as usize, self.duty_start[p + 1] as usize);
                self.duties[from..to]
                    .iter()
                    .filter(|d| d.to == i64::MAX)
                    .map(move |d| (p, d.code))
            })
    }

    /// A worker's place in the order of (name, id), by their place in
    /// [`WorkIndex::workers`].
    #[must_use]
    pub fn name_rank(&self, place: usize) -> u32 {
        self.name_rank.get(place).copied().unwrap_or(u32::MAX)
    }

    /// The grids of `areas` by code number and the code numbers of its grids: made once
    /// per area index and table of codes (one pass over the areas), then shared.
    #[must_use]
    pub fn grid_codes(&self, areas: &crate::AreaIndex) -> std::sync::Arc<GridCodes> {
        let key = (areas.generation(), self.codes.len());
        let mut held = self.grid_codes.lock();
        if let Some((generation, count, codes)) = held.as_ref()
            && (*generation, *count) == key
        {
            return codes.clone();
        }
        let mut codes = GridCodes {
            of_grid: FastMap::default(),
            grid: vec![None; self.codes.len()],
        };
        for a in areas.all() {
            if a.level == minqing_model::Level::Grid
                && let Some(c) = self.code_id(&a.code)
            {
                codes.of_grid.insert(a.id, c);
                codes.grid[c as usize] = Some(a.id);
            }
        }
        let codes = std::sync::Arc::new(codes);
        *held = Some((key.0, key.1, codes.clone()));
        codes
    }

    /// Every visit, by id.
    #[must_use]
    pub fn visits(&self) -> &[Visit] {
        &self.visits
    }

    /// The visits around a period [`from`, `to`) (µs): see [`VisitTallies`]. One pass.
    #[must_use]
    pub fn visit_tallies(&self, from: i64, to: i64) -> VisitTallies {
        /// No visit rule is longer than a year: older visits are not looked at.
        const LOOK_BACK: i64 = 367 * 86_400 * 1_000_000;
        let mut out = VisitTallies::default();
        for v in &self.visits {
            if v.at >= to || v.at < from - LOOK_BACK {
                continue;
            }
            let t = out.by_target.entry(v.target).or_default();
            if v.at < from {
                t.last_before = Some(t.last_before.map_or(v.at, |l| l.max(v.at)));
                continue;
            }
            t.done += 1;
            *out.by_worker.entry(v.worker).or_default() += 1;
            if let Some(c) = v.code {
                *out.by_code.entry(c).or_default() += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minqing_model::register::LinkKind;

    fn worker(id: i64, active: bool) -> Worker {
        Worker {
            id,
            name: format!("w{id}"),
            kind: "full_time".into(),
            active,
            generated: false,
        }
    }

    fn duty(worker: i64, code: &str, from: i64, to: Option<i64>) -> DutyRecord {
        DutyRecord {
            worker,
            grid_code: code.into(),
            from,
            to,
        }
    }

    fn visit(id: i64, at: i64) -> VisitRecord {
        VisitRecord {
            id,
            worker: 1,
            target: RegisterLink {
                kind: LinkKind::Household,
                id: 7,
            },
            grid_code: Some("G1".into()),
            at,
        }
    }

    #[test]
    fn duties_answer_who_held_a_grid_when() {
        let ix = WorkIndex::new(
            vec![worker(2, true), worker(1, true), worker(3, false)],
            vec![
                duty(1, "G1", 0, Some(100)),
                duty(1, "G2", 100, None),
                duty(2, "G1", 50, None),
                duty(3, "G3", 0, None),
            ],
            vec![],
        );
        let g1 = ix.code_id("G1").unwrap();
        let g2 = ix.code_id("G2").unwrap();
        assert!(ix.held(1, g1, 0) && ix.held(1, g1, 99));
        assert!(!ix.held(1, g1, 100) && ix.held(1, g2, 100));
        assert!(!ix.held(2, g1, 49) && ix.held(2, g1, 1_000_000));
        assert!(!ix.held(9, g1, 60));
        let now: Vec<(i64, &str)> = ix
            .current_duties()
            .map(|(w, c)| (ix.workers()[w].id, ix.code(c).unwrap()))
            .collect();
        // The inactive worker 3 holds no duty now.
        assert_eq!(now, vec![(1, "G2"), (2, "G1")]);
        // Names w1 < w2 < w3.
        assert_eq!(
            (ix.name_rank(0), ix.name_rank(1), ix.name_rank(2)),
            (0, 1, 2)
        );
    }

    #[test]
    fn visits_are_added_once_each_in_id_order() {
        let mut ix = WorkIndex::default();
        ix.add_visits([visit(1, 10), visit(3, 30)]);
        ix.add_visits([visit(2, 20), visit(3, 30), visit(4, 40)]);
        let ids: Vec<i64> = ix.visits().iter().map(|v| v.id).collect();
        assert_eq!(ids, vec![1, 2, 3, 4]);
        assert_eq!(ix.code(ix.visits()[0].code.unwrap()), Some("G1"));
        // The period [25, 45): visits 3 and 4 in it, 1 and 2 before it.
        let t = ix.visit_tallies(25, 45);
        let target = ix.visits()[0].target;
        assert_eq!(
            t.by_target[&target],
            TargetVisits {
                last_before: Some(20),
                done: 2
            }
        );
        assert_eq!(t.by_worker[&1], 2);
        assert_eq!(t.by_code[&ix.code_id("G1").unwrap()], 2);
    }
}
