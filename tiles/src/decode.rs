//! A minimal MVT decoder, for round-trip tests of [`crate::mvt`].
//!
//! It reads layers, keys, values and features and turns geometry commands back into absolute
//! integer coordinates. It does not validate the specification's rules (winding, uniqueness)
//! beyond what it needs to decode; independent decoders check those in integration tests.

use std::borrow::Cow;

use crate::geometry::{GeomType, TileCoord};
use crate::mvt::Value;
use crate::pbf::{self, FIXED32, FIXED64, LEN, PbfError, Reader, VARINT};

/// A decoded layer.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedLayer {
    /// `version` (field 15).
    pub version: u32,
    /// Name.
    pub name: String,
    /// Extent (4096 when absent).
    pub extent: u32,
    /// Keys, in table order.
    pub keys: Vec<String>,
    /// Values, in table order.
    pub values: Vec<Value<'static>>,
    /// Features.
    pub features: Vec<DecodedFeature>,
}

/// A decoded feature.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedFeature {
    /// Id, if present.
    pub id: Option<u64>,
    /// Geometry type.
    pub geom_type: GeomType,
    /// Properties resolved through the layer's tables, in tag order.
    pub properties: Vec<(String, Value<'static>)>,
    /// One entry per `MoveTo`: for points, the points of that command; for lines, one line;
    /// for polygons, one ring (without a repeated closing point).
    pub geometry: Vec<Vec<TileCoord>>,
}

fn bad(what: &'static str) -> PbfError {
    PbfError { offset: 0, what }
}

/// Decodes a tile.
///
/// # Errors
///
/// [`PbfError`] on malformed protobuf, tag indexes outside the tables, or geometry commands
/// that do not parse.
pub fn decode(tile: &[u8]) -> Result<Vec<DecodedLayer>, PbfError> {
    let mut r = Reader::new(tile);
    let mut layers = Vec::new();
    while !r.at_end() {
        match r.key()? {
            (3, LEN) => layers.push(decode_layer(r.bytes()?)?),
            (_, wire) => r.skip(wire)?,
        }
    }
    Ok(layers)
}

fn utf8(b: &[u8]) -> Result<String, PbfError> {
    String::from_utf8(b.to_vec()).map_err(|_| bad("invalid UTF-8"))
}

fn decode_layer(buf: &[u8]) -> Result<DecodedLayer, PbfError> {
    let mut r = Reader::new(buf);
    let mut layer = DecodedLayer {
        version: 1,
        name: String::new(),
        extent: 4096,
        keys: Vec::new(),
        values: Vec::new(),
        features: Vec::new(),
    };
    let mut raw_features = Vec::new();
    while !r.at_end() {
        match r.key()? {
            (15, VARINT) => {
                layer.version = u32::try_from(r.varint()?).map_err(|_| bad("version"))?;
            }
            (1, LEN) => layer.name = utf8(r.bytes()?)?,
            (2, LEN) => raw_features.push(r.bytes()?),
            (3, LEN) => layer.keys.push(utf8(r.bytes()?)?),
            (4, LEN) => layer.values.push(decode_value(r.bytes()?)?),
            (5, VARINT) => layer.extent = u32::try_from(r.varint()?).map_err(|_| bad("extent"))?,
            (_, wire) => r.skip(wire)?,
        }
    }
    for f in raw_features {
        let f = decode_feature(f, &layer.keys, &layer.values)?;
        layer.features.push(f);
    }
    Ok(layer)
}

fn decode_value(buf: &[u8]) -> Result<Value<'static>, PbfError> {
    let mut r = Reader::new(buf);
    let mut value = None;
    while !r.at_end() {
        value = Some(match r.key()? {
            (1, LEN) => Value::String(Cow::Owned(utf8(r.bytes()?)?)),
            (2, FIXED32) => Value::F64(f32::from_le_bytes(r.fixed32()?).into()),
            (3, FIXED64) => Value::F64(f64::from_le_bytes(r.fixed64()?)),
            #[allow(clippy::cast_possible_wrap)]
            (4, VARINT) => Value::I64(r.varint()? as i64),
            (5, VARINT) => Value::U64(r.varint()?),
            (6, VARINT) => Value::I64(pbf::unzigzag64(r.varint()?)),
            (7, VARINT) => Value::Bool(r.varint()? != 0),
            (_, wire) => {
                r.skip(wire)?;
                continue;
            }
        });
    }
    value.ok_or(bad("empty value"))
}

fn decode_feature(
    buf: &[u8],
    keys: &[String],
    values: &[Value<'static>],
) -> Result<DecodedFeature, PbfError> {
    let mut r = Reader::new(buf);
    let mut f = DecodedFeature {
        id: None,
        geom_type: GeomType::Unknown,
        properties: Vec::new(),
        geometry: Vec::new(),
    };
    let mut commands = Vec::new();
    while !r.at_end() {
        match r.key()? {
            (1, VARINT) => f.id = Some(r.varint()?),
            (2, LEN) => {
                let tags = r.packed_u32()?;
                if tags.len() % 2 != 0 {
                    return Err(bad("odd tag count"));
                }
                for kv in tags.chunks_exact(2) {
                    let k = keys.get(kv[0] as usize).ok_or(bad("key index"))?;
                    let v = values.get(kv[1] as usize).ok_or(bad("value index"))?;
                    f.properties.push((k.clone(), v.clone()));
                }
            }
            (3, VARINT) => f.geom_type = GeomType::from_number(r.varint()?),
            (4, LEN) => commands = r.packed_u32()?,
            (_, wire) => r.skip(wire)?,
        }
    }
    f.geometry = decode_geometry(&commands)?;
    Ok(f)
}

/// Turns a command list back into parts of absolute coordinates.
fn decode_geometry(commands: &[u32]) -> Result<Vec<Vec<TileCoord>>, PbfError> {
    let mut parts: Vec<Vec<TileCoord>> = Vec::new();
    let mut cursor = [0i32, 0i32];
    let mut it = commands.iter().copied();
    while let Some(c) = it.next() {
        let (id, count) = (c & 7, c >> 3);
        match id {
            1 | 2 => {
                if id == 1 {
                    parts.push(Vec::new());
                }
                let part = parts.last_mut().ok_or(bad("LineTo before MoveTo"))?;
                for _ in 0..count {
                    let dx = it.next().ok_or(bad("missing parameter"))?;
                    let dy = it.next().ok_or(bad("missing parameter"))?;
                    cursor[0] = cursor[0].wrapping_add(pbf::unzigzag32(dx));
                    cursor[1] = cursor[1].wrapping_add(pbf::unzigzag32(dy));
                    part.push(cursor);
                }
            }
            7 => {
                if parts.is_empty() || count != 1 {
                    return Err(bad("bad ClosePath"));
                }
            }
            _ => return Err(bad("unknown command")),
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_spec_geometry_examples() {
        // Specification 4.3.5: a point, a multipoint, a linestring and a polygon.
        assert_eq!(decode_geometry(&[9, 50, 34]).unwrap(), vec![vec![[25, 17]]]);
        assert_eq!(
            decode_geometry(&[17, 10, 14, 3, 9]).unwrap(),
            vec![vec![[5, 7], [3, 2]]]
        );
        assert_eq!(
            decode_geometry(&[9, 4, 4, 18, 0, 16, 16, 0]).unwrap(),
            vec![vec![[2, 2], [2, 10], [10, 10]]]
        );
        assert_eq!(
            decode_geometry(&[9, 6, 12, 18, 10, 12, 24, 44, 15]).unwrap(),
            vec![vec![[3, 6], [8, 12], [20, 34]]]
        );
        assert!(decode_geometry(&[18, 0, 0]).is_err());
        assert!(decode_geometry(&[9, 1]).is_err());
    }

    #[test]
    fn rejects_garbage_and_skips_unknown_fields() {
        assert!(decode(&[0x1a, 0x05, 0x01]).is_err());
        // An unknown varint field 9 at tile level is skipped.
        assert_eq!(decode(&[0x48, 0x01]).unwrap(), vec![]);
        // float_value and int_value decode.
        let v = decode_value(&[0x15, 0x00, 0x00, 0xc0, 0x3f]).unwrap();
        assert_eq!(v, Value::F64(1.5));
        assert_eq!(decode_value(&[0x20, 0x05]).unwrap(), Value::I64(5));
    }
}
