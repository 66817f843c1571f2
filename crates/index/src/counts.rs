//! Open and overdue cases per area, at every level, kept current as cases change and as
//! deadlines pass.
//!
//! An open case counts in its grid and in each ancestor of the grid. It is overdue once its
//! deadline is earlier than the clock of the last [`AreaCounts::sweep`]; cases whose
//! deadline is still ahead wait in a min-heap, and each sweep moves those that fell due.
//! Every change returns the areas whose counts changed, so that exactly their tiles can be
//! invalidated.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::collections::hash_map::Entry;

use minqing_tiles::FastHashMap;

use super::areas::AreaIndex;

/// The counts of one area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AreaCount {
    /// Cases not yet resolved, closed or rejected.
    pub open: u32,
    /// Open cases past their deadline.
    pub overdue: u32,
}

/// What counts of a case: its grid, whether it is open, and its deadline (µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseState {
    /// Event id.
    pub id: i64,
    /// Grid, if the case lies in one.
    pub grid: Option<i64>,
    /// Still to be handled.
    pub open: bool,
    /// Deadline in microseconds since the epoch.
    pub due: Option<i64>,
}

/// Counts per area id.
#[derive(Debug, Default)]
pub struct AreaCounts {
    per_area: FastHashMap<i64, AreaCount>,
    /// Open cases whose deadline was still ahead at the last sweep: id → (due, grid).
    pending: FastHashMap<i64, (i64, i64)>,
    /// The same, by deadline (entries of changed cases are dropped lazily).
    heap: BinaryHeap<Reverse<(i64, i64)>>,
    /// Clock of the last sweep (µs).
    swept: i64,
}

/// A grid and its ancestors, nearest first.
pub(crate) fn chain(areas: &AreaIndex, grid: i64) -> Vec<i64> {
    let mut out = vec![grid];
    let mut at = areas.get(grid).and_then(|a| a.parent_id);
    while let Some(id) = at {
        if out.contains(&id) || out.len() > 16 {
            break;
        }
        out.push(id);
        at = areas.get(id).and_then(|a| a.parent_id);
    }
    out
}

impl AreaCounts {
    /// Counts with the clock at `now` (µs) and no cases.
    #[must_use]
    pub fn new(now: i64) -> AreaCounts {
        AreaCounts {
            swept: now,
            ..AreaCounts::default()
        }
    }

    /// The counts of an area (zero when it has no open case).
    #[must_use]
    pub fn get(&self, area: i64) -> AreaCount {
        self.per_area.get(&area).copied().unwrap_or_default()
    }

    fn bump(
        &mut self,
        areas: &AreaIndex,
        grid: i64,
        open: i32,
        overdue: i32,
        changed: &mut Vec<i64>,
    ) {
        for id in chain(areas, grid) {
            let c = self.per_area.entry(id).or_default();
            c.open = c.open.saturating_add_signed(open);
            c.overdue = c.overdue.saturating_add_signed(overdue);
            if !changed.contains(&id) {
                changed.push(id);
            }
        }
    }

    /// Adds a case's contribution; returns nothing, records changed areas in `changed`.
    pub fn add(&mut self, areas: &AreaIndex, case: CaseState, changed: &mut Vec<i64>) {
        let (Some(grid), true) = (case.grid, case.open) else {
            return;
        };
        match case.due {
            Some(due) if due < self.swept => self.bump(areas, grid, 1, 1, changed),
            Some(due) => {
                self.bump(areas, grid, 1, 0, changed);
                self.pending.insert(case.id, (due, grid));
                self.heap.push(Reverse((due, case.id)));
            }
            None => self.bump(areas, grid, 1, 0, changed),
        }
    }

    /// Removes a case's contribution (as it was added).
    pub fn remove(&mut self, areas: &AreaIndex, case: CaseState, changed: &mut Vec<i64>) {
        let (Some(grid), true) = (case.grid, case.open) else {
            return;
        };
        let overdue = match case.due {
            Some(_) => match self.pending.entry(case.id) {
                Entry::Occupied(e) => {
                    e.remove();
                    false
                }
                // Not pending: it was counted overdue by a sweep or on arrival.
                Entry::Vacant(_) => true,
            },
            None => false,
        };
        self.bump(areas, grid, -1, -i32::from(overdue), changed);
    }

    /// Moves the clock to `now` (µs): open cases whose deadline has passed become overdue.
    /// Returns the areas whose counts changed.
    pub fn sweep(&mut self, areas: &AreaIndex, now: i64) -> Vec<i64> {
        let mut changed = Vec::new();
        self.swept = self.swept.max(now);
        while let Some(Reverse((due, id))) = self.heap.peek().copied() {
            if due >= self.swept {
                break;
            }
            self.heap.pop();
            if let Entry::Occupied(e) = self.pending.entry(id)
                && e.get().0 == due
            {
                let (_, grid) = e.remove();
                self.bump(areas, grid, 0, 1, &mut changed);
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{MultiPolygon, polygon};
    use minqing_model::{Area, Level};

    fn area(id: i64, parent: Option<i64>, level: Level) -> Area {
        Area::for_tests(
            id,
            &id.to_string(),
            &id.to_string(),
            level,
            parent,
            MultiPolygon(vec![
                polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)],
            ]),
        )
    }

    #[test]
    #[allow(clippy::too_many_lines)] // a test scenario reads best as one function from setup to assertion
    fn counts_follow_changes_and_the_clock() {
        let areas = AreaIndex::new(vec![
            area(1, None, Level::District),
            area(2, Some(1), Level::Grid),
            area(3, Some(1), Level::Grid),
        ]);
        let mut c = AreaCounts::new(100);
        let mut changed = Vec::new();
        let late = CaseState {
            id: 10,
            grid: Some(2),
            open: true,
            due: Some(50),
        };
        let ahead = CaseState {
            id: 11,
            grid: Some(3),
            open: true,
            due: Some(200),
        };
        c.add(&areas, late, &mut changed);
        c.add(&areas, ahead, &mut changed);
        assert_eq!(changed, vec![2, 1, 3]);
        assert_eq!(
            c.get(1),
            AreaCount {
                open: 2,
                overdue: 1
            }
        );
        assert_eq!(c.sweep(&areas, 150), Vec::<i64>::new());
        assert_eq!(c.sweep(&areas, 201), vec![3, 1]);
        assert_eq!(
            c.get(1),
            AreaCount {
                open: 2,
                overdue: 2
            }
        );
        // Resolving the second case, then re-opening it with a later deadline.
        let mut changed = Vec::new();
        c.remove(&areas, ahead, &mut changed);
        assert_eq!(
            c.get(1),
            AreaCount {
                open: 1,
                overdue: 1
            }
        );
        let again = CaseState {
            due: Some(400),
            ..ahead
        };
        c.add(&areas, again, &mut changed);
        c.add(
            &areas,
            CaseState {
                id: 12,
                grid: Some(3),
                open: false,
                due: None,
            },
            &mut changed,
        );
        assert_eq!(
            c.get(3),
            AreaCount {
                open: 1,
                overdue: 0
            }
        );
        // A changed deadline leaves a stale heap entry behind; it must not count.
        c.remove(&areas, again, &mut changed);
        c.add(
            &areas,
            CaseState {
                due: Some(600),
                ..again
            },
            &mut changed,
        );
        c.sweep(&areas, 500);
        assert_eq!(
            c.get(3),
            AreaCount {
                open: 1,
                overdue: 0
            }
        );
        c.sweep(&areas, 601);
        assert_eq!(
            c.get(3),
            AreaCount {
                open: 1,
                overdue: 1
            }
        );
        assert_eq!(
            c.get(1),
            AreaCount {
                open: 2,
                overdue: 2
            }
        );
    }
}
