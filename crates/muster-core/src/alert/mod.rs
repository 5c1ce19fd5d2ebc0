//! Alerts from monitoring: the payload formats Muster accepts (Alertmanager webhook v4,
//! PagerDuty Events API v2, a generic JSON webhook read through a mapping), all turned into one
//! normalised [`Alert`], and the routing rules that decide what an alert becomes.
//!
//! Everything here is pure: bodies come in as bytes, times as arguments.

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
    /// What routes match on. Always holds `integration`; Alertmanager labels as sent; for
    /// PagerDuty `source`, `severity`, `component`, `group`, `class` when given.
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
