//! Slack's incoming webhook: `200 ok`, plain-text error codes, 429 with `Retry-After`.

use std::time::Duration;

use muster_core::plan::Channel;
use muster_notify::{Destination, Endpoints, Sent};
use serde_json::Value;

use crate::fake::{Fake, Reply};
use crate::{NOW, page, resolve, sender};

/// The webhook's path holds its secret, as Slack's do.
const HOOK_PATH: &str = "/services/T000/B000/XXXXsecretXXXX";

async fn slack() -> (Fake, Destination) {
    let fake = Fake::start(|_| Reply::text(200, "ok")).await;
    let url = format!("{}{HOOK_PATH}", fake.base);
    let destination = resolve(
        &Channel::Slack {
            webhook_url_env: "SLACK_WEBHOOK".to_owned(),
            channel: Some("#incidents".to_owned()),
        },
        &[("SLACK_WEBHOOK", &url)],
        &Endpoints::default(),
    );
    (fake, destination)
}

#[tokio::test]
async fn a_page_is_posted_as_block_kit_json() {
    let (fake, destination) = slack().await;
    let sent = sender()
        .send(&destination, &page(), "delivery-1", NOW)
        .await
        .unwrap();
    assert_eq!(
        sent,
        Sent {
            status: 200,
            detail: "ok".to_owned()
        }
    );

    let request = fake.last();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, HOOK_PATH);
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body = request.json();
    assert_eq!(body["channel"], "#incidents");
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("[DRILL] P0 INC-20261121-001")
    );
    let kinds: Vec<&str> = body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|block| block["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["header", "section", "section", "context", "actions"]
    );
    let buttons = body["blocks"][4]["elements"].as_array().unwrap();
    assert_eq!(buttons[0]["text"]["text"], "Acknowledge");
    assert_eq!(buttons[0]["url"], page().ack_url.unwrap().as_str());
    assert_eq!(buttons[1]["text"]["text"], "Open incident");
    assert_eq!(buttons[1]["url"], page().url.unwrap().as_str());
}

#[tokio::test]
async fn refusals_are_permanent_and_rate_limits_wait_as_told() {
    let (fake, destination) = slack().await;
    let sender = sender();
    fake.then(Reply::text(429, "rate_limited").header("Retry-After", "30"));
    fake.then(Reply::text(500, "internal_error"));
    fake.then(Reply::text(400, "invalid_payload"));
    fake.then(Reply::text(403, "action_prohibited"));
    fake.then(Reply::text(404, "no_service"));

    let mut outcomes = Vec::new();
    for attempt in 0..5 {
        let error = sender
            .send(&destination, &page(), &format!("d{attempt}"), NOW)
            .await
            .unwrap_err();
        assert!(!error.message.contains("secret"), "{error}");
        outcomes.push((
            error.status,
            error.retryable,
            error.retry_after,
            error.message,
        ));
    }
    assert_eq!(
        outcomes,
        [
            (
                Some(429),
                true,
                Some(Duration::from_secs(30)),
                "Slack answered 429: rate_limited".to_owned()
            ),
            (
                Some(500),
                true,
                None,
                "Slack answered 500: internal_error".to_owned()
            ),
            (
                Some(400),
                false,
                None,
                "Slack answered 400: invalid_payload".to_owned()
            ),
            (
                Some(403),
                false,
                None,
                "Slack answered 403: action_prohibited".to_owned()
            ),
            (
                Some(404),
                false,
                None,
                "Slack answered 404: no_service".to_owned()
            ),
        ]
    );
    assert_eq!(fake.requests().len(), 5);
    let bodies: Vec<Value> = fake.requests().iter().map(|r| r.json()).collect();
    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "the same message each time"
    );
}
