//! Bearer tokens. Each protected route carries a guard, added by the router from the route table,
//! that authenticates the token and checks its role before the handler runs, so nothing in the
//! request (its body above all) is looked at for a caller who may not make it.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use muster_core::access::Role;
use muster_engine::{Engine, Principal};

use crate::error::ApiError;

/// What a route's guard needs: the engine to look tokens up, and the least role allowed.
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    pub engine: Arc<Engine>,
    pub role: Role,
}

/// Authenticates the bearer token and checks its role; the principal is handed to the handler.
pub(crate) async fn guard(
    State(guard): State<Guard>,
    mut request: Request,
    next: Next,
) -> Response {
    match admit(&guard, request.headers()).await {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

async fn admit(guard: &Guard, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let secret = bearer(headers)?;
    let principal = guard.engine.authenticate(secret).await?;
    if principal.role.allows(guard.role) {
        Ok(principal)
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "token '{}' has role {}; this needs {} or above",
                principal.name, principal.role, guard.role
            ),
        ))
    }
}

/// The secret of an `Authorization: Bearer <secret>` header.
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let missing = |why: &str| {
        ApiError::unauthorized(
            "missing-token",
            format!("{why}; send the header Authorization: Bearer <token>"),
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| missing("this needs a token"))?;
    let value = value
        .to_str()
        .map_err(|_| missing("the Authorization header is not readable text"))?;
    let (scheme, secret) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| missing("the Authorization header is not a bearer token"))?;
    let secret = secret.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || secret.is_empty() {
        return Err(missing("the Authorization header is not a bearer token"));
    }
    Ok(secret)
}

/// The authenticated caller of a guarded route.
#[derive(Debug)]
pub(crate) struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| {
                tracing::error!(path = %crate::handlers::shown_path(parts.uri.path()), "a handler that needs a caller is not guarded");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "this route is misconfigured; see the server log",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::bearer;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn reads_bearer_secrets_and_refuses_everything_else() {
        assert_eq!(bearer(&with("Bearer mst_abc")).unwrap(), "mst_abc");
        assert_eq!(bearer(&with("bearer  mst_abc ")).unwrap(), "mst_abc");
        for bad in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "mst_abc"] {
            assert_eq!(
                bearer(&with(bad)).unwrap_err().code,
                "missing-token",
                "{bad}"
            );
        }
        assert_eq!(bearer(&HeaderMap::new()).unwrap_err().code, "missing-token");
    }
}
