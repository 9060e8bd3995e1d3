//! The one error type of the HTTP layer, rendered as Mastodon's error entity
//! (`{"error": "..."}`) with the matching status code. Internal causes are logged, never
//! shown to clients.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cascade_core::StatusError;
use cascade_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("The access token is invalid")]
    Unauthorized,
    /// What anonymous callers may not do, said in Mastodon's words (401).
    #[error("{0}")]
    AuthRequired(String),
    #[error("This action is outside the authorized scopes")]
    OutsideScopes,
    #[error("{0}")]
    Forbidden(String),
    #[error("Record not found")]
    NotFound,
    #[error("Request entity too large")]
    TooLarge,
    #[error("Validation failed: {0}")]
    Unprocessable(String),
    #[error("Too many requests")]
    RateLimited,
    /// A named limit on what one client may hold open at once (429).
    #[error("{0}")]
    TooMany(String),
    /// OAuth endpoints answer with RFC 6749's `error` codes plus a description.
    #[error("{code}")]
    OAuth {
        status: StatusCode,
        code: &'static str,
        description: String,
    },
    #[error("Internal server error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn unprocessable(msg: impl Into<String>) -> ApiError {
        ApiError::Unprocessable(msg.into())
    }

    pub fn oauth(
        status: StatusCode,
        code: &'static str,
        description: impl Into<String>,
    ) -> ApiError {
        ApiError::OAuth {
            status,
            code,
            description: description.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized | ApiError::AuthRequired(_) => StatusCode::UNAUTHORIZED,
            ApiError::OutsideScopes | ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited | ApiError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::OAuth { status, .. } => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            ApiError::OAuth {
                code, description, ..
            } => {
                serde_json::json!({ "error": code, "error_description": description })
            }
            ApiError::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                serde_json::json!({ "error": self.to_string() })
            }
            _ => serde_json::json!({ "error": self.to_string() }),
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static(
                    "Bearer realm=\"Cascade\", error=\"invalid_token\"",
                ),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(what) => {
                ApiError::Unprocessable(format!("{what} has already been taken"))
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<StatusError> for ApiError {
    fn from(e: StatusError) -> Self {
        ApiError::Unprocessable(e.to_string())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
