//! Case statistics of an area (or everywhere), counted from the columns.

use std::collections::BTreeMap;

use super::columns::{ANSWERED, ESCALATION, NO_GRID, NO_TIME, NOT_RESOLVED, SATISFIED};
use super::index::EventIndex;
use crate::areas::GridSet;
use minqing_model::Status;

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
