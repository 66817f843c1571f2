//! What a client accepts and already holds, read from its request headers once, and the
//! answers that depend on them.
//!
//! - [`accepts_gzip`]: the one reading of `Accept-Encoding` (RFC 9110 §12.5.3). `gzip` is
//!   acceptable when listed with a weight above 0, or — when not listed at all — when `*` is;
//!   `q=0` refuses it.
//! - [`Negotiation`]: an extractor holding that and `If-None-Match`, without copying the
//!   other headers; [`Negotiation::holds`] tells a 304, [`Negotiation::body`] answers an
//!   [`Encoded`] body as it is or gzipped.
//! - [`public_base`]: the address the client used (`scheme://host`), behind a proxy as the
//!   proxy says, for URLs put in answers (TileJSON, Open311 discovery).

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use minqing_service::tilecache::Encoded;

/// Whether the `Accept-Encoding` values allow a gzip-coded answer.
pub fn accepts_gzip<'a>(values: impl IntoIterator<Item = &'a HeaderValue>) -> bool {
    // The weights given to gzip itself and to `*`, the highest of each when repeated.
    let (mut gzip, mut any): (Option<f32>, Option<f32>) = (None, None);
    for value in values {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut params = item.split(';');
            let coding = params.next().unwrap_or("").trim();
            let weight = params
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                // A weight that cannot be read counts as none given (1).
                .map_or(1.0, |(_, q)| q.trim().parse::<f32>().unwrap_or(1.0));
            let slot =
                if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                    &mut gzip
                } else if coding == "*" {
                    &mut any
                } else {
                    continue;
                };
            *slot = Some(slot.map_or(weight, |w| w.max(weight)));
        }
    }
    gzip.or(any).is_some_and(|w| w > 0.0)
}

/// Whether an `If-None-Match` value matches `etag` (weak comparison, as RFC 9110 §13.1.2
/// has it for this header: `W/"x"` matches `"x"`; `*` matches anything).
fn none_match(value: &HeaderValue, etag: &str) -> bool {
    value.to_str().is_ok_and(|v| {
        v.split(',').map(str::trim).any(|t| {
            t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag.strip_prefix("W/").unwrap_or(etag)
        })
    })
}

/// What the request says of the answers it takes: gzip or not, and the validators the
/// client holds.
#[derive(Debug, Clone, Default)]
pub struct Negotiation {
    gzip: bool,
    if_none_match: Option<HeaderValue>,
}

impl Negotiation {
    /// Reads them from request headers.
    #[must_use]
    pub fn of(headers: &HeaderMap) -> Negotiation {
        Negotiation {
            gzip: accepts_gzip(headers.get_all(header::ACCEPT_ENCODING)),
            if_none_match: headers.get(header::IF_NONE_MATCH).cloned(),
        }
    }

    /// Whether the client holds the representation of `etag` already (answer 304).
    #[must_use]
    pub fn holds(&self, etag: &str) -> bool {
        self.if_none_match
            .as_ref()
            .is_some_and(|v| none_match(v, etag))
    }

    /// A 200 with `body`: gzipped (`Content-Encoding: gzip`) when the client accepts it and
    /// the body has a gzip form to use ([`Encoded::gzip`]), else as it is; `Vary: accept-encoding` either way. The caller adds
    /// the type and caching headers.
    pub fn body(&self, body: &Encoded) -> Response {
        let vary = [(header::VARY, HeaderValue::from_static("accept-encoding"))];
        match self.gzip.then(|| body.gzip()).flatten() {
            Some(z) => (
                vary,
                [(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))],
                z,
            )
                .into_response(),
            None => (vary, body.raw().clone()).into_response(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Negotiation {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Negotiation::of(&parts.headers))
    }
}

/// Where a client is told to go when the request names no host at all (HTTP/1.0): the
/// default listening address.
const FALLBACK_HOST: &str = "localhost:8080";

/// The public base URL of this server as the client reached it, `scheme://host` without a
/// trailing slash: behind a proxy, `X-Forwarded-Host` and `X-Forwarded-Proto` (the first of
/// each list), else `Host` and `http`. A host that is empty, longer than 255 bytes or holds
/// anything but letters, digits and `.:-[]` is passed over (it would be written into URLs).
#[must_use]
pub fn public_base(headers: &HeaderMap) -> String {
    let first = |name: &HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
    };
    let host_ok = |h: &&str| {
        !h.is_empty()
            && h.len() <= 255
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".:-[]".contains(&b))
    };
    let forwarded_host = HeaderName::from_static("x-forwarded-host");
    let forwarded_proto = HeaderName::from_static("x-forwarded-proto");
    let host = first(&forwarded_host)
        .filter(host_ok)
        .or_else(|| first(&header::HOST).filter(host_ok))
        .unwrap_or(FALLBACK_HOST);
    let scheme = match first(&forwarded_proto) {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use minqing_service::tilecache::Gzip;

    fn gzip(values: &[&'static str]) -> bool {
        accepts_gzip(
            values
                .iter()
                .map(|v| HeaderValue::from_static(v))
                .collect::<Vec<_>>()
                .iter(),
        )
    }

    #[test]
    fn accept_encoding_honours_weights() {
        for yes in [
            &["gzip"][..],
            &["GZip"],
            &["gzip, deflate, br"],
            &["br;q=1.0, gzip;q=0.5"],
            &["gzip;q=0.001"],
            &["*"],
            &["deflate", "gzip"],
            &["x-gzip"],
            &["gzip;q=bogus"],
            &["gzip;q=0, gzip;q=1"],
        ] {
            assert!(gzip(yes), "{yes:?}");
        }
        for no in [
            &[][..],
            &[""],
            &["identity"],
            &["deflate, br"],
            &["gzip;q=0"],
            &["gzip; Q=0.000"],
            &["br, gzip;q=0, deflate"],
            &["*;q=0"],
            &["gzip;q=0, *"],
            &["gzipx"],
        ] {
            assert!(!gzip(no), "{no:?}");
        }
    }

    #[test]
    fn validators_match_weakly_or_by_star() {
        let n = |v: &'static str| Negotiation {
            gzip: false,
            if_none_match: Some(HeaderValue::from_static(v)),
        };
        assert!(n("\"a\"").holds("\"a\""));
        assert!(n("\"b\", \"a\"").holds("\"a\""));
        assert!(n("W/\"a\"").holds("\"a\""));
        assert!(n("*").holds("\"a\""));
        assert!(!n("\"b\"").holds("\"a\""));
        assert!(!n("a").holds("\"a\""));
        assert!(!Negotiation::default().holds("\"a\""));
    }

    #[test]
    fn bodies_are_gzipped_when_accepted() {
        let big = Encoded::new(vec![b'a'; 4096], Gzip::Always);
        let small = Encoded::new(vec![b'a'; 8], Gzip::WhenSmaller);
        let gz = Negotiation {
            gzip: true,
            if_none_match: None,
        };
        let encoding = |r: &Response| r.headers().get(header::CONTENT_ENCODING).cloned();
        assert_eq!(
            encoding(&gz.body(&big))
                .as_ref()
                .map(axum::http::HeaderValue::as_bytes),
            Some(&b"gzip"[..])
        );
        assert_eq!(encoding(&gz.body(&small)), None);
        assert_eq!(encoding(&Negotiation::default().body(&big)), None);
        assert_eq!(gz.body(&small).headers()[header::VARY], "accept-encoding");
        // Tiles: gzip whenever accepted.
        let tile = Encoded::new(vec![b'a'; 8], Gzip::Always);
        assert!(encoding(&gz.body(&tile)).is_some());
    }

    #[test]
    fn urls_follow_the_address_the_client_used() {
        let mut h = HeaderMap::new();
        assert_eq!(public_base(&h), "http://localhost:8080");
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert_eq!(public_base(&h), "http://127.0.0.1:8080");
        h.insert(
            "x-forwarded-host",
            HeaderValue::from_static("map.example.org, proxy"),
        );
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(public_base(&h), "https://map.example.org");
        h.insert(
            "x-forwarded-host",
            HeaderValue::from_static("evil/<script>"),
        );
        assert_eq!(public_base(&h), "https://127.0.0.1:8080");
        h.insert(header::HOST, HeaderValue::from_static("[::1]:80"));
        h.insert("x-forwarded-proto", HeaderValue::from_static("ftp"));
        assert_eq!(public_base(&h), "http://[::1]:80");
        let long = HeaderValue::from_str(&"a".repeat(256)).unwrap_or(HeaderValue::from_static(""));
        h.insert(header::HOST, long);
        assert_eq!(public_base(&h), "http://localhost:8080");
    }
}
