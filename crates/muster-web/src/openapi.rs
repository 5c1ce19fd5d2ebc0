//! The OpenAPI 3.1 document, built from the route table; its schemas are generated (schemars)
//! from the very types the handlers read and send.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::BODY_LIMIT;
use crate::body::ErrorBody;
use crate::routes::{In, Route, routes};

/// Where schemas live in the document; every generated `$ref` points here.
pub(crate) const SCHEMAS: &str = "#/components/schemas/";

/// The document, built once.
pub(crate) fn document() -> &'static Value {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(build);
    &DOCUMENT
}

fn build() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.definitions_path = SCHEMAS.into();
            settings.meta_schema = None;
        })
        .into_generator();
    let error = generator.subschema_for::<ErrorBody>().to_value();
    let mut paths = Map::new();
    for route in routes() {
        let operation = operation(route, &mut generator, &error);
        let item = paths
            .entry(route.path())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(route.method().as_str().to_ascii_lowercase(), operation);
        }
    }
    let mut schemas = generator.take_definitions(true);
    let declaration = declaration(&schemas);
    schemas.insert("Declaration".to_owned(), declaration);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Muster API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Incidents, their timelines and the plan they follow. Send JSON with \
                `Content-Type: application/json` (at most 64 KiB) and a token as \
                `Authorization: Bearer <secret>`; roles go viewer < responder < admin. \
                Every error is `{\"error\": {\"code\", \"message\"}}` with a stable kebab-case code. \
                Times are milliseconds since the Unix epoch.",
        },
        "tags": [
            {"name": "incidents", "description": "Declaring and working incidents."},
            {"name": "alerts", "description": "Alerts as processed, and triage."},
            {"name": "intake", "description": "Where monitoring sends alerts, its integrations and their keys, and acknowledge links."},
            {"name": "plan", "description": "The incident-response plan in force."},
            {"name": "admin", "description": "Tokens and the audit."},
            {"name": "service", "description": "Health, readiness and this document."},
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token created with `muster token create` or POST /api/tokens.",
                },
            },
        },
    })
}

fn operation(route: &Route, generator: &mut SchemaGenerator, error: &Value) -> Value {
    let mut description = route.description.to_owned();
    let mut operation = Map::new();
    operation.insert("operationId".into(), route.operation.into());
    operation.insert("tags".into(), json!([route.tag]));
    operation.insert("summary".into(), route.summary().into());
    let mut failures: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
    if let Some(role) = route.role() {
        let _ = write!(description, " Needs a {role} token or above.");
        operation.insert("security".into(), json!([{"bearerAuth": []}]));
        operation.insert("x-muster-role".into(), role.as_str().into());
        failures.entry(401).or_default().push(
            "The token is missing (`missing-token`), unknown (`invalid-token`) or revoked (`revoked-token`).",
        );
        failures
            .entry(403)
            .or_default()
            .push("The token's role is too low (`forbidden`).");
        failures
            .entry(500)
            .or_default()
            .push("The database failed (`storage`); details are in the server log.");
    } else {
        operation.insert("security".into(), json!([]));
    }
    operation.insert("description".into(), description.into());
    if !route.parameters.is_empty() {
        let parameters: Vec<Value> = route
            .parameters
            .iter()
            .map(|parameter| {
                let mut value = json!({
                    "name": parameter.name,
                    "in": match parameter.location {
                        In::Path => "path",
                        In::Query => "query",
                    },
                    "required": parameter.location == In::Path,
                    "description": parameter.description,
                    "schema": (parameter.schema)(generator).to_value(),
                });
                if parameter.comma_list {
                    value["style"] = "form".into();
                    value["explode"] = false.into();
                }
                value
            })
            .collect();
        operation.insert("parameters".into(), parameters.into());
    }
    if let Some(body) = route.body {
        operation.insert(
            "requestBody".into(),
            json!({
                "required": true,
                "content": {"application/json": {"schema": body(generator).to_value()}},
            }),
        );
        let syntax = failures.entry(400).or_default();
        syntax.insert(0, "The body is not valid JSON (`malformed-json`).");
        failures
            .entry(413)
            .or_default()
            .push(if BODY_LIMIT == 64 * 1024 {
                "The body is over 64 KiB (`body-too-large`)."
            } else {
                "The body is over the size limit (`body-too-large`)."
            });
        failures
            .entry(415)
            .or_default()
            .push("The body is not sent as `application/json` (`unsupported-media-type`).");
        failures.entry(422).or_default().insert(
            0,
            "The JSON does not have the expected shape (`invalid-body`).",
        );
    }
    for (status, text) in route.failures {
        failures.entry(*status).or_default().push(text);
    }
    let mut responses = Map::new();
    let mut success = json!({"description": route.reply.description});
    if let Some(schema) = route.reply.schema {
        success["content"] = json!({"application/json": {"schema": schema(generator).to_value()}});
    }
    if route.reply.status == 201 && route.path().starts_with("/api/incidents") {
        success["headers"] = json!({
            "Location": {"description": "The new incident's URL.", "schema": {"type": "string"}},
        });
    }
    responses.insert(route.reply.status.to_string(), success);
    for (status, texts) in failures {
        let mut response = json!({
            "description": texts.join(" "),
            "content": {"application/json": {"schema": error}},
        });
        if status == 401 {
            response["headers"] = json!({
                "WWW-Authenticate": {"description": "`Bearer`, as RFC 6750 asks.", "schema": {"type": "string"}},
            });
        }
        if status == 503 && route.role().is_some() {
            response["headers"] = json!({
                "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}},
            });
        }
        responses.insert(status.to_string(), response);
    }
    operation.insert("responses".into(), Value::Object(responses));
    Value::Object(operation)
}

/// The declare command as `POST /api/incidents` takes it: the `declare` variant of `Command`,
/// cut from the generated schema, with `command` optional.
fn declaration(schemas: &Map<String, Value>) -> Value {
    let variant = schemas
        .get("Command")
        .and_then(|command| command.get("oneOf"))
        .and_then(Value::as_array)
        .and_then(|variants| {
            variants.iter().find(|variant| {
                variant.pointer("/properties/command/const") == Some(&json!("declare"))
            })
        });
    let Some(variant) = variant else {
        return json!({"$ref": format!("{SCHEMAS}Command")});
    };
    let mut declaration = variant.clone();
    if let Some(Value::Array(required)) = declaration.get_mut("required") {
        required.retain(|field| field != "command");
    }
    if let Some(command) = declaration.pointer_mut("/properties/command") {
        command["description"] = "May be left out.".into();
    }
    declaration["description"] =
        "A new incident: the declare command, whose `command` field may be left out.".into();
    declaration
}
