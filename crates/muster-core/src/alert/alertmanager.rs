//! Prometheus Alertmanager's webhook notification (`webhook_config`), payload version "4".
//!
//! Alertmanager posts one notification per alert group:
//!
//! ```json
//! {
//!   "version": "4",
//!   "groupKey": "{}:{alertname=\"TreasuryOutflow\"}",
//!   "truncatedAlerts": 0,
//!   "status": "firing",
//!   "receiver": "muster",
//!   "groupLabels": { "alertname": "TreasuryOutflow" },
//!   "commonLabels": { "alertname": "TreasuryOutflow", "severity": "critical" },
//!   "commonAnnotations": {},
//!   "externalURL": "http://alertmanager:9093",
//!   "alerts": [{
//!     "status": "firing",
//!     "labels": { "alertname": "TreasuryOutflow", "chain": "mainnet", "severity": "critical" },
//!     "annotations": { "summary": "Treasury lost 4% of its balance in 5 minutes" },
//!     "startsAt": "2026-03-01T09:30:00.123Z",
//!     "endsAt": "0001-01-01T00:00:00Z",
//!     "generatorURL": "http://prometheus:9090/graph?g0.expr=...",
//!     "fingerprint": "a3c1f0b2d4e5f607"
//!   }]
//! }
//! ```
//!
//! Only `version`, `alerts` and, in each alert, `status`, `labels` and `startsAt` are required;
//! the group fields are checked for their types when present and otherwise not used, because
//! each alert carries its own labels. Unknown fields are ignored.
//!
//! Each alert becomes one [`Alert`]:
//!
//! - `key`: the `fingerprint`; when it is absent or empty (Alertmanager before 0.19 sent none),
//!   [`fingerprint`] of the labels, the same 64-bit FNV-1a hash of the sorted label names and
//!   values that Alertmanager itself sends, so both kinds of sender agree.
//! - `action`: `firing` → trigger, `resolved` → resolve.
//! - `summary`: the `summary` annotation, else `description`, else the `alertname` label, else
//!   the key.
//! - `severity`: the `severity` label, if any.
//! - `labels`: as sent, plus `integration` set to the integration id (replacing a label of that
//!   name).
//! - `details`: the annotations as a JSON object (null when there are none).
//! - `starts_at`: `startsAt`; `ends_at`: `endsAt` of a resolved alert. Go's zero time
//!   `0001-01-01T00:00:00Z` means "none"; the `endsAt` of a firing alert is only Prometheus'
//!   expiry estimate and is not kept.
//! - `links`: `generatorURL` ("Source") and the `runbook_url` annotation ("Runbook").
//! - `dedup`: fingerprint, status and `startsAt`. Alertmanager re-sends a group's notification
//!   every `repeat_interval`, and again whenever the group changes; the same alert in the
//!   same state is then recognised, while a fresh firing (a new `startsAt`) is not.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::alert::{Alert, AlertAction, AlertLink, json_kind, parse_time, quoted};
use crate::incident::Millis;

/// The payload version this module reads.
pub const VERSION: &str = "4";

/// Go's zero time, which Alertmanager writes for "no end": `0001-01-01T00:00:00Z`.
const ZERO_TIME: Millis = -62_135_596_800_000;

/// Reads an Alertmanager webhook body into its alerts, or every problem with it, each led by
/// its JSON path (`alerts[3].startsAt: '…' is not an RFC 3339 time`).
pub fn parse(body: &[u8], integration: &str) -> Result<Vec<Alert>, Vec<String>> {
    let root: Value = serde_json::from_slice(body)
        .map_err(|error| vec![format!("the body is not JSON: {error}")])?;
    let Value::Object(root) = root else {
        return Err(vec![format!(
            "the body must be a JSON object, found {}",
            json_kind(&root)
        )]);
    };
    let mut errors = Vec::new();
    match root.get("version") {
        Some(Value::String(version)) if version == VERSION => {}
        Some(Value::String(version)) => errors.push(format!(
            "version: {} is not supported; Muster reads version '{VERSION}'",
            quoted(version)
        )),
        Some(other) => errors.push(format!(
            "version: expected the string '{VERSION}', found {}",
            json_kind(other)
        )),
        None => errors.push(format!(
            "version: missing; Alertmanager webhook payloads carry version '{VERSION}'"
        )),
    }
    for field in ["receiver", "groupKey", "externalURL"] {
        if let Some(value) = root.get(field)
            && !value.is_string()
        {
            errors.push(format!(
                "{field}: expected a string, found {}",
                json_kind(value)
            ));
        }
    }
    if let Some(status) = root.get("status") {
        status_of(status, "status", &mut errors);
    }
    for field in ["groupLabels", "commonLabels", "commonAnnotations"] {
        if let Some(value) = root.get(field) {
            strings(value, field, &mut errors);
        }
    }
    if let Some(truncated) = root.get("truncatedAlerts")
        && truncated.as_u64().is_none()
    {
        errors.push(format!(
            "truncatedAlerts: expected a whole number, found {}",
            describe(truncated)
        ));
    }
    let mut alerts = Vec::new();
    match root.get("alerts") {
        Some(Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                if let Some(alert) = read_alert(item, index, integration, &mut errors) {
                    alerts.push(alert);
                }
            }
        }
        Some(other) => errors.push(format!(
            "alerts: expected an array, found {}",
            json_kind(other)
        )),
        None => errors.push("alerts: missing".to_owned()),
    }
    if errors.is_empty() {
        Ok(alerts)
    } else {
        Err(errors)
    }
}

/// The key Alertmanager gives an alert: 64-bit FNV-1a over the label names in byte order, each
/// name and value followed by the byte 0xff, written as 16 hex digits.
#[must_use]
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    const SEPARATOR: [u8; 1] = [0xff];
    let mut hash = OFFSET;
    for (name, value) in labels {
        for byte in name
            .bytes()
            .chain(SEPARATOR)
            .chain(value.bytes())
            .chain(SEPARATOR)
        {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    format!("{hash:016x}")
}

/// A number or other value for a message: the number itself, else its type.
fn describe(value: &Value) -> String {
    match value {
        Value::Number(number) => format!("'{number}'"),
        Value::String(text) => quoted(text),
        other => json_kind(other).to_owned(),
    }
}

/// `firing` or `resolved`.
fn status_of(value: &Value, at: &str, errors: &mut Vec<String>) -> Option<AlertAction> {
    match value {
        Value::String(status) if status == "firing" => Some(AlertAction::Trigger),
        Value::String(status) if status == "resolved" => Some(AlertAction::Resolve),
        Value::String(status) => {
            errors.push(format!(
                "{at}: {} is not firing or resolved",
                quoted(status)
            ));
            None
        }
        other => {
            errors.push(format!(
                "{at}: expected firing or resolved, found {}",
                json_kind(other)
            ));
            None
        }
    }
}

/// The path of a member: `labels.chain`, or `labels["odd name"]` for names that are not plain.
fn member(at: &str, name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        format!("{at}.{name}")
    } else {
        format!("{at}[{}]", Value::String(name.to_owned()))
    }
}

/// An object whose values are all strings (labels, annotations).
fn strings(value: &Value, at: &str, errors: &mut Vec<String>) -> BTreeMap<String, String> {
    let Value::Object(fields) = value else {
        errors.push(format!(
            "{at}: expected an object of strings, found {}",
            json_kind(value)
        ));
        return BTreeMap::new();
    };
    let mut map = BTreeMap::new();
    for (name, value) in fields {
        match value {
            Value::String(text) => {
                map.insert(name.clone(), text.clone());
            }
            other => errors.push(format!(
                "{}: expected a string, found {}",
                member(at, name),
                json_kind(other)
            )),
        }
    }
    map
}

/// A time field; `None` for Go's zero time.
fn time(value: &Value, at: &str, errors: &mut Vec<String>) -> Option<Millis> {
    let Value::String(text) = value else {
        errors.push(format!(
            "{at}: expected an RFC 3339 time, found {}",
            json_kind(value)
        ));
        return None;
    };
    match parse_time(text) {
        Some(ZERO_TIME) => None,
        Some(millis) => Some(millis),
        None => {
            errors.push(format!("{at}: {} is not an RFC 3339 time", quoted(text)));
            None
        }
    }
}

/// An optional string field; empty counts as absent.
fn optional_text<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
    at: &str,
    errors: &mut Vec<String>,
) -> Option<&'a str> {
    match fields.get(name)? {
        Value::String(text) => Some(text.as_str()).filter(|text| !text.trim().is_empty()),
        Value::Null => None,
        other => {
            errors.push(format!(
                "{at}.{name}: expected a string, found {}",
                json_kind(other)
            ));
            None
        }
    }
}

/// One element of `alerts`, or `None` after reporting its problems.
fn read_alert(
    item: &Value,
    index: usize,
    integration: &str,
    errors: &mut Vec<String>,
) -> Option<Alert> {
    let at = format!("alerts[{index}]");
    let Value::Object(fields) = item else {
        errors.push(format!(
            "{at}: expected an object, found {}",
            json_kind(item)
        ));
        return None;
    };
    let before = errors.len();
    let action = if let Some(status) = fields.get("status") {
        status_of(status, &format!("{at}.status"), errors)
    } else {
        errors.push(format!("{at}.status: missing"));
        None
    };
    let mut labels = if let Some(labels) = fields.get("labels") {
        strings(labels, &format!("{at}.labels"), errors)
    } else {
        errors.push(format!("{at}.labels: missing"));
        BTreeMap::new()
    };
    let annotations = fields
        .get("annotations")
        .filter(|annotations| !annotations.is_null())
        .map(|annotations| strings(annotations, &format!("{at}.annotations"), errors))
        .unwrap_or_default();
    let starts = fields.get("startsAt");
    let starts_at = if let Some(starts) = starts {
        time(starts, &format!("{at}.startsAt"), errors)
    } else {
        errors.push(format!("{at}.startsAt: missing"));
        None
    };
    let starts_text = starts.and_then(Value::as_str).unwrap_or_default();
    let ends_at = fields
        .get("endsAt")
        .filter(|ends| !ends.is_null())
        .and_then(|ends| time(ends, &format!("{at}.endsAt"), errors));
    let generator = optional_text(fields, "generatorURL", &at, errors);
    let given_fingerprint = optional_text(fields, "fingerprint", &at, errors);
    if errors.len() > before {
        return None;
    }
    let action = action?;

    let key = given_fingerprint.map_or_else(|| fingerprint(&labels), str::to_owned);
    let status = match action {
        AlertAction::Resolve => "resolved",
        AlertAction::Trigger | AlertAction::Acknowledge => "firing",
    };
    let dedup = match starts_at {
        Some(millis) => format!("{key}|{status}|{millis}"),
        None => format!("{key}|{status}|{starts_text}"),
    };
    let non_blank = |text: Option<&String>| {
        text.map(|text| text.trim())
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let summary = non_blank(annotations.get("summary"))
        .or_else(|| non_blank(annotations.get("description")))
        .or_else(|| non_blank(labels.get("alertname")))
        .unwrap_or_else(|| key.clone());
    let severity = non_blank(labels.get("severity"));
    let mut links = Vec::new();
    if let Some(href) = generator {
        links.push(AlertLink {
            href: href.to_owned(),
            text: Some("Source".to_owned()),
        });
    }
    if let Some(href) = non_blank(annotations.get("runbook_url")) {
        links.push(AlertLink {
            href,
            text: Some("Runbook".to_owned()),
        });
    }
    labels.insert("integration".to_owned(), integration.to_owned());
    let details = if annotations.is_empty() {
        Value::Null
    } else {
        Value::Object(
            annotations
                .into_iter()
                .map(|(name, text)| (name, Value::String(text)))
                .collect(),
        )
    };
    Some(Alert {
        integration: integration.to_owned(),
        key,
        action,
        summary,
        severity,
        labels,
        details,
        starts_at,
        ends_at: ends_at.filter(|_| action == AlertAction::Resolve),
        links,
        dedup: Some(dedup),
    })
}
