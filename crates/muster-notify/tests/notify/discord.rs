//! Discord's channel webhook with `?wait=true`: 200 with the message, JSON errors, 429 with
//! `retry_after` in the body (seconds, fractional) and in `Retry-After`.

use std::time::Duration;

use muster_core::plan::Channel;
use muster_notify::{Destination, Endpoints, Recipient};
use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::{NOW, page, resolve, sender};

const HOOK_PATH: &str = "/api/webhooks/1234567890/webhook-secret-token";

async fn discord() -> (Fake, Destination) {
    let fake = Fake::start(|request| {
        if request.path.contains("wait=true") {
            Reply::json(
                200,
                &json!({"id": "1180000000000000001", "type": 0, "content": "…"}),
            )
        } else {
            Reply::empty(204)
        }
    })
    .await;
    let url = format!("{}{HOOK_PATH}", fake.base);
    let destination = resolve(
        &Channel::Discord {
            webhook_url_env: "DISCORD_WEBHOOK".to_owned(),
        },
        &[("DISCORD_WEBHOOK", &url)],
        &Endpoints::default(),
    );
    (fake, destination)
}

#[tokio::test]
async fn a_page_is_posted_with_an_embed_and_mentions_only_the_paged_person() {
    let (fake, destination) = discord().await;
    let mut message = page();
    message.recipient = Some(Recipient {
        handle: Some("80351110224678912".to_owned()),
        ..message.recipient.unwrap()
    });
    message.title = "@everyone look".to_owned();
    let sent = sender()
        .send(&destination, &message, "delivery-1", NOW)
        .await
        .unwrap();
    assert_eq!(sent.status, 200);
    assert_eq!(sent.detail, "message 1180000000000000001");

    let request = fake.last();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, format!("{HOOK_PATH}?wait=true"));
    let body = request.json();
    assert!(
        body["content"]
            .as_str()
            .unwrap()
            .starts_with("[DRILL] <@80351110224678912> ")
    );
    assert_eq!(
        body["allowed_mentions"],
        json!({"parse": [], "users": ["80351110224678912"]})
    );
    let embed = &body["embeds"][0];
    assert_eq!(
        embed["title"],
        "[DRILL] P0 INC-20261121-001: @everyone look"
    );
    assert_eq!(embed["url"], message.url.as_deref().unwrap());
    assert!(
        embed["description"]
            .as_str()
            .unwrap()
            .contains("*+2 more notifications folded in*")
    );
    let fields = embed["fields"].as_array().unwrap();
    assert!(fields.iter().any(|field| {
        field["name"] == "Acknowledge"
            && field["value"]
                .as_str()
                .unwrap()
                .contains(message.ack_url.as_deref().unwrap())
    }));
}

#[tokio::test]
async fn rate_limits_wait_as_the_body_says_and_refusals_carry_discords_message() {
    let (fake, destination) = discord().await;
    let sender = sender();
    fake.then(
        Reply::json(
            429,
            &json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": false}),
        )
        .header("Retry-After", "2"),
    );
    fake.then(Reply::json(429, &json!({"message": "Slow down"})).header("Retry-After", "4"));
    fake.then(Reply::json(502, &json!({"message": "Bad gateway"})));
    fake.then(Reply::json(
        403,
        &json!({"message": "Missing Permissions", "code": 50013}),
    ));
    fake.then(Reply::json(
        404,
        &json!({"message": "Unknown Webhook", "code": 10015}),
    ));

    let error = sender
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert!(error.retryable);
    assert_eq!(error.retry_after, Some(Duration::from_millis(1500)));
    assert_eq!(
        error.message,
        "Discord answered 429: You are being rate limited."
    );

    let error = sender
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!(error.retry_after, Some(Duration::from_secs(4)));

    let error = sender
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!((error.retryable, error.status), (true, Some(502)));

    let error = sender
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!((error.retryable, error.status), (false, Some(403)));
    assert_eq!(
        error.message,
        "Discord answered 403: Missing Permissions (code 50013)"
    );

    let error = sender
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!((error.retryable, error.status), (false, Some(404)));
    assert_eq!(
        error.message,
        "Discord answered 404: Unknown Webhook (code 10015)"
    );
}
