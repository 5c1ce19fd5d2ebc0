//! Integration keys made through the API, over real HTTP on the intake plan: made by admins
//! only, shown once, listed without their secrets, accepted by the intake beside the plan's keys
//! and refused at once when revoked or when their integration leaves the plan.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use muster_engine::{EngineOptions, ManualClock};
use muster_store::Work;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{Answer, Server};

pub(crate) const PROMETHEUS_KEY: &str = "am-key-5c1e0f7a";

/// A server on the intake plan (`fixtures/intake.yaml`) with its plan keys set, on a hand-set
/// clock.
pub(crate) async fn start() -> Server {
    let secrets: HashMap<&str, &str> = [
        ("PAGER_HOOK_SECRET", "hook-secret-for-tests"),
        ("PROMETHEUS_KEY", PROMETHEUS_KEY),
        ("GRAFANA_ROUTING_KEY", "pd-routing-key-0e4d8b16"),
        ("CHAIN_WATCH_KEY", "hook-key-c0ffee42"),
    ]
    .into_iter()
    .collect();
    let options = EngineOptions {
        public_url: "https://muster.example".to_owned(),
        secrets: Arc::new(move |name| secrets.get(name).map(|value| (*value).to_owned())),
        ..EngineOptions::default()
    };
    let at = "2026-03-02T10:00:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond();
    let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures/intake.yaml");
    Server::start_with_plan(&plan, Arc::new(ManualClock::new(at)), options).await
}

/// An Alertmanager notification of one firing alert.
pub(crate) fn alertmanager(alertname: &str, fingerprint: &str, labels: &Value) -> Value {
    let mut all = json!({"alertname": alertname});
    for (name, value) in labels.as_object().unwrap() {
        all[name] = value.clone();
    }
    json!({
        "version": "4",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "muster",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": "firing",
            "labels": all,
            "annotations": {},
            "startsAt": "2026-03-02T09:58:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": fingerprint
        }]
    })
}

impl Server {
    /// POSTs alerts to an intake path with `key` as the bearer.
    pub(crate) async fn intake(&self, path: &str, key: &str, body: &Value) -> Answer {
        self.send(
            Method::POST,
            path,
            Some(key),
            Some(body.to_string()),
            Some("application/json"),
        )
        .await
    }

    pub(crate) async fn delete(&self, path: &str, token: &str) -> Answer {
        self.send(Method::DELETE, path, Some(token), None, None)
            .await
    }

    async fn stored_alerts(&self) -> usize {
        self.engine
            .store()
            .alert_events_after(0, 10_000)
            .await
            .unwrap()
            .len()
    }

    /// The API keys `GET /api/integrations` lists for an integration.
    async fn listed_keys(&self, integration: &str) -> Vec<Value> {
        let answer = self.get("/api/integrations", &self.viewer).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        answer.body["integrations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|listed| listed["id"] == integration)
            .unwrap_or_else(|| panic!("{integration} is listed: {answer:?}"))["keys"]
            .as_array()
            .unwrap()
            .clone()
    }
}

fn pagerduty(routing_key: &str, dedup_key: &str) -> Value {
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {"summary": "Oracle deviates", "source": "oracle-monitor", "severity": "error"}
    })
}

#[tokio::test]
async fn integrations_are_listed_with_their_keys() {
    let server = start().await;
    let answer = server.get("/api/integrations", &server.viewer).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    let listed = answer.body["integrations"].as_array().unwrap();
    let ids: Vec<&str> = listed.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "prometheus",
            "prometheus-limited",
            "grafana",
            "grafana-limited",
            "chain-watch",
            "chain-watch-limited"
        ]
    );
    assert_eq!(
        listed[0],
        json!({"id": "prometheus", "type": "alertmanager", "name": null, "rate_limit": null,
               "plan_key": true, "keys": []})
    );
    // The limited integrations' key variables are not set on this server.
    assert_eq!(listed[1]["plan_key"], false);
    assert_eq!(listed[1]["rate_limit"], "2/m");
    assert_eq!(listed[2]["type"], "pagerduty");
    server.stop().await;
}

#[tokio::test]
async fn an_admin_key_takes_alerts_until_revoked() {
    let server = start().await;
    let path = "/api/integrations/prometheus/keys";
    let body = json!({"name": "eu-west"});

    // Only admins make keys; a refusal makes nothing.
    for token in [&server.viewer, &server.responder] {
        server
            .post(path, token, &body)
            .await
            .expect(403, "forbidden");
    }
    assert!(server.listed_keys("prometheus").await.is_empty());

    let created = server.post(path, &server.admin, &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("mst_") && secret.len() > 60, "{secret}");
    assert_eq!(created.body["integration"], "prometheus");
    assert_eq!(created.body["name"], "eu-west");

    // Listed by name and dates only; the secret is not anywhere in the listing.
    let listing = server.get("/api/integrations", &server.admin).await;
    assert!(!listing.body.to_string().contains(&secret));
    let keys = server.listed_keys("prometheus").await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["name"], "eu-west");
    assert_eq!(keys[0]["revoked_at"], Value::Null);
    assert!(keys[0]["created_at"].is_i64());

    // The key posts alerts to its own integration, as a bearer or as `?key=`.
    let notification = alertmanager("DiskFull", "00000000000000a1", &json!({}));
    let answer = server
        .intake("/intake/alertmanager", &secret, &notification)
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(answer.body["integration"], "prometheus");
    assert_eq!(answer.body["accepted"], 1);
    let query = server
        .send(
            Method::POST,
            &format!("/intake/alertmanager?key={secret}"),
            None,
            Some(alertmanager("DiskFull", "00000000000000a2", &json!({})).to_string()),
            Some("application/json"),
        )
        .await;
    assert_eq!(query.status, StatusCode::ACCEPTED, "{query:?}");
    assert_eq!(server.stored_alerts().await, 2);

    // It is not the key of an integration of another kind.
    let elsewhere = server
        .intake(
            "/intake/webhook",
            &secret,
            &json!({"findings": [{"id": "f-1", "title": "x"}]}),
        )
        .await;
    elsewhere.expect(401, "unknown-key");
    assert_eq!(server.stored_alerts().await, 2);

    // A PagerDuty integration's key is its routing key.
    let grafana = server
        .post(
            "/api/integrations/grafana/keys",
            &server.admin,
            &json!({"name": "oracle"}),
        )
        .await;
    assert_eq!(grafana.status, StatusCode::CREATED, "{grafana:?}");
    let routing_key = grafana.body["secret"].as_str().unwrap();
    let answer = server
        .intake("/v2/enqueue", "unused", &pagerduty(routing_key, "oracle-1"))
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(server.stored_alerts().await, 3);

    // Revoked: only by an admin, then refused at once and nothing is stored.
    let revoke = "/api/integrations/prometheus/keys/eu-west";
    server
        .delete(revoke, &server.responder)
        .await
        .expect(403, "forbidden");
    let answer = server.delete(revoke, &server.admin).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{answer:?}");
    server
        .delete(revoke, &server.admin)
        .await
        .expect(404, "unknown-integration-key");
    let refused = server
        .intake(
            "/intake/alertmanager",
            &secret,
            &alertmanager("DiskFull", "00000000000000a3", &json!({})),
        )
        .await;
    refused.expect(401, "unknown-key");
    assert_eq!(server.stored_alerts().await, 3);
    let keys = server.listed_keys("prometheus").await;
    assert!(keys[0]["revoked_at"].is_i64(), "{keys:?}");

    // The name is free again; the new key works and the old one stays refused.
    let again = server.post(path, &server.admin, &body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{again:?}");
    let fresh = again.body["secret"].as_str().unwrap();
    assert_ne!(fresh, secret);
    let notification = alertmanager("DiskFull", "00000000000000a4", &json!({}));
    server
        .intake("/intake/alertmanager", &secret, &notification)
        .await
        .expect(401, "unknown-key");
    let answer = server
        .intake("/intake/alertmanager", fresh, &notification)
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    // The plan's key works beside the API's.
    let answer = server
        .intake(
            "/intake/alertmanager",
            PROMETHEUS_KEY,
            &alertmanager("DiskFull", "00000000000000a5", &json!({})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(server.stored_alerts().await, 5);
    server.stop().await;
}

#[tokio::test]
async fn bad_key_requests_are_refused_and_change_nothing() {
    let server = start().await;
    let path = "/api/integrations/prometheus/keys";
    let created = server
        .post(path, &server.admin, &json!({"name": "primary"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");

    let duplicate = server
        .post(path, &server.admin, &json!({"name": " primary "}))
        .await;
    duplicate.expect(409, "integration-key-exists");
    assert!(duplicate.message().contains("revoke"), "{duplicate:?}");

    let unknown = server
        .post(
            "/api/integrations/prometheos/keys",
            &server.admin,
            &json!({"name": "x"}),
        )
        .await;
    unknown.expect(404, "unknown-integration");
    assert!(
        unknown
            .message()
            .contains("prometheus, prometheus-limited, grafana, grafana-limited"),
        "{unknown:?}"
    );
    server
        .delete("/api/integrations/prometheos/keys/primary", &server.admin)
        .await
        .expect(404, "unknown-integration");

    for name in ["", "   ", "has space", "slash/in/it", &"k".repeat(65)] {
        let answer = server
            .post(path, &server.admin, &json!({"name": name}))
            .await;
        answer.expect(422, "invalid-key-name");
    }
    server
        .post(path, &server.admin, &json!({"name": "k", "role": "admin"}))
        .await
        .expect(422, "invalid-body");
    let long = "k".repeat(64);
    let answer = server
        .post(path, &server.admin, &json!({"name": long}))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");

    let names: Vec<Value> = server
        .listed_keys("prometheus")
        .await
        .iter()
        .map(|key| key["name"].clone())
        .collect();
    assert_eq!(names, [json!(long), json!("primary")]);
    server.stop().await;
}

#[tokio::test]
async fn a_key_of_an_integration_no_longer_in_the_plan_is_refused() {
    let server = start().await;
    let created = server
        .post(
            "/api/integrations/prometheus/keys",
            &server.admin,
            &json!({"name": "primary"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let secret = created.body["secret"].as_str().unwrap().to_owned();

    let plan = std::fs::read_to_string(&server.plan_path).unwrap();
    let without = plan.replace(
        "  - id: prometheus\n    type: alertmanager\n    key_env: PROMETHEUS_KEY\n",
        "",
    );
    assert_ne!(plan, without, "the fixture lists prometheus as expected");
    std::fs::write(&server.plan_path, without).unwrap();
    let reloaded = server
        .send(
            Method::POST,
            "/api/plan/reload",
            Some(&server.admin),
            None,
            None,
        )
        .await;
    assert_eq!(reloaded.status, StatusCode::OK, "{reloaded:?}");

    server
        .intake(
            "/intake/alertmanager",
            &secret,
            &alertmanager("DiskFull", "00000000000000b1", &json!({})),
        )
        .await
        .expect(401, "unknown-key");
    assert_eq!(server.stored_alerts().await, 0);
    server.stop().await;
}
