//! Bad input gets the exact status and code, and changes nothing.

use reqwest::header::{ALLOW, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{Server, scenarios};

#[tokio::test]
async fn bad_requests_are_refused_and_change_nothing() {
    let server = Server::start().await;
    let id = server.declare("RPC nodes lagging", &scenarios()[0]).await;
    let commands = format!("/api/incidents/{id}/commands");
    let before = (server.timeline_len(&id).await, server.total().await);
    // The declaration and the first level of the escalation ladder, paged at once.
    assert_eq!(before, (2, 1));
    let note = json!({"command": "add_note", "text": "looking"}).to_string();

    // Bodies that are not JSON, or not the right JSON.
    let answer = server
        .post_raw(&commands, &server.responder, r#"{"command": "#.to_owned())
        .await;
    answer.expect(400, "malformed-json");
    assert!(answer.message().contains("line 1"), "{answer:?}");
    server
        .post_raw("/api/incidents", &server.responder, "title=x".to_owned())
        .await
        .expect(400, "malformed-json");
    let answer = server
        .post(&commands, &server.responder, &json!({"command": "launch"}))
        .await;
    answer.expect(422, "invalid-body");
    assert!(answer.message().contains("unknown variant"), "{answer:?}");
    let answer = server
        .post(
            &commands,
            &server.responder,
            &json!({"command": "assign_role"}),
        )
        .await;
    answer.expect(422, "invalid-body");
    assert!(answer.message().contains("missing field"), "{answer:?}");
    server
        .post(&commands, &server.responder, &json!([1, 2]))
        .await
        .expect(422, "invalid-body");
    server
        .post("/api/incidents", &server.responder, &json!({"title": 5}))
        .await
        .expect(422, "invalid-body");
    server
        .post("/api/incidents", &server.responder, &json!(["a list"]))
        .await
        .expect(422, "invalid-body");

    // Content type and size.
    server
        .send(
            Method::POST,
            &commands,
            Some(&server.responder),
            Some(note.clone()),
            Some("text/plain"),
        )
        .await
        .expect(415, "unsupported-media-type");
    let answer = server
        .send(
            Method::POST,
            &commands,
            Some(&server.responder),
            Some(note.clone()),
            None,
        )
        .await;
    answer.expect(415, "unsupported-media-type");
    assert!(answer.message().contains("application/json"), "{answer:?}");
    let huge = json!({"command": "add_note", "text": "x".repeat(100 * 1024)});
    let answer = server.post(&commands, &server.responder, &huge).await;
    answer.expect(413, "body-too-large");
    assert!(answer.message().contains("64 KiB"), "{answer:?}");

    // Ids.
    let unknown = "INC-20000101-999";
    server
        .command(unknown, &json!({"command": "acknowledge"}))
        .await
        .expect(404, "unknown-incident");
    server
        .get(&format!("/api/incidents/{unknown}"), &server.viewer)
        .await
        .expect(404, "unknown-incident");
    server
        .get(
            &format!("/api/incidents/{unknown}/timeline"),
            &server.viewer,
        )
        .await
        .expect(404, "unknown-incident");
    let answer = server.get("/api/incidents/INC-1", &server.viewer).await;
    answer.expect(400, "invalid-id");
    assert!(answer.message().contains("INC-20251207-001"), "{answer:?}");
    server
        .command("not-an-id", &json!({"command": "acknowledge"}))
        .await
        .expect(400, "invalid-id");

    // The rules.
    server
        .command(&id, &json!({"command": "resolve", "summary": "  "}))
        .await
        .expect(422, "missing-text");
    server
        .command(&id, &json!({"command": "resolve"}))
        .await
        .expect(422, "invalid-body");
    server
        .command(&id, &json!({"command": "close"}))
        .await
        .expect(409, "invalid-transition");
    server
        .command(&id, &json!({"command": "change_status", "to": "triage"}))
        .await
        .expect(409, "no-change");
    server
        .command(
            &id,
            &json!({"command": "assign_role", "role": "janitor", "person": "nobody"}),
        )
        .await
        .expect(422, "unknown-reference");
    server
        .command(
            &id,
            &json!({"command": "declare", "title": "again", "severity": "P1"}),
        )
        .await
        .expect(409, "already-declared");
    server
        .post(
            "/api/incidents",
            &server.responder,
            &json!({"title": "mystery", "scenario": "volcano"}),
        )
        .await
        .expect(422, "unknown-reference");
    server
        .post(
            "/api/incidents",
            &server.responder,
            &json!({"title": "mystery"}),
        )
        .await
        .expect(422, "missing-severity");

    // Who may.
    let answer = server
        .post(
            &commands,
            &server.viewer,
            &json!({"command": "acknowledge"}),
        )
        .await;
    answer.expect(403, "forbidden");
    assert!(answer.message().contains("responder"), "{answer:?}");
    server
        .post_raw(&commands, &server.viewer, "{not json".to_owned())
        .await
        .expect(403, "forbidden");
    server
        .post(
            "/api/incidents",
            &server.viewer,
            &json!({"title": "x", "severity": "P1"}),
        )
        .await
        .expect(403, "forbidden");
    let answer = server
        .send(
            Method::POST,
            &commands,
            None,
            Some(note.clone()),
            Some("application/json"),
        )
        .await;
    answer.expect(401, "missing-token");
    assert_eq!(answer.headers[WWW_AUTHENTICATE], "Bearer");
    let answer = server
        .send(Method::GET, "/api/incidents", None, None, None)
        .await;
    answer.expect(401, "missing-token");
    let basic = server
        .client
        .get(format!("{}/api/incidents", server.base))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    server
        .post(&commands, "mst_0000", &json!({"command": "acknowledge"}))
        .await
        .expect(401, "invalid-token");
    let answer = server
        .post(
            &commands,
            &server.revoked,
            &json!({"command": "acknowledge"}),
        )
        .await;
    answer.expect(401, "revoked-token");
    assert!(answer.headers.contains_key(WWW_AUTHENTICATE));
    assert!(!answer.headers.contains_key(RETRY_AFTER));

    // Paths and methods that do not exist.
    server
        .get("/api/nothing", &server.viewer)
        .await
        .expect(404, "no-such-route");
    let answer = server
        .send(
            Method::PUT,
            "/api/incidents",
            Some(&server.admin),
            None,
            None,
        )
        .await;
    answer.expect(405, "method-not-allowed");
    let allow = answer.headers[ALLOW].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");

    assert_eq!(
        (server.timeline_len(&id).await, server.total().await),
        before,
        "refused requests changed nothing"
    );
    let incident = server
        .get(&format!("/api/incidents/{id}"), &server.viewer)
        .await;
    assert_eq!(incident.body["status"], "triage");
    assert!(incident.body["acknowledged_at"].is_null());
    assert_eq!(incident.body["notes"], 0);
    server.stop().await;
}
