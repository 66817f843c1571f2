//! Mapbox Vector Tile 2.1 encoder.
//!
//! [`TileBuilder`] holds named [`LayerBuilder`]s; each layer takes features with an optional
//! id, a [`Geometry`] in tile-local integer coordinates and properties as `(&str, Value)`
//! pairs. Keys and values are de-duplicated per layer. Geometry is cleaned on the way in:
//! consecutive duplicate points are removed; lines with fewer than two distinct points and
//! rings with fewer than three distinct points or zero area are dropped (a polygon whose
//! exterior is dropped is dropped with its holes); exterior rings are written with positive
//! area by the specification's surveyor formula (clockwise on screen, `y` down) and holes with
//! negative area, reversing rings as needed (see the `geometry` module).
//! [`TileBuilder::encode`] omits empty layers.
//!
//! Numbers map to value fields as follows: [`Value::F64`] → `double_value`; non-negative
//! [`Value::I64`] and all [`Value::U64`] → `uint_value`; negative [`Value::I64`] →
//! `sint_value` (zigzag, compact for small negatives). `int_value` and `float_value` are never
//! written (the decoder reads them).

mod layer;
mod value;

pub use layer::{LayerBuilder, MVT_VERSION, Tag};
pub use value::Value;

/// A tile under construction: an ordered set of uniquely named layers.
///
/// [`TileBuilder::clear`] empties it for the next tile and keeps its layers' buffers, so that
/// a builder kept from tile to tile stops allocating once its buffers have grown.
#[derive(Debug, Clone, Default)]
pub struct TileBuilder {
    layers: Vec<LayerBuilder>,
    /// Layers of earlier tiles, emptied, for reuse.
    spare: Vec<LayerBuilder>,
}

impl TileBuilder {
    /// An empty tile.
    #[must_use]
    pub fn new() -> TileBuilder {
        TileBuilder::default()
    }

    /// The layer called `name`, created with `extent` if it does not exist yet (an existing
    /// layer keeps its extent).
    pub fn layer(&mut self, name: &str, extent: u32) -> &mut LayerBuilder {
        let i = if let Some(i) = self.layers.iter().position(|l| l.name == name) {
            i
        } else {
            let layer = match self.spare.pop() {
                Some(mut l) => {
                    l.reset(name, extent);
                    l
                }
                None => LayerBuilder::new(name, extent),
            };
            self.layers.push(layer);
            self.layers.len() - 1
        };
        &mut self.layers[i]
    }

    /// Removes every layer, keeping their buffers for the layers of the next tile.
    pub fn clear(&mut self) {
        self.spare.append(&mut self.layers);
    }

    /// Bytes the builder holds allocated (at least), for deciding whether to keep it.
    #[must_use]
    pub fn allocated(&self) -> usize {
        self.layers
            .iter()
            .chain(&self.spare)
            .map(|l| l.features.capacity() + l.values.capacity())
            .sum()
    }

    /// Adds a layer built separately, replacing any layer with the same name.
    pub fn add_layer(&mut self, layer: LayerBuilder) {
        match self.layers.iter_mut().find(|l| l.name == layer.name) {
            Some(slot) => *slot = layer,
            None => self.layers.push(layer),
        }
    }

    /// Whether no layer has any feature (the encoded tile would be empty).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.layers.iter().all(LayerBuilder::is_empty)
    }

    /// The encoded tile (uncompressed protobuf). Empty layers are omitted, so a tile without
    /// features encodes to zero bytes.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            self.layers
                .iter()
                .map(|l| l.features.len() + l.values.len() + 64 * l.keys.len() + 64)
                .sum(),
        );
        for l in &self.layers {
            l.encode_into(&mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;
    use crate::geometry::{GeomType, Geometry, encode_geometry, signed_area2};

    /// Draws a small tile of two layers into `t`; `k` varies keys, values and extents.
    fn draw_into(t: &mut TileBuilder, k: u32) {
        let layer = t.layer(&format!("a{k}"), 4096 + k);
        let tag = layer.tag("level", &Value::from(format!("l{}", k % 3).as_str()));
        for i in 0..(k + 2) {
            let c = i32::try_from(i).unwrap_or(0);
            layer.add_with(
                Some(u64::from(i)),
                |g| encode_geometry(&Geometry::Point([c, c * 2]), g),
                &[tag],
                &[
                    ("n", Value::from(i64::from(i))),
                    (&format!("k{k}"), Value::from(k.is_multiple_of(2))),
                ],
                &[("name", "x")],
            );
        }
        t.layer("second", 512).add_feature(
            None,
            &Geometry::Point([1, 1]),
            &[("k", Value::from(f64::from(k)))],
        );
    }

    #[test]
    fn tagged_points_written_straight_are_the_general_bytes() {
        let mut straight = TileBuilder::new();
        let mut general = TileBuilder::new();
        let (a, b) = (straight.layer("p", 4096), general.layer("p", 4096));
        // Many keys and values, so that indices past one varint byte occur.
        let mut tags = Vec::new();
        for i in 0..300_i64 {
            let t = a.tag(&format!("k{}", i % 140), &Value::from(i * 7));
            assert_eq!(t, b.tag(&format!("k{}", i % 140), &Value::from(i * 7)));
            tags.push(t);
        }
        let mut seed = 11_u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            seed >> 33
        };
        for n in 0..2_000_u64 {
            #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
            let p = [next() as i32 % 70_000 - 35_000, next() as i32 % 9_000 - 300];
            let id = (n % 3 != 0).then(|| next() << (n % 40));
            let from = usize::try_from(next() % 300).unwrap_or(0);
            let to = (from + usize::try_from(next() % 9).unwrap_or(0)).min(tags.len());
            a.add_point_tagged(id, p, &tags[from..to]);
            assert!(b.add_feature_tagged(id, &Geometry::Point(p), &tags[from..to], &[]));
        }
        assert_eq!(straight.encode(), general.encode());
    }

    #[test]
    fn a_cleared_builder_encodes_as_a_fresh_one() {
        let mut reused = TileBuilder::new();
        for k in [3, 0, 7, 1, 1] {
            reused.clear();
            draw_into(&mut reused, k);
            let mut fresh = TileBuilder::new();
            draw_into(&mut fresh, k);
            assert_eq!(reused.encode(), fresh.encode(), "tile {k}");
        }
        assert!(reused.allocated() > 0);
        reused.clear();
        assert!(reused.is_empty() && reused.encode().is_empty());
    }

    #[test]
    fn known_answer_point_tile() {
        // One point at (25, 17), id 1, {"hello": "world"}, in layer "points", extent 4096.
        // Geometry [9, 50, 34] is the MVT specification's point example (MoveTo(25, 17));
        // the rest is hand-derived from the protobuf wire format.
        let mut t = TileBuilder::new();
        t.layer("points", 4096).add_feature(
            Some(1),
            &Geometry::Point([25, 17]),
            &[("hello", "world".into())],
        );
        let feature: &[u8] = &[
            0x08, 0x01, // id = 1
            0x12, 0x02, 0x00, 0x00, // tags = [0, 0]
            0x18, 0x01, // type = POINT
            0x22, 0x03, 0x09, 0x32, 0x22, // geometry = [9, 50, 34]
        ];
        let mut layer = vec![0x78, 0x02, 0x0a, 0x06]; // version = 2, name (6 bytes)
        layer.extend_from_slice(b"points");
        layer.extend_from_slice(&[0x12, 0x0d]);
        layer.extend_from_slice(feature);
        layer.extend_from_slice(&[0x1a, 0x05]);
        layer.extend_from_slice(b"hello");
        layer.extend_from_slice(&[0x22, 0x07, 0x0a, 0x05]); // value { string_value }
        layer.extend_from_slice(b"world");
        layer.extend_from_slice(&[0x28, 0x80, 0x20]); // extent = 4096
        let mut tile = vec![0x1a, u8::try_from(layer.len()).unwrap()];
        tile.extend_from_slice(&layer);
        assert_eq!(t.encode(), tile);
    }

    #[test]
    fn point_line_polygon_round_trip() {
        let mut t = TileBuilder::new();
        let pts = t.layer("pts", 4096);
        assert!(pts.add_feature(Some(7), &Geometry::Point([1, 2]), &[("n", 1i64.into())]));
        assert!(pts.add_feature(None, &Geometry::MultiPoint(vec![[5, 5], [3, 9]]), &[]));
        let lines = t.layer("lines", 512);
        assert!(lines.add_feature(
            Some(8),
            &Geometry::LineString(vec![[0, 0], [10, 0], [10, 0], [10, 10]]),
            &[("name", "a".into()), ("ok", true.into())],
        ));
        assert!(!lines.add_feature(None, &Geometry::LineString(vec![[3, 3], [3, 3]]), &[]));
        let polys = t.layer("polys", 4096);
        let sq = vec![[0, 0], [0, 100], [100, 100], [100, 0], [0, 0]]; // counter-clockwise on screen
        let hole = vec![[10, 10], [20, 10], [20, 20], [10, 20]]; // clockwise on screen
        assert!(polys.add_feature(
            Some(9),
            &Geometry::Polygon(vec![sq, hole]),
            &[("area", 1.5.into()), ("d", (-3i64).into())],
        ));
        t.layer("empty", 4096);

        let layers = decode(&t.encode()).unwrap();
        assert_eq!(layers.len(), 3, "the empty layer is omitted");
        assert_eq!(layers[0].name, "pts");
        assert_eq!(layers[0].version, 2);
        let f = &layers[0].features;
        assert_eq!(f[0].id, Some(7));
        assert_eq!(f[0].geom_type, GeomType::Point);
        assert_eq!(f[0].geometry, vec![vec![[1, 2]]]);
        assert_eq!(f[0].properties, vec![("n".to_owned(), Value::U64(1))]);
        assert_eq!(f[1].id, None);
        assert_eq!(f[1].geometry, vec![vec![[5, 5], [3, 9]]]);

        assert_eq!(layers[1].extent, 512);
        let l = &layers[1].features[0];
        assert_eq!(l.geom_type, GeomType::LineString);
        assert_eq!(l.geometry, vec![vec![[0, 0], [10, 0], [10, 10]]]);
        assert_eq!(layers[1].features.len(), 1);
        assert_eq!(
            l.properties,
            vec![
                ("name".to_owned(), Value::from("a")),
                ("ok".to_owned(), Value::Bool(true))
            ]
        );

        let p = &layers[2].features[0];
        assert_eq!(p.geom_type, GeomType::Polygon);
        assert_eq!(p.geometry.len(), 2);
        assert!(
            signed_area2(&p.geometry[0]) > 0,
            "exterior has positive area"
        );
        assert!(signed_area2(&p.geometry[1]) < 0, "hole has negative area");
        assert_eq!(p.geometry[0], vec![[100, 0], [100, 100], [0, 100], [0, 0]]);
        assert_eq!(
            p.properties,
            vec![
                ("area".to_owned(), Value::F64(1.5)),
                ("d".to_owned(), Value::I64(-3))
            ]
        );
    }

    #[test]
    fn many_keys_and_tags_decode_to_the_properties_given() {
        let mut l = LayerBuilder::new("l", 4096);
        let names: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
        let shared = l.tag("shared", &Value::from("yes"));
        for f in 0..30u64 {
            // Keys come back in every feature, past the size where the table gets hashed.
            let props: Vec<(&str, Value)> = names
                .iter()
                .take(10 + f as usize)
                .map(|n| (n.as_str(), Value::U64(f)))
                .collect();
            assert!(l.add_feature_tagged(Some(f), &Geometry::Point([1, 1]), &[shared], &props));
        }
        let mut t = TileBuilder::new();
        t.add_layer(l);
        let layers = decode(&t.encode()).unwrap();
        let layer = &layers[0];
        let mut keys = layer.keys.clone();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), layer.keys.len(), "keys repeat");
        assert_eq!(layer.keys.len(), 40);
        for (f, feature) in layer.features.iter().enumerate() {
            let mut want = vec![("shared".to_owned(), Value::from("yes"))];
            want.extend(
                names
                    .iter()
                    .take(10 + f)
                    .map(|n| (n.clone(), Value::U64(f as u64))),
            );
            assert_eq!(feature.properties, want);
        }
    }

    #[test]
    fn keys_and_values_are_deduplicated() {
        let mut l = LayerBuilder::new("l", 4096);
        for i in 0..10u64 {
            let props = [
                ("kind", Value::from("event")),
                ("count", Value::U64(i % 2)),
                ("same", Value::I64(1)), // same encoding as U64(1): one value
                ("x", Value::F64(0.5)),
            ];
            assert!(l.add_feature(Some(i), &Geometry::Point([1, 1]), &props));
        }
        let mut t = TileBuilder::new();
        t.add_layer(l);
        let layers = decode(&t.encode()).unwrap();
        let layer = &layers[0];
        assert_eq!(layer.keys, ["kind", "count", "same", "x"]);
        assert_eq!(
            layer.values,
            [
                Value::from("event"),
                Value::U64(0),
                Value::U64(1),
                Value::F64(0.5)
            ]
        );
        assert_eq!(layer.features.len(), 10);
        assert_eq!(
            layer.features[3].properties[1],
            ("count".to_owned(), Value::U64(1))
        );
    }
}
