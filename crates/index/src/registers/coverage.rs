//! Service coverage (the "15-minute service circle"): which households and residents live
//! within a distance of the nearest place of a type, per child area, and which buildings
//! are beyond it. Distances are ellipsoidal metres (`geodesic::distance_m`); the R-tree of
//! the type's places, built per request, only narrows the candidates.

use std::collections::HashMap;

use rstar::AABB;

use super::{M_PER_DEG, RegisterIndex};
use crate::geodesic::distance_m;
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
    #[must_use]
    pub fn coverage(
        &self,
        kind: PlaceType,
        within_m: f64,
        groups: &[(i64, Vec<i64>)],
        tag: Option<CareTag>,
    ) -> Coverage<'_> {
        let reached = |lon: f64, lat: f64| self.nearest_of_type(kind, lon, lat, within_m).is_some();
        let mut group_of: HashMap<i64, usize> = HashMap::new();
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
        let mut uncovered = Vec::new();
        let grids = self.grids.read();
        for (s, b) in self.buildings.iter().enumerate() {
            let Some(&gi) = group_of.get(&grids.building[s]) else {
                continue;
            };
            let households = &self.households_of[s];
            if households.is_empty() {
                continue;
            }
            let mut residents = 0u64;
            let mut tagged = 0u64;
            for &h in households {
                for &r in &self.residents_of[h as usize] {
                    let r = &self.residents[r as usize];
                    if self.gone(r.id) {
                        continue;
                    }
                    residents += 1;
                    if tag.is_some_and(|t| r.tags.has(t)) {
                        tagged += 1;
                    }
                }
            }
            let row = &mut rows[gi];
            if reached(b.lon, b.lat) {
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
}
