//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of the whole HTTP API.
//!
//! Built with utoipa from this module alone, so that it can be kept beside the handlers
//! without touching them: the JSON bodies are described by the [`schemas`] types (derived
//! `ToSchema`, never instantiated: they exist to be described), the operations by
//! builders below, one function per area of the API. Every status an operation lists is
//! one its handler (or the middleware before it: a bad token is a 401 everywhere but
//! Open311) can answer; every content type is the one it sends. The taxonomy's codes are
//! read from the running instance, so `category` and `service_code` are enumerated.
//!
//! The document is checked by tools written elsewhere (`tests/openapi.rs`):
//! `openapi-spec-validator` validates it, and Schemathesis sends every operation to a real
//! server with a token of each role and checks every answer against it.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use utoipa::OpenApi as _;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Header, InfoBuilder, OpenApi, Required, Tag};

use super::AppState;

mod blocks;
mod core;
mod events;
mod imports;
mod maps;
mod open311;
mod plans;
mod registers;
mod schemas;
mod work;

#[allow(clippy::wildcard_imports)]
use blocks::*;
use minqing_model::Taxonomy;

/// `/api/v1/openapi.json`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(serve))
}

async fn serve(State(state): State<AppState>) -> Response {
    match serde_json::to_vec(&document_json(&state.taxonomy)) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialise the OpenAPI document");
            super::error::ApiError::internal().into_response()
        }
    }
}

/// The document as JSON, with two changes utoipa cannot make: a Link's fields in camel case
/// (utoipa 5.5 writes `operation_id`, `operation_ref`, `request_body`, which
/// openapi-spec-validator refuses), and the schemas composed with `allOf` (a case's
/// properties: the public ones and more) closed with `unevaluatedProperties: false`, so that
/// a field no schema names (a contact in a list, say) fails the check.
#[must_use]
pub fn document_json(taxonomy: &Taxonomy) -> Value {
    let mut v = serde_json::to_value(document(taxonomy)).unwrap_or(Value::Null);
    let composed = v
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|schemas| schemas.values_mut())
        .filter_map(Value::as_object_mut)
        .filter(|s| s.contains_key("allOf"));
    for s in composed {
        s.insert("unevaluatedProperties".to_owned(), Value::Bool(false));
    }
    let responses = v
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("responses").and_then(Value::as_object_mut))
        .flat_map(|rs| rs.values_mut());
    for r in responses {
        let Some(links) = r.get_mut("links").and_then(Value::as_object_mut) else {
            continue;
        };
        for link in links.values_mut().filter_map(Value::as_object_mut) {
            for (from, to) in [
                ("operation_id", "operationId"),
                ("operation_ref", "operationRef"),
                ("request_body", "requestBody"),
            ] {
                if let Some(x) = link.remove(from) {
                    link.insert(to.to_owned(), x);
                }
            }
        }
    }
    v
}

/// The OpenAPI document of this instance (its taxonomy enumerates `category` and
/// `service_code`).
#[must_use]
pub fn document(taxonomy: &Taxonomy) -> OpenApi {
    let mut doc = schemas::Components::openapi();
    doc.info = InfoBuilder::new()
        .title("minqing (民情地图)")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Grid-based community governance: areas and events in PostGIS, served from \
             memory. REST under /api/v1 (errors are {\"error\": {\"code\", \"message\"}}), \
             vector tiles, label glyphs, the change stream, Open311 GeoReport v2, grid \
             planning, health and metrics. Requests carry `Authorization: Bearer mq_…`; \
             without one a request is anonymous, and a bad or revoked token is a 401 \
             everywhere (Open311: a 403 in its own error format).",
        ))
        .build();
    if let Some(c) = doc.components.as_mut() {
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("mq_ followed by 64 hex digits")
                    .description(Some(
                        "A minqing token (`minqing token create`); its role and area scope \
                         decide what the caller sees and may do.",
                    ))
                    .build(),
            ),
        );
    }
    let t = Codes::of(taxonomy);
    let mut api = Api::default();
    core::meta(&mut api);
    core::areas(&mut api);
    events::events(&mut api, &t);
    events::exports(&mut api, &t);
    maps::tiles(&mut api, &t);
    maps::fonts(&mut api);
    plans::plans(&mut api);
    registers::registers(&mut api);
    imports::imports(&mut api);
    work::work(&mut api);
    open311::open311(&mut api, &t);
    maps::web(&mut api);
    doc.paths = api.paths;
    doc.tags = Some(
        [
            ("meta", "Health, readiness, metrics and this document"),
            (
                "areas",
                "Where a point is; the areas (district → street → community → grid)",
            ),
            (
                "events",
                "Reports and cases: lists, nearby, detail, transitions, statistics",
            ),
            ("exports", "CSV and GeoJSON exports streamed from PostGIS"),
            ("stream", "Server-Sent Events of every change"),
            ("tiles", "Mapbox Vector Tiles and their TileJSON"),
            ("fonts", "MapLibre label glyphs"),
            ("plans", "Grid planning drafts"),
            (
                "registers",
                "People, buildings, places and organisations: masked, scoped, audited",
            ),
            ("workers", "Grid workers and the grids they hold (定格定人)"),
            (
                "assessment",
                "Assessment (考核) and review reports, derived from the record",
            ),
            ("open311", "Open311 GeoReport v2"),
            ("web", "The web app's pages"),
        ]
        .into_iter()
        .map(|(name, what)| {
            let mut tag = Tag::new(name);
            tag.description = Some(what.to_owned());
            tag
        })
        .collect(),
    );
    doc
}

/// Operation count, for the tests of this module.
#[cfg(test)]
fn operations(doc: &OpenApi) -> usize {
    doc.paths
        .paths
        .values()
        .map(|p| {
            [&p.get, &p.post, &p.put, &p.delete, &p.patch]
                .iter()
                .filter(|o| o.is_some())
                .count()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_and_names_every_operation() {
        let doc = document(&Taxonomy::builtin());
        let v = document_json(&Taxonomy::builtin());
        assert!(!v.to_string().contains("operation_id"));
        assert_eq!(v["openapi"], "3.1.0");
        assert!(operations(&doc) > 40);
        // Every reference resolves.
        let text = v.to_string();
        let schemas = v["components"]["schemas"].as_object().unwrap();
        for part in text.split("\"#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "missing schema {name}");
        }
    }
}
