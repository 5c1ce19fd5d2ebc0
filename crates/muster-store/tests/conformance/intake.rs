//! Accepting alerts and recording their state: every alert of a batch is stored once, in the order given, with resends
//! (inside the batch or of stored alerts) reported as duplicates, whatever the batch's size.

use muster_store::{
    Accepted, AlertFilter, AlertRecord, AlertUpdate, Disposition, NewAlertEvent, Work,
};

use crate::fixtures::Fixture;

fn event(integration: &str, key: &str, dedup: Option<&str>) -> NewAlertEvent {
    NewAlertEvent {
        integration: integration.to_owned(),
        key: key.to_owned(),
        action: "trigger".to_owned(),
        dedup: dedup.map(str::to_owned),
        received_at: 1_000,
        body: format!("{{\"key\":\"{key}\"}}"),
    }
}

pub async fn accepted_alerts_are_stored_once_in_order(fixture: &impl Fixture) {
    let store = fixture.store();
    let first = vec![
        event("prometheus", "a", Some("a-firing")),
        event("prometheus", "b", None),
        event("prometheus", "a", Some("a-firing")),
        // The same identity from another integration is another alert.
        event("forta", "a", Some("a-firing")),
        event("prometheus", "c", None),
    ];
    let accepted = store.accept_alerts(&first).await.unwrap();
    assert_eq!(
        accepted,
        [
            Accepted::Stored(1),
            Accepted::Stored(2),
            Accepted::Duplicate,
            Accepted::Stored(3),
            Accepted::Stored(4),
        ]
    );

    // A batch bigger than one statement: resends of stored alerts are duplicates, the rest is
    // numbered in the order given.
    let mut second = vec![event("prometheus", "a", Some("a-firing"))];
    for n in 0..1_200 {
        let key = format!("k{n}");
        let dedup = (n % 3 != 0).then(|| format!("{key}-firing"));
        second.push(event("prometheus", &key, dedup.as_deref()));
    }
    second.push(event("forta", "a", Some("a-firing")));
    let accepted = store.accept_alerts(&second).await.unwrap();
    assert_eq!(accepted[0], Accepted::Duplicate);
    assert_eq!(accepted[1_201], Accepted::Duplicate);
    let seqs: Vec<i64> = accepted[1..1_201]
        .iter()
        .map(|outcome| match outcome {
            Accepted::Stored(seq) => *seq,
            Accepted::Duplicate => panic!("a new alert is stored: {accepted:?}"),
        })
        .collect();
    // Numbered in the order given (a resend may use up a number: numbers can have gaps).
    assert!(seqs[0] > 4, "{seqs:?}");
    assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "{seqs:?}");

    let stored = store.alert_events_after(4, 2_000).await.unwrap();
    assert_eq!(stored.len(), 1_200);
    for (n, (event, seq)) in stored.iter().zip(&seqs).enumerate() {
        assert_eq!(event.seq, *seq);
        assert_eq!(event.body, format!("{{\"key\":\"k{n}\"}}"));
    }
}

fn update(key: &str, status: &str, incident: Option<&str>, seq: i64) -> AlertUpdate {
    AlertUpdate {
        integration: "prometheus".to_owned(),
        key: key.to_owned(),
        status: status.to_owned(),
        summary: format!("{key} is {status}"),
        severity: Some("critical".to_owned()),
        route: "pool".to_owned(),
        group: "alertname=PoolDrain".to_owned(),
        disposition: Disposition::Incident,
        incident: incident.map(str::to_owned),
        seen_at: 1_000 + seq,
        seq,
        labels: "{\"alertname\":\"PoolDrain\"}".to_owned(),
    }
}

pub async fn alert_state_follows_the_latest_event(fixture: &impl Fixture) {
    let store = fixture.store();
    // A trigger and its resolve in one batch: one alert, resolved, seen twice, still on the
    // incident the trigger joined.
    let batch = [
        update("a", "firing", Some("INC-20261121-001"), 1),
        update("b", "firing", Some("INC-20261121-001"), 2),
        update("a", "resolved", None, 3),
    ];
    store
        .record_alerts(&batch, "alert-processor", 3)
        .await
        .unwrap();
    let a = one(store, "a").await;
    assert_eq!(a.status, "resolved");
    assert_eq!(a.occurrences, 2);
    assert_eq!(a.first_seen, 1_001);
    assert_eq!(a.last_seen, 1_003);
    assert_eq!(a.incident.as_deref(), Some("INC-20261121-001"));
    assert_eq!(store.cursor("alert-processor").await.unwrap(), 3);

    // An older event recorded again (a batch processed twice) changes nothing.
    store
        .record_alerts(&[update("a", "firing", None, 1)], "alert-processor", 3)
        .await
        .unwrap();
    assert_eq!(one(store, "a").await, a);
    // A newer one does.
    store
        .record_alerts(&[update("a", "firing", None, 4)], "alert-processor", 4)
        .await
        .unwrap();
    let again = one(store, "a").await;
    assert_eq!(again.status, "firing");
    assert_eq!(again.occurrences, 3);
    assert_eq!(again.incident.as_deref(), Some("INC-20261121-001"));
}

async fn one(store: &impl Work, key: &str) -> AlertRecord {
    let found = store
        .alerts(&AlertFilter {
            integration: Some("prometheus".to_owned()),
            key: Some(key.to_owned()),
            ..AlertFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    found.into_iter().next().unwrap()
}
