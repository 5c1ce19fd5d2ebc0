//! The team's numbers and Muster's own health: `GET /api/metrics/report` (the report over a
//! period, as JSON) and `GET /metrics` (Prometheus text exposition format 0.0.4).
//!
//! Both need a viewer token, sent as `Authorization: Bearer` (Prometheus: the scrape config's
//! `authorization: {credentials: …}`). `/metrics` reads what is open now, the report of the last
//! 30 days (drills left out) and this instance's counters; it is cheap enough to scrape every
//! few seconds: the open counts are indexed counts, the report reads the narrow time rows.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use muster_core::incident::Millis;
use muster_core::metrics::{self, Compliance, Report, TimeFigure};
use muster_core::plan::Plan;
use muster_engine::Engine;
use muster_engine::stats::INTEGRATION_KINDS;
use muster_store::{ActionItemQuery, IncidentFilter, Store};
use schemars::{Schema, SchemaGenerator};

use crate::error::ApiError;
use crate::routes::{In, Param};

/// The days a report covers when none are given, and `/metrics` always.
pub(crate) const DEFAULT_DAYS: i64 = 30;

/// The Prometheus text format's content type.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

fn day_schema(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({"type": "string", "format": "date", "examples": ["2026-01-31"]})
}

fn drills_schema(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({"type": "boolean", "default": false})
}

/// The parameters of `GET /api/metrics/report`.
pub(crate) const REPORT_PARAMETERS: &[Param] = &[
    Param {
        name: "from",
        location: In::Query,
        description: "The first day counted, YYYY-MM-DD in the plan's time zone (default: 30 days ago, today included).",
        schema: day_schema,
        comma_list: false,
    },
    Param {
        name: "until",
        location: In::Query,
        description: "The day after the last day counted, YYYY-MM-DD in the plan's time zone (default: tomorrow); later than `from`.",
        schema: day_schema,
        comma_list: false,
    },
    Param {
        name: "drills",
        location: In::Query,
        description: "`true` to count drills and their action items too (default `false`).",
        schema: drills_schema,
        comma_list: false,
    },
];

fn invalid(parameter: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(
        "invalid-query",
        format!("query parameter '{parameter}': {message}"),
    )
}

/// What the report's query asks for: the period in ms and whether drills count.
fn period(
    pairs: &[(String, String)],
    plan: &Plan,
    now: Millis,
) -> Result<(Millis, Millis, bool), ApiError> {
    let zone = plan.timezone();
    let (mut from, mut until) = metrics::last_days(zone, now, DEFAULT_DAYS);
    let mut given_until = false;
    let mut drills = false;
    for (index, (name, value)) in pairs.iter().enumerate() {
        if !REPORT_PARAMETERS.iter().any(|param| param.name == name) {
            let names: Vec<&str> = REPORT_PARAMETERS.iter().map(|param| param.name).collect();
            return Err(invalid(
                name,
                format!("unknown parameter; use {}", names.join(", ")),
            ));
        }
        if pairs[..index].iter().any(|(earlier, _)| earlier == name) {
            return Err(invalid(name, "given twice; give it once"));
        }
        match name.as_str() {
            "from" => {
                from = metrics::parse_day(value).map_err(|message| invalid(name, message))?;
            }
            "until" => {
                until = metrics::parse_day(value).map_err(|message| invalid(name, message))?;
                given_until = true;
            }
            _ => {
                drills = match value.trim() {
                    "true" => true,
                    "false" => false,
                    other => return Err(invalid(name, format!("'{other}' is not true or false"))),
                };
            }
        }
    }
    if from >= until {
        let which = if given_until { "until" } else { "from" };
        return Err(invalid(
            which,
            format!(
                "the period from {from} until {until} is empty; 'until' must be a later day than 'from'"
            ),
        ));
    }
    let (from, until) = metrics::days(zone, from, until).ok_or_else(|| {
        invalid(
            "from",
            format!("the days cannot be placed in the plan's time zone {zone}"),
        )
    })?;
    Ok((from, until, drills))
}

/// `GET /api/metrics/report`.
pub(crate) async fn report(
    State(engine): State<Arc<Engine>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Report>, ApiError> {
    let Query(pairs) = query.map_err(|rejection| {
        ApiError::bad_request(
            "invalid-query",
            format!("the query string cannot be read: {}", rejection.body_text()),
        )
    })?;
    let (from, until, drills) = period(&pairs, &engine.plan().plan, engine.now())?;
    Ok(Json(engine.report(from, until, drills).await?))
}

/// `GET /metrics`.
pub(crate) async fn prometheus(State(engine): State<Arc<Engine>>) -> Result<Response, ApiError> {
    let running = engine.plan();
    let plan = &running.plan;
    let now = engine.now();
    let (first, after) = metrics::last_days(plan.timezone(), now, DEFAULT_DAYS);
    let (from, until) = metrics::days(plan.timezone(), first, after)
        .unwrap_or((now - DEFAULT_DAYS * 86_400_000, now));
    let open_counts = futures_util::future::try_join_all(plan.severities.iter().map(|severity| {
        let filter = IncidentFilter {
            open: Some(true),
            severity: vec![severity.id.clone()],
            drill: Some(false),
            limit: 1,
            ..IncidentFilter::default()
        };
        let engine = &engine;
        async move { engine.list(&filter).await.map(|page| page.total) }
    }));
    let open_items = async {
        let query = ActionItemQuery {
            open: true,
            ..ActionItemQuery::default()
        };
        engine
            .store()
            .action_items(&query)
            .await
            .map_err(muster_engine::EngineError::Store)
    };
    let (open, items, report) =
        tokio::try_join!(open_counts, open_items, engine.report(from, until, false))?;
    let overdue = items.iter().filter(|item| item.due_at < now).count();
    let open: Vec<(&str, u64)> = plan
        .severities
        .iter()
        .map(|severity| severity.id.as_str())
        .zip(open)
        .collect();
    let text = exposition(&Scrape {
        open: &open,
        report: &report,
        open_items: items.len() as u64,
        overdue_items: overdue as u64,
        stats: engine.stats().snapshot(),
    });
    let mut response = text.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    Ok(response)
}

/// What one scrape reports.
pub(crate) struct Scrape<'a> {
    /// Open incidents (drills left out) per plan severity.
    pub open: &'a [(&'a str, u64)],
    /// The last 30 days, drills left out.
    pub report: &'a Report,
    /// Open action items, whatever their age, drills' left out.
    pub open_items: u64,
    pub overdue_items: u64,
    pub stats: muster_engine::stats::Snapshot,
}

/// Picks one duration of the three.
type Pick = fn(&metrics::Times) -> &TimeFigure;

/// The scrape as Prometheus text exposition format 0.0.4.
pub(crate) fn exposition(scrape: &Scrape<'_>) -> String {
    let mut out = Exposition::default();
    let report = scrape.report;
    let stats = &scrape.stats;

    out.family("muster_up", "gauge", "1 when Muster answers a scrape.");
    out.sample("muster_up", &[], 1.0);

    out.family(
        "muster_incidents_open",
        "gauge",
        "Incidents not yet resolved or closed, per severity; drills left out.",
    );
    for (severity, count) in scrape.open {
        out.sample(
            "muster_incidents_open",
            &[("severity", severity)],
            *count as f64,
        );
    }

    out.family(
        "muster_incidents_declared",
        "gauge",
        "Incidents declared in the last 30 days, per severity; drills left out.",
    );
    for severity in &report.severities {
        out.sample(
            "muster_incidents_declared",
            &[("severity", severity.severity.as_str())],
            severity.incidents as f64,
        );
    }

    let summaries: [(&str, &str, Pick); 3] = [
        (
            "muster_mttd_seconds",
            "Time from the start of impact to detection, incidents declared in the last 30 days, per severity; drills left out.",
            |times| &times.mttd,
        ),
        (
            "muster_mtta_seconds",
            "Time from detection to acknowledgement, acknowledged incidents declared in the last 30 days, per severity; drills left out.",
            |times| &times.mtta,
        ),
        (
            "muster_mttr_seconds",
            "Time from detection to resolution, resolved incidents declared in the last 30 days, per severity; drills left out.",
            |times| &times.mttr,
        ),
    ];
    for (name, help, figure) in summaries {
        out.family(name, "summary", help);
        for severity in &report.severities {
            let id = severity.severity.as_str();
            let times = figure(&severity.times);
            let quantiles = [("0.5", times.median_seconds), ("0.9", times.p90_seconds)];
            for (quantile, value) in quantiles {
                out.sample(
                    name,
                    &[("severity", id), ("quantile", quantile)],
                    value.unwrap_or(f64::NAN),
                );
            }
            out.sample(
                &format!("{name}_sum"),
                &[("severity", id)],
                times.sum_seconds,
            );
            out.sample(
                &format!("{name}_count"),
                &[("severity", id)],
                times.count as f64,
            );
        }
    }

    out.family(
        "muster_target_seconds",
        "gauge",
        "The plan's targets per severity: time to detect (mttd), acknowledge (mtta, the severity's ack_within) and resolve (mttr, its resolve_target).",
    );
    for severity in &report.severities {
        let id = severity.severity.as_str();
        let figures = [
            ("mttd", &severity.times.mttd),
            ("mtta", &severity.times.mtta),
            ("mttr", &severity.times.mttr),
        ];
        for (figure, times) in figures {
            if let Some(target) = times.target_seconds {
                out.sample(
                    "muster_target_seconds",
                    &[("severity", id), ("figure", figure)],
                    target,
                );
            }
        }
    }

    out.family(
        "muster_sla_compliance_ratio",
        "gauge",
        "Share of incidents declared in the last 30 days that kept a deadline, per severity: acknowledged within ack_within (ack), resolved within resolve_target (resolve), detected within the plan's MTTD target (detect). Incidents still within the deadline are not counted; drills left out.",
    );
    for severity in &report.severities {
        let id = severity.severity.as_str();
        let deadlines: [(&str, &Option<Compliance>); 3] = [
            ("ack", &severity.acknowledged_in_time),
            ("resolve", &severity.resolved_in_time),
            ("detect", &severity.detected_in_time),
        ];
        for (sla, compliance) in deadlines {
            if let Some(percent) = compliance.as_ref().and_then(|c| c.percent) {
                out.sample(
                    "muster_sla_compliance_ratio",
                    &[("severity", id), ("sla", sla)],
                    percent / 100.0,
                );
            }
        }
    }

    out.family(
        "muster_repeat_rate_ratio",
        "gauge",
        "Share of the root-cause-tagged incidents of the last 30 days whose tag was on an earlier one of them.",
    );
    if let Some(rate) = report.repeats.rate_percent {
        out.sample("muster_repeat_rate_ratio", &[], rate / 100.0);
    }

    out.family(
        "muster_action_items",
        "gauge",
        "Action items open now (open or in progress) and, of them, overdue; whatever their age, drills' left out.",
    );
    out.sample(
        "muster_action_items",
        &[("state", "open")],
        scrape.open_items as f64,
    );
    out.sample(
        "muster_action_items",
        &[("state", "overdue")],
        scrape.overdue_items as f64,
    );

    let items = &report.action_items;
    out.family(
        "muster_action_items_created",
        "gauge",
        "Action items created in the last 30 days, by where they stand now; drills' left out.",
    );
    for (state, count) in [
        ("open", items.open),
        ("done", items.done),
        ("dropped", items.dropped),
    ] {
        out.sample(
            "muster_action_items_created",
            &[("state", state)],
            count as f64,
        );
    }
    out.family(
        "muster_action_item_completion_ratio",
        "gauge",
        "Of the action items created in the last 30 days and not dropped, the share done.",
    );
    if let Some(percent) = items.completion_percent {
        out.sample("muster_action_item_completion_ratio", &[], percent / 100.0);
    }

    out.family(
        "muster_alerts_received_total",
        "counter",
        "Alerts this instance stored since it started, per integration type.",
    );
    for (kind, count) in INTEGRATION_KINDS.iter().zip(stats.alerts_received) {
        out.sample(
            "muster_alerts_received_total",
            &[("type", kind.as_str())],
            count as f64,
        );
    }
    out.family(
        "muster_alerts_rejected_total",
        "counter",
        "Alerts with a valid key this instance refused since it started: over the rate limit, or not storable.",
    );
    out.sample(
        "muster_alerts_rejected_total",
        &[],
        stats.alerts_rejected as f64,
    );

    out.family(
        "muster_notifications_total",
        "counter",
        "Notification attempts of this instance since it started, by outcome (folded: sent inside another message to the same destination).",
    );
    for (outcome, count) in [
        ("sent", stats.sent),
        ("failed", stats.failed),
        ("retrying", stats.retrying),
        ("folded", stats.folded),
    ] {
        out.sample(
            "muster_notifications_total",
            &[("outcome", outcome)],
            count as f64,
        );
    }

    out.family(
        "muster_timers_fired_total",
        "counter",
        "Due timers (escalations, deadlines, reminders, heartbeats) this instance took up to fire since it started.",
    );
    out.sample("muster_timers_fired_total", &[], stats.timers_fired as f64);
    out.family(
        "muster_timer_lag_seconds",
        "gauge",
        "How late timers fired after they were due: the last one, and the latest since this instance started.",
    );
    for (which, lag) in [
        ("last", stats.last_timer_lag_ms),
        ("max", stats.max_timer_lag_ms),
    ] {
        out.sample(
            "muster_timer_lag_seconds",
            &[("which", which)],
            lag as f64 / 1000.0,
        );
    }

    out.family(
        "muster_declarations_total",
        "counter",
        "Incidents this instance declared since it started (through the API, the web UI or from alerts).",
    );
    out.sample(
        "muster_declarations_total",
        &[],
        stats.incidents_declared as f64,
    );
    out.text
}

/// Text exposition, written as it goes.
#[derive(Debug, Default)]
struct Exposition {
    text: String,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (index, (label, value)) in labels.iter().enumerate() {
                if index > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{label}=\"{}\"", escape_label(value));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {}", number(value));
    }
}

/// A sample value as the format writes it: `NaN`, `+Inf`, `-Inf`, or a decimal number.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        value.to_string()
    }
}

/// A label value: backslash, double quote and line feed escaped.
pub(crate) fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A help text: backslash and line feed escaped.
fn escape_help(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_and_numbers_are_written_as_the_format_says() {
        assert_eq!(escape_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        assert_eq!(escape_help("one\\two\nthree"), "one\\\\two\\nthree");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(12.0), "12");
        assert_eq!(number(0.25), "0.25");
        let mut out = Exposition::default();
        out.family("x_total", "counter", "Things.");
        out.sample("x_total", &[("severity", "P\"0"), ("sla", "ack")], 3.0);
        out.sample("x_total", &[], 1.5);
        assert_eq!(
            out.text,
            "# HELP x_total Things.\n# TYPE x_total counter\nx_total{severity=\"P\\\"0\",sla=\"ack\"} 3\nx_total 1.5\n"
        );
    }
}
