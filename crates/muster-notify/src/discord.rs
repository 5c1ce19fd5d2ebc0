//! Discord, through a channel webhook: `POST` JSON with `content` (the line a notification
//! shows, with the mention), one embed (title linking to the incident, the detail lines, fields
//! for severity, status, the paged person and the acknowledge link; red, green when resolved,
//! blue for a drill) and `allowed_mentions` limited to the paged person, so text in an incident
//! can never ping `@everyone`.
//!
//! A message a responder wrote is sent as written: `content` is its subject (the title line when
//! it has none), and the embed's title the same, linking to the incident, with the body, escaped,
//! as the description (cut to 4096 characters, ending in `…`). It mentions nobody.
//!
//! The request carries `?wait=true`, so Discord answers `200` with the created message and
//! reports a message it did not save. A 429 says how long to wait in its JSON body
//! (`retry_after`, seconds with a fraction) and in `Retry-After`; other refusals carry a JSON
//! `message` and `code`.

use serde_json::{Value, json};
use std::fmt::Write as _;

use crate::send::{HttpReply, SendError, Sent, seconds};
use crate::text::{
    authored_heading, authored_title, drill_prefix, folded_line, severity_label, title_line,
    truncate,
};
use crate::{Authored, Message};

const MAX_CONTENT: usize = 2000;
const MAX_TITLE: usize = 256;
const MAX_DESCRIPTION: usize = 4096;
const MAX_FIELD_VALUE: usize = 1024;

const RED: u32 = 0x00E7_4C3C;
const GREEN: u32 = 0x002E_CC71;
const BLUE: u32 = 0x0034_98DB;

/// The webhook's body.
#[must_use]
pub fn format(message: &Message) -> Value {
    if let Some(authored) = &message.authored {
        return format_authored(message, authored);
    }
    let user_id = user_id(message);
    let mut content = drill_prefix(message).to_owned();
    if let Some(id) = &user_id {
        let _ = write!(content, "<@{id}> ");
    }
    let _ = write!(
        content,
        "{} — {} {}",
        escape(&message.headline),
        escape(&message.severity),
        escape(&message.incident)
    );

    let mut description: Vec<String> = vec![format!("**{}**", escape(&message.headline))];
    description.extend(message.lines.iter().map(|line| escape(line)));
    if let Some(folded) = folded_line(message) {
        description.push(format!("*{folded}*"));
    }

    let mut fields = vec![
        json!({"name": "Severity", "value": truncate(&escape(&severity_label(message)), MAX_FIELD_VALUE), "inline": true}),
        json!({"name": "Status", "value": truncate(&escape(&message.status), MAX_FIELD_VALUE), "inline": true}),
    ];
    if let Some(recipient) = &message.recipient {
        let value = match &user_id {
            Some(id) => format!("<@{id}>"),
            None => escape(&recipient.name),
        };
        fields.push(
            json!({"name": "Paged", "value": truncate(&value, MAX_FIELD_VALUE), "inline": true}),
        );
    }
    if let Some(ack_url) = &message.ack_url {
        fields.push(json!({"name": "Acknowledge", "value": truncate(&format!("[Acknowledge]({ack_url})"), MAX_FIELD_VALUE), "inline": false}));
    }

    let mut embed = json!({
        "title": truncate(&title_line(message), MAX_TITLE),
        "description": truncate(&description.join("\n"), MAX_DESCRIPTION),
        "color": color(message),
        "fields": fields,
        "footer": footer(message),
    });
    if let Some(url) = &message.url {
        embed["url"] = Value::from(url.as_str());
    }
    json!({
        "content": truncate(&content, MAX_CONTENT),
        "embeds": [embed],
        "allowed_mentions": {"parse": [], "users": user_id.into_iter().collect::<Vec<_>>()},
    })
}

/// The webhook's body for a message a responder wrote.
fn format_authored(message: &Message, authored: &Authored) -> Value {
    let (mark, heading) = authored_heading(message, authored);
    let mut embed = json!({
        "title": truncate(&authored_title(message, authored), MAX_TITLE),
        "color": color(message),
        "footer": footer(message),
    });
    let body = authored.body.trim_end();
    if !body.trim().is_empty() {
        embed["description"] = Value::from(truncate(&escape(body), MAX_DESCRIPTION));
    }
    if let Some(url) = &message.url {
        embed["url"] = Value::from(url.as_str());
    }
    json!({
        "content": truncate(&format!("{mark}{}", escape(&heading)), MAX_CONTENT),
        "embeds": [embed],
        "allowed_mentions": {"parse": [], "users": []},
    })
}

/// The embed's colour: blue for a drill, green once resolved, red otherwise.
fn color(message: &Message) -> u32 {
    if message.drill {
        BLUE
    } else if matches!(message.status.as_str(), "resolved" | "closed") {
        GREEN
    } else {
        RED
    }
}

/// The embed's footer, which says a drill is one.
fn footer(message: &Message) -> Value {
    json!({"text": if message.drill { "Muster · drill, not a real incident" } else { "Muster" }})
}

/// The webhook URL with `wait=true` added, so Discord confirms (or refuses) the message.
pub fn execute_url(webhook_url: &str) -> Result<String, String> {
    let mut url = reqwest::Url::parse(webhook_url)
        .map_err(|_| "the Discord webhook URL is not a URL".to_owned())?;
    if !url.query_pairs().any(|(key, _)| key == "wait") {
        url.query_pairs_mut().append_pair("wait", "true");
    }
    Ok(url.into())
}

/// Reads Discord's answer: 200 (with the message) or 204 is success.
pub fn classify(reply: &HttpReply) -> Result<Sent, SendError> {
    let body: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    if reply.is_success() {
        let detail = match body.get("id").and_then(Value::as_str) {
            Some(id) => format!("message {id}"),
            None => reply.detail(),
        };
        return Ok(Sent {
            status: reply.status,
            detail,
        });
    }
    let retry_after = body.get("retry_after").and_then(seconds);
    let text = body.get("message").and_then(Value::as_str).map(|text| {
        match body.get("code").and_then(Value::as_i64) {
            Some(code) if code != 0 => format!("{text} (code {code})"),
            _ => text.to_owned(),
        }
    });
    Err(reply.failure("Discord", retry_after, text))
}

/// The paged person's Discord user id (a snowflake: digits only), when known.
fn user_id(message: &Message) -> Option<String> {
    let handle = message.recipient.as_ref()?.handle.as_deref()?;
    let id = handle.trim_start_matches("<@").trim_end_matches('>');
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit())).then(|| id.to_owned())
}

/// `text` with Discord's markdown characters escaped, so it cannot form links, mentions or
/// formatting. A leading `#` or `-` (a heading or a list item) is escaped too.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    if text.starts_with(['#', '-']) {
        escaped.push('\\');
    }
    for character in text.chars() {
        if matches!(
            character,
            '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']' | '<' | '>'
        ) {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}
