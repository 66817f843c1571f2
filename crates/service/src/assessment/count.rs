//! The counting of an assessment, all from memory: one pass over the events' columns (the
//! period's cases by grid and by worker, with who found them), one over the visits, the
//! visit subjects of the registers, and the workers holding the grids now. No database
//! on this path; rows are built only for what the answer shows — a city's million
//! workers are scored and ranked as numbers, and the few listed become rows.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use super::{Ask, Figures, Lists, Row, Weights, grids_of};
use crate::visits::{Rules, subjects};
use minqing_index::work::{CodeId, VisitTallies, WorkIndex};
use minqing_index::{AreaIndex, FastMap, GridSet, Index, WorkerCases};

/// What [`count`] finds.
pub(super) struct Counted {
    /// Every grid's figures, by grid id.
    pub by_grid: FastMap<i64, Figures>,
    /// The workers listed: the first `workers_limit` of the ranking.
    pub workers: Vec<Row>,
    /// How many workers were ranked.
    pub workers_total: usize,
    /// The workers' red and black lists.
    pub workers_lists: Lists,
    /// Whether any ranked worker is generated.
    pub generated_workers: bool,
}

/// A time of the index (µs) as a time.
pub(crate) fn time(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// Counts an assessment (see the module documentation).
pub(super) fn count(
    index: &Index,
    ask: &Ask,
    rules: &Rules,
    weights: &Weights,
    now: DateTime<Utc>,
) -> Counted {
    let areas = index.areas();
    let grids = grids_of(&areas, ask.area);
    let everywhere = ask.area.is_none();
    let keep = |g: i64| everywhere || grids.binary_search(&g).is_ok();
    let (from, to) = (ask.period.from, ask.period.to);
    let span = (
        from.timestamp_micros(),
        to.timestamp_micros(),
        now.timestamp_micros(),
    );
    index.work(|work| {
        // Two threads: the visits and the visit subjects of the registers on one, the cases
        // on this one.
        let (codes, tallies, (visits, due)) = std::thread::scope(|scope| {
            let visiting = scope.spawn(|| {
                let visits = work.visit_tallies(span.0, span.1);
                let regs = index.registers();
                let set = scope_set(&areas, ask.area, grids.clone());
                let mut due: FastMap<i64, (i64, i64)> = FastMap::default();
                for s in subjects(&regs, set.as_ref(), rules, |_| true) {
                    let v = visits.by_target.get(&s.target).copied().unwrap_or_default();
                    let required = s.required(v.last_before.map(time), from, to);
                    if required > 0 {
                        let d = due.entry(s.grid).or_default();
                        d.0 += required;
                        d.1 += n(v.done).min(required);
                    }
                }
                (visits, due)
            });
            let codes = work.grid_codes(&areas);
            let tallies = index.events(|ev| {
                ev.work_tallies(span, keep, |worker, grid, at| {
                    codes
                        .of_grid
                        .get(&grid)
                        .is_some_and(|c| work.held(worker, *c, at))
                })
            });
            let visited = visiting
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            (codes, tallies, visited)
        });
        let mut by_grid: FastMap<i64, Figures> = tallies
            .grids
            .iter()
            .map(|(g, t)| {
                let mut f = Figures::from_tally(&t.cases);
                f.found = n(t.found);
                f.missed = f.cases - f.found;
                f.reports = f.found;
                f.kept = n(t.found_kept);
                (*g, f)
            })
            .collect();
        for (code, v) in &visits.by_code {
            if let Some(g) = codes.grid.get(*code as usize).copied().flatten()
                && keep(g)
            {
                by_grid.entry(g).or_default().visits += n(*v);
            }
        }
        for (g, (required, made)) in due {
            let f = by_grid.entry(g).or_default();
            f.visits_due += required;
            f.visits_done += made;
        }
        let ranked = rank_workers(
            &Holders {
                work,
                grid_of_code: &codes.grid,
                keep: &keep,
                by_grid: &by_grid,
                own: &tallies.workers,
                visits: &visits,
            },
            weights,
            (ask.workers_limit, ask.list),
        );
        Counted {
            by_grid,
            workers: ranked.0,
            workers_total: ranked.1,
            workers_lists: ranked.2,
            generated_workers: ranked.3,
        }
    })
}

/// The grid set of an area's visit subjects: its grids in its box (no walk over the
/// boxes of its grids); `None` for the whole city (no set to check).
pub(crate) fn scope_set(areas: &AreaIndex, area: Option<i64>, grids: Vec<i64>) -> Option<GridSet> {
    let area = area?;
    Some(GridSet {
        area_id: 0,
        bbox: areas.bbox(area).unwrap_or(GridSet::empty().bbox),
        grids,
    })
}

fn n(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Who holds the grids now, which grids count, and what was counted.
struct Holders<'a, K: Fn(i64) -> bool> {
    work: &'a WorkIndex,
    grid_of_code: &'a [Option<i64>],
    keep: &'a K,
    by_grid: &'a FastMap<i64, Figures>,
    own: &'a FastMap<i64, WorkerCases>,
    visits: &'a VisitTallies,
}

impl<K: Fn(i64) -> bool> Holders<'_, K> {
    /// A worker's figures: those of their grids, with their own counts in.
    fn figures(&self, worker: usize, codes: &[CodeId]) -> Figures {
        let id = self.work.workers()[worker].id;
        let mut figures = Figures::default();
        for c in codes {
            if let Some(f) = self.grid_of_code[*c as usize].and_then(|g| self.by_grid.get(&g)) {
                figures.add(f);
            }
        }
        let own = self.own.get(&id).copied().unwrap_or_default();
        figures.reports = n(own.reports);
        figures.kept = n(own.kept);
        figures.handled = n(own.handling.handled);
        figures.decided = n(own.handling.decided);
        figures.on_time = n(own.handling.on_time);
        figures.answered = n(own.handling.answered);
        figures.satisfied = n(own.handling.satisfied);
        figures.visits = n(self.visits.by_worker.get(&id).copied().unwrap_or(0));
        figures
    }
}

/// A worker as ranked: the order key (score, best first, then name and id), their place in
/// the record, and their grids' codes (a range of a flat list). Figures are counted again
/// for the few shown.
#[derive(Clone, Copy)]
struct Ranked {
    key: u64,
    worker: u32,
    grids: (u32, u32),
}

/// The key ordering a ranking: the score (0–100 to 0.1, `None` last) descending, then the
/// worker's place by name and id.
fn order_key(score: Option<f64>, name_rank: u32) -> u64 {
    // 0..=1000 for a score, higher is better; unscored below every score.
    let tenths = score.map_or(0, |s| (s * 10.0).round().clamp(0.0, 1000.0) as u64 + 1);
    ((1001 - tenths) << 32) | u64::from(name_rank)
}

/// The workers at `places` holding grids that count now, scored: their entries, the codes
/// of their grids (entries point into it), how many have a score, and whether any is
/// generated.
fn score_workers<K: Fn(i64) -> bool>(
    h: &Holders<'_, K>,
    weights: &Weights,
    places: std::ops::Range<usize>,
) -> (Vec<Ranked>, Vec<CodeId>, usize, bool) {
    let workers = h.work.workers();
    let mut codes: Vec<CodeId> = Vec::new();
    let mut ranked: Vec<Ranked> = Vec::new();
    let mut generated = false;
    let mut scored = 0;
    let mut current: Option<(usize, usize)> = None;
    let mut finish = |codes: &Vec<CodeId>, at: Option<(usize, usize)>| {
        let Some((worker, start)) = at else { return };
        if start == codes.len() {
            return;
        }
        let score = weights.score(&h.figures(worker, &codes[start..]).shares());
        scored += usize::from(score.is_some());
        let place = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        ranked.push(Ranked {
            key: order_key(score, h.work.name_rank(worker)),
            worker: place(worker),
            grids: (place(start), place(codes.len())),
        });
    };
    for (w, code) in h.work.current_duties_of(places) {
        if current.is_none_or(|(p, _)| p != w) {
            finish(&codes, current);
            current = Some((w, codes.len()));
        }
        if h.grid_of_code
            .get(code as usize)
            .copied()
            .flatten()
            .is_some_and(h.keep)
        {
            codes.push(code);
            generated |= workers[w].generated;
        }
    }
    finish(&codes, current);
    (ranked, codes, scored, generated)
}

/// The workers holding grids that count now, with their grids' figures and their own
/// counts, scored (two threads, half of the workers each) and ranked: the first `limit`
/// as rows, how many were ranked, the red and black lists (at most `list` each, never more
/// than half of those scored), and whether any is generated.
fn rank_workers<K: Fn(i64) -> bool + Sync>(
    h: &Holders<'_, K>,
    weights: &Weights,
    (limit, list): (usize, usize),
) -> (Vec<Row>, usize, Lists, bool) {
    let workers = h.work.workers();
    let half = workers.len() / 2;
    let ((mut ranked, mut codes, scored_a, gen_a), (more, more_codes, scored_b, gen_b)) =
        std::thread::scope(|scope| {
            let second = scope.spawn(|| score_workers(h, weights, half..workers.len()));
            let first = score_workers(h, weights, 0..half);
            let second = second
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            (first, second)
        });
    let shift = u32::try_from(codes.len()).unwrap_or(u32::MAX);
    codes.extend(more_codes);
    ranked.extend(more.into_iter().map(|mut r| {
        r.grids = (r.grids.0 + shift, r.grids.1 + shift);
        r
    }));
    let (scored, generated) = (scored_a + scored_b, gen_a || gen_b);
    let total = ranked.len();
    let cmp = |a: &Ranked, b: &Ranked| a.key.cmp(&b.key);
    let k = list.min(scored / 2);
    let top = limit.max(k).min(total);
    order_shown(&mut ranked, cmp, top, (scored, k));
    let black_from = scored - k;
    let row = |i: usize| -> Row {
        let r = &ranked[i];
        let w = &workers[r.worker as usize];
        let mine = &codes[r.grids.0 as usize..r.grids.1 as usize];
        let figures = h.figures(r.worker as usize, mine);
        let shares = figures.shares();
        Row {
            id: w.id,
            code: w.kind.clone(),
            name: w.name.clone(),
            level: "worker",
            generated: w.generated,
            grids: mine
                .iter()
                .filter_map(|c| h.work.code(*c).map(str::to_owned))
                .collect(),
            figures,
            shares,
            score: weights.score(&shares),
            rank: (i < scored).then_some(i + 1),
        }
    };
    let lists = Lists {
        red: (0..k).map(row).collect(),
        black: (black_from..scored).rev().map(row).collect(),
    };
    (
        (0..limit.min(total)).map(row).collect(),
        total,
        lists,
        generated,
    )
}

/// Puts in order only the ranks shown: the first `top` (the listed rows and the red list)
/// and the black list's `k` just above the unscored (the first `scored` in the order are
/// the scored ones).
fn order_shown<T>(
    ranked: &mut [T],
    cmp: impl Fn(&T, &T) -> Ordering + Copy,
    top: usize,
    (scored, k): (usize, usize),
) {
    let total = ranked.len();
    if top < total {
        ranked.select_nth_unstable_by(top, cmp);
    }
    ranked[..top].sort_by(cmp);
    let black_from = scored - k;
    if k > 0 && black_from < top {
        // A short ranking: all of it in order.
        ranked.sort_by(cmp);
    } else if k > 0 {
        let rest = &mut ranked[top..];
        let at = black_from - top;
        if at > 0 {
            rest.select_nth_unstable_by(at, cmp);
        }
        let tail = &mut rest[at..];
        if k < tail.len() {
            tail.select_nth_unstable_by(k, cmp);
        }
        tail[..k].sort_by(cmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ordering only what is shown gives the same ranks there as sorting everything.
    #[test]
    fn the_ranks_shown_are_those_of_a_full_sort() {
        let cmp = |a: &(i32, u32), b: &(i32, u32)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
        for total in [0usize, 1, 2, 5, 17, 200] {
            for unscored in [0usize, 3] {
                let scored = total.saturating_sub(unscored);
                let mut all: Vec<(i32, u32)> = (0..total)
                    .map(|i| {
                        let score = if i < scored {
                            ((i * 7919) % 13) as i32
                        } else {
                            -1
                        };
                        (score, u32::try_from(i).unwrap())
                    })
                    .collect();
                let mut full = all.clone();
                full.sort_by(cmp);
                for (limit, list) in [(0usize, 0usize), (3, 2), (10, 5), (1000, 1000)] {
                    let k = list.min(scored / 2);
                    let top = limit.max(k).min(total);
                    order_shown(&mut all, cmp, top, (scored, k));
                    assert_eq!(all[..top], full[..top], "{total} {limit} {list}");
                    assert_eq!(all[scored - k..scored], full[scored - k..scored]);
                }
            }
        }
    }
}
