//! The plan in force, and reloading it.

use reqwest::StatusCode;
use serde_json::Value;

use crate::Server;

async fn reload(server: &Server, token: &str) -> crate::Answer {
    server
        .send(
            reqwest::Method::POST,
            "/api/plan/reload",
            Some(token),
            None,
            None,
        )
        .await
}

#[tokio::test]
async fn a_broken_plan_is_refused_and_the_running_plan_stays() {
    let server = Server::start().await;
    let plan = server.get("/api/plan", &server.viewer).await;
    assert_eq!(plan.status, StatusCode::OK, "{plan:?}");
    assert_eq!(plan.body["organization"], "Example Start-up");
    assert_eq!(
        plan.body["plan"]["organization"]["name"],
        "Example Start-up"
    );
    assert!(plan.body["path"].as_str().unwrap().ends_with("plan.yaml"));
    assert!(plan.body["warnings"].is_array());
    assert!(plan.body["plan"]["scenarios"].as_array().unwrap().len() >= 3);

    let text = std::fs::read_to_string(&server.plan_path).unwrap();
    let renamed = text.replacen("name: Example Start-up", "name: Renamed Start-up", 1);
    assert_ne!(renamed, text);
    std::fs::write(&server.plan_path, &renamed).unwrap();
    reload(&server, &server.responder)
        .await
        .expect(403, "forbidden");
    let reloaded = reload(&server, &server.admin).await;
    assert_eq!(reloaded.status, StatusCode::OK, "{reloaded:?}");
    assert_eq!(reloaded.body["reloaded"], true);
    assert_eq!(reloaded.body["organization"], "Renamed Start-up");
    assert!(reloaded.body["warnings"].is_array());
    let after_reload = server.get("/api/plan", &server.viewer).await;
    assert_eq!(after_reload.body["organization"], "Renamed Start-up");
    assert_eq!(after_reload.body["loaded_at"], reloaded.body["loaded_at"]);

    let broken = renamed.replacen("severity: P1", "severity: P9", 1);
    assert_ne!(broken, renamed);
    std::fs::write(&server.plan_path, broken).unwrap();
    let refused = reload(&server, &server.admin).await;
    refused.expect(422, "plan-invalid");
    let diagnostics = refused.body["diagnostics"].as_array().unwrap();
    assert!(!diagnostics.is_empty(), "{refused:?}");
    let error = diagnostics
        .iter()
        .find(|diagnostic| diagnostic["severity"] == "error")
        .expect("an error diagnostic");
    assert!(error["code"].is_string() && error["message"].is_string());
    assert!(error["location"]["line"].is_u64(), "{error}");
    assert!(
        diagnostics.iter().any(|diagnostic| diagnostic["message"]
            .as_str()
            .is_some_and(|message| message.contains("P9"))),
        "{diagnostics:?}"
    );

    std::fs::remove_file(&server.plan_path).unwrap();
    reload(&server, &server.admin)
        .await
        .expect(422, "plan-unreadable");

    let still = server.get("/api/plan", &server.viewer).await;
    assert_eq!(still.body["organization"], "Renamed Start-up");
    assert_eq!(still.body["loaded_at"], after_reload.body["loaded_at"]);
    assert_eq!(still.body["plan"], after_reload.body["plan"]);
    assert_ne!(still.body["plan"], Value::Null);
    server.stop().await;
}
