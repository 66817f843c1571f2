//! The one HTTP-facing error: `{"error": {"code", "message"}}` with a fitting status.
//!
//! Server-side failures are logged with their detail; the client gets a generic message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use minqing_service::assessment::AssessError;
use minqing_service::auth::Denied;
use minqing_service::reports::SubmitError;
use minqing_store::StoreError;

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds to wait before retrying, sent as `Retry-After` (429, 503).
    retry_after: Option<u64>,
}

/// Result alias of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// The same error with its message prefixed by what it is about (an item of a list).
    #[must_use]
    pub fn within(mut self, what: &str) -> ApiError {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// 400: the request is malformed (a parameter, the JSON).
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 422: well-formed but not acceptable (unknown category, invalid geometry).
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", message)
    }

    /// 401: no valid token.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: signed in, but the role may not do this.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 409: the case is not in a state that allows this.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 429: too many requests; retry after `seconds`.
    pub fn too_many(seconds: u64) -> ApiError {
        let seconds = seconds.max(1);
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many reports from this address; retry in {seconds} s"),
            )
        }
    }

    /// 500 without detail (the cause is logged where it happened).
    #[must_use]
    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 503: not ready yet.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// Any status with a code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The HTTP status.
    #[must_use]
    pub fn status_code(&self) -> StatusCode {
        self.status
    }

    /// The message for the client.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Seconds to wait before retrying, if any.
    #[must_use]
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> ApiError {
        match d {
            Denied::NoToken => ApiError::unauthorized(d.to_string()),
            Denied::Forbidden(m) => ApiError::forbidden(m),
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> ApiError {
        match e {
            SubmitError::KeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                e.to_string(),
            ),
            SubmitError::Link(_) => ApiError::unprocessable(e.to_string()),
            SubmitError::Store(e) => e.into(),
        }
    }
}

impl From<AssessError> for ApiError {
    fn from(e: AssessError) -> ApiError {
        match e {
            AssessError::Store(e) => e.into(),
            AssessError::Loading => {
                let mut a = ApiError::unavailable(e.to_string());
                a.retry_after = Some(5);
                a
            }
            AssessError::Failed(_) => {
                tracing::error!(error = %e, "assessment failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Input(m) => ApiError::unprocessable(m),
            // An outage is logged once where it begins and ends (store), not per request.
            StoreError::Unavailable => ApiError {
                retry_after: Some(1),
                ..ApiError::unavailable(
                    "the database is unreachable; nothing was stored, retry later",
                )
            },
            StoreError::Pool(_) => {
                tracing::error!(error = %e, "database unavailable");
                ApiError::unavailable("the database is unavailable; nothing was stored, retry")
            }
            StoreError::Internal(_) => {
                tracing::error!(error = %e, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; retry a write with the same Idempotency-Key to learn whether it was stored",
                )
            }
            other => {
                tracing::error!(error = %other, "store error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; nothing was stored",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"minqing\""),
            );
        }
        if let Some(seconds) = self.retry_after {
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        r
    }
}
