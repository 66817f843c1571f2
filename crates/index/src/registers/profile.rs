//! Area profiles: what an area holds (households, residents by age band, tag and
//! registration, buildings by kind, places by type, organisations by kind). Kept summed for
//! every area above grid level (a city's profile is one lookup), counted from a grid's own
//! records when a grid is asked (a million grids' profiles would cost most of a gigabyte).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{Grids, RegisterIndex};
use crate::areas::AreaIndex;
use minqing_model::register::{
    AGE_BANDS, BuildingKind, BuildingRecord, CareTag, OrgKind, OrganisationRecord, PlaceRecord,
    PlaceType, Registration, ResidentRecord, age_on,
};
use minqing_model::{Area, Level};

/// What an area holds. Lists follow the order of their kinds' `ALL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Households.
    pub households: u64,
    /// Residents.
    pub residents: u64,
    /// Residents per band of [`AGE_BANDS`].
    pub age_bands: Vec<u64>,
    /// Residents per [`CareTag`].
    pub tags: Vec<u64>,
    /// Residents per [`Registration`].
    pub registration: Vec<u64>,
    /// Buildings per [`BuildingKind`].
    pub buildings: Vec<u64>,
    /// Places per [`PlaceType`].
    pub places: Vec<u64>,
    /// Organisations per [`OrgKind`].
    pub organisations: Vec<u64>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            households: 0,
            residents: 0,
            age_bands: vec![0; AGE_BANDS.len()],
            tags: vec![0; CareTag::ALL.len()],
            registration: vec![0; Registration::ALL.len()],
            buildings: vec![0; BuildingKind::ALL.len()],
            places: vec![0; PlaceType::ALL.len()],
            organisations: vec![0; OrgKind::ALL.len()],
        }
    }
}

fn add(a: &mut [u64], b: &[u64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

fn position<T: PartialEq>(all: &[T], x: &T) -> usize {
    all.iter().position(|k| k == x).unwrap_or(0)
}

/// The band of [`AGE_BANDS`] an age falls in.
fn band(age: u32) -> usize {
    AGE_BANDS
        .iter()
        .position(|(_, lo, hi)| (*lo..=*hi).contains(&age))
        .unwrap_or(0)
}

impl Profile {
    /// Adds another profile to this one.
    pub fn add(&mut self, o: &Profile) {
        self.households += o.households;
        self.residents += o.residents;
        add(&mut self.age_bands, &o.age_bands);
        add(&mut self.tags, &o.tags);
        add(&mut self.registration, &o.registration);
        add(&mut self.buildings, &o.buildings);
        add(&mut self.places, &o.places);
        add(&mut self.organisations, &o.organisations);
    }
}

impl Profile {
    fn building(&mut self, b: &BuildingRecord, households: usize) {
        self.buildings[position(BuildingKind::ALL, &b.kind)] += 1;
        self.households += households as u64;
    }

    fn place(&mut self, p: &PlaceRecord) {
        self.places[position(PlaceType::ALL, &p.kind)] += 1;
    }

    fn organisation(&mut self, o: &OrganisationRecord) {
        self.organisations[position(OrgKind::ALL, &o.kind)] += 1;
    }

    /// Counts a resident in (`sign` 1) or out (`sign` -1).
    fn resident(&mut self, r: &ResidentRecord, today: NaiveDate, sign: i8) {
        let bump = |n: &mut u64| {
            *n = if sign < 0 {
                n.saturating_sub(1)
            } else {
                *n + 1
            };
        };
        bump(&mut self.residents);
        bump(&mut self.age_bands[band(age_on(r.birth_date, today))]);
        bump(&mut self.registration[position(Registration::ALL, &r.registration)]);
        for t in r.tags.iter() {
            bump(&mut self.tags[position(CareTag::ALL, &t)]);
        }
    }
}

impl RegisterIndex {
    /// The profile of every area above grid level that holds anything, summed from the
    /// records of its grids, ages as of `today`. Each record is added to its grid's parent;
    /// each parent's sum then to its ancestors (a few thousand areas).
    pub(super) fn upper_profiles(
        &self,
        g: &Grids,
        areas: &AreaIndex,
        today: NaiveDate,
    ) -> HashMap<i64, Profile> {
        let parent: HashMap<i64, i64, foldhash::fast::RandomState> = areas
            .all()
            .iter()
            .filter(|a| a.level == Level::Grid)
            .filter_map(|a| Some((a.id, a.parent_id?)))
            .collect();
        let mut direct: HashMap<i64, Profile> = HashMap::new();
        let mut at = |grid: i64, f: &mut dyn FnMut(&mut Profile)| {
            if let Some(p) = parent.get(&grid) {
                f(direct.entry(*p).or_default());
            }
        };
        for (s, b) in self.buildings.iter().enumerate() {
            at(g.building[s], &mut |p| {
                p.building(b, self.households_of[s].len());
            });
        }
        for (s, pl) in self.places.iter().enumerate() {
            at(g.place[s], &mut |p| p.place(pl));
        }
        for (s, o) in self.organisations.iter().enumerate() {
            at(g.org[s], &mut |p| p.organisation(o));
        }
        let removed = self.removed.read();
        for (s, r) in self.residents.iter().enumerate() {
            if !removed.contains(&r.id) {
                at(self.resident_grid(g, s), &mut |p| p.resident(r, today, 1));
            }
        }
        let mut out: HashMap<i64, Profile> = HashMap::new();
        for (id, p) in direct {
            out.entry(id).or_default().add(&p);
            if let Some(a) = areas.get(id) {
                for up in areas.ancestors(a) {
                    out.entry(up.id).or_default().add(&p);
                }
            }
        }
        out
    }

    /// The profile of one grid, from its records, ages as of `today`.
    fn grid_profile(&self, g: &Grids, grid: i64, today: NaiveDate) -> Profile {
        let mut p = Profile::default();
        for &s in g.buildings_in.get(grid) {
            let s = s as usize;
            p.building(&self.buildings[s], self.households_of[s].len());
        }
        for &s in g.places_in.get(grid) {
            p.place(&self.places[s as usize]);
        }
        for &s in g.orgs_in.get(grid) {
            p.organisation(&self.organisations[s as usize]);
        }
        let removed = self.removed.read();
        for &s in g.residents_in.get(grid) {
            let r = &self.residents[s as usize];
            if removed.is_empty() || !removed.contains(&r.id) {
                p.resident(r, today, 1);
            }
        }
        p
    }

    /// Takes a removed resident (slot `s`) out of the profiles of the areas above their
    /// grid (a grid's own profile is counted when asked, without the removed).
    pub(super) fn uncount(&self, s: usize, areas: &AreaIndex) {
        let mut g = self.grids.write();
        let Some(today) = g.as_of else { return };
        let r = &self.residents[s];
        let h = self.household_of[s] as usize;
        if let Some(n) = self
            .building_of
            .get(h)
            .and_then(|&b| g.building_residents.get_mut(b as usize))
        {
            *n = n.saturating_sub(1);
        }
        let grid = self.resident_grid(&g, s);
        let Some(area) = areas.get(grid) else { return };
        for up in areas.ancestors(area) {
            if let Some(p) = g.upper.get_mut(&up.id) {
                p.resident(r, today, -1);
            }
        }
    }

    /// The profile of an area, ages as of the date the profiles were counted (returned
    /// beside it): kept for the areas above grid level, counted for a grid when asked.
    #[must_use]
    pub fn profile(&self, area: &Area) -> (Profile, Option<NaiveDate>) {
        let g = self.grids.read();
        let p = if area.level == Level::Grid {
            g.as_of
                .map(|today| self.grid_profile(&g, area.id, today))
                .unwrap_or_default()
        } else {
            g.upper.get(&area.id).cloned().unwrap_or_default()
        };
        (p, g.as_of)
    }
}
