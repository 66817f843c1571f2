//! The columns: every event's fields, one vector a field, position = slot; how the small
//! fields are packed into them and read back.

use chrono::{DateTime, Utc};

use crate::pyramid::morton;
use minqing_model::{BBox, Event};

/// A time column's value for "none".
pub(super) const NO_TIME: i64 = i64::MIN;

/// The grid column's value for "no grid".
pub(super) const NO_GRID: i64 = i64::MIN;

/// `flags` bits 0–1: escalation step (0 grid … 3 district).
pub(super) const ESCALATION: u8 = 0b0011;
/// `flags` bit: the return visit was answered.
pub(super) const ANSWERED: u8 = 0b0100;
/// `flags` bit: … and the reporter was satisfied.
pub(super) const SATISFIED: u8 = 0b1000;
/// `flags` bit: generated data.
pub(super) const GENERATED: u8 = 0b1_0000;
/// `worker` and `reporter` of a case without one.
pub(super) const NO_WORKER: u32 = 0;

/// A worker's id as the columns keep it: 4 bytes a case rather than 8. Worker ids are
/// identities counted from 1; one past `u32::MAX` (four billion workers) would be held as
/// none, and [`worker_id`] reads it back as `None`.
pub(super) fn worker_column(id: Option<i64>) -> u32 {
    id.and_then(|v| u32::try_from(v).ok()).unwrap_or(NO_WORKER)
}

/// A worker column's value as an id.
pub(super) fn worker_id(v: u32) -> Option<i64> {
    (v != NO_WORKER).then_some(i64::from(v))
}

/// `resolve_s` of a case never resolved.
pub(super) const NOT_RESOLVED: u32 = u32::MAX;

/// Position of a point along a Morton curve over `b` (16 bits an axis): points near on
/// the curve are near on the map.
pub(super) fn curve_key(lon: f64, lat: f64, b: &BBox) -> u64 {
    let q = |v: f64, lo: f64, hi: f64| -> u32 {
        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let i = (t * 65535.0).clamp(0.0, 65535.0) as u32;
        i
    };
    morton(q(lon, b.min_lon, b.max_lon), q(lat, b.min_lat, b.max_lat))
}

/// The packed small fields of an event.
pub(super) fn flags(e: &Event) -> u8 {
    (e.escalation.min(3) & ESCALATION)
        | match e.satisfied {
            None => 0,
            Some(false) => ANSWERED,
            Some(true) => ANSWERED | SATISFIED,
        }
        | if e.generated { GENERATED } else { 0 }
}

/// Whole seconds from report to resolution, as the index keeps them.
pub(super) fn resolve_seconds(e: &Event) -> u32 {
    e.resolved_at.map_or(NOT_RESOLVED, |r| {
        u32::try_from((r - e.reported_at).num_seconds().max(0))
            .unwrap_or(NOT_RESOLVED - 1)
            .min(NOT_RESOLVED - 1)
    })
}

/// Truncates `resolved_at` to what the index keeps, so that a state read back from the
/// index compares equal to the same state read from the database.
pub(super) fn quantise(e: &mut Event) {
    let s = resolve_seconds(e);
    e.resolved_at =
        (s != NOT_RESOLVED).then(|| e.reported_at + chrono::Duration::seconds(i64::from(s)));
}

/// A time as the columns keep it: µs since the epoch.
pub(super) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A time column's value read back (`None` for [`NO_TIME`]).
pub(super) fn from_micros(us: i64) -> Option<DateTime<Utc>> {
    (us != NO_TIME)
        .then(|| DateTime::from_timestamp_micros(us))
        .flatten()
}

/// Columnar storage of every event's public fields. Position = slot.
#[derive(Default)]
pub(super) struct Columns {
    pub(super) id: Vec<i64>,
    pub(super) lon: Vec<f64>,
    pub(super) lat: Vec<f64>,
    pub(super) category: Vec<u16>,
    pub(super) status: Vec<u8>,
    pub(super) priority: Vec<u8>,
    /// Packed small fields, see [`flags`].
    pub(super) flags: Vec<u8>,
    /// Seconds from report to (last) resolution; [`NOT_RESOLVED`] when never resolved.
    pub(super) resolve_s: Vec<u32>,
    pub(super) grid: Vec<i64>,
    pub(super) reported_at: Vec<i64>,
    pub(super) due_at: Vec<i64>,
    pub(super) updated_at: Vec<i64>,
    /// The handling grid worker's id, [`NO_WORKER`] when none (see [`worker_column`]).
    pub(super) worker: Vec<u32>,
    /// The reporting grid worker's id, [`NO_WORKER`] when not a worker.
    pub(super) reporter: Vec<u32>,
    /// Titles of every slot, back to back.
    pub(super) text: String,
    /// Start of slot i's title in `text`.
    pub(super) text_start: Vec<u64>,
    /// Length of slot i's title, bytes.
    pub(super) text_len: Vec<u32>,
}

impl Columns {
    /// Puts the slots in Morton order of their position (16 bits an axis over the data's
    /// box), so that the events of one area sit together in every column: a tile or a box
    /// query then reads memory nearly in sequence. Temporary memory: 12 bytes an event,
    /// then one column at a time.
    pub(super) fn sort_spatially(&mut self) {
        let n = self.id.len();
        if n < 2 {
            return;
        }
        let fold = |(a, b): (f64, f64), v: f64| (a.min(v), b.max(v));
        let (x0, x1) = self
            .lon
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |acc, v| fold(acc, *v));
        let (y0, y1) = self
            .lat
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |acc, v| fold(acc, *v));
        let b = BBox {
            min_lon: x0,
            min_lat: y0,
            max_lon: x1,
            max_lat: y1,
        };
        let mut keyed: Vec<u64> = (0..n)
            .map(|s| (curve_key(self.lon[s], self.lat[s], &b) << 32) | s as u64)
            .collect();
        keyed.sort_unstable();
        #[allow(clippy::cast_possible_truncation)]
        let perm: Vec<u32> = keyed.iter().map(|k| *k as u32).collect();
        drop(keyed);
        permute(&mut self.id, &perm);
        permute(&mut self.lon, &perm);
        permute(&mut self.lat, &perm);
        permute(&mut self.category, &perm);
        permute(&mut self.status, &perm);
        permute(&mut self.priority, &perm);
        permute(&mut self.flags, &perm);
        permute(&mut self.resolve_s, &perm);
        permute(&mut self.grid, &perm);
        permute(&mut self.reported_at, &perm);
        permute(&mut self.due_at, &perm);
        permute(&mut self.updated_at, &perm);
        permute(&mut self.worker, &perm);
        permute(&mut self.reporter, &perm);
        permute(&mut self.text_start, &perm);
        permute(&mut self.text_len, &perm);
    }
}

/// Reorders `v` so that its slot `i` holds what slot `perm[i]` held.
fn permute<T: Copy>(v: &mut Vec<T>, perm: &[u32]) {
    let out: Vec<T> = perm.iter().map(|s| v[*s as usize]).collect();
    *v = out;
}
