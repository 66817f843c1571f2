//! Dissolving a region (a set of triangles) into an OGC-valid MultiPolygon.
//!
//! Boundary half-edges are those whose neighbour lies outside the region (edge cancellation).
//! They are chained into rings with the region on the left; at a vertex where several
//! boundary edges leave, the walk turns around the vertex through the region's own triangles,
//! so it always takes the tightest turn. Rings that still pass a vertex twice are split there
//! into simple loops. Counter-clockwise loops are shells, clockwise loops are holes; each
//! hole goes to the smallest shell containing it.

use std::collections::BTreeMap;

use geo_types::{Coord, LineString, MultiPolygon, Polygon};

use super::mesh::{Mesh, NONE, pip};

/// A boundary half-edge: triangle and edge index, starting at `v`.
#[derive(Clone, Copy)]
struct Half {
    v: u32,
    t: u32,
    i: u8,
}

/// Dissolves the triangles `tris` (all with the same `label`) into a MultiPolygon.
///
/// `visited` has 3 entries per triangle of the mesh and must be false for this region's
/// half-edges; they are set. Returns `None` when the boundary cannot be chained (a bug).
pub(crate) fn dissolve(
    mesh: &Mesh,
    label: &[u32],
    tris: &[u32],
    visited: &mut [bool],
) -> Option<MultiPolygon<f64>> {
    let me = label[*tris.first()? as usize];
    let is_b = |t: usize, i: usize| {
        let n = mesh.nbr[t][i];
        n == NONE || label[n as usize] != me
    };
    let mut shells: Vec<(f64, Vec<Half>)> = Vec::new();
    let mut holes: Vec<Vec<Half>> = Vec::new();
    for &t0 in tris {
        for i0 in 0..3 {
            let t0 = t0 as usize;
            if !is_b(t0, i0) || visited[3 * t0 + i0] {
                continue;
            }
            let mut ring: Vec<Half> = Vec::new();
            let (mut t, mut i) = (t0, i0);
            loop {
                visited[3 * t + i] = true;
                ring.push(Half {
                    v: mesh.tri[t][i],
                    t: t as u32,
                    i: i as u8,
                });
                let v = mesh.tri[t][(i + 1) % 3];
                let (mut nt, mut ni) = (t, (i + 1) % 3);
                let mut guard = 0;
                while !is_b(nt, ni) {
                    let m = mesh.nbr[nt][ni] as usize;
                    ni = mesh.tri[m].iter().position(|&x| x == v)?;
                    nt = m;
                    guard += 1;
                    if guard > 100_000 {
                        return None;
                    }
                }
                (t, i) = (nt, ni);
                if (t, i) == (t0, i0) {
                    break;
                }
                if visited[3 * t + i] || ring.len() > 3 * mesh.tri.len() {
                    return None;
                }
            }
            for lp in split_loops(ring) {
                let a = area2(mesh, &lp);
                if a > 0.0 {
                    shells.push((a, lp));
                } else {
                    holes.push(lp);
                }
            }
        }
    }
    if shells.is_empty() {
        return None;
    }
    let shell_rings: Vec<Vec<[f64; 2]>> = shells
        .iter()
        .map(|(_, lp)| closed(mesh, lp).iter().map(|c| [c.x, c.y]).collect())
        .collect();
    let mut owned: Vec<Vec<LineString<f64>>> = vec![Vec::new(); shells.len()];
    for h in holes {
        let owner = if shells.len() == 1 {
            0
        } else {
            let probe = probe_point(mesh, &h);
            (0..shells.len())
                .filter(|&s| pip(std::slice::from_ref(&shell_rings[s]), probe))
                .min_by(|&a, &b| shells[a].0.total_cmp(&shells[b].0))?
        };
        owned[owner].push(LineString(closed(mesh, &h)));
    }
    Some(MultiPolygon(
        shells
            .iter()
            .zip(owned)
            .map(|((_, lp), hs)| Polygon::new(LineString(closed(mesh, lp)), hs))
            .collect(),
    ))
}

/// Splits a cyclic vertex sequence into simple loops at repeated vertices.
fn split_loops(ring: Vec<Half>) -> Vec<Vec<Half>> {
    let mut loops = Vec::new();
    let mut stack: Vec<Half> = Vec::with_capacity(ring.len());
    let mut at: BTreeMap<u32, usize> = BTreeMap::new();
    for h in ring {
        if let Some(&p) = at.get(&h.v) {
            let lp: Vec<Half> = stack.drain(p..).collect();
            for x in &lp {
                at.remove(&x.v);
            }
            loops.push(lp);
        }
        at.insert(h.v, stack.len());
        stack.push(h);
    }
    if !stack.is_empty() {
        loops.push(stack);
    }
    loops
}

fn closed(mesh: &Mesh, lp: &[Half]) -> Vec<Coord<f64>> {
    let mut v: Vec<Coord<f64>> = lp
        .iter()
        .map(|h| {
            let p = mesh.pos[h.v as usize];
            Coord { x: p[0], y: p[1] }
        })
        .collect();
    if let Some(&f) = v.first() {
        v.push(f);
    }
    v
}

/// Twice the signed area (relative to the first vertex for precision).
fn area2(mesh: &Mesh, lp: &[Half]) -> f64 {
    let Some(o) = lp.first().map(|h| mesh.pos[h.v as usize]) else {
        return 0.0;
    };
    let n = lp.len();
    (0..n)
        .map(|k| {
            let a = mesh.pos[lp[k].v as usize];
            let b = mesh.pos[lp[(k + 1) % n].v as usize];
            (a[0] - o[0]) * (b[1] - o[1]) - (b[0] - o[0]) * (a[1] - o[1])
        })
        .sum()
}

/// A point strictly inside a hole loop: the centroid of the triangle across its first edge.
fn probe_point(mesh: &Mesh, h: &[Half]) -> [f64; 2] {
    let Some(first) = h.first() else {
        return [f64::NAN; 2];
    };
    let t = first.t as usize;
    let n = mesh.nbr[t][first.i as usize];
    let vs = if n == NONE {
        mesh.tri[t]
    } else {
        mesh.tri[n as usize]
    };
    let p = vs.map(|v| mesh.pos[v as usize]);
    let c = [
        (p[0][0] + p[1][0] + p[2][0]) / 3.0,
        (p[0][1] + p[1][1] + p[2][1]) / 3.0,
    ];
    if n == NONE {
        // fall back to the edge midpoint
        let a = mesh.pos[first.v as usize];
        let b = mesh.pos[mesh.tri[t][(first.i as usize + 1) % 3] as usize];
        return [f64::midpoint(a[0], b[0]), f64::midpoint(a[1], b[1])];
    }
    c
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use geo::{Area, Validation};

    /// A 4×4 lattice of unit squares, each cut into two CCW triangles.
    fn lattice(n: usize) -> Mesh {
        let mut m = Mesh::default();
        for y in 0..=n {
            for x in 0..=n {
                m.pos.push([x as f64, y as f64]);
            }
        }
        let v = |x: usize, y: usize| (y * (n + 1) + x) as u32;
        // square (x, y): lower triangle 2k, upper 2k+1
        let sq = |x: usize, y: usize| 2 * (y * n + x) as u32;
        for y in 0..n {
            for x in 0..n {
                // lower: (x,y) (x+1,y) (x+1,y+1); upper: (x,y) (x+1,y+1) (x,y+1)
                m.tri.push([v(x, y), v(x + 1, y), v(x + 1, y + 1)]);
                m.nbr.push([
                    if y > 0 { sq(x, y - 1) + 1 } else { NONE },
                    if x + 1 < n { sq(x + 1, y) + 1 } else { NONE },
                    sq(x, y) + 1,
                ]);
                m.tri.push([v(x, y), v(x + 1, y + 1), v(x, y + 1)]);
                m.nbr.push([
                    sq(x, y),
                    if y + 1 < n { sq(x, y + 1) } else { NONE },
                    if x > 0 { sq(x - 1, y) } else { NONE },
                ]);
            }
        }
        m
    }

    fn run(m: &Mesh, label: &[u32], l: u32) -> MultiPolygon<f64> {
        let tris: Vec<u32> = (0..label.len() as u32)
            .filter(|&t| label[t as usize] == l)
            .collect();
        let mut visited = vec![false; 3 * label.len()];
        dissolve(m, label, &tris, &mut visited).unwrap()
    }

    #[test]
    fn ring_with_hole_and_pinches() {
        let m = lattice(4);
        let n = 4;
        // region 0: everything except square (1,1) → a shell with a hole
        let mut label = vec![0u32; m.tri.len()];
        label[2 * (n + 1)] = 1;
        label[2 * (n + 1) + 1] = 1;
        let mp = run(&m, &label, 0);
        assert!(mp.is_valid(), "{:?}", mp.validation_errors());
        assert_eq!(mp.0.len(), 1);
        assert_eq!(mp.0[0].interiors().len(), 1);
        assert!((mp.unsigned_area() - 15.0).abs() < 1e-12);
        // hole touching the outer boundary at a vertex: square (0,0) removed too → C-shape
        // region 0 minus squares (1,1) and (0,0): the hole (1,1) touches the outer ring at (1,1)
        label[0] = 2;
        label[1] = 2;
        let mp = run(&m, &label, 0);
        assert!(mp.is_valid(), "{:?}", mp.validation_errors());
        assert!((mp.unsigned_area() - 14.0).abs() < 1e-12);
        // two squares touching at a corner → two polygons
        let mut label = vec![0u32; m.tri.len()];
        for t in [0, 1, 2 * (n + 1), 2 * (n + 1) + 1] {
            label[t] = 1;
        }
        let mp = run(&m, &label, 1);
        assert!(mp.is_valid(), "{:?}", mp.validation_errors());
        assert_eq!(mp.0.len(), 2);
        let mp = run(&m, &label, 0);
        assert!(mp.is_valid(), "{:?}", mp.validation_errors());
        assert!((mp.unsigned_area() - 14.0).abs() < 1e-12);
    }
}
