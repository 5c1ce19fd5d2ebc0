//! Reading JSON request bodies with errors that say what to fix: a body that is not JSON (400
//! `malformed-json`, with line and column), JSON of the wrong shape (422 `invalid-body`, with the
//! field), a body over the limit (413 `body-too-large`), or no JSON content type (415
//! `unsupported-media-type`).

use axum::extract::rejection::{BytesRejection, FailedToBufferBody, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::BODY_LIMIT;
use crate::error::ApiError;

/// A JSON request body of type `T`.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        axum::Json::<T>::from_request(request, state)
            .await
            .map(|axum::Json(value)| Self(value))
            .map_err(rejection)
    }
}

/// The part of a rejection after axum's generic prefix: serde's own words.
fn cause(error: &dyn std::error::Error) -> String {
    error
        .source()
        .map_or_else(|| error.to_string(), ToString::to_string)
}

/// A syntax error's words without the field path the parser was in, which says little next to
/// the line and column.
fn syntax(error: &dyn std::error::Error) -> String {
    let text = cause(error);
    match text.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') => rest.to_owned(),
        _ => text,
    }
}

fn rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonSyntaxError(error) => ApiError::bad_request(
            "malformed-json",
            format!("the body is not valid JSON: {}", syntax(&error)),
        ),
        JsonRejection::JsonDataError(error) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
            format!(
                "the body does not have the expected shape: {}; see /api/openapi.json",
                cause(&error)
            ),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the body as JSON with the header Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(BytesRejection::FailedToBufferBody(
            FailedToBufferBody::LengthLimitError(_),
        )) => too_large(),
        JsonRejection::BytesRejection(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            too_large()
        }
        JsonRejection::BytesRejection(error) => ApiError::bad_request(
            "unreadable-body",
            format!(
                "the request body could not be read: {}; send it again",
                cause(&error)
            ),
        ),
        other => ApiError::bad_request("malformed-json", other.body_text()),
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        format!(
            "the body is larger than the limit of {} KiB; send a smaller one",
            BODY_LIMIT / 1024
        ),
    )
}
