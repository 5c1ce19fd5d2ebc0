//! The post-mortem draft of a scripted incident: seed 002's outline with the incident's real
//! timeline, root cause, action items, and what went well and poorly against the plan.

use muster_core::incident::{Command, Horizon};
use muster_core::message::MessageInput;
use muster_core::postmortem;

use crate::check::load_files;
use crate::incident::{PLAN, Timeline};

const MINUTE: i64 = 60_000;
/// 2025-12-07T09:00:00Z, the seed's example day.
const T0: i64 = 1_765_098_000_000;

fn scripted() -> Timeline {
    let loaded = load_files(&[("test.yaml".to_owned(), PLAN.to_owned())]);
    let mut timeline = Timeline::with_plan(loaded.plan.unwrap());
    let steps: Vec<(i64, Command)> = vec![
        (
            0,
            Command::Declare {
                title: "Funds drained from the vault".into(),
                scenario: Some("stolen-funds".into()),
                severity: None,
                urgent: None,
                important: None,
                category: None,
                summary: Some("Withdrawals to an unknown address, 120 ETH so far.".into()),
                started_at: Some(T0 - 4 * MINUTE),
                detected_at: Some(T0 - MINUTE),
                drill: false,
                tags: vec!["funds".into()],
            },
        ),
        (
            3,
            Command::Acknowledge {
                person: Some("janet".into()),
            },
        ),
        (
            4,
            Command::AssignRole {
                role: "technical-lead".into(),
                person: "david".into(),
            },
        ),
        (
            5,
            Command::AddNote {
                text: "Attacker | calls withdraw() in a loop".into(),
            },
        ),
        (
            6,
            Command::Approve {
                decision: "pause-contract".into(),
                approver: "ceo-sofia".into(),
                comment: None,
                signature: None,
            },
        ),
        (
            7,
            Command::Approve {
                decision: "pause-contract".into(),
                approver: "coo-tomas".into(),
                comment: None,
                signature: None,
            },
        ),
        (
            9,
            Command::CompleteStep {
                step: "pause".into(),
                note: Some("Paused at block 21,400,000".into()),
            },
        ),
        (
            40,
            Command::SetRootCause {
                tag: "reentrancy".into(),
                text: "withdraw() sent ETH before updating the balance.".into(),
            },
        ),
        (
            50,
            Command::AddActionItem {
                title: "Checks-effects-interactions audit of every external call".into(),
                owner: "david".into(),
                horizon: Horizon::Immediate,
                due_at: None,
                root_cause: None,
            },
        ),
        (
            51,
            Command::AddActionItem {
                title: "Invariant monitoring on vault balances".into(),
                owner: "janet".into(),
                horizon: Horizon::ShortTerm,
                due_at: None,
                root_cause: None,
            },
        ),
        (
            95,
            Command::Resolve {
                summary: "Patched contract deployed and unpaused".into(),
            },
        ),
    ];
    for (minute, command) in steps {
        timeline
            .run(&command, T0 + minute * MINUTE)
            .unwrap_or_else(|error| panic!("{command:?}: {error}"));
    }
    timeline
}

#[test]
fn the_draft_holds_the_real_timeline() {
    let timeline = scripted();
    let input = MessageInput {
        plan: &timeline.plan,
        incident: timeline.state(),
        events: &timeline.events,
        now: T0 + 2 * 24 * 60 * MINUTE,
        audience: None,
        next_update: None,
    };
    let draft = postmortem::draft(&input).unwrap();
    // Every event of the log is a row of the table, in order.
    for event in &timeline.events {
        let text = event.kind.describe().replace('|', "\\|");
        assert!(draft.contains(&text), "{text} is in the draft:\n{draft}");
    }
    insta::assert_snapshot!(draft);
}
