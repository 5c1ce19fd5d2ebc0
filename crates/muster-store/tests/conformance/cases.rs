//! The cases, each generic over the backend.

use std::collections::BTreeSet;
use std::path::Path;

use muster_core::access::Role;
use muster_core::incident::{EventKind, Incident, Link, Status, chain};
use muster_core::plan::{CategoryId, DecisionId, PersonId, RoleId, SeverityId};
use muster_store::{
    AlertFilter, AlertUpdate, AnyStore, Disposition, Effects, Head, IncidentFilter,
    IntegrationKeyRecord, Store, StoreError, TakenAlert, TokenRecord, Work,
};

use crate::fixtures::Fixture;
pub use crate::followup::{
    a_public_postmortem_reaches_the_status_page, action_items_across_incidents,
};
pub use crate::intake::{
    accepted_alerts_are_stored_once_in_order, alert_state_follows_the_latest_event,
};
pub use crate::public::{
    incident_times_are_read_without_the_state, only_published_updates_reach_the_status_page,
};
use crate::timeline::{Declaration, Timeline, at, day, incident};

fn ids(incidents: &[Incident]) -> Vec<String> {
    incidents
        .iter()
        .map(|incident| incident.id.to_string())
        .collect()
}

/// An incident with every kind of event the engine writes, including text that must survive
/// byte for byte (quotes, backslashes, non-ASCII).
fn busy_timeline() -> Timeline {
    let id = incident(2025, 3, 1, 1);
    let mut timeline = Timeline::declare_with(
        &id,
        at(2025, 3, 1, 9),
        "P1",
        Declaration {
            category: Some("network"),
            drill: false,
            tags: vec!["database"],
        },
    );
    let hour = |h| at(2025, 3, 1, h);
    timeline.acknowledge(hour(10), "alice");
    timeline.then(
        hour(10),
        "alice",
        EventKind::RoleAssigned {
            role: RoleId::from("incident-commander"),
            person: PersonId::from("alice"),
            previous: None,
        },
    );
    timeline.note(
        hour(11),
        "Réplica « lag » at 40 s ✓ — path C:\\data, said \"wait\"",
    );
    timeline.status(hour(11), Status::Investigating);
    timeline.then(
        hour(12),
        "alice",
        EventKind::SeverityChanged {
            from: SeverityId::from("P1"),
            to: SeverityId::from("P0"),
            reason: "all regions".to_owned(),
        },
    );
    timeline.then(
        hour(12),
        "alice",
        EventKind::DecisionRequested {
            decision: DecisionId::from("failover"),
            reason: Some("primary unreachable".to_owned()),
        },
    );
    timeline.then(
        hour(13),
        "bob",
        EventKind::ApprovalGiven {
            decision: DecisionId::from("failover"),
            approver: PersonId::from("bob"),
            comment: None,
            signature: Some("3q2+7w==/base64+signature".to_owned()),
            key: Some("ed25519:bob-laptop".to_owned()),
        },
    );
    timeline.then(
        hour(13),
        "system",
        EventKind::TagAdded {
            tag: "customer-facing".to_owned(),
        },
    );
    timeline.then(
        hour(14),
        "system",
        EventKind::AlertLinked {
            alert: "grafana:db-replica-lag".to_owned(),
        },
    );
    timeline.resolve(hour(15));
    timeline
}

pub async fn append_then_read_back(fixture: &impl Fixture) {
    let store = fixture.store();
    let timeline = busy_timeline();
    let id = &timeline.id;
    assert!(store.head(id).await.unwrap().is_none());
    assert!(store.events(id).await.unwrap().is_empty());

    // The declaration alone, then everything else in a second batch.
    let declared = timeline.state_after(1);
    store
        .append(&timeline.events[..1], &declared)
        .await
        .unwrap();
    assert_eq!(
        store.head(id).await.unwrap(),
        Some(Head {
            incident: declared,
            last_hash: timeline.events[0].hash.clone(),
        })
    );
    timeline.append_from(store, 2).await;

    let events = store.events(id).await.unwrap();
    assert_eq!(events, timeline.events);
    chain::verify(&events).unwrap();

    let head = store.head(id).await.unwrap().unwrap();
    assert_eq!(head.incident, timeline.state());
    assert_eq!(head.last_hash, timeline.events.last().unwrap().hash);
    assert_eq!(head.incident.status, Status::Resolved);
    assert_eq!(
        head.incident.tags,
        BTreeSet::from(["customer-facing".to_owned(), "database".to_owned()])
    );

    // A store that only knows the head can continue the chain.
    let next = chain::seal_after(
        id,
        Some(Link {
            seq: head.incident.last_seq,
            hash: &head.last_hash,
        }),
        at(2025, 3, 2, 9),
        "alice",
        EventKind::Closed { note: None },
    );
    let mut all = events;
    all.push(next);
    store
        .append(&all[all.len() - 1..], &Incident::fold(&all).unwrap())
        .await
        .unwrap();
    let events = store.events(id).await.unwrap();
    assert_eq!(events, all);
    chain::verify(&events).unwrap();
    assert_eq!(
        store.head(id).await.unwrap().unwrap().incident.status,
        Status::Closed
    );
}

pub async fn malformed_batches_are_refused(fixture: &impl Fixture) {
    let store = fixture.store();
    let mut timeline = Timeline::declare(&incident(2025, 3, 1, 1), at(2025, 3, 1, 9), "P2");
    timeline.note(at(2025, 3, 1, 10), "first");
    timeline.note(at(2025, 3, 1, 11), "second");
    let state = timeline.state();

    let empty = store.append(&[], &state).await.unwrap_err();
    assert!(matches!(empty, StoreError::Database(_)), "{empty:?}");

    let other = Timeline::declare(&incident(2025, 3, 1, 2), at(2025, 3, 1, 9), "P2");
    let mixed = [timeline.events[0].clone(), other.events[0].clone()];
    let error = store.append(&mixed, &state).await.unwrap_err();
    assert!(error.to_string().contains("INC-20250301-002"), "{error}");

    let gap = [timeline.events[0].clone(), timeline.events[2].clone()];
    let error = store.append(&gap, &state).await.unwrap_err();
    assert!(error.to_string().contains("not consecutive"), "{error}");

    let stale_state = timeline.state_after(1);
    let error = store
        .append(&timeline.events, &stale_state)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");

    assert!(store.incident_ids().await.unwrap().is_empty());
    assert!(store.head(&timeline.id).await.unwrap().is_none());
    assert_eq!(
        store.list(&IncidentFilter::default()).await.unwrap().total,
        0
    );
}

pub async fn conflicting_append_keeps_nothing(fixture: &impl Fixture) {
    let store = fixture.store();
    let id = incident(2025, 3, 1, 1);
    let declared = Timeline::declare(&id, at(2025, 3, 1, 9), "P1");
    declared.append_all(store).await;

    // Two responders both saw the declaration and both add event 2.
    let mut first = declared.clone();
    first.note(at(2025, 3, 1, 10), "from the first responder");
    let mut second = declared.clone();
    second.note(at(2025, 3, 1, 10), "from the second responder");
    second.note(at(2025, 3, 1, 11), "and a follow-up");

    first.append_from(store, 2).await;
    let error = store
        .append(&second.events[1..], &second.state())
        .await
        .unwrap_err();
    match error {
        StoreError::Conflict { incident, seq } => {
            assert_eq!(incident, id);
            assert_eq!(seq, 2);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.events(&id).await.unwrap(), first.events);
    assert_eq!(
        store.head(&id).await.unwrap(),
        Some(Head {
            incident: first.state(),
            last_hash: first.events[1].hash.clone(),
        })
    );

    // A batch whose first event is new but whose second collides keeps neither. (Event 3 is
    // written first, out of turn, so that only the batch's second event collides.)
    let id = incident(2025, 3, 1, 2);
    let mut timeline = Timeline::declare(&id, at(2025, 3, 1, 9), "P2");
    timeline.append_all(store).await;
    timeline.note(at(2025, 3, 1, 10), "two");
    timeline.note(at(2025, 3, 1, 11), "three");
    let early = [timeline.events[0].clone(), timeline.events[2].clone()];
    store
        .append(&timeline.events[2..], &Incident::fold(&early).unwrap())
        .await
        .unwrap();
    let before = store.head(&id).await.unwrap();
    let error = store
        .append(&timeline.events[1..], &timeline.state())
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::Conflict { seq: 3, .. }),
        "{error:?}"
    );
    let stored: Vec<i64> = store
        .raw_events(&id.to_string())
        .await
        .unwrap()
        .iter()
        .map(|raw| raw.seq)
        .collect();
    assert_eq!(
        stored,
        [1, 3],
        "event 2 of the refused batch must not be kept"
    );
    assert_eq!(store.head(&id).await.unwrap(), before);
}

pub async fn racing_writers_one_wins(fixture: &impl Fixture) {
    let store = fixture.store();
    let id = incident(2025, 3, 1, 1);
    let declared = Timeline::declare(&id, at(2025, 3, 1, 9), "P1");
    declared.append_all(store).await;

    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let store = store.clone();
            let mut timeline = declared.clone();
            timeline.note(at(2025, 3, 1, 10), &format!("writer {writer}"));
            tokio::spawn(async move {
                let result = store.append(&timeline.events[1..], &timeline.state()).await;
                (timeline, result)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for writer in writers {
        let (timeline, result) = writer.await.unwrap();
        match result {
            Ok(()) => winners.push(timeline),
            Err(StoreError::Conflict { seq: 2, .. }) => {}
            Err(other) => panic!("expected success or a conflict, got {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer may add event 2");
    let events = store.events(&id).await.unwrap();
    assert_eq!(events, winners[0].events);
    assert_eq!(
        store.head(&id).await.unwrap().unwrap().incident,
        winners[0].state()
    );
}

pub async fn events_cannot_be_changed(fixture: &impl Fixture) {
    let store = fixture.store();
    let timeline = busy_timeline();
    timeline.append_all(store).await;

    for statement in [
        "UPDATE events SET actor = 'mallory'",
        "UPDATE events SET body = body WHERE seq = 2",
        "DELETE FROM events WHERE seq = 3",
        "DELETE FROM events",
    ] {
        let error = fixture
            .execute(statement)
            .await
            .expect_err("the database must refuse it");
        assert!(
            error.contains("events are append-only"),
            "{statement}: {error}"
        );
    }
    let events = store.events(&timeline.id).await.unwrap();
    assert_eq!(events, timeline.events);
    chain::verify(&events).unwrap();
}

pub async fn incident_numbers_count_per_day(fixture: &impl Fixture) {
    let store = fixture.store();
    let monday = day(2025, 3, 3);
    let tuesday = day(2025, 3, 4);
    for expected in 1..=3 {
        assert_eq!(store.next_incident_number(monday).await.unwrap(), expected);
    }
    assert_eq!(store.next_incident_number(tuesday).await.unwrap(), 1);
    assert_eq!(store.next_incident_number(monday).await.unwrap(), 4);
    assert_eq!(store.next_incident_number(tuesday).await.unwrap(), 2);

    let busy_day = day(2025, 3, 5);
    let callers: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.next_incident_number(busy_day).await.unwrap() })
        })
        .collect();
    let mut numbers = Vec::new();
    for caller in callers {
        numbers.push(caller.await.unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=20).collect::<Vec<u32>>());
    assert_eq!(store.next_incident_number(busy_day).await.unwrap(), 21);
}

/// Five incidents over four days:
///
/// | id               | declared   | severity | category | drill | tags                      | status     |
/// |------------------|------------|----------|----------|-------|---------------------------|------------|
/// | INC-20250301-001 | 1st 10:00  | P1       | network  | no    | database                  | triage     |
/// | INC-20250302-001 | 2nd 10:00  | P2       | —        | yes   |                           | investig.  |
/// | INC-20250303-001 | 3rd 10:00  | P1       | security | no    | database, customer-facing | resolved   |
/// | INC-20250304-001 | 4th 10:00  | P3       | network  | no    |                           | closed     |
/// | INC-20250304-002 | 4th 10:00  | P2       | security | yes   | customer-facing (later)   | monitoring |
async fn five_incidents<S: Store>(store: &S) -> Vec<Timeline> {
    let first = Timeline::declare_with(
        &incident(2025, 3, 1, 1),
        at(2025, 3, 1, 10),
        "P1",
        Declaration {
            category: Some("network"),
            drill: false,
            tags: vec!["database"],
        },
    );
    let mut second = Timeline::declare_with(
        &incident(2025, 3, 2, 1),
        at(2025, 3, 2, 10),
        "P2",
        Declaration {
            drill: true,
            ..Declaration::default()
        },
    );
    second.status(at(2025, 3, 2, 11), Status::Investigating);
    let mut third = Timeline::declare_with(
        &incident(2025, 3, 3, 1),
        at(2025, 3, 3, 10),
        "P1",
        Declaration {
            category: Some("security"),
            drill: false,
            tags: vec!["database", "customer-facing"],
        },
    );
    third.resolve(at(2025, 3, 3, 12));
    let mut fourth = Timeline::declare_with(
        &incident(2025, 3, 4, 1),
        at(2025, 3, 4, 10),
        "P3",
        Declaration {
            category: Some("network"),
            ..Declaration::default()
        },
    );
    fourth.resolve(at(2025, 3, 4, 11));
    fourth.then(
        at(2025, 3, 4, 12),
        "alice",
        EventKind::Closed { note: None },
    );
    let mut fifth = Timeline::declare_with(
        &incident(2025, 3, 4, 2),
        at(2025, 3, 4, 10),
        "P2",
        Declaration {
            category: Some("security"),
            drill: true,
            ..Declaration::default()
        },
    );
    fifth.status(at(2025, 3, 4, 11), Status::Monitoring);
    for timeline in [&first, &second, &third, &fourth, &fifth] {
        timeline.append_all(store).await;
    }
    // A tag added after the declaration, in a later append, is found too.
    fifth.then(
        at(2025, 3, 4, 12),
        "bob",
        EventKind::TagAdded {
            tag: "customer-facing".to_owned(),
        },
    );
    fifth.append_from(store, 3).await;
    vec![first, second, third, fourth, fifth]
}

const FIRST: &str = "INC-20250301-001";
const SECOND: &str = "INC-20250302-001";
const THIRD: &str = "INC-20250303-001";
const FOURTH: &str = "INC-20250304-001";
const FIFTH: &str = "INC-20250304-002";

pub async fn list_filters(fixture: &impl Fixture) {
    let store = fixture.store();
    let timelines = five_incidents(store).await;
    let list = |filter: IncidentFilter| async move {
        let page = store.list(&filter).await.unwrap();
        let found = ids(&page.incidents);
        assert_eq!(
            page.total,
            found.len() as u64,
            "{filter:?}: the total counts every match"
        );
        found
    };

    // Newest first; the two declared at the same moment by id, highest first.
    let everything = store.list(&IncidentFilter::default()).await.unwrap();
    assert_eq!(
        ids(&everything.incidents),
        [FIFTH, FOURTH, THIRD, SECOND, FIRST]
    );
    assert_eq!(everything.total, 5);
    let expected: Vec<Incident> = timelines.iter().rev().map(Timeline::state).collect();
    let mut listed = everything.incidents.clone();
    listed.sort_by(|x, y| y.id.cmp(&x.id));
    assert_eq!(
        listed, expected,
        "listed incidents are the full projections"
    );

    let filter = |build: fn(&mut IncidentFilter)| {
        let mut filter = IncidentFilter::default();
        build(&mut filter);
        filter
    };
    assert_eq!(
        list(filter(|f| f.status = vec![Status::Resolved, Status::Closed])).await,
        [FOURTH, THIRD]
    );
    assert_eq!(
        list(filter(|f| f.status = vec![Status::Monitoring])).await,
        [FIFTH]
    );
    assert_eq!(
        list(filter(|f| f.open = Some(true))).await,
        [FIFTH, SECOND, FIRST]
    );
    assert_eq!(
        list(filter(|f| f.open = Some(false))).await,
        [FOURTH, THIRD]
    );
    assert_eq!(
        list(filter(|f| f.severity = vec![SeverityId::from("P1")])).await,
        [THIRD, FIRST]
    );
    assert_eq!(
        list(filter(|f| {
            f.severity = vec![SeverityId::from("P1"), SeverityId::from("P3")];
        }))
        .await,
        [FOURTH, THIRD, FIRST]
    );
    assert_eq!(
        list(filter(|f| f.category = vec![CategoryId::from("network")])).await,
        [FOURTH, FIRST]
    );
    assert_eq!(
        list(filter(|f| {
            f.category = vec![CategoryId::from("security"), CategoryId::from("network")];
        }))
        .await,
        [FIFTH, FOURTH, THIRD, FIRST]
    );
    assert_eq!(
        list(filter(|f| f.drill = Some(true))).await,
        [FIFTH, SECOND]
    );
    assert_eq!(
        list(filter(|f| f.drill = Some(false))).await,
        [FOURTH, THIRD, FIRST]
    );
    assert_eq!(
        list(filter(|f| f.tag = Some("database".to_owned()))).await,
        [THIRD, FIRST]
    );
    assert_eq!(
        list(filter(|f| f.tag = Some("customer-facing".to_owned()))).await,
        [FIFTH, THIRD]
    );
    assert!(
        list(filter(
            |f| f.tag = Some("data'; DROP TABLE events; --".to_owned())
        ))
        .await
        .is_empty()
    );
    // From is inclusive, until exclusive.
    assert_eq!(
        list(filter(|f| {
            f.declared_from = Some(at(2025, 3, 2, 10));
            f.declared_until = Some(at(2025, 3, 4, 10));
        }))
        .await,
        [THIRD, SECOND]
    );
    assert_eq!(
        list(filter(|f| f.declared_from = Some(at(2025, 3, 4, 0)))).await,
        [FIFTH, FOURTH]
    );
    assert_eq!(
        list(filter(|f| f.declared_until = Some(at(2025, 3, 2, 0)))).await,
        [FIRST]
    );
    // Filters combine.
    assert_eq!(
        list(filter(|f| {
            f.open = Some(true);
            f.severity = vec![SeverityId::from("P2")];
        }))
        .await,
        [FIFTH, SECOND]
    );
    assert_eq!(
        list(filter(|f| {
            f.drill = Some(false);
            f.tag = Some("database".to_owned());
            f.status = vec![Status::Triage];
        }))
        .await,
        [FIRST]
    );
    assert_eq!(
        store.list(&IncidentFilter::default()).await.unwrap(),
        everything
    );
}

pub async fn list_pages(fixture: &impl Fixture) {
    let store = fixture.store();
    five_incidents(store).await;
    let page = |limit: u32, offset: u64| async move {
        let page = store
            .list(&IncidentFilter {
                limit,
                offset,
                ..IncidentFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(page.total, 5, "the total counts every match, not the page");
        ids(&page.incidents)
    };
    assert_eq!(page(2, 0).await, ["INC-20250304-002", "INC-20250304-001"]);
    assert_eq!(page(2, 2).await, ["INC-20250303-001", "INC-20250302-001"]);
    assert_eq!(page(2, 4).await, ["INC-20250301-001"]);
    assert!(page(2, 10).await.is_empty());
    assert!(page(50, u64::MAX).await.is_empty());
    // The limit is kept within 1..=500.
    assert_eq!(page(0, 0).await, ["INC-20250304-002"]);
    assert_eq!(page(u32::MAX, 0).await.len(), 5);

    let filtered = store
        .list(&IncidentFilter {
            drill: Some(false),
            limit: 1,
            offset: 1,
            ..IncidentFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&filtered.incidents), ["INC-20250303-001"]);
    assert_eq!(filtered.total, 3);
}

pub async fn tokens(fixture: &impl Fixture) {
    let store = fixture.store();
    let ci = TokenRecord {
        name: "ci".to_owned(),
        role: Role::Responder,
        person: None,
        created_at: at(2025, 3, 1, 9),
        revoked_at: None,
    };
    let laptop = TokenRecord {
        name: "alice-laptop".to_owned(),
        role: Role::Admin,
        person: Some(PersonId::from("alice")),
        created_at: at(2025, 3, 1, 10),
        revoked_at: None,
    };
    let (ci_hash, laptop_hash, other_hash) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
    store.create_token(&ci, &ci_hash).await.unwrap();
    store.create_token(&laptop, &laptop_hash).await.unwrap();

    assert_eq!(
        store.token_by_hash(&ci_hash).await.unwrap(),
        Some(ci.clone())
    );
    assert_eq!(
        store.token_by_hash(&laptop_hash).await.unwrap(),
        Some(laptop.clone())
    );
    assert_eq!(store.token_by_hash(&other_hash).await.unwrap(), None);

    let duplicate = TokenRecord {
        role: Role::Admin,
        ..ci.clone()
    };
    match store.create_token(&duplicate, &other_hash).await {
        Err(StoreError::TokenNameTaken(name)) => assert_eq!(name, "ci"),
        other => panic!("expected the name to be taken, got {other:?}"),
    }
    assert_eq!(store.token_by_hash(&other_hash).await.unwrap(), None);
    assert_eq!(
        store.token_by_hash(&ci_hash).await.unwrap(),
        Some(ci.clone())
    );
    assert_eq!(store.tokens().await.unwrap(), [laptop.clone(), ci.clone()]);

    let revoked_at = at(2025, 3, 2, 9);
    assert!(store.revoke_token("ci", revoked_at).await.unwrap());
    assert!(
        !store.revoke_token("ci", at(2025, 3, 3, 9)).await.unwrap(),
        "already revoked"
    );
    assert!(!store.revoke_token("nobody", revoked_at).await.unwrap());
    let revoked = TokenRecord {
        revoked_at: Some(revoked_at),
        ..ci.clone()
    };
    assert_eq!(
        store.token_by_hash(&ci_hash).await.unwrap(),
        Some(revoked.clone()),
        "a revoked token is still found, so it can be refused by name"
    );
    assert_eq!(store.tokens().await.unwrap(), [laptop.clone(), revoked]);

    // Once revoked, the name can be given to a new token, as the error message says.
    let renewed = TokenRecord {
        created_at: at(2025, 3, 4, 9),
        ..ci.clone()
    };
    store.create_token(&renewed, &other_hash).await.unwrap();
    assert_eq!(
        store.token_by_hash(&other_hash).await.unwrap(),
        Some(renewed.clone())
    );
    assert_eq!(store.token_by_hash(&ci_hash).await.unwrap(), None);
    assert_eq!(store.tokens().await.unwrap(), [laptop, renewed]);

    // A secret can only ever belong to one token.
    let twin = TokenRecord {
        name: "twin".to_owned(),
        ..ci
    };
    let error = store.create_token(&twin, &other_hash).await.unwrap_err();
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");
}

pub async fn raw_events_are_the_stored_bytes(fixture: &impl Fixture) {
    let store = fixture.store();
    let later = Timeline::declare(&incident(2025, 3, 2, 1), at(2025, 3, 2, 9), "P3");
    later.append_all(store).await;
    let timeline = busy_timeline();
    timeline.append_all(store).await;
    let id = timeline.id.to_string();

    assert_eq!(
        store.incident_ids().await.unwrap(),
        ["INC-20250301-001", "INC-20250302-001"]
    );
    let raw = store.raw_events(&id).await.unwrap();
    assert_eq!(raw.len(), timeline.events.len());
    for (stored, event) in raw.iter().zip(&timeline.events) {
        assert_eq!(stored.incident, id);
        assert_eq!(stored.seq, i64::try_from(event.seq).unwrap());
        assert_eq!(stored.at, event.at);
        assert_eq!(stored.actor, event.actor);
        assert_eq!(stored.body, serde_json::to_string(&event.kind).unwrap());
        assert_eq!(stored.hash, event.hash);
        assert_eq!(&stored.decode().unwrap(), event);
    }
    assert!(
        store
            .raw_events("INC-20990101-001")
            .await
            .unwrap()
            .is_empty()
    );

    // Someone with database access removes the guard and changes one byte of event 4's body.
    fixture.remove_append_only_guard().await;
    let changed = fixture
        .execute(&format!(
            "UPDATE events SET body = replace(body, 'lag', 'lug') WHERE incident = '{id}' AND seq = 4"
        ))
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let tampered = store.raw_events(&id).await.unwrap();
    let differing: Vec<usize> = raw[3]
        .body
        .bytes()
        .zip(tampered[3].body.bytes())
        .enumerate()
        .filter(|(_, (before, after))| before != after)
        .map(|(index, _)| index)
        .collect();
    assert_eq!(differing.len(), 1, "exactly one byte was changed");
    assert_eq!(raw[..3], tampered[..3]);
    let decoded: Vec<_> = tampered.iter().map(|raw| raw.decode().unwrap()).collect();
    let broken = chain::verify(&decoded).unwrap_err();
    assert_eq!(broken.seq, 4);
    assert_eq!(broken.incident, id);
    let broken = chain::verify(&store.events(&timeline.id).await.unwrap()).unwrap_err();
    assert_eq!(broken.seq, 4);

    // A body that is no longer an event at all is reported as corrupt, naming the event.
    fixture
        .execute(&format!(
            "UPDATE events SET body = '{{\"type\":\"teleported\"}}' WHERE incident = '{id}' AND seq = 6"
        ))
        .await
        .unwrap();
    let raw = store.raw_events(&id).await.unwrap();
    assert!(raw[5].decode().is_err());
    match store.events(&timeline.id).await {
        Err(StoreError::Corrupt { what, .. }) => assert!(what.contains("event 6"), "{what}"),
        other => panic!("expected a corrupt event, got {other:?}"),
    }

    // So is a projection row that no longer reads as an incident.
    fixture
        .execute(&format!(
            "UPDATE incident_states SET state = '{{\"id\":' WHERE id = '{id}'"
        ))
        .await
        .unwrap();
    match store.head(&timeline.id).await {
        Err(StoreError::Corrupt { what, .. }) => assert_eq!(what, id),
        other => panic!("expected a corrupt projection, got {other:?}"),
    }
    assert!(matches!(
        store.list(&IncidentFilter::default()).await,
        Err(StoreError::Corrupt { .. })
    ));
}

pub async fn reopening_keeps_everything(fixture: &impl Fixture) {
    let store = fixture.store();
    let mut timeline = busy_timeline();
    timeline.append_all(store).await;
    let token = TokenRecord {
        name: "ci".to_owned(),
        role: Role::Viewer,
        person: None,
        created_at: at(2025, 3, 1, 9),
        revoked_at: None,
    };
    store.create_token(&token, &"d".repeat(64)).await.unwrap();
    for _ in 0..3 {
        store.next_incident_number(day(2025, 3, 1)).await.unwrap();
    }

    // Opening again runs the migrations again; they must find nothing to do.
    let reopened = fixture.reopen().await;
    let reopened = {
        drop(reopened);
        fixture.reopen().await
    };
    reopened.ping().await.unwrap();
    assert_eq!(
        reopened.events(&timeline.id).await.unwrap(),
        timeline.events
    );
    assert_eq!(
        reopened.head(&timeline.id).await.unwrap().unwrap().incident,
        timeline.state()
    );
    assert_eq!(reopened.tokens().await.unwrap(), [token]);
    assert_eq!(
        reopened
            .next_incident_number(day(2025, 3, 1))
            .await
            .unwrap(),
        4
    );

    // Work goes on from where it was.
    timeline.then(
        at(2025, 3, 2, 9),
        "alice",
        EventKind::Closed {
            note: Some("post-mortem held".to_owned()),
        },
    );
    let count = timeline.events.len();
    timeline.append_from(&reopened, count).await;
    let events = store.events(&timeline.id).await.unwrap();
    assert_eq!(events, timeline.events, "both stores see the same database");
    chain::verify(&events).unwrap();
    assert_eq!(
        store
            .list(&IncidentFilter {
                status: vec![Status::Closed],
                ..IncidentFilter::default()
            })
            .await
            .unwrap()
            .total,
        1
    );
}

pub async fn any_store_opens_by_url(fixture: &impl Fixture) {
    let timeline = busy_timeline();
    timeline.append_all(fixture.store()).await;

    let any = AnyStore::open(&fixture.url()).await.unwrap();
    any.ping().await.unwrap();
    assert_eq!(
        any.backend(),
        if fixture.url().starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        }
    );
    assert_eq!(any.events(&timeline.id).await.unwrap(), timeline.events);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("muster.db");
    let typo = format!("sqlit:{}", file.display());
    for url in ["mysql://x", "sqlit:foo.db", typo.as_str(), "", "sqlite://"] {
        let error = AnyStore::open(url).await.unwrap_err();
        assert!(
            matches!(error, StoreError::UnknownScheme(_)),
            "{url}: {error:?}"
        );
    }
    assert!(!file.exists(), "no file is made for an unknown scheme");
    assert!(!Path::new("foo.db").exists() && !Path::new("sqlit:foo.db").exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let plain = AnyStore::open(file.to_str().unwrap()).await.unwrap();
    assert_eq!(plain.backend(), "sqlite");
    assert!(file.exists(), "a plain path makes the file");
    timeline.append_all(&plain).await;
    drop(plain);
    let url = format!("sqlite://{}", file.display());
    let by_url = AnyStore::open(&url).await.unwrap();
    assert_eq!(by_url.backend(), "sqlite");
    assert_eq!(by_url.events(&timeline.id).await.unwrap(), timeline.events);
}

pub async fn integration_keys(fixture: &impl Fixture) {
    let store = fixture.store();
    let key = |integration: &str, name: &str, hour| IntegrationKeyRecord {
        integration: integration.to_owned(),
        name: name.to_owned(),
        created_at: at(2025, 3, 1, hour),
        revoked_at: None,
    };
    let (old, new, other, spare) = (
        "a".repeat(64),
        "b".repeat(64),
        "c".repeat(64),
        "d".repeat(64),
    );
    let primary = key("prometheus", "primary", 9);
    store.create_integration_key(&primary, &old).await.unwrap();
    // Names are per integration.
    let elsewhere = key("grafana", "primary", 9);
    store
        .create_integration_key(&elsewhere, &other)
        .await
        .unwrap();
    assert_eq!(
        store.integration_of_key(&old).await.unwrap().as_deref(),
        Some("prometheus")
    );
    assert_eq!(
        store.integration_of_key(&other).await.unwrap().as_deref(),
        Some("grafana")
    );
    assert_eq!(store.integration_of_key(&spare).await.unwrap(), None);

    // A second live key of the same name is refused and nothing of it is kept.
    match store
        .create_integration_key(&key("prometheus", "primary", 10), &spare)
        .await
    {
        Err(StoreError::IntegrationKeyNameTaken { integration, name }) => {
            assert_eq!(
                (integration.as_str(), name.as_str()),
                ("prometheus", "primary")
            );
        }
        other => panic!("expected the name to be taken, got {other:?}"),
    }
    assert_eq!(store.integration_of_key(&spare).await.unwrap(), None);
    assert_eq!(
        store.integration_keys("prometheus").await.unwrap(),
        std::slice::from_ref(&primary)
    );

    // Revoked: refused at once, still listed, and its name may be used again.
    let revoked_at = at(2025, 3, 2, 9);
    assert!(
        store
            .revoke_integration_key("prometheus", "primary", revoked_at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_integration_key("prometheus", "primary", revoked_at)
            .await
            .unwrap(),
        "already revoked"
    );
    assert!(
        !store
            .revoke_integration_key("prometheus", "nobody", revoked_at)
            .await
            .unwrap()
    );
    assert_eq!(store.integration_of_key(&old).await.unwrap(), None);
    assert_eq!(
        store.integration_of_key(&other).await.unwrap().as_deref(),
        Some("grafana"),
        "the same name of another integration stays"
    );
    let again = key("prometheus", "primary", 11);
    store.create_integration_key(&again, &new).await.unwrap();
    assert_eq!(
        store.integration_of_key(&new).await.unwrap().as_deref(),
        Some("prometheus")
    );
    let ci = key("prometheus", "ci", 12);
    store.create_integration_key(&ci, &spare).await.unwrap();
    assert_eq!(
        store.integration_keys("prometheus").await.unwrap(),
        [
            ci,
            IntegrationKeyRecord {
                revoked_at: Some(revoked_at),
                ..primary
            },
            again,
        ]
    );
    assert!(store.integration_keys("nothing").await.unwrap().is_empty());
}

fn alert_update(key: &str, disposition: Disposition, seq: i64) -> AlertUpdate {
    AlertUpdate {
        integration: "prometheus".to_owned(),
        key: key.to_owned(),
        status: "firing".to_owned(),
        summary: format!("{key} is failing"),
        severity: None,
        route: "default".to_owned(),
        group: key.to_owned(),
        disposition,
        incident: None,
        seen_at: at(2025, 3, 1, 9),
        seq,
        labels: "{}".to_owned(),
    }
}

pub async fn triaged_alerts_are_taken_once(fixture: &impl Fixture) {
    let store = fixture.store();
    store
        .record_alerts(
            &[
                alert_update("held", Disposition::Triage, 1),
                alert_update("quiet", Disposition::Ignored, 2),
            ],
            "test",
            2,
        )
        .await
        .unwrap();
    let id = incident(2025, 3, 1, 1);
    let take = |key: &str| Effects {
        take_alert: Some(TakenAlert {
            integration: "prometheus".to_owned(),
            key: key.to_owned(),
            incident: id.to_string(),
        }),
        ..Effects::default()
    };
    let one = |key: &str| AlertFilter {
        integration: Some("prometheus".to_owned()),
        key: Some(key.to_owned()),
        ..AlertFilter::default()
    };

    // Taken with the declaration that appends the incident, in one transaction.
    let timeline = Timeline::declare(&id, at(2025, 3, 1, 10), "P1");
    store
        .append_with(&timeline.events, &timeline.state(), &take("held"), 0)
        .await
        .unwrap();
    let held = store.alerts(&one("held")).await.unwrap();
    assert_eq!(held[0].disposition, Disposition::Incident);
    assert_eq!(held[0].incident.as_deref(), Some(id.to_string().as_str()));

    // Taken again, or an alert that was never in triage: refused, and nothing else is kept.
    let mut more = timeline.clone();
    more.note(at(2025, 3, 1, 11), "a second attach");
    for key in ["held", "quiet", "missing"] {
        match store
            .append_with(&more.events[1..], &more.state(), &take(key), 0)
            .await
        {
            Err(StoreError::NotInTriage {
                integration,
                key: refused,
            }) => {
                assert_eq!(
                    (integration.as_str(), refused.as_str()),
                    ("prometheus", key)
                );
            }
            other => panic!("expected {key} to be refused, got {other:?}"),
        }
    }
    assert_eq!(store.events(&id).await.unwrap(), timeline.events);
    let quiet = store.alerts(&one("quiet")).await.unwrap();
    assert_eq!(quiet[0].disposition, Disposition::Ignored);
    assert_eq!(quiet[0].incident, None);
}
