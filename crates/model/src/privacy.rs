//! The one rule every aggregate follows for a caller who may not see the cases in it.
//!
//! Anonymous callers, residents (`reporter` tokens) and tokens whose scope does not cover
//! what they ask about see cases only in aggregate. **Every count they are shown counts at
//! least [`MIN_COUNT`] cases, or is 0**: smaller counts are shown as 0, every total is the
//! sum of the counts shown beside it (so that no subtraction uncovers a hidden one), a
//! median or rate is given only over at least [`MIN_COUNT`] cases, and a time window is
//! widened to whole days (China Standard Time) before counting, so that a window of one
//! second cannot single out a report. This holds whatever the filters: `stats`, the `open`
//! and `overdue` counts of the `areas` tiles, and the `heat` layer (cells of fewer than
//! [`MIN_COUNT`] reports are left out).

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone, Utc};

/// The smallest count of cases an aggregate shows to a caller who may not see them.
pub const MIN_COUNT: u64 = 3;

/// `n` as shown to a caller who may not see the cases: `n` when at least [`MIN_COUNT`],
/// else 0.
#[must_use]
pub fn suppress(n: u64) -> u64 {
    if n >= MIN_COUNT { n } else { 0 }
}

/// [`suppress`] of a `u32` count.
#[must_use]
pub fn suppress_u32(n: u32) -> u32 {
    if u64::from(n) >= MIN_COUNT { n } else { 0 }
}

/// China Standard Time, the days public windows are widened to.
const CST: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(o) => o,
    None => panic!("UTC+8 is a valid offset"),
};

/// The start of the day (CST) holding `t`.
#[must_use]
pub fn day_start(t: DateTime<Utc>) -> DateTime<Utc> {
    let local = t.with_timezone(&CST).date_naive().and_time(NaiveTime::MIN);
    CST.from_local_datetime(&local)
        .single()
        .map_or(t, |d| d.with_timezone(&Utc))
}

/// The end of the day (CST) holding `t`: the last microsecond before the next day.
#[must_use]
pub fn day_end(t: DateTime<Utc>) -> DateTime<Utc> {
    day_start(t) + Duration::days(1) - Duration::microseconds(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_shown_as_zero() {
        assert_eq!(suppress(0), 0);
        assert_eq!(suppress(1), 0);
        assert_eq!(suppress(MIN_COUNT - 1), 0);
        assert_eq!(suppress(MIN_COUNT), MIN_COUNT);
        assert_eq!(suppress_u32(2), 0);
        assert_eq!(suppress_u32(40), 40);
    }

    #[test]
    fn windows_widen_to_whole_days_in_china() {
        let t: DateTime<Utc> = "2026-11-01T17:30:00Z".parse().unwrap_or_default();
        // 01:30 on 2 November in Beijing.
        assert_eq!(day_start(t).to_rfc3339(), "2026-11-01T16:00:00+00:00");
        assert_eq!(day_end(t).to_rfc3339(), "2026-11-02T15:59:59.999999+00:00");
    }
}
