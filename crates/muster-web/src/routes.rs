//! The one table of routes. The router is built from it (path, method, handler and the guard for
//! its least role) and so is the OpenAPI document (summary, parameters, bodies, responses,
//! security), so what is served and what is documented cannot drift apart.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodFilter, MethodRouter, on};
use muster_core::access::Role;
use muster_core::incident::{Command, IncidentId};
use muster_engine::Engine;
use schemars::{JsonSchema, Schema, SchemaGenerator};

use crate::auth::{self, Guard};
use crate::body::{
    AlertAttachment, AlertDeclaration, AlertList, Audit, CommandOutcome, CreatedIntegrationKey,
    CreatedToken, Health, IncidentDetail, IncidentList, IntegrationList, NewIntegrationKey,
    NewToken, PlanBody, Ready, ReloadedPlan, Timeline, TokenList,
};
use crate::{BODY_LIMIT, handlers};

/// Produces a schema (usually a `$ref` into `components.schemas`) for the document.
pub(crate) type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

pub(crate) fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Reads; never changes anything.
    Get,
    /// Creates or changes something.
    Post,
    /// Removes (for tokens: revokes) something.
    Delete,
}

impl Method {
    /// The method as sent on the wire, e.g. `GET`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Method::Get => MethodFilter::GET,
            Method::Post => MethodFilter::POST,
            Method::Delete => MethodFilter::DELETE,
        }
    }
}

/// Where a parameter is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum In {
    Path,
    Query,
}

/// A path or query parameter.
#[derive(Debug)]
pub(crate) struct Param {
    pub name: &'static str,
    pub location: In,
    pub description: &'static str,
    pub schema: SchemaFn,
    /// A comma-separated list (OpenAPI `style: form, explode: false`).
    pub comma_list: bool,
}

/// A response body: status, what it means, and its schema (none for an empty body).
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub description: &'static str,
    pub schema: Option<SchemaFn>,
}

/// One route: how it is served and how it is documented.
#[derive(Debug)]
pub struct Route {
    method: Method,
    path: &'static str,
    pub(crate) operation: &'static str,
    pub(crate) tag: &'static str,
    summary: &'static str,
    pub(crate) description: &'static str,
    role: Option<Role>,
    pub(crate) parameters: &'static [Param],
    pub(crate) body: Option<SchemaFn>,
    pub(crate) reply: Reply,
    /// Failures particular to this route, beyond those of authentication and body parsing.
    pub(crate) failures: &'static [(u16, &'static str)],
    handler: fn(MethodFilter) -> MethodRouter<Arc<Engine>>,
}

impl Route {
    /// The HTTP method the route answers.
    #[must_use]
    pub fn method(&self) -> Method {
        self.method
    }

    /// The path template, with parameters in braces (`/api/incidents/{id}`), as axum and OpenAPI
    /// both write it.
    #[must_use]
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// A one-line description, as the OpenAPI document gives it.
    #[must_use]
    pub fn summary(&self) -> &'static str {
        self.summary
    }

    /// The least role a token needs; `None` for routes open to anyone.
    #[must_use]
    pub fn role(&self) -> Option<Role> {
        self.role
    }

    /// Whether the route reads a JSON body.
    #[must_use]
    pub fn takes_body(&self) -> bool {
        self.body.is_some()
    }
}

const INCIDENT_ID: Param = Param {
    name: "id",
    location: In::Path,
    description: "The incident's id, e.g. INC-20251207-001.",
    schema: schema::<IncidentId>,
    comma_list: false,
};

const TOKEN_NAME: Param = Param {
    name: "name",
    location: In::Path,
    description: "The token's name.",
    schema: schema::<String>,
    comma_list: false,
};

const INTEGRATION_ID: Param = Param {
    name: "id",
    location: In::Path,
    description: "The integration's id in the plan.",
    schema: schema::<String>,
    comma_list: false,
};

const KEY_NAME: Param = Param {
    name: "name",
    location: In::Path,
    description: "The key's name.",
    schema: schema::<String>,
    comma_list: false,
};

const ALERT_INTEGRATION: Param = Param {
    name: "integration",
    location: In::Path,
    description: "The id of the integration the alert came from.",
    schema: schema::<String>,
    comma_list: false,
};

const ALERT_KEY: Param = Param {
    name: "key",
    location: In::Path,
    description: "The alert's key (percent-encode a `/` in it as `%2F`).",
    schema: schema::<String>,
    comma_list: false,
};

fn declaration(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<Command>();
    Schema::new_ref(format!("{}Declaration", crate::openapi::SCHEMAS))
}

/// Every route the API serves.
#[must_use]
pub fn routes() -> &'static [Route] {
    static ROUTES: std::sync::LazyLock<Vec<Route>> = std::sync::LazyLock::new(table);
    &ROUTES
}

fn table() -> Vec<Route> {
    let mut table = vec![
        Route {
            method: Method::Get,
            path: "/healthz",
            operation: "health",
            tag: "service",
            summary: "Whether the process answers",
            description: "Always 200 while the server runs; needs no token.",
            role: None,
            parameters: &[],
            body: None,
            reply: Reply {
                status: 200,
                description: "The server is up.",
                schema: Some(schema::<Health>),
            },
            failures: &[],
            handler: |filter| on(filter, handlers::health),
        },
        Route {
            method: Method::Get,
            path: "/readyz",
            operation: "ready",
            tag: "service",
            summary: "Whether the server can serve requests",
            description: "200 when the database answers, 503 otherwise; needs no token.",
            role: None,
            parameters: &[],
            body: None,
            reply: Reply {
                status: 200,
                description: "The database answers.",
                schema: Some(schema::<Ready>),
            },
            failures: &[(503, "The database does not answer (`not-ready`).")],
            handler: |filter| on(filter, handlers::ready),
        },
        Route {
            method: Method::Get,
            path: "/api/openapi.json",
            operation: "openapi",
            tag: "service",
            summary: "This API's OpenAPI 3.1 document",
            description: "Needs no token.",
            role: None,
            parameters: &[],
            body: None,
            reply: Reply {
                status: 200,
                description: "The OpenAPI document.",
                schema: Some(|_| schemars::json_schema!({"type": "object"})),
            },
            failures: &[],
            handler: |filter| on(filter, handlers::openapi),
        },
        Route {
            method: Method::Get,
            path: "/api/plan",
            operation: "getPlan",
            tag: "plan",
            summary: "The plan in force",
            description: "The running plan as JSON, where it was loaded from, when, and the warnings it was accepted with.",
            role: Some(Role::Viewer),
            parameters: &[],
            body: None,
            reply: Reply {
                status: 200,
                description: "The running plan.",
                schema: Some(schema::<PlanBody<'static>>),
            },
            failures: &[],
            handler: |filter| on(filter, handlers::plan),
        },
        Route {
            method: Method::Post,
            path: "/api/plan/reload",
            operation: "reloadPlan",
            tag: "plan",
            summary: "Re-read the plan from its file",
            description: "The new plan takes effect only if it checks without errors; otherwise the running plan stays and the diagnostics are returned. Takes no body.",
            role: Some(Role::Admin),
            parameters: &[],
            body: None,
            reply: Reply {
                status: 200,
                description: "The new plan is in force.",
                schema: Some(schema::<ReloadedPlan<'static>>),
            },
            failures: &[
                (409, "The plan was not loaded from a file (`no-plan-path`)."),
                (
                    422,
                    "The new plan has errors (`plan-invalid`, with `diagnostics`) or cannot be read (`plan-unreadable`); the running plan stays.",
                ),
            ],
            handler: |filter| on(filter, handlers::reload_plan),
        },
        // On-call
        Route {
            method: Method::Get,
            path: "/api/oncall",
            operation: "getOnCall",
            tag: "plan",
            summary: "Who is on call now and next",
            description: "Every schedule of the running plan at a moment (now, or `at`): the whole shift on call then and the next hand-off. Times here are RFC 3339 strings, as in the plan, not milliseconds.",
            role: Some(Role::Viewer),
            parameters: &[crate::oncall::AT],
            body: None,
            reply: Reply {
                status: 200,
                description: "Every schedule, now and next.",
                schema: Some(schema::<crate::oncall::OnCall>),
            },
            failures: &[(
                400,
                "An unknown parameter or an `at` that is not an RFC 3339 time (`invalid-query`).",
            )],
            handler: |filter| on(filter, crate::oncall::now),
        },
        Route {
            method: Method::Get,
            path: "/api/schedules/{id}/oncall.ics",
            operation: "getOnCallCalendar",
            tag: "plan",
            summary: "A schedule's shifts as an iCalendar feed",
            description: "`text/calendar; charset=utf-8` (RFC 5545): one event per shift from 7 days ago to 90 days ahead, in UTC, each with a UID that stays the same when the feed is fetched again. Needs a viewer token or above, which calendar apps send as `?token=` because they cannot send headers; `Authorization: Bearer` works too. The token is checked in the handler, so this operation lists no security scheme.",
            role: None,
            parameters: &[crate::oncall::SCHEDULE_ID, crate::oncall::TOKEN],
            body: None,
            reply: Reply {
                status: 200,
                description: "The calendar, as `text/calendar; charset=utf-8`.",
                schema: None,
            },
            failures: &[
                (
                    400,
                    "An unknown query parameter, or one given twice (`invalid-query`).",
                ),
                (
                    401,
                    "The token is missing (`missing-token`), unknown (`invalid-token`) or revoked (`revoked-token`).",
                ),
                (404, "The plan has no such schedule (`unknown-schedule`)."),
                (
                    500,
                    "The database failed (`storage`) or the schedule cannot be evaluated (`unevaluable-schedule`); details are in the server log.",
                ),
            ],
            handler: |filter| on(filter, crate::oncall::calendar),
        },
        Route {
            method: Method::Get,
            path: "/api/incidents",
            operation: "listIncidents",
            tag: "incidents",
            summary: "List incidents",
            description: "Most recently declared first. Every parameter narrows the list; an unknown parameter or a bad value is refused (`invalid-query`).",
            role: Some(Role::Viewer),
            parameters: crate::query::parameters(),
            body: None,
            reply: Reply {
                status: 200,
                description: "One page of matching incidents and how many match in all.",
                schema: Some(schema::<IncidentList>),
            },
            failures: &[(
                400,
                "An unknown parameter or a bad value (`invalid-query`).",
            )],
            handler: |filter| on(filter, handlers::list_incidents),
        },
        Route {
            method: Method::Post,
            path: "/api/incidents",
            operation: "declareIncident",
            tag: "incidents",
            summary: "Declare an incident",
            description: "The body is a declare command; its `command` field may be left out. Severity comes from `severity`, from `urgent` and `important`, or from the scenario.",
            role: Some(Role::Responder),
            parameters: &[],
            body: Some(declaration),
            reply: Reply {
                status: 201,
                description: "The incident was declared; `Location` names it.",
                schema: Some(schema::<CommandOutcome>),
            },
            failures: &[(
                422,
                "The plan's rules refuse the declaration (e.g. `unknown-reference`, `missing-severity`, `time-order`).",
            )],
            handler: |filter| on(filter, handlers::declare),
        },
        Route {
            method: Method::Get,
            path: "/api/incidents/{id}",
            operation: "getIncident",
            tag: "incidents",
            summary: "An incident and its checklist",
            description: "The incident's state with its runbook checklist.",
            role: Some(Role::Viewer),
            parameters: &[INCIDENT_ID],
            body: None,
            reply: Reply {
                status: 200,
                description: "The incident.",
                schema: Some(schema::<IncidentDetail>),
            },
            failures: &[
                (400, "The id is malformed (`invalid-id`)."),
                (404, "There is no such incident (`unknown-incident`)."),
            ],
            handler: |filter| on(filter, handlers::incident),
        },
        Route {
            method: Method::Get,
            path: "/api/incidents/{id}/timeline",
            operation: "getTimeline",
            tag: "incidents",
            summary: "An incident's events in order",
            description: "Every event, each chained to the one before by its hash.",
            role: Some(Role::Viewer),
            parameters: &[INCIDENT_ID],
            body: None,
            reply: Reply {
                status: 200,
                description: "The timeline.",
                schema: Some(schema::<Timeline>),
            },
            failures: &[
                (400, "The id is malformed (`invalid-id`)."),
                (404, "There is no such incident (`unknown-incident`)."),
            ],
            handler: |filter| on(filter, handlers::timeline),
        },
        Route {
            method: Method::Post,
            path: "/api/incidents/{id}/commands",
            operation: "runCommand",
            tag: "incidents",
            summary: "Apply a command to an incident",
            description: "The body is a command tagged by `command`, e.g. `{\"command\":\"acknowledge\"}`. A refused command changes nothing.",
            role: Some(Role::Responder),
            parameters: &[INCIDENT_ID],
            body: Some(schema::<Command>),
            reply: Reply {
                status: 200,
                description: "The command was applied.",
                schema: Some(schema::<CommandOutcome>),
            },
            failures: &[
                (400, "The id is malformed (`invalid-id`)."),
                (
                    403,
                    "An approval is not the caller's own to give (`forbidden`).",
                ),
                (404, "There is no such incident (`unknown-incident`)."),
                (
                    409,
                    "The incident's state does not allow it (e.g. `invalid-transition`, `incident-finished`, `no-change`, `needs-approval`).",
                ),
                (
                    422,
                    "The plan's rules refuse the command (e.g. `unknown-reference`, `missing-text`, `not-an-approver`).",
                ),
                (
                    503,
                    "Too many writers on this incident at once (`busy`); retry after `Retry-After` seconds.",
                ),
            ],
            handler: |filter| on(filter, handlers::command),
        },
        // Communications, post-mortems and action items
        Route {
            method: Method::Post,
            path: "/api/incidents/{id}/messages/preview",
            operation: "previewMessage",
            tag: "incidents",
            summary: "Render a plan template for an incident without sending it",
            description: "The text `send_message` without a `body` would send: the template filled from the incident (and the audience's next update time). An unknown variable is refused here, before anything is sent.",
            role: Some(Role::Viewer),
            parameters: &[INCIDENT_ID],
            body: Some(schema::<crate::followup::PreviewRequest>),
            reply: Reply {
                status: 200,
                description: "The rendered subject and body.",
                schema: Some(schema::<crate::followup::Preview>),
            },
            failures: &[
                (400, "The id is malformed (`invalid-id`)."),
                (404, "There is no such incident (`unknown-incident`)."),
                (
                    422,
                    "No such template (`unknown-reference`), or it cannot be rendered for this incident (`template-error`, naming the variable or the line).",
                ),
            ],
            handler: |filter| on(filter, crate::followup::preview),
        },
        Route {
            method: Method::Get,
            path: "/api/incidents/{id}/postmortem",
            operation: "getPostmortem",
            tag: "incidents",
            summary: "The incident's post-mortem",
            description: "The latest saved version (Markdown), with which version is published; before anything is saved, the draft written from the incident (`version` 0). Save with the `save_postmortem` command and publish with `publish_postmortem`.",
            role: Some(Role::Viewer),
            parameters: &[INCIDENT_ID],
            body: None,
            reply: Reply {
                status: 200,
                description: "The post-mortem.",
                schema: Some(schema::<crate::followup::Postmortem>),
            },
            failures: &[
                (400, "The id is malformed (`invalid-id`)."),
                (404, "There is no such incident (`unknown-incident`)."),
            ],
            handler: |filter| on(filter, crate::followup::postmortem),
        },
        Route {
            method: Method::Get,
            path: "/api/incidents/{id}/postmortem/draft",
            operation: "draftPostmortem",
            tag: "incidents",
            summary: "A fresh post-mortem draft from the incident",
            description: "Summary, severity, duration, impact, the timeline table from the event log, root cause, what went well and poorly (from the SLAs, updates and deadlines), action items and lessons, in the plan's post-mortem template or the usual outline. Nothing is saved.",
            role: Some(Role::Viewer),
            parameters: &[INCIDENT_ID],
            body: None,
            reply: Reply {
                status: 200,
                description: "The draft.",
                schema: Some(schema::<crate::followup::Draft>),
            },
            failures: &[
                (400, "The id is malformed (`invalid-id`)."),
                (404, "There is no such incident (`unknown-incident`)."),
            ],
            handler: |filter| on(filter, crate::followup::draft),
        },
        Route {
            method: Method::Get,
            path: "/api/action-items",
            operation: "listActionItems",
            tag: "incidents",
            summary: "Action items across incidents",
            description: "Soonest due first. `overdue=true` is the overdue report: open items past their due date. Drills' items only with `drills=true`.",
            role: Some(Role::Viewer),
            parameters: crate::query::action_item_parameters(),
            body: None,
            reply: Reply {
                status: 200,
                description: "The matching action items.",
                schema: Some(schema::<crate::followup::ActionItemList>),
            },
            failures: &[(
                400,
                "An unknown or repeated parameter, or a value that does not parse (`invalid-query`).",
            )],
            handler: |filter| on(filter, crate::followup::action_items),
        },
        Route {
            method: Method::Get,
            path: "/api/audit",
            operation: "verifyAudit",
            tag: "admin",
            summary: "Verify every incident's hash chain",
            description: "Recomputes each chain from the stored bytes; 200 whether or not a chain is broken (see `clean`).",
            role: Some(Role::Admin),
            parameters: &[],
            body: None,
            reply: Reply {
                status: 200,
                description: "The audit report.",
                schema: Some(schema::<Audit>),
            },
            failures: &[],
            handler: |filter| on(filter, handlers::audit),
        },
        Route {
            method: Method::Get,
            path: "/api/tokens",
            operation: "listTokens",
            tag: "admin",
            summary: "List API tokens",
            description: "Names, roles and dates; secrets are never stored or shown.",
            role: Some(Role::Admin),
            parameters: &[],
            body: None,
            reply: Reply {
                status: 200,
                description: "Every token, revoked ones included.",
                schema: Some(schema::<TokenList>),
            },
            failures: &[],
            handler: |filter| on(filter, handlers::tokens),
        },
        Route {
            method: Method::Post,
            path: "/api/tokens",
            operation: "createToken",
            tag: "admin",
            summary: "Create an API token",
            description: "The secret is in the response and shown this once.",
            role: Some(Role::Admin),
            parameters: &[],
            body: Some(schema::<NewToken>),
            reply: Reply {
                status: 201,
                description: "The token was created.",
                schema: Some(schema::<CreatedToken>),
            },
            failures: &[
                (409, "A token by that name exists (`token-exists`)."),
                (
                    422,
                    "The name is unusable or the person is not in the plan (`invalid-token-request`).",
                ),
            ],
            handler: |filter| on(filter, handlers::create_token),
        },
        Route {
            method: Method::Delete,
            path: "/api/tokens/{name}",
            operation: "revokeToken",
            tag: "admin",
            summary: "Revoke an API token",
            description: "The token stops working at once; it stays listed as revoked.",
            role: Some(Role::Admin),
            parameters: &[TOKEN_NAME],
            body: None,
            reply: Reply {
                status: 204,
                description: "The token is revoked.",
                schema: None,
            },
            failures: &[(
                404,
                "There is no valid token by that name (`unknown-token`).",
            )],
            handler: |filter| on(filter, handlers::revoke_token),
        },
    ];
    table.extend(integration_routes());
    table.extend(alert_routes());
    table.extend(intake_routes());
    table.extend(metrics_routes());
    table
}

/// The plan's integrations and the keys made for them through the API.
fn integration_routes() -> Vec<Route> {
    vec![
        Route {
            method: Method::Get,
            path: "/api/integrations",
            operation: "listIntegrations",
            tag: "intake",
            summary: "List the plan's integrations and their keys",
            description: "Each integration of the running plan with its type, rate limit, whether its plan key (`key_env`) is set, and the keys made for it through the API (names and dates; secrets are never stored or shown).",
            role: Some(Role::Viewer),
            parameters: &[],
            body: None,
            reply: Reply {
                status: 200,
                description: "Every integration of the plan.",
                schema: Some(schema::<IntegrationList>),
            },
            failures: &[],
            handler: |filter| on(filter, handlers::integrations),
        },
        Route {
            method: Method::Post,
            path: "/api/integrations/{id}/keys",
            operation: "createIntegrationKey",
            tag: "intake",
            summary: "Make a key for an integration",
            description: "The key works beside the plan's key for as long as the integration is in the plan and the key is not revoked. The secret is in the response and shown this once.",
            role: Some(Role::Admin),
            parameters: &[INTEGRATION_ID],
            body: Some(schema::<NewIntegrationKey>),
            reply: Reply {
                status: 201,
                description: "The key was made.",
                schema: Some(schema::<CreatedIntegrationKey>),
            },
            failures: &[
                (
                    404,
                    "The plan has no such integration (`unknown-integration`; the message lists them).",
                ),
                (
                    409,
                    "The integration has a live key of that name (`integration-key-exists`).",
                ),
                (
                    422,
                    "The name is empty, over 64 characters or has other characters than letters, digits, `-`, `_`, `.` and `@` (`invalid-key-name`).",
                ),
            ],
            handler: |filter| on(filter, handlers::create_integration_key),
        },
        Route {
            method: Method::Delete,
            path: "/api/integrations/{id}/keys/{name}",
            operation: "revokeIntegrationKey",
            tag: "intake",
            summary: "Revoke an integration key",
            description: "The key is refused from the next request on, on every instance; it stays listed as revoked and its name may be given to a new key.",
            role: Some(Role::Admin),
            parameters: &[INTEGRATION_ID, KEY_NAME],
            body: None,
            reply: Reply {
                status: 204,
                description: "The key is revoked.",
                schema: None,
            },
            failures: &[(
                404,
                "The plan has no such integration (`unknown-integration`), or it has no live key of that name (`unknown-integration-key`).",
            )],
            handler: |filter| on(filter, handlers::revoke_integration_key),
        },
    ]
}

/// Alerts as processed, and the triage of those a route held for a person to look at.
fn alert_routes() -> Vec<Route> {
    const TRIAGE_FAILURES: &[(u16, &str)] = &[
        (
            404,
            "There is no such alert (`unknown-alert`), or no such incident (`unknown-incident`).",
        ),
        (
            409,
            "The alert is not held in triage, e.g. it is part of an incident already (`not-in-triage`), or the incident is finished (`incident-finished`); nothing was changed.",
        ),
        (
            422,
            "The plan's rules refuse the declaration (e.g. `unknown-reference`, `missing-severity`).",
        ),
        (
            503,
            "Too many writers on the incident at once (`busy`); retry after `Retry-After` seconds.",
        ),
    ];
    vec![
        Route {
            method: Method::Get,
            path: "/api/alerts",
            operation: "listAlerts",
            tag: "alerts",
            summary: "List alerts",
            description: "Each alert (by integration and key) after its latest notification, most recently seen first. Every parameter narrows the list; an unknown parameter or a bad value is refused (`invalid-query`).",
            role: Some(Role::Viewer),
            parameters: crate::query::alert_parameters(),
            body: None,
            reply: Reply {
                status: 200,
                description: "The matching alerts.",
                schema: Some(schema::<AlertList>),
            },
            failures: &[(
                400,
                "An unknown parameter or a bad value (`invalid-query`).",
            )],
            handler: |filter| on(filter, handlers::list_alerts),
        },
        Route {
            method: Method::Post,
            path: "/api/alerts/{integration}/{key}/declare",
            operation: "declareFromAlert",
            tag: "alerts",
            summary: "Declare an incident from a triaged alert",
            description: "The incident's title is the alert's summary; the body qualifies it (`severity`, or `urgent` and `important`, `category`, `scenario`; `{}` for the scenario-less defaults). The declaration, the alert's `alerts_attached` event and the alert leaving triage are one transaction; a repeat finds the alert part of the incident and changes nothing.",
            role: Some(Role::Responder),
            parameters: &[ALERT_INTEGRATION, ALERT_KEY],
            body: Some(schema::<AlertDeclaration>),
            reply: Reply {
                status: 201,
                description: "The incident was declared; `Location` names it.",
                schema: Some(schema::<CommandOutcome>),
            },
            failures: TRIAGE_FAILURES,
            handler: |filter| on(filter, handlers::declare_alert),
        },
        Route {
            method: Method::Post,
            path: "/api/alerts/{integration}/{key}/attach",
            operation: "attachAlert",
            tag: "alerts",
            summary: "Attach a triaged alert to an open incident",
            description: "Appends an `alerts_attached` event to the incident and takes the alert out of triage, in one transaction; a repeat finds the alert part of the incident and changes nothing.",
            role: Some(Role::Responder),
            parameters: &[ALERT_INTEGRATION, ALERT_KEY],
            body: Some(schema::<AlertAttachment>),
            reply: Reply {
                status: 200,
                description: "The alert is part of the incident.",
                schema: Some(schema::<CommandOutcome>),
            },
            failures: TRIAGE_FAILURES,
            handler: |filter| on(filter, handlers::attach_alert),
        },
    ]
}

const ACK_TOKEN: Param = Param {
    name: "token",
    location: In::Path,
    description: "The signed token of an acknowledge link.",
    schema: schema::<String>,
    comma_list: false,
};

/// Where monitoring sends alerts, and where links in notifications lead. These routes take
/// integration keys or signed links, not API tokens.
fn intake_routes() -> Vec<Route> {
    const FAILURES: &[(u16, &str)] = &[
        (
            400,
            "The payload is invalid; every problem is listed (`invalid-payload`).",
        ),
        (
            401,
            "No key, or a key of no integration of this kind (`missing-key`, `unknown-key`).",
        ),
        (413, "The body is over 512 KiB (`body-too-large`)."),
        (415, "The body is not JSON (`unsupported-media-type`)."),
        (
            429,
            "The integration is over its rate limit; see `Retry-After` (`rate-limited`).",
        ),
        (
            503,
            "The alerts could not be stored; retry (`unavailable`).",
        ),
    ];
    vec![
        Route {
            method: Method::Post,
            path: "/intake/alertmanager",
            operation: "alertmanagerWebhook",
            tag: "intake",
            summary: "Receive an Alertmanager webhook notification",
            description: "Prometheus Alertmanager's webhook payload, version 4. The integration \
                is found by its key: `Authorization: Bearer KEY` (Alertmanager's \
                `http_config.authorization.credentials`) or `?key=KEY`. Resends of a notification \
                already stored (same fingerprint, status and start) are not stored again. \
                202 only once the alerts are on disk.",
            role: None,
            parameters: &[],
            body: None,
            reply: Reply {
                status: 202,
                description: "The alerts are stored.",
                schema: Some(schema::<crate::intake::IntakeAccepted>),
            },
            failures: FAILURES,
            handler: |filter| on(filter, crate::intake::alertmanager_webhook),
        },
        Route {
            method: Method::Post,
            path: "/intake/webhook",
            operation: "genericWebhook",
            tag: "intake",
            summary: "Receive alerts from any JSON webhook",
            description: "The body is read through the integration's `mapping` in the plan. \
                The key is given as for Alertmanager.",
            role: None,
            parameters: &[],
            body: None,
            reply: Reply {
                status: 202,
                description: "The alerts are stored.",
                schema: Some(schema::<crate::intake::IntakeAccepted>),
            },
            failures: FAILURES,
            handler: |filter| on(filter, crate::intake::generic_webhook),
        },
        Route {
            method: Method::Post,
            path: "/v2/enqueue",
            operation: "pagerdutyEnqueue",
            tag: "intake",
            summary: "Receive a PagerDuty Events API v2 event",
            description: "Compatible with PagerDuty's Events API v2: `routing_key` names the \
                integration, `event_action` is trigger, acknowledge or resolve, `dedup_key` \
                identifies the alert (one is made and returned for a trigger without one). \
                Answers as PagerDuty does: 202 `{status: success, message, dedup_key}`, 400 \
                `{status: invalid event, message, errors}`, 429 when throttled.",
            role: None,
            parameters: &[],
            body: None,
            reply: Reply {
                status: 202,
                description: "The event is stored.",
                schema: None,
            },
            failures: &[
                (400, "The event is invalid, or its routing key is unknown."),
                (413, "The body is over 512 KiB."),
                (415, "The body is not sent as JSON."),
                (
                    429,
                    "The integration is over its rate limit; see `Retry-After`.",
                ),
                (503, "The event could not be stored; retry."),
            ],
            handler: |filter| on(filter, crate::intake::pagerduty_enqueue),
        },
        Route {
            method: Method::Get,
            path: "/ack/{token}",
            operation: "ackLinkPage",
            tag: "intake",
            summary: "Show what an acknowledge link acknowledges",
            description: "An HTML page with a button; opening the link changes nothing (chat \
                apps fetch links to preview them).",
            role: None,
            parameters: &[ACK_TOKEN],
            body: None,
            reply: Reply {
                status: 200,
                description: "The confirmation page.",
                schema: None,
            },
            failures: &[(403, "The link is forged or expired.")],
            handler: |filter| on(filter, crate::ack::confirm),
        },
        Route {
            method: Method::Post,
            path: "/ack/{token}",
            operation: "ackLink",
            tag: "intake",
            summary: "Acknowledge through a link from a notification",
            description: "Acknowledges as the person the link was made for. A link used again \
                is refused with 409: the incident is already acknowledged.",
            role: None,
            parameters: &[ACK_TOKEN],
            body: None,
            reply: Reply {
                status: 200,
                description: "Acknowledged (an HTML page).",
                schema: None,
            },
            failures: &[
                (403, "The link is forged or expired."),
                (
                    409,
                    "The incident was already acknowledged, or is finished.",
                ),
            ],
            handler: |filter| on(filter, crate::ack::acknowledge),
        },
    ]
}

/// The team's numbers and Muster's own health, for people and for Prometheus.
fn metrics_routes() -> Vec<Route> {
    vec![
        Route {
            method: Method::Get,
            path: "/api/metrics/report",
            operation: "getReport",
            tag: "incidents",
            summary: "The team's numbers over a period",
            description: "Over the incidents declared in the period (days in the plan's time zone; the last 30 days, today included, by default) and the action items created in it: time to detect, acknowledge and resolve (count, mean, median and 90th percentile by nearest rank, in seconds) overall, per severity and per category, each against its target where the plan sets one; per severity the share acknowledged within `ack_within`, resolved within `resolve_target` and detected within the MTTD target; incidents per week; the repeat rate by root-cause tag; action-item completion. Drills only with `drills=true`.",
            role: Some(Role::Viewer),
            parameters: crate::metrics::REPORT_PARAMETERS,
            body: None,
            reply: Reply {
                status: 200,
                description: "The report.",
                schema: Some(schema::<muster_core::metrics::Report>),
            },
            failures: &[(
                400,
                "An unknown or repeated parameter, a day not written YYYY-MM-DD, or an empty period (`invalid-query`, naming the parameter).",
            )],
            handler: |filter| on(filter, crate::metrics::report),
        },
        Route {
            method: Method::Get,
            path: "/metrics",
            operation: "prometheusMetrics",
            tag: "service",
            summary: "Metrics for Prometheus",
            description: "Prometheus text exposition format 0.0.4 (`text/plain; version=0.0.4; charset=utf-8`): open incidents per severity; over the last 30 days (drills left out) incidents declared, time to detect, acknowledge and resolve as summaries (median and 90th percentile, with sum and count), deadline compliance, the repeat rate and action items; and this instance's own counters (alerts received and rejected, notifications by outcome, timers fired and their lag, declarations). Prometheus sends the token with `authorization: {credentials: <token>}` in its scrape config.",
            role: Some(Role::Viewer),
            parameters: &[],
            body: None,
            reply: Reply {
                status: 200,
                description: "The metrics, as `text/plain; version=0.0.4; charset=utf-8`.",
                schema: None,
            },
            failures: &[],
            handler: |filter| on(filter, crate::metrics::prometheus),
        },
    ]
}

/// The API over `engine`, built from [`routes`].
pub(crate) fn build(engine: Arc<Engine>) -> Router {
    let mut router = Router::new();
    for route in routes() {
        let mut endpoint = (route.handler)(route.method.filter());
        if let Some(role) = route.role {
            endpoint = endpoint.route_layer(axum::middleware::from_fn_with_state(
                Guard {
                    engine: engine.clone(),
                    role,
                },
                auth::guard,
            ));
        }
        router = router.route(route.path, endpoint);
    }
    router
        .merge(crate::ui::router())
        .fallback(handlers::no_route)
        .method_not_allowed_fallback(handlers::wrong_method)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(handlers::run_to_completion))
        .layer(axum::middleware::from_fn(handlers::log_request))
        .with_state(engine)
}
