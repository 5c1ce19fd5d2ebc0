//! Whatever a sender posts, the three parsers answer with alerts or reasons and never panic:
//! arbitrary bytes, arbitrary JSON, and JSON shaped almost like each format.

use std::collections::BTreeMap;

use muster_core::alert::{alertmanager, pagerduty, webhook};
use muster_core::plan::WebhookMapping;
use proptest::prelude::*;
use serde_json::{Map, Value};

fn mapping() -> WebhookMapping {
    WebhookMapping {
        alerts: Some("/alerts".to_owned()),
        key: "/id".to_owned(),
        summary: "/title".to_owned(),
        status: Some("/status".to_owned()),
        resolved: vec!["resolved".to_owned()],
        severity: Some("/severity".to_owned()),
        labels: BTreeMap::from([
            ("chain".to_owned(), "/chain".to_owned()),
            ("whole".to_owned(), String::new()),
        ]),
        link: Some("/link".to_owned()),
    }
}

/// The field names the formats use, so that generated objects often hit them.
const NAMES: &[&str] = &[
    "version",
    "alerts",
    "status",
    "labels",
    "annotations",
    "startsAt",
    "endsAt",
    "generatorURL",
    "fingerprint",
    "truncatedAlerts",
    "groupLabels",
    "routing_key",
    "event_action",
    "dedup_key",
    "payload",
    "summary",
    "source",
    "severity",
    "timestamp",
    "custom_details",
    "links",
    "images",
    "href",
    "src",
    "id",
    "title",
    "chain",
    "link",
];

const WORDS: &[&str] = &[
    "4",
    "firing",
    "resolved",
    "trigger",
    "acknowledge",
    "resolve",
    "critical",
    "info",
    "2026-03-01T09:30:00Z",
    "0001-01-01T00:00:00Z",
    "2015-07-17T08:42:58.315+0000",
    "",
    " ",
    "é\u{0}|\\",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(WORDS).prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(NAMES).prop_map(str::to_owned),
                        ".{0,8}"
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn parse_all(body: &[u8]) {
    match alertmanager::parse(body, "prometheus") {
        Ok(alerts) => assert!(alerts.iter().all(|alert| !alert.key.is_empty())),
        Err(errors) => assert!(!errors.is_empty()),
    }
    match pagerduty::parse(body) {
        Ok(event) => assert!(!event.routing_key.is_empty()),
        Err(errors) => assert!(!errors.is_empty()),
    }
    match webhook::parse(body, &mapping(), "chain-watch") {
        Ok(alerts) => assert!(alerts.iter().all(|alert| !alert.key.trim().is_empty())),
        Err(errors) => assert!(!errors.is_empty()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_all(&body);
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        parse_all(value.to_string().as_bytes());
        // The same value as the alert list or the payload of an otherwise valid body.
        let wrapped = serde_json::json!({
            "version": "4",
            "routing_key": "key",
            "event_action": "trigger",
            "alerts": [value.clone()],
            "payload": value,
        });
        parse_all(wrapped.to_string().as_bytes());
    }
}
