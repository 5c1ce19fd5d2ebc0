//! PagerDuty Events API v2 (`POST /v2/enqueue`), so that anything able to page PagerDuty
//! (Grafana, Datadog, Forta, …) can page Muster.
//!
//! ```json
//! {
//!   "routing_key": "…",
//!   "event_action": "trigger",
//!   "dedup_key": "mainnet/oracle/ETH-USD",
//!   "payload": {
//!     "summary": "ETH/USD oracle deviates 7% from the reference price",
//!     "source": "oracle-monitor",
//!     "severity": "critical",
//!     "timestamp": "2026-03-01T09:30:00.123+0000",
//!     "component": "price-oracle",
//!     "group": "mainnet",
//!     "class": "deviation",
//!     "custom_details": { "deviation": "7.1%" }
//!   },
//!   "client": "Oracle monitor",
//!   "client_url": "https://monitor.example/oracles",
//!   "links": [{ "href": "https://etherscan.io/tx/0x…", "text": "Transaction" }],
//!   "images": [{ "src": "https://monitor.example/chart.png", "alt": "Price" }]
//! }
//! ```
//!
//! `routing_key` and `event_action` (`trigger`, `acknowledge`, `resolve`) are required;
//! `dedup_key` (at most 255 characters) is required to acknowledge or resolve. A trigger needs
//! a `payload` with `summary` (at most 1024 characters), `source` and `severity` (`critical`,
//! `error`, `warning`, `info`); `timestamp`, `component`, `group`, `class` and `custom_details`
//! are optional. Acknowledge and resolve events carry no payload; one sent with them is not
//! read. Problems are worded as PagerDuty words them, and answered with PagerDuty's response
//! bodies ([`success_body`], [`invalid_body`], [`throttled_body`]) so senders built for
//! PagerDuty understand them.
//!
//! The event becomes one [`Alert`]: `key` is the `dedup_key` (left empty for a trigger without
//! one: the caller makes a key, as PagerDuty does, and returns it in the success body); the
//! summary is `payload.summary` (the dedup key for acknowledge and resolve); `severity` is
//! `payload.severity`; the labels are `source`, `severity`, `component`, `group` and `class`
//! when given; `details` is `custom_details`; `starts_at` is `timestamp`; the links are
//! `links`, `client_url` (named after `client`) and `images`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::alert::{Alert, AlertAction, AlertLink, json_kind, parse_time};
use crate::incident::Millis;

/// Longest `dedup_key` PagerDuty accepts, in characters.
pub const MAX_DEDUP_KEY: usize = 255;

/// Longest `payload.summary` PagerDuty accepts, in characters.
pub const MAX_SUMMARY: usize = 1024;

/// The severities PagerDuty knows, most severe first.
pub const SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];

/// An event as received, before the integration is known.
#[derive(Debug, Clone, PartialEq)]
pub struct PagerDutyEvent {
    /// Names the integration: the caller finds the integration whose key this is.
    pub routing_key: String,
    /// The alert, with an empty `integration` and no `integration` label: call
    /// [`Alert::set_integration`] once the routing key has been matched.
    pub alert: Alert,
    /// Whether the sender gave a `dedup_key`. When it did not (a trigger), `alert.key` is empty
    /// and the caller sets a fresh one.
    pub dedup_key_given: bool,
}

/// Reads a PagerDuty Events API v2 body, or every problem with it.
pub fn parse(body: &[u8]) -> Result<PagerDutyEvent, Vec<String>> {
    let root: Value =
        serde_json::from_slice(body).map_err(|error| vec![format!("JSON parse error: {error}")])?;
    let Value::Object(event) = root else {
        return Err(vec![format!(
            "Event object must be a JSON object, not {}",
            json_kind(&root)
        )]);
    };
    let mut errors = Vec::new();
    let routing_key = required_text(&event, "routing_key", "routing_key", &mut errors);
    let action = match event.get("event_action").and_then(Value::as_str) {
        Some("trigger") => Some(AlertAction::Trigger),
        Some("acknowledge") => Some(AlertAction::Acknowledge),
        Some("resolve") => Some(AlertAction::Resolve),
        _ => {
            errors.push("'event_action' must be one of trigger, acknowledge, resolve".to_owned());
            None
        }
    };
    let dedup_key = match event.get("dedup_key") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(key)) if key.chars().count() > MAX_DEDUP_KEY => Err(format!(
            "Length of 'dedup_key' is incorrect (should be at most {MAX_DEDUP_KEY} characters)"
        )),
        Some(Value::String(key)) => Ok(Some(key.as_str()).filter(|key| !key.trim().is_empty())),
        Some(_) => Err("'dedup_key' must be a string".to_owned()),
    };
    match &dedup_key {
        Err(error) => errors.push(error.clone()),
        Ok(None)
            if matches!(
                action,
                Some(AlertAction::Acknowledge | AlertAction::Resolve)
            ) =>
        {
            errors.push(
                "'dedup_key' is missing or blank; it is required to acknowledge or resolve"
                    .to_owned(),
            );
        }
        Ok(_) => {}
    }
    let dedup_key = dedup_key.ok().flatten();
    let client = optional_text(&event, "client", "client", &mut errors);
    let client_url = optional_text(&event, "client_url", "client_url", &mut errors);
    let mut links = read_links(&event, &mut errors);
    let payload = if action == Some(AlertAction::Trigger) {
        read_payload(&event, &mut errors)
    } else {
        None
    };
    // Every missing value has been reported, so `errors` is never empty here.
    let (Some(routing_key), Some(action), true) = (routing_key, action, errors.is_empty()) else {
        return Err(errors);
    };

    if let Some(href) = client_url {
        links.insert(
            0,
            AlertLink {
                href: href.to_owned(),
                text: Some(client.unwrap_or("Client").to_owned()),
            },
        );
    }
    let key = dedup_key.unwrap_or_default().to_owned();
    let mut alert = Alert {
        integration: String::new(),
        summary: key.clone(),
        key,
        action,
        severity: None,
        labels: BTreeMap::new(),
        details: Value::Null,
        starts_at: None,
        ends_at: None,
        links,
        dedup: None,
    };
    if let Some(payload) = payload {
        alert.summary = payload.summary;
        alert.severity = Some(payload.severity.clone());
        alert.starts_at = payload.timestamp;
        alert.details = payload.custom_details;
        alert.labels = payload.labels;
        alert.labels.insert("severity".to_owned(), payload.severity);
    }
    Ok(PagerDutyEvent {
        routing_key: routing_key.to_owned(),
        alert,
        dedup_key_given: dedup_key.is_some(),
    })
}

/// The 202 body: `{"status": "success", "message": "Event processed", "dedup_key": …}`.
#[must_use]
pub fn success_body(dedup_key: &str) -> Value {
    json!({
        "status": "success",
        "message": "Event processed",
        "dedup_key": dedup_key,
    })
}

/// The 400 body: `{"status": "invalid event", "message": "Event object is invalid", "errors": […]}`.
#[must_use]
pub fn invalid_body(errors: &[String]) -> Value {
    json!({
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": errors,
    })
}

/// The 429 body, for an integration over its rate limit; senders retry later.
#[must_use]
pub fn throttled_body() -> Value {
    json!({
        "status": "throttle event",
        "message": "Requests for this service are arriving too quickly. Please retry later.",
    })
}

/// What a trigger's `payload` says.
struct Payload {
    summary: String,
    severity: String,
    timestamp: Option<Millis>,
    custom_details: Value,
    /// `source`, `component`, `group`, `class` when given.
    labels: BTreeMap<String, String>,
}

/// A required, non-blank string; `name` is the field, `path` how messages name it.
fn required_text<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
    path: &str,
    errors: &mut Vec<String>,
) -> Option<&'a str> {
    match fields.get(name) {
        Some(Value::String(text)) if !text.trim().is_empty() => Some(text.as_str()),
        None | Some(Value::Null | Value::String(_)) => {
            errors.push(format!("'{path}' is missing or blank"));
            None
        }
        Some(_) => {
            errors.push(format!("'{path}' must be a string"));
            None
        }
    }
}

/// An optional string; blank counts as absent.
fn optional_text<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
    path: &str,
    errors: &mut Vec<String>,
) -> Option<&'a str> {
    match fields.get(name)? {
        Value::String(text) => Some(text.as_str()).filter(|text| !text.trim().is_empty()),
        Value::Null => None,
        _ => {
            errors.push(format!("'{path}' must be a string"));
            None
        }
    }
}

/// Calls `read` with the path and fields of each object in the optional array `name`.
fn each_object(
    event: &Map<String, Value>,
    name: &str,
    errors: &mut Vec<String>,
    mut read: impl FnMut(&str, &Map<String, Value>, &mut Vec<String>),
) {
    match event.get(name) {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                let path = format!("{name}[{index}]");
                if let Value::Object(fields) = item {
                    read(&path, fields, errors);
                } else {
                    errors.push(format!("'{path}' must be an object"));
                }
            }
        }
        Some(_) => errors.push(format!("'{name}' must be an array")),
    }
}

/// `links[]` (`href`, `text`) and `images[]` (`src`, `href`, `alt`) as links for responders.
fn read_links(event: &Map<String, Value>, errors: &mut Vec<String>) -> Vec<AlertLink> {
    let mut links = Vec::new();
    each_object(event, "links", errors, |path, link, errors| {
        let href = required_text(link, "href", &format!("{path}.href"), errors);
        let text = optional_text(link, "text", &format!("{path}.text"), errors);
        if let Some(href) = href {
            links.push(AlertLink {
                href: href.to_owned(),
                text: text.map(str::to_owned),
            });
        }
    });
    each_object(event, "images", errors, |path, image, errors| {
        let src = required_text(image, "src", &format!("{path}.src"), errors);
        let href = optional_text(image, "href", &format!("{path}.href"), errors);
        let alt = optional_text(image, "alt", &format!("{path}.alt"), errors);
        if let Some(src) = src {
            links.push(AlertLink {
                href: href.unwrap_or(src).to_owned(),
                text: Some(alt.unwrap_or("Image").to_owned()),
            });
        }
    });
    links
}

fn read_payload(event: &Map<String, Value>, errors: &mut Vec<String>) -> Option<Payload> {
    let payload = match event.get("payload") {
        Some(Value::Object(payload)) => payload,
        None | Some(Value::Null) => {
            errors.push("'payload' is missing".to_owned());
            return None;
        }
        Some(_) => {
            errors.push("'payload' must be an object".to_owned());
            return None;
        }
    };
    let before = errors.len();
    let summary = required_text(payload, "summary", "payload.summary", errors);
    if let Some(summary) = summary
        && summary.chars().count() > MAX_SUMMARY
    {
        errors.push(format!(
            "Length of 'payload.summary' is incorrect (should be at most {MAX_SUMMARY} characters)"
        ));
    }
    let source = required_text(payload, "source", "payload.source", errors);
    let severity = payload
        .get("severity")
        .and_then(Value::as_str)
        .filter(|severity| SEVERITIES.contains(severity));
    if severity.is_none() {
        errors.push(format!(
            "'payload.severity' must be one of {}",
            SEVERITIES.join(", ")
        ));
    }
    let timestamp = match payload.get("timestamp") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => {
            let parsed = parse_time(text);
            if parsed.is_none() {
                errors.push("'payload.timestamp' must be an ISO 8601 date-time".to_owned());
            }
            parsed
        }
        Some(_) => {
            errors.push("'payload.timestamp' must be a string".to_owned());
            None
        }
    };
    let mut labels = BTreeMap::new();
    for name in ["component", "group", "class"] {
        if let Some(text) = optional_text(payload, name, &format!("payload.{name}"), errors) {
            labels.insert(name.to_owned(), text.to_owned());
        }
    }
    if errors.len() > before {
        return None;
    }
    let (summary, source, severity) = (summary?, source?, severity?);
    labels.insert("source".to_owned(), source.to_owned());
    Some(Payload {
        summary: summary.trim().to_owned(),
        severity: severity.to_owned(),
        timestamp,
        custom_details: payload.get("custom_details").cloned().unwrap_or_default(),
        labels,
    })
}
