//! Wording shared by every channel: the drill marker, the title line, the folded-in count,
//! escaping and truncation, and the parts of a message a responder wrote.

use crate::{Authored, Message};

/// The drill mark as it leads a text.
const DRILL_MARK: &str = "[DRILL]";

/// `[DRILL] ` for an exercise, nothing otherwise.
pub(crate) fn drill_prefix(message: &Message) -> &'static str {
    if message.drill { "[DRILL] " } else { "" }
}

/// `P0 Critical`, or `P0` when the severity has no name.
pub(crate) fn severity_label(message: &Message) -> String {
    match &message.severity_name {
        Some(name) if !name.is_empty() => format!("{} {name}", message.severity),
        _ => message.severity.clone(),
    }
}

/// `[DRILL] P0 INC-20261121-001: Bridge halted`.
pub(crate) fn title_line(message: &Message) -> String {
    format!(
        "{}{} {}: {}",
        drill_prefix(message),
        message.severity,
        message.incident,
        message.title
    )
}

/// The heading of a message a responder wrote, as the drill mark and the rest: the mark is
/// `[DRILL] ` for a drill (taken off the subject when it already starts with it, so it is not
/// doubled), and the rest is the subject on one line, or `P0 INC-20261121-001: Bridge halted`
/// when the subject is absent or blank. The two are apart so a format can escape the rest for
/// its markup and keep the mark as it is.
pub(crate) fn authored_heading(message: &Message, authored: &Authored) -> (&'static str, String) {
    let subject = authored
        .subject
        .as_deref()
        .map(one_line)
        .filter(|subject| !subject.trim().is_empty());
    let rest = match subject {
        Some(subject) => {
            let subject = subject.trim();
            match subject.strip_prefix(DRILL_MARK) {
                Some(unmarked) if message.drill && !unmarked.trim().is_empty() => {
                    unmarked.trim_start().to_owned()
                }
                _ => subject.to_owned(),
            }
        }
        None => one_line(&format!(
            "{} {}: {}",
            message.severity, message.incident, message.title
        )),
    };
    (drill_prefix(message), rest)
}

/// The heading of a message a responder wrote as one string: [`authored_heading`] joined.
pub(crate) fn authored_title(message: &Message, authored: &Authored) -> String {
    let (mark, rest) = authored_heading(message, authored);
    format!("{mark}{rest}")
}

/// `[DRILL] ` for a drill whose `text` does not already start with the mark, nothing otherwise.
pub(crate) fn drill_mark_unless_marked(message: &Message, text: &str) -> &'static str {
    if text.trim_start().starts_with(DRILL_MARK) {
        ""
    } else {
        drill_prefix(message)
    }
}

/// Whether a drill's text needs the mark added: it is a drill and `text` does not start with it.
pub(crate) fn needs_drill_mark(message: &Message, text: &str) -> bool {
    !drill_mark_unless_marked(message, text).is_empty()
}

/// `body` as HTML paragraphs: split on blank lines, each paragraph's lines escaped and joined by
/// `<br>`.
pub(crate) fn html_paragraphs(body: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for line in body.lines() {
        if line.trim().is_empty() {
            if !lines.is_empty() {
                paragraphs.push(format!("<p>{}</p>", lines.join("<br>")));
                lines.clear();
            }
        } else {
            lines.push(html_escape(line));
        }
    }
    if !lines.is_empty() {
        paragraphs.push(format!("<p>{}</p>", lines.join("<br>")));
    }
    paragraphs
}

/// `text` with line breaks and other control characters turned into spaces, for a header.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `text` escaped character by character with `escape`, cut so the result has at most `max`
/// characters and ends in `…` when cut. The cut falls between two escaped characters, so it never
/// splits an escape (`&amp;`) or a character.
pub(crate) fn truncate_escaped(text: &str, max: usize, escape: fn(char, &mut String)) -> String {
    let mut escaped = String::with_capacity(text.len());
    let mut length = 0;
    // Where the text ended when it last left room for the `…`.
    let mut fits = 0;
    let mut piece = String::new();
    for character in text.chars() {
        piece.clear();
        escape(character, &mut piece);
        let added = piece.chars().count();
        if length + added > max {
            escaped.truncate(fits);
            escaped.push('…');
            return escaped;
        }
        escaped.push_str(&piece);
        length += added;
        if length < max {
            fits = escaped.len();
        }
    }
    escaped
}

/// One character escaped for HTML, as [`html_escape`] does.
pub(crate) fn html_escape_char(character: char, into: &mut String) {
    match character {
        '&' => into.push_str("&amp;"),
        '<' => into.push_str("&lt;"),
        '>' => into.push_str("&gt;"),
        '"' => into.push_str("&quot;"),
        other => into.push(other),
    }
}

/// `+3 more notifications folded in`, when any were.
pub(crate) fn folded_line(message: &Message) -> Option<String> {
    match message.folded {
        0 => None,
        1 => Some("+1 more notification folded in".to_owned()),
        more => Some(format!("+{more} more notifications folded in")),
    }
}

/// `text` with `&`, `<`, `>` and `"` escaped for HTML (text and attribute values).
pub(crate) fn html_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        html_escape_char(character, &mut escaped);
    }
    escaped
}

/// `text` cut to at most `max` characters, ending in `…` when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters_and_marks_the_cut() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("ééééé", 3), "éé…");
        assert_eq!(truncate("abc", 3), "abc");
    }

    #[test]
    fn escaped_truncation_never_splits_an_escape_or_a_character() {
        assert_eq!(truncate_escaped("a<b", 10, html_escape_char), "a&lt;b");
        assert_eq!(truncate_escaped("a<b", 6, html_escape_char), "a&lt;b");
        assert_eq!(truncate_escaped("a<bc", 6, html_escape_char), "a&lt;…");
        // `a&lt;` and the mark would be 6: the escape goes whole.
        assert_eq!(truncate_escaped("a<bc", 5, html_escape_char), "a…");
        assert_eq!(truncate_escaped("ééé&", 4, html_escape_char), "ééé…");
        assert_eq!(truncate_escaped("🚨🚨🚨", 2, html_escape_char), "🚨…");
    }

    #[test]
    fn paragraphs_split_on_blank_lines_and_lines_break() {
        assert_eq!(
            html_paragraphs("Dear <you>,\r\n\r\n\r\nOne\ntwo & three\n  \nBye\n"),
            [
                "<p>Dear &lt;you&gt;,</p>",
                "<p>One<br>two &amp; three</p>",
                "<p>Bye</p>"
            ]
        );
        assert!(html_paragraphs(" \n\n").is_empty());
    }

    #[test]
    fn an_authored_heading_is_the_subject_or_the_title_line_marked_once() {
        let mut message = Message {
            incident: "INC-20261121-001".to_owned(),
            title: "Bridge\nhalted".to_owned(),
            severity: "P0".to_owned(),
            severity_name: None,
            status: "investigating".to_owned(),
            headline: String::new(),
            lines: vec![],
            drill: true,
            url: None,
            ack_url: None,
            folded: 0,
            recipient: None,
            authored: None,
        };
        let authored = |subject: Option<&str>| Authored {
            subject: subject.map(str::to_owned),
            body: String::new(),
        };
        assert_eq!(
            authored_heading(&message, &authored(Some(" Status\nupdate "))),
            ("[DRILL] ", "Status update".to_owned())
        );
        assert_eq!(
            authored_title(&message, &authored(Some("[DRILL] Status"))),
            "[DRILL] Status"
        );
        assert_eq!(
            authored_title(&message, &authored(Some("  "))),
            "[DRILL] P0 INC-20261121-001: Bridge halted"
        );
        message.drill = false;
        assert_eq!(
            authored_title(&message, &authored(Some("Status"))),
            "Status"
        );
        assert_eq!(
            authored_title(&message, &authored(None)),
            "P0 INC-20261121-001: Bridge halted"
        );
    }

    #[test]
    fn html_escaping_covers_text_and_attributes() {
        assert_eq!(
            html_escape(r#"<a href="x">&</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
