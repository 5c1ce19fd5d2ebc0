//! PagerDuty, through an Events API v2 integration: `POST /v2/enqueue` with the routing key and
//! the incident's id as `dedup_key`, so every notification about one incident lands on one
//! PagerDuty alert.
//!
//! An open incident sends `trigger` with a `payload` (summary of at most 1024 characters, source
//! `muster`, severity, the details) and links; a resolved or closed one sends `resolve`, which
//! closes the PagerDuty alert.
//!
//! A message a responder wrote is sent as written: the summary is its subject (the title line
//! when it has none), and `custom_details` carry `subject` and `body` instead of the headline
//! and detail lines.
//!
//! The PagerDuty severity comes from the message: `info` for a drill; otherwise from the
//! severity's name (`critical`, `emergency`, `urgent` → `critical`; `high`, `major`, `error` →
//! `error`; `medium`, `moderate`, `warning`, `minor` → `warning`; `low`, `info` → `info`), and
//! `critical` for any other name, since Muster pages only for what matters.
//!
//! PagerDuty answers `202 {"status": "success", "dedup_key"}`; `400` for an invalid event (with
//! `errors`), `429` when the integration is throttled.

use serde_json::{Value, json};

use crate::Message;
use crate::send::{HttpReply, SendError, Sent};
use crate::text::{authored_title, title_line, truncate};

const MAX_SUMMARY: usize = 1024;

/// The event for `message`, sent with `routing_key`.
#[must_use]
pub fn format(message: &Message, routing_key: &str) -> Value {
    if matches!(message.status.as_str(), "resolved" | "closed") {
        return json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": message.incident,
        });
    }
    let summary = match &message.authored {
        Some(authored) => truncate(&authored_title(message, authored), MAX_SUMMARY),
        None => truncate(
            &format!("{} — {}", title_line(message), message.headline),
            MAX_SUMMARY,
        ),
    };
    let mut links = Vec::new();
    if let Some(url) = &message.url {
        links.push(json!({"href": url, "text": "Open the incident in Muster"}));
    }
    if let Some(url) = &message.ack_url {
        links.push(json!({"href": url, "text": "Acknowledge in Muster"}));
    }
    let mut event = json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": message.incident,
        "payload": {
            "summary": summary,
            "source": "muster",
            "severity": severity(message),
            "class": "incident",
            "custom_details": {
                "incident": message.incident,
                "title": message.title,
                "severity": message.severity,
                "severity_name": message.severity_name,
                "status": message.status,
                "headline": message.headline,
                "lines": message.lines,
                "drill": message.drill,
                "folded": message.folded,
                "paged": message.recipient.as_ref().map(|recipient| recipient.name.as_str()),
            },
        },
        "client": "Muster",
        "links": links,
    });
    if let Some(authored) = &message.authored {
        let details = &mut event["payload"]["custom_details"];
        if let Some(details) = details.as_object_mut() {
            details.remove("headline");
            details.remove("lines");
        }
        details["subject"] = Value::from(authored.subject.clone());
        details["body"] = Value::from(authored.body.as_str());
    }
    if let Some(url) = &message.url {
        event["client_url"] = Value::from(url.as_str());
    }
    event
}

/// PagerDuty's severity for `message`; see the module's documentation.
#[must_use]
pub fn severity(message: &Message) -> &'static str {
    if message.drill {
        return "info";
    }
    let name = message
        .severity_name
        .as_deref()
        .unwrap_or_default()
        .to_lowercase();
    match name.as_str() {
        "high" | "major" | "error" => "error",
        "medium" | "moderate" | "warning" | "minor" => "warning",
        "low" | "info" | "informational" => "info",
        _ => "critical",
    }
}

/// Reads PagerDuty's answer: `202` is success; a refusal's `message` and `errors` explain it.
pub fn classify(reply: &HttpReply) -> Result<Sent, SendError> {
    let body: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    if reply.is_success() {
        let message = body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("accepted");
        let detail = match body.get("dedup_key").and_then(Value::as_str) {
            Some(key) => format!("{message} (dedup_key {key})"),
            None => message.to_owned(),
        };
        return Ok(Sent {
            status: reply.status,
            detail,
        });
    }
    let message = body.get("message").and_then(Value::as_str);
    let errors: Vec<&str> = body
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| errors.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let text = match (message, errors.is_empty()) {
        (Some(message), false) => Some(format!("{message}: {}", errors.join("; "))),
        (Some(message), true) => Some(message.to_owned()),
        (None, false) => Some(errors.join("; ")),
        (None, true) => None,
    };
    Err(reply.failure("PagerDuty", None, text))
}
