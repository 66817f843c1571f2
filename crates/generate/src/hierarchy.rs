//! The Shanwei area hierarchy: real districts, generated streets, communities and grids.

use geo::Area;
use geo_types::{LineString, MultiPolygon};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rstar::RTree;
use rstar::primitives::Line;

use super::GenerateError;
use super::data::{self, County, Named};
use super::dissolve::dissolve;
use super::mesh::{self, Density, Mesh, NONE, Peak, Spacing};
use super::names;
use super::partition::{Groups, grow, pick_seeds, relax};
use minqing_model::{AreaRecord, Level};

/// Options of [`shanwei_hierarchy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HierarchyOptions {
    /// Seed of the random generator: the same seed gives the same output.
    pub seed: u64,
    /// `None`: the natural number of grids, from households at 200–500 per grid (about
    /// 3,900 for Shanwei). `Some(n)`: exactly `n` grids (at least one per community, so
    /// `n >= 907`); households per grid then scale down and the 200–500 bound does not apply.
    pub target_grids: Option<usize>,
}

impl Default for HierarchyOptions {
    fn default() -> Self {
        HierarchyOptions {
            seed: 2024,
            target_grids: None,
        }
    }
}

/// Persons per household used for the district totals.
const PERSONS_PER_HOUSEHOLD: f64 = 3.2;
/// Natural grid size used to decide how many grids a community gets.
const HOUSEHOLDS_PER_GRID: i64 = 215;
/// Household bounds of a grid in the natural size.
const GRID_MIN: i64 = 200;
const GRID_MAX: i64 = 500;

/// Generates the Shanwei hierarchy: 4 districts, 63 streets, 907 communities and the grids,
/// in that order (each level sorted by code).
///
/// `progress(stage, done, total)` is called now and then.
pub fn shanwei_hierarchy(
    opts: &HierarchyOptions,
    progress: &dyn Fn(&str, u64, u64),
) -> Result<Vec<AreaRecord>, GenerateError> {
    let counties = data::counties()?;
    let streets = data::streets()?;
    let communities = data::communities()?;
    build(&counties, &streets, &communities, opts, progress)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Urban,
    Town,
    Farm,
}

fn kind(name: &str) -> Kind {
    if name.ends_with("街道") {
        Kind::Urban
    } else if name.ends_with('镇') {
        Kind::Town
    } else {
        Kind::Farm
    }
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.random::<f64>().max(1e-12);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// A township seat (km) inside the district, away from its boundary and from other seats.
fn seat(
    rng: &mut ChaCha8Rng,
    rings_km: &[Vec<[f64; 2]>],
    tree: &RTree<Line<[f64; 2]>>,
    kind: Kind,
    centre: [f64; 2],
    taken: &[[f64; 2]],
) -> [f64; 2] {
    let ok = |p: [f64; 2]| mesh::pip(rings_km, p) && mesh::dist(tree, p) > 0.3;
    let spacing = |p: [f64; 2]| {
        taken
            .iter()
            .map(|q| (p[0] - q[0]).hypot(p[1] - q[1]))
            .fold(f64::INFINITY, f64::min)
    };
    if kind == Kind::Urban {
        for _ in 0..2000 {
            let p = [centre[0] + 2.5 * normal(rng), centre[1] + 2.5 * normal(rng)];
            if ok(p) && spacing(p) > 1.2 {
                return p;
            }
        }
    }
    let (lo, hi) = mesh::bbox(rings_km);
    let mut best: Option<(f64, [f64; 2])> = None;
    let mut found = 0;
    for _ in 0..20_000 {
        let p = [
            rng.random_range(lo[0]..hi[0]),
            rng.random_range(lo[1]..hi[1]),
        ];
        if !ok(p) {
            continue;
        }
        let s = spacing(p);
        if best.is_none_or(|(b, _)| s > b) {
            best = Some((s, p));
        }
        found += 1;
        if found >= 30 {
            break;
        }
    }
    best.map_or(centre, |(_, p)| p)
}

/// Splits `total` into parts ∝ `weights`, each within `[lo, hi]`; needs
/// `lo * k <= total <= hi * k`.
pub(crate) fn split(total: i64, weights: &[f64], lo: i64, hi: i64) -> Vec<i64> {
    let sum: f64 = weights.iter().sum();
    let k = weights.len() as f64;
    let mut parts: Vec<i64> = weights
        .iter()
        .map(|&w| {
            let share = if sum > 0.0 { w / sum } else { 1.0 / k };
            ((total as f64 * share).round() as i64).clamp(lo, hi)
        })
        .collect();
    let mut diff = total - parts.iter().sum::<i64>();
    while diff != 0 {
        let before = diff;
        let n = parts.len() as i64;
        for p in &mut parts {
            let step = (diff.abs() + n - 1) / n;
            if diff > 0 {
                let add = step.min(hi - *p).min(diff);
                *p += add;
                diff -= add;
            } else if diff < 0 {
                let sub = step.min(*p - lo).min(-diff);
                *p -= sub;
                diff += sub;
            }
        }
        if diff == before {
            break; // infeasible bounds: leave the rest (never happens for valid input)
        }
    }
    parts
}

fn rings_of(mp: &MultiPolygon<f64>) -> Vec<Vec<[f64; 2]>> {
    let ring = |r: &LineString<f64>| r.0.iter().map(|c| [c.x, c.y]).collect::<Vec<_>>();
    mp.0.iter()
        .flat_map(|p| std::iter::once(ring(p.exterior())).chain(p.interiors().iter().map(ring)))
        .collect()
}

fn too_few(code: &str, needed: usize, available: usize) -> GenerateError {
    GenerateError::TooFewTriangles {
        code: code.to_string(),
        needed,
        available,
    }
}

/// Builds the hierarchy for the given counties and their named children.
#[allow(clippy::too_many_lines)] // one recipe, county by county, whose steps share the running numbering
pub(crate) fn build(
    counties: &[County],
    streets: &[Named],
    comms: &[Named],
    opts: &HierarchyOptions,
    progress: &dyn Fn(&str, u64, u64),
) -> Result<Vec<AreaRecord>, GenerateError> {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let streets: Vec<&Named> = streets
        .iter()
        .filter(|s| counties.iter().any(|c| c.code == s.parent))
        .collect();
    let comms: Vec<&Named> = comms
        .iter()
        .filter(|c| streets.iter().any(|s| s.code == c.parent))
        .collect();
    let street_of_comm: Vec<usize> = comms
        .iter()
        .map(|c| streets.iter().position(|s| s.code == c.parent).unwrap_or(0))
        .collect();
    let county_of_street: Vec<usize> = streets
        .iter()
        .map(|s| {
            counties
                .iter()
                .position(|c| c.code == s.parent)
                .unwrap_or(0)
        })
        .collect();
    for (i, s) in streets.iter().enumerate() {
        if !street_of_comm.contains(&i) {
            return Err(GenerateError::Data(format!(
                "street {} has no communities",
                s.code
            )));
        }
    }
    for (i, c) in counties.iter().enumerate() {
        if !county_of_street.contains(&i) {
            return Err(GenerateError::Data(format!(
                "county {} has no streets",
                c.code
            )));
        }
    }
    if let Some(n) = opts.target_grids
        && n < comms.len()
    {
        return Err(GenerateError::TargetTooSmall {
            requested: n,
            minimum: comms.len(),
        });
    }

    // 1. density model and township seats
    progress("mesh", 0, 3);
    let rings: Vec<Vec<Vec<[f64; 2]>>> = counties.iter().map(|c| rings_of(&c.geom)).collect();
    let rings_km: Vec<Vec<Vec<[f64; 2]>>> = rings.iter().map(|r| mesh::rings_km(r)).collect();
    let tree = mesh::boundary_tree(&rings_km);
    let mut densities = Vec::new();
    let mut seats: Vec<[f64; 2]> = vec![[0.0; 2]; streets.len()];
    let mut targets = Vec::new();
    let mut scales = Vec::new();
    for (d, c) in counties.iter().enumerate() {
        let centre = mesh::to_km(c.centre);
        let (amp, sigma) = match c.code.as_str() {
            "441502" => (5000.0, 2.5),
            "441523" => (2500.0, 1.5),
            "441581" => (4500.0, 3.0),
            _ => (4000.0, 2.5),
        };
        let mut density = Density {
            base: 25.0,
            peaks: vec![Peak {
                at: centre,
                amp,
                sigma,
            }],
        };
        let mainland_km = mesh::rings_km(&rings_of(&MultiPolygon(
            c.geom
                .0
                .iter()
                .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
                .cloned()
                .into_iter()
                .collect(),
        )));
        let mut taken = vec![centre];
        for (s, st) in streets.iter().enumerate() {
            if county_of_street[s] != d {
                continue;
            }
            let k = kind(&st.name);
            let p = seat(&mut rng, &mainland_km, &tree, k, centre, &taken);
            taken.push(p);
            seats[s] = p;
            let (amp, sigma) = match k {
                Kind::Urban => (2500.0, 1.0),
                Kind::Town => (600.0, 1.2),
                Kind::Farm => (80.0, 1.0),
            };
            density.peaks.push(Peak { at: p, amp, sigma });
        }
        let households = c.population / PERSONS_PER_HOUSEHOLD * rng.random_range(0.97..1.03);
        scales.push(households / mesh::integrate(&rings_km[d], &density).max(1e-9));
        targets.push(households);
        densities.push(density);
    }

    // 2. Steiner points and the triangulation
    let total_households: f64 = targets.iter().sum();
    let grids_estimate = opts
        .target_grids
        .unwrap_or((total_households / 230.0) as usize)
        .max(1) as f64;
    let points_per_grid = if grids_estimate > 100_000.0 { 4.0 } else { 6.0 };
    let spacing = Spacing {
        leaf_households: total_households / (grids_estimate * points_per_grid),
        max_side: 1.0,
        min_side: 0.002,
    };
    let mut steiner_km = Vec::new();
    for d in 0..counties.len() {
        mesh::steiner_points(
            &mut rng,
            &rings_km[d],
            &tree,
            &densities[d],
            scales[d],
            &spacing,
            &mut steiner_km,
        );
    }
    let steiner: Vec<[f64; 2]> = steiner_km.into_iter().map(mesh::from_km).collect();
    progress("mesh", 1, 3);
    let mesh = mesh::triangulate(&rings, &steiner)?;
    progress("mesh", 2, 3);
    let mut weight: Vec<f64> = (0..mesh.tri.len())
        .map(|t| match mesh.district[t] {
            NONE => 0.0,
            d => {
                let d = d as usize;
                scales[d] * densities[d].at(mesh.centroid[t]) * mesh.area[t]
            }
        })
        .collect();
    // long thin triangles along district edges would otherwise carry many households on
    // few triangles: cap them, then rescale each district to its target
    let cap = 3.0 * spacing.leaf_households;
    for w in &mut weight {
        *w = w.min(cap);
    }
    let districts = Groups::new(&mesh.district, counties.len());
    for (d, target) in targets.iter().enumerate() {
        let sum: f64 = districts.of(d).iter().map(|&t| weight[t as usize]).sum();
        for &t in districts.of(d) {
            weight[t as usize] *= target / sum.max(1e-9);
        }
    }
    // seeds are drawn on the mainland only (islands join the nearest region), with the weight
    // of the long thin triangles along district edges capped so they do not attract seeds
    let mainland = mainland(&mesh, counties.len());
    let seed_weight: Vec<f64> = weight
        .iter()
        .zip(&mainland)
        .map(|(&w, &m)| if m { w.min(cap) } else { 0.0 })
        .collect();
    progress("mesh", 3, 3);

    // 3. streets: seed triangle nearest to each seat
    let mut street_seeds = vec![NONE; streets.len()];
    for (d, c) in counties.iter().enumerate() {
        let tris = districts.of(d);
        let members: Vec<usize> = (0..streets.len())
            .filter(|&s| county_of_street[s] == d)
            .collect();
        if tris.len() < members.len() {
            return Err(too_few(&c.code, members.len(), tris.len()));
        }
        for s in members {
            let d2 = |t: u32| {
                let p = mesh.centroid[t as usize];
                (p[0] - seats[s][0]).powi(2) + (p[1] - seats[s][1]).powi(2)
            };
            street_seeds[s] = tris
                .iter()
                .copied()
                .filter(|t| !street_seeds.contains(t))
                .min_by(|&a, &b| d2(a).total_cmp(&d2(b)))
                .unwrap_or(NONE);
        }
    }
    progress("streets", 0, 1);
    let street_label = grow(&mesh, &mesh.district, &street_seeds);
    let street_groups = Groups::new(&street_label, streets.len());
    progress("streets", 1, 1);

    // 4. communities
    let mut comm_seeds = vec![NONE; comms.len()];
    for (s, st) in streets.iter().enumerate() {
        let members: Vec<usize> = (0..comms.len())
            .filter(|&c| street_of_comm[c] == s)
            .collect();
        let tris = street_groups.of(s);
        if tris.len() < members.len() {
            return Err(too_few(&st.code, members.len(), tris.len()));
        }
        let exps: Vec<f64> = members
            .iter()
            .map(|&c| {
                if comms[c].name.contains("社区") {
                    1.3
                } else {
                    0.7
                }
            })
            .collect();
        let seeds = pick_seeds(&mut rng, &mesh, &seed_weight, tris, &exps, 8);
        for (&c, t) in members.iter().zip(seeds) {
            comm_seeds[c] = t;
        }
        progress("communities", s as u64 + 1, streets.len() as u64);
    }
    let comm_label = relax(&mesh, &street_label, &mut comm_seeds, &seed_weight, 1);
    let comm_groups = Groups::new(&comm_label, comms.len());

    // 5. grid counts and community households
    let comm_weight: Vec<f64> = (0..comms.len())
        .map(|c| comm_groups.of(c).iter().map(|&t| weight[t as usize]).sum())
        .collect();
    let comm_tris: Vec<usize> = (0..comms.len()).map(|c| comm_groups.of(c).len()).collect();
    let mut grid_count = vec![0usize; comms.len()];
    let mut comm_households = vec![0i64; comms.len()];
    match opts.target_grids {
        None => {
            // rural villages are raised to a plausible minimum; calibrate each district so
            // that its total stays near its target
            let fallback: Vec<i64> = (0..comms.len())
                .map(|_| rng.random_range(230..=420))
                .collect();
            let district_of = |c: usize| county_of_street[street_of_comm[c]];
            let households = |c: usize, f: f64| {
                let mut h = (comm_weight[c] * f).round() as i64;
                if h < 230 {
                    h = fallback[c];
                }
                let k = (h / HOUSEHOLDS_PER_GRID).max(1).min(comm_tris[c] as i64);
                (k, h.clamp(GRID_MIN * k, GRID_MAX * k))
            };
            let mut factor = vec![1.0; counties.len()];
            for _ in 0..4 {
                let mut sum = vec![0.0; counties.len()];
                for c in 0..comms.len() {
                    sum[district_of(c)] += households(c, factor[district_of(c)]).1 as f64;
                }
                for d in 0..counties.len() {
                    factor[d] *= (targets[d] / sum[d].max(1.0)).clamp(0.5, 2.0);
                }
            }
            for c in 0..comms.len() {
                let (k, h) = households(c, factor[district_of(c)]);
                grid_count[c] = k as usize;
                comm_households[c] = h;
            }
        }
        Some(n) => {
            grid_count = allocate(n, &comm_weight, &comm_tris)
                .ok_or_else(|| too_few("all", n, comm_tris.iter().sum()))?;
            for c in 0..comms.len() {
                comm_households[c] = (comm_weight[c].round() as i64).max(grid_count[c] as i64);
            }
        }
    }

    // 6. grids
    let mut grid_base = Vec::with_capacity(comms.len() + 1);
    let mut acc = 0usize;
    for &k in &grid_count {
        grid_base.push(acc);
        acc += k;
    }
    grid_base.push(acc);
    let n_grids = acc;
    let mut grid_seeds = vec![NONE; n_grids];
    for c in 0..comms.len() {
        let tris = comm_groups.of(c);
        let k = grid_count[c];
        if tris.len() < k || k == 0 {
            return Err(too_few(&comms[c].code, k.max(1), tris.len()));
        }
        let seeds = pick_seeds(&mut rng, &mesh, &seed_weight, tris, &vec![1.0; k], 6);
        grid_seeds[grid_base[c]..grid_base[c + 1]].copy_from_slice(&seeds);
        if c % 64 == 0 {
            progress("grids", c as u64, comms.len() as u64);
        }
    }
    let grid_label = relax(&mesh, &comm_label, &mut grid_seeds, &seed_weight, 3);
    let grid_groups = Groups::new(&grid_label, n_grids);
    progress("grids", comms.len() as u64, comms.len() as u64);

    // 7. figures of grids, summed upwards
    let (lo, hi) = if opts.target_grids.is_some() {
        (1, i64::from(i32::MAX))
    } else {
        (GRID_MIN, GRID_MAX)
    };
    let mut grid_hh = vec![0i64; n_grids];
    let mut grid_pop = vec![0i64; n_grids];
    let mut grid_workers = vec![Vec::new(); n_grids];
    for c in 0..comms.len() {
        let range = grid_base[c]..grid_base[c + 1];
        let w: Vec<f64> = range
            .clone()
            .map(|g| grid_groups.of(g).iter().map(|&t| weight[t as usize]).sum())
            .collect();
        let parts = split(comm_households[c], &w, lo, hi);
        for (g, h) in range.zip(parts) {
            grid_hh[g] = h;
            grid_pop[g] = ((h as f64) * rng.random_range(2.9..3.5)).round() as i64;
            let n = if rng.random_bool(0.3) { 2 } else { 1 };
            grid_workers[g] = (0..n).map(|_| names::person(&mut rng)).collect();
        }
    }
    let sum_by = |parent: &[usize], values: &[i64], n: usize| {
        let mut out = vec![0i64; n];
        for (i, &p) in parent.iter().enumerate() {
            out[p] += values[i];
        }
        out
    };
    let comm_of_grid: Vec<usize> = (0..comms.len())
        .flat_map(|c| std::iter::repeat_n(c, grid_count[c]))
        .collect();
    let comm_hh = sum_by(&comm_of_grid, &grid_hh, comms.len());
    let comm_pop = sum_by(&comm_of_grid, &grid_pop, comms.len());
    let street_hh = sum_by(&street_of_comm, &comm_hh, streets.len());
    let street_pop = sum_by(&street_of_comm, &comm_pop, streets.len());
    let county_hh = sum_by(&county_of_street, &street_hh, counties.len());
    let county_pop = sum_by(&county_of_street, &street_pop, counties.len());

    // 8. boundaries and records
    let i32c = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
    let mut out = Vec::with_capacity(counties.len() + streets.len() + comms.len() + n_grids);
    for (d, c) in counties.iter().enumerate() {
        out.push(AreaRecord {
            code: c.code.clone(),
            name: c.name.clone(),
            name_en: Some(c.name_en.to_string()),
            level: Level::District,
            parent_code: None,
            households: i32c(county_hh[d]),
            population: i32c(county_pop[d]),
            workers: Vec::new(),
            generated: false,
            source: format!("{}; households and population generated", c.source),
            geom: c.geom.clone(),
        });
    }
    let named_source = format!(
        "name and code: china-division 2.7.0; boundary and figures generated by minqing (seed {})",
        opts.seed
    );
    let total = (streets.len() + comms.len() + n_grids) as u64;
    let mut done = 0u64;
    let mut shape = |label: &[u32], groups: &Groups, n: usize, what: &str| {
        let mut visited = vec![false; 3 * mesh.tri.len()];
        let mut geoms = Vec::with_capacity(n);
        for i in 0..n {
            let g = dissolve(&mesh, label, groups.of(i), &mut visited)
                .ok_or_else(|| GenerateError::Geometry(format!("{what} #{i}")))?;
            geoms.push(g);
            done += 1;
            if done.is_multiple_of(1024) {
                progress("boundaries", done, total);
            }
        }
        Ok::<_, GenerateError>(geoms)
    };
    let street_geoms = shape(&street_label, &street_groups, streets.len(), "street")?;
    let comm_geoms = shape(&comm_label, &comm_groups, comms.len(), "community")?;
    let grid_geoms = shape(&grid_label, &grid_groups, n_grids, "grid")?;
    progress("boundaries", total, total);
    for ((s, st), geom) in streets.iter().enumerate().zip(street_geoms) {
        out.push(AreaRecord {
            code: st.code.clone(),
            name: st.name.clone(),
            name_en: None,
            level: Level::Street,
            parent_code: Some(st.parent.clone()),
            households: i32c(street_hh[s]),
            population: i32c(street_pop[s]),
            workers: Vec::new(),
            generated: true,
            source: named_source.clone(),
            geom,
        });
    }
    for ((c, cm), geom) in comms.iter().enumerate().zip(comm_geoms) {
        out.push(AreaRecord {
            code: cm.code.clone(),
            name: cm.name.clone(),
            name_en: None,
            level: Level::Community,
            parent_code: Some(cm.parent.clone()),
            households: i32c(comm_hh[c]),
            population: i32c(comm_pop[c]),
            workers: Vec::new(),
            generated: true,
            source: named_source.clone(),
            geom,
        });
    }
    let width = grid_count
        .iter()
        .max()
        .map_or(3, |&m| m.to_string().len().max(3));
    let grid_source = format!(
        "generated by minqing (seed {}): boundary, name, figures and workers",
        opts.seed
    );
    let mut geoms = grid_geoms.into_iter();
    let mut workers = grid_workers.into_iter();
    for (g, &c) in comm_of_grid.iter().enumerate() {
        let seq = g - grid_base[c] + 1;
        out.push(AreaRecord {
            code: format!("{}{:0width$}", comms[c].code, seq),
            name: format!("{}第{}网格", comms[c].name, seq),
            name_en: None,
            level: Level::Grid,
            parent_code: Some(comms[c].code.clone()),
            households: i32c(grid_hh[g]),
            population: i32c(grid_pop[g]),
            workers: workers.next().unwrap_or_default(),
            generated: true,
            source: grid_source.clone(),
            geom: geoms
                .next()
                .ok_or_else(|| GenerateError::Geometry(format!("grid #{g}")))?,
        });
    }
    Ok(out)
}

/// Marks the triangles of each district's largest edge-connected component.
fn mainland(mesh: &Mesh, n_districts: usize) -> Vec<bool> {
    let n = mesh.tri.len();
    let mut comp = vec![NONE; n];
    let mut best: Vec<(usize, u32)> = vec![(0, NONE); n_districts];
    let mut next = 0u32;
    for t in 0..n {
        if comp[t] != NONE || mesh.district[t] == NONE {
            continue;
        }
        let d = mesh.district[t];
        let mut stack = vec![t as u32];
        comp[t] = next;
        let mut size = 0usize;
        while let Some(u) = stack.pop() {
            size += 1;
            for &m in &mesh.nbr[u as usize] {
                if m != NONE && comp[m as usize] == NONE && mesh.district[m as usize] == d {
                    comp[m as usize] = next;
                    stack.push(m);
                }
            }
        }
        if size > best[d as usize].0 {
            best[d as usize] = (size, next);
        }
        next += 1;
    }
    (0..n)
        .map(|t| mesh.district[t] != NONE && comp[t] == best[mesh.district[t] as usize].1)
        .collect()
}

/// Exactly `n` grids over communities ∝ weight, each at least 1 and at most its triangles.
fn allocate(n: usize, weight: &[f64], cap: &[usize]) -> Option<Vec<usize>> {
    if cap.iter().sum::<usize>() < n || weight.len() > n {
        return None;
    }
    let sum: f64 = weight.iter().sum::<f64>().max(1e-9);
    let want: Vec<f64> = weight.iter().map(|w| n as f64 * w / sum).collect();
    let mut k: Vec<usize> = want
        .iter()
        .zip(cap)
        .map(|(&w, &c)| (w.floor() as usize).clamp(1, c.max(1)))
        .collect();
    let mut order: Vec<usize> = (0..k.len()).collect();
    loop {
        let have: usize = k.iter().sum();
        if have == n {
            return Some(k);
        }
        // largest deficit first when adding, largest surplus first when removing
        order.sort_by(|&a, &b| {
            (want[b] - k[b] as f64)
                .total_cmp(&(want[a] - k[a] as f64))
                .then(a.cmp(&b))
        });
        let before = have;
        if have < n {
            let mut left = n - have;
            for &i in &order {
                if left == 0 {
                    break;
                }
                if k[i] < cap[i] {
                    k[i] += 1;
                    left -= 1;
                }
            }
        } else {
            let mut extra = have - n;
            for &i in order.iter().rev() {
                if extra == 0 {
                    break;
                }
                if k[i] > 1 {
                    k[i] -= 1;
                    extra -= 1;
                }
            }
        }
        if k.iter().sum::<usize>() == before {
            return None;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn split_respects_bounds_and_total() {
        let p = split(1000, &[1.0, 1.0, 5.0], 200, 500);
        assert_eq!(p.iter().sum::<i64>(), 1000);
        assert!(p.iter().all(|&x| (200..=500).contains(&x)));
        let p = split(7, &[0.0, 3.0, 1.0], 1, i64::MAX);
        assert_eq!(p.iter().sum::<i64>(), 7);
        assert!(p.iter().all(|&x| x >= 1));
    }

    #[test]
    fn allocate_is_exact_and_capped() {
        let k = allocate(10, &[1.0, 100.0, 1.0], &[5, 6, 5]).unwrap();
        assert_eq!(k.iter().sum::<usize>(), 10);
        assert_eq!(k[1], 6);
        assert!(k.iter().all(|&x| x >= 1));
        assert!(allocate(20, &[1.0, 1.0], &[5, 5]).is_none());
    }
}
