//! Alerts as processed, and triage, over real HTTP on the intake plan: alerts no route matches
//! are held in triage, `PoolDrain` declares, `severity=info` is ignored. Responders declare
//! incidents from triaged alerts or attach them to open incidents; each is one change, and a
//! repeat, or an alert that is not in triage, changes nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::integrations::{PROMETHEUS_KEY, alertmanager, start};
use crate::{Answer, Server};

const DISK: &str = "00000000000000d1";
const LATENCY: &str = "00000000000000d2";
const POOL: &str = "00000000000000d3";
const CHATTER: &str = "00000000000000d4";

impl Server {
    /// Stores one firing alert through the plan's key.
    async fn alert(&self, alertname: &str, fingerprint: &str, labels: &Value) {
        let answer = self
            .intake(
                "/intake/alertmanager",
                PROMETHEUS_KEY,
                &alertmanager(alertname, fingerprint, labels),
            )
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    }

    /// The alerts `GET /api/alerts?{query}` lists, by key.
    async fn listed(&self, query: &str) -> Vec<String> {
        let answer = self
            .get(&format!("/api/alerts?{query}"), &self.viewer)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{query}: {answer:?}");
        let mut keys: Vec<String> = answer.body["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|alert| alert["key"].as_str().unwrap().to_owned())
            .collect();
        keys.sort();
        keys
    }

    async fn one_alert(&self, key: &str) -> Value {
        let answer = self.get("/api/alerts?limit=500", &self.viewer).await;
        answer.body["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|alert| alert["key"] == key)
            .unwrap_or_else(|| panic!("{key} is listed: {answer:?}"))
            .clone()
    }

    async fn triage(&self, key: &str, action: &str, body: &Value) -> Answer {
        self.post(
            &format!("/api/alerts/prometheus/{key}/{action}"),
            &self.responder,
            body,
        )
        .await
    }
}

/// Four alerts, processed: two in triage, one declared, one ignored.
async fn four_alerts() -> (Server, String) {
    let server = start().await;
    server
        .alert("DiskFull", DISK, &json!({"instance": "node-1"}))
        .await;
    server.alert("HighLatency", LATENCY, &json!({})).await;
    server
        .alert("PoolDrain", POOL, &json!({"chain": "mainnet"}))
        .await;
    server
        .alert("Chatter", CHATTER, &json!({"severity": "info"}))
        .await;
    server.engine.process_alerts().await.unwrap();
    let pool = server.one_alert(POOL).await;
    assert_eq!(pool["disposition"], "incident", "{pool}");
    let incident = pool["incident"].as_str().unwrap().to_owned();
    (server, incident)
}

fn kinds(answer: &Answer) -> Vec<String> {
    answer.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"]["type"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn alerts_are_listed_by_disposition_status_and_incident() {
    let (server, incident) = four_alerts().await;
    assert_eq!(server.listed("").await, [DISK, LATENCY, POOL, CHATTER]);
    assert_eq!(server.listed("disposition=triage").await, [DISK, LATENCY]);
    assert_eq!(server.listed("disposition=incident").await, [POOL]);
    assert_eq!(server.listed("disposition=ignored").await, [CHATTER]);
    assert!(server.listed("disposition=heartbeat").await.is_empty());
    assert_eq!(server.listed(&format!("incident={incident}")).await, [POOL]);
    assert_eq!(server.listed("status=firing").await.len(), 4);
    assert!(server.listed("status=resolved").await.is_empty());
    assert_eq!(server.listed("limit=1").await.len(), 1);
    assert_eq!(
        server
            .listed("disposition=triage&status=firing&limit=5")
            .await,
        [DISK, LATENCY]
    );

    let disk = server.one_alert(DISK).await;
    assert_eq!(disk["integration"], "prometheus");
    assert_eq!(disk["summary"], "DiskFull");
    assert_eq!(disk["status"], "firing");
    assert_eq!(disk["incident"], Value::Null);
    assert_eq!(disk["labels"]["instance"], "node-1");
    assert_eq!(disk["occurrences"], 1);

    for query in [
        "disposition=maybe",
        "status=open",
        "incident=INC-1",
        "limit=0",
        "limit=501",
        "limit=ten",
        "key=abc",
        "status=firing&status=resolved",
    ] {
        let answer = server
            .get(&format!("/api/alerts?{query}"), &server.viewer)
            .await;
        answer.expect(400, "invalid-query");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_triaged_alert_is_declared_once() {
    let (server, _) = four_alerts().await;
    let before = server.total().await;

    server
        .post(
            &format!("/api/alerts/prometheus/{DISK}/declare"),
            &server.viewer,
            &json!({}),
        )
        .await
        .expect(403, "forbidden");
    // The plan's rules refuse a declaration without a severity or with an unknown one.
    for body in [json!({}), json!({"severity": "P9"})] {
        let answer = server.triage(DISK, "declare", &body).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{answer:?}"
        );
    }
    server
        .triage(DISK, "declare", &json!({"severity": "P3", "colour": "red"}))
        .await
        .expect(422, "invalid-body");
    assert_eq!(server.total().await, before);
    assert_eq!(server.one_alert(DISK).await["disposition"], "triage");

    let declared = server
        .triage(
            DISK,
            "declare",
            &json!({"severity": "P3", "category": "protocol"}),
        )
        .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{declared:?}");
    let id = declared.body["incident"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        declared.headers["location"].to_str().unwrap(),
        format!("/api/incidents/{id}")
    );
    assert_eq!(declared.body["incident"]["title"], "DiskFull");
    assert_eq!(declared.body["incident"]["severity"], "P3");
    assert_eq!(declared.body["incident"]["category"], "protocol");
    assert_eq!(declared.body["incident"]["alert_count"], 1);
    let events = kinds(&declared);
    assert_eq!(events.first().map(String::as_str), Some("declared"));
    assert!(events.contains(&"alerts_attached".to_owned()), "{events:?}");
    let attached = declared.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["kind"]["type"] == "alerts_attached")
        .unwrap();
    assert_eq!(
        attached["kind"]["alerts"],
        json!([{"integration": "prometheus", "key": DISK, "summary": "DiskFull"}])
    );
    let disk = server.one_alert(DISK).await;
    assert_eq!(disk["disposition"], "incident");
    assert_eq!(disk["incident"], json!(id));
    assert_eq!(server.listed(&format!("incident={id}")).await, [DISK]);

    // A repeat finds the alert part of the incident and changes nothing.
    let length = server.timeline_len(&id).await;
    let again = server
        .triage(DISK, "declare", &json!({"severity": "P3"}))
        .await;
    again.expect(409, "not-in-triage");
    assert!(again.message().contains(&id), "{again:?}");
    assert_eq!(server.total().await, before + 1);
    assert_eq!(server.timeline_len(&id).await, length);

    // Alerts that were never in triage, and alerts that do not exist.
    let ignored = server
        .triage(CHATTER, "declare", &json!({"severity": "P3"}))
        .await;
    ignored.expect(409, "not-in-triage");
    assert!(ignored.message().contains("ignored"), "{ignored:?}");
    server
        .triage("ffffffffffffffff", "declare", &json!({"severity": "P3"}))
        .await
        .expect(404, "unknown-alert");
    server
        .post(
            &format!("/api/alerts/grafana/{DISK}/declare"),
            &server.responder,
            &json!({"severity": "P3"}),
        )
        .await
        .expect(404, "unknown-alert");
    assert_eq!(server.total().await, before + 1);
    server.stop().await;
}

#[tokio::test]
async fn a_triaged_alert_is_attached_to_an_open_incident_once() {
    let (server, pool) = four_alerts().await;
    let length = server.timeline_len(&pool).await;

    server
        .triage(LATENCY, "attach", &json!({}))
        .await
        .expect(422, "invalid-body");
    server
        .triage(LATENCY, "attach", &json!({"incident": "INC-20260302-099"}))
        .await
        .expect(404, "unknown-incident");
    assert_eq!(server.one_alert(LATENCY).await["disposition"], "triage");

    let attached = server
        .triage(LATENCY, "attach", &json!({"incident": pool}))
        .await;
    assert_eq!(attached.status, StatusCode::OK, "{attached:?}");
    assert_eq!(kinds(&attached), ["alerts_attached"]);
    assert_eq!(
        attached.body["events"][0]["kind"]["alerts"][0]["key"],
        LATENCY
    );
    assert_eq!(attached.body["incident"]["alert_count"], 2);
    assert_eq!(server.timeline_len(&pool).await, length + 1);
    let latency = server.one_alert(LATENCY).await;
    assert_eq!(latency["disposition"], "incident");
    assert_eq!(latency["incident"], json!(pool));
    assert_eq!(
        server.listed(&format!("incident={pool}")).await,
        [LATENCY, POOL]
    );

    // Again, or the declared alert: not in triage, nothing changes.
    for key in [LATENCY, POOL] {
        server
            .triage(key, "attach", &json!({"incident": pool}))
            .await
            .expect(409, "not-in-triage");
    }
    assert_eq!(server.timeline_len(&pool).await, length + 1);

    // A finished incident takes no alerts.
    let resolved = server
        .command(&pool, &json!({"command": "resolve", "summary": "refilled"}))
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{resolved:?}");
    let length = server.timeline_len(&pool).await;
    server
        .triage(DISK, "attach", &json!({"incident": pool}))
        .await
        .expect(409, "incident-finished");
    assert_eq!(server.timeline_len(&pool).await, length);
    assert_eq!(server.one_alert(DISK).await["disposition"], "triage");
    server.stop().await;
}

#[tokio::test]
async fn an_alert_key_with_a_slash_is_given_percent_encoded() {
    let server = start().await;
    let event = json!({
        "routing_key": "pd-routing-key-0e4d8b16",
        "event_action": "trigger",
        "dedup_key": "mainnet/oracle/ETH-USD",
        "payload": {"summary": "ETH/USD oracle deviates 7%", "source": "oracle", "severity": "error"}
    });
    let answer = server.intake("/v2/enqueue", "unused", &event).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    server.engine.process_alerts().await.unwrap();
    assert_eq!(
        server.listed("disposition=triage").await,
        ["mainnet/oracle/ETH-USD"]
    );
    let declared = server
        .post(
            "/api/alerts/grafana/mainnet%2Foracle%2FETH-USD/declare",
            &server.responder,
            &json!({"urgent": true, "important": true}),
        )
        .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{declared:?}");
    assert_eq!(declared.body["incident"]["severity"], "P1");
    assert_eq!(
        declared.body["incident"]["title"],
        "ETH/USD oracle deviates 7%"
    );
    assert!(server.listed("disposition=triage").await.is_empty());
    server.stop().await;
}
