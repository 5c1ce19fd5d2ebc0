//! The communications table's clocks on their own: which audiences an incident owes, what a
//! timer does when it fires on time or days late, and when deadlines start and remind.

use muster_core::incident::comms::{self, INTERNAL_UPDATES};
use muster_core::incident::{Command, EventKind};

use crate::check::load_files;
use crate::incident::Timeline;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const T0: i64 = 1_765_098_000_000;

const PLAN: &str = r"
version: 1
organization: { name: Clocks }
severities:
  - { id: P0, name: Critical, urgent: true, important: true, ack_within: 15m, escalation: none }
  - { id: P1, name: High, urgent: true, important: false, ack_within: 1h, update_every: 30m, escalation: none }
people:
  - { id: ana, name: Ana, contacts: { email: ana@example.com } }
  - { id: ben, name: Ben, contacts: { email: ben@example.com } }
roles:
  - { id: commander, name: Commander, primary: ana }
  - { id: comms, name: Comms, primary: ben }
channels:
  chat: { type: manual, description: War room }
communications:
  - { audience: Inside, when: 'severity:P0', every: 1h, channels: [chat], owner: 'role:comms' }
  - { audience: Report, due: 'resolved+2d', channels: [chat], owner: 'role:commander' }
deadlines:
  - { id: regulator, title: Tell the regulator, when: 'tag:regulated', due: 'detected+24h', owner: 'role:commander' }
";

fn declared(severity: &str, tags: &[&str]) -> Timeline {
    let loaded = load_files(&[("clocks.yaml".to_owned(), PLAN.to_owned())]);
    assert_eq!(loaded.errors(), 0, "{:#?}", loaded.diagnostics);
    let mut timeline = Timeline::with_plan(loaded.plan.unwrap());
    timeline
        .run(
            &Command::Declare {
                title: "Slow blocks".into(),
                scenario: None,
                severity: Some(severity.into()),
                urgent: None,
                important: None,
                category: None,
                summary: None,
                started_at: None,
                detected_at: None,
                drill: false,
                tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
            },
            T0,
        )
        .unwrap();
    timeline
}

#[test]
fn a_severity_cadence_stands_in_when_the_table_has_none() {
    let timeline = declared("P1", &[]);
    let cadences = comms::cadences(&timeline.plan, timeline.state());
    assert_eq!(cadences.len(), 1);
    assert_eq!(cadences[0].audience, INTERNAL_UPDATES);
    assert_eq!(cadences[0].due_at, T0 + 30 * MINUTE);
    let reminder = comms::fire(
        &timeline.plan,
        timeline.state(),
        &format!("{}{INTERNAL_UPDATES}", comms::UPDATE_PREFIX),
        T0 + 30 * MINUTE,
    )
    .unwrap();
    assert_eq!(reminder.people, vec!["ana".into()], "the commander");
}

#[test]
fn the_table_replaces_the_severity_cadence() {
    let timeline = declared("P0", &[]);
    let audiences: Vec<String> = comms::cadences(&timeline.plan, timeline.state())
        .into_iter()
        .map(|cadence| cadence.audience)
        .collect();
    assert_eq!(audiences, vec!["Inside"]);
}

#[test]
fn early_timers_do_nothing_and_late_ones_speak_for_the_latest_cycle() {
    let timeline = declared("P0", &[]);
    let kind = format!("{}Inside", comms::UPDATE_PREFIX);
    assert_eq!(
        comms::fire(&timeline.plan, timeline.state(), &kind, T0 + HOUR - 1),
        None
    );
    // The server was down for ten days: one overdue flag, for the cycle now running.
    let late = comms::fire(
        &timeline.plan,
        timeline.state(),
        &kind,
        T0 + 10 * DAY + 20 * MINUTE,
    )
    .unwrap();
    assert_eq!(
        late.event,
        EventKind::CommunicationOverdue {
            audience: "Inside".into(),
            due_at: T0 + 10 * DAY,
        }
    );
    assert_eq!(
        late.people,
        vec!["ben".into(), "ana".into()],
        "owner, then the commander"
    );
}

#[test]
fn deadlines_start_at_their_anchor_and_remind_ahead() {
    let mut timeline = declared("P0", &["regulated"]);
    let deadlines = comms::deadlines(&timeline.plan, timeline.state());
    let keys: Vec<(&str, Option<i64>)> = deadlines
        .iter()
        .map(|deadline| (deadline.key.as_str(), deadline.due_at))
        .collect();
    assert_eq!(
        keys,
        vec![("regulator", Some(T0 + DAY)), ("message:Report", None)],
        "the report starts at resolution"
    );
    // A 24-hour clock reminds a quarter ahead: 6 hours before.
    let kind = format!("{}regulator", comms::DEADLINE_PREFIX);
    assert_eq!(
        comms::fire(&timeline.plan, timeline.state(), &kind, T0 + 17 * HOUR),
        None
    );
    let near = comms::fire(&timeline.plan, timeline.state(), &kind, T0 + 18 * HOUR).unwrap();
    assert!(matches!(near.event, EventKind::DeadlineNear { .. }));
    assert!(
        near.headline
            .starts_with("Deadline in 6h: Tell the regulator"),
        "{}",
        near.headline
    );

    timeline
        .run(
            &Command::CompleteDeadline {
                deadline: "regulator".into(),
                note: None,
            },
            T0 + 20 * HOUR,
        )
        .unwrap();
    assert_eq!(
        comms::fire(&timeline.plan, timeline.state(), &kind, T0 + DAY),
        None,
        "a met deadline is never missed"
    );
    let refused = timeline.run(
        &Command::CompleteDeadline {
            deadline: "regulater".into(),
            note: None,
        },
        T0 + 21 * HOUR,
    );
    assert!(
        refused
            .as_ref()
            .is_err_and(|error| error.contains("did you mean 'regulator'")),
        "{refused:?}"
    );

    timeline
        .run(
            &Command::Resolve {
                summary: "Fixed".into(),
            },
            T0 + 2 * HOUR,
        )
        .unwrap();
    let report = comms::deadlines(&timeline.plan, timeline.state())
        .into_iter()
        .find(|deadline| deadline.key == "message:Report")
        .unwrap();
    assert_eq!(report.due_at, Some(T0 + 2 * HOUR + 2 * DAY));
    // A message to the audience after resolution meets it.
    timeline
        .run(
            &Command::SendMessage {
                audience: Some("Report".into()),
                template: None,
                channels: vec![],
                subject: None,
                body: Some("What happened, and what we changed.".into()),
            },
            T0 + 30 * HOUR,
        )
        .unwrap();
    let report = comms::deadlines(&timeline.plan, timeline.state())
        .into_iter()
        .find(|deadline| deadline.key == "message:Report")
        .unwrap();
    assert_eq!(report.met_at, Some(T0 + 30 * HOUR));
}
