//! Operations: health, metadata, areas.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn meta(api: &mut Api) {
    api.add(
        HttpMethod::Get,
        "/healthz",
        errors(
            op(
                "healthz",
                "meta",
                "Liveness: 200 while the process runs",
                Access::Anyone,
            )
            .response("200", json_body("alive", "Health")),
            &ALWAYS,
        ),
    );
    api.add(
        HttpMethod::Get,
        "/readyz",
        errors(
            op(
                "readyz",
                "meta",
                "Readiness: 200 once the index is loaded and while the database answers",
                Access::Anyone,
            )
            .response("200", json_body("ready", "Ready")),
            &ALWAYS,
        ),
    );
    api.add(
        HttpMethod::Get,
        "/metrics",
        errors(
            op(
                "metrics",
                "meta",
                "Prometheus metrics (text format 0.0.4)",
                Access::Anyone,
            )
            .response(
                "200",
                body("the metrics", &["text/plain"], Some(string().into())),
            ),
            &ALWAYS,
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/openapi.json",
        errors(
            op(
                "openapi",
                "meta",
                "This document (OpenAPI 3.1)",
                Access::Anyone,
            )
            .response(
                "200",
                body(
                    "the document",
                    &["application/json"],
                    Some(ObjectBuilder::new().schema_type(Type::Object).into()),
                ),
            ),
            &with(&[500]),
        ),
    );
}

pub(super) fn areas(api: &mut Api) {
    let at = query(
        "at",
        date_time(),
        "answer as the areas were at this RFC 3339 time (from PostGIS's versions)",
    );
    let [lon, lat] = lon_lat(true);
    api.add(
        HttpMethod::Get,
        "/api/v1/locate",
        errors(
            op(
                "locate",
                "areas",
                "The grid covering a point and its ancestors [community, street, district]",
                Access::Anyone,
            )
            .parameters(Some([lon, lat, at.clone()]))
            .response("200", json_body("the grid and its ancestors", "Located")),
            &with(&[400, 404, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/areas",
        errors(
            op(
                "areas",
                "areas",
                "Areas with their boundaries, paged",
                Access::Anyone,
            )
            .parameters(Some([
                query(
                    "level",
                    one_of_strings(&["city", "district", "street", "community", "grid"]),
                    "only areas of this level",
                ),
                query(
                    "parent",
                    integer(None, None),
                    "only children of this area id",
                ),
                bbox(Some(2.0)),
                limit(100, 1000),
                cursor(),
                at,
            ]))
            .response(
                "200",
                geojson_body(
                    "a page of areas, with `self` and `next` links",
                    "AreaCollection",
                ),
            ),
            &with(&[400, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/areas/{id}",
        errors(
            op(
                "area",
                "areas",
                "One area with its boundary",
                Access::Anyone,
            )
            .parameter(id_path("area id"))
            .response("200", geojson_body("the area", "AreaFeature")),
            &with(&[400, 404]),
        ),
    );
}
