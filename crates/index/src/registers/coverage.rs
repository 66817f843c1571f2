//! Service coverage (the "15-minute service circle"): which households and residents live
//! within a distance of the nearest place of a type, per child area, and which buildings
//! are beyond it. Distances are ellipsoidal metres (`geodesic::distance_m`); the R-tree of
//! the type's places, built per request, only narrows the candidates.

use std::collections::HashMap;

use rstar::{AABB, RTree};

use super::{M_PER_DEG, Pt, RegisterIndex};
use crate::geodesic::{From, chord2, distance_m, ecef};
use minqing_model::register::{BuildingRecord, CareTag, PlaceType};

/// Coverage of one group of grids (a child area).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverageRow {
    /// The child area.
    pub area: i64,
    /// Households within the distance.
    pub households_within: u64,
    /// Households beyond it.
    pub households_beyond: u64,
    /// Residents within the distance.
    pub residents_within: u64,
    /// Residents beyond it.
    pub residents_beyond: u64,
    /// Residents with the weighting tag within the distance (0 without a tag).
    pub tagged_within: u64,
    /// Residents with the weighting tag beyond it.
    pub tagged_beyond: u64,
    /// Buildings with households beyond it.
    pub buildings_beyond: u64,
}

/// A coverage answer: one row per group, and the buildings with households beyond reach.
pub struct Coverage<'a> {
    /// Rows, in the order of the groups.
    pub rows: Vec<CoverageRow>,
    /// Buildings with households beyond reach, with their group's area, in id order.
    pub uncovered: Vec<(&'a BuildingRecord, i64)>,
}

impl RegisterIndex {
    /// The distance in ellipsoidal metres from a point to the nearest place of `kind`, if
    /// one lies within `max_m`.
    #[must_use]
    pub fn nearest_of_type(&self, kind: PlaceType, lon: f64, lat: f64, max_m: f64) -> Option<f64> {
        let tree = self
            .type_trees
            .get(PlaceType::ALL.iter().position(|&k| k == kind)?)?;
        let dlat = max_m / M_PER_DEG * 1.01;
        let dlon = dlat / lat.to_radians().cos().max(0.01);
        tree.locate_in_envelope(&AABB::from_corners(
            [lon - dlon, lat - dlat],
            [lon + dlon, lat + dlat],
        ))
        .map(|p| {
            let rec = &self.places[p.data as usize];
            distance_m(lon, lat, rec.lon, rec.lat)
        })
        .filter(|d| *d <= max_m)
        .min_by(f64::total_cmp)
    }

    /// Coverage of places of `kind` within `within_m` metres, for each group of grids
    /// `(area id, grids)`; residents with `tag` are counted apart when given.
    ///
    /// Which buildings are reached is found from whichever side is smaller: from each place
    /// of the type, the buildings around it (most types have a few places per community),
    /// or, for types with many places (street lamps), from each building the places around
    /// it. Residents per building are counted when the index is built.
    #[must_use]
    pub fn coverage(
        &self,
        kind: PlaceType,
        within_m: f64,
        groups: &[(i64, Vec<i64>)],
        tag: Option<CareTag>,
    ) -> Coverage<'_> {
        let n = groups.iter().map(|(_, g)| g.len()).sum();
        let mut group_of: HashMap<i64, usize, foldhash::fast::RandomState> =
            HashMap::with_capacity_and_hasher(n, foldhash::fast::RandomState::default());
        for (i, (_, grids)) in groups.iter().enumerate() {
            for g in grids {
                group_of.insert(*g, i);
            }
        }
        let mut rows: Vec<CoverageRow> = groups
            .iter()
            .map(|(area, _)| CoverageRow {
                area: *area,
                ..CoverageRow::default()
            })
            .collect();
        let reached = self.reached(kind, within_m);
        let removed = self.removed.read();
        let grids = self.grids.read();
        let mut uncovered = Vec::new();
        for (s, b) in self.buildings.iter().enumerate() {
            let Some(&gi) = group_of.get(&grids.building[s]) else {
                continue;
            };
            let households = &self.households_of[s];
            if households.is_empty() {
                continue;
            }
            let residents = u64::from(grids.building_residents[s]);
            let tagged = match tag {
                None => 0,
                Some(t) => households
                    .iter()
                    .flat_map(|&h| &self.residents_of[h as usize])
                    .map(|&r| &self.residents[r as usize])
                    .filter(|r| r.tags.has(t) && (removed.is_empty() || !removed.contains(&r.id)))
                    .count() as u64,
            };
            let row = &mut rows[gi];
            if reached(s) {
                row.households_within += households.len() as u64;
                row.residents_within += residents;
                row.tagged_within += tagged;
            } else {
                row.households_beyond += households.len() as u64;
                row.residents_beyond += residents;
                row.tagged_beyond += tagged;
                row.buildings_beyond += 1;
                uncovered.push((b, row.area));
            }
        }
        Coverage { rows, uncovered }
    }

    /// Which building slots have a place of `tree` within `within_m` metres, found from the
    /// places: the buildings around each.
    fn covered_from_places(&self, tree: &RTree<Pt>, within_m: f64) -> Vec<bool> {
        let mut covered = vec![false; self.buildings.len()];
        for p in tree {
            let place = &self.places[p.data as usize];
            let from = From::new(place.lon, place.lat);
            for b in self
                .building_tree
                .locate_in_envelope(&envelope(place.lon, place.lat, within_m))
            {
                let s = b.data as usize;
                if !covered[s] {
                    let bu = &self.buildings[s];
                    covered[s] = within(&from, bu.lon, bu.lat, within_m);
                }
            }
        }
        covered
    }

    /// Whether building slot `s` has a place of `kind` within `within_m` metres.
    fn reached(&self, kind: PlaceType, within_m: f64) -> Box<dyn Fn(usize) -> bool + '_> {
        let Some(tree) = PlaceType::ALL
            .iter()
            .position(|&k| k == kind)
            .and_then(|i| self.type_trees.get(i))
        else {
            return Box::new(|_| false);
        };
        // From the places: worth it while they are few beside the buildings.
        if tree.size() * 64 <= self.buildings.len() {
            let covered = self.covered_from_places(tree, within_m);
            return Box::new(move |s| covered[s]);
        }
        Box::new(move |s| {
            let b = &self.buildings[s];
            let from = From::new(b.lon, b.lat);
            tree.locate_in_envelope(&envelope(b.lon, b.lat, within_m))
                .any(|p| {
                    let place = &self.places[p.data as usize];
                    within(&from, place.lon, place.lat, within_m)
                })
        })
    }
}

/// Whether a point lies within `m` ellipsoidal metres of `from`: the chord (never longer
/// than the geodesic) rules far points out, the arc series of [`From::distance`] (Karney's
/// distance to well under a micrometre, Karney's itself past its range) decides the rest.
fn within(from: &From, lon: f64, lat: f64, m: f64) -> bool {
    let xyz = ecef(lon, lat);
    let c2 = chord2(&from.xyz, &xyz);
    c2 <= m * m && from.distance(&xyz, c2, || (lon, lat)) <= m
}

/// A box holding every point within `m` metres of a point (a margin over the ellipsoid's
/// metres per degree).
fn envelope(lon: f64, lat: f64, m: f64) -> AABB<[f64; 2]> {
    let dlat = m / M_PER_DEG * 1.01;
    let dlon = dlat / lat.to_radians().cos().max(0.01);
    AABB::from_corners([lon - dlon, lat - dlat], [lon + dlon, lat + dlat])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::areas::AreaIndex;
    use minqing_model::register::{BuildingKind, BuildingRecord, PlaceRecord};

    /// Both ways of finding the reached buildings agree, for sparse and dense places.
    #[test]
    fn from_places_and_from_buildings_agree() {
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let buildings: Vec<BuildingRecord> = (1..=3000)
            .map(|id| BuildingRecord {
                id,
                code: format!("B{id}"),
                address: String::new(),
                kind: BuildingKind::Residential,
                floors: 1,
                lon: 115.3 + next() * 0.1,
                lat: 22.7 + next() * 0.1,
                outline: None,
                generated: true,
            })
            .collect();
        for (n, within) in [(10, 800.0), (400, 150.0)] {
            let places: Vec<PlaceRecord> = (1..=n)
                .map(|id| PlaceRecord {
                    id,
                    code: format!("P{id}"),
                    name: String::new(),
                    kind: PlaceType::ElderCanteen,
                    risk_level: None,
                    state: None,
                    building_id: None,
                    lon: 115.3 + next() * 0.1,
                    lat: 22.7 + next() * 0.1,
                    generated: true,
                })
                .collect();
            let ix = RegisterIndex::new(
                buildings.clone(),
                places,
                Vec::new(),
                Vec::new(),
                Vec::new(),
                &AreaIndex::new(Vec::new()),
                chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
            );
            let tree = &ix.type_trees[1];
            let from_places = ix.covered_from_places(tree, within);
            let from_buildings: Vec<bool> = ix
                .buildings
                .iter()
                .map(|b| {
                    ix.nearest_of_type(PlaceType::ElderCanteen, b.lon, b.lat, within)
                        .is_some()
                })
                .collect();
            assert_eq!(from_places, from_buildings, "{n} places");
            let reached = from_places.iter().filter(|c| **c).count();
            assert!(reached > 0 && reached < ix.buildings.len(), "{reached}");
        }
    }
}
