//! Errors in GeoReport's own format: `<errors><error><code/><description/>…` or
//! `[{"code", "description"}]`, with the HTTP status as the code (and `Retry-After` when
//! there is one). Store and service errors are mapped as the REST API maps them.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::doc::{Format, Node, render, text};
use crate::error::ApiError;
use minqing_service::reports::SubmitError;
use minqing_store::StoreError;

/// An Open311 error: its HTTP status (also the body's `code`) and a description for people.
#[derive(Debug)]
pub(super) struct Fail {
    pub(super) status: StatusCode,
    pub(super) description: String,
    pub(super) retry_after: Option<u64>,
}

pub(super) type Result<T> = std::result::Result<T, Fail>;

impl Fail {
    pub(super) fn new(status: StatusCode, description: impl Into<String>) -> Fail {
        Fail {
            status,
            description: description.into(),
            retry_after: None,
        }
    }

    pub(super) fn bad(description: impl Into<String>) -> Fail {
        Fail::new(StatusCode::BAD_REQUEST, description)
    }

    pub(super) fn forbidden(description: impl Into<String>) -> Fail {
        Fail::new(StatusCode::FORBIDDEN, description)
    }

    pub(super) fn not_found(description: impl Into<String>) -> Fail {
        Fail::new(StatusCode::NOT_FOUND, description)
    }

    pub(super) fn too_many(seconds: u64) -> Fail {
        Fail {
            retry_after: Some(seconds),
            ..Fail::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many reports from this address; retry in {seconds} s"),
            )
        }
    }

    pub(super) fn render(self, fmt: Format) -> Response {
        let doc = Node::List(
            "error",
            vec![Node::Obj(vec![
                ("code", Node::Int(i64::from(self.status.as_u16()))),
                ("description", text(self.description)),
            ])],
        );
        let mut r = render(fmt, self.status, "errors", &doc);
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

impl From<StoreError> for Fail {
    /// Input faults are GeoReport's 400; everything else as the REST API maps it (one
    /// mapping: status, message, `Retry-After`, what is logged).
    fn from(e: StoreError) -> Fail {
        match e {
            StoreError::Input(m) => Fail::bad(m),
            other => {
                let api = ApiError::from(other);
                Fail {
                    status: api.status_code(),
                    description: api.message().to_owned(),
                    retry_after: api.retry_after(),
                }
            }
        }
    }
}

impl From<SubmitError> for Fail {
    fn from(e: SubmitError) -> Fail {
        match e {
            SubmitError::Store(e) => e.into(),
            // Open311 sends no idempotency key.
            SubmitError::KeyReused | SubmitError::Link(_) => Fail::bad(e.to_string()),
        }
    }
}

/// A REST error of a shared helper (token lookup): its status, with a generic description
/// (its detail was logged where it happened).
impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Fail {
        let status = e.status_code();
        let description = if status == StatusCode::SERVICE_UNAVAILABLE {
            "the service is unavailable; retry later"
        } else {
            "internal error"
        };
        Fail::new(status, description)
    }
}

/// Answers `r`, or its error in `fmt`.
pub(super) fn answer(fmt: Format, r: Result<Response>) -> Response {
    r.unwrap_or_else(|e| e.render(fmt))
}

/// 404 for a path without a known format suffix (answered in XML, the required format).
pub(super) fn no_format(file: &str) -> Response {
    Fail::not_found(format!(
        "{file:?} is not served here; add the format: .xml or .json"
    ))
    .render(Format::Xml)
}
