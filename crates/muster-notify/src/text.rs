//! Wording shared by every channel: the drill marker, the title line, the folded-in count,
//! escaping and truncation.

use crate::Message;

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
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            other => escaped.push(other),
        }
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
    fn html_escaping_covers_text_and_attributes() {
        assert_eq!(
            html_escape(r#"<a href="x">&</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
