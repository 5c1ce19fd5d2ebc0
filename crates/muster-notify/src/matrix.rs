//! Matrix, through the client-server API: `PUT
//! {homeserver}/_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}` with `Authorization:
//! Bearer {token}` and an `m.text` message: a plain `body` and an HTML `formatted_body`
//! (`org.matrix.custom.html`, user text escaped), with the paged person in `m.mentions`.
//!
//! A message a responder wrote is sent as written: the plain `body` is its subject (the title
//! line when it has none), a blank line and the body; the HTML is the subject in bold and the
//! body's paragraphs, escaped; both end with the incident's link. It mentions nobody.
//!
//! The transaction id is the delivery's id, so a retry of a send the homeserver already took
//! is not posted twice. Success is `200 {"event_id": …}`; a refusal is `{"errcode", "error"}`
//! (`M_FORBIDDEN`, `M_UNKNOWN_TOKEN`), and rate limiting `429 M_LIMIT_EXCEEDED` with
//! `Retry-After` or `retry_after_ms`.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::send::{HttpReply, SendError, Sent};
use crate::text::{
    authored_title, folded_line, html_escape, html_paragraphs, severity_label, title_line,
};
use crate::{Authored, Message};

/// The message event's content.
#[must_use]
pub fn format(message: &Message) -> Value {
    if let Some(authored) = &message.authored {
        return format_authored(message, authored);
    }
    let mention = message.recipient.as_ref().map(|recipient| {
        let user_id = recipient
            .handle
            .as_deref()
            .filter(|handle| is_user_id(handle));
        (recipient.name.as_str(), user_id)
    });

    let mut plain = vec![title_line(message)];
    let mut html = vec![format!(
        "<strong>{}</strong>",
        html_escape(&title_line(message))
    )];
    match mention {
        Some((name, Some(user_id))) => {
            plain.push(format!("{} {name}", message.headline));
            html.push(format!(
                "<strong>{}</strong> <a href=\"https://matrix.to/#/{}\">{}</a>",
                html_escape(&message.headline),
                html_escape(user_id),
                html_escape(name)
            ));
        }
        Some((name, None)) => {
            plain.push(format!("{} {name}", message.headline));
            html.push(format!(
                "<strong>{}</strong> {}",
                html_escape(&message.headline),
                html_escape(name)
            ));
        }
        None => {
            plain.push(message.headline.clone());
            html.push(format!(
                "<strong>{}</strong>",
                html_escape(&message.headline)
            ));
        }
    }
    let facts = format!(
        "Severity: {} · Status: {}",
        severity_label(message),
        message.status
    );
    html.push(html_escape(&facts));
    plain.push(facts);

    let mut plain_sections = vec![plain.join("\n")];
    let mut html_sections = vec![format!("<p>{}</p>", html.join("<br>"))];
    if !message.lines.is_empty() {
        plain_sections.push(message.lines.join("\n"));
        let items: Vec<String> = message
            .lines
            .iter()
            .map(|line| format!("<li>{}</li>", html_escape(line)))
            .collect();
        html_sections.push(format!("<ul>{}</ul>", items.concat()));
    }
    let mut plain_tail = Vec::new();
    let mut html_tail = Vec::new();
    if let Some(folded) = folded_line(message) {
        html_tail.push(format!("<em>{folded}</em>"));
        plain_tail.push(folded);
    }
    let mut links = Vec::new();
    for (label, url) in [
        ("Acknowledge", &message.ack_url),
        ("Open incident", &message.url),
    ] {
        if let Some(url) = url {
            plain_tail.push(format!("{label}: {url}"));
            links.push(format!("<a href=\"{}\">{label}</a>", html_escape(url)));
        }
    }
    if !links.is_empty() {
        html_tail.push(links.join(" · "));
    }
    if !plain_tail.is_empty() {
        plain_sections.push(plain_tail.join("\n"));
        html_sections.push(format!("<p>{}</p>", html_tail.join("<br>")));
    }

    let user_ids: Vec<&str> = mention
        .and_then(|(_, user_id)| user_id)
        .into_iter()
        .collect();
    json!({
        "msgtype": "m.text",
        "body": plain_sections.join("\n\n"),
        "format": "org.matrix.custom.html",
        "formatted_body": html_sections.concat(),
        "m.mentions": {"user_ids": user_ids},
    })
}

/// The message event's content for a message a responder wrote.
fn format_authored(message: &Message, authored: &Authored) -> Value {
    let title = authored_title(message, authored);
    let body = authored.body.trim_end();
    let mut plain = vec![title.clone()];
    let mut html = vec![format!("<p><strong>{}</strong></p>", html_escape(&title))];
    if !body.trim().is_empty() {
        plain.push(body.to_owned());
        html.extend(html_paragraphs(body));
    }
    if let Some(url) = &message.url {
        plain.push(format!("Open incident: {url}"));
        html.push(format!(
            "<p><a href=\"{}\">Open incident</a></p>",
            html_escape(url)
        ));
    }
    json!({
        "msgtype": "m.text",
        "body": plain.join("\n\n"),
        "format": "org.matrix.custom.html",
        "formatted_body": html.concat(),
        "m.mentions": {"user_ids": []},
    })
}

/// The URL that sends a message event to `room_id` under the transaction id `txn_id`.
#[must_use]
pub fn send_url(homeserver: &str, room_id: &str, txn_id: &str) -> String {
    format!(
        "{}/_matrix/client/v3/rooms/{}/send/m.room.message/{}",
        homeserver.trim_end_matches('/'),
        encode_segment(room_id),
        encode_segment(txn_id)
    )
}

/// Reads the homeserver's answer: `200` with the event id is success; otherwise `errcode` and
/// `error`, and the wait for `M_LIMIT_EXCEEDED`.
pub fn classify(reply: &HttpReply) -> Result<Sent, SendError> {
    let body: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    if reply.is_success() {
        let detail = match body.get("event_id").and_then(Value::as_str) {
            Some(id) => format!("event {id}"),
            None => reply.detail(),
        };
        return Ok(Sent {
            status: reply.status,
            detail,
        });
    }
    let retry_after = reply.retry_after.or_else(|| {
        body.get("retry_after_ms")
            .and_then(Value::as_u64)
            .map(Duration::from_millis)
    });
    let errcode = body.get("errcode").and_then(Value::as_str);
    let error = body.get("error").and_then(Value::as_str);
    let text = match (errcode, error) {
        (Some(code), Some(error)) => Some(format!("{code}: {error}")),
        (Some(text), None) | (None, Some(text)) => Some(text.to_owned()),
        (None, None) => None,
    };
    Err(reply.failure("Matrix", retry_after, text))
}

/// A Matrix user id: `@localpart:server`.
fn is_user_id(handle: &str) -> bool {
    handle
        .strip_prefix('@')
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(local, server)| !local.is_empty() && !server.is_empty())
}

/// `segment` percent-encoded for a URL path: everything but unreserved characters.
fn encode_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}
