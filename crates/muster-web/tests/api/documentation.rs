//! The OpenAPI document against the route table and the running router.

use muster_core::access::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{Server, scenarios};

/// Every `$ref` in `value`.
fn references<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref" {
                    found.push(child.as_str().expect("a $ref is a string"));
                } else {
                    references(child, found);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, found)),
        _ => {}
    }
}

fn method(name: &str) -> Method {
    Method::from_bytes(name.to_ascii_uppercase().as_bytes()).unwrap()
}

#[tokio::test]
async fn the_document_describes_every_route_and_resolves() {
    let server = Server::start().await;
    let answer = server
        .send(Method::GET, "/api/openapi.json", None, None, None)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let document = answer.body;
    assert_eq!(document, muster_web::openapi());
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(
        document["components"]["securitySchemes"]["bearerAuth"],
        json!({"type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["bearerAuth"]["description"]})
    );

    let routes = muster_web::routes();
    let mut documented = 0;
    for (_, item) in document["paths"].as_object().unwrap() {
        documented += item.as_object().unwrap().len();
    }
    assert_eq!(documented, routes.len(), "one operation per route");
    for route in routes {
        let operation =
            &document["paths"][route.path()][route.method().as_str().to_ascii_lowercase()];
        let what = format!("{} {}", route.method().as_str(), route.path());
        assert!(operation.is_object(), "{what} is documented");
        assert_eq!(operation["summary"], route.summary(), "{what}");
        assert!(
            operation["responses"].as_object().unwrap().len() >= 2 || route.role().is_none(),
            "{what}"
        );
        match route.role() {
            Some(role) => {
                assert_eq!(operation["security"], json!([{"bearerAuth": []}]), "{what}");
                assert_eq!(operation["x-muster-role"], role.as_str(), "{what}");
                for status in ["401", "403"] {
                    assert_eq!(
                        operation["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{what} {status}"
                    );
                }
            }
            None => assert_eq!(operation["security"], json!([]), "{what}"),
        }
        if route.takes_body() {
            assert!(
                operation["requestBody"]["content"]["application/json"]["schema"].is_object(),
                "{what}"
            );
            for status in ["400", "413", "415", "422"] {
                assert!(
                    operation["responses"][status].is_object(),
                    "{what} {status}"
                );
            }
        }
        for parameter in route.path().split('{').skip(1) {
            let name = parameter.split('}').next().unwrap();
            let parameters = operation["parameters"].as_array().unwrap();
            assert!(
                parameters
                    .iter()
                    .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true),
                "{what} documents {name}"
            );
        }
    }
    for name in [
        "Command",
        "Incident",
        "Event",
        "EventKind",
        "ChecklistItem",
        "Status",
        "IncidentId",
        "Diagnostic",
        "ErrorBody",
        "Declaration",
        "TokenRole",
    ] {
        assert!(
            document["components"]["schemas"][name].is_object(),
            "schema {name}"
        );
    }
    let declaration = &document["components"]["schemas"]["Declaration"];
    assert_eq!(declaration["required"], json!(["title"]));

    let mut found = Vec::new();
    references(&document, &mut found);
    assert!(found.len() > 20);
    for reference in found {
        let pointer = reference
            .strip_prefix('#')
            .expect("references stay inside the document");
        assert!(document.pointer(pointer).is_some(), "{reference} resolves");
    }
    server.stop().await;
}

#[tokio::test]
async fn every_documented_operation_is_served_with_its_role() {
    let server = Server::start().await;
    let id = server.declare("probe", &scenarios()[0]).await;
    let spare = server
        .post(
            "/api/tokens",
            &server.admin,
            &json!({"name": "spare", "role": "viewer"}),
        )
        .await;
    assert_eq!(spare.status, StatusCode::CREATED);
    let document = muster_web::openapi();
    for (path, item) in document["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{id}", &id)
            .replace("{name}", "spare")
            .replace("{token}", "not-a-signed-link")
            .replace("{integration}", "prometheus")
            .replace("{key}", "no-such-alert");
        assert!(
            !concrete.contains('{'),
            "{path} has a parameter this test does not fill"
        );
        for (name, operation) in item.as_object().unwrap() {
            let method = method(name);
            let what = format!("{method} {path}");
            let body = operation.get("requestBody").map(|_| "{}".to_owned());
            let content_type = body.as_ref().map(|_| "application/json");

            let anonymous = server
                .send(method.clone(), &concrete, None, body.clone(), content_type)
                .await;
            let role = operation.get("x-muster-role").and_then(Value::as_str);
            if role.is_some() {
                anonymous.expect(401, "missing-token");
            } else if operation["responses"]["401"].is_null() {
                // Open routes answer without credentials, unless they document a 401: intake
                // routes check an integration key, the calendar feed a token in its query.
                assert_ne!(anonymous.status, StatusCode::UNAUTHORIZED, "{what}");
            }
            if let Some(role) = role.map(|role| role.parse::<Role>().unwrap())
                && role > Role::Viewer
            {
                server
                    .send(
                        method.clone(),
                        &concrete,
                        Some(&server.viewer),
                        body.clone(),
                        content_type,
                    )
                    .await
                    .expect(403, "forbidden");
            }

            let answer = server
                .send(
                    method.clone(),
                    &concrete,
                    Some(&server.admin),
                    body,
                    content_type,
                )
                .await;
            assert_ne!(
                answer.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{what}: {answer:?}"
            );
            assert_ne!(answer.code(), "no-such-route", "{what}: {answer:?}");
            assert!(answer.status.as_u16() < 500, "{what}: {answer:?}");
            let documented = operation["responses"][answer.status.as_str()].is_object();
            assert!(
                documented,
                "{what} answered {} which is not documented",
                answer.status
            );
        }
    }
    server.stop().await;
}
