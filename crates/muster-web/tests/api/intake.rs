//! The intake endpoints and acknowledge links over real HTTP, on a plan with one integration of
//! each kind (and one more of each kind limited to two alerts a minute) and a hand-set clock.
//!
//! Accepted alerts are checked in the store; every refused request is checked for its exact
//! status, for an answer that names what to fix, and for having stored nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use muster_core::alert::alertmanager;
use muster_core::incident::EventKind;
use muster_core::plan::PersonId;
use muster_engine::acklink::LINK_LIFETIME_MS;
use muster_engine::{EngineOptions, ManualClock};
use muster_store::Work;
use reqwest::header::RETRY_AFTER;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{Answer, Server};

const PROMETHEUS_KEY: &str = "am-key-5c1e0f7a";
const PROMETHEUS_LIMITED_KEY: &str = "am-limited-key-93b2";
const GRAFANA_KEY: &str = "pd-routing-key-0e4d8b16";
const GRAFANA_LIMITED_KEY: &str = "pd-limited-key-71aa";
const CHAIN_WATCH_KEY: &str = "hook-key-c0ffee42";
const CHAIN_WATCH_LIMITED_KEY: &str = "hook-limited-key-4e2f";

const ALERTMANAGER: &str = "/intake/alertmanager";
const WEBHOOK: &str = "/intake/webhook";
const PAGERDUTY: &str = "/v2/enqueue";
const JSON: Option<&str> = Some("application/json");
const KIB: usize = 1024;

/// A server on the intake plan, and the clock it runs on.
struct Intake {
    server: Server,
    clock: Arc<ManualClock>,
}

fn millis(time: &str) -> i64 {
    time.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

impl Intake {
    async fn start() -> Intake {
        let secrets: HashMap<&str, &str> = [
            ("PAGER_HOOK_SECRET", "hook-secret-for-tests"),
            ("PROMETHEUS_KEY", PROMETHEUS_KEY),
            ("PROMETHEUS_LIMITED_KEY", PROMETHEUS_LIMITED_KEY),
            ("GRAFANA_ROUTING_KEY", GRAFANA_KEY),
            ("GRAFANA_LIMITED_ROUTING_KEY", GRAFANA_LIMITED_KEY),
            ("CHAIN_WATCH_KEY", CHAIN_WATCH_KEY),
            ("CHAIN_WATCH_LIMITED_KEY", CHAIN_WATCH_LIMITED_KEY),
        ]
        .into_iter()
        .collect();
        let options = EngineOptions {
            public_url: "https://muster.example".to_owned(),
            secrets: Arc::new(move |name| secrets.get(name).map(|value| (*value).to_owned())),
            ..EngineOptions::default()
        };
        let clock = Arc::new(ManualClock::new(millis("2026-03-02T10:00:00Z")));
        let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures/intake.yaml");
        let server = Server::start_with_plan(&plan, clock.clone(), options).await;
        Intake { server, clock }
    }

    /// POSTs `body` as it is; `key` goes in `Authorization: Bearer`.
    async fn send(
        &self,
        path: &str,
        key: Option<&str>,
        body: String,
        content_type: Option<&str>,
    ) -> Answer {
        self.server
            .send(Method::POST, path, key, Some(body), content_type)
            .await
    }

    async fn post(&self, path: &str, key: Option<&str>, body: &Value) -> Answer {
        self.send(path, key, body.to_string(), JSON).await
    }

    /// Every stored alert event, oldest first, as its normalised alert.
    async fn stored(&self) -> Vec<Value> {
        self.server
            .engine
            .store()
            .alert_events_after(0, 100_000)
            .await
            .unwrap()
            .iter()
            .map(|event| serde_json::from_str(&event.body).unwrap())
            .collect()
    }

    async fn stored_count(&self) -> usize {
        self.stored().await.len()
    }
}

/// `body` with the value at `pointer` replaced (or added).
fn set(body: &Value, pointer: &str, value: Value) -> String {
    let mut body = body.clone();
    let (parent, name) = pointer.rsplit_once('/').unwrap();
    body.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .insert(name.to_owned(), value);
    body.to_string()
}

/// `body` without the member at `pointer`.
fn without(body: &Value, pointer: &str) -> String {
    let mut body = body.clone();
    let (parent, name) = pointer.rsplit_once('/').unwrap();
    body.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(name)
        .unwrap();
    body.to_string()
}

// ---------------------------------------------------------------------------------------------
// Payloads

fn firing_pool_drain() -> Value {
    json!({
        "status": "firing",
        "labels": {"alertname": "PoolDrain", "chain": "mainnet", "severity": "critical"},
        "annotations": {
            "summary": "Pool lost 4% of its balance in 5 minutes",
            "runbook_url": "https://runbooks.example/pool-drain"
        },
        "startsAt": "2026-03-02T09:58:00.123Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=pool",
        "fingerprint": "a3c1f0b2d4e5f607"
    })
}

fn resolved_disk_full() -> Value {
    json!({
        "status": "resolved",
        "labels": {"alertname": "DiskFull", "instance": "node-1"},
        "startsAt": "2026-03-02T09:00:00Z",
        "endsAt": "2026-03-02T09:59:00Z"
    })
}

/// An Alertmanager notification (version 4) of `alerts`.
fn notification(alerts: &[Value]) -> Value {
    json!({
        "version": "4",
        "groupKey": "{}:{alertname=\"PoolDrain\"}",
        "truncatedAlerts": 0,
        "status": alerts[0]["status"],
        "receiver": "muster",
        "groupLabels": {"alertname": "PoolDrain"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts
    })
}

/// A notification of one firing alert, distinct for each `n`.
fn numbered_notification(n: usize) -> Value {
    let mut alert = firing_pool_drain();
    alert["fingerprint"] = json!(format!("{n:016x}"));
    notification(&[alert])
}

fn pool_finding() -> Value {
    json!({
        "id": "finding-1",
        "title": "Pool drained on mainnet",
        "state": "open",
        "severity": "critical",
        "rule": "PoolDrain",
        "network": "mainnet",
        "contract": {"name": "Pool", "address": "0x00000000000000000000000000000000000000aa"},
        "explorer_url": "https://etherscan.io/tx/0xabc"
    })
}

/// A chain monitor's report: the findings are read through the integration's mapping.
fn findings(findings: &[Value]) -> Value {
    json!({"monitor": "chain-watch", "findings": findings})
}

fn numbered_findings(n: usize) -> Value {
    let mut finding = pool_finding();
    finding["id"] = json!(format!("finding-{n}"));
    findings(&[finding])
}

fn pagerduty_trigger(routing_key: &str) -> Value {
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": "mainnet/oracle/ETH-USD",
        "payload": {
            "summary": "ETH/USD oracle deviates 7% from the reference price",
            "source": "oracle-monitor",
            "severity": "critical",
            "timestamp": "2026-03-02T09:30:00.123+0000",
            "component": "price-oracle",
            "custom_details": {"deviation": "7.1%"}
        },
        "client": "Oracle monitor",
        "client_url": "https://monitor.example/oracles"
    })
}

fn numbered_trigger(routing_key: &str, n: usize) -> Value {
    let mut event = pagerduty_trigger(routing_key);
    event["dedup_key"] = json!(format!("oracle-{n}"));
    event
}

// ---------------------------------------------------------------------------------------------
// Accepted

#[tokio::test]
async fn alertmanager_notifications_are_stored_once() {
    let intake = Intake::start().await;
    let body = notification(&[firing_pool_drain(), resolved_disk_full()]);
    let answer = intake.post(ALERTMANAGER, Some(PROMETHEUS_KEY), &body).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(
        answer.body,
        json!({"status": "accepted", "integration": "prometheus", "accepted": 2, "duplicates": 0})
    );

    let stored = intake.stored().await;
    assert_eq!(stored.len(), 2, "{stored:#?}");
    let starts = millis("2026-03-02T09:58:00.123Z");
    assert_eq!(
        stored[0],
        json!({
            "integration": "prometheus",
            "key": "a3c1f0b2d4e5f607",
            "action": "trigger",
            "summary": "Pool lost 4% of its balance in 5 minutes",
            "severity": "critical",
            "labels": {
                "alertname": "PoolDrain",
                "chain": "mainnet",
                "severity": "critical",
                "integration": "prometheus"
            },
            "details": {
                "summary": "Pool lost 4% of its balance in 5 minutes",
                "runbook_url": "https://runbooks.example/pool-drain"
            },
            "starts_at": starts,
            "links": [
                {"href": "http://prometheus:9090/graph?g0.expr=pool", "text": "Source"},
                {"href": "https://runbooks.example/pool-drain", "text": "Runbook"}
            ],
            "dedup": format!("a3c1f0b2d4e5f607|firing|{starts}")
        })
    );
    // Without a fingerprint, the key is the one Alertmanager computes from the labels.
    let labels: BTreeMap<String, String> = [("alertname", "DiskFull"), ("instance", "node-1")]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let key = alertmanager::fingerprint(&labels);
    assert_eq!(stored[1]["key"], json!(key));
    assert_eq!(stored[1]["action"], "resolve");
    assert_eq!(stored[1]["summary"], "DiskFull");
    assert_eq!(stored[1]["labels"]["integration"], "prometheus");
    assert_eq!(stored[1]["ends_at"], millis("2026-03-02T09:59:00Z"));

    // Alertmanager resends the group every repeat_interval: nothing is stored again.
    let answer = intake.post(ALERTMANAGER, Some(PROMETHEUS_KEY), &body).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(answer.body["accepted"], 0, "{answer:?}");
    assert_eq!(answer.body["duplicates"], 2, "{answer:?}");
    assert_eq!(intake.stored_count().await, 2);

    // The same alert resolved is a new notification; the key may be given as `?key=`.
    let mut resolved = firing_pool_drain();
    resolved["status"] = json!("resolved");
    resolved["endsAt"] = json!("2026-03-02T10:00:00Z");
    let answer = intake
        .post(
            &format!("{ALERTMANAGER}?key={PROMETHEUS_KEY}"),
            None,
            &notification(&[resolved]),
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(
        (&answer.body["accepted"], &answer.body["duplicates"]),
        (&json!(1), &json!(0))
    );

    // A fresh firing (a new startsAt) is stored; a repeat inside one request is stored once.
    let mut again = firing_pool_drain();
    again["startsAt"] = json!("2026-03-02T10:05:00Z");
    let answer = intake
        .send(
            ALERTMANAGER,
            Some(PROMETHEUS_KEY),
            notification(&[again.clone(), again]).to_string(),
            Some("application/json; charset=utf-8"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(
        (&answer.body["accepted"], &answer.body["duplicates"]),
        (&json!(1), &json!(1))
    );
    let stored = intake.stored().await;
    assert_eq!(stored.len(), 4);
    assert_eq!(stored[2]["action"], "resolve");
    assert_eq!(stored[3]["starts_at"], millis("2026-03-02T10:05:00Z"));
    assert!(
        stored
            .iter()
            .all(|alert| alert["integration"] == "prometheus")
    );

    // Bodies above the API's 64 KiB and under the intake's 512 KiB are accepted.
    let mut large = firing_pool_drain();
    large["fingerprint"] = json!("00000000000000ff");
    large["annotations"]["description"] = json!("x".repeat(400 * KIB));
    let answer = intake
        .post(ALERTMANAGER, Some(PROMETHEUS_KEY), &notification(&[large]))
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(intake.stored_count().await, 5);
    intake.server.stop().await;
}

#[tokio::test]
async fn webhook_alerts_are_read_through_the_mapping() {
    let intake = Intake::start().await;
    let closed =
        json!({"id": 42, "title": "Guardian Safe transaction executed", "state": "CLOSED"});
    let answer = intake
        .post(
            WEBHOOK,
            Some(CHAIN_WATCH_KEY),
            &findings(&[pool_finding(), closed.clone()]),
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(
        answer.body,
        json!({"status": "accepted", "integration": "chain-watch", "accepted": 2, "duplicates": 0})
    );
    let stored = intake.stored().await;
    assert_eq!(
        stored,
        vec![
            json!({
                "integration": "chain-watch",
                "key": "finding-1",
                "action": "trigger",
                "summary": "Pool drained on mainnet",
                "severity": "critical",
                "labels": {
                    "alertname": "PoolDrain",
                    "chain": "mainnet",
                    "contract": "Pool",
                    "integration": "chain-watch"
                },
                "details": pool_finding(),
                "links": [{"href": "https://etherscan.io/tx/0xabc"}]
            }),
            json!({
                "integration": "chain-watch",
                "key": "42",
                "action": "resolve",
                "summary": "Guardian Safe transaction executed",
                "labels": {"integration": "chain-watch"},
                "details": closed
            }),
        ]
    );

    // `?key=` works as well as the header; webhook notifications have no resend identity.
    let answer = intake
        .post(
            &format!("{WEBHOOK}?key={CHAIN_WATCH_KEY}"),
            None,
            &findings(&[pool_finding()]),
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(answer.body["accepted"], 1, "{answer:?}");

    // An empty list is a valid report of nothing.
    let answer = intake
        .post(WEBHOOK, Some(CHAIN_WATCH_KEY), &findings(&[]))
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(answer.body["accepted"], 0, "{answer:?}");

    let mut large = pool_finding();
    large["trace"] = json!("x".repeat(400 * KIB));
    let answer = intake
        .post(WEBHOOK, Some(CHAIN_WATCH_KEY), &findings(&[large]))
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(intake.stored_count().await, 4);
    intake.server.stop().await;
}

#[tokio::test]
async fn pagerduty_events_are_answered_as_pagerduty_answers() {
    let intake = Intake::start().await;
    let answer = intake
        .post(PAGERDUTY, None, &pagerduty_trigger(GRAFANA_KEY))
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(
        answer.body,
        json!({"status": "success", "message": "Event processed", "dedup_key": "mainnet/oracle/ETH-USD"})
    );
    let stored = intake.stored().await;
    assert_eq!(
        stored,
        vec![json!({
            "integration": "grafana",
            "key": "mainnet/oracle/ETH-USD",
            "action": "trigger",
            "summary": "ETH/USD oracle deviates 7% from the reference price",
            "severity": "critical",
            "labels": {
                "component": "price-oracle",
                "integration": "grafana",
                "severity": "critical",
                "source": "oracle-monitor"
            },
            "details": {"deviation": "7.1%"},
            "starts_at": millis("2026-03-02T09:30:00.123Z"),
            "links": [{"href": "https://monitor.example/oracles", "text": "Oracle monitor"}]
        })]
    );

    // A trigger without a dedup_key gets one, returned to the sender and stored as the key.
    let event = without(&pagerduty_trigger(GRAFANA_KEY), "/dedup_key");
    let answer = intake.send(PAGERDUTY, None, event, JSON).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(answer.body["status"], "success");
    let made = answer.body["dedup_key"].as_str().unwrap().to_owned();
    assert_eq!(made.len(), 32, "{made}");
    assert!(made.chars().all(|c| c.is_ascii_hexdigit()), "{made}");
    assert_eq!(intake.stored().await[1]["key"], json!(made));

    // Acknowledge and resolve need only the dedup_key; a payload sent with them is not read.
    for action in ["acknowledge", "resolve"] {
        let event = json!({
            "routing_key": GRAFANA_KEY,
            "event_action": action,
            "dedup_key": "mainnet/oracle/ETH-USD",
            "payload": {"summary": 5}
        });
        let answer = intake.post(PAGERDUTY, None, &event).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{action}: {answer:?}");
        assert_eq!(answer.body["dedup_key"], "mainnet/oracle/ETH-USD");
    }
    let stored = intake.stored().await;
    assert_eq!(stored.len(), 4);
    assert_eq!(stored[2]["action"], "acknowledge");
    assert_eq!(stored[3]["action"], "resolve");
    assert_eq!(stored[3]["key"], "mainnet/oracle/ETH-USD");

    let large = set(
        &pagerduty_trigger(GRAFANA_KEY),
        "/payload/custom_details/log",
        json!("x".repeat(400 * KIB)),
    );
    let answer = intake.send(PAGERDUTY, None, large, JSON).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(intake.stored_count().await, 5);
    intake.server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Refused

/// A request that must be refused, and what the answer must say.
struct Bad {
    what: &'static str,
    /// Appended to the path (`?key=…`).
    query: String,
    /// Sent as `Authorization: Bearer`.
    key: Option<&'static str>,
    content_type: Option<&'static str>,
    body: String,
    status: u16,
    /// The error code; for `/v2/enqueue`, PagerDuty's `status` word.
    code: &'static str,
    /// Found in the message or in one of the listed problems.
    says: &'static str,
}

impl Bad {
    fn new(what: &'static str, key: Option<&'static str>, body: String) -> Bad {
        Bad {
            what,
            query: String::new(),
            key,
            content_type: JSON,
            body,
            status: 400,
            code: "invalid-payload",
            says: "",
        }
    }

    fn answers(mut self, status: u16, code: &'static str, says: &'static str) -> Bad {
        self.status = status;
        self.code = code;
        self.says = says;
        self
    }

    fn content_type(mut self, content_type: Option<&'static str>) -> Bad {
        self.content_type = content_type;
        self
    }

    fn query(mut self, query: String) -> Bad {
        self.query = query;
        self
    }
}

/// What an answer tells the sender: the message and every listed problem.
fn explanation(answer: &Answer) -> Vec<String> {
    let (message, list) = if answer.body.get("error").is_some() {
        (
            &answer.body["error"]["message"],
            &answer.body["error"]["problems"],
        )
    } else {
        (&answer.body["message"], &answer.body["errors"])
    };
    let mut lines: Vec<String> = message.as_str().map(str::to_owned).into_iter().collect();
    if let Some(list) = list.as_array() {
        lines.extend(list.iter().map(|line| line.as_str().unwrap().to_owned()));
    }
    lines
}

async fn refuse_all(intake: &Intake, path: &str, cases: Vec<Bad>) {
    for case in cases {
        assert!(
            !case.says.is_empty(),
            "{}: say what the answer says",
            case.what
        );
        let before = intake.stored_count().await;
        let answer = intake
            .send(
                &format!("{path}{}", case.query),
                case.key,
                case.body,
                case.content_type,
            )
            .await;
        let what = format!("{path} {}: {answer:?}", case.what);
        assert_eq!(answer.status.as_u16(), case.status, "{what}");
        if path == PAGERDUTY {
            assert_eq!(answer.body["status"], case.code, "{what}");
        } else {
            answer.expect(case.status, case.code);
        }
        let explanation = explanation(&answer);
        assert!(
            explanation.iter().any(|line| line.contains(case.says)),
            "the answer should say '{}': {what}",
            case.says
        );
        assert_eq!(intake.stored_count().await, before, "stored: {what}");
    }
}

/// A body over the 512 KiB intake limit; valid JSON apart from its size.
fn oversized(body: &Value, pointer: &str) -> String {
    set(body, pointer, json!("x".repeat(600 * KIB)))
}

#[tokio::test]
async fn alertmanager_bad_input_is_refused_and_nothing_is_stored() {
    let intake = Intake::start().await;
    let good = notification(&[firing_pool_drain()]);
    let key = Some(PROMETHEUS_KEY);
    let cases = vec![
        Bad::new("no key", None, good.to_string()).answers(
            401,
            "missing-key",
            "Authorization: Bearer KEY",
        ),
        Bad::new("a wrong key", Some("not-a-key"), good.to_string()).answers(
            401,
            "unknown-key",
            "alertmanager integration",
        ),
        Bad::new("a wrong ?key=", None, good.to_string())
            .query("?key=not-a-key".to_owned())
            .answers(401, "unknown-key", "alertmanager integration"),
        Bad::new(
            "a PagerDuty routing key",
            Some(GRAFANA_KEY),
            good.to_string(),
        )
        .answers(401, "unknown-key", "alertmanager integration"),
        Bad::new("a webhook key", None, good.to_string())
            .query(format!("?key={CHAIN_WATCH_KEY}"))
            .answers(401, "unknown-key", "alertmanager integration"),
        Bad::new(
            "malformed JSON",
            key,
            r#"{"version": "4", "alerts": ["#.to_owned(),
        )
        .answers(400, "invalid-payload", "not JSON"),
        Bad::new("an empty body", key, String::new()).answers(400, "invalid-payload", "not JSON"),
        Bad::new("an array", key, json!([good]).to_string()).answers(
            400,
            "invalid-payload",
            "must be a JSON object",
        ),
        Bad::new("alerts as a string", key, set(&good, "/alerts", json!("x"))).answers(
            400,
            "invalid-payload",
            "alerts: expected an array, found a string",
        ),
        Bad::new("no alerts", key, without(&good, "/alerts")).answers(
            400,
            "invalid-payload",
            "alerts: missing",
        ),
        Bad::new("status as a number", key, set(&good, "/status", json!(5))).answers(
            400,
            "invalid-payload",
            "status: expected firing or resolved, found a number",
        ),
        Bad::new("another version", key, set(&good, "/version", json!("3"))).answers(
            400,
            "invalid-payload",
            "version: '3' is not supported",
        ),
        Bad::new("no version", key, without(&good, "/version")).answers(
            400,
            "invalid-payload",
            "version: missing",
        ),
        Bad::new(
            "an alert status of neither",
            key,
            set(&good, "/alerts/0/status", json!("exploded")),
        )
        .answers(400, "invalid-payload", "alerts[0].status: 'exploded'"),
        Bad::new(
            "an alert without labels",
            key,
            without(&good, "/alerts/0/labels"),
        )
        .answers(400, "invalid-payload", "alerts[0].labels: missing"),
        Bad::new(
            "a label that is not a string",
            key,
            set(&good, "/alerts/0/labels/severity", json!(1)),
        )
        .answers(
            400,
            "invalid-payload",
            "alerts[0].labels.severity: expected a string",
        ),
        Bad::new(
            "a start that is not a time",
            key,
            set(&good, "/alerts/0/startsAt", json!("yesterday")),
        )
        .answers(
            400,
            "invalid-payload",
            "alerts[0].startsAt: 'yesterday' is not an RFC 3339 time",
        ),
        Bad::new(
            "a good alert beside a bad one",
            key,
            notification(&[firing_pool_drain(), json!({"status": "firing"})]).to_string(),
        )
        .answers(400, "invalid-payload", "alerts[1].labels: missing"),
        Bad::new("text/plain", key, good.to_string())
            .content_type(Some("text/plain"))
            .answers(415, "unsupported-media-type", "application/json"),
        Bad::new("a form", key, good.to_string())
            .content_type(Some("application/x-www-form-urlencoded"))
            .answers(415, "unsupported-media-type", "application/json"),
        Bad::new(
            "a body over 512 KiB",
            key,
            oversized(&good, "/alerts/0/annotations/description"),
        )
        .answers(413, "body-too-large", "512 KiB"),
    ];
    refuse_all(&intake, ALERTMANAGER, cases).await;

    // Every problem of a body is listed, each with its path.
    let answer = intake
        .send(
            ALERTMANAGER,
            key,
            set(
                &serde_json::from_str(&set(&good, "/alerts/0/startsAt", json!(7))).unwrap(),
                "/alerts/0/status",
                json!(null),
            ),
            JSON,
        )
        .await;
    answer.expect(400, "invalid-payload");
    assert_eq!(
        answer.body["error"]["problems"],
        json!([
            "alerts[0].status: expected firing or resolved, found null",
            "alerts[0].startsAt: expected an RFC 3339 time, found a number"
        ]),
        "{answer:?}"
    );
    assert!(
        answer.message().contains("nothing was stored"),
        "{answer:?}"
    );
    assert_eq!(intake.stored_count().await, 0);

    // The endpoint still works.
    let answer = intake.post(ALERTMANAGER, key, &good).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(intake.stored_count().await, 1);
    intake.server.stop().await;
}

#[tokio::test]
async fn webhook_bad_input_is_refused_and_nothing_is_stored() {
    let intake = Intake::start().await;
    let good = findings(&[pool_finding()]);
    let key = Some(CHAIN_WATCH_KEY);
    let cases = vec![
        Bad::new("no key", None, good.to_string()).answers(
            401,
            "missing-key",
            "Authorization: Bearer KEY",
        ),
        Bad::new("a wrong key", Some("not-a-key"), good.to_string()).answers(
            401,
            "unknown-key",
            "webhook integration",
        ),
        Bad::new(
            "an Alertmanager key",
            Some(PROMETHEUS_KEY),
            good.to_string(),
        )
        .answers(401, "unknown-key", "webhook integration"),
        Bad::new("a PagerDuty routing key", None, good.to_string())
            .query(format!("?key={GRAFANA_KEY}"))
            .answers(401, "unknown-key", "webhook integration"),
        Bad::new(
            "malformed JSON",
            key,
            r#"{"findings": [{"id": 1"#.to_owned(),
        )
        .answers(400, "invalid-payload", "not JSON"),
        Bad::new("an empty body", key, String::new()).answers(400, "invalid-payload", "not JSON"),
        Bad::new(
            "findings as a string",
            key,
            set(&good, "/findings", json!("x")),
        )
        .answers(
            400,
            "invalid-payload",
            "alerts at /findings: expected an array, found a string",
        ),
        Bad::new("no findings", key, without(&good, "/findings")).answers(
            400,
            "invalid-payload",
            "alerts at /findings: missing",
        ),
        Bad::new(
            "a finding without id",
            key,
            without(&good, "/findings/0/id"),
        )
        .answers(400, "invalid-payload", "key at /findings/0/id: missing"),
        Bad::new("a blank id", key, set(&good, "/findings/0/id", json!("  "))).answers(
            400,
            "invalid-payload",
            "key at /findings/0/id: empty",
        ),
        Bad::new(
            "a title that is an object",
            key,
            set(&good, "/findings/0/title", json!({"text": "x"})),
        )
        .answers(
            400,
            "invalid-payload",
            "summary at /findings/0/title: expected text or a number, found an object",
        ),
        Bad::new(
            "a severity that is a list",
            key,
            set(&good, "/findings/0/severity", json!(["high"])),
        )
        .answers(
            400,
            "invalid-payload",
            "severity at /findings/0/severity: expected text",
        ),
        Bad::new(
            "a label that is an object",
            key,
            set(&good, "/findings/0/contract/name", json!({})),
        )
        .answers(
            400,
            "invalid-payload",
            "label contract at /findings/0/contract/name",
        ),
        Bad::new(
            "a link that is a number",
            key,
            set(&good, "/findings/0/explorer_url", json!(7)),
        )
        .answers(
            400,
            "invalid-payload",
            "link at /findings/0/explorer_url: expected a URL",
        ),
        Bad::new(
            "a good finding beside a bad one",
            key,
            findings(&[pool_finding(), json!({"id": "f-2"})]).to_string(),
        )
        .answers(
            400,
            "invalid-payload",
            "summary at /findings/1/title: missing",
        ),
        Bad::new("text/plain", key, good.to_string())
            .content_type(Some("text/plain"))
            .answers(415, "unsupported-media-type", "application/json"),
        Bad::new(
            "a body over 512 KiB",
            key,
            oversized(&good, "/findings/0/trace"),
        )
        .answers(413, "body-too-large", "512 KiB"),
    ];
    refuse_all(&intake, WEBHOOK, cases).await;

    let answer = intake.post(WEBHOOK, key, &good).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(intake.stored_count().await, 1);
    intake.server.stop().await;
}

#[tokio::test]
async fn pagerduty_bad_input_is_refused_and_nothing_is_stored() {
    let intake = Intake::start().await;
    let good = pagerduty_trigger(GRAFANA_KEY);
    let invalid = "invalid event";
    let cases = vec![
        Bad::new("no routing_key", None, without(&good, "/routing_key")).answers(
            400,
            invalid,
            "'routing_key' is missing or blank",
        ),
        Bad::new(
            "a wrong routing_key",
            None,
            set(&good, "/routing_key", json!("not-a-key")),
        )
        .answers(400, invalid, "'routing_key' is not the routing key"),
        Bad::new(
            "an Alertmanager key",
            None,
            set(&good, "/routing_key", json!(PROMETHEUS_KEY)),
        )
        .answers(400, invalid, "'routing_key' is not the routing key"),
        Bad::new(
            "a webhook key",
            None,
            set(&good, "/routing_key", json!(CHAIN_WATCH_KEY)),
        )
        .answers(400, invalid, "'routing_key' is not the routing key"),
        Bad::new(
            "a routing key that is a number",
            None,
            set(&good, "/routing_key", json!(12)),
        )
        .answers(400, invalid, "'routing_key' must be a string"),
        Bad::new(
            "malformed JSON",
            None,
            r#"{"routing_key": "x", "#.to_owned(),
        )
        .answers(400, invalid, "JSON parse error"),
        Bad::new("an empty body", None, String::new()).answers(400, invalid, "JSON parse error"),
        Bad::new("an array", None, json!([good]).to_string()).answers(
            400,
            invalid,
            "must be a JSON object",
        ),
        Bad::new(
            "event_action explode",
            None,
            set(&good, "/event_action", json!("explode")),
        )
        .answers(
            400,
            invalid,
            "'event_action' must be one of trigger, acknowledge, resolve",
        ),
        Bad::new("no payload", None, without(&good, "/payload")).answers(
            400,
            invalid,
            "'payload' is missing",
        ),
        Bad::new(
            "no payload.summary",
            None,
            without(&good, "/payload/summary"),
        )
        .answers(400, invalid, "'payload.summary' is missing or blank"),
        Bad::new(
            "payload.summary as a number",
            None,
            set(&good, "/payload/summary", json!(5)),
        )
        .answers(400, invalid, "'payload.summary' must be a string"),
        Bad::new(
            "a summary over 1024 characters",
            None,
            set(&good, "/payload/summary", json!("s".repeat(1025))),
        )
        .answers(400, invalid, "Length of 'payload.summary'"),
        Bad::new("no payload.source", None, without(&good, "/payload/source")).answers(
            400,
            invalid,
            "'payload.source' is missing or blank",
        ),
        Bad::new(
            "severity fatal",
            None,
            set(&good, "/payload/severity", json!("fatal")),
        )
        .answers(
            400,
            invalid,
            "'payload.severity' must be one of critical, error, warning, info",
        ),
        Bad::new(
            "a timestamp that is not a time",
            None,
            set(&good, "/payload/timestamp", json!("yesterday")),
        )
        .answers(
            400,
            invalid,
            "'payload.timestamp' must be an ISO 8601 date-time",
        ),
        Bad::new(
            "a resolve without dedup_key",
            None,
            json!({"routing_key": GRAFANA_KEY, "event_action": "resolve"}).to_string(),
        )
        .answers(
            400,
            invalid,
            "'dedup_key' is missing or blank; it is required to acknowledge or resolve",
        ),
        Bad::new(
            "a dedup_key over 255 characters",
            None,
            set(&good, "/dedup_key", json!("k".repeat(256))),
        )
        .answers(400, invalid, "Length of 'dedup_key'"),
        Bad::new("links as a string", None, set(&good, "/links", json!("x"))).answers(
            400,
            invalid,
            "'links' must be an array",
        ),
        Bad::new(
            "a link without href",
            None,
            set(&good, "/links", json!([{"text": "tx"}])),
        )
        .answers(400, invalid, "'links[0].href' is missing or blank"),
        Bad::new("text/plain", None, good.to_string())
            .content_type(Some("text/plain"))
            .answers(415, invalid, "application/json"),
        Bad::new(
            "a body over 512 KiB",
            None,
            oversized(&good, "/payload/custom_details/log"),
        )
        .answers(413, invalid, "512 KiB"),
    ];
    refuse_all(&intake, PAGERDUTY, cases).await;

    // Every problem is listed.
    let event = json!({
        "routing_key": GRAFANA_KEY,
        "event_action": "trigger",
        "payload": {"source": "x", "severity": "fatal"}
    });
    let answer = intake.post(PAGERDUTY, None, &event).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
    assert_eq!(
        answer.body,
        json!({
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": [
                "'payload.summary' is missing or blank",
                "'payload.severity' must be one of critical, error, warning, info"
            ]
        })
    );
    assert_eq!(intake.stored_count().await, 0);

    let answer = intake.post(PAGERDUTY, None, &good).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(intake.stored_count().await, 1);
    intake.server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Rate limits

/// One endpoint's limited integration, and a distinct valid body for each number.
struct Limited {
    path: &'static str,
    key: Option<&'static str>,
    integration: &'static str,
    body: fn(usize) -> Value,
}

fn limited() -> [Limited; 3] {
    [
        Limited {
            path: ALERTMANAGER,
            key: Some(PROMETHEUS_LIMITED_KEY),
            integration: "prometheus-limited",
            body: numbered_notification,
        },
        Limited {
            path: WEBHOOK,
            key: Some(CHAIN_WATCH_LIMITED_KEY),
            integration: "chain-watch-limited",
            body: numbered_findings,
        },
        Limited {
            path: PAGERDUTY,
            key: None,
            integration: "grafana-limited",
            body: |n| numbered_trigger(GRAFANA_LIMITED_KEY, n),
        },
    ]
}

#[tokio::test]
async fn over_the_rate_limit_is_429_with_retry_after_and_keeps_what_came_before() {
    let intake = Intake::start().await;
    for limited in limited() {
        let of_integration = |stored: &[Value]| -> Vec<Value> {
            stored
                .iter()
                .filter(|alert| alert["integration"] == limited.integration)
                .map(|alert| alert["key"].clone())
                .collect()
        };
        // Refused payloads use none of the allowance.
        for _ in 0..3 {
            let answer = intake
                .send(limited.path, limited.key, "{".to_owned(), JSON)
                .await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
        }
        for n in 1..=2 {
            let answer = intake
                .post(limited.path, limited.key, &(limited.body)(n))
                .await;
            assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
        }
        let kept = of_integration(&intake.stored().await);
        assert_eq!(kept.len(), 2, "{kept:?}");

        let before = intake.stored_count().await;
        let answer = intake
            .post(limited.path, limited.key, &(limited.body)(3))
            .await;
        let what = format!("{}: {answer:?}", limited.path);
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS, "{what}");
        // Two a minute: the next alert is allowed 30 s later.
        assert_eq!(answer.headers[RETRY_AFTER], "30", "{what}");
        if limited.path == PAGERDUTY {
            assert_eq!(answer.body["status"], "throttle event", "{what}");
            assert!(
                answer.body["message"]
                    .as_str()
                    .unwrap()
                    .contains("retry later"),
                "{what}"
            );
        } else {
            answer.expect(429, "rate-limited");
            assert!(answer.message().contains(limited.integration), "{what}");
            assert!(answer.message().contains("2/m"), "{what}");
            assert!(answer.message().contains("retry after 30 s"), "{what}");
        }
        // Nothing of the refused request is kept; what came before is.
        assert_eq!(intake.stored_count().await, before, "{what}");
        assert_eq!(of_integration(&intake.stored().await), kept, "{what}");
    }

    // The other integration of each kind has no limit and is not held back.
    let answer = intake
        .post(
            ALERTMANAGER,
            Some(PROMETHEUS_KEY),
            &numbered_notification(9),
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    let answer = intake
        .post(WEBHOOK, Some(CHAIN_WATCH_KEY), &numbered_findings(9))
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    let answer = intake
        .post(PAGERDUTY, None, &numbered_trigger(GRAFANA_KEY, 9))
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");

    // After the Retry-After, one more is accepted, and then the limit holds again.
    intake.clock.advance(30_000);
    for limited in limited() {
        let answer = intake
            .post(limited.path, limited.key, &(limited.body)(3))
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
        let answer = intake
            .post(limited.path, limited.key, &(limited.body)(4))
            .await;
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS, "{answer:?}");
    }
    assert_eq!(intake.stored_count().await, 3 * 3 + 3);

    // A notification bigger than the whole allowance (three alerts, two a minute) is not refused
    // forever: it passes once the allowance is full, and what follows waits for the debt.
    intake.clock.advance(60_000);
    let group: Vec<Value> = (10..13)
        .map(|n| {
            let mut alert = firing_pool_drain();
            alert["fingerprint"] = json!(format!("{n:016x}"));
            alert
        })
        .collect();
    let answer = intake
        .post(
            ALERTMANAGER,
            Some(PROMETHEUS_LIMITED_KEY),
            &notification(&group),
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!(intake.stored_count().await, 3 * 3 + 3 + 3);
    let answer = intake
        .post(
            ALERTMANAGER,
            Some(PROMETHEUS_LIMITED_KEY),
            &numbered_notification(20),
        )
        .await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS, "{answer:?}");
    assert_eq!(answer.headers[RETRY_AFTER], "60", "{answer:?}");
    intake.server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Acknowledge links

/// Declares a P1 incident through the API; returns its id.
async fn declare(intake: &Intake) -> String {
    let answer = intake
        .server
        .post(
            "/api/incidents",
            &intake.server.responder,
            &json!({"title": "Pool drained", "severity": "P1", "category": "protocol"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
    answer.body["incident"]["id"].as_str().unwrap().to_owned()
}

async fn link(intake: &Intake, incident: &str, person: &str) -> String {
    intake
        .server
        .engine
        .ack_link(incident, &PersonId(person.to_owned()))
        .await
        .unwrap()
}

/// Whether the incident is acknowledged, and how many events it has.
async fn ack_state(intake: &Intake, incident: &str) -> (bool, usize) {
    let view = intake
        .server
        .engine
        .incident(&incident.parse().unwrap())
        .await
        .unwrap();
    (
        view.incident.acknowledged_at.is_some(),
        intake.server.timeline_len(incident).await,
    )
}

async fn open(intake: &Intake, method: Method, token: &str) -> Answer {
    intake
        .server
        .send(method, &format!("/ack/{token}"), None, None, None)
        .await
}

fn page(answer: &Answer) -> &str {
    answer.body.as_str().unwrap_or_default()
}

#[tokio::test]
async fn ack_links_acknowledge_once_and_only_by_post() {
    let intake = Intake::start().await;
    let id = declare(&intake).await;
    let token = link(&intake, &id, "alice").await;
    let (acknowledged, events) = ack_state(&intake, &id).await;
    assert!(!acknowledged);

    // Opening the link (as a chat app's preview does) shows a button and changes nothing.
    for _ in 0..2 {
        let answer = open(&intake, Method::GET, &token).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        assert!(page(&answer).contains(&id), "{answer:?}");
        assert!(page(&answer).contains("alice"), "{answer:?}");
        assert!(
            page(&answer).contains("<form method=\"post\">"),
            "{answer:?}"
        );
        assert_eq!(ack_state(&intake, &id).await, (false, events));
    }

    let answer = open(&intake, Method::POST, &token).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert!(
        page(&answer).contains(&format!("{id} is acknowledged")),
        "{answer:?}"
    );
    let (acknowledged, after) = ack_state(&intake, &id).await;
    assert!(acknowledged);
    assert!(after > events, "{after} > {events}");
    let timeline = intake
        .server
        .engine
        .timeline(&id.parse().unwrap())
        .await
        .unwrap();
    let acknowledgements: Vec<_> = timeline
        .iter()
        .filter(|event| matches!(event.kind, EventKind::Acknowledged { .. }))
        .collect();
    assert_eq!(acknowledgements.len(), 1, "{timeline:#?}");
    assert_eq!(
        acknowledgements[0].kind,
        EventKind::Acknowledged {
            person: Some(PersonId("alice".to_owned()))
        }
    );
    assert_eq!(acknowledgements[0].actor, "alice");

    // Used again: refused, nothing appended.
    for _ in 0..2 {
        let answer = open(&intake, Method::POST, &token).await;
        assert_eq!(answer.status, StatusCode::CONFLICT, "{answer:?}");
        assert!(page(&answer).contains("Not acknowledged"), "{answer:?}");
        assert!(
            page(&answer).contains(&format!("{id} was already acknowledged")),
            "{answer:?}"
        );
        assert_eq!(ack_state(&intake, &id).await, (true, after));
    }
    // Opened again, the link says it is done and offers no button.
    let answer = open(&intake, Method::GET, &token).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert!(
        page(&answer).contains(&format!("{id} was already acknowledged at ")),
        "{answer:?}"
    );
    assert!(!page(&answer).contains("<form"), "{answer:?}");
    // Another person's link finds it acknowledged as well.
    let bob = link(&intake, &id, "bob").await;
    let answer = open(&intake, Method::POST, &bob).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{answer:?}");
    assert_eq!(ack_state(&intake, &id).await, (true, after));
    intake.server.stop().await;
}

#[tokio::test]
async fn forged_tampered_and_expired_links_are_403_and_change_nothing() {
    let intake = Intake::start().await;
    let id = declare(&intake).await;
    let alice = link(&intake, &id, "alice").await;
    let bob = link(&intake, &id, "bob").await;
    intake.clock.advance(60_000);
    let alice_later = link(&intake, &id, "alice").await;
    let before = ack_state(&intake, &id).await;
    assert!(!before.0);

    let (alice_payload, alice_signature) = alice.split_once('.').unwrap();
    let (bob_payload, _) = bob.split_once('.').unwrap();
    let (later_payload, _) = alice_later.split_once('.').unwrap();
    let mut flipped = alice_signature.to_owned();
    let first = if flipped.starts_with('A') { "B" } else { "A" };
    flipped.replace_range(0..1, first);
    let forged = [
        ("a changed signature", format!("{alice_payload}.{flipped}")),
        ("no signature", format!("{alice_payload}.")),
        ("only a payload", alice_payload.to_owned()),
        (
            "another person's payload",
            format!("{bob_payload}.{alice_signature}"),
        ),
        (
            "a later expiry",
            format!("{later_payload}.{alice_signature}"),
        ),
        ("not base64", "%21%21%21.%21%21%21".to_owned()),
        ("garbage", "not-a-link".to_owned()),
    ];
    for (what, token) in &forged {
        for method in [Method::GET, Method::POST] {
            let answer = open(&intake, method.clone(), token).await;
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "{what} {method}: {answer:?}"
            );
            assert!(
                page(&answer).contains("not one Muster made"),
                "{what} {method}: {answer:?}"
            );
            assert_eq!(ack_state(&intake, &id).await, before, "{what} {method}");
        }
    }

    // A link expires after its lifetime.
    intake.clock.advance(LINK_LIFETIME_MS - 60_000 + 1);
    for method in [Method::GET, Method::POST] {
        let answer = open(&intake, method.clone(), &alice).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method}: {answer:?}");
        assert!(page(&answer).contains("expired"), "{method}: {answer:?}");
        assert_eq!(ack_state(&intake, &id).await, before, "{method}");
    }
    // The link made a minute later still works until its own expiry.
    let answer = open(&intake, Method::POST, &alice_later).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert!(ack_state(&intake, &id).await.0);

    // A genuine link to an incident that does not exist acknowledges nothing.
    let nowhere = link(&intake, "INC-20260302-099", "alice").await;
    let answer = open(&intake, Method::POST, &nowhere).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{answer:?}");
    assert!(
        page(&answer).contains("there is no incident INC-20260302-099"),
        "{answer:?}"
    );
    intake.server.stop().await;
}
