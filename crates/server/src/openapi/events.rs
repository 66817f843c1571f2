//! Operations: events, cases and their exports.

#[allow(clippy::wildcard_imports)]
use super::*;

#[allow(clippy::too_many_lines)] // a declarative list of operations
pub(super) fn events(api: &mut Api, t: &Codes) {
    let [from, to] = time_window();
    api.add(
        HttpMethod::Get,
        "/api/v1/events",
        errors(
            op(
                "listEvents",
                "events",
                "Events in id order, paged (a reporter's token: their own reports, taking only limit and cursor)",
                Access::Token,
            )
            .parameters(Some([
                bbox(Some(2.0)),
                category(t),
                status_filter("all"),
                from.clone(),
                to.clone(),
                limit(100, 1000),
                cursor(),
            ]))
            .response(
                "200",
                geojson_body("a page of events, with `self` and `next` links", "EventCollection"),
            ),
            &with(&[400, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/events",
        errors(
            op(
                "report",
                "events",
                "Report an event (anonymous reports are rate-limited per client address)",
                Access::Anyone,
            )
            .parameter(header_param(
                "Idempotency-Key",
                string().min_length(Some(1)).max_length(Some(200)).into(),
                "makes retries safe: the same key and report answer the stored report again",
            ))
            .request_body(Some(json_request(
                "a GeoJSON Point Feature",
                "NewReport",
                &["application/geo+json", "application/json"],
            )))
            .response("201", {
                let mut r = geojson_body(
                    "committed: the report, with possible duplicates the caller may see",
                    "ReportedFeature",
                );
                r.headers
                    .insert("Location".to_owned(), Header::new(string().build()));
                links(
                    r,
                    "id",
                    "$response.body#/id",
                    &["event", "transition", "photo"],
                )
            }),
            &with(&[400, 413, 415, 422, 429, 500]),
        ),
    );
    let [lon, lat] = lon_lat(true);
    api.add(
        HttpMethod::Get,
        "/api/v1/events/nearby",
        errors(
            op(
                "nearby",
                "events",
                "Nearest events by ellipsoidal distance (`properties.distance_m`)",
                Access::Token,
            )
            .parameters(Some([
                lon,
                lat,
                limit(20, 200),
                query(
                    "within_m",
                    ObjectBuilder::new()
                        .schema_type(Type::Number)
                        .exclusive_minimum(Some(0.0))
                        .maximum(Some(100_000.0))
                        .into(),
                    "only events within this many metres (more than 0, at most 100 km)",
                ),
                status_filter("open"),
                category(t),
                from.clone(),
                to.clone(),
            ]))
            .response("200", geojson_body("nearest first", "EventCollection")),
            &with(&[400, 403]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/events/{id}",
        errors(
            op(
                "event",
                "events",
                "One case: description, handling, history and the caller's allowed actions",
                Access::Token,
            )
            .parameter(id_path("event id"))
            .response("200", geojson_body("the case", "CaseFeature")),
            &with(&[400, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/events/{id}/transitions",
        errors(
            op(
                "transition",
                "events",
                "Take a workflow action on a case",
                Access::Token,
            )
            .parameter(id_path("event id"))
            .request_body(Some(json_request(
                "the action",
                "Transition",
                &["application/json"],
            )))
            .response(
                "200",
                geojson_body("done: the case as it is now", "CaseFeature"),
            ),
            &with(&[400, 403, 404, 409, 413, 415, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/events/{id}/photo",
        errors(
            op("photo", "events", "A report's photo", Access::Token)
                .parameter(id_path("event id"))
                .response("200", image_body()),
            &with(&[400, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/stats",
        errors(
            op(
                "stats",
                "events",
                "Case statistics of an area or everywhere (exact within the caller's scope, public aggregates otherwise)",
                Access::Anyone,
            )
            .parameters(Some([
                query(
                    "area",
                    string().examples([json!("441502")]).into(),
                    "an area id or code (default: everywhere)",
                ),
                from.clone(),
                to.clone(),
            ]))
            .response("200", json_body("the statistics", "Stats")),
            &with(&[400, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/stream",
        errors(
            op(
                "stream",
                "stream",
                "Server-Sent Events: `created` / `updated` with the event's public Feature, `reset` when changes were missed",
                Access::Token,
            )
            .parameters(Some([
                bbox(None),
                category(t),
                status_filter("all"),
                header_param(
                    "Last-Event-ID",
                    string().into(),
                    "the last message seen: replays what was missed, or sends `reset`",
                ),
            ]))
            .response(
                "200",
                body(
                    "the stream (it stays open; comments keep it alive)",
                    &["text/event-stream"],
                    Some(string().into()),
                ),
            ),
            &with(&[400, 403]),
        ),
    );
}

pub(super) fn exports(api: &mut Api, t: &Codes) {
    let [from, to] = time_window();
    let params = || {
        [
            bbox(None),
            category(t),
            status_filter("all"),
            from.clone(),
            to.clone(),
            query(
                "area",
                string().examples([json!("441502")]).into(),
                "an area id or code: the cases of its subtree",
            ),
        ]
    };
    let disposition = |mut r: ApiResponse| {
        r.headers.insert(
            "Content-Disposition".to_owned(),
            Header::new(string().build()),
        );
        r
    };
    api.add(
        HttpMethod::Get,
        "/api/v1/events.csv",
        errors(
            op(
                "exportCsv",
                "exports",
                "Events as CSV, streamed in id order",
                Access::Token,
            )
            .parameters(Some(params()))
            .response(
                "200",
                disposition(body(
                    "RFC 4180 CSV with a header line",
                    &["text/csv"],
                    Some(string().into()),
                )),
            ),
            &with(&[400, 403, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/events.geojson",
        errors(
            op(
                "exportGeojson",
                "exports",
                "Events as a GeoJSON FeatureCollection, streamed in id order",
                Access::Token,
            )
            .parameters(Some(params()))
            .response(
                "200",
                disposition(geojson_body("every matching event", "ExportCollection")),
            ),
            &with(&[400, 403, 404, 500]),
        ),
    );
}
