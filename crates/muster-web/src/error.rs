//! Every way a request can fail, as one JSON shape:
//! `{"error": {"code": "kebab-code", "message": "…"}}`, plus `diagnostics` when a plan reload is
//! refused. Codes are stable; clients and tests match on them.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use muster_core::diagnostic::Diagnostic;
use muster_engine::{EngineError, ReloadError, TokenError};
use muster_store::StoreError;

use crate::body::ErrorBody;

/// Rejection codes that say the incident's current state does not allow the command (409); any
/// other rejection is about the command itself (422).
const STATE_CONFLICTS: &[&str] = &[
    "invalid-transition",
    "incident-finished",
    "already-declared",
    "already-acknowledged",
    "already-requested",
    "already-approved",
    "already-done",
    "no-change",
    "needs-approval",
    "no-runbook",
    "not-in-triage",
    "integration-key-exists",
    "postmortem-required",
    "no-postmortem",
];

/// Rejection codes that say what the command names does not exist (404).
const NOT_FOUND: &[&str] = &[
    "unknown-incident",
    "unknown-integration",
    "unknown-integration-key",
    "unknown-alert",
    "unknown-action-item",
];

/// A failed request, ready to be sent.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub diagnostics: Option<Vec<Diagnostic>>,
    /// Adds `Retry-After: 1`.
    pub retry: bool,
    /// The `WWW-Authenticate` challenge of a 401.
    pub challenge: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            diagnostics: None,
            retry: false,
            challenge: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        let challenge = if code == "missing-token" {
            "Bearer"
        } else {
            "Bearer error=\"invalid_token\""
        };
        Self {
            challenge: Some(challenge),
            ..Self::new(StatusCode::UNAUTHORIZED, code, message)
        }
    }

    /// A storage failure: the detail goes to the log, the client hears only that it happened.
    pub fn storage(error: &StoreError) -> Self {
        tracing::error!(%error, "storage failed while serving a request");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage",
            "the database failed; see the server log",
        )
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        let code = error.code();
        match error {
            EngineError::Rejected(rejection) => {
                let status = if NOT_FOUND.contains(&rejection.code) {
                    StatusCode::NOT_FOUND
                } else if STATE_CONFLICTS.contains(&rejection.code) {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                Self::new(status, rejection.code, rejection.message)
            }
            EngineError::NotFound(id) => Self::new(
                StatusCode::NOT_FOUND,
                code,
                format!("there is no incident {id}; list incidents with GET /api/incidents"),
            ),
            EngineError::Forbidden(message) => Self::new(StatusCode::FORBIDDEN, code, message),
            busy @ EngineError::Busy(_) => Self {
                retry: true,
                ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, busy.to_string())
            },
            EngineError::Store(error) => Self::storage(&error),
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Unknown => Self::unauthorized("invalid-token", error.to_string()),
            TokenError::Revoked(_) => Self::unauthorized(
                "revoked-token",
                format!("{error}; ask an admin for a new one"),
            ),
            TokenError::Invalid(message) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-token-request",
                message,
            ),
            TokenError::Store(StoreError::TokenNameTaken(name)) => Self::new(
                StatusCode::CONFLICT,
                "token-exists",
                StoreError::TokenNameTaken(name).to_string(),
            ),
            TokenError::Store(error) => Self::storage(&error),
        }
    }
}

impl From<ReloadError> for ApiError {
    fn from(error: ReloadError) -> Self {
        match error {
            ReloadError::NoPath => Self::new(
                StatusCode::CONFLICT,
                "no-plan-path",
                format!("{error}; restart the server with a plan file to enable reloads"),
            ),
            ReloadError::Unreadable(message) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "plan-unreadable",
                format!("{message}; the running plan stays"),
            ),
            ReloadError::Invalid(ref diagnostics) => {
                let diagnostics = diagnostics.clone();
                Self {
                    diagnostics: Some(diagnostics),
                    ..Self::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "plan-invalid",
                        format!("{error}; fix the diagnostics and reload again"),
                    )
                }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody::new(self.code, self.message, self.diagnostics);
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if self.retry {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Some(challenge) = self.challenge {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    use muster_core::incident::{IncidentId, Rejection};
    use muster_engine::EngineError;
    use muster_store::StoreError;

    use super::ApiError;

    fn status_of(code: &'static str) -> StatusCode {
        ApiError::from(EngineError::Rejected(Rejection {
            code,
            message: String::new(),
        }))
        .status
    }

    #[test]
    fn state_conflicts_are_409_and_bad_commands_422() {
        for code in [
            "invalid-transition",
            "incident-finished",
            "no-change",
            "needs-approval",
        ] {
            assert_eq!(status_of(code), StatusCode::CONFLICT, "{code}");
        }
        for code in [
            "unknown-reference",
            "missing-text",
            "time-order",
            "signature-required",
            "not-a-declaration",
        ] {
            assert_eq!(status_of(code), StatusCode::UNPROCESSABLE_ENTITY, "{code}");
        }
        assert_eq!(status_of("unknown-incident"), StatusCode::NOT_FOUND);
    }

    #[test]
    fn busy_asks_to_retry_and_storage_hides_its_detail() {
        let id: IncidentId = "INC-20251207-001".parse().unwrap();
        let busy = ApiError::from(EngineError::Busy(id)).into_response();
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()[header::RETRY_AFTER], "1");
        let storage = ApiError::from(EngineError::Store(StoreError::Database(
            "disk I/O error at /var/lib/secret".to_owned(),
        )));
        assert_eq!(storage.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(storage.code, "storage");
        assert!(!storage.message.contains("/var/lib"));
    }
}
