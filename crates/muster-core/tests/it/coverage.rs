//! Readiness: exact part scores and findings on a plan with known shortfalls.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::{Date, date};
use muster_core::plan::coverage::{Readiness, readiness};
use muster_core::plan::{Plan, ScenarioId};
use serde_json::{Value, json};

/// A plan with one shortfall or more in every part, in Berlin time. Monday 2026-01-05 00:00 in
/// Berlin is the moment it is scored at, so the 28 days ahead are four whole weeks without a
/// daylight-saving change.
fn fixture() -> Value {
    json!({
        "version": 1,
        "organization": { "name": "Example Protocol", "timezone": "Europe/Berlin" },
        "severities": [
            { "id": "P0", "name": "Critical", "urgent": true, "important": true, "ack_within": "15m", "escalation": "critical" },
            { "id": "P1", "name": "High", "urgent": true, "important": false, "ack_within": "1h", "escalation": "business" },
            { "id": "P2", "name": "Medium", "urgent": false, "important": true, "ack_within": "4h", "escalation": "none" },
            { "id": "P3", "name": "Low", "urgent": false, "important": false, "ack_within": "1d" },
        ],
        "categories": [{ "id": "hacker", "name": "Hacker" }],
        "people": [
            { "id": "alice", "name": "Alice", "contacts": { "email": "alice@example.com", "phone": "+10000000001" } },
            { "id": "bob", "name": "Bob", "contacts": { "email": "bob@example.com", "telegram": "@bob" } },
            { "id": "carol", "name": "Carol", "contacts": { "email": "carol@example.com", "slack": "  " } },
            { "id": "dave", "name": "Dave" },
        ],
        "roles": [
            { "id": "ic", "name": "Incident commander", "primary": "alice", "backup": "bob" },
            { "id": "comms", "name": "Communications lead", "primary": "carol" },
            { "id": "scribe", "name": "Scribe", "primary": "bob", "backup": "bob" },
        ],
        "schedules": [
            { "id": "primary", "rotations": [
                { "members": ["alice", "bob"], "every": "1w", "handoff": "mon 09:00", "start": "2025-12-01" },
            ] },
            { "id": "office", "rotations": [
                { "members": ["carol"], "every": "1d", "handoff": "09:00", "start": "2025-12-01", "active": "mon-fri 09:00-17:00" },
            ] },
        ],
        "escalation_policies": [
            { "id": "critical", "levels": [{ "after": "0m", "notify": ["schedule:primary"] }] },
            { "id": "business", "levels": [
                { "after": "0m", "notify": ["channel:war-room"] },
                { "after": "15m", "notify": ["schedule:office"] },
            ] },
        ],
        "scenarios": [
            { "id": "stolen-funds", "category": "hacker", "title": "Stolen funds", "severity": "P0",
              "detection": ["detector:treasury-outflow"], "runbook": "stolen-funds" },
            { "id": "oracle", "category": "hacker", "title": "Oracle manipulation", "severity": "P1",
              "detection": ["Reports on social media"], "runbook": "oracle" },
            { "id": "node-down", "category": "hacker", "title": "Node down", "severity": "P1",
              "detection": ["alert:NodeDown", "Users complain"], "runbook": "node-down" },
            { "id": "key-leak", "category": "hacker", "title": "Key leak", "severity": "P0" },
        ],
        "runbooks": [
            { "id": "stolen-funds", "title": "Stolen funds", "steps": [
                { "id": "pause", "title": "Pause the contracts", "phase": "containment" },
            ] },
            { "id": "oracle", "title": "Oracle manipulation", "steps": [] },
        ],
        "drills": {
            "every": "6 months",
            "scenarios": ["stolen-funds", "oracle", "node-down"],
            "history": [
                { "date": "2025-03-01", "scenarios": ["stolen-funds"] },
                { "date": "2025-09-15", "scenarios": ["oracle"] },
            ],
        },
    })
}

fn plan(value: Value) -> Plan {
    serde_json::from_value(value).expect("the fixture is a valid plan")
}

fn now() -> Timestamp {
    "2026-01-04T23:00:00Z".parse().unwrap()
}

fn scores(report: &Readiness) -> Vec<(&'static str, f64)> {
    report
        .parts
        .iter()
        .map(|part| (part.key, part.score))
        .collect()
}

fn part<'a>(report: &'a Readiness, key: &str) -> &'a muster_core::plan::coverage::Part {
    report
        .parts
        .iter()
        .find(|part| part.key == key)
        .expect("every part is reported")
}

#[test]
fn every_part_scores_the_share_in_good_order() {
    let report = readiness(&plan(fixture()), now(), &BTreeMap::new());
    // Office hours are 40 of the week's 168 hours, so the business policy covers 23.81% of the
    // time; the three paging severities score 100, 23.81 and 0 (P3 has no policy).
    assert_eq!(
        scores(&report),
        vec![
            ("runbook-coverage", 25.0),
            ("detection-coverage", 75.0),
            ("role-backups", 33.3),
            ("escalation-24x7", 41.3),
            ("drills", 33.3),
            ("contact-methods", 50.0),
        ]
    );
    // (25 + 75 + 33.33 + 41.27 + 33.33 + 50) / 6, from the unrounded part scores.
    assert_eq!(format!("{}", report.score), "43");
    assert!(
        report
            .parts
            .iter()
            .all(|part| part.weight.to_bits() == 1.0f64.to_bits())
    );
}

#[test]
fn runbook_findings_name_the_scenario_and_the_fix() {
    let report = readiness(&plan(fixture()), now(), &BTreeMap::new());
    let runbooks = part(&report, "runbook-coverage");
    assert_eq!(runbooks.title, "Runbook coverage");
    assert_eq!(runbooks.summary, "1 of 4 scenarios have a runbook");
    assert_eq!(
        runbooks.findings,
        [
            "runbook oracle of scenario oracle has no steps: write the response steps",
            "scenario node-down names runbook node-down, which does not exist: add the runbook or fix the reference",
            "scenario key-leak (Key leak) has no runbook: write one and name it in the scenario's runbook",
        ]
    );
}

#[test]
fn detection_counts_automated_signals_and_advises_on_manual_ones() {
    let report = readiness(&plan(fixture()), now(), &BTreeMap::new());
    let detection = part(&report, "detection-coverage");
    assert_eq!(
        detection.summary,
        "3 of 4 scenarios have a detection, 2 automated"
    );
    assert_eq!(
        detection.findings,
        [
            "scenario oracle (Oracle manipulation) is only noticed by people: consider a detector: or alert: signal",
            "scenario key-leak (Key leak) has no detection: say how it is noticed, ideally with a detector: or alert: signal",
        ]
    );
}

#[test]
fn roles_need_a_backup_other_than_the_primary() {
    let report = readiness(&plan(fixture()), now(), &BTreeMap::new());
    let roles = part(&report, "role-backups");
    assert_eq!(roles.summary, "1 of 3 roles have a backup");
    assert_eq!(
        roles.findings,
        [
            "role comms has no backup: name one so the role is filled when carol cannot be reached",
            "role scribe has bob as both primary and backup: name a different backup",
        ]
    );
}

#[test]
fn escalation_findings_list_the_first_gaps_in_the_organization_zone() {
    let report = readiness(&plan(fixture()), now(), &BTreeMap::new());
    let escalation = part(&report, "escalation-24x7");
    assert_eq!(
        escalation.summary,
        "1 of 3 paging severities reach a person at every hour of the next 28 days"
    );
    assert_eq!(
        escalation.findings,
        [
            "policy business reaches nobody for 76% of the next 28 days (21 gaps): add a level that reaches a person at all hours, such as a 24/7 schedule, a role or a team",
            "policy business reaches nobody 2026-01-05 00:00 - 2026-01-05 09:00 (Europe/Berlin)",
            "policy business reaches nobody 2026-01-05 17:00 - 2026-01-06 09:00 (Europe/Berlin)",
            "policy business reaches nobody 2026-01-06 17:00 - 2026-01-07 09:00 (Europe/Berlin)",
            "policy business reaches nobody in 18 more intervals",
            "severity P3 has no escalation policy: set escalation to a policy id, or to none if it deliberately pages nobody",
        ]
    );
}

#[test]
fn escalation_reports_missing_policies_and_schedules_that_cannot_be_evaluated() {
    let mut value = fixture();
    value["severities"][1]["escalation"] = json!("ghost");
    value["severities"][3]["escalation"] = json!("none");
    value["schedules"][0]["timezone"] = json!("Mars/Olympus");
    let report = readiness(&plan(value), now(), &BTreeMap::new());
    let escalation = part(&report, "escalation-24x7");
    assert_eq!(escalation.score.to_bits(), 0.0f64.to_bits());
    assert_eq!(
        escalation.findings,
        [
            "policy critical cannot be checked: schedule primary: unknown time zone 'Mars/Olympus'; use an IANA name such as UTC, Europe/Berlin or America/New_York",
            "severity P1 names escalation policy ghost, which does not exist: add the policy or fix the reference",
        ]
    );
}

#[test]
fn a_plan_where_no_severity_pages_scores_zero_on_escalation() {
    let mut value = fixture();
    for severity in value["severities"].as_array_mut().unwrap() {
        severity["escalation"] = json!("none");
    }
    let report = readiness(&plan(value), now(), &BTreeMap::new());
    let escalation = part(&report, "escalation-24x7");
    assert_eq!(escalation.score.to_bits(), 0.0f64.to_bits());
    assert_eq!(
        escalation.findings,
        [
            "no severity pages anyone: set escalation on the severities that need a person to respond"
        ]
    );
}

#[test]
fn drills_are_overdue_after_the_cadence_or_when_never_held() {
    let report = readiness(&plan(fixture()), now(), &BTreeMap::new());
    let drills = part(&report, "drills");
    assert_eq!(
        drills.summary,
        "1 of 3 drill scenarios were exercised within the last 6 months"
    );
    assert_eq!(
        drills.findings,
        [
            "scenario stolen-funds was last drilled 2025-03-01 and was due again 2025-09-01: run an exercise",
            "scenario node-down has never been drilled: run an exercise and record it in drills.history",
        ]
    );
}

#[test]
fn supplied_drill_dates_count_and_the_latest_date_wins() {
    let done: BTreeMap<ScenarioId, Date> = [
        (ScenarioId::from("stolen-funds"), date(2025, 12, 1)),
        // Older than the plan's own record, so the plan's 2025-09-15 still counts.
        (ScenarioId::from("oracle"), date(2025, 1, 1)),
        // Due again 2025-12-01, before today: still overdue.
        (ScenarioId::from("node-down"), date(2025, 6, 1)),
        // Not a drill scenario: ignored.
        (ScenarioId::from("key-leak"), date(2025, 12, 1)),
    ]
    .into_iter()
    .collect();
    let report = readiness(&plan(fixture()), now(), &done);
    let drills = part(&report, "drills");
    assert_eq!(drills.score.to_bits(), 66.7f64.to_bits());
    assert_eq!(
        drills.findings,
        [
            "scenario node-down was last drilled 2025-06-01 and was due again 2025-12-01: run an exercise"
        ]
    );
}

#[test]
fn a_drill_due_today_is_not_yet_overdue() {
    // Six months after 2025-07-05 is 2026-01-05, which is today in Berlin at the scoring moment.
    let done: BTreeMap<ScenarioId, Date> = [
        (ScenarioId::from("stolen-funds"), date(2025, 7, 5)),
        (ScenarioId::from("node-down"), date(2025, 7, 4)),
    ]
    .into_iter()
    .collect();
    let report = readiness(&plan(fixture()), now(), &done);
    assert_eq!(
        part(&report, "drills").findings,
        [
            "scenario node-down was last drilled 2025-07-04 and was due again 2026-01-04: run an exercise"
        ]
    );
}

#[test]
fn a_plan_without_drills_scores_zero_and_says_what_to_add() {
    let mut value = fixture();
    value.as_object_mut().unwrap().remove("drills");
    let report = readiness(&plan(value), now(), &BTreeMap::new());
    let drills = part(&report, "drills");
    assert_eq!(drills.score.to_bits(), 0.0f64.to_bits());
    assert_eq!(
        drills.findings,
        ["no drill cadence: add a drills section (seed 001 recommends at least every six months)"]
    );
}

#[test]
fn people_need_two_contact_methods() {
    let report = readiness(&plan(fixture()), now(), &BTreeMap::new());
    let contacts = part(&report, "contact-methods");
    assert_eq!(
        contacts.summary,
        "2 of 4 people have two or more contact methods"
    );
    // Carol's blank Slack handle does not count as a way to reach her.
    assert_eq!(
        contacts.findings,
        [
            "person carol (Carol) has only one contact method (email): add a second so a page still arrives when one fails",
            "person dave (Dave) has no contact method: add at least two, e.g. email and phone",
        ]
    );
}

#[test]
fn an_empty_plan_scores_zero_everywhere_with_a_finding_per_part() {
    let empty = plan(json!({ "version": 1, "organization": { "name": "Empty" } }));
    let report = readiness(&empty, now(), &BTreeMap::new());
    assert_eq!(report.score.to_bits(), 0.0f64.to_bits());
    for part in &report.parts {
        assert_eq!(part.score.to_bits(), 0.0f64.to_bits(), "{}", part.key);
        assert_eq!(part.findings.len(), 1, "{}", part.key);
    }
}

#[test]
fn a_ready_plan_prints_as_a_short_report() {
    let ready = plan(json!({
        "version": 1,
        "organization": { "name": "Ready" },
        "severities": [
            { "id": "P0", "name": "Critical", "urgent": true, "important": true, "ack_within": "15m", "escalation": "always" },
        ],
        "categories": [{ "id": "hacker", "name": "Hacker" }],
        "people": [
            { "id": "alice", "name": "Alice", "contacts": { "email": "alice@example.com", "phone": "+10000000001" } },
            { "id": "bob", "name": "Bob", "contacts": { "email": "bob@example.com" } },
        ],
        "roles": [{ "id": "ic", "name": "Incident commander", "primary": "alice", "backup": "bob" }],
        "escalation_policies": [
            { "id": "always", "levels": [{ "after": "0m", "notify": ["role:ic"] }] },
        ],
        "scenarios": [
            { "id": "stolen-funds", "category": "hacker", "title": "Stolen funds", "severity": "P0",
              "detection": ["detector:treasury-outflow"], "runbook": "stolen-funds" },
        ],
        "runbooks": [
            { "id": "stolen-funds", "title": "Stolen funds", "steps": [
                { "id": "pause", "title": "Pause the contracts", "phase": "containment" },
            ] },
        ],
        "drills": {
            "every": "6 months",
            "scenarios": ["stolen-funds"],
            "history": [{ "date": "2025-12-01", "scenarios": ["stolen-funds"] }],
        },
    }));
    let report = readiness(&ready, now(), &BTreeMap::new());
    assert_eq!(
        report.to_text(),
        "\
Readiness: 92/100

[####################] 100%  Runbook coverage
    1 of 1 scenarios have a runbook

[####################] 100%  Detection coverage
    1 of 1 scenarios have a detection, 1 automated

[####################] 100%  Role backups
    1 of 1 roles have a backup

[####################] 100%  Escalation around the clock
    1 of 1 paging severities reach a person at every hour of the next 28 days

[####################] 100%  Drills
    1 of 1 drill scenarios were exercised within the last 6 months

[##########..........]  50%  Contact methods
    1 of 2 people have two or more contact methods
    - person bob (Bob) has only one contact method (email): add a second so a page still arrives when one fails
"
    );
}

#[test]
fn the_report_serializes_to_json_for_tools() {
    let report = readiness(&plan(fixture()), now(), &BTreeMap::new());
    let value = serde_json::to_value(&report).unwrap();
    assert_eq!(value["score"], json!(43.0));
    assert_eq!(value["parts"][0]["key"], json!("runbook-coverage"));
    assert_eq!(value["parts"][3]["score"], json!(41.3));
    assert_eq!(value["parts"][3]["weight"], json!(1.0));
}
