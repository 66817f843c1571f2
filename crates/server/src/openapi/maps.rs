//! Operations: tiles, fonts and the web app.

#[allow(clippy::wildcard_imports)]
use super::*;

/// `from` and `to` of the tiles: the events' window for `events` and `heat`, and the period
/// whose track points a `patrols` tile counts.
fn tile_window() -> [Parameter; 2] {
    [
        query(
            "from",
            date_time(),
            "`events`, `heat`: reported at or after this RFC 3339 time (not after `to`); \
             `patrols`: track points recorded at or after it (default 30 days before `to`; \
             before `to`, at most 366 days before it)",
        ),
        query(
            "to",
            date_time(),
            "`events`, `heat`: reported at or before this RFC 3339 time; `patrols`: track \
             points recorded before it (default now)",
        ),
    ]
}

pub(super) fn tiles(api: &mut Api, t: &Codes) {
    let layer = path(
        "layer",
        one_of_strings(&["areas", "events", "heat", "patrols"]),
        "the layer (an unknown one is a 404)",
    );
    let [from, to] = tile_window();
    let filters = || [category(t), status_filter("open"), from.clone(), to.clone()];
    api.add(
        HttpMethod::Get,
        "/tiles",
        errors(
            op(
                "tileCatalog",
                "tiles",
                "The tile layers and their TileJSON",
                Access::Anyone,
            )
            .response("200", json_body("the layers", "TileCatalog")),
            &ALWAYS,
        ),
    );
    api.add(
        HttpMethod::Get,
        "/tiles/{layer}",
        errors(
            op(
                "tilejson",
                "tiles",
                "TileJSON 3.0.0 of a layer (`events` and `heat` take the event filters, `patrols` \
                 `from` and `to`; `areas` takes none)",
                Access::Anyone,
            )
            .parameter(layer.clone())
            .parameters(Some(filters()))
            .response("200", json_body("the TileJSON", "TileJson")),
            &with(&[400, 404]),
        ),
    );
    let tile = body(
        "the tile (gzip-encoded when the client accepts it)",
        &["application/vnd.mapbox-vector-tile"],
        Some(
            string()
                .format(Some(SchemaFormat::Custom("binary".into())))
                .into(),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/tiles/{layer}/{z}/{x}/{y}",
        errors(
            op(
                "tile",
                "tiles",
                "A Mapbox Vector Tile (`events` needs a token that reads events; `heat` without one \
                 is the public heat; `patrols` — the density of patrol track points, 64 × 64 \
                 cells a tile, each a point with `n` points in it — needs a token that reads \
                 events and counts only the patrols of the caller's scope, as \
                 `GET /api/v1/patrols` lists them)",
                Access::Anyone,
            )
            .parameter(layer)
            .parameters(Some(tile_params()))
            .parameters(Some(filters()))
            .parameter(header_param(
                "If-None-Match",
                string().into(),
                "an ETag of this tile: 304 while it is current",
            ))
            .response("200", etag_headers(tile.clone()))
            .response("204", etag_headers(empty("the tile is empty")))
            .response("304", etag_headers(empty("not modified"))),
            &with(&[400, 403, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/plans/{id}/tiles/{z}/{x}/{y}",
        errors(
            op(
                "planTile",
                "plans",
                "A draft as a vector tile (layer `plan`)",
                Access::Token,
            )
            .parameter(id_path("plan id"))
            .parameters(Some(tile_params()))
            .response("200", tile)
            .response("204", empty("the tile is empty")),
            &with(&[400, 403, 404, 422, 500]),
        ),
    );
}

pub(super) fn fonts(api: &mut Api) {
    api.add(
        HttpMethod::Get,
        "/fonts",
        errors(
            op("fonts", "fonts", "The installed font faces", Access::Anyone).response(
                "200",
                body(
                    "font names, sorted",
                    &["application/json"],
                    Some(ArrayBuilder::new().items(string()).into()),
                ),
            ),
            &with(&[500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/fonts/{fontstack}/{range}.pbf",
        errors(
            op(
                "glyphs",
                "fonts",
                "A MapLibre glyph range (signed distance fields)",
                Access::Anyone,
            )
            .parameters(Some([
                path(
                    "fontstack",
                    string()
                        .min_length(Some(1))
                        .examples([json!("Noto Sans CJK SC Regular")])
                        .into(),
                    "comma-separated font names; a stack of no installed font is a 404",
                ),
                path(
                    "range",
                    string()
                        .pattern(Some(r"^[0-9]+-[0-9]+$"))
                        .examples([json!("0-255"), json!("19968-20223")])
                        .into(),
                    "N-M with N a multiple of 256 and M = N + 255 (else a 400)",
                ),
            ]))
            .response(
                "200",
                body(
                    "the glyphs (gzip-encoded when the client accepts it)",
                    &["application/x-protobuf"],
                    Some(
                        string()
                            .format(Some(SchemaFormat::Custom("binary".into())))
                            .into(),
                    ),
                ),
            ),
            &with(&[400, 404, 500]),
        ),
    );
}

pub(super) fn web(api: &mut Api) {
    for (page, what) in [
        ("/", "The command-centre map"),
        ("/field", "The field view"),
        ("/report", "Residents' reports"),
        ("/plan", "Grid planning"),
        ("/reports", "Review reports (printable)"),
    ] {
        let id = match page {
            "/" => "pageMap",
            "/field" => "pageField",
            "/report" => "pageReport",
            "/reports" => "pageReports",
            _ => "pagePlan",
        };
        api.add(
            HttpMethod::Get,
            page,
            errors(
                op(id, "web", what, Access::Anyone)
                    .response(
                        "200",
                        etag_headers(body("the page", &["text/html"], Some(string().into()))),
                    )
                    .response("304", etag_headers(empty("not modified"))),
                &with(&[404]),
            ),
        );
    }
}
