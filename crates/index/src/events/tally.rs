//! Per-grid counts of the cases reported in a period, for assessment (考核): how many,
//! rejected, handled, decided and on time, overdue, return visits answered and satisfied.

use std::collections::HashMap;

use super::columns::{ANSWERED, NO_GRID, NO_TIME, NO_WORKER, NOT_RESOLVED, SATISFIED};
use super::index::EventIndex;
use minqing_model::Status;

/// A hash map with a fast hash (foldhash) for counting by number.
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The cases of one grid reported in a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseTally {
    /// Cases reported.
    pub cases: u64,
    /// … rejected (not a case for the grid).
    pub rejected: u64,
    /// … accepted (any state past `reported`, except `rejected`).
    pub handled: u64,
    /// … of those, decided by now: resolved or closed, or open past the deadline.
    pub decided: u64,
    /// … of those, resolved or closed within the deadline (to the second), or without one.
    pub on_time: u64,
    /// … open and past the deadline now.
    pub overdue: u64,
    /// … whose reporter answered the return visit.
    pub answered: u64,
    /// … and was satisfied.
    pub satisfied: u64,
}

impl CaseTally {
    /// Adds another tally into this one.
    pub fn add(&mut self, o: &CaseTally) {
        self.cases += o.cases;
        self.rejected += o.rejected;
        self.handled += o.handled;
        self.decided += o.decided;
        self.on_time += o.on_time;
        self.overdue += o.overdue;
        self.answered += o.answered;
        self.satisfied += o.satisfied;
    }
}

/// A grid's cases in a period, with how many a worker holding the grid reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GridTally {
    /// The cases.
    pub cases: CaseTally,
    /// … reported by a worker holding the grid at the time (found by the grid itself).
    pub found: u64,
    /// … of those, not rejected.
    pub found_kept: u64,
}

/// A worker's own cases in a period: those they reported, and those they handle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerCases {
    /// Reported by them.
    pub reports: u64,
    /// … not rejected.
    pub kept: u64,
    /// Handled by them: their tally (`cases` counts every case given to them; `handled`
    /// the accepted ones, and so on as for a grid).
    pub handling: CaseTally,
}

/// What [`EventIndex::work_tallies`] counts.
#[derive(Debug, Clone, Default)]
pub struct WorkTallies {
    /// By grid id, the grids `keep` accepted.
    pub grids: FastMap<i64, GridTally>,
    /// By worker id, every worker who reported or handles a case of the period (in any
    /// grid or none).
    pub workers: FastMap<i64, WorkerCases>,
}

impl EventIndex {
    /// The tallies of the cases reported in [`from`, `to`) (µs since the epoch) by grid
    /// (the grids `keep` accepts) and by worker, with "overdue" and "decided" as of `now`.
    /// `found(worker, grid, at)` says whether a worker held a grid at a time. One pass
    /// over the columns.
    #[must_use]
    pub fn work_tallies(
        &self,
        (from, to, now): (i64, i64, i64),
        keep: impl Fn(i64) -> bool,
        found: impl Fn(i64, i64, i64) -> bool,
    ) -> WorkTallies {
        let c = &self.cols;
        let mut out = WorkTallies::default();
        for s in 0..c.id.len() {
            let t = c.reported_at[s];
            if t < from || t >= to {
                continue;
            }
            let grid = c.grid[s];
            let rejected = c.status[s] == Status::Rejected as u8;
            let reporter = c.reporter[s];
            let found_here =
                reporter != NO_WORKER && grid != NO_GRID && found(i64::from(reporter), grid, t);
            if grid != NO_GRID && keep(grid) {
                let g = out.grids.entry(grid).or_default();
                self.count(&mut g.cases, s, now);
                if found_here {
                    g.found += 1;
                    g.found_kept += u64::from(!rejected);
                }
            }
            if reporter != NO_WORKER {
                let w = out.workers.entry(i64::from(reporter)).or_default();
                w.reports += 1;
                w.kept += u64::from(!rejected);
            }
            if c.worker[s] != NO_WORKER {
                let w = out.workers.entry(i64::from(c.worker[s])).or_default();
                self.count(&mut w.handling, s, now);
            }
        }
        out
    }

    /// Counts the case in slot `s` into `tally`, as of `now`.
    fn count(&self, tally: &mut CaseTally, s: usize, now: i64) {
        let c = &self.cols;
        let t = c.reported_at[s];
        tally.cases += 1;
        let status = Status::ALL[c.status[s] as usize];
        let due = c.due_at[s];
        let past_due = due != NO_TIME && due < now;
        match status {
            Status::Reported => {}
            Status::Rejected => tally.rejected += 1,
            Status::Resolved | Status::Closed => {
                tally.handled += 1;
                tally.decided += 1;
                let resolved = c.resolve_s[s] != NOT_RESOLVED
                    && (due == NO_TIME || t + i64::from(c.resolve_s[s]) * 1_000_000 <= due);
                if resolved {
                    tally.on_time += 1;
                }
            }
            _ => {
                tally.handled += 1;
                if past_due {
                    tally.decided += 1;
                }
            }
        }
        if status.is_open() && past_due {
            tally.overdue += 1;
        }
        if c.flags[s] & ANSWERED != 0 {
            tally.answered += 1;
            if c.flags[s] & SATISFIED != 0 {
                tally.satisfied += 1;
            }
        }
    }

    /// What a review report shows of the cases reported in [`from`, `to`) in the grids
    /// `keep` accepts: how many, per local day (days start at `from`, each `day` µs long)
    /// reported and resolved, per category (index of the index's categories), and their
    /// positions with their state as of `now` (0 finished, 1 open, 2 open past the
    /// deadline): every case when at most `max`, otherwise an even sample of `max`.
    #[must_use]
    pub fn period_summary(
        &self,
        (from, to, now): (i64, i64, i64),
        day: i64,
        keep: impl Fn(i64) -> bool,
        max: usize,
    ) -> PeriodSummary {
        let c = &self.cols;
        let days = usize::try_from((to - from).div_euclid(day.max(1)).max(0)).unwrap_or(0);
        let mut out = PeriodSummary {
            reported_per_day: vec![0; days],
            resolved_per_day: vec![0; days],
            by_category: vec![0; self.categories.len()],
            ..PeriodSummary::default()
        };
        let bucket = |t: i64| usize::try_from((t - from).div_euclid(day.max(1))).ok();
        let mut slots = Vec::new();
        for s in 0..c.id.len() {
            let t = c.reported_at[s];
            if t < from || t >= to || c.grid[s] == NO_GRID || !keep(c.grid[s]) {
                continue;
            }
            slots.push(s);
            if let Some(d) = bucket(t).and_then(|d| out.reported_per_day.get_mut(d)) {
                *d += 1;
            }
            if c.resolve_s[s] != NOT_RESOLVED
                && !Status::ALL[c.status[s] as usize].is_open()
                && let Some(d) = bucket(t + i64::from(c.resolve_s[s]) * 1_000_000)
                    .and_then(|d| out.resolved_per_day.get_mut(d))
            {
                *d += 1;
            }
            if let Some(n) = out.by_category.get_mut(c.category[s] as usize) {
                *n += 1;
            }
        }
        out.cases = slots.len();
        let step = slots.len().div_ceil(max.max(1)).max(1);
        out.points = slots
            .iter()
            .step_by(step)
            .take(max)
            .map(|&s| {
                let status = Status::ALL[c.status[s] as usize];
                let state = if !status.is_open() {
                    0
                } else if c.due_at[s] != NO_TIME && c.due_at[s] < now {
                    2
                } else {
                    1
                };
                (c.lon[s], c.lat[s], state)
            })
            .collect();
        out
    }

    /// The ids of the first `max` cases reported in [`from`, `to`) in the grids `keep`
    /// accepts that are open past their deadline at `now`, oldest report first.
    #[must_use]
    pub fn overdue_ids(
        &self,
        (from, to, now): (i64, i64, i64),
        keep: impl Fn(i64) -> bool,
        max: usize,
    ) -> Vec<i64> {
        let c = &self.cols;
        let mut found: Vec<(i64, i64)> = (0..c.id.len())
            .filter(|&s| {
                let t = c.reported_at[s];
                t >= from
                    && t < to
                    && c.grid[s] != NO_GRID
                    && c.due_at[s] != NO_TIME
                    && c.due_at[s] < now
                    && Status::ALL[c.status[s] as usize].is_open()
                    && keep(c.grid[s])
            })
            .map(|s| (c.reported_at[s], c.id[s]))
            .collect();
        if found.len() > max {
            found.select_nth_unstable(max);
            found.truncate(max);
        }
        found.sort_unstable();
        found.into_iter().map(|(_, id)| id).collect()
    }

    /// The full category codes, in the order of [`PeriodSummary::by_category`].
    #[must_use]
    pub fn category_codes(&self) -> &[String] {
        &self.categories
    }
}

/// See [`EventIndex::period_summary`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeriodSummary {
    /// Cases reported in the period.
    pub cases: usize,
    /// Reported per day.
    pub reported_per_day: Vec<u64>,
    /// Of those, resolved (and still finished) per day of their resolution, within the period.
    pub resolved_per_day: Vec<u64>,
    /// Reported per category.
    pub by_category: Vec<u64>,
    /// Positions and states (a sample when many).
    pub points: Vec<(f64, f64, u8)>,
}
