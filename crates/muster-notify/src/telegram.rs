//! Telegram, through a bot: `POST {api}/bot{token}/sendMessage` with the chat, the text in
//! Telegram's HTML (`parse_mode: "HTML"`, user text escaped), link previews off, and an inline
//! keyboard of link buttons to acknowledge and to open the incident.
//!
//! A message a responder wrote is sent as written: its subject in bold (the title line when it
//! has none), the body, escaped, then the links; a body too long for Telegram's limit is cut,
//! ending in `…`, and the links are kept.
//!
//! Telegram answers `{"ok": true, "result": {…}}`; a refusal is `{"ok": false, "error_code",
//! "description"}` (`Bad Request: chat not found`, `Unauthorized`, `Forbidden: bot was blocked by
//! the user`), and rate limiting a 429 whose `parameters.retry_after` says how many seconds to
//! wait.

use serde_json::{Value, json};

use crate::send::{HttpReply, SendError, Sent, seconds};
use crate::text::{
    authored_title, folded_line, html_escape, html_escape_char, severity_label, title_line,
    truncate, truncate_escaped,
};
use crate::{Authored, Message};

/// Telegram's limit is 4096 characters after entities are parsed; markup counts here too, so
/// the text stays under it.
const MAX_TEXT: usize = 4000;
/// The longest detail line kept.
const MAX_LINE: usize = 500;

/// The `sendMessage` body for `chat_id` (a chat id such as `-1001234567890`, or `@channel`).
#[must_use]
pub fn format(message: &Message, chat_id: &str) -> Value {
    if let Some(authored) = &message.authored {
        return format_authored(message, authored, chat_id);
    }
    let mut head = vec![format!(
        "<b>{}</b>",
        html_escape(&truncate(&title_line(message), MAX_LINE))
    )];
    let mut headline = format!(
        "<b>{}</b>",
        html_escape(&truncate(&message.headline, MAX_LINE))
    );
    if let Some(mention) = mention(message) {
        headline.push(' ');
        headline.push_str(&mention);
    }
    head.push(headline);
    head.push(format!(
        "Severity: {} · Status: {}",
        html_escape(&severity_label(message)),
        html_escape(&message.status)
    ));

    let mut tail = Vec::new();
    if let Some(folded) = folded_line(message) {
        tail.push(format!("<i>{folded}</i>"));
    }
    tail.extend(links(message));

    // Detail lines fill what the head and the links leave, whole lines only.
    let mut budget = MAX_TEXT.saturating_sub(
        head.iter()
            .chain(&tail)
            .map(|part| part.chars().count() + 2)
            .sum(),
    );
    let mut details = Vec::new();
    for line in &message.lines {
        let line = html_escape(&truncate(line, MAX_LINE));
        let length = line.chars().count() + 1;
        if length > budget {
            details.push("…".to_owned());
            break;
        }
        budget -= length;
        details.push(line);
    }

    let mut sections = vec![head.join("\n")];
    if !details.is_empty() {
        sections.push(details.join("\n"));
    }
    if !tail.is_empty() {
        sections.push(tail.join("\n"));
    }

    request(message, chat_id, &sections.join("\n\n"))
}

/// The `sendMessage` body for a message a responder wrote.
fn format_authored(message: &Message, authored: &Authored, chat_id: &str) -> Value {
    let head = format!(
        "<b>{}</b>",
        html_escape(&truncate(&authored_title(message, authored), MAX_LINE))
    );
    let tail = links(message);
    let body = authored.body.trim_end();
    let mut sections = vec![head];
    if !body.trim().is_empty() {
        // The body fills what the subject and the links leave.
        let budget = MAX_TEXT.saturating_sub(
            sections
                .iter()
                .chain(&tail)
                .map(|part| part.chars().count() + 2)
                .sum(),
        );
        sections.push(truncate_escaped(body, budget, html_escape_char));
    }
    sections.extend(tail);
    request(message, chat_id, &sections.join("\n\n"))
}

/// The links to acknowledge and to open the incident, on one line, when there are any.
fn links(message: &Message) -> Option<String> {
    let mut links = Vec::new();
    if let Some(url) = &message.ack_url {
        links.push(format!("<a href=\"{}\">Acknowledge</a>", html_escape(url)));
    }
    if let Some(url) = &message.url {
        links.push(format!(
            "<a href=\"{}\">Open incident</a>",
            html_escape(url)
        ));
    }
    (!links.is_empty()).then(|| links.join(" · "))
}

/// The request around `text`, with the link buttons.
fn request(message: &Message, chat_id: &str, text: &str) -> Value {
    let mut body = json!({
        "chat_id": chat_id,
        "text": text,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": true},
    });
    let buttons: Vec<Value> = [
        ("Acknowledge", &message.ack_url),
        ("Open incident", &message.url),
    ]
    .into_iter()
    .filter_map(|(label, url)| {
        // Telegram refuses buttons to plain-HTTP and local addresses and would refuse the whole
        // message with them; such links stay in the text.
        let url = url.as_deref().filter(|url| url.starts_with("https://"))?;
        Some(json!({"text": label, "url": url}))
    })
    .collect();
    if !buttons.is_empty() {
        body["reply_markup"] = json!({"inline_keyboard": [buttons]});
    }
    body
}

/// The `sendMessage` URL of the bot `token` on the Bot API at `api`.
#[must_use]
pub fn send_message_url(api: &str, token: &str) -> String {
    format!("{}/bot{token}/sendMessage", api.trim_end_matches('/'))
}

/// Reads Telegram's answer: `ok: true` is success; otherwise its `description`, and
/// `parameters.retry_after` for a 429.
pub fn classify(reply: &HttpReply) -> Result<Sent, SendError> {
    let body: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    let ok = body.get("ok").and_then(Value::as_bool);
    if reply.is_success() && ok != Some(false) {
        let detail = match body.pointer("/result/message_id").and_then(Value::as_i64) {
            Some(id) => format!("message {id}"),
            None => reply.detail(),
        };
        return Ok(Sent {
            status: reply.status,
            detail,
        });
    }
    let retry_after = body.pointer("/parameters/retry_after").and_then(seconds);
    let mut text = body
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(chat) = body.pointer("/parameters/migrate_to_chat_id") {
        text = Some(format!(
            "{}; the group is now the supergroup {chat}: use that chat_id",
            text.unwrap_or_default()
        ));
    }
    // A refusal inside a 200 (not seen in practice) is read as a refusal.
    let reply = if reply.is_success() {
        &HttpReply {
            status: 400,
            ..reply.clone()
        }
    } else {
        reply
    };
    Err(reply.failure("Telegram", retry_after, text))
}

/// A mention of the paged person: a link to their user id, their `@username`, or their name.
fn mention(message: &Message) -> Option<String> {
    let recipient = message.recipient.as_ref()?;
    let name = html_escape(&recipient.name);
    let handle = recipient.handle.as_deref().unwrap_or("").trim();
    Some(
        if !handle.is_empty() && handle.chars().all(|c| c.is_ascii_digit()) {
            format!("<a href=\"tg://user?id={handle}\">{name}</a>")
        } else if let Some(username) = username(handle) {
            format!("@{username}")
        } else {
            format!("<b>{name}</b>")
        },
    )
}

/// A Telegram username: 5 to 32 letters, digits and underscores, `@` optional.
fn username(handle: &str) -> Option<&str> {
    let name = handle.strip_prefix('@').unwrap_or(handle);
    ((5..=32).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(name)
}
