//! PagerDuty Events API v2 (`/v2/enqueue`): events from senders built for PagerDuty, the
//! problems worded the way PagerDuty words them, and PagerDuty's response bodies.

use muster_core::alert::pagerduty::{
    PagerDutyEvent, invalid_body, parse, success_body, throttled_body,
};
use muster_core::alert::{AlertAction, AlertLink};
use serde_json::{Value, json};

fn millis(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// A trigger with every documented field, as a monitoring tool sends it.
fn trigger() -> Value {
    json!({
        "payload": {
            "summary": "ETH/USD oracle deviates 7.1% from the reference price",
            "timestamp": "2026-03-01T09:30:00.315+0000",
            "severity": "critical",
            "source": "oracle-monitor.harbor.example",
            "component": "price-oracle",
            "group": "mainnet",
            "class": "deviation",
            "custom_details": {
                "feed": "ETH/USD",
                "deviation": "7.1%",
                "block": 21_456_789,
            }
        },
        "routing_key": "R0UT1NGK3Y0000000000000000000001",
        "dedup_key": "mainnet/oracle/ETH-USD",
        "event_action": "trigger",
        "client": "Forta",
        "client_url": "https://app.forta.network/alerts",
        "links": [{
            "href": "https://etherscan.io/tx/0x9f3c",
            "text": "Suspicious transaction"
        }],
        "images": [{
            "src": "https://monitor.harbor.example/charts/eth-usd.png",
            "href": "https://monitor.harbor.example/feeds/eth-usd",
            "alt": "ETH/USD over the last hour"
        }]
    })
}

fn parsed(body: &Value) -> PagerDutyEvent {
    parse(body.to_string().as_bytes()).unwrap()
}

fn errors(body: &Value) -> Vec<String> {
    parse(body.to_string().as_bytes()).expect_err("the event should be refused")
}

#[test]
fn a_trigger_becomes_an_alert() {
    let event = parsed(&trigger());
    assert_eq!(event.routing_key, "R0UT1NGK3Y0000000000000000000001");
    assert!(event.dedup_key_given);
    let alert = &event.alert;
    assert_eq!(
        alert.integration, "",
        "the integration is found by routing key"
    );
    assert_eq!(alert.key, "mainnet/oracle/ETH-USD");
    assert_eq!(alert.action, AlertAction::Trigger);
    assert_eq!(
        alert.summary,
        "ETH/USD oracle deviates 7.1% from the reference price"
    );
    assert_eq!(alert.severity.as_deref(), Some("critical"));
    let labels: Vec<(&str, &str)> = alert
        .labels
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("class", "deviation"),
            ("component", "price-oracle"),
            ("group", "mainnet"),
            ("severity", "critical"),
            ("source", "oracle-monitor.harbor.example"),
        ]
    );
    assert_eq!(
        alert.details,
        json!({ "feed": "ETH/USD", "deviation": "7.1%", "block": 21_456_789 })
    );
    assert_eq!(alert.starts_at, Some(millis("2026-03-01T09:30:00.315Z")));
    assert_eq!(alert.ends_at, None);
    assert_eq!(alert.dedup, None);
    assert_eq!(
        alert.links,
        [
            AlertLink {
                href: "https://app.forta.network/alerts".to_owned(),
                text: Some("Forta".to_owned()),
            },
            AlertLink {
                href: "https://etherscan.io/tx/0x9f3c".to_owned(),
                text: Some("Suspicious transaction".to_owned()),
            },
            AlertLink {
                href: "https://monitor.harbor.example/feeds/eth-usd".to_owned(),
                text: Some("ETH/USD over the last hour".to_owned()),
            },
        ]
    );

    let mut alert = event.alert;
    alert.set_integration("forta");
    assert_eq!(alert.integration, "forta");
    assert_eq!(alert.labels["integration"], "forta");
}

#[test]
fn a_minimal_trigger_without_dedup_key_leaves_the_key_to_the_caller() {
    let body = json!({
        "routing_key": "R0UT1NGK3Y0000000000000000000001",
        "event_action": "trigger",
        "dedup_key": "",
        "payload": {
            "summary": "Keeper balance below 0.5 ETH",
            "source": "keeper-7",
            "severity": "warning"
        }
    });
    let event = parsed(&body);
    assert!(!event.dedup_key_given);
    assert_eq!(event.alert.key, "");
    assert_eq!(event.alert.starts_at, None);
    assert!(event.alert.details.is_null());
    assert!(event.alert.links.is_empty());
    assert_eq!(
        event.alert.labels.keys().collect::<Vec<_>>(),
        ["severity", "source"]
    );
}

#[test]
fn acknowledge_and_resolve_need_only_the_dedup_key() {
    for (action, expected) in [
        ("acknowledge", AlertAction::Acknowledge),
        ("resolve", AlertAction::Resolve),
    ] {
        let body = json!({
            "routing_key": "R0UT1NGK3Y0000000000000000000001",
            "event_action": action,
            "dedup_key": "mainnet/oracle/ETH-USD",
            // Not read for acknowledge and resolve, even when malformed.
            "payload": { "severity": "page" }
        });
        let event = parsed(&body);
        assert_eq!(event.alert.action, expected);
        assert_eq!(event.alert.key, "mainnet/oracle/ETH-USD");
        assert_eq!(event.alert.summary, "mainnet/oracle/ETH-USD");
        assert!(event.alert.labels.is_empty());
        assert!(event.dedup_key_given);
    }
}

#[test]
fn not_json_or_not_an_object_is_refused() {
    assert_eq!(
        parse(b"routing_key=abc").unwrap_err(),
        ["JSON parse error: expected value at line 1 column 1"]
    );
    assert_eq!(
        errors(&json!([trigger()])),
        ["Event object must be a JSON object, not an array"]
    );
}

#[test]
fn routing_key_and_event_action_are_required() {
    assert_eq!(
        errors(&json!({})),
        [
            "'routing_key' is missing or blank",
            "'event_action' must be one of trigger, acknowledge, resolve",
        ]
    );
    let mut body = trigger();
    body["routing_key"] = json!(12345);
    body["event_action"] = json!("escalate");
    assert_eq!(
        errors(&body),
        [
            "'routing_key' must be a string",
            "'event_action' must be one of trigger, acknowledge, resolve",
        ]
    );
}

#[test]
fn acknowledge_and_resolve_without_dedup_key_are_refused() {
    for action in ["acknowledge", "resolve"] {
        let body = json!({
            "routing_key": "R0UT1NGK3Y0000000000000000000001",
            "event_action": action,
            "dedup_key": "  ",
        });
        assert_eq!(
            errors(&body),
            ["'dedup_key' is missing or blank; it is required to acknowledge or resolve"]
        );
    }
}

#[test]
fn dedup_key_is_a_string_of_at_most_255_characters() {
    let mut body = trigger();
    body["dedup_key"] = json!("é".repeat(255));
    assert!(parse(body.to_string().as_bytes()).is_ok());
    body["dedup_key"] = json!("é".repeat(256));
    assert_eq!(
        errors(&body),
        ["Length of 'dedup_key' is incorrect (should be at most 255 characters)"]
    );
    body["dedup_key"] = json!(["a"]);
    body["event_action"] = json!("resolve");
    assert_eq!(errors(&body), ["'dedup_key' must be a string"]);
}

#[test]
fn a_trigger_needs_a_payload() {
    let mut body = trigger();
    body.as_object_mut().unwrap().remove("payload");
    assert_eq!(errors(&body), ["'payload' is missing"]);
    body["payload"] = json!("DISK at 99%");
    assert_eq!(errors(&body), ["'payload' must be an object"]);
}

#[test]
fn every_payload_problem_is_reported_at_once() {
    let mut body = trigger();
    body["payload"] = json!({
        "summary": " ",
        "source": 7,
        "severity": "page",
        "timestamp": "yesterday",
        "component": ["oracle"],
        "custom_details": "anything goes here",
    });
    assert_eq!(
        errors(&body),
        [
            "'payload.summary' is missing or blank",
            "'payload.source' must be a string",
            "'payload.severity' must be one of critical, error, warning, info",
            "'payload.timestamp' must be an ISO 8601 date-time",
            "'payload.component' must be a string",
        ]
    );
    let mut body = trigger();
    body["payload"]["summary"] = json!("x".repeat(1025));
    body["payload"]["timestamp"] = json!(1_740_000_000);
    body["payload"].as_object_mut().unwrap().remove("severity");
    body["payload"].as_object_mut().unwrap().remove("source");
    assert_eq!(
        errors(&body),
        [
            "Length of 'payload.summary' is incorrect (should be at most 1024 characters)",
            "'payload.source' is missing or blank",
            "'payload.severity' must be one of critical, error, warning, info",
            "'payload.timestamp' must be a string",
        ]
    );
    body["payload"]["summary"] = json!("x".repeat(1024));
    body["payload"]["severity"] = json!("info");
    body["payload"]["source"] = json!("oracle-monitor");
    body["payload"]["timestamp"] = json!(null);
    assert!(parse(body.to_string().as_bytes()).is_ok());
}

#[test]
fn links_and_images_are_checked() {
    let mut body = trigger();
    body["client"] = json!(false);
    body["links"] = json!([{ "text": "no href" }, "https://example.com", { "href": "https://a.example", "text": 3 }]);
    body["images"] = json!({ "src": "https://chart.example/1.png" });
    assert_eq!(
        errors(&body),
        [
            "'client' must be a string",
            "'links[0].href' is missing or blank",
            "'links[1]' must be an object",
            "'links[2].text' must be a string",
            "'images' must be an array",
        ]
    );
    body["client"] = json!("Forta");
    body["links"] = json!("https://example.com");
    body["images"] = json!([{ "href": "https://chart.example" }]);
    assert_eq!(
        errors(&body),
        [
            "'links' must be an array",
            "'images[0].src' is missing or blank"
        ]
    );
}

#[test]
fn responses_have_pagerdutys_shapes() {
    assert_eq!(
        success_body("srv01/HTTP"),
        json!({ "status": "success", "message": "Event processed", "dedup_key": "srv01/HTTP" })
    );
    assert_eq!(
        invalid_body(&["'payload.summary' is missing or blank".to_owned()]),
        json!({
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": ["'payload.summary' is missing or blank"],
        })
    );
    let throttled = throttled_body();
    assert_eq!(throttled["status"], "throttle event");
    assert!(throttled["message"].as_str().unwrap().contains("retry"));
}
