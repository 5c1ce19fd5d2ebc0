//! What follows an incident, as both backends keep it: action items across incidents (the overdue
//! report, by owner, drills left out), root causes and start times on the narrow rows, and a
//! public post-mortem that reaches the status page only for an incident already on it.

use muster_core::incident::{ActionStatus, EventKind, Horizon, Impact, PublicState};
use muster_core::plan::PersonId;
use muster_store::{ActionItemQuery, Store};

use crate::fixtures::Fixture;
use crate::timeline::{Declaration, Timeline, at, incident};

const DAY: i64 = 24 * 60 * 60 * 1000;

fn add_item(timeline: &mut Timeline, at: i64, item: u32, owner: &str, due_at: i64) {
    timeline.then(
        at,
        "alice",
        EventKind::ActionItemAdded {
            item,
            title: format!("Follow-up {item} of {}", timeline.id),
            owner: PersonId::from(owner),
            due_at,
            horizon: Horizon::Immediate,
            root_cause: Some("pool-exhaustion".to_owned()),
        },
    );
}

fn set_status(timeline: &mut Timeline, at: i64, item: u32, status: ActionStatus) {
    timeline.then(
        at,
        "alice",
        EventKind::ActionItemUpdated {
            item,
            status: Some(status),
            owner: None,
            due_at: None,
            note: None,
        },
    );
}

pub async fn action_items_across_incidents(fixture: &impl Fixture) {
    let store = fixture.store();
    let t = at(2025, 3, 1, 10);
    let mut first = Timeline::declare(&incident(2025, 3, 1, 1), t, "P1");
    add_item(&mut first, t + 1_000, 1, "alice", t + 7 * DAY);
    add_item(&mut first, t + 2_000, 2, "bob", t + 2 * DAY);
    first.then(
        t + 3_000,
        "alice",
        EventKind::RootCauseSet {
            tag: "pool-exhaustion".to_owned(),
            text: "The pool was sized for last year's traffic".to_owned(),
        },
    );
    first.append_all(store).await;
    // Updated in a later batch: the row follows.
    set_status(&mut first, t + DAY, 2, ActionStatus::Done);
    first.append_from(store, first.events.len()).await;

    let mut drill = Timeline::declare_with(
        &incident(2025, 3, 2, 1),
        t + DAY,
        "P0",
        Declaration {
            drill: true,
            ..Declaration::default()
        },
    );
    add_item(&mut drill, t + DAY + 1_000, 1, "bob", t + 3 * DAY);
    drill.append_all(store).await;

    let everything = store
        .action_items(&ActionItemQuery::default())
        .await
        .unwrap();
    let listed: Vec<(String, u32, ActionStatus)> = everything
        .iter()
        .map(|item| (item.incident.clone(), item.item, item.status))
        .collect();
    assert_eq!(
        listed,
        vec![
            (first.id.to_string(), 2, ActionStatus::Done),
            (first.id.to_string(), 1, ActionStatus::Open),
        ],
        "soonest due first, drills left out"
    );
    let done = &everything[0];
    assert_eq!(done.closed_at, Some(t + DAY));
    assert_eq!(done.owner.as_str(), "bob");
    assert_eq!(done.root_cause.as_deref(), Some("pool-exhaustion"));

    let overdue = store
        .action_items(&ActionItemQuery {
            due_before: Some(t + 10 * DAY),
            drills: true,
            ..ActionItemQuery::default()
        })
        .await
        .unwrap();
    let overdue: Vec<(String, u32)> = overdue
        .iter()
        .map(|item| (item.incident.clone(), item.item))
        .collect();
    assert_eq!(
        overdue,
        vec![(drill.id.to_string(), 1), (first.id.to_string(), 1)],
        "open and past due only; the done one is not overdue"
    );
    let bobs = store
        .action_items(&ActionItemQuery {
            owner: Some("bob".to_owned()),
            open: true,
            drills: true,
            ..ActionItemQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(bobs.len(), 1);
    assert!(bobs[0].drill);
    let created = store
        .action_items(&ActionItemQuery {
            created: Some((t, t + 1_500)),
            ..ActionItemQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(created.len(), 1);

    // Root cause and start of impact are on the narrow rows the metrics read.
    let times = store
        .incident_times(t - DAY, t + 2 * DAY, false)
        .await
        .unwrap();
    assert_eq!(times.len(), 1);
    assert_eq!(times[0].root_cause.as_deref(), Some("pool-exhaustion"));
    assert_eq!(times[0].started_at, t - 120_000);
}

pub async fn a_public_postmortem_reaches_the_status_page(fixture: &impl Fixture) {
    let store = fixture.store();
    let t = at(2025, 4, 1, 10);
    let mut public = Timeline::declare(&incident(2025, 4, 1, 1), t, "P1");
    public.then(
        t + 1_000,
        "alice",
        EventKind::UpdatePublished {
            state: PublicState::Resolved,
            title: "Checkout errors".to_owned(),
            message: "Fixed.".to_owned(),
            components: vec![],
            impact: Impact::Degraded,
        },
    );
    public.then(
        t + 2_000,
        "alice",
        EventKind::PostmortemSaved {
            version: 1,
            markdown: "internal draft".to_owned(),
            note: None,
        },
    );
    public.then(
        t + 3_000,
        "alice",
        EventKind::PostmortemPublished {
            version: 1,
            public: true,
            markdown: Some("# What happened".to_owned()),
        },
    );
    public.append_all(store).await;
    let published = store.published(t).await.unwrap();
    let kinds: Vec<&str> = published.iter().map(|event| event.kind.name()).collect();
    assert_eq!(
        kinds,
        vec!["update_published", "postmortem_published"],
        "the saved draft never reaches the page"
    );
    // The post-mortem moved the incident's last public change.
    assert_eq!(store.published(t + 2_500).await.unwrap().len(), 2);
}
