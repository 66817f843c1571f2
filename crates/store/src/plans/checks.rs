//! Checks of input geometries and of stored grids, made before PostGIS computes with them:
//! coordinates finite and on the globe, a grid's size and place (see [`MAX_INPUT_SIDE_DEG`]
//! and [`INPUT_MARGIN_DEG`]), validity read as data from a check statement. Each fault is
//! typed ([`ExtentFault`], [`PlanError::Input`], [`PlanError::Geometry`]), never found by
//! reading the text of a database error.

use crate::rows::RowExt;
use deadpool_postgres::GenericClient;
use geo_types::MultiPolygon;

use super::fault::Fault;
use super::model::{PlanError, PlanResult, loc};
use minqing_model::wkb;

/// Longest side (degrees) of the bounding box of an input geometry: a grid, a piece of one
/// or a new grid is a few kilometres across; no input may be anywhere near a hemisphere
/// (geography computations refuse edges of 180°, and such a polygon could never be a grid).
pub const MAX_INPUT_SIDE_DEG: f64 = 2.0;
/// How far (degrees) an input geometry may reach beyond the bounding box of the plan's area.
pub const INPUT_MARGIN_DEG: f64 = 0.5;

/// Why a geometry is not of a grid's size and place (see [`MAX_INPUT_SIDE_DEG`] and
/// [`INPUT_MARGIN_DEG`]): decided in Rust from its coordinates and bounding box, before
/// PostGIS computes anything with it.
#[derive(Debug, Clone, PartialEq)]
enum ExtentFault {
    /// No coordinate.
    Empty,
    /// A position that is not a finite longitude and latitude.
    NotLonLat([f64; 2]),
    /// A side of its bounding box longer than [`MAX_INPUT_SIDE_DEG`]: width and height, °.
    TooLarge([f64; 2]),
    /// Its bounding box reaches further than [`INPUT_MARGIN_DEG`] beyond the plan area's.
    OutsideRegion {
        /// Its bounding box.
        bounds: [f64; 4],
        /// The plan area's.
        area: [f64; 4],
    },
}

impl ExtentFault {
    /// The refusal of an input geometry described by `what` (nothing was written).
    fn refusal(&self, what: &str) -> String {
        let m = INPUT_MARGIN_DEG;
        match self {
            ExtentFault::Empty => format!("{what}: the geometry is empty"),
            ExtentFault::NotLonLat([x, y]) => {
                format!("{what}: the position ({x}, {y}) is not a finite longitude and latitude")
            }
            ExtentFault::TooLarge([w, h]) => format!(
                "{what} is too large: its bounding box is {w:.4}° × {h:.4}°, more than \
                 {MAX_INPUT_SIDE_DEG}° a side; nothing was changed"
            ),
            ExtentFault::OutsideRegion { bounds: b, area: a } => format!(
                "{what} lies outside the plan's region: its bounding box [{:.5}, {:.5}, {:.5}, \
                 {:.5}] must be within {m}° of the plan area's [{:.5}, {:.5}, {:.5}, \
                 {:.5}]; nothing was changed",
                b[0], b[1], b[2], b[3], a[0], a[1], a[2], a[3]
            ),
        }
    }

    /// The reason a stored grid cannot be computed with (a fault of its draft).
    fn reason(&self) -> String {
        match self {
            ExtentFault::Empty => "the grid's geometry is empty".to_owned(),
            ExtentFault::NotLonLat([x, y]) => format!(
                "the position ({x}, {y}) is not a finite longitude and latitude; reshape or retire the grid"
            ),
            ExtentFault::TooLarge([w, h]) => format!(
                "the grid is too large to be a grid: its bounding box is {w:.4}° × {h:.4}°, more \
                 than {MAX_INPUT_SIDE_DEG}° a side; reshape or retire it"
            ),
            ExtentFault::OutsideRegion { bounds: b, .. } => format!(
                "the grid lies outside the plan's region (bounding box [{:.5}, {:.5}, {:.5}, \
                 {:.5}]); reshape or retire it",
                b[0], b[1], b[2], b[3]
            ),
        }
    }
}

/// Whether a position is a finite longitude and latitude (NaN and infinities are in no
/// range).
fn is_lon_lat(x: f64, y: f64) -> bool {
    (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y)
}

/// Bounding box `[min_lon, min_lat, max_lon, max_lat]` of a geometry's coordinates, or why
/// it has none usable (no coordinate, or one not finite or off the globe).
fn input_bounds(g: &MultiPolygon<f64>) -> Result<[f64; 4], ExtentFault> {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for poly in &g.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            for c in &ring.0 {
                if !is_lon_lat(c.x, c.y) {
                    return Err(ExtentFault::NotLonLat([c.x, c.y]));
                }
                b = [b[0].min(c.x), b[1].min(c.y), b[2].max(c.x), b[3].max(c.y)];
            }
        }
    }
    if b[0] > b[2] {
        return Err(ExtentFault::Empty);
    }
    Ok(b)
}

/// Whether bounding box `b` is of a grid's size and, when the plan's area has a bounding
/// box, of its place.
fn check_extent(b: [f64; 4], area: Option<[f64; 4]>) -> Result<(), ExtentFault> {
    if !(is_lon_lat(b[0], b[1]) && is_lon_lat(b[2], b[3])) {
        let at = if is_lon_lat(b[0], b[1]) {
            [b[2], b[3]]
        } else {
            [b[0], b[1]]
        };
        return Err(ExtentFault::NotLonLat(at));
    }
    let (w_deg, h_deg) = (b[2] - b[0], b[3] - b[1]);
    if w_deg > MAX_INPUT_SIDE_DEG || h_deg > MAX_INPUT_SIDE_DEG {
        return Err(ExtentFault::TooLarge([w_deg, h_deg]));
    }
    if let Some(a) = area {
        let m = INPUT_MARGIN_DEG;
        if b[0] < a[0] - m || b[1] < a[1] - m || b[2] > a[2] + m || b[3] > a[3] + m {
            return Err(ExtentFault::OutsideRegion { bounds: b, area: a });
        }
    }
    Ok(())
}

/// Four optional numbers, when all are there.
fn all4(v: [Option<f64>; 4]) -> Option<[f64; 4]> {
    match v {
        [Some(a), Some(b), Some(c), Some(d)] => Some([a, b, c, d]),
        _ => None,
    }
}

/// A geometry to be stored in draft `plan`: its WKB, after checking that its coordinates
/// are finite, that it is no larger than [`MAX_INPUT_SIDE_DEG`] a side, that it is valid
/// (reason and location otherwise) and that it lies within the bounding box of the plan's
/// area grown by [`INPUT_MARGIN_DEG`]. Nothing is written before these checks pass.
pub(super) async fn checked_wkb(
    c: &impl GenericClient,
    plan: i64,
    what: &str,
    g: &MultiPolygon<f64>,
) -> PlanResult<Vec<u8>> {
    let refuse = |f: ExtentFault| PlanError::Input(f.refusal(what));
    if g.0.is_empty() {
        return Err(refuse(ExtentFault::Empty));
    }
    let b = input_bounds(g).map_err(refuse)?;
    check_extent(b, None).map_err(refuse)?;
    let w = wkb::write_multipolygon(g);
    let row = c
        .query_one(include_str!("../sql/plan_check_geom.sql"), &[&w, &plan])
        .await?;
    let valid: bool = row.col("valid")?;
    if !valid {
        return Err(PlanError::Geometry {
            what: what.to_owned(),
            reason: row.col::<Option<String>>("reason")?.unwrap_or_default(),
            location: loc(row.col("x")?, row.col("y")?),
        });
    }
    let area = all4([
        row.col("area_xmin")?,
        row.col("area_ymin")?,
        row.col("area_xmax")?,
        row.col("area_ymax")?,
    ]);
    check_extent(b, area).map_err(refuse)?;
    Ok(w)
}

/// Checks the stored grids of draft `plan` before PostGIS computes with them: each must be
/// of a grid's size and place (as an input geometry must be: a draft may hold grids stored
/// before those checks), and with `valid`, valid. `keys`: only these grids (`None`: all).
/// Returns the grids that fail, each with its fault; a check statement decides validity
/// (`ST_IsValidDetail`), read as data.
pub(super) async fn check_stored(
    c: &impl GenericClient,
    plan: i64,
    keys: Option<&[i32]>,
    valid: bool,
) -> PlanResult<(usize, Vec<Fault>)> {
    let keys: Option<Vec<i32>> = keys.map(<[i32]>::to_vec);
    let rows = c
        .query(
            include_str!("../sql/plan_check_grids.sql"),
            &[&plan, &keys, &valid],
        )
        .await?;
    let mut faults = Vec::new();
    for r in &rows {
        let grid: i32 = r.col("key")?;
        let code: String = r.col("code")?;
        let bounds = all4([
            r.col("xmin")?,
            r.col("ymin")?,
            r.col("xmax")?,
            r.col("ymax")?,
        ]);
        let area = all4([
            r.col("area_xmin")?,
            r.col("area_ymin")?,
            r.col("area_xmax")?,
            r.col("area_ymax")?,
        ]);
        let extent = bounds.map_or(Err(ExtentFault::Empty), |b| check_extent(b, area));
        if let Err(f) = extent {
            faults.push(Fault::InvalidGeometry {
                grid,
                code,
                reason: f.reason(),
                location: None,
            });
            continue;
        }
        if r.col::<Option<bool>>("valid")? == Some(false) {
            faults.push(Fault::InvalidGeometry {
                grid,
                code,
                reason: r.col::<Option<String>>("reason")?.unwrap_or_default(),
                location: loc(r.col("x")?, r.col("y")?),
            });
        }
    }
    Ok((rows.len(), faults))
}

/// Refuses an operation that would compute with grids `keys` of draft `plan` when one of
/// them cannot be computed with (see [`check_stored`]): a 422 naming the grid and why,
/// before PostGIS is asked.
pub(super) async fn ensure_usable(
    c: &impl GenericClient,
    plan: i64,
    keys: &[i32],
) -> PlanResult<()> {
    let (_, faults) = check_stored(c, plan, Some(keys), true).await?;
    match faults.into_iter().next() {
        None => Ok(()),
        Some(Fault::InvalidGeometry {
            grid,
            reason,
            location: Some(location),
            ..
        }) => Err(PlanError::Geometry {
            what: format!("grid {grid}'s geometry"),
            reason,
            location: Some(location),
        }),
        Some(Fault::InvalidGeometry { grid, reason, .. }) => Err(PlanError::Input(format!(
            "grid {grid} cannot be computed with: {reason}; nothing was changed"
        ))),
        Some(_) => Err(PlanError::Input(format!(
            "grids {keys:?} cannot be computed with; nothing was changed"
        ))),
    }
}

/// The WKB of a line given by an operation, after checking it has two positions or more, no
/// segment of length 0, and every position a finite longitude and latitude.
pub(super) fn check_line(line: &[(f64, f64)]) -> PlanResult<Vec<u8>> {
    if line.len() < 2 {
        return Err(PlanError::Input(
            "a line needs at least two positions".into(),
        ));
    }
    if line.windows(2).any(|w| w[0] == w[1]) {
        return Err(PlanError::Input(
            "the line repeats a position (a segment of length 0)".into(),
        ));
    }
    if let Some((x, y)) = line.iter().find(|(x, y)| !is_lon_lat(*x, *y)) {
        return Err(PlanError::Input(
            ExtentFault::NotLonLat([*x, *y]).refusal("the line"),
        ));
    }
    Ok(line_wkb(line))
}

/// Little-endian WKB of a line string.
fn line_wkb(line: &[(f64, f64)]) -> Vec<u8> {
    let mut b = Vec::with_capacity(9 + line.len() * 16);
    b.push(1);
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(&u32::try_from(line.len()).unwrap_or(0).to_le_bytes());
    for (x, y) in line {
        b.extend_from_slice(&x.to_le_bytes());
        b.extend_from_slice(&y.to_le_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    #[test]
    fn extents_of_a_grid_size_and_place_pass_others_are_typed_faults() {
        let area = Some([115.0, 22.0, 115.2, 22.2]);
        assert_eq!(check_extent([115.05, 22.05, 115.1, 22.1], area), Ok(()));
        assert_eq!(
            check_extent([-180.0, -90.0, 180.0, 90.0], area),
            Err(ExtentFault::TooLarge([360.0, 180.0]))
        );
        assert!(matches!(
            check_extent([2.35, 48.85, 2.36, 48.86], area),
            Err(ExtentFault::OutsideRegion { .. })
        ));
        assert_eq!(check_extent([2.35, 48.85, 2.36, 48.86], None), Ok(()));
        assert!(matches!(
            check_extent([f64::NAN, 22.0, 115.1, 22.1], area),
            Err(ExtentFault::NotLonLat(_))
        ));
        let world = MultiPolygon(vec![polygon![
            (x: -180.0, y: -90.0), (x: 180.0, y: -90.0), (x: 180.0, y: 90.0), (x: -180.0, y: -90.0)
        ]]);
        let b = input_bounds(&world).unwrap();
        let f = check_extent(b, None).unwrap_err();
        assert!(f.refusal("the piece").starts_with("the piece is too large"));
        assert!(f.reason().contains("too large"));
        assert_eq!(input_bounds(&MultiPolygon(vec![])), Err(ExtentFault::Empty));
    }

    #[test]
    fn a_line_off_the_globe_is_refused_before_the_database() {
        let e = check_line(&[(115.0, 22.0), (f64::INFINITY, 22.1)]).unwrap_err();
        assert!(
            matches!(&e, PlanError::Input(m) if m.contains("not a finite longitude")),
            "{e:?}"
        );
        assert!(check_line(&[(115.0, 22.0), (115.1, 22.1)]).is_ok());
    }

    #[test]
    fn line_wkb_is_little_endian_linestring() {
        let w = line_wkb(&[(1.0, 2.0), (3.0, 4.0)]);
        assert_eq!(w.len(), 9 + 32);
        assert_eq!(&w[..5], &[1, 2, 0, 0, 0]);
    }
}
