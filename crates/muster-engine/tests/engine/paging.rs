//! Alerts in, people paged, on both backends, with a controllable clock: a storm of one outage
//! becomes one incident and one page; nobody acknowledging escalates to the next level on time;
//! acknowledging stops the ladder; timers fire once even when two instances race for them;
//! acknowledge links work once and forged ones do not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use muster_core::access::Role;
use muster_core::alert::{Alert, AlertAction};
use muster_core::incident::Command;
use muster_core::incident::{EventKind, IncidentId, NotifyOutcome};
use muster_engine::{Engine, EngineOptions, ManualClock, Principal, RunningPlan};
use muster_store::{AnyStore, IncidentFilter, Work};

use crate::T0;

const HOOK_SECRET: &str = "hook-secret-for-tests";
const MINUTE: i64 = 60_000;

/// A webhook receiver that records what it is sent.
#[derive(Clone, Default)]
pub(crate) struct Hook {
    pub(crate) received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
}

impl Hook {
    pub(crate) async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .route(
                "/hook",
                axum::routing::post(
                    |State(hook): State<Hook>, headers: HeaderMap, body: Bytes| async move {
                        hook.received.lock().unwrap().push((headers, body));
                        "ok"
                    },
                ),
            )
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}/hook")
    }

    pub(crate) fn bodies(&self) -> Vec<serde_json::Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|(_, body)| serde_json::from_slice(body).unwrap())
            .collect()
    }
}

const PLAN: &str = include_str!("fixtures/paging.yaml");

fn plan_with_hook(url: &str, dir: &std::path::Path) -> RunningPlan {
    plan_from(PLAN, url, dir)
}

fn plan_from(text: &str, url: &str, dir: &std::path::Path) -> RunningPlan {
    let text = text.replace("http://127.0.0.1:9/hook", url);
    let path = dir.join("plan.yaml");
    std::fs::write(&path, text).unwrap();
    let (_, loaded) =
        muster_engine::plan_files::load(&path, jiff::Timestamp::from_millisecond(T0).unwrap())
            .unwrap();
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == muster_core::diagnostic::Severity::Error)
        .map(ToString::to_string)
        .collect();
    assert!(errors.is_empty(), "the fixture plan is clean: {errors:#?}");
    RunningPlan {
        plan: loaded.clean_plan().cloned().unwrap(),
        path: Some(path),
        loaded_at: T0,
        warnings: loaded.diagnostics,
    }
}

fn options(instance: &str) -> EngineOptions {
    let secrets: HashMap<&str, &str> = [
        ("PAGER_HOOK_SECRET", HOOK_SECRET),
        ("PROMETHEUS_KEY", "prom-key"),
    ]
    .into_iter()
    .collect();
    EngineOptions {
        instance: instance.to_owned(),
        public_url: "https://muster.example".to_owned(),
        secrets: Arc::new(move |name| secrets.get(name).map(|value| (*value).to_owned())),
        ..EngineOptions::default()
    }
}

pub(crate) struct Setup {
    pub(crate) engine: Arc<Engine>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) hook: Hook,
    pub(crate) _dir: tempfile::TempDir,
}

async fn setup(url: &str) -> Setup {
    setup_from(url, PLAN).await
}

pub(crate) async fn setup_from(url: &str, plan: &str) -> Setup {
    let hook = Hook::default();
    let hook_url = hook.start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = plan_from(plan, &hook_url, dir.path());
    let store = AnyStore::open(url).await.unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let engine = Arc::new(Engine::with_options(
        store,
        running,
        clock.clone(),
        options("one"),
    ));
    Setup {
        engine,
        clock,
        hook,
        _dir: dir,
    }
}

fn alert(name: &str, instance: usize, action: AlertAction) -> Alert {
    let labels = [
        ("alertname".to_owned(), name.to_owned()),
        ("instance".to_owned(), format!("node-{instance}")),
        ("integration".to_owned(), "prometheus".to_owned()),
    ]
    .into_iter()
    .collect();
    Alert {
        integration: "prometheus".to_owned(),
        key: format!("{name}-{instance}"),
        action,
        summary: format!("{name} on node-{instance}"),
        severity: Some("critical".to_owned()),
        labels,
        details: serde_json::Value::Null,
        starts_at: Some(T0 - MINUTE),
        ends_at: None,
        links: Vec::new(),
        dedup: Some(format!("{name}-{instance}-{}", action.as_str())),
    }
}

async fn drain(engine: &Engine) {
    while engine.process_alerts().await.unwrap() > 0 {}
}

pub(crate) fn kinds(events: &[muster_core::incident::Event]) -> Vec<&'static str> {
    events.iter().map(|event| event.kind.name()).collect()
}

async fn only_incident(engine: &Engine) -> IncidentId {
    let page = engine.list(&IncidentFilter::default()).await.unwrap();
    assert_eq!(page.total, 1, "one incident: {:?}", page.incidents);
    page.incidents[0].id.clone()
}

async fn storm_escalation_and_ack(url: &str) {
    let Setup {
        engine,
        clock,
        hook,
        _dir,
    } = setup(url).await;
    let integration = engine
        .plan()
        .plan
        .integration("prometheus")
        .unwrap()
        .clone();

    // 5,000 alerts of one outage, in bursts as Alertmanager would send them.
    let storm: Vec<Alert> = (0..5_000)
        .map(|n| alert("PoolDrain", n, AlertAction::Trigger))
        .collect();
    for chunk in storm.chunks(500) {
        let accepted = engine.accept_alerts(&integration, chunk).await.unwrap();
        assert_eq!(accepted.len(), chunk.len());
    }
    // A resend of the same notification is recognised and not stored twice.
    let again = engine
        .accept_alerts(&integration, &storm[..10])
        .await
        .unwrap();
    assert!(
        again
            .iter()
            .all(|outcome| *outcome == muster_store::Accepted::Duplicate)
    );
    drain(&engine).await;

    let id = only_incident(&engine).await;
    let view = engine.incident(&id).await.unwrap();
    assert_eq!(view.incident.alert_count, 5_000);
    assert_eq!(view.incident.severity.as_str(), "P1");
    let timeline = engine.timeline(&id).await.unwrap();
    let names = kinds(&timeline);
    assert_eq!(names[0], "declared");
    assert_eq!(
        names.iter().filter(|name| **name == "escalated").count(),
        1,
        "the first level pages once, in the declaring transaction: {names:?}"
    );

    // Exactly one page goes out for the whole storm: alice, through the signed webhook.
    engine.deliver_due().await.unwrap();
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 1, "one page for 5,000 alerts: {bodies:#?}");
    assert_eq!(bodies[0]["incident"], id.to_string());
    {
        let received = hook.received.lock().unwrap();
        let (headers, body) = &received[0];
        let timestamp = headers["x-muster-timestamp"].to_str().unwrap();
        let signature = headers["x-muster-signature"].to_str().unwrap();
        muster_notify::verify_signature(
            HOOK_SECRET.as_bytes(),
            timestamp,
            body,
            signature,
            timestamp.parse().unwrap(),
            std::time::Duration::from_mins(5),
        )
        .expect("the page is signed with the channel's secret");
    }
    let timeline = engine.timeline(&id).await.unwrap();
    assert!(timeline.iter().any(|event| matches!(
        &event.kind,
        EventKind::Notified { outcome: NotifyOutcome::Sent, person: Some(person), .. } if person.as_str() == "alice"
    )));

    // Nothing more is due: sending again sends nothing.
    engine.deliver_due().await.unwrap();
    assert_eq!(hook.bodies().len(), 1);

    // Five minutes without acknowledgement: level 2 (bob) is paged, once.
    clock.advance(5 * MINUTE);
    engine.fire_due_timers().await.unwrap();
    engine.fire_due_timers().await.unwrap();
    engine.deliver_due().await.unwrap();
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 2, "{bodies:#?}");
    assert_eq!(bodies[1]["headline"], "Paged: escalation level 2 of 2");
    let view = engine.incident(&id).await.unwrap();
    assert_eq!(view.incident.escalation, Some((2, 1)));

    // Ten minutes: the acknowledgement SLA is missed and recorded.
    clock.advance(5 * MINUTE);
    engine.fire_due_timers().await.unwrap();
    let names = kinds(&engine.timeline(&id).await.unwrap());
    assert_eq!(
        names.iter().filter(|name| **name == "ack_overdue").count(),
        1
    );

    // Bob acknowledges through the link in his message; the link cannot be used twice.
    let link = bodies[1]["ack_url"].as_str().unwrap();
    let token = link.rsplit('/').next().unwrap();
    engine.acknowledge_by_link(token).await.unwrap();
    let replay = engine.acknowledge_by_link(token).await.unwrap_err();
    assert_eq!(replay.code(), "already-acknowledged");
    let mut forged = token.to_owned();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(
        engine
            .acknowledge_by_link(&forged)
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    let view = engine.incident(&id).await.unwrap();
    assert!(view.incident.acknowledged_at.is_some());

    // More alerts of the same outage join the open incident; no new page.
    let more: Vec<Alert> = (5_000..5_010)
        .map(|n| alert("PoolDrain", n, AlertAction::Trigger))
        .collect();
    engine.accept_alerts(&integration, &more).await.unwrap();
    drain(&engine).await;
    assert_eq!(only_incident(&engine).await, id);
    assert_eq!(
        engine.incident(&id).await.unwrap().incident.alert_count,
        5_010
    );
    engine.deliver_due().await.unwrap();
    assert_eq!(hook.bodies().len(), 2);

    // After the acknowledgement the ladder is stopped for good.
    clock.advance(60 * MINUTE);
    engine.fire_due_timers().await.unwrap();
    let names = kinds(&engine.timeline(&id).await.unwrap());
    assert_eq!(names.iter().filter(|name| **name == "escalated").count(), 2);
    assert_eq!(engine.verify_audit().await.unwrap().broken.len(), 0);
}

async fn timers_fire_once_with_two_instances(url: &str) {
    let first = setup(url).await;
    let running = plan_with_hook(
        &first.hook.start().await,
        &tempfile::tempdir().unwrap().keep(),
    );
    let second = Arc::new(Engine::with_options(
        AnyStore::open(url).await.unwrap(),
        running,
        first.clock.clone(),
        options("two"),
    ));
    let integration = first
        .engine
        .plan()
        .plan
        .integration("prometheus")
        .unwrap()
        .clone();
    first
        .engine
        .accept_alerts(&integration, &[alert("PoolDrain", 1, AlertAction::Trigger)])
        .await
        .unwrap();
    // Both instances try to process; the lease lets one do it.
    let (a, b) = tokio::join!(first.engine.process_alerts(), second.process_alerts());
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    let id = only_incident(&first.engine).await;
    first.clock.advance(5 * MINUTE);
    let (a, b) = tokio::join!(first.engine.fire_due_timers(), second.fire_due_timers());
    a.unwrap();
    b.unwrap();
    let (a, b) = tokio::join!(first.engine.fire_due_timers(), second.fire_due_timers());
    a.unwrap();
    b.unwrap();
    let names = kinds(&first.engine.timeline(&id).await.unwrap());
    assert_eq!(
        names.iter().filter(|name| **name == "escalated").count(),
        2,
        "level 1 at declaration, level 2 once: {names:?}"
    );
}

/// Two incidents a few seconds apart page alice twice. By default she hears once a minute and
/// the second page is folded into her next message; a webhook with `throttle: 0s` (a machine
/// receiver) gets both at once.
async fn throttle_per_contact(url: &str) {
    let admin = Principal {
        name: "test".into(),
        role: Role::Admin,
        person: None,
    };
    let declare = |title: &str| Command::Declare {
        title: title.into(),
        scenario: None,
        severity: Some("P1".into()),
        urgent: None,
        important: None,
        category: Some("protocol".into()),
        summary: None,
        started_at: None,
        detected_at: None,
        drill: false,
        tags: Vec::new(),
    };
    let unthrottled = PLAN.replace(
        "secret_env: PAGER_HOOK_SECRET",
        "secret_env: PAGER_HOOK_SECRET\n    throttle: 0s",
    );
    for (plan, immediate) in [(PLAN.to_owned(), false), (unthrottled, true)] {
        let Setup {
            engine,
            clock,
            hook,
            _dir,
        } = setup_from(url, &plan).await;
        let first = engine
            .declare(&admin, &declare("Keeper stalled"))
            .await
            .unwrap();
        engine.deliver_due().await.unwrap();
        clock.advance(5_000);
        let second = engine
            .declare(&admin, &declare("Oracle stale"))
            .await
            .unwrap();
        engine.deliver_due().await.unwrap();
        let bodies = hook.bodies();
        if immediate {
            assert_eq!(bodies.len(), 2, "{bodies:#?}");
            assert_eq!(bodies[1]["incident"], second.incident.id.to_string());
            assert_eq!(bodies[1]["folded"], 0);
        } else {
            assert_eq!(bodies.len(), 1, "the second page waits: {bodies:#?}");
            assert_eq!(bodies[0]["incident"], first.incident.id.to_string());
            // A minute after the first message, the waiting page goes out.
            clock.advance(55_000);
            engine.deliver_due().await.unwrap();
            let bodies = hook.bodies();
            assert_eq!(bodies.len(), 2, "{bodies:#?}");
            assert_eq!(bodies[1]["incident"], second.incident.id.to_string());
        }
    }
}

async fn resolved_alerts_and_heartbeat(url: &str) {
    let Setup { engine, clock, .. } = setup(url).await;
    let integration = engine
        .plan()
        .plan
        .integration("prometheus")
        .unwrap()
        .clone();
    engine
        .accept_alerts(
            &integration,
            &[
                alert("PoolDrain", 1, AlertAction::Trigger),
                alert("Watchdog", 0, AlertAction::Trigger),
            ],
        )
        .await
        .unwrap();
    drain(&engine).await;
    let id = only_incident(&engine).await;
    engine
        .accept_alerts(&integration, &[alert("PoolDrain", 1, AlertAction::Resolve)])
        .await
        .unwrap();
    drain(&engine).await;
    let names = kinds(&engine.timeline(&id).await.unwrap());
    assert!(names.contains(&"alerts_resolved"), "{names:?}");
    let alerts = engine
        .store()
        .alerts(&muster_store::AlertFilter {
            incident: Some(id.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].status, "resolved");
    assert_eq!(alerts[0].occurrences, 2);

    // The watchdog goes quiet: after its interval an incident says so, once.
    clock.advance(5 * MINUTE + 1);
    engine.fire_due_timers().await.unwrap();
    let page = engine.list(&IncidentFilter::default()).await.unwrap();
    assert_eq!(page.total, 2);
    assert!(
        page.incidents
            .iter()
            .any(|incident| incident.title == "Heartbeat lost: prometheus")
    );
    clock.advance(5 * MINUTE);
    engine.fire_due_timers().await.unwrap();
    assert_eq!(
        engine.list(&IncidentFilter::default()).await.unwrap().total,
        2
    );
}

pub(crate) fn sqlite_url() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("muster.db").display().to_string();
    (dir, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storm_escalation_and_ack_on_sqlite() {
    let (_dir, url) = sqlite_url();
    storm_escalation_and_ack(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storm_escalation_and_ack_on_postgres() {
    storm_escalation_and_ack(&muster_store::testing::scratch_postgres_url().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_fire_once_with_two_instances_on_sqlite() {
    let (_dir, url) = sqlite_url();
    Box::pin(timers_fire_once_with_two_instances(&url)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_fire_once_with_two_instances_on_postgres() {
    Box::pin(timers_fire_once_with_two_instances(
        &muster_store::testing::scratch_postgres_url().await,
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolved_alerts_and_heartbeat_on_sqlite() {
    let (_dir, url) = sqlite_url();
    resolved_alerts_and_heartbeat(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolved_alerts_and_heartbeat_on_postgres() {
    resolved_alerts_and_heartbeat(&muster_store::testing::scratch_postgres_url().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttle_per_contact_on_sqlite() {
    let (_dir, url) = sqlite_url();
    throttle_per_contact(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttle_per_contact_on_postgres() {
    throttle_per_contact(&muster_store::testing::scratch_postgres_url().await).await;
}
