//! Crash and failover with real `muster serve` processes: an escalation timer pending when the
//! server is killed with SIGKILL fires once after the restart; on PostgreSQL, two servers share
//! the work, and when one is killed the other fires every escalation exactly once and takes over
//! alert processing.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::serve::{Server, ok, scratch_postgres, sqlite_database};
use crate::support::{Sink, wait_for};

const HOOK_SECRET: &str = "failover-hook-secret";
const ALERT_KEY: &str = "failover-alert-key";

fn for_person<'a>(person: &'a str, incident: &'a str) -> impl Fn(&Value) -> bool + 'a {
    move |message| message["recipient"]["person"] == person && message["incident"] == incident
}

/// A plan whose P1 ladder pages alice at once and bob `second_level` later, through a signed
/// webhook to `hook`; alerts named `PoolDrain` declare a P1.
fn plan(dir: &Path, hook: &str, second_level: &str) -> PathBuf {
    let text = format!(
        r"version: 1
organization:
  name: Failover Test
  timezone: UTC
severities:
  - id: P1
    name: High
    urgent: true
    important: true
    ack_within: 10m
    update_every: 1h
    escalation: pager
  - id: P3
    name: Low
    urgent: false
    important: false
    ack_within: 1d
    escalation: none
categories:
  - id: protocol
    name: Protocol
people:
  - id: alice
    name: Alice Example
    contacts: {{ email: alice@example.com }}
  - id: bob
    name: Bob Example
    contacts: {{ email: bob@example.com }}
roles:
  - id: incident-commander
    name: Incident commander
    primary: alice
    backup: bob
escalation_policies:
  - id: pager
    via: [pager-hook]
    levels:
      - after: 0m
        notify: [person:alice]
      - after: {second_level}
        notify: [person:bob]
channels:
  pager-hook:
    type: webhook
    url: {hook}
    secret_env: FAILOVER_HOOK_SECRET
integrations:
  - id: prometheus
    type: alertmanager
    key_env: FAILOVER_ALERT_KEY
routes:
  - id: pool
    matchers: [alertname=PoolDrain]
    severity: P1
    category: protocol
    group_by: [alertname]
"
    );
    let path = dir.join("plan.yaml");
    std::fs::write(&path, text).expect("the plan is written");
    path
}

fn start(database: &str, plan: &Path) -> Server {
    Server::start_with_env(
        database,
        plan,
        false,
        &[
            ("FAILOVER_HOOK_SECRET", HOOK_SECRET),
            ("FAILOVER_ALERT_KEY", ALERT_KEY),
        ],
    )
}

fn declare(server: &Server, token: &str, title: &str) -> String {
    let declared = server.json(
        token,
        &[
            "declare",
            "--title",
            title,
            "--severity",
            "P1",
            "--category",
            "protocol",
        ],
    );
    declared["incident"]["id"]
        .as_str()
        .expect("an incident id")
        .to_owned()
}

/// The `escalated` events of an incident, as `(level, round)`.
fn escalations(server: &Server, token: &str, incident: &str) -> Vec<(u64, u64)> {
    let timeline = server.json(token, &["timeline", incident]);
    timeline["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| event["kind"]["type"] == "escalated")
        .map(|event| {
            (
                event["kind"]["level"].as_u64().expect("a level"),
                event["kind"]["round"].as_u64().expect("a round"),
            )
        })
        .collect()
}

/// Runs one SQL query for one value against the server's database.
fn scalar<T>(database: &str, sql: &str) -> T
where
    T: Send + Unpin,
    for<'r> (T,):
        sqlx::FromRow<'r, sqlx::postgres::PgRow> + sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if database.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(database).await.expect("connects");
            let (value,) = sqlx::query_as(sql)
                .fetch_one(&pool)
                .await
                .expect("the query runs");
            pool.close().await;
            value
        } else {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{database}"))
                .await
                .expect("opens");
            let (value,) = sqlx::query_as(sql)
                .fetch_one(&pool)
                .await
                .expect("the query runs");
            pool.close().await;
            value
        }
    })
}

fn count(database: &str, sql: &str) -> i64 {
    scalar(database, sql)
}

fn pending_escalations(database: &str) -> i64 {
    count(
        database,
        "SELECT count(*) FROM timers WHERE kind = 'escalate'",
    )
}

fn deliveries_to(database: &str, person: &str, incident: &str) -> i64 {
    count(
        database,
        &format!(
            "SELECT count(*) FROM deliveries WHERE person = '{person}' AND incident = '{incident}'"
        ),
    )
}

/// Kills the server's process with SIGKILL: no shutdown code runs.
fn kill_hard(mut server: Server) {
    server.child.kill().expect("the server is killed");
    server.child.wait().expect("the server is reaped");
}

fn a_pending_escalation_survives_a_crash(database: &str) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sink = Sink::start();
    let hook = sink.url.clone();
    let plan = plan(dir.path(), &hook, "6s");
    let first = start(database, &plan);
    let responder = first.token("lena", "responder", Some("alice"));
    let id = declare(&first, &responder, "Pool balance falling");
    // Level 1 pages alice straight away; level 2 (bob) is a timer row.
    sink.next_json_where(for_person("alice", &id));
    assert_eq!(escalations(&first, &responder, &id), [(1, 1)]);
    kill_hard(first);
    assert_eq!(
        pending_escalations(database),
        1,
        "level 2 is still pending when the server dies"
    );

    let second = start(database, &plan);
    let page = sink.next_json_where(for_person("bob", &id));
    assert_eq!(page["recipient"]["person"], "bob");
    assert_eq!(escalations(&second, &responder, &id), [(1, 1), (2, 1)]);
    // Fired once: the timer row went with the event it caused, and bob has one delivery.
    assert_eq!(pending_escalations(database), 0);
    assert_eq!(deliveries_to(database, "bob", &id), 1);
    assert_eq!(deliveries_to(database, "alice", &id), 1);
}

#[test]
fn a_pending_escalation_fires_once_after_a_crash_on_sqlite() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    a_pending_escalation_survives_a_crash(&sqlite_database(&dir));
}

#[test]
fn a_pending_escalation_fires_once_after_a_crash_on_postgres() {
    a_pending_escalation_survives_a_crash(&scratch_postgres());
}

/// An Alertmanager notification with one firing alert.
fn alert(name: &str, fingerprint: &str) -> String {
    serde_json::json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"{name}\"}}"),
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "muster",
        "groupLabels": {"alertname": name},
        "commonLabels": {"alertname": name, "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": name, "severity": "critical"},
            "annotations": {"summary": "Pool balance fell 40% in one block"},
            "startsAt": "2026-11-21T09:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example/graph",
            "fingerprint": fingerprint
        }]
    })
    .to_string()
}

/// Sends an Alertmanager notification to the server's intake; it must be accepted.
fn post_alert(server: &Server, body: String) {
    let (status, answer) = server.post("/intake/alertmanager", ALERT_KEY, body);
    assert_eq!(status, 202, "{answer}");
}

/// Waits until `list --open` shows an incident, and returns the first.
fn open_incident(server: &Server, token: &str) -> Value {
    wait_for("an open incident", || {
        let listed = server.json(token, &["list", "--open"]);
        listed["incidents"]
            .as_array()
            .and_then(|all| all.first())
            .cloned()
            .ok_or_else(|| listed.to_string())
    })
}

#[test]
fn two_servers_on_postgres_fire_each_escalation_once_and_survive_losing_one() {
    let database = scratch_postgres();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sink = Sink::start();
    let hook = sink.url.clone();
    let plan = plan(dir.path(), &hook, "5s");
    let first = start(&database, &plan);
    let second = start(&database, &plan);
    let responder = first.token("lena", "responder", Some("alice"));

    // One alert, one incident, processed by whichever server holds the processor's lease.
    post_alert(&first, alert("PoolDrain", "f1"));
    let from_alert = open_incident(&first, &responder);
    let from_alert = from_alert["id"].as_str().expect("an id").to_owned();
    let holder: String = scalar(
        &database,
        "SELECT holder FROM leases WHERE name = 'alert-processor'",
    );
    // Instances are named `<pid>-<random>`: the lease holder is the one to lose.
    let (doomed, survivor) = if holder.starts_with(&format!("{}-", first.child.id())) {
        (first, second)
    } else {
        assert!(
            holder.starts_with(&format!("{}-", second.child.id())),
            "the lease is held by one of the two servers: {holder}"
        );
        (second, first)
    };

    // Incidents declared on both; then the lease holder dies with every level 2 pending.
    let mut incidents = vec![from_alert];
    for n in 0..3 {
        incidents.push(declare(&doomed, &responder, &format!("Keeper stalled {n}")));
        incidents.push(declare(&survivor, &responder, &format!("Oracle stale {n}")));
    }
    kill_hard(doomed);

    // Bob is paged (one message a minute per contact: the rest are folded into his next one).
    sink.next_json_where(|message| message["recipient"]["person"] == "bob");
    for id in &incidents {
        let seen = wait_for(&format!("{id} to reach level 2"), || {
            let seen = escalations(&survivor, &responder, id);
            if seen.len() < 2 {
                Err(format!("{seen:?}"))
            } else {
                Ok(seen)
            }
        });
        assert_eq!(seen, [(1, 1), (2, 1)], "{id} escalates once per level");
        assert_eq!(deliveries_to(&database, "bob", id), 1, "{id}");
    }
    assert_eq!(pending_escalations(&database), 0);

    // Alerts keep working: the survivor takes over processing once the dead server's lease
    // runs out, and a new outage becomes a new incident.
    let responder_two = survivor.token("mara", "responder", Some("bob"));
    for id in &incidents {
        ok(&survivor.incident(
            &responder_two,
            &["resolve", id, "--summary", "Failed over to the standby"],
        ));
    }
    post_alert(&survivor, alert("PoolDrain", "f2"));
    // The dead server's lease on alert processing runs out first (10 s).
    let taken_over = open_incident(&survivor, &responder_two);
    assert!(
        !incidents.iter().any(|id| taken_over["id"] == id.as_str()),
        "a new incident: {taken_over}"
    );
}
