//! A P0 through its whole life on a controllable clock, on both backends: the communications
//! table reminds each audience's owner when an update is due (every 30 minutes inside, every 2
//! hours to users), flags and escalates an update that does not come, counts a status-page
//! update as the users' update; the GDPR clock starts on a tagged incident, reminds a day ahead
//! and flags a miss; the post-mortem deadline starts at resolution and is met by publishing;
//! closing waits for the published post-mortem.

use std::sync::Arc;

use muster_core::access::Role;
use muster_core::incident::{
    ActionStatus, Command, EventKind, Horizon, Impact, IncidentId, PublicState,
};
use muster_engine::{Engine, Principal};

use super::T0;
use super::paging::{Setup, kinds, setup_from, sqlite_url};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const PLAN: &str = include_str!("fixtures/comms.yaml");

fn alice() -> Principal {
    Principal {
        name: "alice".into(),
        role: Role::Responder,
        person: Some("alice".into()),
    }
}

async fn run(engine: &Engine, id: &IncidentId, command: Command) {
    engine
        .execute(&alice(), id, &command)
        .await
        .unwrap_or_else(|error| panic!("{command:?} is accepted: {error}"));
}

async fn refused(engine: &Engine, id: &IncidentId, command: Command) -> String {
    let error = engine
        .execute(&alice(), id, &command)
        .await
        .expect_err("the command is refused");
    error.code().to_owned()
}

/// Fires what is due and sends it; returns the events the timers recorded.
async fn tick(engine: &Arc<Engine>, id: &IncidentId) -> Vec<EventKind> {
    let before = engine.timeline(id).await.unwrap().len();
    while engine.fire_due_timers().await.unwrap() > 0 {}
    engine.deliver_due().await.unwrap();
    engine.timeline(id).await.unwrap()[before..]
        .iter()
        .map(|event| event.kind.clone())
        .filter(|kind| !matches!(kind, EventKind::Notified { .. }))
        .collect()
}

fn headlines(bodies: &[serde_json::Value]) -> Vec<String> {
    bodies
        .iter()
        .map(|body| body["headline"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn p0_life(url: &str) {
    let Setup {
        engine,
        clock,
        hook,
        _dir,
    } = setup_from(url, PLAN).await;
    let declared = engine
        .declare(
            &alice(),
            &Command::Declare {
                title: "Customer records readable without a session".into(),
                scenario: None,
                severity: Some("P0".into()),
                urgent: None,
                important: None,
                category: Some("privacy".into()),
                summary: Some("The export endpoint skipped its session check.".into()),
                started_at: Some(T0 - 10 * MINUTE),
                detected_at: None,
                drill: false,
                tags: vec!["personal-data".into()],
            },
        )
        .await
        .unwrap();
    let id = declared.incident.id.clone();
    run(&engine, &id, Command::Acknowledge { person: None }).await;
    run(
        &engine,
        &id,
        Command::ChangeStatus {
            to: muster_core::incident::Status::Investigating,
            note: None,
        },
    )
    .await;

    // What the incident owes, at a glance.
    let view = engine.incident(&id).await.unwrap();
    let owed: Vec<(&str, i64)> = view
        .communications
        .iter()
        .map(|c| (c.audience.as_str(), c.due_at))
        .collect();
    assert_eq!(
        owed,
        vec![
            ("Internal updates", T0 + 30 * MINUTE),
            ("Users", T0 + 2 * HOUR)
        ]
    );
    let gdpr = view.deadlines.iter().find(|d| d.key == "gdpr").unwrap();
    assert_eq!(gdpr.due_at, Some(T0 + 72 * HOUR), "72 hours from detection");
    let postmortem = view
        .deadlines
        .iter()
        .find(|d| d.key == "message:Post-mortem")
        .unwrap();
    assert_eq!(postmortem.due_at, None, "starts at resolution");

    // 29 minutes: nothing is due yet.
    clock.set(T0 + 29 * MINUTE);
    assert_eq!(tick(&engine, &id).await, vec![]);
    let pages = hook.bodies().len();

    // 30 minutes: the commander is reminded of the internal update.
    clock.set(T0 + 30 * MINUTE);
    assert_eq!(
        tick(&engine, &id).await,
        vec![EventKind::CommunicationDue {
            audience: "Internal updates".into(),
            every: "30m".into(),
            due_at: T0 + 30 * MINUTE,
        }]
    );
    let bodies = hook.bodies();
    assert_eq!(
        headlines(&bodies[pages..]),
        vec![
            "Update to Internal updates due now (every 30m): Customer records readable without a session"
        ]
    );
    assert_eq!(bodies[pages]["recipient"]["person"], "alice");

    // 35 minutes: the update goes out, written from the plan's template; the clock restarts.
    clock.set(T0 + 35 * MINUTE);
    // A preview names no audience: the template's own (the table's entry that uses it) sets
    // when the next update is promised.
    let preview = engine
        .preview_message(&id, None, &"internal-update".into())
        .await
        .unwrap();
    assert!(
        preview
            .body
            .ends_with("Next update by 2026-11-21 10:05 UTC."),
        "{}",
        preview.body
    );
    run(
        &engine,
        &id,
        Command::SendMessage {
            audience: Some("Internal updates".into()),
            template: Some("internal-update".into()),
            channels: vec![],
            subject: None,
            body: None,
        },
    )
    .await;
    engine.deliver_due().await.unwrap();
    let sent = hook.bodies().last().cloned().unwrap();
    assert_eq!(
        sent["authored"]["subject"],
        format!("[P0] Customer records readable without a session")
    );
    assert_eq!(
        sent["authored"]["body"],
        format!("{id} is Investigating. IC: Alice Example.\nNext update by 2026-11-21 10:05 UTC."),
        "the next update is 30 minutes after this one"
    );
    let view = engine.incident(&id).await.unwrap();
    assert_eq!(view.communications[0].due_at, T0 + 65 * MINUTE);

    // 65 minutes: reminded again; 75 minutes (a third of the cadence later) still nothing:
    // flagged overdue on the incident and escalated to the commander.
    clock.set(T0 + 65 * MINUTE);
    assert!(matches!(
        tick(&engine, &id).await.as_slice(),
        [EventKind::CommunicationDue { .. }]
    ));
    clock.set(T0 + 75 * MINUTE);
    assert_eq!(
        tick(&engine, &id).await,
        vec![EventKind::CommunicationOverdue {
            audience: "Internal updates".into(),
            due_at: T0 + 65 * MINUTE,
        }]
    );
    assert!(
        headlines(&hook.bodies())
            .last()
            .unwrap()
            .starts_with("Update to Internal updates overdue")
    );
    let view = engine.incident(&id).await.unwrap();
    assert!(view.communications[0].overdue, "the incident shows it");
    assert_eq!(
        view.communications[0].due_at,
        T0 + 95 * MINUTE,
        "the next cycle"
    );

    // Sending clears the flag.
    clock.set(T0 + 80 * MINUTE);
    run(
        &engine,
        &id,
        Command::SendMessage {
            audience: Some("Internal updates".into()),
            template: None,
            channels: vec![],
            subject: Some("Still contained".into()),
            body: Some("Export endpoint disabled; scope assessment ongoing.".into()),
        },
    )
    .await;
    let view = engine.incident(&id).await.unwrap();
    assert!(!view.communications[0].overdue);
    assert_eq!(view.communications[0].due_at, T0 + 110 * MINUTE);

    // Users: the comms lead is reminded at 2 hours; a status-page update is the users' update.
    // The internal update due at 110 minutes did not come either: flagged again.
    clock.set(T0 + 2 * HOUR);
    let fired = tick(&engine, &id).await;
    assert!(
        fired.contains(&EventKind::CommunicationDue {
            audience: "Users".into(),
            every: "2h".into(),
            due_at: T0 + 2 * HOUR,
        }),
        "{fired:?}"
    );
    assert!(
        fired.contains(&EventKind::CommunicationOverdue {
            audience: "Internal updates".into(),
            due_at: T0 + 110 * MINUTE,
        }),
        "{fired:?}"
    );
    assert!(hook.bodies().iter().any(|body| {
        body["recipient"]["person"] == "bob"
            && body["headline"]
                .as_str()
                .unwrap()
                .starts_with("Update to Users due now")
    }));
    run(
        &engine,
        &id,
        Command::PublishUpdate {
            state: PublicState::Identified,
            message: "We found the cause and closed the endpoint.".into(),
            title: None,
            components: vec!["api".into()],
            impact: Impact::PartialOutage,
        },
    )
    .await;
    let view = engine.incident(&id).await.unwrap();
    let users = view
        .communications
        .iter()
        .find(|c| c.audience == "Users")
        .unwrap();
    assert_eq!(users.last, T0 + 2 * HOUR);
    assert_eq!(users.due_at, T0 + 4 * HOUR);

    // Root cause and action items; an unknown owner is refused.
    run(
        &engine,
        &id,
        Command::SetRootCause {
            tag: "missing-authorization-check".into(),
            text: "The export handler was added without the session middleware.".into(),
        },
    )
    .await;
    assert_eq!(
        refused(
            &engine,
            &id,
            Command::AddActionItem {
                title: "Route-level auth test".into(),
                owner: "mallory".into(),
                horizon: Horizon::Immediate,
                due_at: None,
                root_cause: None,
            },
        )
        .await,
        "unknown-reference"
    );
    run(
        &engine,
        &id,
        Command::AddActionItem {
            title: "Route-level auth test".into(),
            owner: "bob".into(),
            horizon: Horizon::Immediate,
            due_at: None,
            root_cause: None,
        },
    )
    .await;
    let view = engine.incident(&id).await.unwrap();
    let item = &view.incident.action_items[&1];
    assert_eq!(
        item.due_at,
        T0 + 2 * HOUR + 7 * 24 * HOUR,
        "a week, by horizon"
    );
    assert_eq!(
        item.root_cause.as_deref(),
        Some("missing-authorization-check")
    );

    // Resolved at 3 hours: the internal cadence stops, the post-mortem clock starts.
    clock.set(T0 + 3 * HOUR);
    run(
        &engine,
        &id,
        Command::Resolve {
            summary: "Session check restored and verified.".into(),
        },
    )
    .await;
    let view = engine.incident(&id).await.unwrap();
    assert!(view.communications.is_empty());
    let postmortem = view
        .deadlines
        .iter()
        .find(|d| d.key == "message:Post-mortem")
        .unwrap();
    assert_eq!(postmortem.due_at, Some(T0 + 3 * HOUR + 48 * HOUR));
    assert_eq!(
        refused(&engine, &id, Command::Close { note: None }).await,
        "postmortem-required"
    );

    // A day before the post-mortem is due, its owner is reminded.
    clock.set(T0 + 27 * HOUR);
    let fired = tick(&engine, &id).await;
    assert_eq!(
        fired,
        vec![EventKind::DeadlineNear {
            deadline: "message:Post-mortem".into(),
            title: "Post-mortem".into(),
            due_at: T0 + 51 * HOUR,
        }]
    );
    assert!(
        headlines(&hook.bodies())
            .last()
            .unwrap()
            .starts_with("Deadline in 1d: Post-mortem")
    );

    // 48 hours: the GDPR notification is a day away; legal is told.
    clock.set(T0 + 48 * HOUR);
    let fired = tick(&engine, &id).await;
    assert_eq!(
        fired,
        vec![EventKind::DeadlineNear {
            deadline: "gdpr".into(),
            title: "Personal-data breach notification (GDPR)".into(),
            due_at: T0 + 72 * HOUR,
        }]
    );
    assert_eq!(
        hook.bodies().last().unwrap()["recipient"]["person"],
        "carol"
    );

    // The post-mortem is written from the draft, saved and published in time.
    let draft = engine.postmortem_draft(&id).await.unwrap();
    assert!(draft.starts_with(&format!("# Post-mortem {id}")), "{draft}");
    assert!(
        draft.contains("Resolved: Session check restored and verified."),
        "{draft}"
    );
    run(
        &engine,
        &id,
        Command::SavePostmortem {
            markdown: draft.clone(),
            note: None,
        },
    )
    .await;
    run(&engine, &id, Command::PublishPostmortem { public: false }).await;
    let view = engine.incident(&id).await.unwrap();
    let postmortem = view
        .deadlines
        .iter()
        .find(|d| d.key == "message:Post-mortem")
        .unwrap();
    assert!(postmortem.met_at.is_some());
    assert_eq!(
        engine.postmortem(&id).await.unwrap().published_version,
        Some(1)
    );

    // Nobody files the GDPR notification: at 72 hours it is flagged missed and escalated.
    clock.set(T0 + 72 * HOUR);
    let fired = tick(&engine, &id).await;
    assert_eq!(
        fired,
        vec![EventKind::DeadlineMissed {
            deadline: "gdpr".into(),
            title: "Personal-data breach notification (GDPR)".into(),
            due_at: T0 + 72 * HOUR,
        }]
    );
    let mut last: Vec<String> = hook.bodies()[hook.bodies().len() - 2..]
        .iter()
        .map(|body| body["recipient"]["person"].as_str().unwrap().to_owned())
        .collect();
    last.sort();
    assert_eq!(last, vec!["alice", "carol"], "the owner and the commander");
    run(
        &engine,
        &id,
        Command::CompleteDeadline {
            deadline: "gdpr".into(),
            note: Some("Filed with the authority, ref 2026-114".into()),
        },
    )
    .await;

    // Nothing more is due, ever; the item is done; the incident closes.
    clock.set(T0 + 30 * 24 * HOUR);
    assert_eq!(tick(&engine, &id).await, vec![]);
    run(
        &engine,
        &id,
        Command::UpdateActionItem {
            item: 1,
            status: Some(ActionStatus::Done),
            owner: None,
            due_at: None,
            note: None,
        },
    )
    .await;
    run(&engine, &id, Command::Close { note: None }).await;
    let names = kinds(&engine.timeline(&id).await.unwrap());
    assert_eq!(
        names
            .iter()
            .filter(|n| **n == "communication_overdue")
            .count(),
        2,
        "one flag per missed update, none after resolution"
    );
    assert_eq!(engine.verify_audit().await.unwrap().broken.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p0_life_on_sqlite() {
    let (_dir, url) = sqlite_url();
    Box::pin(p0_life(&url)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p0_life_on_postgres() {
    Box::pin(p0_life(
        &muster_store::testing::scratch_postgres_url().await,
    ))
    .await;
}
