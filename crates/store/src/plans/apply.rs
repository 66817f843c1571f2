//! Applying an operation to a draft: one function per operation (see the plans module
//! documentation, *Operations*), and what they share — writing their outputs, figures by
//! area share, the next free grid code.

use crate::rows::RowExt;
use deadpool_postgres::GenericClient;
use geo_types::MultiPolygon;

use super::checks::{check_line, checked_wkb, ensure_usable};
use super::model::{Plan, PlanError, PlanResult};
use super::operation::{MoveBoundary, Operation};

/// Applies `op` to draft `plan` (its row locked); returns the keys it touched.
pub(super) async fn apply(
    c: &impl GenericClient,
    plan: &Plan,
    op: &Operation,
) -> PlanResult<Vec<i32>> {
    let id = plan.id;
    match op {
        Operation::Reshape {
            grid,
            geometry,
            households,
            population,
            name,
        } => {
            let figures = Figures {
                households: *households,
                population: *population,
                name: name.as_deref(),
            };
            reshape(c, id, *grid, geometry.as_ref(), &figures).await
        }
        Operation::Split { grid, line } => split(c, id, *grid, line).await,
        Operation::Merge { grids } => merge(c, id, grids).await,
        Operation::MoveBoundary(MoveBoundary::Give { from, to, piece }) => {
            give(c, id, *from, *to, piece).await
        }
        Operation::MoveBoundary(MoveBoundary::Redraw { grids, line }) => {
            redraw(c, id, *grids, line).await
        }
        Operation::Create {
            geometry,
            households,
            population,
            name,
            code,
            parent,
        } => {
            let figures = Figures {
                households: *households,
                population: *population,
                name: name.as_deref(),
            };
            create(c, id, geometry, &figures, code.as_deref(), *parent).await
        }
        Operation::Retire { grid } => retire(c, id, *grid).await,
    }
}

/// Figures an operation gives a grid (each `None`: kept, or for a new grid, its default).
struct Figures<'a> {
    households: Option<i32>,
    population: Option<i32>,
    name: Option<&'a str>,
}

/// `reshape`: a grid gets a new geometry and/or figures.
async fn reshape(
    c: &impl GenericClient,
    plan: i64,
    grid: i32,
    geometry: Option<&MultiPolygon<f64>>,
    figures: &Figures<'_>,
) -> PlanResult<Vec<i32>> {
    ensure_keys(c, plan, &[grid]).await?;
    if let Some(g) = geometry {
        let w = checked_wkb(c, plan, &format!("grid {grid}'s new geometry"), g).await?;
        c.execute(
            include_str!("../sql/plan_reshape_geom.sql"),
            &[&plan, &grid, &w],
        )
        .await?;
    }
    c.execute(
        include_str!("../sql/plan_reshape_figures.sql"),
        &[
            &plan,
            &grid,
            &figures.households,
            &figures.population,
            &figures.name,
        ],
    )
    .await?;
    Ok(vec![grid])
}

/// `split`: a grid cut by a line into two or more parts; the largest keeps the key.
async fn split(
    c: &impl GenericClient,
    plan: i64,
    grid: i32,
    line: &[(f64, f64)],
) -> PlanResult<Vec<i32>> {
    ensure_keys(c, plan, &[grid]).await?;
    ensure_usable(c, plan, &[grid]).await?;
    let w = check_line(line)?;
    let parts: Vec<Vec<u8>> = c
        .query(include_str!("../sql/plan_split.sql"), &[&plan, &grid, &w])
        .await?
        .iter()
        .map(|r| r.col("part"))
        .collect::<Result<_, _>>()?;
    if parts.len() < 2 {
        return Err(PlanError::Input(format!(
            "the line does not cut grid {grid} in two: it must cross the grid from one side to another"
        )));
    }
    let (h, p) = shares(c, plan, &[grid], &parts).await?;
    let outputs = parts
        .into_iter()
        .zip(h.into_iter().zip(p))
        .enumerate()
        .map(|(i, (wkb, (h, p)))| Output {
            key: (i == 0).then_some(grid),
            wkb,
            households: Some(h),
            population: Some(p),
        })
        .collect();
    write_outputs(c, plan, grid, outputs).await
}

/// `merge`: adjacent grids of one parent become the first; figures are summed.
async fn merge(c: &impl GenericClient, plan: i64, grids: &[i32]) -> PlanResult<Vec<i32>> {
    let mut seen = grids.to_vec();
    seen.sort_unstable();
    seen.dedup();
    let (Some(&first), true) = (grids.first(), grids.len() >= 2 && seen.len() == grids.len())
    else {
        return Err(PlanError::Input(
            "merge needs two or more different grids".into(),
        ));
    };
    ensure_keys(c, plan, grids).await?;
    ensure_usable(c, plan, grids).await?;
    let parents: i64 = c
        .query_one(
            include_str!("../sql/plan_merge_parents.sql"),
            &[&plan, &grids],
        )
        .await?
        .col("parents")?;
    if parents != 1 {
        return Err(PlanError::Input(
            "grids of different parents cannot be merged".into(),
        ));
    }
    let r = c
        .query_one(include_str!("../sql/plan_merge.sql"), &[&plan, &grids])
        .await?;
    let parts: i32 = r.col("parts")?;
    if parts != 1 {
        return Err(PlanError::Input(format!(
            "grids {grids:?} are not adjacent: their union has {parts} separate parts (grids must share a boundary line, not only a point)"
        )));
    }
    let w: Vec<u8> = r.col("geom")?;
    let (mut h, mut p) = (0i64, 0i64);
    for k in grids {
        let (hh, pp) = figures_of(c, plan, *k).await?;
        h += i64::from(hh);
        p += i64::from(pp);
    }
    c.execute(
        include_str!("../sql/plan_merge_retire.sql"),
        &[&plan, &grids, &first],
    )
    .await?;
    write_outputs(
        c,
        plan,
        first,
        vec![Output {
            key: Some(first),
            wkb: w,
            households: Some(i32::try_from(h).unwrap_or(i32::MAX)),
            population: Some(i32::try_from(p).unwrap_or(i32::MAX)),
        }],
    )
    .await
}

/// `move_boundary` with a piece: the part of `from` inside `piece` goes to `to`, which it
/// must share a boundary line with.
async fn give(
    c: &impl GenericClient,
    plan: i64,
    from: i32,
    to: i32,
    piece: &MultiPolygon<f64>,
) -> PlanResult<Vec<i32>> {
    if from == to {
        return Err(PlanError::Input(
            "from and to must be different grids".into(),
        ));
    }
    ensure_keys(c, plan, &[from, to]).await?;
    ensure_usable(c, plan, &[from, to]).await?;
    let w = checked_wkb(c, plan, "the piece", piece).await?;
    let r = c
        .query_one(
            include_str!("../sql/plan_give.sql"),
            &[&plan, &from, &to, &w],
        )
        .await?;
    let area: f64 = r.col("piece_m2")?;
    let touches: bool = r.col("touches")?;
    if area <= 0.0 {
        return Err(PlanError::Input(format!(
            "the piece does not cover any part of grid {from}"
        )));
    }
    if !touches {
        return Err(PlanError::Input(format!(
            "the piece of grid {from} does not share a boundary line with grid {to}"
        )));
    }
    let news = [r.col("from_geom")?, r.col("to_geom")?];
    exchange(c, plan, [from, to], news).await
}

/// `move_boundary` with a line: the union of two grids cut by a new shared line, each part
/// going to the grid it overlapped most.
async fn redraw(
    c: &impl GenericClient,
    plan: i64,
    [a, b]: [i32; 2],
    line: &[(f64, f64)],
) -> PlanResult<Vec<i32>> {
    if a == b {
        return Err(PlanError::Input(
            "move_boundary needs two different grids".into(),
        ));
    }
    ensure_keys(c, plan, &[a, b]).await?;
    ensure_usable(c, plan, &[a, b]).await?;
    let w = check_line(line)?;
    let rows = c
        .query(include_str!("../sql/plan_redraw.sql"), &[&plan, &a, &b, &w])
        .await?;
    let (mut to_a, mut to_b) = (Vec::new(), Vec::new());
    for r in &rows {
        let part: Vec<u8> = r.col("part")?;
        let (in_a, in_b): (f64, f64) = (r.col("in_a")?, r.col("in_b")?);
        if in_a >= in_b {
            to_a.push(part);
        } else {
            to_b.push(part);
        }
    }
    if to_a.is_empty() || to_b.is_empty() {
        return Err(PlanError::Input(format!(
            "the line does not divide grids {a} and {b} into a part for each: draw it across their union, from one outer edge to another"
        )));
    }
    let news = [union(c, &to_a).await?, union(c, &to_b).await?];
    exchange(c, plan, [a, b], news).await
}

/// The union of WKB parts, as one MultiPolygon (WKB).
async fn union(c: &impl GenericClient, parts: &[Vec<u8>]) -> PlanResult<Vec<u8>> {
    Ok(
        c.query_one(include_str!("../sql/plan_union_parts.sql"), &[&parts])
            .await?
            .col("geom")?,
    )
}

/// Two grids `keys` take new geometries `news`, their figures following the land.
async fn exchange(
    c: &impl GenericClient,
    plan: i64,
    keys: [i32; 2],
    news: [Vec<u8>; 2],
) -> PlanResult<Vec<i32>> {
    let (h, p) = shares(c, plan, &keys, &news).await?;
    let outputs = keys
        .into_iter()
        .zip(news)
        .zip(h.into_iter().zip(p))
        .map(|((key, wkb), (h, p))| Output {
            key: Some(key),
            wkb,
            households: Some(h),
            population: Some(p),
        })
        .collect();
    write_outputs(c, plan, keys[0], outputs).await
}

/// `create`: a new grid under a parent of the plan, with its figures.
async fn create(
    c: &impl GenericClient,
    plan: i64,
    geometry: &MultiPolygon<f64>,
    figures: &Figures<'_>,
    code: Option<&str>,
    parent: Option<i64>,
) -> PlanResult<Vec<i32>> {
    let parents: Vec<i64> = c
        .query(include_str!("../sql/plan_parents.sql"), &[&plan])
        .await?
        .iter()
        .map(|r| r.col("area_id"))
        .collect::<Result<_, _>>()?;
    let parent = match (parent, &parents[..]) {
        (Some(p), _) if parents.contains(&p) => p,
        (Some(p), _) => {
            return Err(PlanError::Input(format!(
                "area {p} is not a parent of this plan's grids; parents: {parents:?}"
            )));
        }
        (None, [only]) => *only,
        (None, _) => {
            return Err(PlanError::Input(format!(
                "this plan covers several parents; name one with \"parent\": {parents:?}"
            )));
        }
    };
    let (Some(h), Some(p)) = (figures.households, figures.population) else {
        return Err(PlanError::Input(
            "create needs households and population".into(),
        ));
    };
    let w = checked_wkb(c, plan, "the new grid's geometry", geometry).await?;
    let (next, default_name) = next_code(c, plan, parent).await?;
    let code = match code {
        Some(code) => {
            let taken = c
                .query_opt(include_str!("../sql/plan_code_taken.sql"), &[&plan, &code])
                .await?
                .is_some();
            if taken {
                return Err(PlanError::Input(format!("code {code} is already used")));
            }
            code.to_owned()
        }
        None => next,
    };
    let name = figures.name.map_or(default_name, str::to_owned);
    let key = insert_grid(c, plan, parent, &code, &name, Some(h), Some(p), &w).await?;
    Ok(vec![key])
}

/// `retire`: a grid removed from the draft.
async fn retire(c: &impl GenericClient, plan: i64, grid: i32) -> PlanResult<Vec<i32>> {
    ensure_keys(c, plan, &[grid]).await?;
    c.execute(include_str!("../sql/plan_retire.sql"), &[&plan, &grid])
        .await?;
    Ok(vec![grid])
}

/// An output of an operation: an existing key to rewrite, or a new grid.
struct Output {
    key: Option<i32>,
    wkb: Vec<u8>,
    households: Option<i32>,
    population: Option<i32>,
}

/// Writes the outputs of an operation: rewrites existing keys, inserts new grids (under the
/// parent of `like`), marks them changed.
async fn write_outputs(
    c: &impl GenericClient,
    plan: i64,
    like: i32,
    outputs: Vec<Output>,
) -> PlanResult<Vec<i32>> {
    let mut touched = Vec::new();
    for o in outputs {
        if let Some(k) = o.key {
            c.execute(
                include_str!("../sql/plan_rewrite_grid.sql"),
                &[&plan, &k, &o.wkb, &o.households, &o.population],
            )
            .await?;
            touched.push(k);
        } else {
            let parent: i64 = c
                .query_one(include_str!("../sql/plan_grid_parent.sql"), &[&plan, &like])
                .await?
                .col("parent_id")?;
            let (code, name) = next_code(c, plan, parent).await?;
            let key = insert_grid(
                c,
                plan,
                parent,
                &code,
                &name,
                o.households,
                o.population,
                &o.wkb,
            )
            .await?;
            touched.push(key);
        }
    }
    Ok(touched)
}

/// Inserts a new draft grid (changed) under the next free key; returns the key.
#[allow(clippy::too_many_arguments)]
async fn insert_grid(
    c: &impl GenericClient,
    plan: i64,
    parent: i64,
    code: &str,
    name: &str,
    households: Option<i32>,
    population: Option<i32>,
    wkb: &[u8],
) -> PlanResult<i32> {
    Ok(c.query_one(
        include_str!("../sql/plan_insert_grid.sql"),
        &[&plan, &parent, &code, &name, &households, &population, &wkb],
    )
    .await?
    .col("key")?)
}

/// Households and population of a grid (404 when the draft has no such grid).
async fn figures_of(c: &impl GenericClient, plan: i64, key: i32) -> PlanResult<(i32, i32)> {
    let r = c
        .query_opt(include_str!("../sql/plan_figures.sql"), &[&plan, &key])
        .await?
        .ok_or_else(|| PlanError::NotFound(format!("plan {plan} has no grid {key}")))?;
    Ok((r.col("households")?, r.col("population")?))
}

/// Refuses (404) keys the draft has no grid of.
async fn ensure_keys(c: &impl GenericClient, plan: i64, keys: &[i32]) -> PlanResult<()> {
    for k in keys {
        figures_of(c, plan, *k).await?;
    }
    Ok(())
}

/// Households and population of the new geometries by area share of the old grids `keys`.
async fn shares(
    c: &impl GenericClient,
    plan: i64,
    keys: &[i32],
    news: &[Vec<u8>],
) -> PlanResult<(Vec<i32>, Vec<i32>)> {
    let rows = c
        .query(
            include_str!("../sql/plan_shares.sql"),
            &[&plan, &keys, &news],
        )
        .await?;
    let mut h = vec![0.0; news.len()];
    let mut p = vec![0.0; news.len()];
    for k in keys {
        let (hh, pop) = figures_of(c, plan, *k).await?;
        for r in &rows {
            if r.col::<i32>("key")? != *k {
                continue;
            }
            // 1-based position of the new geometry.
            let part: i32 = r.col("part")?;
            let j = usize::try_from(part - 1).unwrap_or(0);
            let area: f64 = r.col("grid_m2")?;
            let inter: f64 = r.col("shared_m2")?;
            if area > 0.0 && j < news.len() {
                h[j] += f64::from(hh) * inter / area;
                p[j] += f64::from(pop) * inter / area;
            }
        }
    }
    Ok((apportion(&h), apportion(&p)))
}

/// The next free grid code and name under a parent.
async fn next_code(c: &impl GenericClient, plan: i64, parent: i64) -> PlanResult<(String, String)> {
    let r = c
        .query_opt(include_str!("../sql/plan_next_code.sql"), &[&parent, &plan])
        .await?
        .ok_or_else(|| PlanError::Input(format!("no parent area {parent}")))?;
    let code: String = r.col("code")?;
    let name: String = r.col("name")?;
    let n: i64 = r.col::<i64>("last_number")? + 1;
    Ok((format!("{code}{n:03}"), format!("{name}第{n}网格")))
}

/// Splits `total` over weights, rounding so that the parts add up to the rounded total
/// (largest remainders first).
fn apportion(shares: &[f64]) -> Vec<i32> {
    let total: f64 = shares.iter().sum();
    #[allow(clippy::cast_possible_truncation)]
    let target = total.round() as i64;
    #[allow(clippy::cast_possible_truncation)]
    let mut out: Vec<i64> = shares.iter().map(|s| s.floor() as i64).collect();
    let mut rest: Vec<(usize, f64)> = shares
        .iter()
        .enumerate()
        .map(|(i, s)| (i, s - s.floor()))
        .collect();
    rest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut missing = target - out.iter().sum::<i64>();
    for (i, _) in rest {
        if missing <= 0 {
            break;
        }
        if let Some(o) = out.get_mut(i) {
            *o += 1;
        }
        missing -= 1;
    }
    out.into_iter()
        .map(|v| i32::try_from(v.max(0)).unwrap_or(i32::MAX))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportioning_keeps_the_total() {
        assert_eq!(apportion(&[100.4, 99.6]), [100, 100]);
        assert_eq!(apportion(&[1.0 / 3.0; 3].map(|x| x * 10.0)), [4, 3, 3]);
        let v = apportion(&[123.45, 76.55, 0.0]);
        assert_eq!(v.iter().sum::<i32>(), 200);
    }
}
