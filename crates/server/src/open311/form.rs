//! The form of a POST: URL-encoded, or multipart/form-data (text parts only).

use axum::http::{HeaderMap, header};

use super::fail::{Fail, Result};

/// Form fields of a POST body: URL-encoded, or multipart (text parts only).
pub(super) fn form_fields(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_owned();
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/x-www-form-urlencoded" | "" => serde_urlencoded::from_bytes(body)
            .map_err(|e| Fail::bad(format!("malformed form body: {e}"))),
        "multipart/form-data" => {
            let boundary = ct
                .split(';')
                .skip(1)
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
                .map(|(_, v)| v.trim().trim_matches('"').to_owned())
                .filter(|b| !b.is_empty() && b.len() <= 200)
                .ok_or_else(|| Fail::bad("multipart/form-data without a boundary"))?;
            multipart_fields(body, &boundary)
        }
        other => Err(Fail::bad(format!(
            "send the request as application/x-www-form-urlencoded, not {other}"
        ))),
    }
}

/// Where `needle` (not empty) first occurs in `hay` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The text fields of a multipart/form-data body; file parts (a `filename`, e.g. the
/// `media` photo some clients send) are skipped.
fn multipart_fields(body: &[u8], boundary: &str) -> Result<Vec<(String, String)>> {
    let malformed = || Fail::bad("malformed multipart/form-data body");
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    let mut at = find(body, delim, 0).ok_or_else(malformed)? + delim.len();
    let mut out = Vec::new();
    loop {
        if body.get(at..at + 2) == Some(b"--") {
            return Ok(out);
        }
        let start = at + 2; // the CRLF after the delimiter
        let next = find(body, delim, start).ok_or_else(malformed)?;
        let part = body
            .get(start..next.saturating_sub(2))
            .ok_or_else(malformed)?;
        let split = find(part, b"\r\n\r\n", 0).ok_or_else(malformed)?;
        let head = String::from_utf8_lossy(&part[..split]);
        let content = &part[split + 4..];
        let disposition = head
            .split("\r\n")
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .ok_or_else(malformed)?;
        let mut name = None;
        let mut file = false;
        for p in disposition.split(';').skip(1) {
            if let Some((k, v)) = p.trim().split_once('=') {
                let v = v.trim().trim_matches('"').to_owned();
                match k.trim().to_ascii_lowercase().as_str() {
                    "name" => name = Some(v),
                    "filename" => file = true,
                    _ => {}
                }
            }
        }
        if let (Some(name), false) = (name, file) {
            let value = String::from_utf8(content.to_vec())
                .map_err(|_| Fail::bad(format!("form field {name} is not UTF-8")))?;
            out.push((name, value));
        }
        at = next + delim.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_text_fields_are_read_and_files_skipped() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"service_code\"\r\n\r\nhazard.fire\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nline 1\r\nline 2\r\n--XyZ--\r\n";
        let fields = multipart_fields(body, "XyZ").unwrap_or_default();
        assert_eq!(
            fields,
            vec![
                ("service_code".to_owned(), "hazard.fire".to_owned()),
                ("description".to_owned(), "line 1\r\nline 2".to_owned()),
            ]
        );
        assert!(multipart_fields(b"garbage", "XyZ").is_err());
    }
}
