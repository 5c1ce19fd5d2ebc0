//! A real Prometheus Alertmanager as a client of the intake: `amtool alert add` reaches Muster
//! through Alertmanager's webhook and PagerDuty receivers, becomes one incident whose escalation
//! pages a signed webhook, and resolves it when Alertmanager reports the alert resolved.
//!
//! Alertmanager and amtool come from `MUSTER_TEST_ALERTMANAGER` and `MUSTER_TEST_AMTOOL`
//! (`scripts/test` sets them through scripts/lib/alertmanager.sh); each test runs its own
//! Alertmanager on a free port.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::serve::{Server, sqlite_database};
use crate::support::{Sink, free_port, wait_for};

/// The bearer token of the `prometheus` integration (Alertmanager's webhook receiver).
const WEBHOOK_KEY: &str = "am-webhook-key-5f1c";
/// The routing key of the `pd` integration (Alertmanager's PagerDuty receiver).
const ROUTING_KEY: &str = "am-routing-key-93ab";
/// The secret that signs the `pager-hook` channel's requests.
const HOOK_SECRET: &str = "pager-hook-secret-0d7e";

fn tools() -> (PathBuf, PathBuf) {
    let named = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    match (
        named("MUSTER_TEST_ALERTMANAGER"),
        named("MUSTER_TEST_AMTOOL"),
    ) {
        (Some(server), Some(amtool)) => (server.into(), amtool.into()),
        _ => panic!(
            "MUSTER_TEST_ALERTMANAGER and MUSTER_TEST_AMTOOL name the Alertmanager and amtool \
             programs these tests run; run scripts/test, or first \
             `source scripts/lib/alertmanager.sh && start_alertmanager_tools`"
        ),
    }
}

/// `muster serve` on a SQLite file with the integration keys and channel secret in its
/// environment, stopped when dropped.
fn start_muster(dir: &tempfile::TempDir, plan: &Path) -> Server {
    Server::start_with_env(
        &sqlite_database(dir),
        plan,
        false,
        &[
            ("AM_TEST_KEY", WEBHOOK_KEY),
            ("AM_TEST_PD_KEY", ROUTING_KEY),
            ("AM_TEST_HOOK_SECRET", HOOK_SECRET),
        ],
    )
}

/// Alertmanager's configuration: one route to the receiver `muster`, whose notifiers follow.
const ALERTMANAGER_ROUTE: &str = "
route:
  receiver: muster
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: muster
";

/// Notifies Muster's Alertmanager intake with the `prometheus` integration's bearer key, and
/// again when the alerts are resolved.
const WEBHOOK_RECEIVER: &str = "
    webhook_configs:
      - url: http://MUSTER_ADDRESS/intake/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: WEBHOOK_KEY
";

/// Notifies Muster's PagerDuty-compatible intake with the `pd` integration's routing key, and
/// again when the alerts are resolved. The event's severity, component and class come from the
/// alert's labels.
const PAGERDUTY_RECEIVER: &str = "
    pagerduty_configs:
      - url: http://MUSTER_ADDRESS/v2/enqueue
        routing_key: ROUTING_KEY
        send_resolved: true
        severity: '{{ .CommonLabels.severity }}'
        component: '{{ .CommonLabels.component }}'
        class: '{{ .CommonLabels.alertname }}'
";

/// A running Alertmanager with its own configuration and storage, stopped when dropped.
struct Alertmanager {
    child: Child,
    url: String,
    log: PathBuf,
    amtool: PathBuf,
}

impl Alertmanager {
    /// Starts Alertmanager with the receiver `muster` made of these notifiers
    /// ([`WEBHOOK_RECEIVER`], [`PAGERDUTY_RECEIVER`]); waits until it is ready.
    fn start(dir: &Path, muster_address: &str, notifiers: &[&str]) -> Self {
        let (server, amtool) = tools();
        let config = dir.join("alertmanager.yml");
        std::fs::write(
            &config,
            (String::from(ALERTMANAGER_ROUTE) + &notifiers.concat())
                .replace("MUSTER_ADDRESS", muster_address)
                .replace("WEBHOOK_KEY", WEBHOOK_KEY)
                .replace("ROUTING_KEY", ROUTING_KEY),
        )
        .expect("the configuration is written");
        let storage = dir.join("alertmanager-data");
        std::fs::create_dir_all(&storage).expect("the storage directory is made");
        let log = dir.join("alertmanager.log");
        let log_file = std::fs::File::create(&log).expect("the log file is made");
        let address = format!("127.0.0.1:{}", free_port());
        let child = Command::new(&server)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", storage.display()))
            .arg(format!("--web.listen-address={address}"))
            // No peers: this Alertmanager neither listens for nor joins a cluster.
            .arg("--cluster.listen-address=")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("the log file is shared"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|error| panic!("{} does not start: {error}", server.display()));
        let mut alertmanager = Self {
            child,
            url: format!("http://{address}"),
            log,
            amtool,
        };
        wait_for("Alertmanager to be ready", || {
            if let Ok(Some(status)) = alertmanager.child.try_wait() {
                panic!(
                    "Alertmanager stopped ({status}) before it was ready:\n{}",
                    alertmanager.log_text()
                );
            }
            match http_status(&address, "/-/ready") {
                Some(200) => Ok(()),
                status => Err(format!("GET /-/ready: {status:?}")),
            }
        });
        alertmanager
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `amtool alert add` with these labels, annotations and times.
    fn add_alert(&self, labels: &[&str], annotations: &[&str], start: i64, end: Option<i64>) {
        let mut command = Command::new(&self.amtool);
        command
            .arg(format!("--alertmanager.url={}", self.url))
            .args(["alert", "add"])
            .args(labels)
            .args(
                annotations
                    .iter()
                    .map(|annotation| format!("--annotation={annotation}")),
            )
            .arg(format!("--start={}", rfc3339(start)));
        if let Some(end) = end {
            command.arg(format!("--end={}", rfc3339(end)));
        }
        let output = command.output().expect("amtool runs");
        assert!(
            output.status.success(),
            "amtool failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status code of `GET path`, or `None` when nothing answers.
fn http_status(address: &str, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut status_line = String::new();
    BufReader::new(stream).read_line(&mut status_line).ok()?;
    status_line.split_whitespace().nth(1)?.parse().ok()
}

fn rfc3339(unix_seconds: i64) -> String {
    jiff::Timestamp::from_second(unix_seconds)
        .expect("a time in range")
        .to_string()
}

/// The events of the timeline of this kind.
fn events_of<'a>(timeline: &'a Value, kind: &str) -> Vec<&'a Value> {
    timeline["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| event["kind"]["type"] == kind)
        .collect()
}

/// Every alert listed by the timeline's `alerts_attached` events.
fn attached_alerts(timeline: &Value) -> Vec<&Value> {
    events_of(timeline, "alerts_attached")
        .into_iter()
        .flat_map(|event| event["kind"]["alerts"].as_array().expect("alerts"))
        .collect()
}

fn integrations(alerts: &[&Value]) -> BTreeSet<String> {
    alerts
        .iter()
        .map(|alert| {
            alert["integration"]
                .as_str()
                .expect("an integration")
                .to_owned()
        })
        .collect()
}

/// The pool drain the tests raise, as amtool's labels and annotations.
const LABELS: [&str; 3] = [
    "alertname=PoolDrain",
    "severity=critical",
    "component=lending-pool",
];
const ANNOTATIONS: [&str; 1] = ["summary=Lending pool drained by 40% in 5 minutes"];

/// The fixture plan with its webhook channel pointing at `sink`, written into `dir`.
fn plan_for(dir: &Path, sink: &Sink) -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/alertmanager.yaml");
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        std::fs::read_to_string(fixture)
            .expect("the fixture reads")
            .replace("{{SINK_URL}}", &sink.url),
    )
    .expect("the plan is written");
    plan
}

/// The incident, once there is one and its timeline lists alerts of every integration in
/// `integrations`; never more than one incident.
#[track_caller]
fn one_incident_with_alerts_of(server: &Server, token: &str, wanted: &[&str]) -> (String, Value) {
    let wanted: BTreeSet<String> = wanted.iter().map(|name| (*name).to_owned()).collect();
    wait_for(&format!("one incident with alerts of {wanted:?}"), || {
        let listed = server.json(token, &["list"]);
        let incidents = listed["incidents"].as_array().expect("incidents");
        assert!(incidents.len() <= 1, "more than one incident: {listed:#}");
        let Some(id) = incidents
            .first()
            .and_then(|incident| incident["id"].as_str())
        else {
            return Err("no incident".to_owned());
        };
        let timeline = server.json(token, &["timeline", id]);
        if integrations(&attached_alerts(&timeline)) == wanted {
            Ok((id.to_owned(), timeline))
        } else {
            Err(format!("{timeline:#}"))
        }
    })
}

/// The timeline once the incident is resolved.
#[track_caller]
fn resolved_timeline(server: &Server, token: &str, id: &str) -> Value {
    wait_for(&format!("{id} to be resolved"), || {
        let timeline = server.json(token, &["timeline", id]);
        if events_of(&timeline, "resolved").is_empty() {
            Err(format!("{timeline:#}"))
        } else {
            Ok(timeline)
        }
    })
}

#[test]
fn alertmanager_pages_through_webhook_and_pagerduty_into_one_incident_and_resolves_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sink = Sink::start();
    let server = start_muster(&dir, &plan_for(dir.path(), &sink));
    let token = server.token("dashboard", "viewer", None);
    let alertmanager = Alertmanager::start(
        dir.path(),
        server.url.trim_start_matches("http://"),
        &[WEBHOOK_RECEIVER, PAGERDUTY_RECEIVER],
    );

    // The pool started draining a minute ago; nothing says yet when it ends.
    let started = jiff::Timestamp::now().as_second() - 60;
    alertmanager.add_alert(&LABELS, &ANNOTATIONS, started, None);

    // Both receivers' notifications reach Muster and join one incident.
    let (id, timeline) = one_incident_with_alerts_of(&server, &token, &["prometheus", "pd"]);
    let incident = server.json(&token, &["show", &id]);
    assert_eq!(incident["severity"], "P1", "{incident:#}");
    assert_eq!(incident["category"], "protocol", "{incident:#}");
    assert!(
        incident["resolved_at"].is_null(),
        "the alert still fires: {incident:#}"
    );
    let alerts = attached_alerts(&timeline);
    let distinct: BTreeSet<String> = alerts
        .iter()
        .map(|alert| format!("{}/{}", alert["integration"], alert["key"]))
        .collect();
    assert_eq!(distinct.len(), 2, "one alert per receiver: {timeline:#}");
    let from = |integration: &str| {
        *alerts
            .iter()
            .find(|alert| alert["integration"] == integration)
            .expect("an alert of that integration")
    };
    // The webhook alert is summarised by its annotation; Alertmanager writes the PagerDuty
    // event's summary itself, from the group's labels.
    assert_eq!(
        from("prometheus")["summary"],
        "Lending pool drained by 40% in 5 minutes"
    );
    let pd_summary = from("pd")["summary"].as_str().expect("a summary");
    assert!(
        pd_summary.starts_with("[FIRING:1] PoolDrain"),
        "{pd_summary}"
    );

    // The escalation's first level pages Alice through the signed webhook.
    let request = sink.next();
    assert!(
        request.start_line.starts_with("POST /hook "),
        "{}",
        request.start_line
    );
    let header = |name: &str| {
        request
            .header(name)
            .unwrap_or_else(|| panic!("no {name} header"))
    };
    muster_notify::webhook::verify_signature(
        HOOK_SECRET.as_bytes(),
        header(muster_notify::webhook::TIMESTAMP_HEADER),
        &request.body,
        header(muster_notify::webhook::SIGNATURE_HEADER),
        jiff::Timestamp::now().as_second(),
        Duration::from_mins(5),
    )
    .expect("the notification is signed with the channel's secret");
    assert!(!header(muster_notify::webhook::DELIVERY_HEADER).is_empty());
    let message: Value = serde_json::from_slice(&request.body).expect("a JSON body");
    assert_eq!(message["incident"], id.as_str(), "{message:#}");
    assert_eq!(message["severity"], "P1", "{message:#}");
    assert_eq!(message["recipient"]["person"], "alice", "{message:#}");

    // amtool ends the alert now: Alertmanager reports it resolved through both receivers, and
    // the route's auto_resolve resolves the incident once every attached alert is resolved.
    alertmanager.add_alert(
        &LABELS,
        &ANNOTATIONS,
        started,
        Some(jiff::Timestamp::now().as_second()),
    );
    let timeline = resolved_timeline(&server, &token, &id);
    let resolved_alerts = events_of(&timeline, "alerts_resolved");
    assert_eq!(resolved_alerts.len(), 1, "{timeline:#}");
    assert_eq!(resolved_alerts[0]["kind"]["count"], 2, "{timeline:#}");
    let resolved = events_of(&timeline, "resolved");
    assert_eq!(resolved[0]["actor"], "intake", "{timeline:#}");
    assert_eq!(
        resolved[0]["kind"]["summary"], "All 2 alert(s) were resolved by their sources.",
        "{timeline:#}"
    );
    let incident = server.json(&token, &["show", &id]);
    assert_eq!(incident["status"], "resolved", "{incident:#}");
    let listed = server.json(&token, &["list"]);
    assert_eq!(listed["total"], 1, "{listed:#}");
}

/// PagerDuty alone: Alertmanager's `resolve` event names the alert by its `dedup_key`, and
/// resolves the incident its `trigger` declared.
#[test]
fn alertmanager_pagerduty_resolution_resolves_the_incident() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sink = Sink::start();
    let server = start_muster(&dir, &plan_for(dir.path(), &sink));
    let token = server.token("dashboard", "viewer", None);
    let alertmanager = Alertmanager::start(
        dir.path(),
        server.url.trim_start_matches("http://"),
        &[PAGERDUTY_RECEIVER],
    );
    let started = jiff::Timestamp::now().as_second() - 60;
    alertmanager.add_alert(&LABELS, &ANNOTATIONS, started, None);
    let (id, _) = one_incident_with_alerts_of(&server, &token, &["pd"]);

    alertmanager.add_alert(
        &LABELS,
        &ANNOTATIONS,
        started,
        Some(jiff::Timestamp::now().as_second()),
    );
    let timeline = resolved_timeline(&server, &token, &id);
    let resolved_alerts = events_of(&timeline, "alerts_resolved");
    assert_eq!(resolved_alerts.len(), 1, "{timeline:#}");
    assert_eq!(resolved_alerts[0]["kind"]["count"], 1, "{timeline:#}");
}
