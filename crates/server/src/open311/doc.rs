//! Answers as documents: the format asked for, the document tree ([`Node`]) every method
//! builds, and its two renderings — XML and the Spark JSON of that XML (root dropped,
//! collections always arrays, empty values `null`).

use std::fmt::Write as _;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";

/// The format a client asked for with the path suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Xml,
    Json,
}

/// `services.json` → (`services`, JSON); no known suffix → the whole name and `None`.
pub(super) fn split_format(file: &str) -> (&str, Option<Format>) {
    match file.rsplit_once('.') {
        Some((stem, ext)) if ext.eq_ignore_ascii_case("xml") => (stem, Some(Format::Xml)),
        Some((stem, ext)) if ext.eq_ignore_ascii_case("json") => (stem, Some(Format::Json)),
        _ => (file, None),
    }
}

/// A response document, rendered to XML or to its Spark JSON.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Text(String),
    Int(i64),
    Num(f64),
    Bool(bool),
    Null,
    /// Fields in order.
    Obj(Vec<(&'static str, Node)>),
    /// A collection: the element name of each item, and the items.
    List(&'static str, Vec<Node>),
}

pub(super) fn text(s: impl Into<String>) -> Node {
    Node::Text(s.into())
}

pub(super) fn opt_text(s: Option<String>) -> Node {
    s.map_or(Node::Null, Node::Text)
}

pub(super) fn time(t: DateTime<Utc>) -> Node {
    Node::Text(t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn to_json(n: &Node) -> Value {
    match n {
        Node::Text(s) => Value::String(s.clone()),
        Node::Int(i) => Value::from(*i),
        Node::Num(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        Node::Bool(b) => Value::Bool(*b),
        Node::Null => Value::Null,
        Node::Obj(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), to_json(v)))
                .collect::<Map<_, _>>(),
        ),
        Node::List(_, items) => Value::Array(items.iter().map(to_json).collect()),
    }
}

/// Appends `s` escaped for XML text, with characters XML 1.0 cannot hold replaced by U+FFFD.
fn escape_xml(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

fn to_xml(tag: &str, n: &Node, out: &mut String) {
    let _ = write!(out, "<{tag}>");
    match n {
        Node::Text(s) => escape_xml(s, out),
        Node::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Node::Num(x) if x.is_finite() => {
            let _ = write!(out, "{x}");
        }
        Node::Num(_) | Node::Null => {}
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Obj(fields) => {
            for (k, v) in fields {
                to_xml(k, v, out);
            }
        }
        Node::List(child, items) => {
            for item in items {
                to_xml(child, item, out);
            }
        }
    }
    let _ = write!(out, "</{tag}>");
}

/// The document as XML (under `root`, with the declaration) or JSON (root dropped).
pub(super) fn render(fmt: Format, status: StatusCode, root: &str, doc: &Node) -> Response {
    let (content_type, body) = match fmt {
        Format::Xml => {
            let mut s = String::from(XML_DECLARATION);
            s.push('\n');
            to_xml(root, doc, &mut s);
            ("text/xml; charset=utf-8", s)
        }
        Format::Json => ("application/json; charset=utf-8", to_json(doc).to_string()),
    };
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

pub(super) fn ok(fmt: Format, root: &str, doc: &Node) -> Response {
    render(fmt, StatusCode::OK, root, doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_split_on_the_last_dot() {
        assert_eq!(
            split_format("services.json"),
            ("services", Some(Format::Json))
        );
        assert_eq!(
            split_format("hazard.fire.xml"),
            ("hazard.fire", Some(Format::Xml))
        );
        assert_eq!(split_format("hazard.fire"), ("hazard.fire", None));
        assert_eq!(split_format("discovery"), ("discovery", None));
    }

    #[test]
    fn xml_is_escaped_and_json_is_spark() {
        let doc = Node::List(
            "request",
            vec![Node::Obj(vec![
                ("a", text("<b> & \"c\" 'd' \u{1}井")),
                ("n", Node::Null),
                ("x", Node::Num(22.5)),
                ("t", Node::Bool(true)),
            ])],
        );
        let mut s = String::new();
        to_xml("service_requests", &doc, &mut s);
        assert_eq!(
            s,
            "<service_requests><request><a>&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; \u{FFFD}井</a>\
             <n></n><x>22.5</x><t>true</t></request></service_requests>"
        );
        assert_eq!(
            to_json(&doc),
            serde_json::json!([{"a": "<b> & \"c\" 'd' \u{1}井", "n": null, "x": 22.5, "t": true}])
        );
        assert_eq!(to_json(&Node::List("x", vec![])), serde_json::json!([]));
    }
}
