//! Routing alerts by their labels: first match wins, regular and negative matchers, absent
//! labels, group keys (one incident per group), triage for what no rule matches, and the
//! watchdog alerts of heartbeats.

use std::collections::BTreeMap;

use muster_core::alert::{Alert, AlertAction, heartbeat, route};
use muster_core::plan::{CategoryId, Plan, RouteAction, ScenarioId, SeverityId};

use crate::check::load_files;

const PLAN: &str = r#"
version: 1
organization: { name: Harbor }
severities:
  - { id: P0, name: Critical, urgent: true, important: true, ack_within: 5m, escalation: none }
  - { id: P1, name: High, urgent: true, important: false, ack_within: 15m, escalation: none }
  - { id: P2, name: Medium, urgent: false, important: true, ack_within: 1h, escalation: none }
  - { id: P3, name: Low, urgent: false, important: false, ack_within: 1d, escalation: none }
categories:
  - { id: exploit, name: Exploit }
  - { id: infrastructure, name: Infrastructure }
scenarios:
  - { id: treasury-drain, category: exploit, title: Treasury drained, severity: P0, detection: [alert:TreasuryOutflow] }
integrations:
  - id: prometheus
    type: alertmanager
    key_env: MUSTER_PROMETHEUS_KEY
    heartbeat: { matchers: [alertname=Watchdog], every: 5m, severity: P1, category: infrastructure }
  - { id: forta, type: pagerduty, key_env: MUSTER_FORTA_KEY }
routes:
  - id: treasury
    matchers: ["alertname=TreasuryOutflow", "chain=~mainnet|base"]
    scenario: treasury-drain
    group_by: [chain]
    auto_resolve: true
    tags: [funds-at-risk]
  - id: testnets
    matchers: ["chain=~.*(sepolia|holesky).*"]
    action: ignore
  - matchers: ["alertname=TreasuryOutflow"]
    severity: P2
    category: exploit
    group_by: [chain, contract]
  - id: forta-critical
    matchers: [integration=forta, severity=critical, "source!=forta-test"]
    urgent: true
    important: false
  - id: no-team
    matchers: ["team!~.+"]
    action: attach
    urgent: true
    important: true
    group_by: [alertname]
"#;

fn plan() -> Plan {
    let loaded = load_files(&[("routing.yaml".to_owned(), PLAN.to_owned())]);
    assert_eq!(loaded.errors(), 0, "{:#?}", loaded.diagnostics);
    loaded.plan.unwrap()
}

fn alert(integration: &str, labels: &[(&str, &str)]) -> Alert {
    let mut alert = Alert {
        integration: String::new(),
        key: "k".to_owned(),
        action: AlertAction::Trigger,
        summary: "s".to_owned(),
        severity: None,
        labels: labels
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        details: serde_json::Value::Null,
        starts_at: None,
        ends_at: None,
        links: vec![],
        dedup: None,
    };
    alert.set_integration(integration);
    alert
}

#[test]
fn the_first_matching_route_wins_and_takes_its_scenarios_defaults() {
    let plan = plan();
    let routing = route(
        &plan,
        &alert(
            "prometheus",
            &[
                ("alertname", "TreasuryOutflow"),
                ("chain", "mainnet"),
                ("team", "core"),
            ],
        ),
    );
    assert_eq!(routing.rule, Some(0));
    assert_eq!(routing.rule_id, "treasury");
    assert_eq!(routing.action, RouteAction::Declare);
    assert_eq!(
        routing.scenario.as_ref().map(ScenarioId::as_str),
        Some("treasury-drain")
    );
    assert_eq!(
        routing.severity.as_ref().map(SeverityId::as_str),
        Some("P0")
    );
    assert_eq!(
        routing.category.as_ref().map(CategoryId::as_str),
        Some("exploit")
    );
    assert!(routing.auto_resolve);
    assert_eq!(routing.tags, ["funds-at-risk"]);
    assert_eq!(routing.group, "treasury|chain=mainnet");
}

#[test]
fn regular_expressions_are_anchored() {
    let plan = plan();
    // `mainnet|base` must match the whole value: `mainnet-fork` falls through to the unnamed rule.
    let routing = route(
        &plan,
        &alert(
            "prometheus",
            &[
                ("alertname", "TreasuryOutflow"),
                ("chain", "mainnet-fork"),
                ("team", "core"),
            ],
        ),
    );
    assert_eq!(routing.rule, Some(2));
    assert_eq!(
        routing.rule_id, "route-3",
        "unnamed routes are numbered from 1"
    );
    assert_eq!(
        routing.severity.as_ref().map(SeverityId::as_str),
        Some("P2")
    );
    assert_eq!(routing.scenario, None);
    assert!(!routing.auto_resolve);
    // An absent label has the empty value in the group key.
    assert_eq!(routing.group, "route-3|chain=mainnet-fork|contract=");

    let ignored = route(&plan, &alert("prometheus", &[("chain", "eth-sepolia")]));
    assert_eq!(ignored.rule_id, "testnets");
    assert_eq!(ignored.action, RouteAction::Ignore);
    assert_eq!(ignored.group, "testnets", "no group_by: one group per rule");
}

#[test]
fn negative_matchers_and_the_qualification_matrix() {
    let plan = plan();
    let critical = alert(
        "forta",
        &[
            ("severity", "critical"),
            ("source", "forta-bot-7"),
            ("team", "x"),
        ],
    );
    let routing = route(&plan, &critical);
    assert_eq!(routing.rule_id, "forta-critical");
    assert_eq!(
        (routing.urgent, routing.important),
        (Some(true), Some(false))
    );
    assert_eq!(
        routing.severity.as_ref().map(SeverityId::as_str),
        Some("P1"),
        "urgent and not important is P1 by the severities' own flags"
    );
    assert_eq!(routing.category, None);
    // `source!=forta-test` refuses the test bot, which falls through to triage.
    let test_bot = alert(
        "forta",
        &[
            ("severity", "critical"),
            ("source", "forta-test"),
            ("team", "x"),
        ],
    );
    assert_eq!(route(&plan, &test_bot).rule_id, "unrouted");
}

#[test]
fn an_absent_label_has_the_empty_value() {
    let plan = plan();
    // `team!~.+` holds when `team` is absent (or empty), so this alert is attached.
    let routing = route(&plan, &alert("forta", &[("alertname", "KeeperLow")]));
    assert_eq!(routing.rule_id, "no-team");
    assert_eq!(routing.action, RouteAction::Attach);
    assert_eq!(
        routing.severity.as_ref().map(SeverityId::as_str),
        Some("P0")
    );
    assert_eq!(routing.group, "no-team|alertname=KeeperLow");
    let empty = route(
        &plan,
        &alert("forta", &[("alertname", "KeeperLow"), ("team", "")]),
    );
    assert_eq!(empty.rule_id, "no-team");
}

#[test]
fn one_group_per_label_value() {
    let plan = plan();
    let group = |chain: &str| {
        route(
            &plan,
            &alert(
                "prometheus",
                &[
                    ("alertname", "TreasuryOutflow"),
                    ("chain", chain),
                    ("team", "core"),
                ],
            ),
        )
        .group
    };
    assert_eq!(group("mainnet"), group("mainnet"));
    assert_ne!(group("mainnet"), group("base"));
    assert_eq!(group("base"), "treasury|chain=base");
}

#[test]
fn separators_in_values_cannot_forge_another_group() {
    let plan = plan();
    let group = |chain: &str, contract: &str| {
        route(
            &plan,
            &alert(
                "prometheus",
                &[
                    ("alertname", "TreasuryOutflow"),
                    ("chain", chain),
                    ("contract", contract),
                    ("team", "core"),
                ],
            ),
        )
        .group
    };
    let forged = group("x|contract=y", "");
    let honest = group("x", "y");
    assert_ne!(forged, honest);
    assert_eq!(forged, r"route-3|chain=x\|contract=y|contract=");
    assert_eq!(group(r"a\", "b"), r"route-3|chain=a\\|contract=b");
}

#[test]
fn unmatched_alerts_are_held_in_triage_grouped_by_integration() {
    let plan = plan();
    let routing = route(
        &plan,
        &alert(
            "prometheus",
            &[("alertname", "DiskFull"), ("team", "infra")],
        ),
    );
    assert_eq!(routing.rule, None);
    assert_eq!(routing.rule_id, "unrouted");
    assert_eq!(routing.action, RouteAction::Triage);
    assert_eq!(routing.severity, None);
    assert!(routing.tags.is_empty());
    assert_eq!(routing.group, "unrouted|integration=prometheus");
}

#[test]
fn a_plan_without_routes_holds_everything_in_triage() {
    let mut plan = plan();
    plan.routes.clear();
    let routing = route(&plan, &alert("forta", &[("severity", "critical")]));
    assert_eq!(routing.rule_id, "unrouted");
    assert_eq!(routing.group, "unrouted|integration=forta");
}

#[test]
fn the_watchdog_is_recognised_by_its_integrations_heartbeat() {
    let plan = plan();
    let watchdog = alert(
        "prometheus",
        &[("alertname", "Watchdog"), ("severity", "none")],
    );
    let integration = heartbeat(&plan, &watchdog).expect("the watchdog");
    assert_eq!(integration.id.as_str(), "prometheus");
    // Another alert of the same integration is not the watchdog.
    assert!(heartbeat(&plan, &alert("prometheus", &[("alertname", "DiskFull")])).is_none());
    // A watchdog-named alert of an integration without a heartbeat is an ordinary alert.
    assert!(heartbeat(&plan, &alert("forta", &[("alertname", "Watchdog")])).is_none());
    // Nor is an alert from an integration the plan does not know.
    assert!(heartbeat(&plan, &alert("grafana", &[("alertname", "Watchdog")])).is_none());
}

/// The example plan's own sources and routes, end to end: payloads as each source posts them.
#[test]
fn the_example_protocols_alerts_reach_their_scenarios() {
    use muster_core::alert::{alertmanager, pagerduty, webhook};
    use serde_json::json;

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/smart-contract-protocol.yaml");
    let loaded = load_files(&crate::check::read_plan(&path));
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    let plan = loaded.plan.unwrap();

    let body = json!({
        "version": "4",
        "status": "firing",
        "receiver": "muster",
        "groupKey": "{}:{alertname=\"TreasuryOutflow\"}",
        "alerts": [
            {
                "status": "firing",
                "labels": { "alertname": "TreasuryOutflow", "chain": "mainnet", "severity": "critical" },
                "annotations": { "summary": "Treasury lost 4% in 5 minutes" },
                "startsAt": "2026-03-01T09:30:00Z",
                "fingerprint": "0a1b2c3d4e5f6071"
            },
            {
                "status": "firing",
                "labels": { "alertname": "Watchdog", "severity": "none" },
                "startsAt": "2026-03-01T00:00:00Z",
                "fingerprint": "00000000000000ff"
            },
            {
                "status": "firing",
                "labels": { "alertname": "TreasuryOutflow", "chain": "eth-sepolia" },
                "startsAt": "2026-03-01T09:31:00Z"
            },
            {
                "status": "firing",
                "labels": { "alertname": "DiskAlmostFull", "instance": "archive-node-2" },
                "startsAt": "2026-03-01T09:32:00Z"
            }
        ]
    });
    let alerts = alertmanager::parse(body.to_string().as_bytes(), "prometheus").unwrap();
    let outcome: Vec<(String, String)> = alerts
        .iter()
        .map(|alert| {
            if let Some(integration) = heartbeat(&plan, alert) {
                ("heartbeat".to_owned(), integration.id.to_string())
            } else {
                let routing = route(&plan, alert);
                (routing.rule_id, routing.group)
            }
        })
        .collect();
    assert_eq!(
        outcome,
        [
            (
                "treasury-outflow".to_owned(),
                "treasury-outflow|chain=mainnet".to_owned()
            ),
            ("heartbeat".to_owned(), "prometheus".to_owned()),
            ("testnets".to_owned(), "testnets".to_owned()),
            (
                "everything-else".to_owned(),
                "everything-else|integration=prometheus|alertname=DiskAlmostFull".to_owned()
            ),
        ]
    );
    let treasury = route(&plan, &alerts[0]);
    assert_eq!(
        treasury.severity.as_ref().map(SeverityId::as_str),
        Some("P0")
    );
    assert_eq!(
        treasury.category.as_ref().map(CategoryId::as_str),
        Some("exploit")
    );

    let forta = json!({
        "routing_key": "R0UT1NGK3Y0000000000000000000001",
        "event_action": "trigger",
        "payload": {
            "summary": "Flash-loan attack pattern against the Harbor pool",
            "source": "forta-attack-detector",
            "severity": "critical"
        }
    });
    let mut event = pagerduty::parse(forta.to_string().as_bytes()).unwrap();
    event.alert.set_integration("forta");
    let routing = route(&plan, &event.alert);
    assert_eq!(routing.rule_id, "forta-attack");
    assert_eq!(
        routing.severity.as_ref().map(SeverityId::as_str),
        Some("P1")
    );
    assert_eq!(routing.group, "forta-attack|source=forta-attack-detector");

    let mapping = plan
        .integration("chain-watch")
        .and_then(|integration| integration.mapping.as_ref())
        .unwrap();
    let findings = json!({
        "findings": [{
            "id": "f-81",
            "rule": "OwnershipTransferred",
            "title": "Pool owner changed to an unknown address",
            "state": "open",
            "network": "mainnet",
            "contract": { "name": "LendingPool", "address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" },
            "explorer_url": "https://etherscan.io/tx/0x77aa"
        }]
    });
    let alerts = webhook::parse(findings.to_string().as_bytes(), mapping, "chain-watch").unwrap();
    let routing = route(&plan, &alerts[0]);
    assert_eq!(routing.rule_id, "privileged-change");
    assert_eq!(
        routing.scenario.as_ref().map(ScenarioId::as_str),
        Some("ownership-change")
    );
    assert_eq!(
        routing.group,
        "privileged-change|chain=mainnet|contract=LendingPool"
    );
}
