//! The registers in memory: buildings, places and organisations by position (R-trees),
//! households by building and residents by household, each located in its grid by the area
//! index (never stored: a redrawn grid is followed by [`RegisterIndex::relocate`]).
//!
//! Nothing sealed is held here: no ID number, no phone. Names are held (for masking and
//! prefix search) and leave only masked, by the rules of `minqing_model::register`.

mod bygrid;
mod coverage;
mod profile;

use bygrid::ByGrid;

pub use coverage::{Coverage, CoverageRow};
pub use profile::Profile;

use std::collections::HashMap;

use chrono::NaiveDate;

use parking_lot::RwLock;

use rstar::primitives::GeomWithData;
use rstar::{AABB, RTree};

use crate::areas::{AreaIndex, GridSet};
use crate::geodesic::distance_m;
use minqing_model::BBox;
use minqing_model::register::{
    BuildingKind, BuildingRecord, CareTag, HouseholdRecord, LinkKind, OrgKind, OrganisationRecord,
    PlaceClass, PlaceRecord, PlaceType, RegisterLink, ResidentRecord,
};

type Pt = GeomWithData<[f64; 2], u32>;

/// The grid of each building, place and organisation, by slot, and what each grid holds.
#[derive(Default)]
struct Grids {
    building: Vec<i64>,
    place: Vec<i64>,
    org: Vec<i64>,
    /// Building, place, organisation and resident slots of each grid.
    buildings_in: ByGrid,
    places_in: ByGrid,
    orgs_in: ByGrid,
    residents_in: ByGrid,
    /// Residents (not removed) of each building slot.
    building_residents: Vec<u32>,
    /// The profile of each area above grid level holding anything, ages as of `as_of`.
    upper: HashMap<i64, Profile>,
    as_of: Option<NaiveDate>,
}

/// Grid id meaning "outside every grid".
const NO_GRID: i64 = 0;

/// Metres per degree of latitude (a bound for box searches; distances are ellipsoidal).
const M_PER_DEG: f64 = 110_574.0;

/// The registers, indexed.
#[derive(Default)]
pub struct RegisterIndex {
    buildings: Vec<BuildingRecord>,
    building_tree: RTree<Pt>,
    places: Vec<PlaceRecord>,
    place_tree: RTree<Pt>,
    organisations: Vec<OrganisationRecord>,
    /// Where each record lies, by slot: swapped whole when the grids are redrawn.
    grids: RwLock<Grids>,
    households: Vec<HouseholdRecord>,
    residents: Vec<ResidentRecord>,
    /// Household slots of each building slot, in id order.
    households_of: Vec<Vec<u32>>,
    /// Resident slots by name (then slot): a name prefix is one range.
    by_name: Vec<u32>,
    /// Resident slots of each household slot, in id order.
    residents_of: Vec<Vec<u32>>,
    /// Household slot of each resident slot.
    household_of: Vec<u32>,
    /// Building slot of each household slot.
    building_of: Vec<u32>,
    /// Places and organisations in each building slot.
    places_in: HashMap<u32, Vec<u32>>,
    orgs_in: HashMap<u32, Vec<u32>>,
    /// Residents removed since the load.
    removed: RwLock<std::collections::HashSet<i64>>,
    /// Places of each type (by [`PlaceType::ALL`] position): slots of `places`.
    type_trees: Vec<RTree<Pt>>,
    /// Distinct for every register index built in this process.
    generation: u64,
}

/// The generation of the next register index built.
static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn slot_of<T>(v: &[T], id: i64, key: impl Fn(&T) -> i64) -> Option<usize> {
    v.binary_search_by_key(&id, key).ok()
}

fn tree(points: impl Iterator<Item = (f64, f64)>) -> RTree<Pt> {
    RTree::bulk_load(
        points
            .enumerate()
            .map(|(i, (x, y))| Pt::new([x, y], u32::try_from(i).unwrap_or(u32::MAX)))
            .collect(),
    )
}

fn grid_of(areas: &AreaIndex, lon: f64, lat: f64) -> i64 {
    areas.locate(lon, lat).map_or(NO_GRID, |a| a.id)
}

/// Buildings, places and organisations found by [`RegisterIndex::search`], with their grids.
pub type Found<'a> = (
    Vec<(&'a BuildingRecord, i64)>,
    Vec<(&'a PlaceRecord, i64)>,
    Vec<(&'a OrganisationRecord, i64)>,
);

/// What a building list is filtered by.
#[derive(Debug, Clone, Default)]
pub struct BuildingFilter {
    /// Only in this box.
    pub bbox: Option<BBox>,
    /// Only in these grids (a scope or a chosen area).
    pub grids: Option<std::sync::Arc<GridSet>>,
    /// Only of this kind.
    pub kind: Option<BuildingKind>,
    /// Only ids above this (the page after).
    pub after: i64,
}

/// A building's linked view, from memory.
pub struct Linked<'a> {
    /// The building.
    pub building: &'a BuildingRecord,
    /// Its grid (0 outside every grid).
    pub grid: i64,
    /// Its households and, for each, its residents.
    pub households: Vec<(&'a HouseholdRecord, Vec<&'a ResidentRecord>)>,
    /// Places in it (by reference).
    pub places: Vec<&'a PlaceRecord>,
    /// Organisations in it.
    pub organisations: Vec<&'a OrganisationRecord>,
    /// Risk sites within [`RISK_RADIUS_M`] of it, nearest first, with their distance.
    pub risks: Vec<(&'a PlaceRecord, f64)>,
}

/// How far from a building the linked view looks for risk sites.
pub const RISK_RADIUS_M: f64 = 200.0;

impl RegisterIndex {
    /// Indexes loaded registers, locating each in its grid with `areas`. Records must be in
    /// id order (as the store loads them).
    #[must_use]
    /// Ages in profiles are counted as of `today`.
    #[allow(clippy::too_many_arguments)] // one list per register
    pub fn new(
        buildings: Vec<BuildingRecord>,
        places: Vec<PlaceRecord>,
        organisations: Vec<OrganisationRecord>,
        households: Vec<HouseholdRecord>,
        residents: Vec<ResidentRecord>,
        areas: &AreaIndex,
        today: NaiveDate,
    ) -> RegisterIndex {
        let type_trees = PlaceType::ALL
            .iter()
            .map(|&k| {
                RTree::bulk_load(
                    places
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| p.kind == k)
                        .map(|(i, p)| Pt::new([p.lon, p.lat], u32::try_from(i).unwrap_or(u32::MAX)))
                        .collect(),
                )
            })
            .collect();
        let mut ix = RegisterIndex {
            building_tree: tree(buildings.iter().map(|b| (b.lon, b.lat))),
            place_tree: tree(places.iter().map(|p| (p.lon, p.lat))),
            type_trees,
            generation: GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            buildings,
            places,
            organisations,
            households,
            residents,
            ..RegisterIndex::default()
        };
        let b_slot = |id: i64, v: &[BuildingRecord]| {
            slot_of(v, id, |b| b.id).and_then(|s| u32::try_from(s).ok())
        };
        ix.households_of = vec![Vec::new(); ix.buildings.len()];
        ix.building_of = Vec::with_capacity(ix.households.len());
        for (h, rec) in ix.households.iter().enumerate() {
            let b = b_slot(rec.building_id, &ix.buildings).unwrap_or(u32::MAX);
            ix.building_of.push(b);
            if let Some(list) = ix.households_of.get_mut(b as usize) {
                list.push(u32::try_from(h).unwrap_or(u32::MAX));
            }
        }
        ix.residents_of = vec![Vec::new(); ix.households.len()];
        ix.household_of = Vec::with_capacity(ix.residents.len());
        for (r, rec) in ix.residents.iter().enumerate() {
            let h = slot_of(&ix.households, rec.household_id, |h| h.id)
                .and_then(|s| u32::try_from(s).ok())
                .unwrap_or(u32::MAX);
            ix.household_of.push(h);
            if let Some(list) = ix.residents_of.get_mut(h as usize) {
                list.push(u32::try_from(r).unwrap_or(u32::MAX));
            }
        }
        for (p, rec) in ix.places.iter().enumerate() {
            if let Some(b) = rec.building_id.and_then(|b| b_slot(b, &ix.buildings)) {
                ix.places_in
                    .entry(b)
                    .or_default()
                    .push(u32::try_from(p).unwrap_or(u32::MAX));
            }
        }
        for (o, rec) in ix.organisations.iter().enumerate() {
            if let Some(b) = rec.building_id.and_then(|b| b_slot(b, &ix.buildings)) {
                ix.orgs_in
                    .entry(b)
                    .or_default()
                    .push(u32::try_from(o).unwrap_or(u32::MAX));
            }
        }
        let mut by_name: Vec<u32> = (0..ix.residents.len())
            .map(|s| u32::try_from(s).unwrap_or(u32::MAX))
            .collect();
        by_name.sort_unstable_by(|a, b| {
            ix.residents[*a as usize]
                .name
                .cmp(&ix.residents[*b as usize].name)
                .then(a.cmp(b))
        });
        ix.by_name = by_name;
        *ix.grids.get_mut() = ix.locate_all(areas, today);
        ix
    }

    fn locate_all(&self, areas: &AreaIndex, today: NaiveDate) -> Grids {
        let building: Vec<i64> = self
            .buildings
            .iter()
            .map(|b| grid_of(areas, b.lon, b.lat))
            .collect();
        let place: Vec<i64> = self
            .places
            .iter()
            .map(|p| grid_of(areas, p.lon, p.lat))
            .collect();
        let org: Vec<i64> = self
            .organisations
            .iter()
            .map(|o| grid_of(areas, o.lon, o.lat))
            .collect();
        let mut g = Grids {
            buildings_in: ByGrid::new(building.iter().copied()),
            places_in: ByGrid::new(place.iter().copied()),
            orgs_in: ByGrid::new(org.iter().copied()),
            building,
            place,
            org,
            residents_in: ByGrid::default(),
            building_residents: vec![0; self.buildings.len()],
            upper: HashMap::new(),
            as_of: Some(today),
        };
        let removed = self.removed.read();
        for (s, r) in self.residents.iter().enumerate() {
            if removed.contains(&r.id) {
                continue;
            }
            let b = self
                .household_of
                .get(s)
                .and_then(|&h| self.building_of.get(h as usize));
            if let Some(n) = b.and_then(|&b| g.building_residents.get_mut(b as usize)) {
                *n += 1;
            }
        }
        drop(removed);
        g.residents_in = ByGrid::new((0..self.residents.len()).map(|s| self.resident_grid(&g, s)));
        g.upper = self.upper_profiles(&g, areas, today);
        g
    }

    /// Locates every record anew against `areas` (after a plan is published): computed
    /// with no lock held, then swapped in at once.
    pub fn relocate(&self, areas: &AreaIndex, today: NaiveDate) {
        let g = self.locate_all(areas, today);
        *self.grids.write() = g;
    }

    /// Changes whenever what the registers show may have changed: distinct for every index
    /// built in this process, and moved on by every removal (tiles are cached by it).
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation
            .wrapping_mul(1 << 32)
            .wrapping_add(self.removed.read().len() as u64)
    }

    /// Calls `f` with every building whose point lies in `bbox` and in `grids` (any grid
    /// when `None`), with its grid and its number of households.
    pub fn for_buildings_in(
        &self,
        bbox: &BBox,
        grids: Option<&GridSet>,
        mut f: impl FnMut(&BuildingRecord, i64, usize),
    ) {
        let g = self.grids.read();
        for p in self.building_tree.locate_in_envelope(&AABB::from_corners(
            [bbox.min_lon, bbox.min_lat],
            [bbox.max_lon, bbox.max_lat],
        )) {
            let s = p.data as usize;
            let grid = g.building[s];
            if grids.is_none_or(|set| set.has_grid(Some(grid))) {
                f(&self.buildings[s], grid, self.households_of[s].len());
            }
        }
    }

    /// Calls `f` with every place whose point lies in `bbox` and in `grids` (any grid when
    /// `None`), with its grid.
    pub fn for_places_in(
        &self,
        bbox: &BBox,
        grids: Option<&GridSet>,
        mut f: impl FnMut(&PlaceRecord, i64),
    ) {
        let g = self.grids.read();
        for p in self.place_tree.locate_in_envelope(&AABB::from_corners(
            [bbox.min_lon, bbox.min_lat],
            [bbox.max_lon, bbox.max_lat],
        )) {
            let s = p.data as usize;
            if grids.is_none_or(|set| set.has_grid(Some(g.place[s]))) {
                f(&self.places[s], g.place[s]);
            }
        }
    }

    /// Residents of a building (by id) that are not removed, and of them those with `tag`.
    #[must_use]
    pub fn building_residents(&self, building: i64, tag: Option<CareTag>) -> (u64, u64) {
        let Some(s) = slot_of(&self.buildings, building, |b| b.id) else {
            return (0, 0);
        };
        let (mut all, mut tagged) = (0, 0);
        for &h in &self.households_of[s] {
            for &r in &self.residents_of[h as usize] {
                let r = &self.residents[r as usize];
                if !self.gone(r.id) {
                    all += 1;
                    tagged += u64::from(tag.is_some_and(|t| r.tags.has(t)));
                }
            }
        }
        (all, tagged)
    }

    /// Buildings, places, organisations, households and residents held.
    #[must_use]
    pub fn counts(&self) -> [usize; 5] {
        [
            self.buildings.len(),
            self.places.len(),
            self.organisations.len(),
            self.households.len(),
            self.residents.len(),
        ]
    }

    /// Buildings matching `f`, in id order, at most `limit`, with their grids.
    #[must_use]
    pub fn buildings(&self, f: &BuildingFilter, limit: usize) -> Vec<(&BuildingRecord, i64)> {
        let grids = self.grids.read();
        let ok = |s: usize| {
            let b = &self.buildings[s];
            let g = grids.building[s];
            b.id > f.after
                && f.kind.is_none_or(|k| b.kind == k)
                && f.grids.as_ref().is_none_or(|gs| gs.has_grid(Some(g)))
        };
        let mut out: Vec<usize> = if let Some(bb) = &f.bbox {
            let mut v: Vec<usize> = self
                .building_tree
                .locate_in_envelope(&AABB::from_corners(
                    [bb.min_lon, bb.min_lat],
                    [bb.max_lon, bb.max_lat],
                ))
                .map(|p| p.data as usize)
                .filter(|s| ok(*s))
                .collect();
            v.sort_unstable();
            v.truncate(limit);
            v
        } else {
            let start = self.buildings.partition_point(|b| b.id <= f.after);
            (start..self.buildings.len())
                .filter(|s| ok(*s))
                .take(limit)
                .collect()
        };
        out.dedup();
        out.into_iter()
            .map(|s| (&self.buildings[s], grids.building[s]))
            .collect()
    }

    /// A building and its grid.
    #[must_use]
    pub fn building(&self, id: i64) -> Option<(&BuildingRecord, i64)> {
        let s = slot_of(&self.buildings, id, |b| b.id)?;
        Some((&self.buildings[s], self.grids.read().building[s]))
    }

    /// A place and its grid.
    #[must_use]
    pub fn place(&self, id: i64) -> Option<(&PlaceRecord, i64)> {
        let s = slot_of(&self.places, id, |p| p.id)?;
        Some((&self.places[s], self.grids.read().place[s]))
    }

    /// An organisation and its grid.
    #[must_use]
    pub fn organisation(&self, id: i64) -> Option<(&OrganisationRecord, i64)> {
        let s = slot_of(&self.organisations, id, |o| o.id)?;
        Some((&self.organisations[s], self.grids.read().org[s]))
    }

    /// A household, its building and grid.
    #[must_use]
    pub fn household(&self, id: i64) -> Option<(&HouseholdRecord, &BuildingRecord, i64)> {
        let h = slot_of(&self.households, id, |h| h.id)?;
        let b = *self.building_of.get(h)? as usize;
        Some((
            &self.households[h],
            self.buildings.get(b)?,
            *self.grids.read().building.get(b)?,
        ))
    }

    /// Where the record a report names lies, and its grid: (lon, lat, grid); a household
    /// at its building.
    #[must_use]
    pub fn point_of(&self, link: RegisterLink) -> Option<(f64, f64, i64)> {
        match link.kind {
            LinkKind::Building => self.building(link.id).map(|(b, g)| (b.lon, b.lat, g)),
            LinkKind::Place => self.place(link.id).map(|(p, g)| (p.lon, p.lat, g)),
            LinkKind::Organisation => self.organisation(link.id).map(|(o, g)| (o.lon, o.lat, g)),
            LinkKind::Household => self.household(link.id).map(|(_, b, g)| (b.lon, b.lat, g)),
        }
    }

    /// The links that name building `id` or what is in it: the building, its households,
    /// and the places and organisations in it.
    #[must_use]
    pub fn links_of_building(&self, id: i64) -> Vec<RegisterLink> {
        let Some(s) = slot_of(&self.buildings, id, |b| b.id) else {
            return Vec::new();
        };
        let key = u32::try_from(s).unwrap_or(u32::MAX);
        let mut out = vec![RegisterLink {
            kind: LinkKind::Building,
            id,
        }];
        out.extend(self.households_of[s].iter().map(|&h| RegisterLink {
            kind: LinkKind::Household,
            id: self.households[h as usize].id,
        }));
        out.extend(
            self.places_in
                .get(&key)
                .into_iter()
                .flatten()
                .map(|&p| RegisterLink {
                    kind: LinkKind::Place,
                    id: self.places[p as usize].id,
                }),
        );
        out.extend(
            self.orgs_in
                .get(&key)
                .into_iter()
                .flatten()
                .map(|&o| RegisterLink {
                    kind: LinkKind::Organisation,
                    id: self.organisations[o as usize].id,
                }),
        );
        out
    }

    /// The linked view of building `id`.
    #[must_use]
    pub fn linked(&self, id: i64) -> Option<Linked<'_>> {
        let s = slot_of(&self.buildings, id, |b| b.id)?;
        let b = &self.buildings[s];
        let key = u32::try_from(s).ok()?;
        let households = self.households_of[s]
            .iter()
            .map(|&h| {
                let h = h as usize;
                (
                    &self.households[h],
                    self.residents_of[h]
                        .iter()
                        .map(|&r| &self.residents[r as usize])
                        .filter(|r| !self.gone(r.id))
                        .collect(),
                )
            })
            .collect();
        let places = self
            .places_in
            .get(&key)
            .map(|v| v.iter().map(|&p| &self.places[p as usize]).collect())
            .unwrap_or_default();
        let organisations = self
            .orgs_in
            .get(&key)
            .map(|v| v.iter().map(|&o| &self.organisations[o as usize]).collect())
            .unwrap_or_default();
        let mut risks: Vec<(&PlaceRecord, f64)> = self
            .places_near(b.lon, b.lat, RISK_RADIUS_M)
            .filter(|(p, _)| p.kind.class() == PlaceClass::Risk)
            .collect();
        risks.sort_by(|a, b| a.1.total_cmp(&b.1));
        Some(Linked {
            building: b,
            grid: self.grids.read().building[s],
            households,
            places,
            organisations,
            risks,
        })
    }

    /// Places within `radius_m` (ellipsoidal metres) of a point, with their distances.
    pub fn places_near(
        &self,
        lon: f64,
        lat: f64,
        radius_m: f64,
    ) -> impl Iterator<Item = (&PlaceRecord, f64)> {
        let dlat = radius_m / M_PER_DEG * 1.01;
        let dlon = dlat / lat.to_radians().cos().max(0.01);
        self.place_tree
            .locate_in_envelope(&AABB::from_corners(
                [lon - dlon, lat - dlat],
                [lon + dlon, lat + dlat],
            ))
            .filter_map(move |p| {
                let rec = &self.places[p.data as usize];
                let d = distance_m(lon, lat, rec.lon, rec.lat);
                (d <= radius_m).then_some((rec, d))
            })
    }

    /// Places of `kind` (any when `None`), in `bbox` and `grids` when given, in id order,
    /// after id `after`, at most `limit`, with their grids.
    #[must_use]
    pub fn places(
        &self,
        kind: Option<PlaceType>,
        bbox: Option<&BBox>,
        grids: Option<&GridSet>,
        after: i64,
        limit: usize,
    ) -> Vec<(&PlaceRecord, i64)> {
        let g = self.grids.read();
        let start = self.places.partition_point(|p| p.id <= after);
        (start..self.places.len())
            .filter(|&s| {
                let p = &self.places[s];
                kind.is_none_or(|k| p.kind == k)
                    && bbox.is_none_or(|b| b.contains(p.lon, p.lat))
                    && grids.is_none_or(|set| set.has_grid(Some(g.place[s])))
            })
            .take(limit)
            .map(|s| (&self.places[s], g.place[s]))
            .collect()
    }

    /// Organisations of `kind`, whose name contains `q`, in `grids`, in id order, after id
    /// `after`, at most `limit`, with their grids.
    #[must_use]
    pub fn organisations(
        &self,
        kind: Option<OrgKind>,
        q: Option<&str>,
        grids: Option<&GridSet>,
        after: i64,
        limit: usize,
    ) -> Vec<(&OrganisationRecord, i64)> {
        let g = self.grids.read();
        let start = self.organisations.partition_point(|o| o.id <= after);
        (start..self.organisations.len())
            .filter(|&s| {
                let o = &self.organisations[s];
                kind.is_none_or(|k| o.kind == k)
                    && q.is_none_or(|q| o.name.contains(q))
                    && grids.is_none_or(|set| set.has_grid(Some(g.org[s])))
            })
            .take(limit)
            .map(|s| (&self.organisations[s], g.org[s]))
            .collect()
    }

    /// A resident, their household, building and grid.
    #[must_use]
    pub fn resident(
        &self,
        id: i64,
    ) -> Option<(&ResidentRecord, &HouseholdRecord, &BuildingRecord, i64)> {
        if self.gone(id) {
            return None;
        }
        let r = slot_of(&self.residents, id, |r| r.id)?;
        let h = *self.household_of.get(r)? as usize;
        let b = *self.building_of.get(h)? as usize;
        Some((
            &self.residents[r],
            self.households.get(h)?,
            self.buildings.get(b)?,
            *self.grids.read().building.get(b)?,
        ))
    }

    /// The grid a resident lives in (0 when unknown).
    fn resident_grid(&self, g: &Grids, r: usize) -> i64 {
        let h = self.household_of[r] as usize;
        self.building_of
            .get(h)
            .and_then(|&b| g.building.get(b as usize))
            .copied()
            .unwrap_or(NO_GRID)
    }

    /// Residents matching `keep` (given the record), in `grids`, whose name starts with
    /// `prefix`, in id order after id `after`, at most `limit`, with their grids.
    #[must_use]
    pub fn residents(
        &self,
        grids: Option<&GridSet>,
        prefix: Option<&str>,
        keep: impl Fn(&ResidentRecord) -> bool,
        after: i64,
        limit: usize,
    ) -> Vec<(&ResidentRecord, i64)> {
        let g = self.grids.read();
        let start = self.residents.partition_point(|r| r.id <= after);
        let ok = |s: usize| {
            let r = &self.residents[s];
            keep(r) && !self.gone(r.id)
        };
        let in_scope =
            |s: usize| grids.is_none_or(|set| set.has_grid(Some(self.resident_grid(&g, s))));
        // Two ways in, whichever reads fewer residents: the range of the name order that a
        // prefix selects (every one of them read, then put in id order), or the residents
        // of the scope (every one, with no scope) in id order, stopping at `limit` matches:
        // about `limit × residents ÷ range` reads. The range wins when it is short.
        let range = prefix.map(|p| {
            let lo = self
                .by_name
                .partition_point(|&s| self.residents[s as usize].name.as_str() < p);
            let hi = self.by_name.partition_point(|&s| {
                let n = self.residents[s as usize].name.as_str();
                n < p || n.starts_with(p)
            });
            (p, lo, hi)
        });
        if let Some((_, lo, hi)) = range {
            let n = hi - lo;
            if n.saturating_mul(n) <= limit.max(1).saturating_mul(self.residents.len()) {
                let mut v: Vec<usize> = self.by_name[lo..hi]
                    .iter()
                    .map(|&s| s as usize)
                    .filter(|&s| s >= start && in_scope(s))
                    .collect();
                v.sort_unstable();
                return v
                    .into_iter()
                    .filter(|&s| ok(s))
                    .take(limit)
                    .map(|s| (&self.residents[s], self.resident_grid(&g, s)))
                    .collect();
            }
        }
        let named = |s: usize| prefix.is_none_or(|p| self.residents[s].name.starts_with(p));
        let slots: Box<dyn Iterator<Item = usize> + '_> = if let Some(set) = grids {
            Box::new(merged(
                set.grids
                    .iter()
                    .map(|&grid| g.residents_in.get(grid))
                    .map(|list| &list[list.partition_point(|&s| (s as usize) < start)..])
                    .filter(|list| !list.is_empty())
                    .collect(),
            ))
        } else {
            Box::new(start..self.residents.len())
        };
        slots
            .filter(|&s| named(s) && ok(s))
            .take(limit)
            .map(|s| (&self.residents[s], self.resident_grid(&g, s)))
            .collect()
    }

    /// Residents with the given ids that lie in `grids`, with their grids.
    #[must_use]
    pub fn residents_by_id(
        &self,
        ids: &[i64],
        grids: Option<&GridSet>,
    ) -> Vec<(&ResidentRecord, i64)> {
        let g = self.grids.read();
        ids.iter()
            .filter(|&&id| !self.gone(id))
            .filter_map(|&id| slot_of(&self.residents, id, |r| r.id))
            .filter(|&s| grids.is_none_or(|set| set.has_grid(Some(self.resident_grid(&g, s)))))
            .map(|s| (&self.residents[s], self.resident_grid(&g, s)))
            .collect()
    }

    /// Buildings whose address contains `q` or whose code is `q`, places and organisations
    /// whose name contains `q` or whose code is `q`, in `grids`, at most `limit` of each, in
    /// id order.
    #[must_use]
    pub fn search(&self, q: &str, grids: Option<&GridSet>, limit: usize) -> Found<'_> {
        let g = self.grids.read();
        let inside = |grid: i64| grids.is_none_or(|set| set.has_grid(Some(grid)));
        let buildings = self
            .buildings
            .iter()
            .enumerate()
            .filter(|(s, b)| (b.code == q || b.address.contains(q)) && inside(g.building[*s]))
            .take(limit)
            .map(|(s, b)| (b, g.building[s]))
            .collect();
        let places = self
            .places
            .iter()
            .enumerate()
            .filter(|(s, p)| (p.code == q || p.name.contains(q)) && inside(g.place[*s]))
            .take(limit)
            .map(|(s, p)| (p, g.place[s]))
            .collect();
        let organisations = self
            .organisations
            .iter()
            .enumerate()
            .filter(|(s, o)| (o.code == q || o.name.contains(q)) && inside(g.org[*s]))
            .take(limit)
            .map(|(s, o)| (o, g.org[s]))
            .collect();
        (buildings, places, organisations)
    }

    /// Forgets a resident (after the store removed it): no read finds them again, and the
    /// profiles of the areas above their grid (in `areas`) no longer count them.
    pub fn remove_resident(&self, id: i64, areas: &AreaIndex) {
        if self.removed.write().insert(id)
            && let Some(s) = slot_of(&self.residents, id, |r| r.id)
        {
            self.uncount(s, areas);
        }
    }

    fn gone(&self, id: i64) -> bool {
        let r = self.removed.read();
        !r.is_empty() && r.contains(&id)
    }
}

/// The slots of several ascending lists, in ascending order, lazily (a k-way merge).
fn merged(lists: Vec<&[u32]>) -> impl Iterator<Item = usize> + '_ {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut heap: BinaryHeap<Reverse<(u32, usize, usize)>> = lists
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.first().map(|&s| Reverse((s, i, 0))))
        .collect();
    std::iter::from_fn(move || {
        let Reverse((s, i, pos)) = heap.pop()?;
        if let Some(&next) = lists[i].get(pos + 1) {
            heap.push(Reverse((next, i, pos + 1)));
        }
        Some(s as usize)
    })
}
