//! Telegram's Bot API `sendMessage`: `{"ok": true}`, `{"ok": false, "description"}`, and 429 with
//! `parameters.retry_after`. The bot token sits in the URL's path and must never show.

use std::time::Duration;

use muster_core::plan::Channel;
use muster_notify::{Destination, Endpoints};
use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::{NOW, closed_port, page, resolve, sender};

const TOKEN: &str = "123456:AAbbCCddEEffSECRET";

fn destination(api: &str) -> Destination {
    resolve(
        &Channel::Telegram {
            token_env: "TELEGRAM_TOKEN".to_owned(),
            chat_id: "-1001234567890".to_owned(),
        },
        &[("TELEGRAM_TOKEN", TOKEN)],
        &Endpoints {
            telegram_api: api.to_owned(),
            ..Endpoints::default()
        },
    )
}

async fn telegram() -> (Fake, Destination) {
    let fake = Fake::start(|_| {
        Reply::json(
            200,
            &json!({"ok": true, "result": {"message_id": 42, "chat": {"id": -1_001_234_567_890_i64}, "date": 1_795_251_600}}),
        )
    })
    .await;
    let destination = destination(&fake.base);
    (fake, destination)
}

#[tokio::test]
async fn a_page_is_sent_as_html_with_link_buttons() {
    let (fake, destination) = telegram().await;
    let mut message = page();
    message.title = "Bridge <b>halted</b> & drained".to_owned();
    let sent = sender()
        .send(&destination, &message, "delivery-1", NOW)
        .await
        .unwrap();
    assert_eq!((sent.status, sent.detail.as_str()), (200, "message 42"));

    let request = fake.last();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, format!("/bot{TOKEN}/sendMessage"));
    let body = request.json();
    assert_eq!(body["chat_id"], "-1001234567890");
    assert_eq!(body["parse_mode"], "HTML");
    assert_eq!(body["link_preview_options"], json!({"is_disabled": true}));
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with(
            "<b>[DRILL] P0 INC-20261121-001: Bridge &lt;b&gt;halted&lt;/b&gt; &amp; drained</b>"
        ),
        "{text}"
    );
    assert!(text.contains("<i>+2 more notifications folded in</i>"));
    assert_eq!(
        body["reply_markup"]["inline_keyboard"][0][0],
        json!({"text": "Acknowledge", "url": message.ack_url.unwrap()})
    );
}

#[tokio::test]
async fn failures_carry_the_description_and_the_wait_and_never_the_token() {
    let (fake, destination) = telegram().await;
    let sender = sender();
    fake.then(Reply::json(
        429,
        &json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 5", "parameters": {"retry_after": 5}}),
    ));
    fake.then(Reply::json(
        400,
        &json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
    ));
    fake.then(Reply::json(
        401,
        &json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
    ));
    fake.then(Reply::json(
        403,
        &json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was kicked from the supergroup chat"}),
    ));
    // A proxy that repeats the path it could not route.
    fake.then(Reply::text(
        502,
        &format!("no upstream for /bot{TOKEN}/sendMessage"),
    ));

    let error = sender
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!(
        (error.retryable, error.status, error.retry_after),
        (true, Some(429), Some(Duration::from_secs(5)))
    );
    assert_eq!(
        error.message,
        "Telegram answered 429: Too Many Requests: retry after 5"
    );
    let error = sender
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!(
        (error.retryable, error.message.as_str()),
        (false, "Telegram answered 400: Bad Request: chat not found")
    );
    let error = sender
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!((error.retryable, error.status), (false, Some(401)));
    let error = sender
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!((error.retryable, error.status), (false, Some(403)));
    let error = sender
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!((error.retryable, error.status), (true, Some(502)));
    assert_eq!(
        error.message,
        "Telegram answered 502: no upstream for /bot[redacted]/sendMessage"
    );
}

#[tokio::test]
async fn an_unreachable_api_is_retryable_and_the_error_shows_no_url() {
    let destination = destination(&format!("http://127.0.0.1:{}", closed_port()));
    let error = sender()
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert!(error.retryable, "{error:?}");
    assert_eq!(error.status, None);
    assert!(!error.message.contains("SECRET"), "{}", error.message);
    assert!(!error.message.contains("/bot"), "{}", error.message);
    assert!(
        error.message.starts_with("request failed: "),
        "{}",
        error.message
    );
}
