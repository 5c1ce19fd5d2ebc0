//! One function per route. Who may call each is decided by the route table's guard before these
//! run; they translate between HTTP and the engine.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use muster_core::incident::{Command, IncidentId};
use muster_core::plan::PersonId;
use muster_engine::Engine;
use muster_store::Store;
use serde_json::{Map, Value};

use crate::auth::Caller;
use crate::body::{
    AlertAttachment, AlertDeclaration, AlertInfo, AlertList, Audit, CommandOutcome,
    CreatedIntegrationKey, CreatedToken, Health, IncidentDetail, IncidentList, IntegrationInfo,
    IntegrationKeyInfo, IntegrationList, NewIntegrationKey, NewToken, PlanBody, Ready,
    ReloadedPlan, Timeline, TokenInfo, TokenList,
};
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::query;

type Shared = State<Arc<Engine>>;

pub(crate) async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

pub(crate) async fn ready(State(engine): Shared) -> Result<Json<Ready>, ApiError> {
    let database = engine.store().backend();
    match engine.ready().await {
        Ok(()) => Ok(Json(Ready {
            status: "ready",
            database,
        })),
        Err(error) => {
            tracing::warn!(%error, "not ready: the database does not answer");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not-ready",
                format!("the {database} database does not answer; see the server log"),
            ))
        }
    }
}

pub(crate) async fn openapi() -> Json<Value> {
    Json(crate::openapi::document().clone())
}

pub(crate) async fn plan(State(engine): Shared) -> Response {
    let running = engine.plan();
    Json(PlanBody {
        organization: &running.plan.organization.name,
        path: running.path.as_ref().map(|path| path.display().to_string()),
        loaded_at: running.loaded_at,
        warnings: &running.warnings,
        plan: &running.plan,
    })
    .into_response()
}

pub(crate) async fn reload_plan(State(engine): Shared, Caller(caller): Caller) -> Response {
    let reloaded = tokio::task::spawn_blocking(move || engine.reload_plan()).await;
    match reloaded {
        Ok(Ok(running)) => {
            tracing::info!(token = %caller.name, "plan reloaded through the API");
            Json(ReloadedPlan {
                reloaded: true,
                organization: &running.plan.organization.name,
                loaded_at: running.loaded_at,
                warnings: &running.warnings,
            })
            .into_response()
        }
        Ok(Err(error)) => ApiError::from(error).into_response(),
        Err(error) => {
            tracing::error!(%error, "the plan reload task failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the reload failed; the running plan stays; see the server log",
            )
            .into_response()
        }
    }
}

pub(crate) async fn list_incidents(
    State(engine): Shared,
    pairs: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<IncidentList>, ApiError> {
    let Query(pairs) = pairs.map_err(|rejection| {
        ApiError::bad_request(
            "invalid-query",
            format!("the query string cannot be read: {}", rejection.body_text()),
        )
    })?;
    let filter = query::filter(&pairs, &engine.plan().plan)?;
    let page = engine.list(&filter).await?;
    Ok(Json(IncidentList {
        incidents: page.incidents,
        total: page.total,
        limit: filter.limit,
        offset: filter.offset,
    }))
}

pub(crate) async fn declare(
    State(engine): Shared,
    Caller(caller): Caller,
    ApiJson(mut fields): ApiJson<Map<String, Value>>,
) -> Result<Response, ApiError> {
    match fields.get("command") {
        None => {
            fields.insert("command".to_owned(), Value::from("declare"));
        }
        Some(Value::String(command)) if command == "declare" => {}
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-body",
                "this declares a new incident: leave 'command' out or set it to \"declare\"; send other commands to /api/incidents/{id}/commands",
            ));
        }
    }
    let command: Command = serde_json::from_value(Value::Object(fields)).map_err(|error| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
            format!("the body is not a declaration: {error}; see /api/openapi.json"),
        )
    })?;
    let outcome = engine.declare(&caller, &command).await?;
    let location = format!("/api/incidents/{}", outcome.incident.id);
    let mut response = (StatusCode::CREATED, Json(CommandOutcome::from(outcome))).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The `{id}` of a path, as an incident id.
pub(crate) fn incident_id(
    path: Result<Path<String>, PathRejection>,
) -> Result<IncidentId, ApiError> {
    let Path(text) = path.map_err(|rejection| {
        ApiError::bad_request(
            "invalid-id",
            format!("the incident id cannot be read: {}", rejection.body_text()),
        )
    })?;
    text.parse()
        .map_err(|message: String| ApiError::bad_request("invalid-id", message))
}

pub(crate) async fn incident(
    State(engine): Shared,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let id = incident_id(path)?;
    Ok(Json(engine.incident(&id).await?.into()))
}

pub(crate) async fn timeline(
    State(engine): Shared,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Timeline>, ApiError> {
    let id = incident_id(path)?;
    let events = engine.timeline(&id).await?;
    Ok(Json(Timeline {
        incident: id,
        events,
    }))
}

pub(crate) async fn command(
    State(engine): Shared,
    Caller(caller): Caller,
    path: Result<Path<String>, PathRejection>,
    ApiJson(command): ApiJson<Command>,
) -> Result<Json<CommandOutcome>, ApiError> {
    let id = incident_id(path)?;
    let outcome = engine.execute(&caller, &id, &command).await?;
    Ok(Json(outcome.into()))
}

pub(crate) async fn audit(State(engine): Shared) -> Result<Json<Audit>, ApiError> {
    Ok(Json(engine.verify_audit().await?.into()))
}

pub(crate) async fn tokens(State(engine): Shared) -> Result<Json<TokenList>, ApiError> {
    let records = engine
        .store()
        .tokens()
        .await
        .map_err(|error| ApiError::storage(&error))?;
    Ok(Json(TokenList {
        tokens: records.into_iter().map(TokenInfo::from).collect(),
    }))
}

pub(crate) async fn create_token(
    State(engine): Shared,
    Caller(caller): Caller,
    ApiJson(request): ApiJson<NewToken>,
) -> Result<Response, ApiError> {
    let NewToken { name, role, person } = request;
    let secret = engine
        .create_token(&name, role, person.as_ref().map(PersonId::as_str))
        .await?;
    tracing::info!(token = %name.trim(), %role, by = %caller.name, "token created");
    let created = CreatedToken {
        name: name.trim().to_owned(),
        role,
        person,
        secret,
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub(crate) async fn revoke_token(
    State(engine): Shared,
    Caller(caller): Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(name) = path.map_err(|rejection| {
        ApiError::bad_request(
            "invalid-path",
            format!("the token name cannot be read: {}", rejection.body_text()),
        )
    })?;
    let revoked = engine
        .store()
        .revoke_token(&name, engine.now())
        .await
        .map_err(|error| ApiError::storage(&error))?;
    if revoked {
        tracing::info!(token = %name, by = %caller.name, "token revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown-token",
            format!("there is no valid token named '{name}'; list tokens with GET /api/tokens"),
        ))
    }
}

pub(crate) async fn integrations(State(engine): Shared) -> Result<Json<IntegrationList>, ApiError> {
    let running = engine.plan();
    let mut integrations = Vec::with_capacity(running.plan.integrations.len());
    for integration in &running.plan.integrations {
        let keys = engine.integration_keys(integration.id.as_str()).await?;
        integrations.push(IntegrationInfo {
            id: integration.id.clone(),
            kind: integration.kind,
            name: integration.name.clone(),
            rate_limit: integration.rate_limit.map(|limit| limit.to_string()),
            plan_key: engine.has_plan_key(integration),
            keys: keys.into_iter().map(IntegrationKeyInfo::from).collect(),
        });
    }
    Ok(Json(IntegrationList { integrations }))
}

/// A `{name}` path segment (or another plain text one), decoded.
fn path_text<T>(path: Result<Path<T>, PathRejection>, what: &str) -> Result<T, ApiError> {
    path.map(|Path(value)| value).map_err(|rejection| {
        ApiError::bad_request(
            "invalid-path",
            format!("the {what} cannot be read: {}", rejection.body_text()),
        )
    })
}

pub(crate) async fn create_integration_key(
    State(engine): Shared,
    Caller(caller): Caller,
    path: Result<Path<String>, PathRejection>,
    ApiJson(request): ApiJson<NewIntegrationKey>,
) -> Result<Response, ApiError> {
    let integration = path_text(path, "integration id")?;
    let created = engine
        .create_integration_key(&caller, &integration, &request.name)
        .await?;
    let body = CreatedIntegrationKey {
        integration: created.record.integration,
        name: created.record.name,
        created_at: created.record.created_at,
        secret: created.secret,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub(crate) async fn revoke_integration_key(
    State(engine): Shared,
    Caller(caller): Caller,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let (integration, name) = path_text(path, "integration id and key name")?;
    engine
        .revoke_integration_key(&caller, &integration, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn list_alerts(
    State(engine): Shared,
    pairs: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<AlertList>, ApiError> {
    let Query(pairs) = pairs.map_err(|rejection| {
        ApiError::bad_request(
            "invalid-query",
            format!("the query string cannot be read: {}", rejection.body_text()),
        )
    })?;
    let filter = query::alert_filter(&pairs)?;
    let alerts = engine.alerts(&filter).await?;
    Ok(Json(AlertList {
        alerts: alerts.into_iter().map(AlertInfo::from).collect(),
    }))
}

pub(crate) async fn declare_alert(
    State(engine): Shared,
    Caller(caller): Caller,
    path: Result<Path<(String, String)>, PathRejection>,
    ApiJson(request): ApiJson<AlertDeclaration>,
) -> Result<Response, ApiError> {
    let (integration, key) = path_text(path, "alert's integration and key")?;
    let outcome = engine
        .declare_from_alert(&caller, &integration, &key, &request.into())
        .await?;
    let location = format!("/api/incidents/{}", outcome.incident.id);
    let mut response = (StatusCode::CREATED, Json(CommandOutcome::from(outcome))).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

pub(crate) async fn attach_alert(
    State(engine): Shared,
    Caller(caller): Caller,
    path: Result<Path<(String, String)>, PathRejection>,
    ApiJson(request): ApiJson<AlertAttachment>,
) -> Result<Json<CommandOutcome>, ApiError> {
    let (integration, key) = path_text(path, "alert's integration and key")?;
    let outcome = engine
        .attach_alert(&caller, &integration, &key, &request.incident)
        .await?;
    Ok(Json(outcome.into()))
}

/// A request path fit for logs and error messages: the signed token of an acknowledge link is a
/// credential (whoever holds it can acknowledge) and is left out.
pub(crate) fn shown_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/ack/") {
        Some(token) if !token.is_empty() => "/ack/{token}".into(),
        _ => path.into(),
    }
}

pub(crate) async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no-such-route",
        format!(
            "nothing answers {method} {}; the routes are listed in /api/openapi.json",
            shown_path(uri.path())
        ),
    )
}

pub(crate) async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!(
            "{} does not take {method}; the methods it takes are listed in /api/openapi.json",
            shown_path(uri.path())
        ),
    )
}

/// Runs each request to completion in a task of its own, even when the client goes away.
///
/// A client that disconnects makes hyper drop the request's future; dropped mid-transaction, the
/// work is cut at an arbitrary await. Besides leaving a half-done request, sqlx 0.9 on PostgreSQL
/// returns a connection to its pool still inside a transaction when the drop lands while `BEGIN`
/// is in flight (transact-rs/sqlx#4393), and later borrowers then run inside it, holding its
/// locks. In its own task a request finishes whatever happens to the connection it came on.
pub(crate) async fn run_to_completion(request: Request, next: Next) -> Response {
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(%error, "a request's task failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Logs each request's method, path, status and duration at debug level. Headers and query
/// strings, where keys and tokens travel, are never logged, nor the token of an acknowledge link.
pub(crate) async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = shown_path(request.uri().path()).into_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::debug!(
        %method,
        %path,
        status = response.status().as_u16(),
        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}
