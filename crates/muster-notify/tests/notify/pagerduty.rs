//! PagerDuty's Events API v2: `202` with the dedup key, `400` for an invalid event, `429` when
//! throttled.

use muster_core::plan::Channel;
use muster_notify::{Destination, Endpoints};
use serde_json::{Value, json};

use crate::fake::{Fake, Reply};
use crate::{NOW, bare, page, resolve, sender};

const ROUTING_KEY: &str = "R0UT1NGKEYSECRET0000000000000000";

/// An events endpoint that checks what PagerDuty checks first.
async fn pagerduty() -> (Fake, Destination) {
    let fake = Fake::start(|request| {
        let event: Value = request.json();
        if event["routing_key"].as_str().map(str::len) != Some(32) {
            return Reply::json(
                400,
                &json!({"status": "invalid event", "message": "Event object is invalid", "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"]}),
            );
        }
        Reply::json(
            202,
            &json!({"status": "success", "message": "Event processed", "dedup_key": event["dedup_key"]}),
        )
    })
    .await;
    let destination = resolve(
        &Channel::Pagerduty {
            routing_key_env: "PD_KEY".to_owned(),
        },
        &[("PD_KEY", ROUTING_KEY)],
        &Endpoints {
            pagerduty_events: format!("{}/v2/enqueue", fake.base),
            ..Endpoints::default()
        },
    );
    (fake, destination)
}

#[tokio::test]
async fn a_page_triggers_an_event_keyed_by_the_incident_and_resolving_resolves_it() {
    let (fake, destination) = pagerduty().await;
    let sender = sender();
    let sent = sender.send(&destination, &page(), "d1", NOW).await.unwrap();
    assert_eq!(sent.status, 202);
    assert_eq!(sent.detail, "Event processed (dedup_key INC-20261121-001)");

    let request = fake.last();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v2/enqueue");
    let event = request.json();
    assert_eq!(event["routing_key"], ROUTING_KEY);
    assert_eq!(event["event_action"], "trigger");
    assert_eq!(event["dedup_key"], "INC-20261121-001");
    assert_eq!(event["payload"]["source"], "muster");
    assert_eq!(
        event["payload"]["severity"], "info",
        "a drill is information"
    );
    assert!(
        event["payload"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("[DRILL] P0 INC-20261121-001: Bridge relayer halted")
    );
    assert_eq!(event["links"][0]["href"], page().url.unwrap().as_str());

    let mut resolved = bare();
    resolved.status = "resolved".to_owned();
    resolved.headline = "Resolved".to_owned();
    sender
        .send(&destination, &resolved, "d2", NOW)
        .await
        .unwrap();
    assert_eq!(
        fake.last().json(),
        json!({"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "INC-20261121-002"})
    );
}

#[tokio::test]
async fn invalid_events_are_permanent_and_throttling_is_retried() {
    let (fake, _) = pagerduty().await;
    let short_key = resolve(
        &Channel::Pagerduty {
            routing_key_env: "PD_KEY".to_owned(),
        },
        &[("PD_KEY", "short-secret-key")],
        &Endpoints {
            pagerduty_events: format!("{}/v2/enqueue", fake.base),
            ..Endpoints::default()
        },
    );
    let sender = sender();
    let error = sender
        .send(&short_key, &bare(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!(
        (error.retryable, error.status, error.message.as_str()),
        (
            false,
            Some(400),
            "PagerDuty answered 400: Event object is invalid: Length of 'routing_key' is incorrect (should be 32 characters)"
        )
    );

    fake.then(Reply::empty(429));
    fake.then(Reply::text(500, "Internal Server Error"));
    let error = sender
        .send(&short_key, &bare(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!(
        (error.retryable, error.status, error.retry_after),
        (true, Some(429), None)
    );
    let error = sender
        .send(&short_key, &bare(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!((error.retryable, error.status), (true, Some(500)));
    assert!(!error.message.contains("short-secret-key"));
}
