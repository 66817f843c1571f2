//! Assessment (考核): how well each grid, area and worker served in a day, week or month,
//! derived from the record — cases with who reported and who handles them, the workers'
//! duties over time, visits against the visit rules, all held in memory (`count.rs`) —
//! never typed by anyone.
//!
//! The figures of a row, for the cases reported in the period:
//!
//! | figure | meaning |
//! |---|---|
//! | `cases` | cases reported in its grids |
//! | `found` | … reported by a worker holding the grid at the time |
//! | `missed` | … the rest (漏报: someone else found them first) |
//! | `reports`, `kept` | cases its workers reported, and of those not rejected |
//! | `rejected` | cases rejected |
//! | `handled` | cases accepted (any state past `reported` but `rejected`) |
//! | `decided` | … resolved or closed, or open past the deadline now |
//! | `on_time` | … resolved or closed within the deadline, to the second |
//! | `overdue` | cases open past the deadline now |
//! | `answered`, `satisfied` | return visits answered, and satisfied |
//! | `visits_due`, `visits_done` | visits the rules asked for in the period, and made |
//! | `visits` | visits made in its grids (where the record lay then; a worker: by them) |
//!
//! A worker's `reports`, `kept`, `handled` … `satisfied` and `visits` are their own; the
//! rest are those of the grids they hold now.
//!
//! The shares: kept = `kept / reports`, found = `found / cases`, on time =
//! `on_time / decided`, visits = `visits_done / visits_due`, satisfaction =
//! `satisfied / answered`. The score is
//! 100 × the weighted mean of the shares that have a denominator, with the weights of
//! `assessment_weights` (default kept 15, found 20, on time 25, visits 25, satisfaction
//! 15). Rankings order by score; the red list (红榜) is the top of a ranking and the black
//! list (黑榜) its bottom, at most `list` each and never more than half of the ranked rows.

use std::collections::{BTreeMap, HashMap};

mod count;
pub(crate) use count::scope_set;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::Serialize;

use crate::Core;
use crate::visits::Rules;
use minqing_index::{CaseTally, FastMap};
use minqing_model::{Area, Level};
use minqing_store::StoreError;

/// China Standard Time: periods are China's days, weeks (Monday first) and months.
const CST: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(o) => o,
    None => panic!("UTC+8 is a valid offset"),
};

/// The length of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// 日.
    Day,
    /// 周 (Monday to Sunday).
    Week,
    /// 月.
    Month,
}

impl PeriodKind {
    /// Every kind.
    pub const ALL: [PeriodKind; 3] = [PeriodKind::Day, PeriodKind::Week, PeriodKind::Month];

    /// From its code.
    #[must_use]
    pub fn parse(s: &str) -> Option<PeriodKind> {
        PeriodKind::ALL.into_iter().find(|k| k.code() == s)
    }

    /// Its code.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            PeriodKind::Day => "day",
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
        }
    }
}

/// One day, week or month, China time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// Day, week or month.
    pub kind: PeriodKind,
    /// Its first day.
    pub starts: NaiveDate,
    /// The day after its last.
    pub ends: NaiveDate,
    /// Its first instant.
    pub from: DateTime<Utc>,
    /// The instant after it.
    pub to: DateTime<Utc>,
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    CST.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
        .single()
        .map_or_else(
            || d.and_time(chrono::NaiveTime::MIN).and_utc(),
            |t| t.with_timezone(&Utc),
        )
}

/// Today in China.
#[must_use]
pub fn china_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&CST).date_naive()
}

impl Period {
    /// The period of `kind` holding `day`.
    #[must_use]
    pub fn containing(kind: PeriodKind, day: NaiveDate) -> Period {
        let (starts, ends) = match kind {
            PeriodKind::Day => (day, day + Duration::days(1)),
            PeriodKind::Week => {
                let s = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
                (s, s + Duration::days(7))
            }
            PeriodKind::Month => {
                let s = day.with_day(1).unwrap_or(day);
                let e = s
                    .checked_add_months(chrono::Months::new(1))
                    .unwrap_or(s + Duration::days(31));
                (s, e)
            }
        };
        Period {
            kind,
            starts,
            ends,
            from: midnight(starts),
            to: midnight(ends),
        }
    }

    /// The period before this one.
    #[must_use]
    pub fn previous(&self) -> Period {
        Period::containing(self.kind, self.starts - Duration::days(1))
    }

    /// Whether the period has ended at `now`.
    #[must_use]
    pub fn is_over(&self, now: DateTime<Utc>) -> bool {
        now >= self.to
    }

    /// Its name in Chinese (2026年11月, 2026-11-23 至 2026-11-29, 2026-12-03).
    #[must_use]
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Day => self.starts.format("%Y-%m-%d").to_string(),
            PeriodKind::Week => format!(
                "{} 至 {}",
                self.starts.format("%Y-%m-%d"),
                (self.ends - Duration::days(1)).format("%Y-%m-%d")
            ),
            PeriodKind::Month => format!("{}年{}月", self.starts.year(), self.starts.month()),
        }
    }
}

/// The names of the figures, in the order of [`Figures`] (CSV columns, documents).
pub const FIGURE_NAMES: [&str; 15] = [
    "cases",
    "found",
    "missed",
    "reports",
    "kept",
    "rejected",
    "handled",
    "decided",
    "on_time",
    "overdue",
    "answered",
    "satisfied",
    "visits_due",
    "visits_done",
    "visits",
];

/// The figures of a row (see the module's table).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub struct Figures {
    pub cases: i64,
    pub found: i64,
    pub missed: i64,
    pub reports: i64,
    pub kept: i64,
    pub rejected: i64,
    pub handled: i64,
    pub decided: i64,
    pub on_time: i64,
    pub overdue: i64,
    pub answered: i64,
    pub satisfied: i64,
    pub visits_due: i64,
    pub visits_done: i64,
    pub visits: i64,
}

impl Figures {
    fn add(&mut self, o: &Figures) {
        self.cases += o.cases;
        self.found += o.found;
        self.missed += o.missed;
        self.reports += o.reports;
        self.kept += o.kept;
        self.rejected += o.rejected;
        self.handled += o.handled;
        self.decided += o.decided;
        self.on_time += o.on_time;
        self.overdue += o.overdue;
        self.answered += o.answered;
        self.satisfied += o.satisfied;
        self.visits_due += o.visits_due;
        self.visits_done += o.visits_done;
        self.visits += o.visits;
    }

    fn from_tally(t: &CaseTally) -> Figures {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Figures {
            cases: n(t.cases),
            missed: n(t.cases),
            rejected: n(t.rejected),
            handled: n(t.handled),
            decided: n(t.decided),
            on_time: n(t.on_time),
            overdue: n(t.overdue),
            answered: n(t.answered),
            satisfied: n(t.satisfied),
            ..Figures::default()
        }
    }

    /// The shares the score weighs (`None`: nothing to judge).
    #[must_use]
    pub fn shares(&self) -> Shares {
        #[allow(clippy::cast_precision_loss)]
        let share =
            |a: i64, b: i64| (b > 0).then(|| (a as f64 / b as f64 * 1000.0).round() / 1000.0);
        Shares {
            kept: share(self.kept, self.reports),
            found: share(self.found, self.cases),
            on_time: share(self.on_time, self.decided),
            visits: share(self.visits_done, self.visits_due),
            satisfaction: share(self.satisfied, self.answered),
        }
    }
}

/// The shares of a row, 0–1, rounded to 0.001.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[allow(missing_docs)]
pub struct Shares {
    pub kept: Option<f64>,
    pub found: Option<f64>,
    pub on_time: Option<f64>,
    pub visits: Option<f64>,
    pub satisfaction: Option<f64>,
}

/// The weights of the score, by measure (`assessment_weights`).
#[derive(Debug, Clone, Serialize)]
pub struct Weights(pub BTreeMap<String, f64>);

impl Weights {
    /// The score of some shares: 100 × their weighted mean, to 0.1 (`None`: no share to
    /// weigh, or all weights of those present zero).
    #[must_use]
    pub fn score(&self, s: &Shares) -> Option<f64> {
        let w = |k: &str| self.0.get(k).copied().unwrap_or(0.0);
        let parts = [
            (s.kept, w("kept")),
            (s.found, w("found")),
            (s.on_time, w("on_time")),
            (s.visits, w("visits")),
            (s.satisfaction, w("satisfaction")),
        ];
        let (sum, weight) = parts
            .iter()
            .filter_map(|(v, w)| v.map(|v| (v * w, *w)))
            .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
        (weight > 0.0).then(|| (sum / weight * 1000.0).round() / 10.0)
    }
}

/// One row of an assessment: an area, a grid or a worker.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Area or worker id.
    pub id: i64,
    /// Area code, or the worker's kind (`full_time`, `part_time`, `volunteer`).
    pub code: String,
    /// Name.
    pub name: String,
    /// The area's level, or `worker`.
    pub level: &'static str,
    /// Generated demo data.
    pub generated: bool,
    /// The grids of a worker (codes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grids: Vec<String>,
    /// The figures.
    pub figures: Figures,
    /// The shares.
    pub shares: Shares,
    /// The composite score, 0–100.
    pub score: Option<f64>,
    /// Place in its ranking (1 = best), when scored.
    pub rank: Option<usize>,
}

/// The red and black lists of a ranking.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Lists {
    /// 红榜: the best, best first.
    pub red: Vec<Row>,
    /// 黑榜: the worst, worst first.
    pub black: Vec<Row>,
}

/// An area's assessment for a period.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    /// The area and its totals.
    pub area: Row,
    /// The period.
    pub period: Period,
    /// Its name.
    pub period_label: String,
    /// The weights used.
    pub weights: Weights,
    /// The areas one level down, ranked.
    pub children: Vec<Row>,
    /// Their red and black lists.
    pub children_lists: Lists,
    /// The workers holding its grids now, ranked (the first `limit`).
    pub workers: Vec<Row>,
    /// How many workers were ranked.
    pub workers_total: usize,
    /// Their red and black lists.
    pub workers_lists: Lists,
    /// When it was computed.
    pub computed_at: DateTime<Utc>,
    /// Whether the record it derives from is generated demo data (in part).
    pub generated: bool,
}

/// What to compute.
#[derive(Debug, Clone, Copy)]
pub struct Ask {
    /// The area (`None`: the whole city, every root area a child).
    pub area: Option<i64>,
    /// The period.
    pub period: Period,
    /// Workers listed at most.
    pub workers_limit: usize,
    /// Red and black lists' length at most.
    pub list: usize,
}

/// The sorted ids of the grids under an area (`None`: every grid).
#[must_use]
pub fn grids_of(areas: &minqing_index::AreaIndex, area: Option<i64>) -> Vec<i64> {
    match area {
        Some(id) => areas.grids_under(id),
        None => areas
            .all()
            .iter()
            .filter(|a| a.level == Level::Grid)
            .map(|a| a.id)
            .collect(),
    }
}

/// The row of the whole city when no area is named (its children: the root areas).
fn whole_city() -> Area {
    Area {
        id: 0,
        code: String::new(),
        name: "全市".into(),
        name_en: Some("Whole city".into()),
        level: Level::City,
        parent_id: None,
        households: 0,
        population: 0,
        workers: Vec::new(),
        generated: false,
        source: String::new(),
        version: 1,
        geom: geo_types::MultiPolygon(Vec::new()),
    }
}

fn area_row(a: &Area, figures: Figures, weights: &Weights) -> Row {
    let shares = figures.shares();
    Row {
        id: a.id,
        code: a.code.clone(),
        name: a.name.clone(),
        level: a.level.as_str(),
        generated: a.generated,
        grids: Vec::new(),
        figures,
        shares,
        score: weights.score(&shares),
        rank: None,
    }
}

/// Ranks rows by score (best first; unscored last, by name) and draws the lists.
fn rank(rows: &mut [Row], list: usize) -> Lists {
    rows.sort_by(|a, b| {
        b.score
            .unwrap_or(-1.0)
            .total_cmp(&a.score.unwrap_or(-1.0))
            .then_with(|| a.name.cmp(&b.name))
            .then(a.id.cmp(&b.id))
    });
    let scored = rows.iter().take_while(|r| r.score.is_some()).count();
    for (i, r) in rows.iter_mut().take(scored).enumerate() {
        r.rank = Some(i + 1);
    }
    let k = list.min(scored / 2);
    Lists {
        red: rows[..k].to_vec(),
        black: rows[scored - k..scored].iter().rev().cloned().collect(),
    }
}

/// The grids' figures summed into the area's total and into each of its children (the
/// ancestor of a grid one level below the area, or the grid itself), and whether any
/// counted grid is generated. One pass over the areas in slot order; the child of each
/// parent is found once.
fn roll_up(
    areas: &minqing_index::AreaIndex,
    by_grid: &FastMap<i64, Figures>,
    is_child: impl Fn(usize, &Area) -> bool,
) -> (Figures, HashMap<i64, Figures>, bool) {
    const UNKNOWN: usize = usize::MAX;
    const NONE: usize = usize::MAX - 1;
    let all = areas.all();
    let mut total = Figures::default();
    let mut generated = false;
    let mut children: HashMap<i64, Figures> = HashMap::new();
    let mut child_of_parent: Vec<usize> = vec![UNKNOWN; all.len()];
    let child_above = |slot: usize| -> usize {
        let mut s = slot;
        // Five levels; the bound guards against a cycle in bad data.
        for _ in 0..8 {
            if is_child(s, &all[s]) {
                return s;
            }
            match areas.parent_slot(s) {
                Some(p) => s = p,
                None => return NONE,
            }
        }
        NONE
    };
    for (slot, grid) in all.iter().enumerate() {
        if grid.level != Level::Grid {
            continue;
        }
        let Some(f) = by_grid.get(&grid.id) else {
            continue;
        };
        total.add(f);
        generated |= grid.generated;
        let child = if is_child(slot, grid) {
            slot
        } else {
            match areas.parent_slot(slot) {
                Some(p) => {
                    if child_of_parent[p] == UNKNOWN {
                        child_of_parent[p] = child_above(p);
                    }
                    child_of_parent[p]
                }
                None => NONE,
            }
        };
        if child != NONE {
            children.entry(all[child].id).or_default().add(f);
        }
    }
    (total, children, generated)
}

/// Why an assessment could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    /// The database's.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The workers' record is still being read at start-up (answered as 503).
    #[error("the workers' record is still loading; try again in a few seconds")]
    Loading,
    /// The count failed (a bug: logged, answered as a server error).
    #[error("the assessment's count failed: {0}")]
    Failed(String),
}

/// Computes an area's assessment for a period (`None`: no such area).
///
/// # Errors
/// [`AssessError`].
pub async fn assess(core: &Core, ask: Ask) -> Result<Option<Assessment>, AssessError> {
    let areas = core.index.areas();
    let area = match ask.area {
        Some(id) => match areas.get(id) {
            Some(a) => a.clone(),
            None => return Ok(None),
        },
        None => whole_city(),
    };
    if !core.index.work(minqing_index::work::WorkIndex::is_loaded) {
        return Err(AssessError::Loading);
    }
    let started = std::time::Instant::now();
    let (weights, rules) =
        tokio::try_join!(core.store.assessment_weights(), Rules::load(&core.store))?;
    let weights = Weights(
        weights
            .into_iter()
            .map(|(k, v)| (k, f64::from(v)))
            .collect(),
    );
    let read = started.elapsed();
    let index = core.index.clone();
    let now = index.now();
    let (counted, weights) = tokio::task::spawn_blocking(move || {
        let counted = count::count(&index, &ask, &rules, &weights, now);
        (counted, weights)
    })
    .await
    .map_err(|e| AssessError::Failed(e.to_string()))?;
    let counted_at = started.elapsed();
    // The rows one level down: children of the area, or the roots.
    let is_child = |slot: usize, a: &Area| match ask.area {
        Some(id) => a.parent_id == Some(id),
        None => areas.parent_slot(slot).is_none(),
    };
    let (total, children, generated_grids) = roll_up(&areas, &counted.by_grid, is_child);
    // The record derives from generated data when its grids are generated (the demo).
    let generated = area.generated || counted.generated_workers || generated_grids;
    let mut child_rows: Vec<Row> = areas
        .all()
        .iter()
        .enumerate()
        .filter(|(slot, a)| is_child(*slot, a))
        .map(|(_, a)| {
            area_row(
                a,
                children.get(&a.id).copied().unwrap_or_default(),
                &weights,
            )
        })
        .collect();
    let children_lists = rank(&mut child_rows, ask.list);
    tracing::debug!(
        read_ms = read.as_millis(),
        count_ms = counted_at.saturating_sub(read).as_millis(),
        total_ms = started.elapsed().as_millis(),
        workers = counted.workers_total,
        "assessment computed"
    );
    Ok(Some(Assessment {
        generated,
        area: area_row(&area, total, &weights),
        period: ask.period,
        period_label: ask.period.label(),
        weights,
        children: child_rows,
        children_lists,
        workers: counted.workers,
        workers_total: counted.workers_total,
        workers_lists: counted.workers_lists,
        computed_at: Utc::now(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods_are_china_days_weeks_from_monday_and_months() {
        let w = Period::containing(PeriodKind::Week, day("2026-12-03"));
        assert_eq!((w.starts, w.ends), (day("2026-11-30"), day("2026-12-07")));
        assert_eq!(w.from.to_rfc3339(), "2026-11-29T16:00:00+00:00");
        let m = Period::containing(PeriodKind::Month, day("2026-12-31"));
        assert_eq!((m.starts, m.ends), (day("2026-12-01"), day("2027-01-01")));
        assert_eq!(m.previous().starts, day("2026-11-01"));
        assert_eq!(m.label(), "2026年12月");
        let d = Period::containing(PeriodKind::Day, day("2026-03-01"));
        assert_eq!(d.previous().starts, day("2026-02-28"));
    }

    #[test]
    fn the_score_weighs_only_the_shares_that_can_be_judged() {
        let w = Weights(
            [
                ("kept", 15.0),
                ("found", 20.0),
                ("on_time", 25.0),
                ("visits", 25.0),
                ("satisfaction", 15.0),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        );
        let s = Shares {
            found: Some(0.5),
            on_time: Some(1.0),
            ..Shares::default()
        };
        // (0.5 × 20 + 1 × 25) / 45
        assert_eq!(w.score(&s), Some(77.8));
        assert_eq!(w.score(&Shares::default()), None);
    }

    #[test]
    fn lists_take_at_most_half_of_the_ranked_rows() {
        let row = |id: i64, score: Option<f64>| Row {
            id,
            code: String::new(),
            name: format!("r{id}"),
            level: "grid",
            generated: true,
            grids: Vec::new(),
            figures: Figures::default(),
            shares: Shares::default(),
            score,
            rank: None,
        };
        let mut rows = vec![
            row(1, Some(50.0)),
            row(2, None),
            row(3, Some(90.0)),
            row(4, Some(10.0)),
        ];
        let l = rank(&mut rows, 3);
        assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), [3, 1, 4, 2]);
        assert_eq!(rows[3].rank, None);
        assert_eq!(l.red.iter().map(|r| r.id).collect::<Vec<_>>(), [3]);
        assert_eq!(l.black.iter().map(|r| r.id).collect::<Vec<_>>(), [4]);
    }
}
