//! What must be visited, and how often (走访): the households with a care tag and the risk
//! sites that the visit rules cover, and how many visits each needed in a period. The
//! due list and assessment both start here.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use minqing_index::GridSet;
use minqing_index::registers::RegisterIndex;
use minqing_model::register::{CareTag, LinkKind, PlaceType, RegisterLink, Tags};
use minqing_store::{Store, StoreError};

/// The visit rules, parsed: how often each care tag and each place type is visited.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Care tags: (tag, every so many days, since when).
    pub tags: Vec<(CareTag, i32, DateTime<Utc>)>,
    /// Place types: (type, every so many days, since when).
    pub places: Vec<(PlaceType, i32, DateTime<Utc>)>,
}

impl Rules {
    /// The rules as stored.
    ///
    /// # Errors
    /// The database's.
    pub async fn load(store: &Store) -> Result<Rules, StoreError> {
        let rules = store.visit_rules().await?;
        Ok(Rules {
            tags: rules
                .iter()
                .filter(|r| r.subject == "tag")
                .filter_map(|r| Some((CareTag::parse(&r.code)?, r.every_days, r.since)))
                .collect(),
            places: rules
                .iter()
                .filter(|r| r.subject == "place")
                .filter_map(|r| Some((PlaceType::parse(&r.code)?, r.every_days, r.since)))
                .collect(),
        })
    }
}

/// A record that must be visited.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The record.
    pub target: RegisterLink,
    /// Address and door, or the place's name.
    pub label: String,
    /// The tags or place type that make it a subject (of those the caller may see).
    pub reasons: Vec<&'static str>,
    /// Visited every so many days (the strictest of its rules).
    pub every_days: i32,
    /// When that rule began (a subject never visited is due `every_days` after it).
    pub since: DateTime<Utc>,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// Its grid.
    pub grid: i64,
}

impl Subject {
    /// When the subject is next due, given its last visit.
    #[must_use]
    pub fn due_at(&self, last: Option<DateTime<Utc>>) -> DateTime<Utc> {
        last.unwrap_or(self.since) + Duration::days(i64::from(self.every_days))
    }

    /// How many visits the subject needed in [`from`, `to`) given its last visit before
    /// `from`: the due dates in the period (the first when it fell due, then one every
    /// `every_days`; one overdue at `from` is due at `from`).
    #[must_use]
    pub fn required(
        &self,
        last_before: Option<DateTime<Utc>>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> i64 {
        let first = self.due_at(last_before).max(from);
        if first >= to {
            return 0;
        }
        let every = i64::from(self.every_days.max(1)) * 86_400;
        let span = (to - first).num_seconds();
        // ceil(span / every), span > 0
        (span + every - 1) / every
    }
}

/// The subjects in the grids of `set` (`None`: everywhere): households by the residents with a ruled tag that
/// `visible` lets through (a household only due for hidden tags is left out), and places
/// of a ruled type.
#[must_use]
pub fn subjects(
    regs: &RegisterIndex,
    set: Option<&GridSet>,
    rules: &Rules,
    visible: impl Fn(CareTag) -> bool,
) -> Vec<Subject> {
    let tag_rules: Vec<&(CareTag, i32, DateTime<Utc>)> =
        rules.tags.iter().filter(|(t, _, _)| visible(*t)).collect();
    let ruled = tag_rules
        .iter()
        .fold(Tags::default(), |acc, (t, _, _)| acc.with(*t));
    let mut by_household: HashMap<i64, Subject> = HashMap::new();
    for (r, _) in regs.residents(set, None, |r| r.tags.0 & ruled.0 != 0, 0, usize::MAX) {
        let Some((h, b, grid)) = regs.household(r.household_id) else {
            continue;
        };
        let s = by_household.entry(h.id).or_insert_with(|| Subject {
            target: RegisterLink {
                kind: LinkKind::Household,
                id: h.id,
            },
            label: format!("{} {}", b.address, h.door),
            reasons: Vec::new(),
            every_days: i32::MAX,
            since: Utc::now(),
            lon: b.lon,
            lat: b.lat,
            grid,
        });
        for (t, every, since) in &tag_rules {
            if r.tags.has(*t) {
                if !s.reasons.contains(&t.code()) {
                    s.reasons.push(t.code());
                }
                if *every < s.every_days {
                    s.every_days = *every;
                    s.since = *since;
                }
            }
        }
    }
    let mut out: Vec<Subject> = by_household.into_values().collect();
    let world = minqing_model::BBox {
        min_lon: -180.0,
        min_lat: -90.0,
        max_lon: 180.0,
        max_lat: 90.0,
    };
    regs.for_places_in(set.map_or(&world, |s| &s.bbox), set, |pl, grid| {
        if let Some((_, every, since)) = rules.places.iter().find(|(k, _, _)| *k == pl.kind) {
            out.push(Subject {
                target: RegisterLink {
                    kind: LinkKind::Place,
                    id: pl.id,
                },
                label: pl.name.clone(),
                reasons: vec![pl.kind.code()],
                every_days: *every,
                since: *since,
                lon: pl.lon,
                lat: pl.lat,
                grid,
            });
        }
    });
    out
}

/// The visits of each register record in the period [`from`, `to`) and in the year
/// before it, from the workers' record in memory.
#[must_use]
pub fn visited(
    index: &minqing_index::Index,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> HashMap<RegisterLink, Visited> {
    index.work(|w| {
        w.visit_tallies(from.timestamp_micros(), to.timestamp_micros())
            .by_target
            .into_iter()
            .map(|(t, v)| {
                let visited = Visited {
                    last_before: v.last_before.and_then(DateTime::from_timestamp_micros),
                    done: i64::try_from(v.done).unwrap_or(i64::MAX),
                };
                (t, visited)
            })
            .collect()
    })
}

/// A register record's visits around a period ([`visited`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Visited {
    /// Its last visit before the period (within a year).
    pub last_before: Option<DateTime<Utc>>,
    /// Its visits in the period.
    pub done: i64,
}

/// The set of `grids` (sorted ids), with the box around them, for [`subjects`].
#[must_use]
pub fn grid_set(areas: &minqing_index::AreaIndex, mut grids: Vec<i64>) -> GridSet {
    grids.sort_unstable();
    let bbox = grids
        .iter()
        .filter_map(|g| areas.bbox(*g))
        .fold(GridSet::empty().bbox, |a, b| minqing_model::BBox {
            min_lon: a.min_lon.min(b.min_lon),
            min_lat: a.min_lat.min(b.min_lat),
            max_lon: a.max_lon.max(b.max_lon),
            max_lat: a.max_lat.max(b.max_lat),
        });
    GridSet {
        area_id: 0,
        bbox,
        grids,
    }
}
