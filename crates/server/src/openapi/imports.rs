//! Operations: importing a register file (`POST /api/v1/imports`).

#[allow(clippy::wildcard_imports)]
use super::*;
use minqing_service::imports::{Format, Kind};

/// `{"line", "field", "reason"}` of a refused row.
fn row_error() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("line", integer(Some(0), None))
        .required("line")
        .property("field", string())
        .required("field")
        .property("reason", string())
        .required("reason")
        .into()
}

pub(super) fn imports(api: &mut Api) {
    let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    let formats: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
    let file = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)));
    let refused = body(
        "the file has faults; nothing was stored: every fault (the first 100 in `errors`, \
         with the line a person finds it by: the CSV line with the header as line 1, the \
         spreadsheet row, or the GeoJSON feature number from 1; 0 for the file as a whole), \
         and their count",
        &["application/json"],
        Some(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("error", schema_ref("ErrorDetail"))
                .required("error")
                .property("errors", ArrayBuilder::new().items(row_error()))
                .property("error_count", integer(Some(0), None))
                .property("errors_not_shown", integer(Some(0), None))
                .into(),
        ),
    );
    let stored = body(
        "every row was stored (committed): the register, how many rows, the count per \
         register, and the headers that name no column (ignored)",
        &["application/json"],
        Some(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("kind", one_of_strings(&kinds))
                .required("kind")
                .property("imported", integer(Some(0), None))
                .required("imported")
                .property("counts", ObjectBuilder::new().schema_type(Type::Object))
                .property(
                    "ignored_columns",
                    ArrayBuilder::new().items(string().build()),
                )
                .into(),
        ),
    );
    let mut op = op(
        "importRegister",
        "registers",
        "Import a register file (command, admin): buildings, households, residents, places or \
         organisations as CSV (UTF-8), GeoJSON or Excel .xlsx, headers in English or Chinese \
         (README: Importing the registers); every row checked, stored all or nothing; a \
         scoped command token imports only records located in its area. The body is the \
         file, at most 64 MiB",
        Access::Token,
    )
    .parameters(Some([
        ParameterBuilder::from(query("kind", one_of_strings(&kinds), "the register"))
            .required(Required::True)
            .build(),
        query(
            "format",
            one_of_strings(&formats),
            "the file's format; without it, the Content-Type decides (text/csv, \
             application/geo+json, the .xlsx type)",
        ),
    ]))
    .request_body(Some(
        RequestBodyBuilder::new()
            .description(Some("the file"))
            .required(Some(Required::True))
            .content("application/octet-stream", content(Some(file.into())))
            .build(),
    ))
    .response("201", stored)
    .response("422", refused);
    op = errors(op, &with(&[400, 403, 413, 500]));
    api.add(HttpMethod::Post, "/api/v1/imports", op);
}
