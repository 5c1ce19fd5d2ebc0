//! A generic JSON webhook, read through the integration's [`WebhookMapping`]: each field of an
//! alert is found by an RFC 6901 JSON Pointer (`/data/tx/hash`, `/alerts/0/id`, `""` for the
//! whole value).
//!
//! With `mapping.alerts`, the pointer names an array and the other pointers are read inside
//! each element; without it the whole body is one alert. For each alert:
//!
//! - `key` and `summary` are required: non-empty text, or a number (as its decimal text).
//! - `status`, when mapped: a value listed in `mapping.resolved` (compared without regard to
//!   ASCII case) resolves the alert; anything else, or no value, triggers it.
//! - `severity` and each label: text, or a number or boolean as its text; a missing or null
//!   value leaves the label out. Labels always hold `integration`, the integration id.
//! - `link`: a URL string for responders.
//! - `details`: the alert's whole JSON value.
//!
//! Problems name the mapped field and the pointer into the body, element index included:
//! `key at /alerts/2/id: missing`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::alert::{Alert, AlertAction, AlertLink, json_kind};
use crate::plan::model::WebhookMapping;

/// Why `pointer` is not an RFC 6901 JSON Pointer, if it is not one.
#[must_use]
pub fn pointer_problem(pointer: &str) -> Option<String> {
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Some(format!(
            "'{pointer}' is not a JSON Pointer: it must be empty (the whole value) or start with '/'"
        ));
    }
    let mut rest = pointer;
    while let Some(at) = rest.find('~') {
        rest = &rest[at + 1..];
        if !rest.starts_with(['0', '1']) {
            return Some(format!(
                "'{pointer}' is not a JSON Pointer: '~' must be followed by 0 (for '~') or 1 (for '/')"
            ));
        }
    }
    None
}

/// Reads a webhook body into its alerts, or every problem with it.
pub fn parse(
    body: &[u8],
    mapping: &WebhookMapping,
    integration: &str,
) -> Result<Vec<Alert>, Vec<String>> {
    let root: Value = serde_json::from_slice(body)
        .map_err(|error| vec![format!("the body is not JSON: {error}")])?;
    let mut errors = Vec::new();
    let mut alerts = Vec::new();
    match &mapping.alerts {
        None => {
            if let Some(alert) = read_alert(&root, "", mapping, integration, &mut errors) {
                alerts.push(alert);
            }
        }
        Some(pointer) => match root.pointer(pointer) {
            Some(Value::Array(items)) => {
                for (index, item) in items.iter().enumerate() {
                    let at = format!("{pointer}/{index}");
                    if let Some(alert) = read_alert(item, &at, mapping, integration, &mut errors) {
                        alerts.push(alert);
                    }
                }
            }
            Some(other) => errors.push(format!(
                "alerts at {}: expected an array, found {}",
                place(pointer),
                json_kind(other)
            )),
            None => errors.push(format!("alerts at {}: missing", place(pointer))),
        },
    }
    if errors.is_empty() {
        Ok(alerts)
    } else {
        Err(errors)
    }
}

/// A pointer for a message; the empty pointer (the whole body) is shown as `''`.
fn place(pointer: &str) -> &str {
    if pointer.is_empty() { "''" } else { pointer }
}

/// Scalars as text: strings as they are, numbers in decimal, booleans as `true`/`false`.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Reads the fields of one alert; `at` is its pointer in the body.
struct Fields<'a> {
    alert: &'a Value,
    at: &'a str,
    errors: &'a mut Vec<String>,
}

impl Fields<'_> {
    fn problem(&mut self, field: &str, pointer: &str, problem: &str) {
        let full = format!("{}{pointer}", self.at);
        self.errors
            .push(format!("{field} at {}: {problem}", place(&full)));
    }

    /// A required value: non-blank text or a number.
    fn required(&mut self, field: &str, pointer: &str) -> Option<String> {
        match self.alert.pointer(pointer) {
            None | Some(Value::Null) => {
                self.problem(field, pointer, "missing");
                None
            }
            Some(Value::String(text)) if text.trim().is_empty() => {
                self.problem(field, pointer, "empty");
                None
            }
            Some(Value::String(text)) => Some(text.clone()),
            Some(Value::Number(number)) => Some(number.to_string()),
            Some(other) => {
                let problem = format!("expected text or a number, found {}", json_kind(other));
                self.problem(field, pointer, &problem);
                None
            }
        }
    }

    /// An optional scalar, as text; missing and null are absent.
    fn optional(&mut self, field: &str, pointer: Option<&str>) -> Option<String> {
        let pointer = pointer?;
        let value = self.alert.pointer(pointer)?;
        if value.is_null() {
            return None;
        }
        let text = scalar_text(value);
        if text.is_none() {
            let problem = format!("expected text, found {}", json_kind(value));
            self.problem(field, pointer, &problem);
        }
        text
    }
}

fn read_alert(
    alert: &Value,
    at: &str,
    mapping: &WebhookMapping,
    integration: &str,
    errors: &mut Vec<String>,
) -> Option<Alert> {
    let before = errors.len();
    let mut fields = Fields { alert, at, errors };
    let key = fields.required("key", &mapping.key);
    let summary = fields.required("summary", &mapping.summary);
    let status = fields.optional("status", mapping.status.as_deref());
    let severity = fields
        .optional("severity", mapping.severity.as_deref())
        .filter(|severity| !severity.trim().is_empty());
    let mut labels = BTreeMap::new();
    for (name, pointer) in &mapping.labels {
        if let Some(value) = fields.optional(&format!("label {name}"), Some(pointer)) {
            labels.insert(name.clone(), value);
        }
    }
    let link = match mapping.link.as_deref() {
        Some(pointer) => match alert.pointer(pointer) {
            None | Some(Value::Null) => None,
            Some(Value::String(href)) => Some(href.trim()).filter(|href| !href.is_empty()),
            Some(other) => {
                let problem = format!("expected a URL, found {}", json_kind(other));
                fields.problem("link", pointer, &problem);
                None
            }
        },
        None => None,
    };
    if fields.errors.len() > before {
        return None;
    }
    let (key, summary) = (key?, summary?);
    let resolved = status.is_some_and(|status| {
        mapping
            .resolved
            .iter()
            .any(|value| value.eq_ignore_ascii_case(status.trim()))
    });
    labels.insert("integration".to_owned(), integration.to_owned());
    Some(Alert {
        integration: integration.to_owned(),
        key,
        action: if resolved {
            AlertAction::Resolve
        } else {
            AlertAction::Trigger
        },
        summary: summary.trim().to_owned(),
        severity,
        labels,
        details: alert.clone(),
        starts_at: None,
        ends_at: None,
        links: link
            .map(|href| AlertLink {
                href: href.to_owned(),
                text: None,
            })
            .into_iter()
            .collect(),
        dedup: None,
    })
}
