//! Incidents as a fold over events: the rules a responder expects, and a timeline that shows any
//! change made after the fact.

use muster_core::incident::chain::{self, BrokenLink};
use muster_core::incident::{Command, Event, EventKind, Incident, IncidentId, Status, decide};
use muster_core::plan::Plan;
use proptest::prelude::*;

use crate::check::load_files;

/// Seed 001's decision table and response procedure, small enough to read in the test.
pub const PLAN: &str = r#"
version: 1
organization: { name: Test Protocol }
severities:
  - { id: P0, name: Critical, urgent: true, important: true, ack_within: 15m, escalation: none }
  - { id: P1, name: High, urgent: true, important: false, ack_within: 1h, escalation: none }
  - { id: P2, name: Low, urgent: false, important: false, ack_within: 4h, escalation: none }
qualification:
  - { urgent: true, important: true, severity: P0 }
  - { urgent: true, important: false, severity: P1 }
  - { urgent: false, important: true, severity: P1 }
  - { urgent: false, important: false, severity: P2 }
categories:
  - { id: hacker, name: Hacker attack }
  - { id: network, name: Network problem }
people:
  - { id: ceo-sofia, name: Sofia, contacts: { email: sofia@example.com } }
  - { id: coo-tomas, name: Tomas, contacts: { email: tomas@example.com } }
  - { id: janet, name: Janet R, contacts: { email: janet@example.com }, keys: ["eth:0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "ed25519:6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw="] }
  - { id: david, name: David L, contacts: { email: david@example.com } }
roles:
  - { id: ceo, name: CEO, primary: ceo-sofia, backup: coo-tomas }
  - { id: coo, name: COO, primary: coo-tomas, backup: ceo-sofia }
  - { id: incident-commander, name: Incident Commander, primary: janet, backup: david }
  - { id: technical-lead, name: Technical Lead, primary: david, backup: janet }
scenarios:
  - id: stolen-funds
    category: hacker
    title: Stolen user funds
    detection: [Reports on social media]
    severity: P0
    runbook: stolen-funds
    tags: [funds]
runbooks:
  - id: stolen-funds
    title: Stolen user funds
    steps:
      - { id: pause, title: Pause contract, phase: containment, within: 5m, decision: pause-contract }
      - { id: identify, title: Identify exploit, phase: investigation }
decisions:
  - { id: pause-contract, title: Pause contract, required: [role:ceo, role:coo], additional: [person:janet] }
  - { id: upgrade, title: Upgrade contract, required: [person:janet], signed: true }
"#;

fn plan() -> Plan {
    let loaded = load_files(&[("test.yaml".to_owned(), PLAN.to_owned())]);
    assert_eq!(loaded.errors(), 0, "{:#?}", loaded.diagnostics);
    loaded.plan.unwrap()
}

const T0: i64 = 1_764_000_000_000;

/// An in-memory timeline: decide, seal, apply — what the engine does with a store.
pub struct Timeline {
    pub plan: Plan,
    pub id: IncidentId,
    pub events: Vec<Event>,
    pub state: Option<Incident>,
}

impl Timeline {
    fn new() -> Self {
        Self::with_plan(plan())
    }

    /// An incident `INC-20251207-001`, not yet declared, under `plan`.
    pub fn with_plan(plan: Plan) -> Self {
        Self {
            plan,
            id: "INC-20251207-001".parse().unwrap(),
            events: Vec::new(),
            state: None,
        }
    }

    pub fn run(&mut self, command: &Command, at: i64) -> Result<(), String> {
        let kinds = decide(&self.plan, self.state.as_ref(), command, at)
            .map_err(|r| format!("{}: {}", r.code, r.message))?;
        for kind in kinds {
            let event = chain::seal(&self.id, self.events.last(), at, "test", kind);
            self.state = Incident::apply(self.state.take(), &event);
            self.events.push(event);
        }
        Ok(())
    }

    pub fn state(&self) -> &Incident {
        self.state.as_ref().unwrap()
    }
}

fn declare_stolen_funds() -> Command {
    Command::Declare {
        title: "Funds drained from the vault".into(),
        scenario: Some("stolen-funds".into()),
        severity: None,
        urgent: None,
        important: None,
        category: None,
        summary: None,
        started_at: Some(T0 - 600_000),
        detected_at: None,
        drill: false,
        tags: vec![],
    }
}

fn approve(decision: &str, approver: &str) -> Command {
    Command::Approve {
        decision: decision.into(),
        approver: approver.into(),
        comment: None,
        signature: None,
    }
}

fn step(id: &str) -> Command {
    Command::CompleteStep {
        step: id.into(),
        note: None,
    }
}

#[test]
fn an_incident_from_declaration_to_close() {
    let mut timeline = Timeline::new();
    timeline.run(&declare_stolen_funds(), T0).unwrap();
    let incident = timeline.state();
    assert_eq!(incident.severity.as_str(), "P0", "the scenario's severity");
    assert_eq!(incident.category.as_ref().unwrap().as_str(), "hacker");
    assert_eq!(incident.runbook.as_ref().unwrap().as_str(), "stolen-funds");
    assert_eq!(incident.status, Status::Triage);
    assert_eq!(incident.started_at, T0 - 600_000, "back-dated start kept");
    assert!(
        incident.tags.contains("funds"),
        "scenario tags carried over"
    );

    timeline
        .run(
            &Command::Acknowledge {
                person: Some("janet".into()),
            },
            T0 + 60_000,
        )
        .unwrap();
    timeline
        .run(
            &Command::AssignRole {
                role: "incident-commander".into(),
                person: "janet".into(),
            },
            T0 + 70_000,
        )
        .unwrap();
    timeline
        .run(
            &Command::AssignRole {
                role: "incident-commander".into(),
                person: "david".into(),
            },
            T0 + 80_000,
        )
        .unwrap();
    let Some(EventKind::RoleAssigned { previous, .. }) = timeline.events.last().map(|e| &e.kind)
    else {
        panic!("expected a role hand-over");
    };
    assert_eq!(
        previous.as_ref().unwrap().as_str(),
        "janet",
        "the hand-over names who held it"
    );

    let refused = timeline.run(&step("pause"), T0 + 90_000).unwrap_err();
    assert_eq!(
        refused,
        "needs-approval: step 'Pause contract' needs decision 'Pause contract' approved first: 0 of 2 approvals"
    );
    timeline
        .run(&approve("pause-contract", "ceo-sofia"), T0 + 100_000)
        .unwrap();
    let refused = timeline.run(&step("pause"), T0 + 110_000).unwrap_err();
    assert!(refused.contains("1 of 2 approvals"), "{refused}");
    let refused = timeline
        .run(&approve("pause-contract", "ceo-sofia"), T0 + 115_000)
        .unwrap_err();
    assert!(refused.starts_with("already-approved"), "{refused}");
    // Sofia is the COO's backup too, but one person cannot stand for both required approvers:
    // Tomas (COO) approves.
    timeline
        .run(&approve("pause-contract", "coo-tomas"), T0 + 120_000)
        .unwrap();
    timeline.run(&step("pause"), T0 + 130_000).unwrap();

    timeline
        .run(
            &Command::ChangeStatus {
                to: Status::Identified,
                note: None,
            },
            T0 + 200_000,
        )
        .unwrap();
    timeline
        .run(
            &Command::AddNote {
                text: "Exploit in withdraw()".into(),
            },
            T0 + 210_000,
        )
        .unwrap();
    timeline
        .run(
            &Command::ChangeStatus {
                to: Status::Monitoring,
                note: None,
            },
            T0 + 300_000,
        )
        .unwrap();
    timeline
        .run(
            &Command::Resolve {
                summary: "Patched and unpaused".into(),
            },
            T0 + 400_000,
        )
        .unwrap();
    timeline
        .run(&Command::Close { note: None }, T0 + 500_000)
        .unwrap();

    let incident = timeline.state();
    assert_eq!(incident.status, Status::Closed);
    assert_eq!(incident.acknowledged_at, Some(T0 + 60_000));
    assert_eq!(
        incident.mitigated_at,
        Some(T0 + 300_000),
        "entering monitoring marks mitigation"
    );
    assert_eq!(incident.resolved_at, Some(T0 + 400_000));
    assert_eq!(incident.closed_at, Some(T0 + 500_000));
    assert_eq!(
        incident.roles[&"incident-commander".into()].as_str(),
        "david"
    );
    assert_eq!(incident.notes, 1);
    assert!(incident.steps_done.contains_key("pause"));
    assert_eq!(Incident::fold(&timeline.events).as_ref(), Some(incident));
    chain::verify(&timeline.events).unwrap();
}

#[test]
fn refusals_say_why_and_change_nothing() {
    let mut timeline = Timeline::new();
    timeline.run(&declare_stolen_funds(), T0).unwrap();
    let before = (timeline.events.len(), timeline.state().clone());
    let cases = [
        (
            Command::Resolve {
                summary: "  ".into(),
            },
            "missing-text: a resolution summary (what fixed it) must not be empty",
        ),
        (
            Command::Close { note: None },
            "invalid-transition: only a resolved incident can be closed; INC-20251207-001 is triage",
        ),
        (
            Command::ChangeStatus {
                to: Status::Resolved,
                note: None,
            },
            "invalid-transition: resolve with a resolution summary instead of setting the status",
        ),
        (
            Command::ChangeStatus {
                to: Status::Triage,
                note: None,
            },
            "no-change: INC-20251207-001 is already triage",
        ),
        (
            step("pauze"),
            "unknown-reference: the plan has no step in runbook stolen-funds called 'pauze'; did you mean 'pause'?",
        ),
        (
            approve("pause-contract", "david"),
            "not-an-approver: david may not approve 'Pause contract'; its approvers are ceo-sofia, coo-tomas, janet",
        ),
        (
            approve("upgrade", "janet"),
            "signature-required: 'Upgrade contract' needs a signed approval (the plan sets signed: true): janet signs the approval text with a key the plan lists for them and gives the signature with the approval; `muster incident approval-message` prints the text, which is \"Muster approval\\nincident: INC-20251207-001\\ndecision: upgrade\\napprover: janet\\n\"",
        ),
        (
            Command::ChangeSeverity {
                to: "P9".into(),
                reason: "worse".into(),
            },
            "unknown-reference: the plan has no severity 'P9'",
        ),
        (
            Command::ChangeSeverity {
                to: "P1".into(),
                reason: String::new(),
            },
            "missing-text: the reason for the change must not be empty",
        ),
        (
            Command::Reopen {
                reason: "again".into(),
            },
            "invalid-transition: INC-20251207-001 is still open (triage)",
        ),
        (
            declare_stolen_funds(),
            "already-declared: INC-20251207-001 is already declared",
        ),
    ];
    for (command, expected) in cases {
        assert_eq!(timeline.run(&command, T0 + 1000).unwrap_err(), expected);
        assert_eq!((timeline.events.len(), timeline.state().clone()), before);
    }
}

#[test]
fn resolved_incidents_reopen_with_a_reason_and_their_clock_restarts() {
    let mut timeline = Timeline::new();
    timeline.run(&declare_stolen_funds(), T0).unwrap();
    timeline
        .run(
            &Command::Resolve {
                summary: "Fixed".into(),
            },
            T0 + 1000,
        )
        .unwrap();
    let refused = timeline.run(&Command::AddTag { tag: "x".into() }, T0 + 1500);
    assert!(refused.is_ok(), "tags may still be added after resolution");
    let refused = timeline
        .run(&Command::Acknowledge { person: None }, T0 + 2000)
        .unwrap_err();
    assert!(
        refused.starts_with("incident-finished: INC-20251207-001 is resolved; reopen it first"),
        "{refused}"
    );
    timeline
        .run(
            &Command::Reopen {
                reason: "Attack resumed".into(),
            },
            T0 + 3000,
        )
        .unwrap();
    assert_eq!(timeline.state().status, Status::Investigating);
    assert_eq!(timeline.state().resolved_at, None);
    assert!(
        timeline.events.iter().any(
            |e| matches!(&e.kind, EventKind::Reopened { reason } if reason == "Attack resumed")
        )
    );
}

#[test]
fn severity_follows_the_qualification_matrix() {
    let mut timeline = Timeline::new();
    timeline
        .run(
            &Command::Declare {
                title: "Gossip propagation degraded".into(),
                scenario: None,
                severity: None,
                urgent: Some(false),
                important: Some(true),
                category: Some("network".into()),
                summary: None,
                started_at: None,
                detected_at: None,
                drill: true,
                tags: vec![],
            },
            T0,
        )
        .unwrap();
    assert_eq!(
        timeline.state().severity.as_str(),
        "P1",
        "important but not urgent"
    );
    assert!(timeline.state().drill);
    timeline
        .run(
            &Command::Qualify {
                urgent: true,
                important: true,
                reason: "funds at risk after all".into(),
            },
            T0 + 1,
        )
        .unwrap();
    assert_eq!(timeline.state().severity.as_str(), "P0");
    let Some(EventKind::SeverityChanged { from, reason, .. }) =
        timeline.events.last().map(|e| &e.kind)
    else {
        panic!("expected a severity change");
    };
    assert_eq!(
        (from.as_str(), reason.as_str()),
        ("P1", "funds at risk after all")
    );
}

#[test]
fn incident_ids_read_and_print_as_inc_date_number() {
    let id: IncidentId = "INC-20251207-001".parse().unwrap();
    assert_eq!(id.date, jiff::civil::date(2025, 12, 7));
    assert_eq!(id.number, 1);
    assert_eq!(id.to_string(), "INC-20251207-001");
    assert_eq!(
        IncidentId::new(jiff::civil::date(2026, 1, 2), 1234).to_string(),
        "INC-20260102-1234"
    );
    for bad in [
        "INC-2025127-001",
        "inc-20251207-001",
        "INC-20251307-001",
        "INC-20251207-000",
        "INC-20251207",
    ] {
        assert!(bad.parse::<IncidentId>().is_err(), "{bad}");
    }
}

fn sealed_timeline() -> Vec<Event> {
    let mut timeline = Timeline::new();
    timeline.run(&declare_stolen_funds(), T0).unwrap();
    timeline
        .run(
            &Command::Acknowledge {
                person: Some("janet".into()),
            },
            T0 + 1,
        )
        .unwrap();
    timeline
        .run(
            &Command::AddNote {
                text: "looking".into(),
            },
            T0 + 2,
        )
        .unwrap();
    timeline
        .run(&approve("pause-contract", "janet"), T0 + 3)
        .unwrap();
    timeline
        .run(
            &Command::Resolve {
                summary: "fixed".into(),
            },
            T0 + 4,
        )
        .unwrap();
    timeline.events
}

#[test]
fn an_untouched_timeline_verifies_and_a_changed_event_is_named() {
    let events = sealed_timeline();
    chain::verify(&events).unwrap();

    let mut changed = events.clone();
    changed[2].kind = EventKind::NoteAdded {
        text: "nothing to see".into(),
    };
    assert_eq!(
        chain::verify(&changed).unwrap_err(),
        BrokenLink {
            incident: "INC-20251207-001".into(),
            seq: 3,
            reason: "its hash does not match its contents and the event before it: the event was changed after it was written".into(),
        }
    );

    let mut removed = events.clone();
    removed.remove(1);
    let broken = chain::verify(&removed).unwrap_err();
    assert_eq!(broken.seq, 2);
    assert!(broken.reason.contains("says it is event 3"), "{broken}");

    let mut rehashed = events;
    // Recomputing one event's hash after editing it still breaks the link to the next one.
    rehashed[1].actor = "mallory".into();
    let canonical = chain::canonical_bytes(
        &rehashed[1].incident,
        2,
        rehashed[1].at,
        "mallory",
        &rehashed[1].kind,
    );
    rehashed[1].hash = chain::hash(Some(&rehashed[0].hash), &canonical);
    assert_eq!(chain::verify(&rehashed).unwrap_err().seq, 3);
}

proptest! {
    /// Any change to any byte of an event's stored JSON that still reads as an event breaks
    /// the chain at that event or the one after it.
    #[test]
    fn any_single_byte_change_is_detected(index in 0usize..5, position in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let events = sealed_timeline();
        let mut json = serde_json::to_vec(&events[index]).unwrap();
        let at = position.index(json.len());
        prop_assume!(json[at] != byte);
        json[at] = byte;
        let Ok(changed) = serde_json::from_slice::<Event>(&json) else {
            // Bytes that no longer read as an event cannot be stored as one.
            return Ok(());
        };
        prop_assume!(changed != events[index]);
        let mut tampered = events.clone();
        tampered[index] = changed;
        let broken = chain::verify(&tampered).unwrap_err();
        prop_assert!(broken.seq == index as u64 + 1 || broken.seq == index as u64 + 2, "{broken}");
    }
}

fn command_strategy() -> impl Strategy<Value = Command> {
    let person = prop::sample::select(vec!["ceo-sofia", "coo-tomas", "janet", "david", "nobody"]);
    let status = prop::sample::select(Status::ALL.to_vec());
    prop_oneof![
        Just(declare_stolen_funds()),
        person.clone().prop_map(|p| Command::Acknowledge {
            person: Some(p.into())
        }),
        prop::sample::select(vec!["P0", "P1", "P2"]).prop_map(|s| Command::ChangeSeverity {
            to: s.into(),
            reason: "new facts".into()
        }),
        status.prop_map(|to| Command::ChangeStatus { to, note: None }),
        (
            prop::sample::select(vec!["incident-commander", "technical-lead"]),
            person.clone()
        )
            .prop_map(|(role, p)| Command::AssignRole {
                role: role.into(),
                person: p.into()
            }),
        "[a-z ]{0,8}".prop_map(|text| Command::AddNote { text }),
        prop::sample::select(vec!["pause", "identify"]).prop_map(step),
        person.prop_map(|p| approve("pause-contract", p)),
        "[a-z]{0,3}".prop_map(|tag| Command::AddTag { tag }),
        "[a-z ]{0,6}".prop_map(|summary| Command::Resolve { summary }),
        Just(Command::Reopen {
            reason: "regressed".into()
        }),
        Just(Command::Close { note: None }),
    ]
}

proptest! {
    /// Whatever responders try, in whatever order: the stored events fold to exactly the state
    /// the engine holds, the chain verifies, and the clock fields agree with the status.
    #[test]
    fn any_command_sequence_folds_back_to_the_same_state(commands in proptest::collection::vec(command_strategy(), 1..40)) {
        let mut timeline = Timeline::new();
        for (offset, command) in commands.into_iter().enumerate() {
            let before = timeline.events.len();
            let state_before = timeline.state.clone();
            if timeline.run(&command, T0 + i64::try_from(offset).unwrap() * 1000).is_err() {
                prop_assert_eq!(timeline.events.len(), before);
                prop_assert_eq!(&timeline.state, &state_before);
            }
        }
        prop_assert_eq!(Incident::fold(&timeline.events), timeline.state.clone());
        prop_assert!(chain::verify(&timeline.events).is_ok());
        if let Some(incident) = &timeline.state {
            prop_assert_eq!(incident.resolved_at.is_some(), !incident.status.is_open());
            prop_assert_eq!(incident.closed_at.is_some(), incident.status == Status::Closed);
            prop_assert_eq!(incident.last_seq, timeline.events.len() as u64);
        }
    }
}
