//! One-click acknowledgement from a notification. `GET /ack/{token}` shows what the link would
//! acknowledge and a button; only the `POST` acts, because chat apps fetch links to preview them.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use muster_engine::{Engine, EngineError};

use crate::ui::escape;

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Muster</title></head><body style=\"font-family:system-ui,sans-serif;\
         max-width:36rem;margin:2rem auto;padding:0 1rem\"><h1>{title}</h1>{body}</body></html>",
        title = escape(title)
    );
    (status, Html(html)).into_response()
}

fn refused(error: &EngineError) -> Response {
    let status = match error {
        EngineError::Forbidden(_) => StatusCode::FORBIDDEN,
        EngineError::NotFound(_) => StatusCode::NOT_FOUND,
        EngineError::Rejected(_) => StatusCode::CONFLICT,
        EngineError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
        EngineError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    page(
        status,
        "Not acknowledged",
        &format!("<p>{}</p>", escape(&error.to_string())),
    )
}

/// `GET /ack/{token}`: the confirmation page.
pub(crate) async fn confirm(
    State(engine): State<Arc<Engine>>,
    Path(token): Path<String>,
) -> Response {
    let link = match engine.check_ack_link(&token).await {
        Ok(link) => link,
        Err(error) => return refused(&error),
    };
    let view = match engine.incident(&link.incident).await {
        Ok(view) => view,
        Err(error) => return refused(&error),
    };
    if let Some(at) = view.incident.acknowledged_at {
        let at = jiff::Timestamp::from_millisecond(at)
            .map(|at| format!(" at {}", at.strftime("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default();
        return page(
            StatusCode::OK,
            "Already acknowledged",
            &format!(
                "<p>{incident} was already acknowledged{at}; escalation has stopped. Nothing \
                 to do here.</p>",
                incident = escape(&link.incident.to_string()),
            ),
        );
    }
    let body = format!(
        "<p>Acknowledge <strong>{incident}</strong> as <strong>{person}</strong>? Escalation \
         stops once someone acknowledges.</p><form method=\"post\"><button type=\"submit\" \
         style=\"font-size:1.25rem;padding:.75rem 1.5rem\">Acknowledge</button></form>",
        incident = escape(&link.incident.to_string()),
        person = escape(link.person.as_str())
    );
    page(StatusCode::OK, "Acknowledge incident", &body)
}

/// `POST /ack/{token}`: acknowledges.
pub(crate) async fn acknowledge(
    State(engine): State<Arc<Engine>>,
    Path(token): Path<String>,
) -> Response {
    match engine.acknowledge_by_link(&token).await {
        Ok(outcome) => page(
            StatusCode::OK,
            "Acknowledged",
            &format!(
                "<p>{} is acknowledged; escalation has stopped.</p>",
                escape(&outcome.incident.id.to_string())
            ),
        ),
        Err(error) => refused(&error),
    }
}
