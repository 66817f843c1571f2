//! Operations: grid planning.

#[allow(clippy::wildcard_imports)]
use super::*;

#[allow(clippy::too_many_lines)] // a declarative list of operations
pub(super) fn plans(api: &mut Api) {
    api.add(
        HttpMethod::Get,
        "/api/v1/plans",
        errors(
            op(
                "plans",
                "plans",
                "Plans in the caller's scope, newest first",
                Access::Token,
            )
            .parameters(Some([
                query(
                    "status",
                    one_of_strings(&["draft", "published", "abandoned", "all"]),
                    "default `draft`",
                ),
                limit(100, 500),
            ]))
            .response("200", json_body("the plans", "PlanList")),
            &with(&[400, 403, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/plans",
        errors(
            op(
                "createPlan",
                "plans",
                "Open a draft over an area",
                Access::Token,
            )
            .request_body(Some(json_request(
                "the area and the bounds of a grid",
                "NewPlan",
                &["application/json"],
            )))
            .response(
                "201",
                links(
                    geojson_body("the draft", "PlanDraft"),
                    "id",
                    "$response.body#/plan/id",
                    &[
                        "plan",
                        "planOperation",
                        "validatePlan",
                        "publishPlan",
                        "rebasePlan",
                        "abandonPlan",
                        "planTile",
                    ],
                ),
            ),
            &with(&[400, 403, 404, 409, 413, 415, 422, 500]),
        ),
    );
    let id = || id_path("plan id");
    api.add(
        HttpMethod::Get,
        "/api/v1/plans/{id}",
        errors(
            op(
                "plan",
                "plans",
                "A draft as GeoJSON, with its plan and last validation",
                Access::Token,
            )
            .parameter(id())
            .response("200", geojson_body("the draft", "PlanDraft")),
            &with(&[400, 403, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/plans/{id}/operations",
        errors(
            op(
                "planOperation",
                "plans",
                "One operation on a draft",
                Access::Token,
            )
            .parameter(id())
            .request_body(Some(json_request(
                "the operation",
                "PlanOperation",
                &["application/json"],
            )))
            .response(
                "200",
                geojson_body("the draft, validated again", "PlanDraft"),
            ),
            &with(&[400, 403, 404, 409, 413, 415, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/plans/{id}/validate",
        errors(
            op("validatePlan", "plans", "Validate a draft", Access::Token)
                .parameter(id())
                .response(
                    "200",
                    json_body("the validation report", "ValidationReport"),
                ),
            &with(&[400, 403, 404, 409, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/plans/{id}/publish",
        errors(
            op("publishPlan", "plans", "Publish a draft", Access::Token)
                .parameter(id())
                .response("200", json_body("published", "Published")),
            &with(&[400, 403, 404, 409, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/plans/{id}/rebase",
        errors(
            op(
                "rebasePlan",
                "plans",
                "Re-base a draft on the current grids",
                Access::Token,
            )
            .parameter(id())
            .response(
                "200",
                geojson_body("the draft, validated again", "PlanDraft"),
            ),
            &with(&[400, 403, 404, 409, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/plans/{id}/abandon",
        errors(
            op("abandonPlan", "plans", "Abandon a draft", Access::Token)
                .parameter(id())
                .response("200", json_body("abandoned", "PlanAnswer")),
            &with(&[400, 403, 404, 409, 422, 500]),
        ),
    );
}
