//! Answers as documents: the format asked for, the document tree ([`Node`]) every method
//! builds, and its two renderings — XML (written with `quick-xml`) and the Spark JSON of
//! that XML (root dropped, collections always arrays, empty values `null`).

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Map, Value};

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

/// `s` with the characters XML 1.0 cannot hold (C0 controls but tab, line feed and carriage
/// return; U+FFFE, U+FFFF) replaced by U+FFFD.
fn xml_chars(s: &str) -> Cow<'_, str> {
    let bad = |c: char| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
    };
    if s.contains(bad) {
        Cow::Owned(
            s.chars()
                .map(|c| if bad(c) { '\u{FFFD}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// Writes `<tag>…</tag>` for `n` (an empty element for null, for a number that is not
/// finite, and for an empty text or collection). Text is escaped by `quick-xml` (`&<>'"`, and
/// a carriage return as `&#13;` so that parsers keep it).
fn element(w: &mut Writer<Vec<u8>>, tag: &str, n: &Node) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(tag)))?;
    let content = match n {
        Node::Text(s) => Some(xml_chars(s)),
        Node::Int(i) => Some(Cow::Owned(i.to_string())),
        Node::Num(x) if x.is_finite() => Some(Cow::Owned(x.to_string())),
        Node::Num(_) | Node::Null => None,
        Node::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Node::Obj(fields) => {
            for (k, v) in fields {
                element(w, k, v)?;
            }
            None
        }
        Node::List(child, items) => {
            for item in items {
                element(w, child, item)?;
            }
            None
        }
    };
    if let Some(c) = content.filter(|c| !c.is_empty()) {
        w.write_event(Event::Text(BytesText::new(&c)))?;
    }
    w.write_event(Event::End(BytesEnd::new(tag)))
}

/// The document as XML: the declaration, a line break, and `doc` under `root`.
fn to_xml(root: &str, doc: &Node) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new(Vec::with_capacity(1024));
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    w.get_mut().push(b'\n');
    element(&mut w, root, doc)?;
    Ok(w.into_inner())
}

/// The document as XML (under `root`, with the declaration) or JSON (root dropped).
pub(super) fn render(fmt: Format, status: StatusCode, root: &str, doc: &Node) -> Response {
    let (content_type, body) = match fmt {
        // Writing to memory cannot fail.
        Format::Xml => (
            "text/xml; charset=utf-8",
            to_xml(root, doc).unwrap_or_default(),
        ),
        Format::Json => (
            "application/json; charset=utf-8",
            to_json(doc).to_string().into_bytes(),
        ),
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
                ("a", text("<b> & \"c\" 'd' \u{1}井\u{FFFF}")),
                ("n", Node::Null),
                ("e", text("")),
                ("x", Node::Num(22.5)),
                ("i", Node::Int(-3)),
                ("inf", Node::Num(f64::INFINITY)),
                ("t", Node::Bool(true)),
                ("l", text("1\r\n2\t3")),
            ])],
        );
        let xml = String::from_utf8(to_xml("service_requests", &doc).unwrap()).unwrap();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <service_requests><request><a>&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; \u{FFFD}井\u{FFFD}</a>\
             <n></n><e></e><x>22.5</x><i>-3</i><inf></inf><t>true</t><l>1&#13;\n2\t3</l></request></service_requests>"
        );
        assert_eq!(
            to_json(&doc),
            serde_json::json!([{"a": "<b> & \"c\" 'd' \u{1}井\u{FFFF}", "n": null, "e": "", "x": 22.5,
                "i": -3, "inf": null, "t": true, "l": "1\r\n2\t3"}])
        );
        assert_eq!(to_json(&Node::List("x", vec![])), serde_json::json!([]));
    }
}
