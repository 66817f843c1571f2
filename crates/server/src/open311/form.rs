//! The form of a POST: `application/x-www-form-urlencoded` (read with `serde_urlencoded`),
//! or `multipart/form-data` (read with `multer`) of which the text parts are fields and the
//! file parts (a `filename`, such as the `media` photo some clients send) are skipped.
//!
//! The body is whole when it gets here, within the server's body limit (a larger one is a
//! 413 before this). Faults are 400s: a content type of neither kind, a multipart type
//! without a usable boundary (none, or longer than [`MAX_BOUNDARY`]), a multipart body that
//! does not parse or has a part without `Content-Disposition`, and a text field that is not
//! UTF-8.

use std::convert::Infallible;

use axum::body::Bytes;
use axum::http::{HeaderMap, header};

use super::fail::{Fail, Result};

/// Longest multipart boundary accepted (RFC 2046 allows 70 characters).
const MAX_BOUNDARY: usize = 200;

/// The fields of a POST body, in order.
pub(super) async fn form_fields(headers: &HeaderMap, body: Bytes) -> Result<Vec<(String, String)>> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/x-www-form-urlencoded" | "" => serde_urlencoded::from_bytes(&body)
            .map_err(|e| Fail::bad(format!("malformed form body: {e}"))),
        "multipart/form-data" => {
            let boundary = multer::parse_boundary(ct)
                .ok()
                .filter(|b| !b.is_empty() && b.len() <= MAX_BOUNDARY)
                .ok_or_else(|| Fail::bad("multipart/form-data without a boundary"))?;
            multipart_fields(body, boundary).await
        }
        other => Err(Fail::bad(format!(
            "send the request as application/x-www-form-urlencoded, not {other}"
        ))),
    }
}

/// The text fields of a multipart/form-data body; file parts are skipped.
async fn multipart_fields(body: Bytes, boundary: String) -> Result<Vec<(String, String)>> {
    let malformed = |_| Fail::bad("malformed multipart/form-data body");
    let stream = futures_util::stream::once(async move { Ok::<_, Infallible>(body) });
    let mut parts = multer::Multipart::new(stream, boundary);
    let mut out = Vec::new();
    while let Some(part) = parts.next_field().await.map_err(malformed)? {
        if !part.headers().contains_key(header::CONTENT_DISPOSITION) {
            return Err(Fail::bad("malformed multipart/form-data body"));
        }
        let name = match (part.name(), part.file_name()) {
            (Some(name), None) => name.to_owned(),
            // Files, and parts without a name: not fields.
            _ => continue,
        };
        let value = part.bytes().await.map_err(malformed)?;
        let value = String::from_utf8(value.to_vec())
            .map_err(|_| Fail::bad(format!("form field {name} is not UTF-8")))?;
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn multipart(boundary: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}"))
                .unwrap_or(HeaderValue::from_static("")),
        );
        h
    }

    async fn fields(
        h: &HeaderMap,
        body: &'static [u8],
    ) -> std::result::Result<Vec<(String, String)>, String> {
        form_fields(h, Bytes::from_static(body))
            .await
            .map_err(|f| f.description)
    }

    #[tokio::test]
    async fn multipart_text_fields_are_read_and_files_skipped() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"service_code\"\r\n\r\nhazard.fire\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nline 1\r\nline 2\r\n--XyZ--\r\n";
        assert_eq!(
            fields(&multipart("XyZ"), body).await,
            Ok(vec![
                ("service_code".to_owned(), "hazard.fire".to_owned()),
                ("description".to_owned(), "line 1\r\nline 2".to_owned()),
            ])
        );
        let quoted = multipart("\"XyZ\"");
        assert_eq!(fields(&quoted, body).await.map(|f| f.len()), Ok(2));
    }

    #[tokio::test]
    async fn multipart_faults_are_client_errors() {
        let h = multipart("XyZ");
        let malformed = Err("malformed multipart/form-data body".to_owned());
        assert_eq!(fields(&h, b"garbage").await, malformed);
        // No closing delimiter.
        assert_eq!(
            fields(
                &h,
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
            )
            .await,
            malformed
        );
        // A part without Content-Disposition.
        assert_eq!(
            fields(
                &h,
                b"--XyZ\r\nContent-Type: text/plain\r\n\r\n1\r\n--XyZ--\r\n"
            )
            .await,
            malformed
        );
        assert_eq!(
            fields(
                &h,
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\r\n--XyZ--\r\n"
            )
            .await,
            Err("form field a is not UTF-8".to_owned())
        );
        let no_boundary = Err("multipart/form-data without a boundary".to_owned());
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data"),
        );
        assert_eq!(fields(&h, b"").await, no_boundary);
        let long: &'static str = Box::leak("b".repeat(MAX_BOUNDARY + 1).into_boxed_str());
        assert_eq!(fields(&multipart(long), b"").await, no_boundary);
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert_eq!(
            fields(&h, b"a=1").await,
            Err("send the request as application/x-www-form-urlencoded, not text/plain".to_owned())
        );
    }

    #[tokio::test]
    async fn url_encoded_forms_are_read() {
        let h = HeaderMap::new();
        assert_eq!(
            fields(&h, b"lat=22.8&description=%E4%BA%95+1").await,
            Ok(vec![
                ("lat".to_owned(), "22.8".to_owned()),
                ("description".to_owned(), "井 1".to_owned()),
            ])
        );
    }
}
