//! Where things go: a grid's density class (dense, town, rural) and points sampled strictly
//! inside its polygons.

use geo::{Area, InteriorPoint};
use geo_types::MultiPolygon;
use minqing_model::AreaRecord;
use rand::Rng;

use super::Gen;
use crate::events::inside;

/// Households per km² from which a grid is dense.
const DENSE: f64 = 1500.0;

/// Households per km² from which a grid is a town's.
const TOWN: f64 = 300.0;

/// Km per degree of latitude.
const KM_PER_DEGREE: f64 = 111.32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Density {
    Dense,
    Town,
    Rural,
}

/// A grid's geometry.
pub(super) struct Cell<'a> {
    pub(super) code: &'a str,
    pub(super) geom: &'a MultiPolygon<f64>,
    pub(super) bbox: [f64; 4],
}

pub(super) fn bbox(mp: &MultiPolygon<f64>) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in &mp.0 {
        for c in &p.exterior().0 {
            b = [b[0].min(c.x), b[1].min(c.y), b[2].max(c.x), b[3].max(c.y)];
        }
    }
    b
}

pub(super) fn density(a: &AreaRecord, b: [f64; 4]) -> Density {
    let cos = f64::midpoint(b[1], b[3]).to_radians().cos().abs();
    let km2 = a.geom.unsigned_area() * KM_PER_DEGREE * KM_PER_DEGREE * cos;
    let per_km2 = f64::from(a.households.max(0)) / km2.max(1e-9);
    if per_km2 >= DENSE {
        Density::Dense
    } else if per_km2 >= TOWN {
        Density::Town
    } else {
        Density::Rural
    }
}

impl<'a> Gen<'a> {
    pub(super) fn cell(&self, g: usize) -> Cell<'a> {
        let a = &self.areas[g];
        Cell {
            code: &a.code,
            geom: &a.geom,
            bbox: bbox(&a.geom),
        }
    }

    pub(super) fn point(&mut self, geom: &MultiPolygon<f64>, b: [f64; 4]) -> [f64; 2] {
        if b.iter().all(|v| v.is_finite()) && b[0] < b[2] && b[1] < b[3] {
            for _ in 0..1000 {
                let x = b[0] + self.rng.random::<f64>() * (b[2] - b[0]);
                let y = b[1] + self.rng.random::<f64>() * (b[3] - b[1]);
                if inside(geom, x, y) {
                    return [x, y];
                }
            }
        }
        geom.interior_point().map_or_else(
            || {
                if b.iter().all(|v| v.is_finite()) {
                    [f64::midpoint(b[0], b[2]), f64::midpoint(b[1], b[3])]
                } else {
                    [0.0, 0.0]
                }
            },
            |p| [p.x(), p.y()],
        )
    }
}
