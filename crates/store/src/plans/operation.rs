//! The operations a client may ask of a draft, as JSON (`{"op": …}`): a serde enum tagged
//! by `op`, which refuses unknown fields and unknown ops. Each field is checked as it is
//! read, and a refusal names the field and what it must be (the HTTP layer answers 400):
//!
//! - `{"op":"reshape","grid","geometry"?,"households"?,"population"?,"name"?}`
//! - `{"op":"split","grid","line"}`
//! - `{"op":"merge","grids":[…]}`
//! - `{"op":"move_boundary","from","to","piece"}` or `{"op":"move_boundary","grids":[a,b],"line"}`
//! - `{"op":"create","geometry","households","population","name"?,"code"?,"parent"?}`
//! - `{"op":"retire","grid"}`
//!
//! `grid`, `grids`, `from` and `to` are draft keys; `geometry` and `piece` are GeoJSON
//! Polygons or MultiPolygons, `line` a GeoJSON LineString (a Feature is accepted for its
//! geometry). What the geometries must be beyond their form — a grid's size and place, valid
//! — is checked when the operation is applied (a 422).

use geo_types::MultiPolygon;
use serde::Deserialize;
use serde_json::Value;

/// The ops, as the `op` field names them (the variants of [`Operation`]).
const OPS: [&str; 6] = [
    "reshape",
    "split",
    "merge",
    "move_boundary",
    "create",
    "retire",
];
/// Most grid keys an operation may name.
const MAX_KEYS: usize = 1000;
/// Most positions of a line.
const MAX_LINE_POSITIONS: usize = 10_000;
/// Longest grid name, in characters.
const MAX_NAME_CHARS: usize = 200;
/// Longest grid code, in characters.
const MAX_CODE_CHARS: usize = 64;

/// An operation on a draft (see the plans module documentation), as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Operation {
    /// New geometry and/or figures of a grid. Without figures, a reshaped grid keeps its own.
    Reshape {
        /// Key.
        #[serde(deserialize_with = "field::grid")]
        grid: i32,
        /// New boundary.
        #[serde(default, deserialize_with = "field::opt_geometry")]
        geometry: Option<MultiPolygon<f64>>,
        /// New households.
        #[serde(default, deserialize_with = "field::households")]
        households: Option<i32>,
        /// New population.
        #[serde(default, deserialize_with = "field::population")]
        population: Option<i32>,
        /// New name.
        #[serde(default, deserialize_with = "field::name")]
        name: Option<String>,
    },
    /// Cut a grid by a line.
    Split {
        /// Key.
        #[serde(deserialize_with = "field::grid")]
        grid: i32,
        /// The line, lon/lat positions.
        #[serde(deserialize_with = "field::line")]
        line: Vec<(f64, f64)>,
    },
    /// Merge adjacent grids.
    Merge {
        /// Keys; the first keeps its identity.
        #[serde(deserialize_with = "field::grids")]
        grids: Vec<i32>,
    },
    /// Move the shared boundary of two grids, in one of two forms.
    MoveBoundary(MoveBoundary),
    /// A new grid.
    Create {
        /// Boundary.
        #[serde(deserialize_with = "field::geometry")]
        geometry: MultiPolygon<f64>,
        /// Households (required when applied).
        #[serde(default, deserialize_with = "field::households")]
        households: Option<i32>,
        /// Population (required when applied).
        #[serde(default, deserialize_with = "field::population")]
        population: Option<i32>,
        /// Name (default: the parent's name and the grid's number).
        #[serde(default, deserialize_with = "field::name")]
        name: Option<String>,
        /// Code (default: the parent's next).
        #[serde(default, deserialize_with = "field::code")]
        code: Option<String>,
        /// Parent (default: the plan's only parent).
        #[serde(default, deserialize_with = "field::parent")]
        parent: Option<i64>,
    },
    /// Remove a grid.
    Retire {
        /// Key.
        #[serde(deserialize_with = "field::grid")]
        grid: i32,
    },
}

/// The two forms of `move_boundary`: with a `piece`, or with a `line`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "MoveBoundaryBody")]
pub enum MoveBoundary {
    /// Give the part of `from` inside `piece` to `to`.
    Give {
        /// Key of the grid giving.
        from: i32,
        /// Key of the grid receiving.
        to: i32,
        /// The piece.
        piece: MultiPolygon<f64>,
    },
    /// Redraw the shared boundary of two grids along a line.
    Redraw {
        /// The two keys.
        grids: [i32; 2],
        /// The new boundary line.
        line: Vec<(f64, f64)>,
    },
}

impl Operation {
    /// Reads an operation from a request body; the error says what is wrong, naming the
    /// field (nothing was changed).
    ///
    /// # Errors
    /// A body that is not an object, without a known `op`, with a field the op does not
    /// take, or with a field that is missing or not what it must be.
    pub fn from_json(body: &Value) -> Result<Operation, String> {
        if !body.is_object() {
            return Err("the body must be a JSON object with an op".into());
        }
        let ops = || OPS.join(", ");
        match body.get("op") {
            Some(Value::String(op)) if OPS.contains(&op.as_str()) => {}
            Some(Value::String(op)) => return Err(format!("unknown op {op:?}; ops: {}", ops())),
            Some(op) => return Err(format!("op must be one of {}, not {op}", ops())),
            None => return Err(format!("the body needs an op: one of {}", ops())),
        }
        Operation::deserialize(body).map_err(|e| e.to_string())
    }
}

/// Every field `move_boundary` takes, as sent; which are there decides the form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBoundaryBody {
    #[serde(default, deserialize_with = "field::opt_from")]
    from: Option<i32>,
    #[serde(default, deserialize_with = "field::opt_to")]
    to: Option<i32>,
    #[serde(default, deserialize_with = "field::opt_piece")]
    piece: Option<MultiPolygon<f64>>,
    #[serde(default, deserialize_with = "field::opt_grids")]
    grids: Option<Vec<i32>>,
    #[serde(default, deserialize_with = "field::opt_line")]
    line: Option<Vec<(f64, f64)>>,
}

/// How `move_boundary` is asked, for the refusals of a mix of its two forms.
const MOVE_BOUNDARY_FORMS: &str =
    "move_boundary takes either from, to and a piece polygon, or grids [a, b] and a line";

impl TryFrom<MoveBoundaryBody> for MoveBoundary {
    type Error = String;

    fn try_from(b: MoveBoundaryBody) -> Result<MoveBoundary, String> {
        match b {
            MoveBoundaryBody {
                from: Some(from),
                to: Some(to),
                piece: Some(piece),
                grids: None,
                line: None,
            } => Ok(MoveBoundary::Give { from, to, piece }),
            MoveBoundaryBody {
                from: None,
                to: None,
                piece: None,
                grids: Some(grids),
                line: Some(line),
            } => match grids[..] {
                [a, b] => Ok(MoveBoundary::Redraw {
                    grids: [a, b],
                    line,
                }),
                _ => Err(format!("grids must name two grids; {MOVE_BOUNDARY_FORMS}")),
            },
            b => {
                let given: Vec<&str> = [
                    ("from", b.from.is_some()),
                    ("to", b.to.is_some()),
                    ("piece", b.piece.is_some()),
                    ("grids", b.grids.is_some()),
                    ("line", b.line.is_some()),
                ]
                .into_iter()
                .filter_map(|(name, there)| there.then_some(name))
                .collect();
                Err(format!(
                    "{MOVE_BOUNDARY_FORMS}; given: {}",
                    if given.is_empty() {
                        "none of them".to_owned()
                    } else {
                        given.join(", ")
                    }
                ))
            }
        }
    }
}

/// The fields of operations: each read as JSON and checked, its refusal naming it.
mod field {
    use geo_types::MultiPolygon;
    use serde::de::{Deserialize, Deserializer, Error};
    use serde_json::Value;

    use super::{MAX_CODE_CHARS, MAX_KEYS, MAX_LINE_POSITIONS, MAX_NAME_CHARS};
    use minqing_model::geojson::{multipolygon_from_json, position_from_json};

    /// Deserializers of named fields: `fn name(d) -> T` reads JSON and checks it with
    /// `check(field name, value)`.
    macro_rules! fields {
        ($($name:ident: $field:literal => $check:ident -> $t:ty;)*) => {$(
            #[doc = concat!("Reads `", $field, "` (see [`", stringify!($check), "`]).")]
            pub(super) fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                $check($field, &Value::deserialize(d)?).map_err(D::Error::custom)
            }
        )*};
    }

    fields! {
        grid: "grid" => key -> i32;
        grids: "grids" => keys -> Vec<i32>;
        opt_from: "from" => opt_key -> Option<i32>;
        opt_to: "to" => opt_key -> Option<i32>;
        opt_grids: "grids" => opt_keys -> Option<Vec<i32>>;
        geometry: "geometry" => polygon -> MultiPolygon<f64>;
        opt_geometry: "geometry" => opt_polygon -> Option<MultiPolygon<f64>>;
        opt_piece: "piece" => opt_polygon -> Option<MultiPolygon<f64>>;
        line: "line" => line_string -> Vec<(f64, f64)>;
        opt_line: "line" => opt_line_string -> Option<Vec<(f64, f64)>>;
        households: "households" => count -> Option<i32>;
        population: "population" => count -> Option<i32>;
        name: "name" => grid_name -> Option<String>;
        code: "code" => grid_code -> Option<String>;
        parent: "parent" => area_id -> Option<i64>;
    }

    /// A value that may be absent (JSON null).
    fn opt<T>(
        v: &Value,
        read: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        match v {
            Value::Null => Ok(None),
            v => read(v).map(Some),
        }
    }

    /// A grid key: an integer.
    fn key(field: &str, v: &Value) -> Result<i32, String> {
        v.as_i64()
            .and_then(|k| i32::try_from(k).ok())
            .ok_or_else(|| format!("{field} must be a grid key (an integer)"))
    }

    fn opt_key(field: &str, v: &Value) -> Result<Option<i32>, String> {
        opt(v, |v| key(field, v))
    }

    /// Grid keys: an array of one to 1,000 integers.
    fn keys(field: &str, v: &Value) -> Result<Vec<i32>, String> {
        v.as_array()
            .and_then(|a| {
                a.iter()
                    .map(|v| v.as_i64().and_then(|k| i32::try_from(k).ok()))
                    .collect::<Option<Vec<_>>>()
            })
            .filter(|v| !v.is_empty() && v.len() <= MAX_KEYS)
            .ok_or_else(|| format!("{field} must be an array of grid keys"))
    }

    fn opt_keys(field: &str, v: &Value) -> Result<Option<Vec<i32>>, String> {
        opt(v, |v| keys(field, v))
    }

    /// A Feature's geometry, or the geometry itself.
    fn geometry_of(v: &Value) -> &Value {
        if v.get("type").and_then(Value::as_str) == Some("Feature") {
            v.get("geometry").unwrap_or(&Value::Null)
        } else {
            v
        }
    }

    /// A GeoJSON Polygon or MultiPolygon (or a Feature of one).
    fn polygon(field: &str, v: &Value) -> Result<MultiPolygon<f64>, String> {
        multipolygon_from_json(geometry_of(v)).map_err(|m| format!("{field}: {m}"))
    }

    fn opt_polygon(field: &str, v: &Value) -> Result<Option<MultiPolygon<f64>>, String> {
        opt(v, |v| polygon(field, v))
    }

    /// A GeoJSON LineString (or a Feature of one) of 2 to 10,000 positions.
    fn line_string(field: &str, v: &Value) -> Result<Vec<(f64, f64)>, String> {
        let g = geometry_of(v);
        if g.get("type").and_then(Value::as_str) != Some("LineString") {
            return Err(format!("{field} must be a GeoJSON LineString"));
        }
        let pts = g
            .get("coordinates")
            .and_then(Value::as_array)
            .filter(|a| a.len() >= 2 && a.len() <= MAX_LINE_POSITIONS)
            .ok_or_else(|| format!("{field} needs 2 to 10,000 positions"))?;
        pts.iter()
            .map(|p| position_from_json(p).map(|c| (c.x, c.y)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| format!("{field}: {m}"))
    }

    fn opt_line_string(field: &str, v: &Value) -> Result<Option<Vec<(f64, f64)>>, String> {
        opt(v, |v| line_string(field, v))
    }

    /// A count (households, population): a non-negative integer, or null.
    fn count(field: &str, v: &Value) -> Result<Option<i32>, String> {
        opt(v, |v| {
            v.as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .filter(|n| *n >= 0)
                .ok_or_else(|| format!("{field} must be a non-negative integer, not {v}"))
        })
    }

    /// Text of at most `max` characters, not blank, or null.
    fn text(field: &str, v: &Value, max: usize) -> Result<Option<String>, String> {
        opt(v, |v| match v {
            Value::String(s) if !s.trim().is_empty() && s.chars().count() <= max => Ok(s.clone()),
            v => Err(format!(
                "{field} must be a non-empty string of at most {max} characters, not {v}"
            )),
        })
    }

    /// A grid's name (at most 200 characters), or null.
    fn grid_name(field: &str, v: &Value) -> Result<Option<String>, String> {
        text(field, v, MAX_NAME_CHARS)
    }

    /// A grid's code: at most 64 letters, digits, `-` and `_`; or null.
    fn grid_code(field: &str, v: &Value) -> Result<Option<String>, String> {
        let code = text(field, v, MAX_CODE_CHARS)?;
        if code.as_deref().is_some_and(|c| {
            !c.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        }) {
            return Err(format!("{field} may hold only letters, digits, - and _"));
        }
        Ok(code)
    }

    /// An area id, or null.
    fn area_id(field: &str, v: &Value) -> Result<Option<i64>, String> {
        opt(v, |v| {
            v.as_i64()
                .ok_or_else(|| format!("{field} must be an area id"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn square() -> Value {
        json!({"type": "Polygon", "coordinates": [[[115.0, 22.0], [115.001, 22.0], [115.0, 22.001], [115.0, 22.0]]]})
    }

    fn line() -> Value {
        json!({"type": "LineString", "coordinates": [[115.0, 22.0], [115.1, 22.1]]})
    }

    #[allow(clippy::needless_pass_by_value)] // called with json!(..) in place
    fn refusal(body: Value) -> String {
        match Operation::from_json(&body) {
            Ok(op) => panic!("{body} was read as {op:?}"),
            Err(m) => m,
        }
    }

    #[test]
    fn every_documented_form_is_read() {
        let ok = [
            json!({"op": "reshape", "grid": 1}),
            json!({"op": "reshape", "grid": 1, "geometry": square(), "households": 300, "population": 900, "name": "一"}),
            json!({"op": "reshape", "grid": 1, "geometry": null, "households": null, "name": null}),
            json!({"op": "reshape", "grid": 1, "geometry": {"type": "Feature", "properties": {}, "geometry": square()}}),
            json!({"op": "split", "grid": 1, "line": line()}),
            json!({"op": "merge", "grids": [1, 2, 3]}),
            json!({"op": "move_boundary", "from": 1, "to": 2, "piece": square()}),
            json!({"op": "move_boundary", "grids": [1, 2], "line": line()}),
            json!({"op": "create", "geometry": square(), "households": 300, "population": 900}),
            json!({"op": "create", "geometry": square(), "households": 300, "population": 900, "name": "新", "code": "X-1_a", "parent": 7}),
            json!({"op": "create", "geometry": square()}),
            json!({"op": "retire", "grid": 4}),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for body in ok {
            assert!(Operation::from_json(&body).is_ok(), "{body}");
            seen.insert(body["op"].as_str().unwrap().to_owned());
        }
        // OPS lists exactly the variants.
        assert_eq!(seen, OPS.iter().map(|s| (*s).to_owned()).collect());
        assert!(matches!(
            Operation::from_json(
                &json!({"op": "move_boundary", "from": 1, "to": 2, "piece": square()})
            ),
            Ok(Operation::MoveBoundary(MoveBoundary::Give {
                from: 1,
                to: 2,
                ..
            }))
        ));
        assert!(matches!(
            Operation::from_json(&json!({"op": "move_boundary", "grids": [3, 4], "line": line()})),
            Ok(Operation::MoveBoundary(MoveBoundary::Redraw {
                grids: [3, 4],
                ..
            }))
        ));
        assert!(matches!(
            Operation::from_json(&json!({"op": "reshape", "grid": 5, "households": 10})),
            Ok(Operation::Reshape {
                grid: 5,
                geometry: None,
                households: Some(10),
                population: None,
                name: None
            })
        ));
    }

    #[test]
    #[allow(clippy::too_many_lines)] // a test scenario reads best as one function from setup to assertion
    fn refusals_name_what_is_wrong() {
        let cases = [
            (json!([1, 2]), "JSON object"),
            (json!({"grid": 1}), "needs an op: one of reshape, split"),
            (
                json!({"op": "explode"}),
                "unknown op \"explode\"; ops: reshape, split, merge, move_boundary, create, retire",
            ),
            (json!({"op": 5}), "op must be one of reshape"),
            (json!({"op": null}), "op must be one of reshape"),
            (json!({"op": "retire", "grid": 1, "color": "red"}), "color"),
            (json!({"op": "retire"}), "grid"),
            (
                json!({"op": "retire", "grid": "1"}),
                "grid must be a grid key",
            ),
            (
                json!({"op": "retire", "grid": 1.5}),
                "grid must be a grid key",
            ),
            (
                json!({"op": "retire", "grid": 3_000_000_000_i64}),
                "grid must be a grid key",
            ),
            (
                json!({"op": "merge", "grids": []}),
                "grids must be an array",
            ),
            (
                json!({"op": "merge", "grids": [1, "b"]}),
                "grids must be an array",
            ),
            (
                json!({"op": "split", "grid": 1, "line": square()}),
                "line must be a GeoJSON LineString",
            ),
            (
                json!({"op": "split", "grid": 1, "line": {"type": "LineString", "coordinates": [[115, 22]]}}),
                "line needs 2 to 10,000",
            ),
            (
                json!({"op": "split", "grid": 1, "line": {"type": "LineString", "coordinates": [[115, 22], [915, 22]]}}),
                "line:",
            ),
            (
                json!({"op": "reshape", "grid": 1, "geometry": line()}),
                "geometry:",
            ),
            (
                json!({"op": "reshape", "grid": 1, "households": -1}),
                "households must be a non-negative integer",
            ),
            (
                json!({"op": "reshape", "grid": 1, "population": "many"}),
                "population must be a non-negative integer",
            ),
            (
                json!({"op": "reshape", "grid": 1, "name": "  "}),
                "name must be a non-empty string",
            ),
            (
                json!({"op": "reshape", "grid": 1, "name": "x".repeat(201)}),
                "at most 200 characters",
            ),
            (
                json!({"op": "create", "households": 1, "population": 1}),
                "geometry",
            ),
            (
                json!({"op": "create", "geometry": square(), "code": "a b"}),
                "code may hold only",
            ),
            (
                json!({"op": "create", "geometry": square(), "code": "x".repeat(65)}),
                "at most 64 characters",
            ),
            (
                json!({"op": "create", "geometry": square(), "parent": "p"}),
                "parent must be an area id",
            ),
            (
                json!({"op": "split", "grid": 1, "line": line(), "piece": square()}),
                "piece",
            ),
            (
                json!({"op": "move_boundary", "from": 1, "to": 2}),
                "given: from, to",
            ),
            (
                json!({"op": "move_boundary", "from": 1, "to": 2, "piece": square(), "line": line()}),
                "given: from, to, piece, line",
            ),
            (
                json!({"op": "move_boundary", "grids": [1, 2, 3], "line": line()}),
                "grids must name two grids",
            ),
            (json!({"op": "move_boundary"}), "given: none of them"),
            (
                json!({"op": "move_boundary", "grids": [1, 2], "line": line(), "colour": 1}),
                "colour",
            ),
            (
                json!({"op": "move_boundary", "from": "a", "to": 2, "piece": square()}),
                "from must be a grid key",
            ),
        ];
        for (body, named) in cases {
            let m = refusal(body.clone());
            assert!(m.contains(named), "{body}: {m:?} does not name {named:?}");
        }
    }
}
