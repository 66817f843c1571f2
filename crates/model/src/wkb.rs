//! Well-known binary (WKB/EWKB) for the geometries minqing stores.
//!
//! PostGIS hands geometries out as WKB (`ST_AsBinary`) and takes them in as EWKB
//! (`geometry` input accepts it directly, SRID included). Only Point, Polygon and
//! MultiPolygon occur in minqing's tables.

use geo_types::{Coord, LineString, MultiPolygon, Polygon};

/// SRID of every stored geometry (WGS84 lon/lat).
pub const SRID: u32 = 4326;

const POINT: u32 = 1;
const POLYGON: u32 = 3;
const MULTIPOLYGON: u32 = 6;
const SRID_FLAG: u32 = 0x2000_0000;

/// Why WKB could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WkbError {
    /// The bytes ended early.
    #[error("WKB ends early")]
    Truncated,
    /// A geometry type minqing does not store.
    #[error("unexpected WKB geometry type {0}")]
    Type(u32),
}

struct Reader<'a> {
    buf: &'a [u8],
    little: bool,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], WkbError> {
        let (head, rest) = self.buf.split_at_checked(N).ok_or(WkbError::Truncated)?;
        self.buf = rest;
        let mut out = [0u8; N];
        out.copy_from_slice(head);
        Ok(out)
    }
    fn u32(&mut self) -> Result<u32, WkbError> {
        let b = self.take::<4>()?;
        Ok(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }
    fn f64(&mut self) -> Result<f64, WkbError> {
        let b = self.take::<8>()?;
        Ok(if self.little {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }
    /// Reads the byte order and type; skips an EWKB SRID.
    fn header(&mut self) -> Result<u32, WkbError> {
        let [order] = self.take::<1>()?;
        self.little = order == 1;
        let t = self.u32()?;
        if t & SRID_FLAG != 0 {
            self.u32()?;
        }
        Ok(t & 0xFFFF)
    }
    fn polygon(&mut self) -> Result<Polygon<f64>, WkbError> {
        let n = self.u32()? as usize;
        let mut rings = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let m = self.u32()? as usize;
            if m > self.buf.len() / 16 {
                return Err(WkbError::Truncated);
            }
            let mut coords = Vec::with_capacity(m);
            for _ in 0..m {
                coords.push(Coord {
                    x: self.f64()?,
                    y: self.f64()?,
                });
            }
            rings.push(LineString(coords));
        }
        let mut rings = rings.into_iter();
        let exterior = rings.next().unwrap_or_else(|| LineString(vec![]));
        Ok(Polygon::new(exterior, rings.collect()))
    }
}

/// Reads a Polygon or MultiPolygon (WKB or EWKB) as a MultiPolygon.
pub fn read_multipolygon(buf: &[u8]) -> Result<MultiPolygon<f64>, WkbError> {
    let mut r = Reader { buf, little: true };
    match r.header()? {
        POLYGON => Ok(MultiPolygon(vec![r.polygon()?])),
        MULTIPOLYGON => {
            let n = r.u32()? as usize;
            let mut polys = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                match r.header()? {
                    POLYGON => polys.push(r.polygon()?),
                    t => return Err(WkbError::Type(t)),
                }
            }
            Ok(MultiPolygon(polys))
        }
        t => Err(WkbError::Type(t)),
    }
}

/// Writes a MultiPolygon as little-endian EWKB with SRID 4326.
#[must_use]
pub fn write_multipolygon(mp: &MultiPolygon<f64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(1);
    out.extend_from_slice(&(MULTIPOLYGON | SRID_FLAG).to_le_bytes());
    out.extend_from_slice(&SRID.to_le_bytes());
    push_len(&mut out, mp.0.len());
    for p in &mp.0 {
        out.push(1);
        out.extend_from_slice(&POLYGON.to_le_bytes());
        push_len(&mut out, 1 + p.interiors().len());
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            push_len(&mut out, ring.0.len());
            for c in &ring.0 {
                out.extend_from_slice(&c.x.to_le_bytes());
                out.extend_from_slice(&c.y.to_le_bytes());
            }
        }
    }
    out
}

/// Writes a point as little-endian EWKB with SRID 4326.
#[must_use]
pub fn write_point(lon: f64, lat: f64) -> Vec<u8> {
    let mut out = Vec::with_capacity(25);
    out.push(1);
    out.extend_from_slice(&(POINT | SRID_FLAG).to_le_bytes());
    out.extend_from_slice(&SRID.to_le_bytes());
    out.extend_from_slice(&lon.to_le_bytes());
    out.extend_from_slice(&lat.to_le_bytes());
    out
}

fn push_len(out: &mut Vec<u8>, n: usize) {
    // Geometries come from validated input; u32 lengths are the WKB format's own limit.
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

/// Hex encoding, as PostgreSQL's text COPY format takes geometry (PostGIS reads either
/// case).
pub use crate::hex;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipolygon_round_trip() {
        let ring = LineString::from(vec![(0.0, 0.0), (1.5, 0.0), (1.0, 1.0), (0.0, 0.0)]);
        let hole = LineString::from(vec![(0.2, 0.1), (0.3, 0.1), (0.3, 0.2), (0.2, 0.1)]);
        let mp = MultiPolygon(vec![Polygon::new(ring, vec![hole])]);
        let bytes = write_multipolygon(&mp);
        assert_eq!(read_multipolygon(&bytes).unwrap(), mp);
        assert_eq!(
            read_multipolygon(&bytes[..bytes.len() - 3]),
            Err(WkbError::Truncated)
        );
        assert_eq!(
            read_multipolygon(&write_point(1.0, 2.0)),
            Err(WkbError::Type(1))
        );
        assert_eq!(hex(&[0, 255, 16]), "00ff10");
    }
}
