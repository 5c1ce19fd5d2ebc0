//! Messages a responder wrote, in every format: their subject and whole body sent as written
//! (escaped for each service's markup), none of the headline and detail lines a notification
//! carries, the drill mark once, and the services' length limits kept without losing text or
//! cutting a character or an escape in two.

use muster_notify::{
    Authored, Message, discord, email, matrix, pagerduty, slack, telegram, webhook,
};
use serde_json::{Value, json};

use crate::{NOW, page};

const SUBJECT: &str = "Service disruption: <b>payments</b> & refunds";
const BODY: &str = "Dear Valued Customer,\n\n\
                    We are looking into <b>delays</b> & errors with payments.\n\
                    Refunds may take longer than usual.\n\n\
                    Kind regards,\nThe Example team";

/// The page (a drill, with every link) carrying `subject` and `body` a responder wrote.
fn authored(subject: Option<&str>, body: &str) -> Message {
    Message {
        authored: Some(Authored {
            subject: subject.map(str::to_owned),
            body: body.to_owned(),
        }),
        ..page()
    }
}

/// The customer email of the tests.
fn customer_email() -> Message {
    authored(Some(SUBJECT), BODY)
}

/// Every string inside `value`, joined.
fn strings(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(strings).collect::<Vec<_>>().join("\n"),
        Value::Object(map) => map.values().map(strings).collect::<Vec<_>>().join("\n"),
        _ => String::new(),
    }
}

/// `text` escaped for HTML as Telegram and Matrix take it.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Asserts that `all` holds nothing of the page's automatic wording.
#[track_caller]
fn assert_no_notification_wording(name: &str, all: &str) {
    let page = page();
    for automatic in page.lines.iter().chain([
        &page.headline,
        &"Bridge relayer halted".to_owned(),
        &"Critical".to_owned(),
        &"investigating".to_owned(),
        &"Alice Example".to_owned(),
        &"folded in".to_owned(),
    ]) {
        assert!(
            !all.contains(automatic.as_str()),
            "{name}: {automatic:?} in {all}"
        );
    }
}

/// The section texts of a Slack body.
fn slack_sections(body: &Value) -> Vec<String> {
    body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|block| block["type"] == "section")
        .map(|block| block["text"]["text"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn slack_sends_the_subject_as_header_and_the_body_in_sections() {
    let body = slack::format(&customer_email(), Some("#incident"));
    let kinds: Vec<&str> = body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|block| block["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["header", "section", "actions"]);
    assert_eq!(body["channel"], "#incident");
    assert_eq!(body["blocks"][0]["text"]["type"], "plain_text");
    assert_eq!(
        body["blocks"][0]["text"]["text"],
        format!("[DRILL] {SUBJECT}")
    );
    assert_eq!(
        body["text"],
        "[DRILL] Service disruption: &lt;b&gt;payments&lt;/b&gt; &amp; refunds"
    );
    assert_eq!(body["blocks"][1]["text"]["type"], "mrkdwn");
    assert_eq!(slack_sections(&body), [slack::escape(BODY)]);
    assert!(body["blocks"][1].get("fields").is_none());
    let buttons = body["blocks"][2]["elements"].as_array().unwrap();
    assert_eq!(buttons.last().unwrap()["url"], page().url.unwrap().as_str());
    assert_no_notification_wording("slack", &strings(&body));
}

#[test]
fn slack_falls_back_to_the_first_line_of_the_body_for_its_text() {
    let body = slack::format(&authored(None, "\n  Payments <are> back.\nMore."), None);
    assert_eq!(body["text"], "[DRILL] Payments &lt;are&gt; back.");
    assert_eq!(
        body["blocks"][0]["text"]["text"],
        "[DRILL] P0 INC-20261121-001: Bridge relayer halted"
    );
    let mut real = authored(None, "[DRILL] Payments are back.");
    assert_eq!(
        slack::format(&real, None)["text"],
        "[DRILL] Payments are back.",
        "a body marked already is not marked twice"
    );
    real.drill = false;
    real.authored = Some(Authored {
        subject: None,
        body: "Payments are back.".to_owned(),
    });
    let body = slack::format(&real, None);
    assert_eq!(body["text"], "Payments are back.");
    assert!(!strings(&body).contains("DRILL"));
}

#[test]
fn a_long_body_goes_into_several_slack_sections_and_nothing_is_lost() {
    let long = (1..=120)
        .map(|n| format!("Paragraph {n}: the <b>refund</b> queue & the ledger are draining."))
        .collect::<Vec<_>>()
        .join("\n\n");
    assert!(long.chars().count() > 3000);
    let body = slack::format(&authored(Some(SUBJECT), &long), None);
    let sections = slack_sections(&body);
    assert!(sections.len() >= 3, "{}", sections.len());
    for section in &sections {
        assert!(
            section.chars().count() <= 3000,
            "{}",
            section.chars().count()
        );
        assert!(!section.trim().is_empty());
    }
    // The sections break between lines: joined with line breaks they are the whole body.
    assert_eq!(sections.join("\n"), slack::escape(long.trim_end()),);
    assert_eq!(
        sections.join("\n").matches("Paragraph ").count(),
        120,
        "every paragraph is there"
    );

    // One line longer than a section is cut between characters, never inside an escape.
    let line: String = "é&<x".repeat(1500);
    let body = slack::format(&authored(Some(SUBJECT), &line), None);
    let sections = slack_sections(&body);
    assert!(sections.len() >= 2);
    assert!(
        sections
            .iter()
            .all(|section| section.chars().count() <= 3000)
    );
    assert_eq!(sections.concat(), slack::escape(&line));
    for section in &sections {
        for (at, _) in section.match_indices('&') {
            let rest = &section[at..];
            assert!(
                rest.starts_with("&amp;") || rest.starts_with("&lt;") || rest.starts_with("&gt;"),
                "a cut escape: {}",
                &rest[..rest.len().min(8)]
            );
        }
    }
    assert!(body["blocks"].as_array().unwrap().len() <= 50);

    // A body that would need more blocks than Slack allows ends, marked, in the last one.
    let huge = vec!["<&>".repeat(200); 60].join("\n\n");
    let body = slack::format(&authored(Some(SUBJECT), &huge), None);
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 50);
    assert_eq!(blocks.last().unwrap()["type"], "actions");
    let sections = slack_sections(&body);
    assert_eq!(sections.len(), 48);
    let last = sections.last().unwrap();
    assert!(last.ends_with('…') && last.chars().count() <= 3000);
    assert!(slack::escape(&huge).starts_with(&sections[..47].join("\n")));
}

#[test]
fn discord_sends_the_subject_as_content_and_title_and_the_body_as_description() {
    let body = discord::format(&customer_email());
    assert_eq!(
        body["content"],
        format!("[DRILL] {}", discord::escape(SUBJECT))
    );
    let embeds = body["embeds"].as_array().unwrap();
    assert_eq!(embeds.len(), 1);
    let embed = &embeds[0];
    assert_eq!(embed["title"], format!("[DRILL] {SUBJECT}"));
    assert_eq!(embed["url"], page().url.unwrap().as_str());
    assert_eq!(embed["description"], discord::escape(BODY));
    assert!(
        embed["description"]
            .as_str()
            .unwrap()
            .contains("\\<b\\>delays\\</b\\> & errors")
    );
    assert!(embed.get("fields").is_none());
    assert_eq!(body["allowed_mentions"], json!({"parse": [], "users": []}));
    assert_no_notification_wording("discord", &strings(&body));
}

#[test]
fn an_over_long_body_is_cut_for_discord_between_characters() {
    let long = "Статус: 🚨 <ok> ".repeat(400);
    let body = discord::format(&authored(Some(SUBJECT), &long));
    let description = body["embeds"][0]["description"].as_str().unwrap();
    assert_eq!(description.chars().count(), 4096);
    let kept = description.strip_suffix('…').expect("the cut is marked");
    assert!(discord::escape(long.trim_end()).starts_with(kept));
}

#[test]
fn telegram_sends_the_subject_in_bold_over_the_escaped_body() {
    let message = customer_email();
    let body = telegram::format(&message, "@status");
    assert_eq!(body["parse_mode"], "HTML");
    assert_eq!(body["chat_id"], "@status");
    assert_eq!(
        body["text"],
        format!(
            "<b>[DRILL] {}</b>\n\n{}\n\n<a href=\"{}\">Acknowledge</a> · <a href=\"{}\">Open incident</a>",
            html(SUBJECT),
            html(BODY),
            html(message.ack_url.as_deref().unwrap()),
            html(message.url.as_deref().unwrap()),
        )
    );
    let text = body["text"].as_str().unwrap();
    assert!(!text.contains("<b>payments") && !text.contains("<b>delays"));
    assert_no_notification_wording("telegram", text);
}

#[test]
fn an_over_long_body_is_cut_for_telegram_and_the_links_stay() {
    let long = "Статус & 🚨 <ok>\n".repeat(600);
    let message = authored(Some(SUBJECT), &long);
    let body = telegram::format(&message, "1");
    let text = body["text"].as_str().unwrap();
    assert!(text.chars().count() <= 4096, "{}", text.chars().count());
    let (head, rest) = text.split_once("\n\n").unwrap();
    assert_eq!(head, format!("<b>[DRILL] {}</b>", html(SUBJECT)));
    let (kept, links) = rest.rsplit_once("\n\n").unwrap();
    assert!(links.ends_with("Open incident</a>"), "{links}");
    let kept = kept.strip_suffix('…').expect("the cut is marked");
    assert!(
        html(&long).starts_with(kept),
        "cut inside an escape or a character"
    );
    assert!(kept.chars().count() > 3000, "the body fills the room");
}

#[test]
fn matrix_sends_the_subject_and_body_as_text_and_escaped_html() {
    let message = customer_email();
    let body = matrix::format(&message);
    let url = message.url.as_deref().unwrap();
    assert_eq!(
        body["body"],
        format!("[DRILL] {SUBJECT}\n\n{BODY}\n\nOpen incident: {url}")
    );
    assert_eq!(body["format"], "org.matrix.custom.html");
    assert_eq!(
        body["formatted_body"],
        format!(
            "<p><strong>[DRILL] {}</strong></p>\
             <p>Dear Valued Customer,</p>\
             <p>We are looking into &lt;b&gt;delays&lt;/b&gt; &amp; errors with payments.<br>\
             Refunds may take longer than usual.</p>\
             <p>Kind regards,<br>The Example team</p>\
             <p><a href=\"{}\">Open incident</a></p>",
            html(SUBJECT),
            html(url)
        )
    );
    assert_eq!(body["m.mentions"], json!({"user_ids": []}));
    assert_no_notification_wording("matrix", &strings(&body));
}

#[test]
fn the_webhook_carries_the_authored_text_as_is() {
    let body = webhook::format(&customer_email(), "delivery-1", NOW);
    assert_eq!(body["authored"], json!({"subject": SUBJECT, "body": BODY}));
    assert_eq!(body["drill"], true);
    let body = webhook::format(&authored(None, BODY), "delivery-1", NOW);
    assert_eq!(body["authored"], json!({"subject": null, "body": BODY}));
    let body = webhook::format(&page(), "delivery-1", NOW);
    assert_eq!(body["authored"], Value::Null);
}

#[test]
fn pagerduty_summarises_with_the_subject_and_carries_the_body() {
    let body = pagerduty::format(&customer_email(), "ROUTING-KEY");
    assert_eq!(body["payload"]["summary"], format!("[DRILL] {SUBJECT}"));
    let details = &body["payload"]["custom_details"];
    assert_eq!(details["body"], BODY);
    assert_eq!(details["subject"], SUBJECT);
    assert!(details.get("headline").is_none() && details.get("lines").is_none());
    assert_eq!(body["dedup_key"], "INC-20261121-001");
    let all = strings(&body);
    for automatic in page().lines.iter().chain([&page().headline]) {
        assert!(!all.contains(automatic.as_str()), "{automatic:?} in {all}");
    }

    let body = pagerduty::format(&authored(Some("  "), BODY), "ROUTING-KEY");
    assert_eq!(
        body["payload"]["summary"],
        "[DRILL] P0 INC-20261121-001: Bridge relayer halted"
    );
}

#[test]
fn email_sends_the_subject_and_the_body_as_written() {
    let message = customer_email();
    let mail = email::format(&message);
    let url = message.url.as_deref().unwrap();
    assert_eq!(mail.subject, format!("[DRILL] {SUBJECT}"));
    assert_eq!(
        mail.text,
        format!(
            "[DRILL] This is a drill: an exercise, not a real incident.\n\n{BODY}\n\nOpen the incident: {url}\n"
        )
    );
    assert!(mail.html.contains(
        "<p>We are looking into &lt;b&gt;delays&lt;/b&gt; &amp; errors with payments.<br>\
         Refunds may take longer than usual.</p>"
    ));
    assert!(!mail.html.contains("<table>") && !mail.html.contains("<b>"));
    assert_no_notification_wording("email text", &mail.text);
    assert_no_notification_wording("email html", &mail.html);
}

#[test]
fn every_format_marks_an_authored_drill_once_and_a_real_one_never() {
    let marked = authored(Some("[DRILL] Status"), "[DRILL] All clear.");
    let unmarked = authored(Some("Status"), "All clear.");
    for (name, message) in [("marked", &marked), ("unmarked", &unmarked)] {
        let mail = email::format(message);
        let bodies = [
            slack::format(message, None),
            discord::format(message),
            telegram::format(message, "1"),
            matrix::format(message),
            pagerduty::format(message, "k"),
        ];
        let leads = [
            bodies[0]["text"].as_str().unwrap(),
            bodies[0]["blocks"][0]["text"]["text"].as_str().unwrap(),
            bodies[1]["content"].as_str().unwrap(),
            bodies[1]["embeds"][0]["title"].as_str().unwrap(),
            bodies[2]["text"]
                .as_str()
                .unwrap()
                .trim_start_matches("<b>"),
            bodies[3]["body"].as_str().unwrap(),
            bodies[4]["payload"]["summary"].as_str().unwrap(),
            &mail.subject,
            &mail.text,
        ];
        for lead in leads {
            assert!(lead.starts_with("[DRILL] "), "{name}: {lead}");
        }
        let all = format!(
            "{}\n{}\n{}",
            strings(&Value::Array(bodies.to_vec())),
            mail.text,
            mail.html
        );
        assert!(!all.contains("[DRILL] [DRILL]"), "{name}: {all}");
    }

    let mut real = authored(Some("Status"), "All clear.");
    real.drill = false;
    let mail = email::format(&real);
    let all = format!(
        "{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
        strings(&slack::format(&real, None)),
        strings(&discord::format(&real)),
        strings(&telegram::format(&real, "1")),
        strings(&matrix::format(&real)),
        strings(&pagerduty::format(&real, "k")),
        mail.subject,
        mail.text,
        mail.html
    );
    assert!(!all.contains("DRILL"), "{all}");
    assert_eq!(mail.subject, "Status");
}
