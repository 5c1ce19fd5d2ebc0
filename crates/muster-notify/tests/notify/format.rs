//! Every format, apart from sending: the full bodies as reviewed snapshots, and the properties
//! each must keep — the drill marker, escaped user text, the acknowledge link, the folded-in
//! count, the services' length limits.

use muster_notify::{Message, discord, email, matrix, pagerduty, slack, telegram, webhook};
use serde_json::Value;

use crate::{NOW, bare, page};

/// A message whose every text tries to inject markup.
fn hostile() -> Message {
    Message {
        title: "<b>bold</b> & <@U999> <!channel> [x](https://evil.example) *star*".to_owned(),
        headline: "Paged <a href=\"https://evil.example\">now</a>".to_owned(),
        lines: vec!["<script>alert(1)</script>".to_owned(), "a & b".to_owned()],
        ..page()
    }
}

#[test]
fn the_full_bodies_of_a_drill_page() {
    let message = page();
    insta::assert_json_snapshot!("slack", slack::format(&message, Some("#incidents")));
    insta::assert_json_snapshot!("discord", discord::format(&message));
    insta::assert_json_snapshot!("telegram", telegram::format(&message, "-1001234567890"));
    insta::assert_json_snapshot!("matrix", matrix::format(&message));
    insta::assert_json_snapshot!("webhook", webhook::format(&message, "delivery-1", NOW));
    insta::assert_json_snapshot!("pagerduty", pagerduty::format(&message, "ROUTING-KEY"));
    let mail = email::format(&message);
    insta::assert_snapshot!(
        "email",
        format!(
            "Subject: {}\n\n{}\n----- HTML -----\n{}",
            mail.subject, mail.text, mail.html
        )
    );
}

#[test]
fn the_full_bodies_of_a_bare_real_page() {
    let message = bare();
    insta::assert_json_snapshot!("slack_bare", slack::format(&message, None));
    insta::assert_json_snapshot!("telegram_bare", telegram::format(&message, "@ops"));
    insta::assert_json_snapshot!("pagerduty_bare", pagerduty::format(&message, "ROUTING-KEY"));
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

#[test]
fn every_format_marks_a_drill_and_only_a_drill() {
    let drill = page();
    let mut real = page();
    real.drill = false;
    for (message, marked) in [(&drill, true), (&real, false)] {
        let slack = slack::format(message, None);
        let discord = discord::format(message);
        let telegram = telegram::format(message, "1");
        let matrix = matrix::format(message);
        let webhook = webhook::format(message, "d", NOW);
        let pagerduty = pagerduty::format(message, "k");
        let mail = email::format(message);
        let leads = [
            slack["text"].as_str().unwrap(),
            slack["blocks"][0]["text"]["text"].as_str().unwrap(),
            discord["content"].as_str().unwrap(),
            discord["embeds"][0]["title"].as_str().unwrap(),
            telegram["text"].as_str().unwrap().trim_start_matches("<b>"),
            matrix["body"].as_str().unwrap(),
            pagerduty["payload"]["summary"].as_str().unwrap(),
            &mail.subject,
            &mail.text,
        ];
        for lead in leads {
            assert_eq!(lead.starts_with("[DRILL] "), marked, "{lead}");
        }
        assert_eq!(webhook["drill"], marked);
        assert_eq!(
            pagerduty["payload"]["severity"],
            if marked { "info" } else { "critical" }
        );
    }
}

#[test]
fn user_text_cannot_inject_markup() {
    let message = hostile();

    let telegram = telegram::format(&message, "1");
    let text = telegram["text"].as_str().unwrap();
    assert!(
        text.contains("&lt;b&gt;bold&lt;/b&gt; &amp; &lt;@U999&gt;"),
        "{text}"
    );
    assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(text.contains("Paged &lt;a href=&quot;https://evil.example&quot;&gt;now&lt;/a&gt;"));
    assert!(!text.contains("<script>") && !text.contains("<a href=\"https://evil"));

    let matrix = matrix::format(&message);
    let html = matrix["formatted_body"].as_str().unwrap();
    assert!(
        html.contains("<li>&lt;script&gt;alert(1)&lt;/script&gt;</li><li>a &amp; b</li>"),
        "{html}"
    );
    assert!(!html.contains("<script>") && !html.contains("<a href=\"https://evil"));
    // The plain body is plain text: shown as written.
    assert!(
        matrix["body"]
            .as_str()
            .unwrap()
            .contains("<script>alert(1)</script>")
    );

    let slack = slack::format(&message, None);
    // The header is plain text, where Slack forms no mention; everything after it is mrkdwn.
    let all = strings(&Value::Array(
        slack["blocks"].as_array().unwrap()[1..].to_vec(),
    ));
    assert!(
        !all.contains("<@U999>") && !all.contains("<!channel>"),
        "{all}"
    );
    assert!(
        slack["text"]
            .as_str()
            .unwrap()
            .contains("&lt;@U999&gt; &lt;!channel&gt;")
    );

    let discord = discord::format(&message);
    let description = discord["embeds"][0]["description"].as_str().unwrap();
    assert!(
        description.contains("\\<script\\>alert(1)\\</script\\>"),
        "{description}"
    );
    assert_eq!(discord["allowed_mentions"]["parse"], serde_json::json!([]));

    let mail = email::format(&message);
    assert!(mail.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!mail.html.contains("<script>"));
}

#[test]
fn the_acknowledge_link_and_the_folded_count_are_in_every_chat_format() {
    let message = page();
    let ack = message.ack_url.clone().unwrap();
    let folded = "+2 more notifications folded in";
    for (name, body) in [
        ("slack", slack::format(&message, None)),
        ("discord", discord::format(&message)),
        ("telegram", telegram::format(&message, "1")),
        ("matrix", matrix::format(&message)),
    ] {
        let all = strings(&body);
        // Telegram's and Matrix's HTML escape the & in the link's query.
        assert!(
            all.contains(&ack) || all.contains(&ack.replace('&', "&amp;")),
            "{name}: {all}"
        );
        assert!(all.contains(folded), "{name}: {all}");
    }
    let mail = email::format(&message);
    assert!(mail.text.contains(&ack) && mail.text.contains(folded));

    let mut one = page();
    one.folded = 1;
    assert!(strings(&slack::format(&one, None)).contains("+1 more notification folded in"));
    assert!(!strings(&slack::format(&bare(), None)).contains("folded"));
    let webhook = webhook::format(&page(), "d", NOW);
    assert_eq!(webhook["folded"], 2);
    assert_eq!(webhook["ack_url"], ack.as_str());
}

#[test]
fn long_texts_are_cut_to_each_services_limits() {
    let mut message = page();
    message.title = "x".repeat(5000);
    message.lines = (0..200)
        .map(|n| format!("{n}: {}", "y".repeat(400)))
        .collect();
    let length = |value: &Value| value.as_str().unwrap().chars().count();

    let slack = slack::format(&message, None);
    assert_eq!(length(&slack["blocks"][0]["text"]["text"]), 150);
    assert!(
        slack["blocks"][0]["text"]["text"]
            .as_str()
            .unwrap()
            .ends_with('…')
    );
    assert!(length(&slack["blocks"][2]["text"]["text"]) <= 3000);
    assert!(length(&slack["text"]) <= 4000);

    let discord = discord::format(&message);
    assert_eq!(length(&discord["embeds"][0]["title"]), 256);
    assert!(length(&discord["embeds"][0]["description"]) <= 4096);

    let telegram = telegram::format(&message, "1");
    let text = telegram["text"].as_str().unwrap();
    assert!(text.chars().count() <= 4096, "{}", text.chars().count());
    assert!(text.contains("\n…\n"), "dropped lines are marked");
    assert!(text.ends_with("Open incident</a>"), "the links survive");

    let pagerduty = pagerduty::format(&message, "k");
    assert_eq!(length(&pagerduty["payload"]["summary"]), 1024);

    assert!(email::format(&message).subject.chars().count() <= 200);
}

#[test]
fn mentions_use_each_services_own_form() {
    let with_handle = |handle: &str| {
        let mut message = page();
        if let Some(recipient) = &mut message.recipient {
            recipient.handle = Some(handle.to_owned());
        }
        message
    };
    let slack = slack::format(&with_handle("U024BE7LH"), None);
    assert!(
        slack["blocks"][1]["text"]["text"]
            .as_str()
            .unwrap()
            .ends_with("<@U024BE7LH>")
    );
    let slack = slack::format(&page(), None);
    assert!(
        slack["blocks"][1]["text"]["text"]
            .as_str()
            .unwrap()
            .ends_with("*Alice Example*")
    );

    let discord = discord::format(&with_handle("alice#1234"));
    assert_eq!(discord["allowed_mentions"]["users"], serde_json::json!([]));

    let telegram = telegram::format(&with_handle("123456789"), "1");
    assert!(
        telegram["text"]
            .as_str()
            .unwrap()
            .contains("<a href=\"tg://user?id=123456789\">Alice Example</a>")
    );
    let telegram = telegram::format(&with_handle("@alice_oncall"), "1");
    assert!(
        telegram["text"]
            .as_str()
            .unwrap()
            .contains(" @alice_oncall")
    );

    let matrix = matrix::format(&with_handle("alice"));
    assert_eq!(matrix["m.mentions"]["user_ids"], serde_json::json!([]));
}
