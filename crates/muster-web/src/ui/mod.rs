//! The web UI: server-rendered pages for responders (sign-in, incidents, plan, on-call,
//! dashboards) and the public status page.
//!
//! Invariants:
//! - Every page but `/login`, `/status` (with its feed and summary) and the static assets needs a
//!   signed-in session; without one the browser is sent to `/login` and learns nothing else.
//! - Every form that changes something carries the session's anti-forgery token and is refused
//!   (403, nothing changed) without it or from another origin; the role checks are the API's own,
//!   made by the engine.
//! - Templates are compiled in (askama) and escape everything they are given; the only markup
//!   inserted unescaped is what this crate renders itself (the plan document, SVG charts,
//!   timeline items rendered by their own escaping template, post-mortem Markdown).
//! - The status page reads only `update_published` events and public `postmortem_published`
//!   ones: nothing internal can reach it.
//! - Markdown a responder wrote (the post-mortem) is rendered by this crate with raw HTML shown
//!   as text and only harmless link schemes.

// A page handler's early exit is the page to show (an axum `Response`), built once and returned
// straight away; boxing it would only add an allocation to every refusal.
#![allow(clippy::result_large_err)]

mod assets;
mod charts;
mod dashboard;
mod followup;
mod incidents;
mod plan;
mod session;
mod status;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use muster_core::access::Role;
use muster_core::incident::Millis;
use muster_engine::{Engine, EngineError};

pub(crate) use incidents::Closing;
pub(crate) use session::{ActionForm, Session};

/// The UI's routes, merged into the API router.
pub(crate) fn router() -> Router<Arc<Engine>> {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/login", get(session::login_form).post(session::login))
        .route("/logout", post(session::logout))
        .route("/incidents", get(incidents::list).post(incidents::declare))
        .route("/incidents/new", get(incidents::declare_form))
        .route("/incidents/{id}", get(incidents::page))
        .route("/incidents/{id}/live", get(incidents::live))
        .route("/incidents/{id}/postmortem", get(followup::postmortem))
        .route("/incidents/{id}/{action}", post(incidents::act))
        .route("/action-items", get(followup::action_items))
        .route("/plan", get(plan::document))
        .route("/plan/scenarios", get(plan::scenarios))
        .route("/oncall", get(plan::oncall))
        .route("/status", get(status::page))
        .route("/status/feed.atom", get(status::feed))
        .route("/status/summary.json", get(status::summary))
        .route("/status/incidents/{id}/postmortem", get(status::postmortem))
        .route("/assets/muster.css", get(assets::css))
        .route("/assets/muster.js", get(assets::js))
}

/// What the frame around every signed-in page shows: who is signed in, the sign-out form's
/// token, and which section is current.
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    pub organization: String,
    pub user: String,
    pub role: Role,
    pub form_token: String,
    /// `dashboard`, `incidents`, `action-items`, `plan`, `oncall` or `status`.
    pub section: &'static str,
}

impl Chrome {
    pub(crate) fn new(engine: &Engine, session: &Session, section: &'static str) -> Self {
        Self {
            organization: engine.plan().plan.organization.name.clone(),
            user: session.principal.actor(),
            role: session.principal.role,
            form_token: session.form_token.clone(),
            section,
        }
    }

    /// Whether the signed-in user may work incidents (declare, acknowledge, …).
    pub(crate) fn can_act(&self) -> bool {
        self.role.allows(Role::Responder)
    }

    pub(crate) fn nav_class(&self, section: &str) -> &'static str {
        if self.section == section {
            "current"
        } else {
            ""
        }
    }
}

/// Renders a page template, or a plain 500 page when the template fails (which the tests rule
/// out for every page they render).
pub(crate) fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page failed to render");
            plain_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The page could not be drawn; the server log says why.",
            )
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Option<&'a Chrome>,
    title: &'a str,
    message: &'a str,
}

/// A page saying what went wrong and what to do, inside the frame when there is a session.
pub(crate) fn error_page(
    status: StatusCode,
    chrome: Option<&Chrome>,
    title: &str,
    message: &str,
) -> Response {
    let mut response = render(&ErrorPage {
        chrome,
        title,
        message,
    });
    *response.status_mut() = status;
    response
}

fn plain_error(status: StatusCode, title: &str, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{title}\n\n{message}\n"),
    )
        .into_response()
}

/// The page for an engine refusal: the rule's own message, with the status the API would use.
pub(crate) fn refused(chrome: Option<&Chrome>, error: &EngineError) -> Response {
    let (status, title) = match error {
        EngineError::Forbidden(_) => (StatusCode::FORBIDDEN, "Not allowed"),
        EngineError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
        EngineError::Rejected(_) => (StatusCode::CONFLICT, "Refused"),
        EngineError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "Busy"),
        EngineError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Storage failed"),
    };
    let message = match error {
        EngineError::Store(store) => {
            tracing::error!(error = %store, "storage failed behind a page");
            "The database did not answer as expected; the server log says why.".to_owned()
        }
        other => other.to_string(),
    };
    error_page(status, chrome, title, &message)
}

/// Escapes text for HTML or SVG (XML) content and attribute values, for the markup this crate
/// writes itself (charts, the acknowledge page); templates escape on their own.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&#34;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// After a form: back to a page (303, so a reload does not post again).
pub(crate) fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// Times as pages show them: in the plan's time zone.
#[derive(Debug, Clone)]
pub(crate) struct Times {
    zone: jiff::tz::TimeZone,
}

impl Times {
    pub(crate) fn of(engine: &Engine) -> Self {
        let zone = jiff::tz::TimeZone::get(engine.plan().plan.timezone())
            .unwrap_or(jiff::tz::TimeZone::UTC);
        Self { zone }
    }

    fn zoned(&self, at: Millis) -> jiff::Zoned {
        instant(at).to_zoned(self.zone.clone())
    }

    /// `2026-11-21 14:03 CET`.
    pub(crate) fn show(&self, at: Millis) -> String {
        self.zoned(at).strftime("%Y-%m-%d %H:%M %Z").to_string()
    }

    /// `14:03:27`, for timelines.
    pub(crate) fn clock(&self, at: Millis) -> String {
        self.zoned(at).strftime("%H:%M:%S").to_string()
    }

    /// RFC 3339 in UTC, for `<time datetime>` and feeds.
    pub(crate) fn iso(at: Millis) -> String {
        instant(at).to_string()
    }

    pub(crate) fn zone(&self) -> &jiff::tz::TimeZone {
        &self.zone
    }
}

/// A stored time as an instant (out-of-range values, which the store never holds, as the epoch).
pub(crate) fn instant(at: Millis) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(at).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// The day `at` falls on in `zone`.
pub(crate) fn day_of(zone: &jiff::tz::TimeZone, at: Millis) -> jiff::civil::Date {
    instant(at).to_zoned(zone.clone()).date()
}

/// The first instant of `date` in `zone` (1 a.m. on a day whose midnight a clock change skips).
pub(crate) fn midnight(zone: &jiff::tz::TimeZone, date: jiff::civil::Date) -> Millis {
    date.to_zoned(zone.clone())
        .map_or(0, |start| start.timestamp().as_millisecond())
}

/// CSS class of a severity: its rank in the plan, the least critical ones sharing the last.
pub(crate) fn severity_class(
    plan: &muster_core::plan::Plan,
    severity: &muster_core::plan::SeverityId,
) -> String {
    let rank = plan
        .severities
        .iter()
        .position(|each| each.id == *severity)
        .unwrap_or(4)
        .min(4);
    format!("sev-{rank}")
}

/// A person's name from the plan, or the id itself for someone the plan no longer has.
pub(crate) fn person_name(plan: &muster_core::plan::Plan, id: &str) -> String {
    plan.person(id)
        .map_or_else(|| id.to_owned(), |person| person.name.clone())
}

/// `1h 05m`, `12m`, `40s`: a length of time as a responder reads it.
pub(crate) fn duration(ms: Millis) -> String {
    let seconds = (ms / 1000).max(0);
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes:02}m")
    } else if minutes > 0 {
        format!("{minutes}m")
    } else {
        format!("{seconds}s")
    }
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_read_like_a_responder_would_say_them() {
        assert_eq!(duration(40_000), "40s");
        assert_eq!(duration(12 * 60_000), "12m");
        assert_eq!(duration(65 * 60_000), "1h 05m");
        assert_eq!(duration(50 * 3_600_000), "2d 2h");
        assert_eq!(duration(-5), "0s");
    }
}
