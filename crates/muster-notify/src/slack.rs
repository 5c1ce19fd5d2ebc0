//! Slack, through an incoming webhook: `POST` a JSON message with a plain `text` (shown in
//! notifications and where blocks cannot be) and Block Kit `blocks`: a header, the headline and
//! mention, the incident's fields, the detail lines, the folded-in count, and link buttons to
//! acknowledge and to open the incident.
//!
//! Slack answers `200 ok`; a refusal is a 4xx with a plain-text code (`invalid_payload`,
//! `no_service`, `channel_not_found`, …) and rate limiting a 429 with `Retry-After`.

use serde_json::{Value, json};
use std::fmt::Write as _;

use crate::Message;
use crate::send::{HttpReply, SendError, Sent};
use crate::text::{folded_line, severity_label, title_line, truncate};

/// The longest header text Slack accepts.
const MAX_HEADER: usize = 150;
/// The longest text of a section or a field.
const MAX_SECTION: usize = 3000;
const MAX_FIELD: usize = 2000;
/// The longest fallback text kept; Slack cuts longer ones itself.
const MAX_TEXT: usize = 4000;

/// The webhook's body. `channel` overrides the webhook's default channel.
#[must_use]
pub fn format(message: &Message, channel: Option<&str>) -> Value {
    let mention = mention(message);
    let mut headline = format!("*{}*", escape(&message.headline));
    if let Some(mention) = &mention {
        headline.push(' ');
        headline.push_str(mention);
    }

    let mut fields = vec![
        field("Incident", &message.incident),
        field("Severity", &severity_label(message)),
        field("Status", &message.status),
    ];
    if let Some(recipient) = &message.recipient {
        fields.push(field("Paged", &recipient.name));
    }
    if message.drill {
        fields.push(json!({"type": "mrkdwn", "text": "*Drill*\nThis is an exercise"}));
    }

    let mut blocks = vec![
        json!({
            "type": "header",
            "text": {"type": "plain_text", "text": truncate(&title_line(message), MAX_HEADER), "emoji": true},
        }),
        json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": truncate(&headline, MAX_SECTION)},
            "fields": fields,
        }),
    ];
    if !message.lines.is_empty() {
        let lines: Vec<String> = message.lines.iter().map(|line| escape(line)).collect();
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": truncate(&lines.join("\n"), MAX_SECTION)},
        }));
    }
    if let Some(folded) = folded_line(message) {
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": folded}],
        }));
    }
    let mut buttons = Vec::new();
    if let Some(ack_url) = &message.ack_url {
        buttons.push(json!({
            "type": "button",
            "action_id": "acknowledge",
            "text": {"type": "plain_text", "text": "Acknowledge"},
            "style": "primary",
            "url": ack_url,
        }));
    }
    if let Some(url) = &message.url {
        buttons.push(json!({
            "type": "button",
            "action_id": "open-incident",
            "text": {"type": "plain_text", "text": "Open incident"},
            "url": url,
        }));
    }
    if !buttons.is_empty() {
        blocks.push(json!({"type": "actions", "elements": buttons}));
    }

    let mut text = format!(
        "{} — {}",
        escape(&title_line(message)),
        escape(&message.headline)
    );
    if let Some(mention) = &mention {
        text.push(' ');
        text.push_str(mention);
    }
    if let Some(folded) = folded_line(message) {
        let _ = write!(text, " ({folded})");
    }
    if let Some(url) = &message.ack_url {
        let _ = write!(text, " <{url}|Acknowledge>");
    }
    let mut body = json!({
        "text": truncate(&text, MAX_TEXT),
        "blocks": blocks,
    });
    if let Some(channel) = channel {
        body["channel"] = Value::from(channel);
    }
    body
}

/// Reads Slack's answer: `200 ok` is success; anything else carries Slack's error code as text.
pub fn classify(reply: &HttpReply) -> Result<Sent, SendError> {
    if reply.is_success() {
        Ok(Sent {
            status: reply.status,
            detail: reply.detail(),
        })
    } else {
        Err(reply.failure("Slack", None, None))
    }
}

/// `<@U024BE7LH>` for the paged person's member id; their name in bold when there is none.
fn mention(message: &Message) -> Option<String> {
    let recipient = message.recipient.as_ref()?;
    Some(
        match recipient
            .handle
            .as_deref()
            .map(|handle| handle.trim_start_matches('@'))
        {
            Some(id) if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) => {
                format!("<@{id}>")
            }
            _ => format!("*{}*", escape(&recipient.name)),
        },
    )
}

/// A section field: a bold label over an escaped value.
fn field(label: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": truncate(&format!("*{label}*\n{}", escape(value)), MAX_FIELD)})
}

/// `text` with the three characters Slack's mrkdwn reserves escaped, so it cannot form links or
/// mentions.
#[must_use]
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
