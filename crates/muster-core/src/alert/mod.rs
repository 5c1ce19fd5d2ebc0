//! Alerts from monitoring: the payload formats Muster accepts (Alertmanager webhook v4,
//! PagerDuty Events API v2, a generic JSON webhook read through a mapping), all turned into one
//! normalised [`Alert`], and the routing rules that decide what an alert becomes.
//!
//! Everything here is pure: bodies come in as bytes, times as arguments.
//!
//! - [`alertmanager::parse`], [`pagerduty::parse`] and [`webhook::parse`] read one request body
//!   each and report every problem in it at once, or return the alerts it holds.
//! - [`route()`] finds the rule an alert falls under and the group it belongs to;
//!   [`heartbeat()`] recognises an integration's watchdog alert.

pub mod alertmanager;
pub mod pagerduty;
pub mod route;
pub mod webhook;

pub use route::{Routing, heartbeat, route};

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::incident::Millis;

/// What the source says happened to the alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    /// Firing (Alertmanager `firing`, PagerDuty `trigger`).
    Trigger,
    /// Seen by someone at the source (PagerDuty `acknowledge`).
    Acknowledge,
    /// The source says the problem is gone (Alertmanager `resolved`, PagerDuty `resolve`).
    Resolve,
}

impl AlertAction {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::Trigger => "trigger",
            AlertAction::Acknowledge => "acknowledge",
            AlertAction::Resolve => "resolve",
        }
    }
}

/// A link a source attached for responders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AlertLink {
    pub href: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// One alert notification, whatever format it came in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Alert {
    /// The integration (plan id) it came through.
    pub integration: String,
    /// The alert's identity at its source: Alertmanager's fingerprint, PagerDuty's `dedup_key`,
    /// the mapped key of a webhook. Notifications with the same key are the same alert.
    pub key: String,
    pub action: AlertAction,
    /// One line for humans.
    pub summary: String,
    /// The source's own severity word (`critical`, `warning`, `info`, …), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// What routes match on. Always holds `integration` (a PagerDuty event gets it from
    /// [`Alert::set_integration`], once its routing key names the integration); Alertmanager
    /// labels as sent; for PagerDuty `source`, `severity`, `component`, `group`, `class` when
    /// given; for a webhook, the labels of its mapping.
    pub labels: BTreeMap<String, String>,
    /// Everything else the source said (Alertmanager annotations, PagerDuty `custom_details`).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
    /// When the problem began, by the source's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<Millis>,
    /// When the source says it ended (resolved alerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<AlertLink>,
    /// Identity of this exact notification, when the format has one: a second notification with
    /// the same value is a resend and is dropped (Alertmanager: fingerprint, status, startsAt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup: Option<String>,
}

impl Alert {
    /// Records the integration the alert came through, in [`Alert::integration`] and in the
    /// `integration` label (replacing any label of that name the source sent).
    pub fn set_integration(&mut self, integration: &str) {
        integration.clone_into(&mut self.integration);
        self.labels
            .insert("integration".to_owned(), integration.to_owned());
    }
}

/// Whether `name` can be a label name: letters, digits, `_`, `.` and `-`, not starting with a
/// digit. These are the names matchers accept.
#[must_use]
pub fn is_label_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

/// A JSON value's type as a sentence names it: "a string", "an object", "null".
pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Text from a payload, in single quotes for a message; long values are cut at 80 characters.
pub(crate) fn quoted(text: &str) -> String {
    const LIMIT: usize = 80;
    match text.char_indices().nth(LIMIT) {
        Some((at, _)) => format!("'{}…'", &text[..at]),
        None => format!("'{text}'"),
    }
}

/// A time written as RFC 3339 / ISO 8601 with an offset (`2026-03-01T09:30:00.123Z`,
/// `2015-07-17T08:42:58.315+0000`), as milliseconds since the epoch.
pub(crate) fn parse_time(text: &str) -> Option<Millis> {
    text.trim()
        .parse::<jiff::Timestamp>()
        .ok()
        .map(jiff::Timestamp::as_millisecond)
}
