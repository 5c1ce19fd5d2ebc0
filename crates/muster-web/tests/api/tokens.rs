//! Managing tokens, and the service endpoints.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::Server;

#[tokio::test]
async fn tokens_are_created_listed_used_and_revoked() {
    let server = Server::start().await;
    let listing = server.get("/api/tokens", &server.admin).await;
    assert_eq!(listing.status, StatusCode::OK, "{listing:?}");
    let names: Vec<&str> = listing.body["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|token| token["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4);
    for name in ["admin", "responder", "viewer", "gone"] {
        assert!(names.contains(&name), "{names:?}");
    }
    let text = listing.body.to_string();
    assert!(!text.contains("secret") && !text.contains("mst_"), "{text}");
    let gone = listing.body["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|token| token["name"] == "gone")
        .unwrap();
    assert!(gone["revoked_at"].is_i64());

    server
        .get("/api/tokens", &server.responder)
        .await
        .expect(403, "forbidden");

    let created = server
        .post(
            "/api/tokens",
            &server.admin,
            &json!({"name": "dashboard", "role": "viewer"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.body["name"], "dashboard");
    assert_eq!(created.body["role"], "viewer");
    assert!(created.body["person"].is_null());
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("mst_"));
    let used = server.get("/api/incidents", &secret).await;
    assert_eq!(used.status, StatusCode::OK, "{used:?}");
    server
        .post(
            "/api/incidents",
            &secret,
            &json!({"title": "x", "severity": "P1"}),
        )
        .await
        .expect(403, "forbidden");

    let with_person = server
        .post(
            "/api/tokens",
            &server.admin,
            &json!({"name": "janet-cli", "role": "responder", "person": "janet"}),
        )
        .await;
    assert_eq!(with_person.status, StatusCode::CREATED, "{with_person:?}");
    assert_eq!(with_person.body["person"], "janet");

    server
        .post(
            "/api/tokens",
            &server.admin,
            &json!({"name": "dashboard", "role": "viewer"}),
        )
        .await
        .expect(409, "token-exists");
    server
        .post(
            "/api/tokens",
            &server.admin,
            &json!({"name": "x", "role": "root"}),
        )
        .await
        .expect(422, "invalid-body");
    server
        .post(
            "/api/tokens",
            &server.admin,
            &json!({"name": "has space", "role": "viewer"}),
        )
        .await
        .expect(422, "invalid-token-request");
    server
        .post(
            "/api/tokens",
            &server.admin,
            &json!({"name": "ghost", "role": "viewer", "person": "nobody"}),
        )
        .await
        .expect(422, "invalid-token-request");

    let revoked = server
        .send(
            Method::DELETE,
            "/api/tokens/dashboard",
            Some(&server.admin),
            None,
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{revoked:?}");
    server
        .get("/api/incidents", &secret)
        .await
        .expect(401, "revoked-token");
    server
        .send(
            Method::DELETE,
            "/api/tokens/dashboard",
            Some(&server.admin),
            None,
            None,
        )
        .await
        .expect(404, "unknown-token");
    server
        .send(
            Method::DELETE,
            "/api/tokens/admin",
            Some(&server.viewer),
            None,
            None,
        )
        .await
        .expect(403, "forbidden");
    let after = server.get("/api/tokens", &server.admin).await;
    assert_eq!(after.body["tokens"].as_array().unwrap().len(), 6);
    server.stop().await;
}

#[tokio::test]
async fn health_and_readiness_need_no_token() {
    let server = Server::start().await;
    let health = server.send(Method::GET, "/healthz", None, None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body, json!({"status": "ok"}));
    let ready = server.send(Method::GET, "/readyz", None, None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body, json!({"status": "ready", "database": "sqlite"}));
    server.stop().await;
}
