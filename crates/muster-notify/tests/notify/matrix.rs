//! Matrix's `PUT …/send/m.room.message/{txnId}`: the event id on success, the same event for a
//! repeated transaction id, `errcode` and `error` on failure, and `M_LIMIT_EXCEEDED` with
//! `retry_after_ms` or `Retry-After`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use muster_core::plan::Channel;
use muster_notify::{Destination, Endpoints, Recipient};
use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::{NOW, page, resolve, sender};

const TOKEN: &str = "syt_bXVzdGVy_SECRETtoken";

/// A homeserver that, like a real one, gives a repeated transaction the event it already made.
async fn matrix() -> (Fake, Destination) {
    let events: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());
    let fake = Fake::start(move |request| {
        if request.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            return Reply::json(
                401,
                &json!({"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."}),
            );
        }
        let mut events = events.lock().unwrap();
        let next = format!("$event{}", events.len() + 1);
        let event = events.entry(request.path.clone()).or_insert(next);
        Reply::json(200, &json!({"event_id": event}))
    })
    .await;
    let destination = resolve(
        &Channel::Matrix {
            homeserver: format!("{}/", fake.base),
            room_id: "!ops:example.org".to_owned(),
            token_env: "MATRIX_TOKEN".to_owned(),
        },
        &[("MATRIX_TOKEN", TOKEN)],
        &Endpoints::default(),
    );
    (fake, destination)
}

#[tokio::test]
async fn a_page_is_put_under_the_delivery_id_and_a_retry_is_the_same_event() {
    let (fake, destination) = matrix().await;
    let sender = sender();
    let mut message = page();
    message.title = "Drain <script>alert(1)</script>".to_owned();
    message.recipient = Some(Recipient {
        handle: Some("@alice:example.org".to_owned()),
        ..message.recipient.unwrap()
    });
    let first = sender
        .send(&destination, &message, "dlv/7 a", NOW)
        .await
        .unwrap();
    let again = sender
        .send(&destination, &message, "dlv/7 a", NOW)
        .await
        .unwrap();
    let other = sender
        .send(&destination, &message, "dlv-8", NOW)
        .await
        .unwrap();
    assert_eq!(first.detail, "event $event1");
    assert_eq!(again, first);
    assert_eq!(other.detail, "event $event2");

    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    let request = &requests[0];
    assert_eq!(request.method, "PUT");
    assert_eq!(
        request.path,
        "/_matrix/client/v3/rooms/%21ops%3Aexample.org/send/m.room.message/dlv%2F7%20a"
    );
    assert_eq!(requests[1].path, request.path);
    let body = request.json();
    assert_eq!(body["msgtype"], "m.text");
    assert_eq!(body["format"], "org.matrix.custom.html");
    assert_eq!(
        body["m.mentions"],
        json!({"user_ids": ["@alice:example.org"]})
    );
    let plain = body["body"].as_str().unwrap();
    assert!(plain.starts_with("[DRILL] P0 INC-20261121-001: Drain <script>alert(1)</script>"));
    let html = body["formatted_body"].as_str().unwrap();
    assert!(
        html.contains("Drain &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>"));
    assert!(html.contains("<a href=\"https://matrix.to/#/@alice:example.org\">Alice Example</a>"));
}

#[tokio::test]
async fn failures_carry_errcode_and_error_and_the_wait() {
    let (fake, destination) = matrix().await;
    let sender = sender();
    let limited = json!({"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests", "retry_after_ms": 2000});
    fake.then(Reply::json(429, &limited));
    fake.then(Reply::json(429, &limited).header("Retry-After", "3"));
    fake.then(Reply::json(
        403,
        &json!({"errcode": "M_FORBIDDEN", "error": "You are not in this room."}),
    ));
    fake.then(Reply::text(503, "upstream unavailable"));

    let error = sender
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!(
        (error.retryable, error.status, error.retry_after),
        (true, Some(429), Some(Duration::from_secs(2)))
    );
    assert_eq!(
        error.message,
        "Matrix answered 429: M_LIMIT_EXCEEDED: Too many requests"
    );
    let error = sender
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!(error.retry_after, Some(Duration::from_secs(3)));
    let error = sender
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!(
        (error.retryable, error.message.as_str()),
        (
            false,
            "Matrix answered 403: M_FORBIDDEN: You are not in this room."
        )
    );
    let error = sender
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!((error.retryable, error.status), (true, Some(503)));
}

#[tokio::test]
async fn a_wrong_token_is_permanent_and_not_shown() {
    let (fake, _) = matrix().await;
    let destination = resolve(
        &Channel::Matrix {
            homeserver: fake.base.clone(),
            room_id: "!ops:example.org".to_owned(),
            token_env: "MATRIX_TOKEN".to_owned(),
        },
        &[("MATRIX_TOKEN", "syt_revoked")],
        &Endpoints::default(),
    );
    let error = sender()
        .send(&destination, &page(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!(
        (error.retryable, error.status, error.message.as_str()),
        (
            false,
            Some(401),
            "Matrix answered 401: M_UNKNOWN_TOKEN: Invalid access token passed."
        )
    );
    assert_eq!(
        fake.last().header("authorization"),
        Some("Bearer syt_revoked")
    );
}
