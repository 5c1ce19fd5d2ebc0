//! `muster integration` and `muster alert` against a real `muster serve`: an admin makes an
//! integration key with the CLI, an alert posted with it is held in triage, a responder lists
//! and declares it, and the revoked key is refused.

use std::path::Path;

use serde_json::json;

use crate::serve::{Server, ok, stderr, stdout};
use crate::support::wait_for;

/// Posts one firing Alertmanager alert with `key`; the HTTP status.
fn post_alert(server: &Server, key: &str, fingerprint: &str) -> u16 {
    let body = json!({
        "version": "4", "groupKey": "{}", "truncatedAlerts": 0, "status": "firing",
        "receiver": "muster", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "DiskFull", "instance": "node-1"},
            "annotations": {"summary": "Disk of node-1 is 95% full"},
            "startsAt": "2026-03-02T09:58:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": fingerprint
        }]
    });
    server.post("/intake/alertmanager", key, body.to_string()).0
}

#[test]
fn keys_and_triage_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/alertmanager.yaml");
    let plan = dir.path().join("plan.yaml");
    std::fs::write(
        &plan,
        std::fs::read_to_string(fixture)
            .unwrap()
            .replace("{{SINK_URL}}", "http://127.0.0.1:9/hook"),
    )
    .unwrap();
    let database = dir.path().join("muster.db");
    let server = Server::start_with(database.to_str().unwrap(), &plan, false);
    let admin = server.token("admin", "admin", None);
    let responder = server.token("responder", "responder", None);

    let listed = ok(&server.cli(&responder, &["integration", "list"]));
    assert!(
        listed.contains("prometheus") && listed.contains("alertmanager"),
        "{listed}"
    );

    // Only an admin makes keys; the secret is printed once.
    let refused = server.cli(
        &responder,
        &["integration", "key", "create", "prometheus", "--name", "ci"],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let created = server.cli_json(
        &admin,
        &["integration", "key", "create", "prometheus", "--name", "ci"],
    );
    let secret = created["secret"].as_str().unwrap().to_owned();
    let unknown = server.cli(
        &admin,
        &["integration", "key", "create", "prometheos", "--name", "ci"],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("unknown-integration"),
        "{}",
        stderr(&unknown)
    );
    let listed = ok(&server.cli(&responder, &["integration", "list"]));
    assert!(
        listed.contains("ci") && !listed.contains(&secret),
        "{listed}"
    );

    // An alert no route matches waits in triage.
    assert_eq!(post_alert(&server, &secret, "00000000000000e1"), 202);
    let key = wait_for("the alert in triage", || {
        let alerts = server.cli_json(&responder, &["alert", "list", "--triage"]);
        alerts["alerts"][0]["key"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| alerts.to_string())
    });
    assert_eq!(key, "00000000000000e1");
    let table = ok(&server.cli(&responder, &["alert", "list"]));
    assert!(
        table.contains("Disk of node-1 is 95% full") && table.contains("triage"),
        "{table}"
    );

    let declared = ok(&server.cli(
        &responder,
        &["alert", "declare", "prometheus", &key, "--severity", "P3"],
    ));
    assert!(
        declared.contains("Disk of node-1 is 95% full"),
        "{declared}"
    );
    assert!(declared.contains("alerts_attached"), "{declared}");
    let again = server.cli(
        &responder,
        &["alert", "declare", "prometheus", &key, "--severity", "P3"],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("not-in-triage"),
        "{}",
        stderr(&again)
    );
    let part = server.cli_json(&responder, &["alert", "list", "--status", "firing"]);
    assert_eq!(part["alerts"][0]["disposition"], "incident");
    let incident = part["alerts"][0]["incident"].as_str().unwrap().to_owned();

    // A second triaged alert joins that incident.
    assert_eq!(post_alert(&server, &secret, "00000000000000e2"), 202);
    wait_for("the second alert in triage", || {
        let alerts = server.cli_json(&responder, &["alert", "list", "--triage"]);
        (alerts["alerts"][0]["key"] == "00000000000000e2")
            .then_some(())
            .ok_or_else(|| alerts.to_string())
    });
    ok(&server.cli(
        &responder,
        &[
            "alert",
            "attach",
            "prometheus",
            "00000000000000e2",
            &incident,
        ],
    ));
    let of_incident = server.cli_json(&responder, &["alert", "list", "--incident", &incident]);
    assert_eq!(of_incident["alerts"].as_array().unwrap().len(), 2);

    // Revoked, the key is refused.
    let revoked = ok(&server.cli(
        &admin,
        &["integration", "key", "revoke", "prometheus", "ci"],
    ));
    assert!(revoked.contains("Revoked"), "{revoked}");
    assert_eq!(post_alert(&server, &secret, "00000000000000e3"), 401);
    let out = server.cli(
        &admin,
        &["integration", "key", "revoke", "prometheus", "ci"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
}
