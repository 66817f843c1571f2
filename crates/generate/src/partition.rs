//! Partitioning a labelled set of triangles into child regions.
//!
//! Seeds are drawn inside each parent in proportion to a weight (households), then every
//! child grows from its seed by a multi-source Dijkstra over triangle adjacency that never
//! leaves the parent: a geodesic Voronoi partition, so every child is edge-connected.
//! Triangles that no seed reaches (islands) join the child with the nearest seed.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::mesh::{Mesh, NONE};

/// Triangles of each label: `order[offset[l]..offset[l+1]]` holds the triangles labelled `l`,
/// in increasing order.
pub(crate) struct Groups {
    /// Start of each label's run; one more entry than labels.
    pub offset: Vec<usize>,
    /// Triangle indices grouped by label.
    pub order: Vec<u32>,
}

impl Groups {
    /// Groups triangles by label (labels `NONE` are left out).
    pub fn new(labels: &[u32], n_labels: usize) -> Groups {
        let mut offset = vec![0usize; n_labels + 1];
        for &l in labels {
            if l != NONE {
                offset[l as usize + 1] += 1;
            }
        }
        for i in 0..n_labels {
            offset[i + 1] += offset[i];
        }
        let mut fill = offset.clone();
        let mut order = vec![0u32; offset[n_labels]];
        for (t, &l) in labels.iter().enumerate() {
            if l != NONE {
                order[fill[l as usize]] = t as u32;
                fill[l as usize] += 1;
            }
        }
        Groups { offset, order }
    }

    /// Triangles of one label.
    pub fn of(&self, l: usize) -> &[u32] {
        &self.order[self.offset[l]..self.offset[l + 1]]
    }
}

fn d2(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

/// Draws `weights.len()` distinct seed triangles among `tris`; child `i` is drawn with
/// probability ∝ `w^weights[i]` (`w` = triangle weight) and, among `candidates` draws, the one
/// farthest from the seeds already chosen is kept. `tris.len() >= weights.len()` is required.
pub(crate) fn pick_seeds(
    rng: &mut ChaCha8Rng,
    mesh: &Mesh,
    weight: &[f64],
    tris: &[u32],
    exponents: &[f64],
    candidates: usize,
) -> Vec<u32> {
    let mut cums: Vec<(u64, Vec<f64>)> = Vec::new();
    let mut taken = vec![false; tris.len()];
    let mut seeds: Vec<u32> = Vec::with_capacity(exponents.len());
    let mut seed_pos: Vec<[f64; 2]> = Vec::with_capacity(exponents.len());
    let candidates = if exponents.len() > 64 { 1 } else { candidates };
    for &e in exponents {
        let bits = e.to_bits();
        let ci = if let Some(i) = cums.iter().position(|c| c.0 == bits) {
            i
        } else {
            let mut acc = 0.0;
            let cum = tris
                .iter()
                .map(|&t| {
                    acc += weight[t as usize].max(1e-12).powf(e);
                    acc
                })
                .collect();
            cums.push((bits, cum));
            cums.len() - 1
        };
        let cum = &cums[ci].1;
        let total = cum.last().copied().unwrap_or(0.0);
        let mut best: Option<(f64, usize)> = None;
        let mut tries = 0;
        while tries < candidates * 8 && (best.is_none() || tries < candidates) {
            tries += 1;
            let r = rng.random::<f64>() * total;
            let i = cum.partition_point(|&c| c <= r).min(tris.len() - 1);
            if taken[i] {
                continue;
            }
            let c = mesh.centroid[tris[i] as usize];
            let score = seed_pos
                .iter()
                .map(|&s| d2(s, c))
                .fold(f64::INFINITY, f64::min);
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, i));
            }
        }
        let i = if let Some((_, i)) = best {
            i
        } else {
            // crowded: take the first free triangle after a random start
            let start = rng.random_range(0..tris.len());
            (0..tris.len())
                .map(|k| (start + k) % tris.len())
                .find(|&k| !taken[k])
                .unwrap_or(start)
        };
        taken[i] = true;
        seeds.push(tris[i]);
        seed_pos.push(mesh.centroid[tris[i] as usize]);
    }
    seeds
}

/// Grows children from their seed triangles inside their parents.
///
/// `parent[t]` is the parent label of triangle `t` (or `NONE`); `seeds[c]` is the seed triangle
/// of child `c`. Returns the child label of every triangle (`NONE` where the parent is `NONE`).
pub(crate) fn grow(mesh: &Mesh, parent: &[u32], seeds: &[u32]) -> Vec<u32> {
    let n = mesh.tri.len();
    let mut label = vec![NONE; n];
    let mut dist = vec![f64::INFINITY; n];
    let mut heap = BinaryHeap::new();
    for (c, &s) in seeds.iter().enumerate() {
        label[s as usize] = c as u32;
        dist[s as usize] = 0.0;
        heap.push(Reverse((0u64, s)));
    }
    while let Some(Reverse((bits, t))) = heap.pop() {
        let tu = t as usize;
        let d = f64::from_bits(bits);
        if d > dist[tu] {
            continue;
        }
        for &m in &mesh.nbr[tu] {
            if m == NONE || parent[m as usize] != parent[tu] {
                continue;
            }
            let mu = m as usize;
            let nd = d + d2(mesh.centroid[tu], mesh.centroid[mu]).sqrt();
            if nd < dist[mu] {
                dist[mu] = nd;
                label[mu] = label[tu];
                heap.push(Reverse((nd.to_bits(), m)));
            }
        }
    }
    attach_unreached(mesh, parent, seeds, &mut label);
    label
}

/// Lloyd relaxation: moves every seed to the triangle of its region nearest to the region's
/// weighted centroid and grows again, `rounds` times. Returns the final labels.
pub(crate) fn relax(
    mesh: &Mesh,
    parent: &[u32],
    seeds: &mut [u32],
    weight: &[f64],
    rounds: usize,
) -> Vec<u32> {
    let mut label = grow(mesh, parent, seeds);
    for _ in 0..rounds {
        let groups = Groups::new(&label, seeds.len());
        // a region of very few triangles is a fixed point of Lloyd's method: move its seed
        // into the far end of its largest sibling instead
        let size: Vec<usize> = (0..seeds.len()).map(|c| groups.of(c).len()).collect();
        let mut siblings: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (c, &s) in seeds.iter().enumerate() {
            siblings.entry(parent[s as usize]).or_default().push(c);
        }
        let mut moved = vec![false; seeds.len()];
        let mut split = vec![false; seeds.len()];
        for cs in siblings.values() {
            for &c in cs {
                if size[c] >= 4 {
                    continue;
                }
                let Some(&big) = cs
                    .iter()
                    .filter(|&&b| !moved[b] && !split[b])
                    .max_by_key(|&&b| (size[b], std::cmp::Reverse(b)))
                else {
                    continue;
                };
                if size[big] < 12 {
                    continue;
                }
                let from = mesh.centroid[seeds[big] as usize];
                if let Some(&t) = groups.of(big).iter().max_by(|&&a, &&b| {
                    d2(mesh.centroid[a as usize], from)
                        .total_cmp(&d2(mesh.centroid[b as usize], from))
                }) {
                    seeds[c] = t;
                    moved[c] = true;
                    split[big] = true;
                }
            }
        }
        for (c, seed) in seeds.iter_mut().enumerate() {
            if moved[c] {
                continue;
            }
            let tris = groups.of(c);
            let (mut sx, mut sy, mut sw) = (0.0, 0.0, 0.0);
            for &t in tris {
                let w = weight[t as usize].max(1e-12);
                let p = mesh.centroid[t as usize];
                sx += w * p[0];
                sy += w * p[1];
                sw += w;
            }
            let target = [sx / sw, sy / sw];
            if let Some(&t) = tris.iter().min_by(|&&a, &&b| {
                d2(mesh.centroid[a as usize], target)
                    .total_cmp(&d2(mesh.centroid[b as usize], target))
            }) {
                *seed = t;
            }
        }
        label = grow(mesh, parent, seeds);
    }
    label
}

/// Components not reached from any seed join the child of their parent whose seed is nearest.
fn attach_unreached(mesh: &Mesh, parent: &[u32], seeds: &[u32], label: &mut [u32]) {
    let n = mesh.tri.len();
    let mut children_of: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (c, &s) in seeds.iter().enumerate() {
        children_of
            .entry(parent[s as usize])
            .or_default()
            .push(c as u32);
    }
    for t in 0..n {
        if label[t] != NONE || parent[t] == NONE {
            continue;
        }
        let p = parent[t];
        let here = mesh.centroid[t];
        let Some(best) = children_of.get(&p).and_then(|cs| {
            cs.iter().copied().min_by(|&a, &b| {
                d2(here, mesh.centroid[seeds[a as usize] as usize])
                    .total_cmp(&d2(here, mesh.centroid[seeds[b as usize] as usize]))
            })
        }) else {
            continue;
        };
        let mut stack = vec![t as u32];
        label[t] = best;
        while let Some(u) = stack.pop() {
            for &m in &mesh.nbr[u as usize] {
                if m != NONE && parent[m as usize] == p && label[m as usize] == NONE {
                    label[m as usize] = best;
                    stack.push(m);
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A strip of `n` triangles, each adjacent to the next, plus one isolated triangle.
    fn strip(n: usize) -> Mesh {
        let mut m = Mesh::default();
        for i in 0..n {
            m.tri.push([0, 1, 2]);
            let prev = if i == 0 { NONE } else { i as u32 - 1 };
            let next = if i + 1 == n { NONE } else { i as u32 + 1 };
            m.nbr.push([prev, next, NONE]);
            m.centroid.push([i as f64, 0.0]);
            m.area.push(1.0);
        }
        m.tri.push([0, 1, 2]);
        m.nbr.push([NONE; 3]);
        m.centroid.push([n as f64 + 5.0, 0.0]);
        m.area.push(1.0);
        m
    }

    #[test]
    fn grows_connected_regions_and_attaches_islands() {
        let m = strip(20);
        let parent = vec![0u32; 21];
        let label = grow(&m, &parent, &[2, 15]);
        assert!(label[..9].iter().all(|&l| l == 0));
        assert!(label[9..].iter().all(|&l| l == 1));
        let g = Groups::new(&label, 2);
        assert_eq!(g.of(0).len(), 9);
        assert_eq!(g.of(1).len(), 12);
    }

    #[test]
    fn seeds_are_distinct_even_when_crowded() {
        let m = strip(10);
        let tris: Vec<u32> = (0..10).collect();
        let w = vec![1.0; 11];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut s = pick_seeds(&mut rng, &m, &w, &tris, &[1.0; 10], 4);
        s.sort_unstable();
        s.dedup();
        assert_eq!(s.len(), 10);
    }
}
