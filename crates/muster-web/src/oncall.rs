//! On-call: who every schedule puts on call now and who takes over next, and each schedule as an
//! iCalendar feed.
//!
//! The calendar route authenticates in its handler instead of through the route table's guard.
//! Calendar apps subscribe to a URL and cannot send an `Authorization` header, so the feed also
//! takes a viewer token as `?token=`; the guard reads the header only. The handler keeps the
//! guard's order: the token is checked before anything else about the request is looked at.
//! Request logs carry the path without its query, so the token is not logged.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use muster_core::access::Role;
use muster_core::plan::oncall::{self, ScheduleNow, Shift, ShiftSource};
use muster_core::plan::structure::did_you_mean;
use muster_core::plan::{PersonId, ScheduleId, ical};
use muster_engine::Engine;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;

use crate::error::ApiError;
use crate::routes::{In, Param, schema};

/// How far back the calendar feed reaches, in days.
pub(crate) const CALENDAR_PAST_DAYS: i64 = 7;
/// How far ahead the calendar feed reaches, in days.
pub(crate) const CALENDAR_AHEAD_DAYS: i64 = 90;

/// `?at=` of `GET /api/oncall`.
pub(crate) const AT: Param = Param {
    name: "at",
    location: In::Query,
    description: "Ask as of this RFC 3339 time instead of now, e.g. 2026-11-21T00:00:00Z.",
    schema: timestamp_schema,
    comma_list: false,
};

/// `{id}` of the calendar feed.
pub(crate) const SCHEDULE_ID: Param = Param {
    name: "id",
    location: In::Path,
    description: "The schedule's id in the plan, e.g. security-oncall.",
    schema: schema::<ScheduleId>,
    comma_list: false,
};

/// `?token=` of the calendar feed.
pub(crate) const TOKEN: Param = Param {
    name: "token",
    location: In::Query,
    description: "A viewer token (or above), for calendar apps that cannot send an Authorization header; `Authorization: Bearer <token>` works too.",
    schema: schema::<String>,
    comma_list: false,
};

fn timestamp_schema(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({"type": "string", "format": "date-time", "examples": ["2026-11-21T00:00:00Z"]})
}

/// `GET /api/oncall`: every schedule at a moment.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct OnCall {
    /// The moment asked about, RFC 3339.
    #[schemars(with = "String")]
    pub at: Timestamp,
    /// Every schedule of the plan, in plan order.
    pub schedules: Vec<ScheduleNowBody>,
}

/// One schedule at a moment: `muster_core`'s `ScheduleNow`, field for field, so the API and
/// `muster oncall now --json` print the same JSON (a test keeps the two equal).
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "ScheduleNow")]
pub(crate) struct ScheduleNowBody {
    pub schedule: ScheduleId,
    /// The schedule's name, or its id when it has none.
    pub name: String,
    /// The IANA zone the schedule's hand-off times are written in.
    pub timezone: String,
    /// The whole shift on call at the moment; `null` when nobody is on call.
    pub now: Option<ShiftBody>,
    /// The next hand-off: the first shift after the moment whose person was not already on call
    /// just before it; `null` when nobody takes over within a year.
    pub next: Option<ShiftBody>,
    /// Why the schedule could not be evaluated; `now` and `next` are then `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A stretch of time one person is on call for one reason, `[start, end)`.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "Shift")]
pub(crate) struct ShiftBody {
    pub person: PersonId,
    /// RFC 3339, UTC.
    #[schemars(with = "String")]
    pub start: Timestamp,
    /// RFC 3339, UTC.
    #[schemars(with = "String")]
    pub end: Timestamp,
    pub source: ShiftSourceBody,
}

/// What put the person on call: a rotation (`index` is its position from zero in the schedule's
/// `rotations`) or an override.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "kind", content = "index", rename_all = "kebab-case")]
#[schemars(rename = "ShiftSource")]
pub(crate) enum ShiftSourceBody {
    Rotation(usize),
    Override,
}

impl From<ScheduleNow> for ScheduleNowBody {
    fn from(entry: ScheduleNow) -> Self {
        let ScheduleNow {
            schedule,
            name,
            timezone,
            now,
            next,
            error,
        } = entry;
        Self {
            schedule,
            name,
            timezone,
            now: now.map(ShiftBody::from),
            next: next.map(ShiftBody::from),
            error,
        }
    }
}

impl From<Shift> for ShiftBody {
    fn from(shift: Shift) -> Self {
        let Shift {
            person,
            start,
            end,
            source,
        } = shift;
        Self {
            person,
            start,
            end,
            source: match source {
                ShiftSource::Rotation(index) => ShiftSourceBody::Rotation(index),
                ShiftSource::Override => ShiftSourceBody::Override,
            },
        }
    }
}

/// Reads the query's pairs, refusing any parameter not in `known` and any given twice.
fn pairs(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    known: &[&str],
) -> Result<Vec<(String, String)>, ApiError> {
    let Query(pairs) = query.map_err(|rejection| {
        ApiError::bad_request(
            "invalid-query",
            format!("the query string cannot be read: {}", rejection.body_text()),
        )
    })?;
    for (index, (name, _)) in pairs.iter().enumerate() {
        if !known.contains(&name.as_str()) {
            return Err(ApiError::bad_request(
                "invalid-query",
                format!(
                    "query parameter '{name}': unknown parameter; use {}",
                    known.join(", ")
                ),
            ));
        }
        if pairs[..index].iter().any(|(earlier, _)| earlier == name) {
            return Err(ApiError::bad_request(
                "invalid-query",
                format!("query parameter '{name}': given twice; give it once"),
            ));
        }
    }
    Ok(pairs)
}

fn engine_now(engine: &Engine) -> Timestamp {
    Timestamp::from_millisecond(engine.now()).unwrap_or_else(|_| Timestamp::now())
}

/// `GET /api/oncall`.
pub(crate) async fn now(
    State(engine): State<Arc<Engine>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<OnCall>, ApiError> {
    let pairs = pairs(query, &["at"])?;
    let at = match pairs.first() {
        Some((_, value)) => value.trim().parse::<Timestamp>().map_err(|_| {
            ApiError::bad_request(
                "invalid-query",
                format!(
                    "query parameter 'at': '{value}' is not an RFC 3339 time; write e.g. 2026-11-21T00:00:00Z"
                ),
            )
        })?,
        None => engine_now(&engine),
    };
    let running = engine.plan();
    Ok(Json(OnCall {
        at,
        schedules: oncall::summary(&running.plan, at)
            .into_iter()
            .map(ScheduleNowBody::from)
            .collect(),
    }))
}

/// The token of a calendar request: the `Authorization: Bearer` header if sent, else `?token=`.
fn calendar_token(
    headers: &HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<String, ApiError> {
    let missing = |why: &str| {
        ApiError::unauthorized(
            "missing-token",
            format!(
                "{why}; add ?token=<viewer token> to the calendar's URL, or send the header Authorization: Bearer <token>"
            ),
        )
    };
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| missing("the Authorization header is not readable text"))?;
        return match value.trim().split_once(' ') {
            Some((scheme, secret))
                if scheme.eq_ignore_ascii_case("bearer") && !secret.trim().is_empty() =>
            {
                Ok(secret.trim().to_owned())
            }
            _ => Err(missing("the Authorization header is not a bearer token")),
        };
    }
    let pairs = pairs(query, &["token"])?;
    pairs
        .into_iter()
        .next()
        .map(|(_, secret)| secret.trim().to_owned())
        .filter(|secret| !secret.is_empty())
        .ok_or_else(|| missing("this needs a token"))
}

/// `GET /api/schedules/{id}/oncall.ics`.
pub(crate) async fn calendar(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let secret = calendar_token(&headers, query)?;
    let principal = engine.authenticate(&secret).await?;
    if !principal.role.allows(Role::Viewer) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "token '{}' has role {}; this needs {} or above",
                principal.name,
                principal.role,
                Role::Viewer
            ),
        ));
    }
    let Path(id) = path.map_err(|rejection| {
        ApiError::bad_request(
            "invalid-path",
            format!("the schedule id cannot be read: {}", rejection.body_text()),
        )
    })?;
    let running = engine.plan();
    let plan = &running.plan;
    let Some(schedule) = plan.schedule(&id) else {
        let ids = plan.schedules.iter().map(|schedule| schedule.id.as_str());
        let guess = did_you_mean(&id, ids)
            .map(|guess| format!("did you mean '{guess}'? "))
            .unwrap_or_default();
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown-schedule",
            format!(
                "the plan has no schedule '{id}'; {guess}the schedules are listed by GET /api/oncall"
            ),
        ));
    };
    let now = engine_now(&engine);
    let window = |days: i64| now.checked_add(SignedDuration::from_hours(24 * days));
    let (Ok(from), Ok(to)) = (window(-CALENDAR_PAST_DAYS), window(CALENDAR_AHEAD_DAYS)) else {
        return Err(unevaluable(
            "the calendar's window lies outside the supported range of times",
        ));
    };
    let text = ical::calendar(plan, schedule, from, to, now).map_err(|why| unevaluable(&why))?;
    let mut response = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            ),
            // The feed names people and their contacts and its URL may carry a token.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        text,
    )
        .into_response();
    if let Ok(disposition) =
        HeaderValue::from_str(&format!("inline; filename=\"{}.ics\"", schedule.id))
        && schedule
            .id
            .as_str()
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "-_.".contains(character))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

/// A schedule of the running plan that cannot be evaluated; the plan was checked when loaded, so
/// this is a fault worth a log line.
fn unevaluable(why: &str) -> ApiError {
    tracing::error!(%why, "a schedule of the running plan cannot be evaluated");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "unevaluable-schedule",
        format!("the schedule cannot be evaluated: {why}"),
    )
}

#[cfg(test)]
mod tests {
    use muster_core::plan::oncall::{ScheduleNow, Shift, ShiftSource};

    use super::ScheduleNowBody;

    fn shift(person: &str, start: &str, end: &str, source: ShiftSource) -> Shift {
        Shift {
            person: person.into(),
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
            source,
        }
    }

    #[test]
    fn the_body_serialises_exactly_as_the_core_summary() {
        let entries = [
            ScheduleNow {
                schedule: "primary".into(),
                name: "Primary".to_owned(),
                timezone: "Europe/Berlin".to_owned(),
                now: Some(shift(
                    "alice",
                    "2026-03-23T08:00:00Z",
                    "2026-03-30T07:00:00Z",
                    ShiftSource::Rotation(1),
                )),
                next: Some(shift(
                    "bob",
                    "2026-03-30T07:00:00Z",
                    "2026-03-31T07:00:00Z",
                    ShiftSource::Override,
                )),
                error: None,
            },
            ScheduleNow {
                schedule: "broken".into(),
                name: "broken".to_owned(),
                timezone: "Mars/Olympus".to_owned(),
                now: None,
                next: None,
                error: Some("unknown time zone".to_owned()),
            },
        ];
        for entry in entries {
            let core = serde_json::to_value(&entry).unwrap();
            let body = serde_json::to_value(ScheduleNowBody::from(entry)).unwrap();
            assert_eq!(core, body);
        }
    }
}
