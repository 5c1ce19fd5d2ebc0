//! Declaring, working and listing incidents.

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::json;

use crate::{Server, scenarios};

#[tokio::test]
async fn an_incident_is_worked_from_declaration_to_close() {
    let server = Server::start().await;
    let scenario = scenarios().into_iter().next().unwrap();
    let plan = server.engine.plan();
    let role = plan.plan.roles[0].id.to_string();
    let person = plan.plan.people[0].id.to_string();

    let declared = server
        .post(
            "/api/incidents",
            &server.responder,
            &json!({"title": "Validators missing attestations", "scenario": scenario}),
        )
        .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{declared:?}");
    let id = declared.body["incident"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        declared.headers[LOCATION].to_str().unwrap(),
        format!("/api/incidents/{id}")
    );
    assert_eq!(declared.body["incident"]["status"], "triage");
    assert_eq!(declared.body["incident"]["scenario"], scenario.as_str());
    assert_eq!(declared.body["events"][0]["kind"]["type"], "declared");
    assert_eq!(declared.body["events"][0]["actor"], "token:responder");

    let steps = [
        (json!({"command": "acknowledge"}), "acknowledged"),
        (
            json!({"command": "assign_role", "role": role, "person": person}),
            "role_assigned",
        ),
        (
            json!({"command": "add_note", "text": "attestation rate back at 99%"}),
            "note_added",
        ),
        (
            json!({"command": "change_status", "to": "investigating"}),
            "status_changed",
        ),
        (
            json!({"command": "resolve", "summary": "restarted the beacon nodes"}),
            "resolved",
        ),
        (json!({"command": "close"}), "closed"),
    ];
    for (command, kind) in &steps {
        let answer = server.command(&id, command).await;
        assert_eq!(answer.status, StatusCode::OK, "{command}: {answer:?}");
        assert_eq!(
            answer.body["events"][0]["kind"]["type"], *kind,
            "{answer:?}"
        );
    }

    let incident = server
        .get(&format!("/api/incidents/{id}"), &server.viewer)
        .await;
    assert_eq!(incident.status, StatusCode::OK, "{incident:?}");
    assert_eq!(incident.body["id"], id.as_str());
    assert_eq!(incident.body["status"], "closed");
    assert_eq!(incident.body["roles"][&role], person.as_str());
    assert_eq!(incident.body["resolution"], "restarted the beacon nodes");
    assert!(incident.body["acknowledged_at"].is_i64());
    assert!(
        !incident.body["checklist"].as_array().unwrap().is_empty(),
        "the scenario's runbook gives a checklist: {incident:?}"
    );

    let timeline = server
        .get(&format!("/api/incidents/{id}/timeline"), &server.viewer)
        .await;
    assert_eq!(timeline.status, StatusCode::OK, "{timeline:?}");
    assert_eq!(timeline.body["incident"], id.as_str());
    let events = timeline.body["events"].as_array().unwrap();
    let kinds: Vec<&str> = events
        .iter()
        .map(|event| event["kind"]["type"].as_str().unwrap())
        .collect();
    // The first level of the escalation ladder is paged with the declaration.
    let mut expected = vec!["declared", "escalated"];
    expected.extend(steps.iter().map(|(_, kind)| *kind));
    assert_eq!(kinds, expected);
    let seqs: Vec<u64> = events
        .iter()
        .map(|event| event["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<u64>>());

    let audit = server.get("/api/audit", &server.admin).await;
    assert_eq!(audit.status, StatusCode::OK, "{audit:?}");
    assert_eq!(audit.body["clean"], true);
    assert_eq!(audit.body["incidents"], 1);
    assert_eq!(audit.body["events"], 8);
    server.stop().await;
}

#[tokio::test]
async fn a_declaration_may_name_its_command() {
    let server = Server::start().await;
    let answer = server
        .post(
            "/api/incidents",
            &server.responder,
            &json!({"command": "declare", "title": "Gas spike", "severity": "P2", "drill": true, "tags": ["practice"]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
    assert_eq!(answer.body["incident"]["drill"], true);
    assert_eq!(answer.body["incident"]["severity"], "P2");
    let other = server
        .post(
            "/api/incidents",
            &server.responder,
            &json!({"command": "acknowledge", "title": "x"}),
        )
        .await;
    other.expect(422, "invalid-body");
    assert_eq!(server.total().await, 1);
    server.stop().await;
}

fn ids(answer: &crate::Answer) -> Vec<String> {
    answer.body["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|incident| incident["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn incidents_are_listed_by_status_openness_severity_and_time() {
    let server = Server::start().await;
    let plan = server.engine.plan();
    let mut declared = Vec::new();
    for (index, scenario) in scenarios().iter().enumerate() {
        let id = server.declare(&format!("incident {index}"), scenario).await;
        let severity = plan.plan.scenario(scenario).unwrap().severity.to_string();
        declared.push((id, severity));
    }
    assert!(
        declared.len() >= 3,
        "the example plan has several scenarios"
    );
    let (resolved, _) = &declared[0];
    let answer = server
        .command(resolved, &json!({"command": "resolve", "summary": "fixed"}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    let drill_id = {
        let answer = server
            .post(
                "/api/incidents",
                &server.responder,
                &json!({"title": "tabletop", "severity": "P2", "drill": true}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
        answer.body["incident"]["id"].as_str().unwrap().to_owned()
    };
    let all = declared.len() as u64 + 1;

    let listing = server.get("/api/incidents", &server.viewer).await;
    assert_eq!(listing.status, StatusCode::OK, "{listing:?}");
    assert_eq!(listing.body["total"], all);
    assert_eq!(listing.body["limit"], 50);
    assert_eq!(listing.body["offset"], 0);
    assert_eq!(ids(&listing)[0], drill_id, "most recently declared first");

    let by_status = server
        .get("/api/incidents?status=resolved", &server.viewer)
        .await;
    assert_eq!(ids(&by_status), vec![resolved.clone()]);
    let by_statuses = server
        .get("/api/incidents?status=resolved,triage", &server.viewer)
        .await;
    assert_eq!(by_statuses.body["total"], all);

    let open = server.get("/api/incidents?open=true", &server.viewer).await;
    assert_eq!(open.body["total"], all - 1);
    assert!(!ids(&open).contains(resolved));
    let finished = server
        .get("/api/incidents?open=false", &server.viewer)
        .await;
    assert_eq!(ids(&finished), vec![resolved.clone()]);

    let severity = declared[0].1.clone();
    let everything = listing.body["incidents"].as_array().unwrap();
    let matching = |open_only: bool| -> Vec<String> {
        everything
            .iter()
            .filter(|incident| incident["severity"] == severity.as_str())
            .filter(|incident| {
                !open_only || (incident["status"] != "resolved" && incident["drill"] == false)
            })
            .map(|incident| incident["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let by_severity = server
        .get(
            &format!("/api/incidents?severity={severity}"),
            &server.viewer,
        )
        .await;
    assert_eq!(ids(&by_severity), matching(false));
    assert!(ids(&by_severity).contains(resolved));
    let open_of_severity = server
        .get(
            &format!("/api/incidents?severity={severity}&open=true&drill=false"),
            &server.viewer,
        )
        .await;
    assert_eq!(ids(&open_of_severity), matching(true));
    assert!(!ids(&open_of_severity).contains(resolved));
    let severities = format!("{severity},{}", declared[1].1);
    let by_severities = server
        .get(
            &format!("/api/incidents?severity={severities}"),
            &server.viewer,
        )
        .await;
    assert!(ids(&by_severities).contains(&declared[1].0));

    let drills = server
        .get("/api/incidents?drill=true", &server.viewer)
        .await;
    assert_eq!(ids(&drills), vec![drill_id]);

    let page = server
        .get("/api/incidents?limit=2&offset=1", &server.viewer)
        .await;
    assert_eq!(page.body["total"], all);
    assert_eq!(ids(&page), ids(&listing)[1..3].to_vec());

    let past = server
        .get(
            "/api/incidents?from=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z",
            &server.viewer,
        )
        .await;
    assert_eq!(past.body["total"], all);
    let future = server
        .get("/api/incidents?from=2999-01-01T00:00:00Z", &server.viewer)
        .await;
    assert_eq!(future.body["total"], 0);
    server.stop().await;
}

#[tokio::test]
async fn a_bad_listing_query_is_refused_naming_the_parameter() {
    let server = Server::start().await;
    server.declare("one", &scenarios()[0]).await;
    let cases = [
        ("colour=red", "colour"),
        ("status=burning", "status"),
        ("status=triage,", "status"),
        ("open=yes", "open"),
        ("drill=1", "drill"),
        ("severity=P9", "severity"),
        ("category=weather", "category"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("from=yesterday", "from"),
        ("until=2026-13-01T00:00:00Z", "until"),
        (
            "from=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
            "until",
        ),
        ("tag=", "tag"),
        ("open=true&open=false", "open"),
    ];
    for (query, parameter) in cases {
        let answer = server
            .get(&format!("/api/incidents?{query}"), &server.viewer)
            .await;
        answer.expect(400, "invalid-query");
        assert!(
            answer.message().contains(&format!("'{parameter}'")),
            "{query}: {}",
            answer.message()
        );
    }
    let status = server
        .get("/api/incidents?status=burning", &server.viewer)
        .await;
    assert!(status.message().contains("investigating"), "{status:?}");
    let severity = server
        .get("/api/incidents?severity=P9", &server.viewer)
        .await;
    assert!(severity.message().contains("P0"), "{severity:?}");
    assert_eq!(server.total().await, 1);
    server.stop().await;
}
