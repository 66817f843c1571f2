//! GeoJSON for responses: features, collections and OGC-API-Features-style paging links.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::extract::Params;
use crate::model::geojson::multipolygon_to_json;
use crate::model::{Area, Event, Taxonomy};

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// An event as a public Feature (never with personal data).
#[must_use]
pub fn event(e: &Event, taxonomy: &Taxonomy, now: DateTime<Utc>, distance_m: Option<f64>) -> Value {
    let names = taxonomy_names(taxonomy, &e.category);
    let mut props = json!({
        "category": e.category,
        "category_zh": names.0,
        "category_en": names.1,
        "title": e.title,
        "status": e.status.as_str(),
        "priority": e.priority,
        "grid_id": e.grid_id,
        "reported_at": time(e.reported_at),
        "due_at": e.due_at.map(time),
        "updated_at": time(e.updated_at),
        "overdue": e.status.is_open() && e.due_at.is_some_and(|d| d < now),
        "generated": e.generated,
    });
    if let Some(p) = props.as_object_mut() {
        if let Some(text) = &e.description {
            p.insert("description".into(), json!(text));
        }
        if let Some(d) = distance_m {
            p.insert("distance_m".into(), json!(d));
        }
    }
    json!({
        "type": "Feature",
        "id": e.id,
        "geometry": {"type": "Point", "coordinates": [e.lon, e.lat]},
        "properties": props,
    })
}

fn taxonomy_names(t: &Taxonomy, code: &str) -> (Option<String>, Option<String>) {
    let Some(cat) = t.category_of(code) else {
        return (None, None);
    };
    match code.split_once('.') {
        Some((_, sub)) => cat
            .subcategories
            .iter()
            .find(|s| s.code == sub)
            .map_or((None, None), |s| (Some(s.zh.clone()), Some(s.en.clone()))),
        None => (Some(cat.zh.clone()), Some(cat.en.clone())),
    }
}

/// The public properties of an area (no geometry).
#[must_use]
pub fn area_properties(a: &Area) -> Map<String, Value> {
    let v = json!({
        "id": a.id,
        "code": a.code,
        "name": a.name,
        "name_en": a.name_en,
        "level": a.level.as_str(),
        "parent_id": a.parent_id,
        "households": a.households,
        "population": a.population,
        "workers": a.workers,
        "generated": a.generated,
        "source": a.source,
        "version": a.version,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// An area as a Feature with its boundary.
#[must_use]
pub fn area(a: &Area) -> Value {
    json!({
        "type": "Feature",
        "id": a.id,
        "geometry": multipolygon_to_json(&a.geom),
        "properties": Value::Object(area_properties(a)),
    })
}

/// A FeatureCollection page with `self` and, when more may follow, `next` links.
#[must_use]
pub fn page(path: &str, params: &Params, features: Vec<Value>, next: Option<i64>) -> Value {
    let link = |cursor: Option<i64>| {
        let mut pairs: Vec<(&str, String)> = params
            .pairs()
            .iter()
            .filter(|(k, _)| k.as_str() != "cursor")
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        if let Some(c) = cursor {
            pairs.push(("cursor", c.to_string()));
        }
        let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if q.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{q}")
        }
    };
    let mut links = vec![
        json!({"rel": "self", "type": "application/geo+json", "href": link(params.cursor().ok().flatten())}),
    ];
    if let Some(c) = next {
        links.push(json!({"rel": "next", "type": "application/geo+json", "href": link(Some(c))}));
    }
    json!({
        "type": "FeatureCollection",
        "numberReturned": features.len(),
        "features": features,
        "links": links,
    })
}
