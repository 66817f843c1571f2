//! The household-density model, Steiner-point placement and the constrained triangulation.
//!
//! All districts go into one constrained Delaunay triangulation with every district edge as
//! a constraint (shared edges once). Steiner points are only ever placed strictly inside a
//! district and away from its boundary, so constraint edges are never split and the district
//! boundaries survive vertex for vertex.

use std::collections::{BTreeMap, BTreeSet};

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rstar::RTree;
use rstar::primitives::Line;
use spade::{ConstrainedDelaunayTriangulation, Point2, Triangulation};

use super::GenerateError;

/// "No triangle / no label".
pub(crate) const NONE: u32 = u32::MAX;

const LON0: f64 = 115.5;
const LAT0: f64 = 23.0;
/// Kilometres per degree of longitude at 23° N.
const KX: f64 = 102.4706;
/// Kilometres per degree of latitude.
const KY: f64 = 110.57;

/// Projects (lon, lat) to a local plane in kilometres.
pub(crate) fn to_km(p: [f64; 2]) -> [f64; 2] {
    [(p[0] - LON0) * KX, (p[1] - LAT0) * KY]
}

/// Inverse of [`to_km`], rounded to 1e-7° (about 1 cm).
pub(crate) fn from_km(p: [f64; 2]) -> [f64; 2] {
    let r = |v: f64| (v * 1e7).round() / 1e7;
    [r(p[0] / KX + LON0), r(p[1] / KY + LAT0)]
}

/// A Gaussian bump of household density.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peak {
    /// Centre, in km.
    pub at: [f64; 2],
    /// Households per km² at the centre (before scaling).
    pub amp: f64,
    /// Standard deviation in km.
    pub sigma: f64,
}

/// Unscaled household density of one district: a floor plus Gaussian peaks.
#[derive(Debug, Clone, Default)]
pub(crate) struct Density {
    /// Floor, households per km².
    pub base: f64,
    /// Peaks (urban centres, township seats).
    pub peaks: Vec<Peak>,
}

impl Density {
    /// Density at a point (km).
    pub fn at(&self, p: [f64; 2]) -> f64 {
        let mut d = self.base;
        for k in &self.peaks {
            let (dx, dy) = (p[0] - k.at[0], p[1] - k.at[1]);
            let r2 = (dx * dx + dy * dy) / (k.sigma * k.sigma);
            if r2 < 32.0 {
                d += k.amp * (-0.5 * r2).exp();
            }
        }
        d
    }
}

/// Even-odd point-in-polygon over a set of rings (closed, in any orientation).
pub(crate) fn pip(rings: &[Vec<[f64; 2]>], p: [f64; 2]) -> bool {
    let mut inside = false;
    for r in rings {
        for w in r.windows(2) {
            let (a, b) = (w[0], w[1]);
            if (a[1] > p[1]) != (b[1] > p[1]) {
                let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
                if p[0] < x {
                    inside = !inside;
                }
            }
        }
    }
    inside
}

/// Settings of the Steiner-point quadtree.
pub(crate) struct Spacing {
    /// A leaf holds at most this many expected households.
    pub leaf_households: f64,
    /// Largest leaf side, km.
    pub max_side: f64,
    /// Smallest leaf side, km.
    pub min_side: f64,
}

/// Rings of a district in km.
pub(crate) fn rings_km(rings: &[Vec<[f64; 2]>]) -> Vec<Vec<[f64; 2]>> {
    rings
        .iter()
        .map(|r| r.iter().map(|&p| to_km(p)).collect())
        .collect()
}

/// Integral of the (unscaled) density over a district, households, on a 0.5 km lattice.
pub(crate) fn integrate(rings_km: &[Vec<[f64; 2]>], density: &Density) -> f64 {
    let (lo, hi) = bbox(rings_km);
    let step = 0.5;
    let mut sum = 0.0;
    let mut y = lo[1] + step / 2.0;
    while y < hi[1] {
        let mut x = lo[0] + step / 2.0;
        while x < hi[0] {
            if pip(rings_km, [x, y]) {
                sum += density.at([x, y]) * step * step;
            }
            x += step;
        }
        y += step;
    }
    sum
}

pub(crate) fn bbox(rings: &[Vec<[f64; 2]>]) -> ([f64; 2], [f64; 2]) {
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    for p in rings.iter().flatten() {
        for i in 0..2 {
            lo[i] = lo[i].min(p[i]);
            hi[i] = hi[i].max(p[i]);
        }
    }
    (lo, hi)
}

/// Boundary segments of all districts, in km, for distance queries.
pub(crate) fn boundary_tree(all_rings_km: &[Vec<Vec<[f64; 2]>>]) -> RTree<Line<[f64; 2]>> {
    let mut segs = Vec::new();
    for r in all_rings_km.iter().flatten() {
        for w in r.windows(2) {
            segs.push(Line::new(w[0], w[1]));
        }
    }
    RTree::bulk_load(segs)
}

pub(crate) fn dist(tree: &RTree<Line<[f64; 2]>>, p: [f64; 2]) -> f64 {
    use rstar::PointDistance;
    tree.nearest_neighbor(&p)
        .map_or(f64::INFINITY, |l| l.distance_2(&p).sqrt())
}

/// Steiner points (km) for one district: one jittered point per quadtree leaf, strictly inside
/// the district and at least a quarter of the leaf side away from any district boundary.
pub(crate) fn steiner_points(
    rng: &mut ChaCha8Rng,
    rings_km: &[Vec<[f64; 2]>],
    tree: &RTree<Line<[f64; 2]>>,
    density: &Density,
    scale: f64,
    spacing: &Spacing,
    out: &mut Vec<[f64; 2]>,
) {
    let (lo, hi) = bbox(rings_km);
    let size = (hi[0] - lo[0]).max(hi[1] - lo[1]);
    // (corner, side, known to be entirely inside)
    let mut stack = vec![(lo, size, false)];
    while let Some((c0, s, mut inside)) = stack.pop() {
        let c = [c0[0] + s / 2.0, c0[1] + s / 2.0];
        if !inside {
            let d = dist(tree, c);
            if d > s * 0.7072 {
                if pip(rings_km, c) {
                    inside = true;
                } else {
                    continue;
                }
            }
        }
        let expected = scale * density.at(c) * s * s;
        if (expected > spacing.leaf_households || s > spacing.max_side) && s > spacing.min_side {
            let h = s / 2.0;
            for (dx, dy) in [(0.0, 0.0), (h, 0.0), (0.0, h), (h, h)] {
                stack.push(([c0[0] + dx, c0[1] + dy], h, inside));
            }
            continue;
        }
        let p = [
            c[0] + (rng.random::<f64>() - 0.5) * 0.6 * s,
            c[1] + (rng.random::<f64>() - 0.5) * 0.6 * s,
        ];
        if pip(rings_km, p) && dist(tree, p) > 0.25 * s {
            out.push(p);
        }
    }
}

/// The triangulation, flattened.
#[derive(Debug, Default)]
pub(crate) struct Mesh {
    /// Vertex positions, lon/lat.
    pub pos: Vec<[f64; 2]>,
    /// Triangles (vertex indices), counter-clockwise.
    pub tri: Vec<[u32; 3]>,
    /// Neighbour across edge `i` (from `tri[i]` to `tri[(i+1)%3]`), or [`NONE`].
    pub nbr: Vec<[u32; 3]>,
    /// Bit `i` set when edge `i` is a district edge.
    pub cons: Vec<u8>,
    /// Centroid in km.
    pub centroid: Vec<[f64; 2]>,
    /// Area in km².
    pub area: Vec<f64>,
    /// District index of each triangle, or [`NONE`] outside all districts.
    pub district: Vec<u32>,
}

/// Triangulates the districts with the given Steiner points (lon/lat) and labels triangles.
pub(crate) fn triangulate(
    districts: &[Vec<Vec<[f64; 2]>>],
    steiner: &[[f64; 2]],
) -> Result<Mesh, GenerateError> {
    let key = |p: [f64; 2]| (p[0].to_bits(), p[1].to_bits());
    let mut index: BTreeMap<(u64, u64), u32> = BTreeMap::new();
    let mut verts: Vec<Point2<f64>> = Vec::new();
    let mut edges: BTreeSet<[u32; 2]> = BTreeSet::new();
    // directed district edges (interior on the left) per district
    let mut directed: Vec<Vec<[u32; 2]>> = Vec::new();
    for rings in districts {
        let mut d = Vec::new();
        for r in rings {
            let ids: Vec<u32> = r
                .iter()
                .map(|&p| {
                    let n = verts.len() as u32;
                    *index.entry(key(p)).or_insert_with(|| {
                        verts.push(Point2::new(p[0], p[1]));
                        n
                    })
                })
                .collect();
            for w in ids.windows(2) {
                if w[0] != w[1] {
                    d.push([w[0], w[1]]);
                    edges.insert([w[0].min(w[1]), w[0].max(w[1])]);
                }
            }
        }
        directed.push(d);
    }
    for &p in steiner {
        if index.insert(key(p), verts.len() as u32).is_none() {
            verts.push(Point2::new(p[0], p[1]));
        }
    }
    let n_in = verts.len();
    let edge_list: Vec<[usize; 2]> = edges
        .iter()
        .map(|e| [e[0] as usize, e[1] as usize])
        .collect();
    let mut conflicts = Vec::new();
    let cdt =
        ConstrainedDelaunayTriangulation::<Point2<f64>>::try_bulk_load_cdt(verts, edge_list, |e| {
            conflicts.push(e);
        })
        .map_err(|e| GenerateError::Triangulation(format!("{e:?}")))?;
    if !conflicts.is_empty() || cdt.num_vertices() != n_in {
        return Err(GenerateError::Triangulation(format!(
            "{} conflicting constraint edges, {} of {} vertices kept",
            conflicts.len(),
            cdt.num_vertices(),
            n_in
        )));
    }
    let mut mesh = Mesh {
        pos: cdt
            .vertices()
            .map(|v| [v.position().x, v.position().y])
            .collect(),
        ..Mesh::default()
    };
    let max_face = cdt
        .inner_faces()
        .map(|f| f.fix().index())
        .max()
        .unwrap_or(0);
    let mut face_to_tri = vec![NONE; max_face + 1];
    for (i, f) in cdt.inner_faces().enumerate() {
        face_to_tri[f.fix().index()] = i as u32;
    }
    for f in cdt.inner_faces() {
        let e = f.adjacent_edges();
        let mut t = [0u32; 3];
        let mut n = [NONE; 3];
        let mut c = 0u8;
        for i in 0..3 {
            t[i] = e[i].from().fix().index() as u32;
            let other = e[i].rev().face();
            if let Some(inner) = other.as_inner() {
                n[i] = face_to_tri[inner.fix().index()];
            }
            if cdt.is_constraint_edge(e[i].as_undirected().fix()) {
                c |= 1 << i;
            }
        }
        let p = t.map(|v| to_km(mesh.pos[v as usize]));
        mesh.centroid.push([
            (p[0][0] + p[1][0] + p[2][0]) / 3.0,
            (p[0][1] + p[1][1] + p[2][1]) / 3.0,
        ]);
        mesh.area.push(
            0.5 * ((p[1][0] - p[0][0]) * (p[2][1] - p[0][1])
                - (p[2][0] - p[0][0]) * (p[1][1] - p[0][1])),
        );
        mesh.tri.push(t);
        mesh.nbr.push(n);
        mesh.cons.push(c);
    }
    label_districts(&mut mesh, &directed)?;
    Ok(mesh)
}

/// Flood fill from each district's edges across non-constraint edges.
fn label_districts(mesh: &mut Mesh, directed: &[Vec<[u32; 2]>]) -> Result<(), GenerateError> {
    let mut half: BTreeMap<[u32; 2], u32> = BTreeMap::new();
    for (t, tri) in mesh.tri.iter().enumerate() {
        for i in 0..3 {
            if mesh.cons[t] & (1 << i) != 0 {
                half.insert([tri[i], tri[(i + 1) % 3]], t as u32);
            }
        }
    }
    mesh.district = vec![NONE; mesh.tri.len()];
    for (d, edges) in directed.iter().enumerate() {
        let mut stack: Vec<u32> = Vec::new();
        for e in edges {
            let t = *half.get(e).ok_or_else(|| {
                GenerateError::Triangulation("a district edge is missing from the mesh".into())
            })?;
            stack.push(t);
        }
        while let Some(t) = stack.pop() {
            let tu = t as usize;
            if mesh.district[tu] == d as u32 {
                continue;
            }
            if mesh.district[tu] != NONE {
                return Err(GenerateError::Triangulation(
                    "districts overlap in the triangulation".into(),
                ));
            }
            mesh.district[tu] = d as u32;
            for i in 0..3 {
                let n = mesh.nbr[tu][i];
                if mesh.cons[tu] & (1 << i) == 0 && n != NONE {
                    stack.push(n);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn square(x0: f64, y0: f64, s: f64) -> Vec<[f64; 2]> {
        vec![
            [x0, y0],
            [x0 + s, y0],
            [x0 + s, y0 + s],
            [x0, y0 + s],
            [x0, y0],
        ]
    }

    #[test]
    fn two_squares_share_an_edge_and_keep_their_vertices() {
        let a = vec![square(115.0, 23.0, 0.1)];
        let b = vec![square(115.1, 23.0, 0.1)];
        let all_km = vec![rings_km(&a), rings_km(&b)];
        let tree = boundary_tree(&all_km);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut pts = Vec::new();
        let dens = Density {
            base: 10.0,
            peaks: vec![],
        };
        let sp = Spacing {
            leaf_households: 50.0,
            max_side: 2.0,
            min_side: 0.01,
        };
        for r in &all_km {
            steiner_points(&mut rng, r, &tree, &dens, 1.0, &sp, &mut pts);
        }
        assert!(pts.len() > 20);
        let pts: Vec<[f64; 2]> = pts.into_iter().map(from_km).collect();
        let mesh = triangulate(&[a, b], &pts).unwrap();
        assert!(mesh.district.iter().all(|&d| d != NONE));
        let area: Vec<f64> = (0..2)
            .map(|d| {
                (0..mesh.tri.len())
                    .filter(|&t| mesh.district[t] == d)
                    .map(|t| mesh.area[t])
                    .sum()
            })
            .collect();
        assert!((area[0] - area[1]).abs() < 1e-6 * area[0]);
        assert!(mesh.area.iter().all(|&a| a > 0.0));
        // the shared edge is not split
        assert_eq!(mesh.cons.iter().map(|c| c.count_ones()).sum::<u32>(), 8);
    }

    #[test]
    fn pip_and_density() {
        let r = vec![square(0.0, 0.0, 1.0)];
        assert!(pip(&r, [0.5, 0.5]));
        assert!(!pip(&r, [1.5, 0.5]));
        let d = Density {
            base: 1.0,
            peaks: vec![Peak {
                at: [0.0, 0.0],
                amp: 10.0,
                sigma: 1.0,
            }],
        };
        assert!((d.at([0.0, 0.0]) - 11.0).abs() < 1e-12);
        assert!(d.at([100.0, 0.0]) == 1.0);
    }
}
