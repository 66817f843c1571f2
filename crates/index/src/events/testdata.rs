//! Events for the tests of the event index: random ones, and the nearest by brute force.

use chrono::DateTime;
use rand::{Rng, SeedableRng};

use crate::geodesic;
use minqing_model::{Event, Status};

pub(super) fn ev(id: i64, lon: f64, lat: f64, status: Status, cat: &str) -> Event {
    Event {
        id,
        category: cat.into(),
        title: format!("事件{id}"),
        description: None,
        status,
        priority: 2,
        grid_id: None,
        reported_at: DateTime::from_timestamp(1_700_000_000 + id, 0).unwrap(),
        due_at: None,
        updated_at: DateTime::from_timestamp(1_700_000_000 + id, 0).unwrap(),
        worker_id: None,
        reporter_worker: None,
        lon,
        lat,
        generated: true,
        escalation: 0,
        resolved_at: None,
        satisfied: None,
    }
}

/// Ids of the `k` events nearest to (lon, lat) among those `keep` accepts, by Karney
/// distance, ties by id.
pub(super) fn brute(
    events: &[Event],
    lon: f64,
    lat: f64,
    k: usize,
    keep: impl Fn(&Event) -> bool,
) -> Vec<i64> {
    let mut all: Vec<(f64, i64)> = events
        .iter()
        .filter(|e| keep(e))
        .map(|e| (geodesic::distance_m(lon, lat, e.lon, e.lat), e.id))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    all.iter().take(k).map(|w| w.1).collect()
}

pub(super) fn random(n: i64, seed: u64) -> Vec<Event> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (1..=n)
        .map(|id| {
            let s = Status::ALL[rng.random_range(0..Status::ALL.len())];
            let cat = if rng.random_bool(0.5) {
                "hazard.fire"
            } else {
                "service.water"
            };
            ev(
                id,
                rng.random_range(115.0..116.0),
                rng.random_range(22.5..23.5),
                s,
                cat,
            )
        })
        .collect()
}
