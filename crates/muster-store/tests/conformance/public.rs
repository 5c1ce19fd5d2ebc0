//! What the status page and the dashboards read: the published updates (and nothing else of an
//! incident) and the narrow times of incidents.

use muster_core::incident::{EventKind, Impact, PublicState, Status};
use muster_core::plan::{ComponentId, SeverityId};
use muster_store::{IncidentTimes, Store};

use crate::fixtures::Fixture;
use crate::timeline::{Declaration, Timeline, at, incident};

fn publish(timeline: &mut Timeline, at: i64, state: PublicState, message: &str) {
    timeline.then(
        at,
        "alice",
        EventKind::UpdatePublished {
            state,
            title: "Delayed withdrawals".to_owned(),
            message: message.to_owned(),
            components: vec![ComponentId::from("vaults")],
            impact: Impact::PartialOutage,
        },
    );
}

pub async fn only_published_updates_reach_the_status_page(fixture: &impl Fixture) {
    let store = fixture.store();
    // Published, still open on the page, last updated long ago.
    let mut old_open = Timeline::declare(&incident(2025, 1, 1, 1), at(2025, 1, 1, 10), "P1");
    old_open.note(at(2025, 1, 1, 10) + 1_000, "internal: suspect the oracle");
    publish(
        &mut old_open,
        at(2025, 1, 1, 11),
        PublicState::Investigating,
        "We are investigating.",
    );
    // Published and resolved recently.
    let mut recent = Timeline::declare(&incident(2025, 3, 1, 1), at(2025, 3, 1, 10), "P2");
    publish(
        &mut recent,
        at(2025, 3, 1, 11),
        PublicState::Identified,
        "Cause found.",
    );
    recent.note(at(2025, 3, 1, 11) + 1_000, "internal: rolled back by hand");
    publish(
        &mut recent,
        at(2025, 3, 1, 12),
        PublicState::Resolved,
        "Fixed.",
    );
    // Published and resolved long ago: off the page.
    let mut forgotten = Timeline::declare(&incident(2025, 1, 2, 1), at(2025, 1, 2, 10), "P3");
    publish(
        &mut forgotten,
        at(2025, 1, 2, 11),
        PublicState::Resolved,
        "Old news.",
    );
    // Never published.
    let mut internal = Timeline::declare(&incident(2025, 3, 2, 1), at(2025, 3, 2, 10), "P0");
    internal.note(at(2025, 3, 2, 11), "internal only");
    for timeline in [&old_open, &recent, &forgotten, &internal] {
        timeline.append_all(store).await;
    }

    let page = store.published(at(2025, 2, 1, 0)).await.unwrap();
    let shown: Vec<(String, u64)> = page
        .iter()
        .map(|event| (event.incident.to_string(), event.seq))
        .collect();
    assert_eq!(
        shown,
        vec![
            ("INC-20250101-001".to_owned(), 3),
            ("INC-20250301-001".to_owned(), 2),
            ("INC-20250301-001".to_owned(), 4),
        ],
        "oldest first: the open one however old, the recent one, never the forgotten one"
    );
    assert!(
        page.iter()
            .all(|event| matches!(event.kind, EventKind::UpdatePublished { .. })),
        "nothing but published updates"
    );
    // They are the stored events themselves, chain hashes included.
    assert_eq!(page[0], old_open.events[2]);
    assert_eq!(page[2], recent.events[3]);
    // Everything from far enough back.
    assert_eq!(store.published(0).await.unwrap().len(), 4);
}

pub async fn incident_times_are_read_without_the_state(fixture: &impl Fixture) {
    let store = fixture.store();
    let mut worked = Timeline::declare(&incident(2025, 3, 1, 1), at(2025, 3, 1, 10), "P1");
    worked.acknowledge(at(2025, 3, 1, 10) + 300_000, "alice");
    worked.resolve(at(2025, 3, 1, 12));
    let open = Timeline::declare(&incident(2025, 3, 2, 1), at(2025, 3, 2, 10), "P2");
    let drill = Timeline::declare_with(
        &incident(2025, 3, 3, 1),
        at(2025, 3, 3, 10),
        "P0",
        Declaration {
            drill: true,
            category: Some("network"),
            ..Declaration::default()
        },
    );
    let before = Timeline::declare(&incident(2025, 2, 1, 1), at(2025, 2, 1, 10), "P1");
    for timeline in [&worked, &open, &drill, &before] {
        timeline.append_all(store).await;
    }
    let from = at(2025, 3, 1, 0);
    let until = at(2025, 4, 1, 0);
    let times = store.incident_times(from, until, false).await.unwrap();
    assert_eq!(
        times,
        vec![
            IncidentTimes {
                severity: SeverityId::from("P1"),
                category: None,
                status: Status::Resolved,
                drill: false,
                declared_at: at(2025, 3, 1, 10),
                started_at: at(2025, 3, 1, 10) - 120_000,
                detected_at: at(2025, 3, 1, 10) - 60_000,
                acknowledged_at: Some(at(2025, 3, 1, 10) + 300_000),
                resolved_at: Some(at(2025, 3, 1, 12)),
                root_cause: None,
            },
            IncidentTimes {
                severity: SeverityId::from("P2"),
                category: None,
                status: Status::Triage,
                drill: false,
                declared_at: at(2025, 3, 2, 10),
                started_at: at(2025, 3, 2, 10) - 120_000,
                detected_at: at(2025, 3, 2, 10) - 60_000,
                acknowledged_at: None,
                resolved_at: None,
                root_cause: None,
            },
        ]
    );
    let with_drills = store.incident_times(from, until, true).await.unwrap();
    assert_eq!(with_drills.len(), 3);
    assert!(with_drills[2].drill);
    assert_eq!(
        with_drills[2]
            .category
            .as_ref()
            .map(muster_core::plan::CategoryId::as_str),
        Some("network")
    );
    // A reopened incident is no longer resolved.
    let mut reopened = worked.clone();
    reopened.then(
        at(2025, 3, 1, 13),
        "alice",
        EventKind::Reopened {
            reason: "errors are back".to_owned(),
        },
    );
    reopened.append_from(store, 4).await;
    let times = store.incident_times(from, until, false).await.unwrap();
    assert_eq!(times[0].resolved_at, None);
    assert_eq!(times[0].status, Status::Investigating);
}
