//! Alert intake endpoints: Alertmanager's webhook, a PagerDuty Events API v2 compatible
//! `/v2/enqueue`, and a generic JSON webhook read through the integration's mapping.
//!
//! Each request is authenticated by its integration's key (Alertmanager and webhooks: a bearer
//! token or `?key=`; PagerDuty: the `routing_key` in the body), parsed completely (every problem
//! is reported, nothing is stored when there is one), and answered 202 only once its alerts are
//! committed. Storage trouble is 503 with `Retry-After` (Alertmanager retries 5xx only); an
//! integration over its rate limit gets 429 with `Retry-After` and nothing of its request is kept.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use muster_core::alert::{Alert, alertmanager, pagerduty, webhook};
use muster_core::plan::{Integration, IntegrationKind};
use muster_engine::Engine;
use muster_engine::intake::IntakeError;
use muster_store::Accepted;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Largest intake body accepted (512 KiB).
pub const INTAKE_LIMIT: usize = 512 * 1024;

/// The answer to an accepted Alertmanager or webhook request.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct IntakeAccepted {
    /// Always `accepted`.
    pub status: String,
    pub integration: String,
    /// Alerts stored by this request.
    pub accepted: usize,
    /// Alerts that repeated a notification already stored (not stored again).
    pub duplicates: usize,
}

/// `?key=` for senders that cannot set an Authorization header.
#[derive(Debug, Deserialize)]
pub(crate) struct KeyQuery {
    key: Option<String>,
}

fn problem(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    problems: &[String],
) -> Response {
    let mut body = json!({"error": {"code": code, "message": message.into()}});
    if !problems.is_empty() {
        body["error"]["problems"] = json!(problems);
    }
    (status, axum::Json(body)).into_response()
}

fn with_retry_after(mut response: Response, seconds: u64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_none_or(|value| {
            let media = value.split(';').next().unwrap_or("").trim();
            media.eq_ignore_ascii_case("application/json")
                || media.to_ascii_lowercase().ends_with("+json")
        })
}

async fn read_body(body: Body) -> Result<axum::body::Bytes, Response> {
    axum::body::to_bytes(body, INTAKE_LIMIT).await.map_err(|_| {
        problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!(
                "the body is over {} KiB; send fewer alerts per request",
                INTAKE_LIMIT / 1024
            ),
            &[],
        )
    })
}

fn intake_failed(error: &IntakeError) -> Response {
    match error {
        IntakeError::RateLimited {
            retry_after_secs, ..
        } => with_retry_after(
            problem(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                error.to_string(),
                &[],
            ),
            *retry_after_secs,
        ),
        IntakeError::Unavailable(_) => with_retry_after(
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "alerts cannot be stored right now; nothing was accepted, retry",
                &[],
            ),
            1,
        ),
    }
}

fn accepted_body(integration: &Integration, accepted: &[Accepted]) -> Response {
    let stored = accepted
        .iter()
        .filter(|outcome| matches!(outcome, Accepted::Stored(_)))
        .count();
    (
        StatusCode::ACCEPTED,
        axum::Json(IntakeAccepted {
            status: "accepted".to_owned(),
            integration: integration.id.to_string(),
            accepted: stored,
            duplicates: accepted.len() - stored,
        }),
    )
        .into_response()
}

/// The store could not be asked about a key made through the API: nothing was stored, retry.
fn key_lookup_failed(error: &muster_store::StoreError) -> Response {
    tracing::warn!(%error, "an integration key could not be looked up");
    intake_failed(&IntakeError::Unavailable(error.to_string()))
}

/// Authenticates a keyed (non-PagerDuty) integration and reads its body.
async fn keyed(
    engine: &Engine,
    kind: IntegrationKind,
    headers: &HeaderMap,
    query: KeyQuery,
    body: Body,
) -> Result<(Integration, axum::body::Bytes), Response> {
    let Some(key) = bearer(headers).or(query.key) else {
        return Err(problem(
            StatusCode::UNAUTHORIZED,
            "missing-key",
            format!(
                "no integration key: send 'Authorization: Bearer KEY' or '?key=KEY' for a {} integration",
                kind.as_str()
            ),
            &[],
        ));
    };
    let found = match engine.integration_for_key(kind, &key).await {
        Ok(found) => found,
        Err(error) => return Err(key_lookup_failed(&error)),
    };
    let Some(integration) = found else {
        return Err(problem(
            StatusCode::UNAUTHORIZED,
            "unknown-key",
            format!(
                "the key is not a live key of any {} integration in the plan (a plan key, or one made with POST /api/integrations/{{id}}/keys)",
                kind.as_str()
            ),
            &[],
        ));
    };
    if !is_json(headers) {
        return Err(problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the alerts as JSON (Content-Type: application/json)",
            &[],
        ));
    }
    let bytes = read_body(body).await?;
    Ok((integration, bytes))
}

async fn store(engine: &Engine, integration: &Integration, alerts: &[Alert]) -> Response {
    match engine.accept_alerts(integration, alerts).await {
        Ok(accepted) => accepted_body(integration, &accepted),
        Err(error) => intake_failed(&error),
    }
}

fn invalid(problems: &[String]) -> Response {
    let first = problems.first().map_or("", String::as_str);
    problem(
        StatusCode::BAD_REQUEST,
        "invalid-payload",
        format!(
            "the payload has {} problem(s), the first: {first}; nothing was stored",
            problems.len()
        ),
        problems,
    )
}

/// `POST /intake/alertmanager`: an Alertmanager webhook notification (version 4).
pub(crate) async fn alertmanager_webhook(
    State(engine): State<Arc<Engine>>,
    Query(query): Query<KeyQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (integration, bytes) = match keyed(
        &engine,
        IntegrationKind::Alertmanager,
        &headers,
        query,
        body,
    )
    .await
    {
        Ok(found) => found,
        Err(response) => return response,
    };
    match alertmanager::parse(&bytes, integration.id.as_str()) {
        Ok(alerts) => store(&engine, &integration, &alerts).await,
        Err(problems) => invalid(&problems),
    }
}

/// `POST /intake/webhook`: any JSON, read through the integration's mapping.
pub(crate) async fn generic_webhook(
    State(engine): State<Arc<Engine>>,
    Query(query): Query<KeyQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (integration, bytes) =
        match keyed(&engine, IntegrationKind::Webhook, &headers, query, body).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let Some(mapping) = &integration.mapping else {
        return problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no-mapping",
            format!("integration {} has no mapping in the plan", integration.id),
            &[],
        );
    };
    match webhook::parse(&bytes, mapping, integration.id.as_str()) {
        Ok(alerts) => store(&engine, &integration, &alerts).await,
        Err(problems) => invalid(&problems),
    }
}

fn pd(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// `POST /v2/enqueue`: a PagerDuty Events API v2 event, answered as PagerDuty answers.
pub(crate) async fn pagerduty_enqueue(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !is_json(&headers) {
        return pd(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            pagerduty::invalid_body(&[
                "the event must be JSON: send it with Content-Type: application/json".to_owned(),
            ]),
        );
    }
    let Ok(bytes) = axum::body::to_bytes(body, INTAKE_LIMIT).await else {
        return pd(
            StatusCode::PAYLOAD_TOO_LARGE,
            pagerduty::invalid_body(&[format!(
                "the request body is over {} KiB",
                INTAKE_LIMIT / 1024
            )]),
        );
    };
    let mut event = match pagerduty::parse(&bytes) {
        Ok(event) => event,
        Err(problems) => return pd(StatusCode::BAD_REQUEST, pagerduty::invalid_body(&problems)),
    };
    let found = match engine
        .integration_for_key(IntegrationKind::Pagerduty, &event.routing_key)
        .await
    {
        Ok(found) => found,
        Err(error) => return key_lookup_failed(&error),
    };
    let Some(integration) = found else {
        return pd(
            StatusCode::BAD_REQUEST,
            pagerduty::invalid_body(&[
                "'routing_key' is not the routing key of any integration".to_owned()
            ]),
        );
    };
    event.alert.integration = integration.id.to_string();
    event
        .alert
        .labels
        .insert("integration".to_owned(), integration.id.to_string());
    if !event.dedup_key_given {
        let mut bytes = [0u8; 16];
        let _ = getrandom::fill(&mut bytes);
        event.alert.key = format!("{:032x}", u128::from_be_bytes(bytes));
    }
    let key = event.alert.key.clone();
    match engine
        .accept_alerts(&integration, std::slice::from_ref(&event.alert))
        .await
    {
        Ok(_) => pd(StatusCode::ACCEPTED, pagerduty::success_body(&key)),
        Err(IntakeError::RateLimited {
            retry_after_secs, ..
        }) => with_retry_after(
            pd(StatusCode::TOO_MANY_REQUESTS, pagerduty::throttled_body()),
            retry_after_secs,
        ),
        Err(error @ IntakeError::Unavailable(_)) => intake_failed(&error),
    }
}
