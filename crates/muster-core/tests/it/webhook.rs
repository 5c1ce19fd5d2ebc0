//! Generic JSON webhooks read through a mapping of JSON Pointers: a chain monitor's alerts,
//! and every unreadable field named by its pointer and element.

use std::collections::BTreeMap;

use muster_core::alert::webhook::{parse, pointer_problem};
use muster_core::alert::{AlertAction, AlertLink};
use muster_core::plan::WebhookMapping;
use serde_json::{Value, json};

/// A chain monitor that posts a batch of findings.
fn mapping() -> WebhookMapping {
    WebhookMapping {
        alerts: Some("/findings".to_owned()),
        key: "/id".to_owned(),
        summary: "/title".to_owned(),
        status: Some("/state".to_owned()),
        resolved: vec!["closed".to_owned(), "resolved".to_owned()],
        severity: Some("/severity".to_owned()),
        labels: BTreeMap::from([
            ("alertname".to_owned(), "/rule".to_owned()),
            ("chain".to_owned(), "/network/name".to_owned()),
            ("chain_id".to_owned(), "/network/chainId".to_owned()),
            ("confirmed".to_owned(), "/confirmed".to_owned()),
            ("contract".to_owned(), "/target/address".to_owned()),
        ]),
        link: Some("/explorer".to_owned()),
    }
}

fn body() -> Value {
    json!({
        "monitor": "harbor-chain-watch",
        "findings": [
            {
                "id": "fnd_01HZX3",
                "rule": "LargeWithdrawal",
                "title": "Pool withdrew 1,250 ETH in one transaction",
                "state": "open",
                "severity": "high",
                "network": { "name": "mainnet", "chainId": 1 },
                "confirmed": true,
                "target": { "address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" },
                "explorer": "https://etherscan.io/tx/0x9f3c"
            },
            {
                "id": 4_411_207,
                "rule": "LargeWithdrawal",
                "title": "Vault withdrew 800 ETH",
                "state": "CLOSED",
                "network": { "name": "base", "chainId": 8453 },
                "confirmed": null
            }
        ]
    })
}

fn errors(body: &Value, mapping: &WebhookMapping) -> Vec<String> {
    parse(body.to_string().as_bytes(), mapping, "chain-watch")
        .expect_err("the body should be refused")
}

#[test]
fn each_element_of_the_array_is_an_alert() {
    let alerts = parse(body().to_string().as_bytes(), &mapping(), "chain-watch").unwrap();
    assert_eq!(alerts.len(), 2);
    let first = &alerts[0];
    assert_eq!(first.integration, "chain-watch");
    assert_eq!(first.key, "fnd_01HZX3");
    assert_eq!(first.action, AlertAction::Trigger);
    assert_eq!(first.summary, "Pool withdrew 1,250 ETH in one transaction");
    assert_eq!(first.severity.as_deref(), Some("high"));
    let labels: Vec<(&str, &str)> = first
        .labels
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("alertname", "LargeWithdrawal"),
            ("chain", "mainnet"),
            ("chain_id", "1"),
            ("confirmed", "true"),
            ("contract", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
            ("integration", "chain-watch"),
        ]
    );
    assert_eq!(
        first.links,
        [AlertLink {
            href: "https://etherscan.io/tx/0x9f3c".to_owned(),
            text: None
        }]
    );
    assert_eq!(first.details, body()["findings"][0]);
    assert_eq!(first.dedup, None);

    let second = &alerts[1];
    assert_eq!(second.key, "4411207", "a number is its decimal text");
    assert_eq!(second.action, AlertAction::Resolve, "CLOSED is listed");
    assert_eq!(second.severity, None);
    assert!(!second.labels.contains_key("contract"), "missing: absent");
    assert!(!second.labels.contains_key("confirmed"), "null: absent");
    assert!(second.links.is_empty());
}

#[test]
fn without_an_alerts_pointer_the_body_is_one_alert() {
    let mapping = WebhookMapping {
        alerts: None,
        key: "/alert/fingerprint".to_owned(),
        summary: "/alert/message".to_owned(),
        status: None,
        resolved: vec!["resolved".to_owned()],
        severity: None,
        labels: BTreeMap::from([("integration".to_owned(), "/source".to_owned())]),
        link: None,
    };
    let body = json!({
        "source": "spoofed",
        "alert": { "fingerprint": "bridge-halt", "message": "  Bridge relayer halted  " }
    });
    let alerts = parse(body.to_string().as_bytes(), &mapping, "bridge").unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].summary, "Bridge relayer halted");
    assert_eq!(alerts[0].action, AlertAction::Trigger, "no status: firing");
    assert_eq!(alerts[0].labels["integration"], "bridge");
    assert_eq!(alerts[0].details, body);
}

#[test]
fn an_empty_batch_holds_no_alerts() {
    let alerts = parse(br#"{"findings": []}"#, &mapping(), "chain-watch").unwrap();
    assert!(alerts.is_empty());
}

#[test]
fn a_body_that_is_not_json_is_refused() {
    assert_eq!(
        parse(b"<xml/>", &mapping(), "chain-watch").unwrap_err(),
        ["the body is not JSON: expected value at line 1 column 1"]
    );
}

#[test]
fn the_alerts_pointer_must_name_an_array() {
    assert_eq!(
        errors(&json!({ "finding": {} }), &mapping()),
        ["alerts at /findings: missing"]
    );
    assert_eq!(
        errors(&json!({ "findings": { "id": 1 } }), &mapping()),
        ["alerts at /findings: expected an array, found an object"]
    );
}

#[test]
fn every_unreadable_field_is_named_by_pointer_and_element() {
    let body = json!({
        "findings": [
            { "id": "ok", "title": "fine" },
            { "title": "" , "state": ["open"] },
            "not an object",
            {
                "id": true,
                "title": { "en": "Pool drained" },
                "severity": { "level": 1 },
                "network": { "name": ["mainnet"] },
                "explorer": 42
            }
        ]
    });
    assert_eq!(
        errors(&body, &mapping()),
        [
            "key at /findings/1/id: missing",
            "summary at /findings/1/title: empty",
            "status at /findings/1/state: expected text, found an array",
            "key at /findings/2/id: missing",
            "summary at /findings/2/title: missing",
            "key at /findings/3/id: expected text or a number, found a boolean",
            "summary at /findings/3/title: expected text or a number, found an object",
            "severity at /findings/3/severity: expected text, found an object",
            "label chain at /findings/3/network/name: expected text, found an array",
            "link at /findings/3/explorer: expected a URL, found a number",
        ]
    );
}

#[test]
fn pointers_follow_rfc_6901() {
    assert_eq!(pointer_problem(""), None);
    assert_eq!(pointer_problem("/a~1b/c~0d/0"), None);
    assert_eq!(
        pointer_problem("alerts.0.id"),
        Some(
            "'alerts.0.id' is not a JSON Pointer: it must be empty (the whole value) or start with '/'"
                .to_owned()
        )
    );
    assert_eq!(
        pointer_problem("/a~2"),
        Some(
            "'/a~2' is not a JSON Pointer: '~' must be followed by 0 (for '~') or 1 (for '/')"
                .to_owned()
        )
    );
    // Escaped names are read as RFC 6901 says.
    let mapping = WebhookMapping {
        alerts: None,
        key: "/a~1b".to_owned(),
        summary: "/m~0n".to_owned(),
        status: None,
        resolved: vec![],
        severity: None,
        labels: BTreeMap::new(),
        link: None,
    };
    let alerts = parse(br#"{"a/b": "k", "m~n": "s"}"#, &mapping, "x").unwrap();
    assert_eq!(
        (alerts[0].key.as_str(), alerts[0].summary.as_str()),
        ("k", "s")
    );
}
