//! Operations: the registers (buildings, places, organisations, residents), the access
//! log, area profiles and service coverage. Bodies are described as objects; their fields
//! are listed in the README's API overview.

#[allow(clippy::wildcard_imports)]
use super::*;
use minqing_model::register::{BuildingKind, CareTag, OrgKind, PlaceType};

fn object(what: &str, media: &str) -> ApiResponse {
    body(
        what,
        &[media],
        Some(ObjectBuilder::new().schema_type(Type::Object).into()),
    )
}

fn codes<T: Copy>(all: &[T], code: impl Fn(T) -> &'static str) -> RefOr<Schema> {
    let v: Vec<&str> = all.iter().map(|k| code(*k)).collect();
    one_of_strings(&v)
}

fn area_param(what: &str) -> Parameter {
    query("area", string().into(), what)
}

#[allow(clippy::too_many_lines)] // a declarative list of operations
pub(super) fn registers(api: &mut Api) {
    let geo = "application/geo+json";
    let json = "application/json";
    api.add(
        HttpMethod::Get,
        "/api/v1/buildings",
        errors(
            op(
                "buildings",
                "registers",
                "Buildings of the register, paged; a scoped token sees its subtree",
                Access::Anyone,
            )
            .parameters(Some([
                bbox(Some(2.0)),
                query("grid", string().into(), "only in this area (id or code)"),
                area_param("only in this area (id or code)"),
                query(
                    "kind",
                    codes(BuildingKind::ALL, BuildingKind::code),
                    "only of this kind",
                ),
                limit(100, 1000),
                cursor(),
            ]))
            .response("200", object("a page of buildings (GeoJSON)", geo)),
            &with(&[400, 404, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/buildings/{id}",
        errors(
            op(
                "building",
                "registers",
                "The linked view of a building: households and residents (masked), counts \
                 by care tag, places and organisations inside, risk sites nearby, the grid; for \
                 tokens that read events, the events within 30 m or naming it, newest first",
                Access::Anyone,
            )
            .parameters(Some([id_path("building id")]))
            .response("200", object("the building (GeoJSON Feature)", geo)),
            &with(&[400, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/places",
        errors(
            op(
                "places",
                "registers",
                "Service places, risk sites and public things",
                Access::Anyone,
            )
            .parameters(Some([
                query(
                    "type",
                    codes(PlaceType::ALL, PlaceType::code),
                    "only of this type",
                ),
                area_param("only in this area (id or code)"),
                query("grid", string().into(), "only in this area (id or code)"),
                bbox(Some(2.0)),
                limit(100, 1000),
                cursor(),
            ]))
            .response("200", object("a page of places (GeoJSON)", geo)),
            &with(&[400, 404, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/organisations",
        errors(
            op(
                "organisations",
                "registers",
                "Organisations; the contact person masked, for people-reading roles only",
                Access::Anyone,
            )
            .parameters(Some([
                query(
                    "kind",
                    codes(OrgKind::ALL, OrgKind::code),
                    "only of this kind",
                ),
                area_param("only in this area (id or code)"),
                query("grid", string().into(), "only in this area (id or code)"),
                query(
                    "q",
                    string().into(),
                    "name contains (at most 100 characters)",
                ),
                limit(100, 1000),
                cursor(),
            ]))
            .response("200", object("a page of organisations (GeoJSON)", geo)),
            &with(&[400, 404, 422, 500]),
        ),
    );
    let tag = query(
        "tag",
        codes(CareTag::ALL, CareTag::code),
        "only residents with this care tag",
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/residents",
        errors(
            op(
                "residents",
                "registers",
                "Residents of the caller's scope, masked (admin, command, field)",
                Access::Token,
            )
            .parameters(Some([
                area_param("only in this area (id or code)"),
                query("grid", string().into(), "only in this area (id or code)"),
                tag.clone(),
                query(
                    "q",
                    string().into(),
                    "a name prefix, or an exact ID number or phone",
                ),
                limit(100, 1000),
                cursor(),
            ]))
            .response("200", object("a page of residents, masked", json)),
            &with(&[400, 403, 404, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/residents/{id}",
        errors(
            op(
                "resident",
                "registers",
                "One resident, masked; with a stated purpose the ID number and phone in \
                 full, recorded in the access log first",
                Access::Token,
            )
            .parameters(Some([
                id_path("resident id"),
                query(
                    "purpose",
                    string().into(),
                    "why the full values are needed (recorded; at most 200 characters)",
                ),
            ]))
            .response("200", object("the resident", json)),
            &with(&[400, 403, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Delete,
        "/api/v1/residents/{id}",
        errors(
            op(
                "remove_resident",
                "registers",
                "Removes a resident who moved away or died (command, admin); the removal \
                 keeps the reason and the time, no personal data",
                Access::Token,
            )
            .parameters(Some([
                id_path("resident id"),
                ParameterBuilder::from(query(
                    "reason",
                    one_of_strings(&minqing_store::REMOVAL_REASONS),
                    "why",
                ))
                .required(Required::True)
                .build(),
            ]))
            .response("200", object("the removed id and the reason", json)),
            &with(&[400, 403, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/search",
        errors(
            op(
                "search",
                "registers",
                "One search across the registers in the caller's scope: residents (masked) \
                 by name prefix or exact ID number or phone, buildings by address or code, \
                 places and organisations by name or code",
                Access::Anyone,
            )
            .parameters(Some([
                ParameterBuilder::from(query(
                    "q",
                    string().into(),
                    "what to look for (1 to 50 characters)",
                ))
                .required(Required::True)
                .build(),
                area_param("only in this area (id or code)"),
                query("grid", string().into(), "only in this area (id or code)"),
                limit(20, 100),
            ]))
            .response("200", object("matches by register", json)),
            &with(&[400, 404, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/access-log",
        errors(
            op(
                "access_log",
                "registers",
                "Unmasked reads of personal data, newest first (admin only)",
                Access::Token,
            )
            .parameters(Some([
                query(
                    "resident",
                    integer(None, None),
                    "only reads of this resident",
                ),
                query("token", integer(None, None), "only reads by this token id"),
                query("since", date_time(), "only reads since this RFC 3339 time"),
                limit(100, 1000),
                cursor(),
            ]))
            .response("200", object("entries and the next cursor", json)),
            &with(&[400, 403, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/areas/{id}/profile",
        errors(
            op(
                "area_profile",
                "registers",
                "What an area holds, from memory; counts of people below 5 read \"<5\" for \
                 callers who may not see them",
                Access::Anyone,
            )
            .parameters(Some([id_path("area id")]))
            .response("200", object("the profile", json)),
            &with(&[400, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/coverage",
        errors(
            op(
                "coverage",
                "registers",
                "Households and residents within and beyond reach of the nearest place of a \
                 type, per child area, with the buildings beyond reach",
                Access::Anyone,
            )
            .parameters(Some([
                ParameterBuilder::from(query(
                    "type",
                    codes(PlaceType::ALL, PlaceType::code),
                    "the type of place",
                ))
                .required(Required::True)
                .build(),
                query(
                    "within_m",
                    number(1.0, 20_000.0, 1000.0),
                    "reach in ellipsoidal metres (default 1000)",
                ),
                area_param("the area (id or code; default the whole city)"),
                tag,
                limit(1000, 10_000),
            ]))
            .response(
                "200",
                object("rows per child area and the buildings beyond", json),
            ),
            &with(&[400, 403, 404, 422, 500]),
        ),
    );
    workers(api);
    patrols(api);
    visits(api);
}

/// Visits and the due list.
fn visits(api: &mut Api) {
    let json = "application/json";
    api.add(
        HttpMethod::Post,
        "/api/v1/visits",
        errors(
            op(
                "record_visit",
                "workers",
                "Record a visit to a register record in the worker's grids (a grid worker's \
                 token); the same client_id again answers the same visit (200 instead of 201)",
                Access::Token,
            )
            .request_body(Some(json_request(
                "the visit",
                "NewVisitBody",
                &["application/json"],
            )))
            .response("201", object("recorded: its id", json))
            .response("200", object("recorded before: its id", json)),
            &with(&[400, 401, 403, 404, 413, 415, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/visits",
        errors(
            op(
                "visits",
                "workers",
                "Visits in id order, in the caller's scope",
                Access::Token,
            )
            .parameters(Some([
                query(
                    "target_kind",
                    one_of_strings(&["household", "building", "place", "organisation"]),
                    "only to this record (with target_id)",
                ),
                query(
                    "target_id",
                    integer(Some(1), None),
                    "only to this record (with target_kind)",
                ),
                query("worker", integer(Some(1), None), "only this worker's"),
                area_param("only in grids of this area (id or code)"),
                query("from", date_time(), "at or after"),
                query("to", date_time(), "before"),
                limit(100, 1000),
                cursor(),
            ]))
            .response("200", object("a page of visits", json)),
            &with(&[400, 401, 403, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/visits/{id}/photo",
        errors(
            op(
                "visit_photo",
                "workers",
                "A visit's photo, to staff whose scope holds the visit's grid",
                Access::Token,
            )
            .parameter(id_path("visit id"))
            .response("200", image_body()),
            &with(&[400, 401, 403, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/visits/due",
        errors(
            op(
                "visits_due",
                "workers",
                "Households with a care tag and risk sites due for a visit within within_days \
                 (overdue ones included) by the visit rules, nearest first with near; roles \
                 that read people, sensitive tags only as granted",
                Access::Token,
            )
            .parameters(Some([
                area_param("the area (id or code); default the token's scope"),
                query(
                    "within_days",
                    integer(Some(0), Some(366)),
                    "due within this many days (default 7)",
                ),
                query("near", string().into(), "lon,lat: nearest first"),
                limit(200, 5000),
            ]))
            .response("200", object("the subjects due", json)),
            &with(&[400, 401, 403, 404, 500]),
        ),
    );
}

/// Patrols and their tracks.
fn patrols(api: &mut Api) {
    let json = "application/json";
    let request = |what: &str, schema: &str| json_request(what, schema, &["application/json"]);
    api.add(
        HttpMethod::Post,
        "/api/v1/patrols",
        errors(
            op(
                "start_patrol",
                "workers",
                "Start a patrol (a grid worker's token); the same client_id again answers the \
                 same patrol (200 instead of 201)",
                Access::Token,
            )
            .request_body(Some(request("the start", "PatrolStart")))
            .response("201", object("started: its id", json))
            .response("200", object("started before: its id", json)),
            &with(&[400, 401, 403, 413, 415, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/patrols/{id}/points",
        errors(
            op(
                "patrol_points",
                "workers",
                "Add a batch of track points; points whose seq was stored before are skipped",
                Access::Token,
            )
            .parameter(id_path("patrol id"))
            .request_body(Some(request("the points", "PatrolPoints")))
            .response(
                "200",
                object("how many were new and how many repeated", json),
            ),
            &with(&[400, 401, 403, 404, 413, 415, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/patrols/{id}/end",
        errors(
            op("end_patrol", "workers", "End a patrol", Access::Token)
                .parameter(id_path("patrol id"))
                .request_body(Some(request("the end", "PatrolEnd")))
                .response("200", object("ended", json)),
            &with(&[400, 401, 403, 404, 413, 415, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/patrols",
        errors(
            op(
                "patrols",
                "workers",
                "Patrols with their tracks (GeoJSON LineStrings, lengths on the ellipsoid), in \
                 the caller's scope",
                Access::Token,
            )
            .parameters(Some([
                query("worker", integer(Some(1), None), "only this worker's"),
                area_param("only those over grids of this area (id or code)"),
                query("from", date_time(), "started at or after"),
                query("to", date_time(), "started before"),
                limit(100, 500),
                cursor(),
            ]))
            .response("200", object("patrols (GeoJSON)", json)),
            &with(&[400, 401, 403, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/patrols/coverage",
        errors(
            op(
                "patrol_coverage",
                "workers",
                "Patrol coverage of a grid in a period: the share of its buildings a patrol \
                 passed within 30 m (ellipsoidal) or a visit reached, and the buildings neither did",
                Access::Token,
            )
            .parameters(Some([
                ParameterBuilder::from(query("grid", string().into(), "the grid (id or code)"))
                    .required(Required::True)
                    .build(),
                query("from", date_time(), "at or after (default 30 days before to)"),
                query("to", date_time(), "before (default now)"),
                limit(1000, 10_000),
            ]))
            .response("200", object("the coverage and the buildings not covered", json)),
            &with(&[400, 401, 403, 404, 500]),
        ),
    );
}

/// Grid workers and their duties.
fn workers(api: &mut Api) {
    let json = "application/json";
    api.add(
        HttpMethod::Get,
        "/api/v1/workers",
        errors(
            op(
                "workers",
                "workers",
                "Grid workers with the grids they hold, in id order; a scoped token sees the \
                 workers of its grids. Phones are never shown",
                Access::Token,
            )
            .parameters(Some([
                query(
                    "grid",
                    string().into(),
                    "only those holding this grid (id or code)",
                ),
                query(
                    "active",
                    one_of_strings(&["true", "false"]),
                    "only active workers (default true); false: every worker",
                ),
                limit(100, 1000),
                cursor(),
            ]))
            .response("200", object("a page of workers", json)),
            &with(&[400, 401, 403, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/workers/{id}",
        errors(
            op(
                "worker",
                "workers",
                "One worker with every duty held (grid, from, to)",
                Access::Token,
            )
            .parameters(Some([id_path("worker id")]))
            .response("200", object("the worker", json)),
            &with(&[400, 401, 403, 404, 500]),
        ),
    );
}
