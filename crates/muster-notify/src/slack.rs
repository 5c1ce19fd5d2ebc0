//! Slack, through an incoming webhook: `POST` a JSON message with a plain `text` (shown in
//! notifications and where blocks cannot be) and Block Kit `blocks`: a header, the headline and
//! mention, the incident's fields, the detail lines, the folded-in count, and link buttons to
//! acknowledge and to open the incident.
//!
//! A message a responder wrote is sent as written: the header is its subject (the title line when
//! it has none), the body follows in as many sections as it needs (a section holds at most 3000
//! characters), then the link buttons; the fallback `text` is the subject, or the body's first
//! line.
//!
//! Slack answers `200 ok`; a refusal is a 4xx with a plain-text code (`invalid_payload`,
//! `no_service`, `channel_not_found`, …) and rate limiting a 429 with `Retry-After`.

use serde_json::{Value, json};
use std::fmt::Write as _;

use crate::send::{HttpReply, SendError, Sent};
use crate::text::{
    authored_title, drill_mark_unless_marked, folded_line, one_line, severity_label, title_line,
    truncate,
};
use crate::{Authored, Message};

/// The longest header text Slack accepts.
const MAX_HEADER: usize = 150;
/// The longest text of a section or a field.
const MAX_SECTION: usize = 3000;
const MAX_FIELD: usize = 2000;
/// The longest fallback text kept; Slack cuts longer ones itself.
const MAX_TEXT: usize = 4000;
/// The most blocks a message may have.
const MAX_BLOCKS: usize = 50;

/// The webhook's body. `channel` overrides the webhook's default channel.
#[must_use]
pub fn format(message: &Message, channel: Option<&str>) -> Value {
    let mut body = match &message.authored {
        Some(authored) => format_authored(message, authored),
        None => format_notification(message),
    };
    if let Some(channel) = channel {
        body["channel"] = Value::from(channel);
    }
    body
}

/// The body of a notification Muster writes: headline, fields, detail lines.
fn format_notification(message: &Message) -> Value {
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
    if let Some(actions) = actions(message) {
        blocks.push(actions);
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
    json!({
        "text": truncate(&text, MAX_TEXT),
        "blocks": blocks,
    })
}

/// The body of a message a responder wrote: header, the body's sections, the link buttons.
fn format_authored(message: &Message, authored: &Authored) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(&authored_title(message, authored), MAX_HEADER), "emoji": true},
    })];
    let actions = actions(message);
    let room = MAX_BLOCKS - 1 - usize::from(actions.is_some());
    blocks.extend(
        sections(authored.body.trim_end(), room)
            .into_iter()
            .map(|text| {
                json!({
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": text},
                })
            }),
    );
    blocks.extend(actions);

    let has_subject = authored
        .subject
        .as_deref()
        .is_some_and(|subject| !subject.trim().is_empty());
    let first_line = authored
        .body
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty());
    let text = match first_line.filter(|_| !has_subject) {
        Some(line) => {
            let line = one_line(line);
            format!("{}{line}", drill_mark_unless_marked(message, &line))
        }
        None => authored_title(message, authored),
    };
    json!({
        "text": truncate(&escape(&text), MAX_TEXT),
        "blocks": blocks,
    })
}

/// `body` escaped and cut into section texts of at most [`MAX_SECTION`] characters, between
/// lines where it can, at most `room` of them (the last ending in `…` when the body needs more).
/// Joining the sections with line breaks gives the escaped body back, except that a line too
/// long for one section continues in the next without a break.
fn sections(body: &str, room: usize) -> Vec<String> {
    let mut sections = Vec::new();
    let mut current = String::new();
    let mut length = 0;
    let mut lines = 0;
    for line in body.lines() {
        let escaped = escape(line);
        let added = escaped.chars().count() + usize::from(lines > 0);
        if length + added <= MAX_SECTION {
            if lines > 0 {
                current.push('\n');
            }
            current.push_str(&escaped);
            length += added;
            lines += 1;
            continue;
        }
        if lines > 0 {
            sections.push(std::mem::take(&mut current));
        }
        length = 0;
        lines = 1;
        // A line longer than a section is cut between characters, never inside an escape.
        let mut piece = [0; 4];
        for character in line.chars() {
            let escaped = escape(character.encode_utf8(&mut piece));
            let added = escaped.chars().count();
            if length + added > MAX_SECTION {
                sections.push(std::mem::take(&mut current));
                length = 0;
            }
            current.push_str(&escaped);
            length += added;
        }
    }
    if lines > 0 {
        sections.push(current);
    }
    // Slack refuses a section without text.
    sections.retain(|section| !section.trim().is_empty());
    if sections.len() > room {
        sections.truncate(room.max(1));
        if let Some(last) = sections.last_mut() {
            let mut kept: String = last.chars().take(MAX_SECTION - 1).collect();
            if let Some(amp) = kept.rfind('&')
                && !kept[amp..].contains(';')
            {
                kept.truncate(amp);
            }
            kept.push('…');
            *last = kept;
        }
    }
    sections
}

/// The link buttons: acknowledge and open the incident, when there are links.
fn actions(message: &Message) -> Option<Value> {
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
    (!buttons.is_empty()).then(|| json!({"type": "actions", "elements": buttons}))
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
