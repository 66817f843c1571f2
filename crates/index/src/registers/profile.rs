//! Area profiles: what an area holds (households, residents by age band, tag and
//! registration, buildings by kind, places by type, organisations by kind), kept per grid
//! and summed over an area's grids on request.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{Grids, NO_GRID, RegisterIndex};
use minqing_model::register::{
    AGE_BANDS, BuildingKind, CareTag, OrgKind, PlaceType, Registration, age_on,
};

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

impl RegisterIndex {
    /// The profile of each grid, ages as of `today`.
    pub(super) fn grid_profiles(&self, g: &Grids, today: NaiveDate) -> HashMap<i64, Profile> {
        let mut out: HashMap<i64, Profile> = HashMap::new();
        for (s, b) in self.buildings.iter().enumerate() {
            let grid = g.building[s];
            let p = out.entry(grid).or_default();
            p.buildings[position(BuildingKind::ALL, &b.kind)] += 1;
        }
        for (s, pl) in self.places.iter().enumerate() {
            let p = out.entry(g.place[s]).or_default();
            p.places[position(PlaceType::ALL, &pl.kind)] += 1;
        }
        for (s, o) in self.organisations.iter().enumerate() {
            let p = out.entry(g.org[s]).or_default();
            p.organisations[position(OrgKind::ALL, &o.kind)] += 1;
        }
        let grid_of_household = |h: usize| {
            self.building_of
                .get(h)
                .and_then(|&b| g.building.get(b as usize))
                .copied()
                .unwrap_or(NO_GRID)
        };
        for h in 0..self.households.len() {
            out.entry(grid_of_household(h)).or_default().households += 1;
        }
        for (s, r) in self.residents.iter().enumerate() {
            let h = self.household_of[s] as usize;
            let p = out.entry(grid_of_household(h)).or_default();
            p.residents += 1;
            p.age_bands[band(age_on(r.birth_date, today))] += 1;
            p.registration[position(Registration::ALL, &r.registration)] += 1;
            for t in r.tags.iter() {
                p.tags[position(CareTag::ALL, &t)] += 1;
            }
        }
        out
    }

    /// Takes a removed resident (slot `s`) out of their grid's profile.
    pub(super) fn uncount(&self, s: usize) {
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
        let grid = self
            .building_of
            .get(h)
            .and_then(|&b| g.building.get(b as usize))
            .copied()
            .unwrap_or(NO_GRID);
        if let Some(p) = g.profiles.get_mut(&grid) {
            p.residents = p.residents.saturating_sub(1);
            let b = band(age_on(r.birth_date, today));
            p.age_bands[b] = p.age_bands[b].saturating_sub(1);
            let k = position(Registration::ALL, &r.registration);
            p.registration[k] = p.registration[k].saturating_sub(1);
            for t in r.tags.iter() {
                let k = position(CareTag::ALL, &t);
                p.tags[k] = p.tags[k].saturating_sub(1);
            }
        }
    }

    /// The profile of the given grids (a whole area: its grids), ages as of the date the
    /// profiles were counted (returned beside it).
    #[must_use]
    pub fn profile(&self, grids: &[i64]) -> (Profile, Option<NaiveDate>) {
        let g = self.grids.read();
        let mut p = Profile::default();
        for grid in grids {
            if let Some(x) = g.profiles.get(grid) {
                p.add(x);
            }
        }
        (p, g.as_of)
    }
}
