//! GeoJSON for responses: features, collections and OGC-API-Features-style paging links.
//!
//! Responses are typed structs serialised straight to bytes (no intermediate JSON tree):
//! list and nearby answers are the hot paths of the field app.

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::extract::Params;
use minqing_model::geojson::multipolygon_to_json;
use minqing_model::{Area, ESCALATION_LEVELS, Event, Taxonomy};

/// A serialisable body answered as `application/geo+json`.
pub struct GeoJson<T>(pub T);

impl<T: Serialize> IntoResponse for GeoJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => ([(CONTENT_TYPE, "application/geo+json")], body).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "cannot serialise a response");
                super::error::ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
                .into_response()
            }
        }
    }
}

/// A GeoJSON Point.
#[derive(Serialize)]
pub struct Point {
    #[serde(rename = "type")]
    kind: &'static str,
    coordinates: [f64; 2],
}

/// The public properties of an event (never personal data).
#[derive(Serialize)]
pub struct EventProperties<'a> {
    category: &'a str,
    category_zh: Option<&'a str>,
    category_en: Option<&'a str>,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    status: &'static str,
    priority: i16,
    grid_id: Option<i64>,
    reported_at: DateTime<Utc>,
    due_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    overdue: bool,
    /// The level an overdue case has been raised to (`grid` when never raised).
    escalation: &'static str,
    resolved_at: Option<DateTime<Utc>>,
    satisfied: Option<bool>,
    generated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    distance_m: Option<f64>,
}

/// A GeoJSON Feature with a top-level id.
#[derive(Serialize)]
pub struct Feature<G, P> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: i64,
    geometry: G,
    properties: P,
}

/// An event as a public Feature.
pub type EventFeature<'a> = Feature<Point, EventProperties<'a>>;

/// Builds an event Feature, borrowing from the event and the taxonomy.
#[must_use]
pub fn event<'a>(
    e: &'a Event,
    taxonomy: &'a Taxonomy,
    now: DateTime<Utc>,
    distance_m: Option<f64>,
) -> EventFeature<'a> {
    let (category_zh, category_en) = taxonomy_names(taxonomy, &e.category);
    Feature {
        kind: "Feature",
        id: e.id,
        geometry: Point {
            kind: "Point",
            coordinates: [e.lon, e.lat],
        },
        properties: EventProperties {
            category: &e.category,
            category_zh,
            category_en,
            title: &e.title,
            description: e.description.as_deref(),
            status: e.status.as_str(),
            priority: e.priority,
            grid_id: e.grid_id,
            reported_at: e.reported_at,
            due_at: e.due_at,
            updated_at: e.updated_at,
            overdue: e.is_overdue(now),
            escalation: ESCALATION_LEVELS
                .get(usize::from(e.escalation))
                .copied()
                .unwrap_or("district"),
            resolved_at: e.resolved_at,
            satisfied: e.satisfied,
            generated: e.generated,
            distance_m,
        },
    }
}

fn taxonomy_names<'a>(t: &'a Taxonomy, code: &str) -> (Option<&'a str>, Option<&'a str>) {
    let Some(cat) = t.category_of(code) else {
        return (None, None);
    };
    match code.split_once('.') {
        Some((_, sub)) => cat
            .subcategories
            .iter()
            .find(|s| s.code == sub)
            .map_or((None, None), |s| (Some(s.zh.as_str()), Some(s.en.as_str()))),
        None => (Some(cat.zh.as_str()), Some(cat.en.as_str())),
    }
}

/// The public properties of an area (no geometry).
#[derive(Serialize)]
pub struct AreaProperties<'a> {
    id: i64,
    code: &'a str,
    name: &'a str,
    name_en: Option<&'a str>,
    level: &'static str,
    parent_id: Option<i64>,
    households: i32,
    population: i32,
    workers: &'a [String],
    generated: bool,
    source: &'a str,
    version: i32,
}

/// The public properties of an area.
#[must_use]
pub fn area_properties(a: &Area) -> AreaProperties<'_> {
    AreaProperties {
        id: a.id,
        code: &a.code,
        name: &a.name,
        name_en: a.name_en.as_deref(),
        level: a.level.as_str(),
        parent_id: a.parent_id,
        households: a.households,
        population: a.population,
        workers: &a.workers,
        generated: a.generated,
        source: &a.source,
        version: a.version,
    }
}

/// An area as a Feature with its boundary.
#[must_use]
pub fn area(a: &Area) -> Feature<Value, AreaProperties<'_>> {
    Feature {
        kind: "Feature",
        id: a.id,
        geometry: multipolygon_to_json(&a.geom),
        properties: area_properties(a),
    }
}

/// A link of a collection.
#[derive(Serialize)]
pub struct Link {
    rel: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    href: String,
}

/// A FeatureCollection, with paging links when it is a page of a listing.
#[derive(Serialize)]
pub struct Collection<T> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "numberReturned")]
    number_returned: usize,
    features: Vec<T>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<Link>,
}

/// A FeatureCollection without links.
#[must_use]
pub fn collection<T>(features: Vec<T>) -> Collection<T> {
    Collection {
        kind: "FeatureCollection",
        number_returned: features.len(),
        features,
        links: Vec::new(),
    }
}

/// A page with `self` and, when more may follow, `next` links.
#[must_use]
pub fn page<T>(path: &str, params: &Params, features: Vec<T>, next: Option<i64>) -> Collection<T> {
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
    let mut links = vec![Link {
        rel: "self",
        kind: "application/geo+json",
        href: link(params.cursor().ok().flatten()),
    }];
    if let Some(c) = next {
        links.push(Link {
            rel: "next",
            kind: "application/geo+json",
            href: link(Some(c)),
        });
    }
    let mut c = collection(features);
    c.links = links;
    c
}
