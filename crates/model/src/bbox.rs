//! Lon/lat bounding boxes.

use geo_types::{Coord, Rect};

/// A lon/lat bounding box (inclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    /// West.
    pub min_lon: f64,
    /// South.
    pub min_lat: f64,
    /// East.
    pub max_lon: f64,
    /// North.
    pub max_lat: f64,
}

impl BBox {
    /// The box as a `geo` rectangle.
    #[must_use]
    pub fn rect(&self) -> Rect<f64> {
        Rect::new(
            Coord {
                x: self.min_lon,
                y: self.min_lat,
            },
            Coord {
                x: self.max_lon,
                y: self.max_lat,
            },
        )
    }
    /// The box around a geometry (an empty box, containing nothing, for an empty one).
    #[must_use]
    pub fn of(g: &geo_types::MultiPolygon<f64>) -> BBox {
        let mut b = BBox {
            min_lon: f64::INFINITY,
            min_lat: f64::INFINITY,
            max_lon: f64::NEG_INFINITY,
            max_lat: f64::NEG_INFINITY,
        };
        for c in g.0.iter().flat_map(|p| p.exterior().0.iter()) {
            b.min_lon = b.min_lon.min(c.x);
            b.min_lat = b.min_lat.min(c.y);
            b.max_lon = b.max_lon.max(c.x);
            b.max_lat = b.max_lat.max(c.y);
        }
        b
    }

    /// The common part of two boxes, if any.
    #[must_use]
    pub fn intersection(&self, o: &BBox) -> Option<BBox> {
        self.intersects(o).then(|| BBox {
            min_lon: self.min_lon.max(o.min_lon),
            min_lat: self.min_lat.max(o.min_lat),
            max_lon: self.max_lon.min(o.max_lon),
            max_lat: self.max_lat.min(o.max_lat),
        })
    }

    /// Whether two boxes share a point.
    #[must_use]
    pub fn intersects(&self, o: &BBox) -> bool {
        self.min_lon <= o.max_lon
            && o.min_lon <= self.max_lon
            && self.min_lat <= o.max_lat
            && o.min_lat <= self.max_lat
    }

    /// Whether a point lies in the box (edges included), as `ST_Intersects` with the
    /// envelope answers.
    #[must_use]
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        lon >= self.min_lon && lon <= self.max_lon && lat >= self.min_lat && lat <= self.max_lat
    }
}
