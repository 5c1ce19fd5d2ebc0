//! Alertmanager webhook notifications (payload version 4): what a responder sees of each alert,
//! how re-sends are recognised, and every malformed payload refused with its reasons.

use std::collections::BTreeMap;

use muster_core::alert::alertmanager::{fingerprint, parse};
use muster_core::alert::{AlertAction, AlertLink};
use serde_json::json;

fn millis(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// A group of two alerts, as Alertmanager posts it to a `webhook_config` receiver.
const FIRING: &str = r#"{
  "receiver": "muster",
  "status": "firing",
  "alerts": [
    {
      "status": "firing",
      "labels": {
        "alertname": "TreasuryOutflow",
        "chain": "mainnet",
        "instance": "treasury-exporter:9100",
        "job": "treasury",
        "severity": "critical"
      },
      "annotations": {
        "summary": "Treasury lost 4.2% of its balance in 5 minutes",
        "description": "Outflow from 0x5aAe…3bC1 exceeded the 2% threshold.",
        "runbook_url": "https://runbooks.harbor.example/treasury-outflow"
      },
      "startsAt": "2026-03-01T09:30:00.123456789Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus:9090/graph?g0.expr=treasury_outflow_ratio_5m+%3E+0.02&g0.tab=1",
      "fingerprint": "8f4c2a1b9d3e7f60"
    },
    {
      "status": "firing",
      "labels": { "alertname": "TreasuryOutflow", "chain": "base", "job": "treasury" },
      "annotations": { "description": "Outflow from the Base treasury exceeded the 2% threshold." },
      "startsAt": "2026-03-01T11:30:05+02:00",
      "endsAt": "2026-03-01T09:34:05Z",
      "generatorURL": "",
      "fingerprint": "17be0c55d0a2e9f4"
    }
  ],
  "groupLabels": { "alertname": "TreasuryOutflow" },
  "commonLabels": { "alertname": "TreasuryOutflow", "job": "treasury" },
  "commonAnnotations": {},
  "externalURL": "http://alertmanager:9093",
  "version": "4",
  "groupKey": "{}/{job=\"treasury\"}:{alertname=\"TreasuryOutflow\"}",
  "truncatedAlerts": 0
}"#;

#[test]
fn a_firing_group_becomes_one_alert_per_member() {
    let alerts = parse(FIRING.as_bytes(), "prometheus").unwrap();
    assert_eq!(alerts.len(), 2);
    let first = &alerts[0];
    assert_eq!(first.integration, "prometheus");
    assert_eq!(first.key, "8f4c2a1b9d3e7f60");
    assert_eq!(first.action, AlertAction::Trigger);
    assert_eq!(
        first.summary,
        "Treasury lost 4.2% of its balance in 5 minutes"
    );
    assert_eq!(first.severity.as_deref(), Some("critical"));
    let labels: Vec<(&str, &str)> = first
        .labels
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("alertname", "TreasuryOutflow"),
            ("chain", "mainnet"),
            ("instance", "treasury-exporter:9100"),
            ("integration", "prometheus"),
            ("job", "treasury"),
            ("severity", "critical"),
        ]
    );
    assert_eq!(
        first.details,
        json!({
            "description": "Outflow from 0x5aAe…3bC1 exceeded the 2% threshold.",
            "runbook_url": "https://runbooks.harbor.example/treasury-outflow",
            "summary": "Treasury lost 4.2% of its balance in 5 minutes",
        })
    );
    assert_eq!(first.starts_at, Some(millis("2026-03-01T09:30:00.123Z")));
    assert_eq!(first.ends_at, None);
    assert_eq!(
        first.links,
        [
            AlertLink {
                href: "http://prometheus:9090/graph?g0.expr=treasury_outflow_ratio_5m+%3E+0.02&g0.tab=1"
                    .to_owned(),
                text: Some("Source".to_owned()),
            },
            AlertLink {
                href: "https://runbooks.harbor.example/treasury-outflow".to_owned(),
                text: Some("Runbook".to_owned()),
            },
        ]
    );
    assert_eq!(
        first.dedup.as_deref(),
        Some(
            format!(
                "8f4c2a1b9d3e7f60|firing|{}",
                millis("2026-03-01T09:30:00.123Z")
            )
            .as_str()
        )
    );

    let second = &alerts[1];
    assert_eq!(
        second.summary,
        "Outflow from the Base treasury exceeded the 2% threshold."
    );
    assert_eq!(second.severity, None);
    assert_eq!(second.starts_at, Some(millis("2026-03-01T09:30:05Z")));
    // A firing alert's endsAt is only Prometheus' expiry estimate.
    assert_eq!(second.ends_at, None);
    assert!(second.links.is_empty(), "an empty generatorURL is no link");
}

#[test]
fn a_resolved_alert_resolves_and_keeps_its_end() {
    let body = FIRING
        .replace(r#""status": "firing""#, r#""status": "resolved""#)
        .replace(
            r#""endsAt": "0001-01-01T00:00:00Z""#,
            r#""endsAt": "2026-03-01T10:05:00Z""#,
        );
    let alerts = parse(body.as_bytes(), "prometheus").unwrap();
    assert_eq!(alerts[0].action, AlertAction::Resolve);
    assert_eq!(alerts[0].ends_at, Some(millis("2026-03-01T10:05:00Z")));
    assert_eq!(alerts[1].ends_at, Some(millis("2026-03-01T09:34:05Z")));
    let firing = parse(FIRING.as_bytes(), "prometheus").unwrap();
    assert_eq!(alerts[0].key, firing[0].key, "the same alert");
    assert_ne!(alerts[0].dedup, firing[0].dedup, "a new notification");
}

#[test]
fn a_resend_is_recognised_and_a_new_firing_is_not() {
    let first = parse(FIRING.as_bytes(), "prometheus").unwrap();
    // Alertmanager re-sends the group every repeat_interval with the same alerts.
    let resend = parse(FIRING.as_bytes(), "prometheus").unwrap();
    assert_eq!(first[0].dedup, resend[0].dedup);
    // The same alert firing again later has a new startsAt.
    let again = FIRING.replace("2026-03-01T09:30:00.123456789Z", "2026-03-02T08:00:00Z");
    let again = parse(again.as_bytes(), "prometheus").unwrap();
    assert_eq!(first[0].key, again[0].key);
    assert_ne!(first[0].dedup, again[0].dedup);
}

#[test]
fn without_a_fingerprint_the_key_is_alertmanagers_hash_of_the_labels() {
    // A payload from an Alertmanager that sends fingerprints, with the fingerprint removed.
    let labels: BTreeMap<String, String> = [
        ("alertname", "ProbeFailure"),
        ("instance", "https://server.example.org"),
        ("job", "http_checks"),
        ("monitor", "master"),
        ("severity", "critical"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    let body = json!({
        "version": "4",
        "status": "firing",
        "alerts": [{
            "status": "firing",
            "labels": labels,
            "annotations": {},
            "startsAt": "2023-02-06T13:08:45.828Z",
            "endsAt": "0001-01-01T00:00:00Z",
        }],
    });
    let alerts = parse(body.to_string().as_bytes(), "prometheus").unwrap();
    assert_eq!(alerts[0].key, fingerprint(&labels));
    assert_eq!(alerts[0].key.len(), 16);
    // No annotations: the summary falls back to the alert name, and there are no details.
    assert_eq!(alerts[0].summary, "ProbeFailure");
    assert!(alerts[0].details.is_null());
}

fn label_set(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// The reference values of Prometheus' own label-set fingerprint, which Alertmanager sends.
#[test]
fn the_fingerprint_is_the_one_prometheus_computes() {
    assert_eq!(
        fingerprint(&BTreeMap::new()),
        format!("{:016x}", 14_695_981_039_346_656_037_u64)
    );
    assert_eq!(
        fingerprint(&label_set(&[
            ("name", "garland, briggs"),
            ("fear", "love is not enough"),
        ])),
        format!("{:016x}", 5_799_056_148_416_392_346_u64)
    );
    assert_eq!(
        fingerprint(&label_set(&[
            ("first-label", "first-label-value"),
            ("second-label", "second-label-value"),
        ])),
        format!("{:016x}", 3_195_800_080_984_914_717_u64)
    );
}

#[test]
fn the_summary_falls_back_to_the_key_and_the_integration_label_is_ours() {
    let body = json!({
        "version": "4",
        "alerts": [{
            "status": "firing",
            "labels": { "integration": "spoofed", "job": "node" },
            "startsAt": "2026-03-01T09:30:00Z",
            "fingerprint": "00000000000000aa",
        }],
    });
    let alerts = parse(body.to_string().as_bytes(), "prometheus").unwrap();
    assert_eq!(alerts[0].summary, "00000000000000aa");
    assert_eq!(alerts[0].labels["integration"], "prometheus");
}

#[test]
fn an_empty_group_holds_no_alerts() {
    let body = json!({ "version": "4", "alerts": [] });
    assert_eq!(parse(body.to_string().as_bytes(), "prometheus"), Ok(vec![]));
}

fn errors(body: &str) -> Vec<String> {
    parse(body.as_bytes(), "prometheus").expect_err("the payload should be refused")
}

#[test]
fn a_body_that_is_not_a_json_object_is_refused() {
    assert_eq!(
        errors("status=firing"),
        ["the body is not JSON: expected value at line 1 column 1"]
    );
    assert_eq!(
        errors("[]"),
        ["the body must be a JSON object, found an array"]
    );
}

#[test]
fn other_payload_versions_are_refused() {
    let body = FIRING.replace(r#""version": "4""#, r#""version": "3""#);
    assert_eq!(
        errors(&body),
        ["version: '3' is not supported; Muster reads version '4'"]
    );
    let body = FIRING.replace(r#""version": "4""#, r#""version": 4"#);
    assert_eq!(
        errors(&body),
        ["version: expected the string '4', found a number"]
    );
}

#[test]
fn a_payload_without_version_or_alerts_is_refused() {
    assert_eq!(
        errors(r#"{"receiver": "muster", "status": "firing"}"#),
        [
            "version: missing; Alertmanager webhook payloads carry version '4'",
            "alerts: missing",
        ]
    );
    assert_eq!(
        errors(r#"{"version": "4", "alerts": {"status": "firing"}}"#),
        ["alerts: expected an array, found an object"]
    );
}

#[test]
fn every_problem_is_reported_at_once_with_its_path() {
    let body = json!({
        "version": "4",
        "status": "burning",
        "receiver": 7,
        "groupLabels": { "alertname": ["TreasuryOutflow"] },
        "truncatedAlerts": -1,
        "alerts": [
            {
                "status": "firing",
                "labels": { "alertname": "Fine" },
                "startsAt": "2026-03-01T09:30:00Z",
            },
            "TreasuryOutflow",
            {
                "status": "pending",
                "labels": ["alertname", "OracleDeviation"],
                "annotations": { "summary": "ok", "value": 0.07 },
                "startsAt": "yesterday",
                "endsAt": 0,
                "generatorURL": false,
            },
            {
                "labels": { "alertname": "OracleDeviation", "chain id": 1, "chain": null },
                "startsAt": "2026-03-01 09:30",
                "fingerprint": 42,
            },
            {
                "status": "resolved",
                "labels": { "alertname": "OracleDeviation" },
            },
        ],
    });
    assert_eq!(
        errors(&body.to_string()),
        [
            "receiver: expected a string, found a number",
            "status: 'burning' is not firing or resolved",
            "groupLabels.alertname: expected a string, found an array",
            "truncatedAlerts: expected a whole number, found '-1'",
            "alerts[1]: expected an object, found a string",
            "alerts[2].status: 'pending' is not firing or resolved",
            "alerts[2].labels: expected an object of strings, found an array",
            "alerts[2].annotations.value: expected a string, found a number",
            "alerts[2].startsAt: 'yesterday' is not an RFC 3339 time",
            "alerts[2].endsAt: expected an RFC 3339 time, found a number",
            "alerts[2].generatorURL: expected a string, found a boolean",
            "alerts[3].status: missing",
            r#"alerts[3].labels["chain id"]: expected a string, found a number"#,
            "alerts[3].labels.chain: expected a string, found null",
            "alerts[3].startsAt: '2026-03-01 09:30' is not an RFC 3339 time",
            "alerts[3].fingerprint: expected a string, found a number",
            "alerts[4].startsAt: missing",
        ]
    );
}

#[test]
fn long_values_are_cut_in_messages() {
    let long = "x".repeat(500);
    let body = json!({ "version": "4", "alerts": [{
        "status": "firing", "labels": {}, "startsAt": long,
    }]});
    let problems = errors(&body.to_string());
    assert_eq!(
        problems,
        [format!(
            "alerts[0].startsAt: '{}…' is not an RFC 3339 time",
            "x".repeat(80)
        )]
    );
}
