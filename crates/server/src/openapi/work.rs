//! Operations: assessment (考核) with its drill-down, and the review reports (their CSV
//! tables and kept snapshots). Bodies are described as objects; their fields are listed in
//! the README's API overview and in `minqing_service::assessment`.

#[allow(clippy::wildcard_imports)]
use super::*;

fn object(what: &str) -> ApiResponse {
    body(
        what,
        &["application/json"],
        Some(ObjectBuilder::new().schema_type(Type::Object).into()),
    )
}

fn period_params() -> [Parameter; 3] {
    [
        query(
            "area",
            string().into(),
            "the area (id or code); default the whole city (callers without a scope only)",
        ),
        query(
            "period",
            one_of_strings(&["day", "week", "month"]),
            "the period's length (default month; weeks start on Monday, China time)",
        ),
        query(
            "at",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
                .into(),
            "a day in the period (default today, China time)",
        ),
    ]
}

#[allow(clippy::too_many_lines)] // a declarative list of operations
pub(super) fn work(api: &mut Api) {
    let mut params: Vec<Parameter> = period_params().into();
    params.extend([
        limit(100, 100_000),
        query(
            "list",
            integer(Some(0), Some(50)),
            "length of the red and black lists at most (default 3)",
        ),
    ]);
    api.add(
        HttpMethod::Get,
        "/api/v1/assessment",
        errors(
            op(
                "assessment",
                "assessment",
                "An area's assessment for a day, week or month, derived from the record: its \
                 figures, the areas one level down and the workers holding its grids ranked by \
                 the weighted score, with red and black lists (staff, in scope)",
                Access::Token,
            )
            .parameters(Some(params))
            .response("200", object("the assessment")),
            &with(&[400, 401, 403, 404, 422, 500]),
        ),
    );
    let mut params: Vec<Parameter> = period_params().into();
    params.extend([
        query(
            "worker",
            integer(Some(1), None),
            "a worker instead of an area",
        ),
        query(
            "measure",
            one_of_strings(
                &crate::assessment::MEASURES
                    .iter()
                    .map(|(m, _)| *m)
                    .collect::<Vec<_>>(),
            ),
            "the figure to explain (required)",
        ),
        limit(500, 5000),
    ]);
    api.add(
        HttpMethod::Get,
        "/api/v1/assessment/explain",
        errors(
            op(
                "assessment_explain",
                "assessment",
                "The cases, visits or visit subjects behind one figure of an assessment",
                Access::Token,
            )
            .parameters(Some(params))
            .response("200", object("the list behind the figure")),
            &with(&[400, 401, 403, 404, 422, 500]),
        ),
    );
    let live = query(
        "live",
        one_of_strings(&["true", "false"]),
        "true: computed now even when the period's report was kept",
    );
    let mut params: Vec<Parameter> = period_params().into();
    params.push(live.clone());
    api.add(
        HttpMethod::Get,
        "/api/v1/reports",
        errors(
            op(
                "review_report",
                "assessment",
                "A review report (日报, 周报, 月报) of an area: key figures against the previous \
                 period, cases per day, top issues, a map, the assessment with its lists, \
                 overdue cases, visits owed; the kept copy when the period's report was kept",
                Access::Token,
            )
            .parameters(Some(params))
            .response("200", object("the report")),
            &with(&[400, 401, 403, 404, 422, 500]),
        ),
    );
    let mut params: Vec<Parameter> = period_params().into();
    params.extend([
        live,
        query(
            "table",
            one_of_strings(&[
                "kpis",
                "daily",
                "categories",
                "children",
                "workers",
                "lists",
                "overdue_cases",
                "missed_visits",
                "risk_sites",
            ]),
            "which table (default kpis)",
        ),
    ]);
    api.add(
        HttpMethod::Get,
        "/api/v1/reports.csv",
        errors(
            op(
                "review_report_csv",
                "assessment",
                "One table of a review report as CSV (UTF-8 with a byte-order mark)",
                Access::Token,
            )
            .parameters(Some(params))
            .response(
                "200",
                body(
                    "the table",
                    &["text/csv; charset=utf-8"],
                    Some(string().into()),
                ),
            ),
            &with(&[400, 401, 403, 404, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/reports/snapshots",
        errors(
            op(
                "review_report_snapshots",
                "assessment",
                "The review reports kept at the end of each day, week and month (the city and \
                 its top areas), newest first",
                Access::Token,
            )
            .parameters(Some([
                query("area", string().into(), "only this area's (id or code)"),
                limit(100, 1000),
            ]))
            .response("200", object("the kept reports")),
            &with(&[400, 401, 403, 404, 500]),
        ),
    );
}
