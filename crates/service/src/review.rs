//! Review reports (工作报告, daily, weekly, monthly): for an area (or the whole city) and a
//! period, everything a review meeting looks at, generated from the record — the key
//! figures against the previous period, cases per day, the top issues, the map of the
//! period's cases, the overdue cases, the visits owed and not made, the assessment with
//! its rankings and red and black lists. Nobody types any of it.
//!
//! A report of a period that has ended is kept once, as generated then
//! (`report_snapshots`), by [`keep_snapshots`]: the city and its top areas, every day,
//! week and month; a kept report never changes.
//!
//! Personal data: none. Households owed a visit are counted by reason (sensitive care
//! tags counted together as "other care"), never listed; risk sites (places, not people)
//! are listed by name.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use geo::{BoundingRect, Simplify};
use serde_json::{Value, json};

use crate::Core;
use crate::assessment::{
    Ask, AssessError, Assessment, Period, PeriodKind, assess, china_today, grids_of,
};
use crate::visits::{Rules, subjects};
use minqing_index::PeriodSummary;
use minqing_model::Taxonomy;
use minqing_model::register::LinkKind;
use minqing_store::ExplainOf;

/// Cases drawn on a report's map at most (a sample beyond).
const MAP_POINTS: usize = 4000;
/// Overdue cases and risk sites listed at most.
const LISTED: i64 = 50;

/// The key figures: (key, from the area's figures and shares).
fn kpis(cur: &Assessment, prev: &Assessment) -> Value {
    let pick = |a: &Assessment, k: &str| -> Value {
        let f = &a.area.figures;
        let s = &a.area.shares;
        match k {
            "cases" => json!(f.cases),
            "missed" => json!(f.missed),
            "overdue" => json!(f.overdue),
            "found" => json!(s.found),
            "on_time" => json!(s.on_time),
            "visits" => json!(s.visits),
            "satisfaction" => json!(s.satisfaction),
            "score" => json!(a.area.score),
            _ => Value::Null,
        }
    };
    Value::Array(
        [
            "cases",
            "found",
            "missed",
            "on_time",
            "overdue",
            "visits",
            "satisfaction",
            "score",
        ]
        .iter()
        .map(|k| json!({"key": k, "value": pick(cur, k), "previous": pick(prev, k)}))
        .collect(),
    )
}

/// The top issues: cases per top-level category, with the previous period's.
fn categories(
    tax: &Taxonomy,
    codes: &[String],
    cur: &PeriodSummary,
    prev: &PeriodSummary,
) -> Value {
    let mut by: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (i, code) in codes.iter().enumerate() {
        let top = code.split('.').next().unwrap_or(code).to_owned();
        let e = by.entry(top).or_default();
        e.0 += cur.by_category.get(i).copied().unwrap_or(0);
        e.1 += prev.by_category.get(i).copied().unwrap_or(0);
    }
    let mut rows: Vec<(String, u64, u64)> = by
        .into_iter()
        .filter(|(_, (c, p))| *c + *p > 0)
        .map(|(k, (c, p))| (k, c, p))
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Value::Array(
        rows.iter()
            .map(|(code, c, p)| {
                let cat = tax.category_of(code);
                json!({"code": code, "name": cat.map(|c| c.zh.clone()), "name_en": cat.map(|c| c.en.clone()),
                       "count": c, "previous": p})
            })
            .collect(),
    )
}

/// Cases reported and resolved per day of the period (China days).
fn daily(period: &Period, s: &PeriodSummary) -> Value {
    Value::Array(
        s.reported_per_day
            .iter()
            .zip(&s.resolved_per_day)
            .enumerate()
            .map(|(i, (rep, res))| {
                let d = period.starts + chrono::Duration::days(i64::try_from(i).unwrap_or(0));
                json!({"date": d.format("%Y-%m-%d").to_string(), "reported": rep, "resolved": res})
            })
            .collect(),
    )
}

/// The outlines of the area's children (or the roots), simplified for a page-sized map.
fn outlines(core: &Core, area: Option<i64>) -> Value {
    let areas = core.index.areas();
    let children: Vec<&minqing_model::Area> = areas
        .all()
        .iter()
        .filter(|a| match area {
            Some(id) => a.parent_id == Some(id),
            None => a.parent_id.is_none_or(|p| areas.get(p).is_none()),
        })
        .collect();
    let shapes: Vec<&minqing_model::Area> = if children.is_empty() {
        area.and_then(|id| areas.get(id)).into_iter().collect()
    } else {
        children
    };
    let bbox = shapes
        .iter()
        .filter_map(|a| a.geom.bounding_rect())
        .reduce(|a, b| {
            geo::Rect::new(
                geo::coord! {x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y)},
                geo::coord! {x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y)},
            )
        });
    let Some(bbox) = bbox else {
        return json!({"bbox": null, "outlines": []});
    };
    let eps = (bbox.width().max(bbox.height()) / 600.0).max(1e-6);
    let round = |v: f64| (v * 1e5).round() / 1e5;
    let list: Vec<Value> = shapes
        .iter()
        .map(|a| {
            let g = a.geom.simplify(eps);
            let rings: Vec<Vec<[f64; 2]>> =
                g.0.iter()
                    .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                    .map(|r| r.0.iter().map(|c| [round(c.x), round(c.y)]).collect())
                    .filter(|r: &Vec<[f64; 2]>| r.len() >= 4)
                    .collect();
            json!({"id": a.id, "name": a.name, "rings": rings})
        })
        .collect();
    json!({
        "bbox": [round(bbox.min().x), round(bbox.min().y), round(bbox.max().x), round(bbox.max().y)],
        "outlines": list,
    })
}

/// The visits owed in the period and not made: by reason, and the risk sites most behind.
async fn missed_visits(
    core: &Core,
    (area, grids): (Option<i64>, Vec<i64>),
    period: &Period,
) -> Result<Value, AssessError> {
    let rules = Rules::load(&core.store).await?;
    let visited = crate::visits::visited(&core.index, period.from, period.to);
    let set = crate::assessment::scope_set(&core.index.areas(), area, grids);
    let regs = core.index.registers();
    let mut by_reason: BTreeMap<&'static str, (i64, i64)> = BTreeMap::new();
    let mut places: Vec<Value> = Vec::new();
    let (mut owed, mut done) = (0i64, 0i64);
    for s in subjects(&regs, set.as_ref(), &rules, |_| true) {
        let v = visited.get(&s.target).copied().unwrap_or_default();
        let required = s.required(v.last_before, period.from, period.to);
        if required == 0 {
            continue;
        }
        let made = v.done.min(required);
        owed += required;
        done += made;
        for r in &s.reasons {
            let sensitive = minqing_model::register::CareTag::parse(r)
                .is_some_and(minqing_model::register::CareTag::sensitive);
            let e = by_reason
                .entry(if sensitive { "other_care" } else { r })
                .or_default();
            e.0 += required;
            e.1 += made;
        }
        if s.target.kind == LinkKind::Place && made < required {
            places.push(
                json!({"id": s.target.id, "name": s.label, "type": s.reasons.first(),
                               "grid_id": s.grid, "owed": required, "done": made}),
            );
        }
    }
    places.sort_by_key(|p| {
        std::cmp::Reverse(p["owed"].as_i64().unwrap_or(0) - p["done"].as_i64().unwrap_or(0))
    });
    places.truncate(usize::try_from(LISTED).unwrap_or(50));
    Ok(json!({
        "owed": owed, "done": done,
        "by_reason": by_reason.iter().map(|(k, (o, d))| json!({"reason": k, "owed": o, "done": d})).collect::<Vec<_>>(),
        "places": places,
    }))
}

/// The review report of an area (`None`: the whole city) for a period, as a JSON document
/// (the page at `/reports` draws it; its tables are also CSV). `None`: no such area.
///
/// # Errors
/// [`AssessError`].
pub async fn review(
    core: &Core,
    area: Option<i64>,
    period: Period,
) -> Result<Option<Value>, AssessError> {
    let ask = Ask {
        area,
        period,
        workers_limit: 20,
        list: 5,
    };
    let previous = period.previous();
    // Boxed: an assessment's future is large.
    let (cur, prev) = tokio::try_join!(
        Box::pin(assess(core, ask)),
        Box::pin(assess(
            core,
            Ask {
                period: previous,
                workers_limit: 0,
                list: 0,
                ..ask
            }
        )),
    )?;
    let (Some(cur), Some(prev)) = (cur, prev) else {
        return Ok(None);
    };
    let areas = core.index.areas();
    let grids = grids_of(&areas, area);
    let index = core.index.clone();
    let g2 = grids.clone();
    let (now_s, prev_s, codes, overdue) = tokio::task::spawn_blocking(move || {
        let now = Utc::now().timestamp_micros();
        let keep = |g: i64| g2.binary_search(&g).is_ok();
        let day = 86_400_000_000;
        let w = |p: &Period| (p.from.timestamp_micros(), p.to.timestamp_micros(), now);
        index.events(|e| {
            (
                e.period_summary(w(&period), day, keep, MAP_POINTS),
                e.period_summary(w(&previous), day, keep, 0),
                e.category_codes().to_vec(),
                e.overdue_ids(w(&period), keep, usize::try_from(LISTED).unwrap_or(50)),
            )
        })
    })
    .await
    .map_err(|e| AssessError::Failed(e.to_string()))?;
    // Found in memory, their details read by id.
    let overdue = core
        .store
        .explain_cases(
            ExplainOf::Ids(&overdue),
            period.from,
            period.to,
            "overdue",
            LISTED,
        )
        .await?;
    let missed = missed_visits(core, (area, grids.clone()), &period).await?;
    let title = format!(
        "{} {}{}",
        cur.area.name,
        cur.period_label,
        match period.kind {
            PeriodKind::Day => "日报",
            PeriodKind::Week => "周报",
            PeriodKind::Month => "月报",
        }
    );
    Ok(Some(json!({
        "title": title,
        "area": {"id": cur.area.id, "code": cur.area.code, "name": cur.area.name, "level": cur.area.level},
        "period": period,
        "period_label": cur.period_label,
        "previous_label": prev.period_label,
        "computed_at": Utc::now(),
        "generated": cur.generated,
        "kpis": kpis(&cur, &prev),
        "daily": daily(&period, &now_s),
        "categories": categories(&core.taxonomy, &codes, &now_s, &prev_s),
        "overdue_cases": {"count": cur.area.figures.overdue, "cases": overdue},
        "missed_visits": missed,
        "map": {
            "points_total": now_s.cases,
            "points": now_s.points.iter().map(|(x, y, s)| json!([(x * 1e5).round() / 1e5, (y * 1e5).round() / 1e5, s])).collect::<Vec<_>>(),
            "areas": outlines(core, area),
        },
        "assessment": cur,
    })))
}

/// The areas whose reports are kept: the whole city (`None`, code "") and the root areas.
fn kept_areas(core: &Core) -> Vec<(Option<i64>, String)> {
    let areas = core.index.areas();
    std::iter::once((None, String::new()))
        .chain(
            areas
                .all()
                .iter()
                .filter(|a| a.parent_id.is_none_or(|p| areas.get(p).is_none()))
                .map(|a| (Some(a.id), a.code.clone())),
        )
        .collect()
}

/// Keeps the report of the last ended day, week and month of every kept area that has
/// none yet. Returns how many were kept.
///
/// # Errors
/// [`AssessError`].
pub async fn keep_snapshots(core: &Core, now: DateTime<Utc>) -> Result<usize, AssessError> {
    let today = china_today(now);
    let mut kept = 0;
    for kind in PeriodKind::ALL {
        let period = Period::containing(kind, today).previous();
        for (area, code) in kept_areas(core) {
            if core
                .store
                .snapshot(&code, kind.code(), period.starts)
                .await?
                .is_some()
            {
                continue;
            }
            if let Some(body) = review(core, area, period).await?
                && core
                    .store
                    .keep_snapshot(&code, kind.code(), period.starts, &body)
                    .await?
                    .is_some()
            {
                kept += 1;
            }
        }
    }
    Ok(kept)
}

/// Keeps the ended periods' reports every `every`, until the service shuts down.
pub async fn keep_snapshots_loop(core: Core, live: Arc<crate::live::Live>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let closed = live.closed();
    tokio::pin!(closed);
    loop {
        tokio::select! {
            _ = tick.tick() => {},
            () = &mut closed => return,
        }
        match keep_snapshots(&core, Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(reports = n, "review reports of ended periods kept"),
            Err(e) => tracing::warn!(error = %e, "keeping review reports failed; retrying later"),
        }
    }
}
