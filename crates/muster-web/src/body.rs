//! The JSON the API sends and the request bodies it reads that are not core types. Each response
//! is serialised from one of these types, and the OpenAPI schemas are generated from the same
//! types, so the document describes exactly what goes over the wire.

use muster_core::access::Role;
use muster_core::diagnostic::{self, Diagnostic};
use muster_core::incident::checklist::ChecklistItem;
use muster_core::incident::comms::{Cadence, Deadline};
use muster_core::incident::{Event, Incident, IncidentId, Millis};
use muster_core::plan::{
    CategoryId, IntegrationId, IntegrationKind, PersonId, Plan, ScenarioId, SeverityId,
};
use muster_engine::alerts::TriageDeclaration;
use muster_engine::{AuditReport, BrokenEntry, IncidentView, Outcome};
use muster_store::{AlertRecord, Disposition, IntegrationKeyRecord, TokenRecord};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

/// Every error response.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
    /// The plan's problems, when a reload is refused because of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Vec<DiagnosticDoc>>")]
    pub diagnostics: Option<Vec<Diagnostic>>,
}

impl ErrorBody {
    pub fn new(code: &'static str, message: String, diagnostics: Option<Vec<Diagnostic>>) -> Self {
        Self {
            error: ErrorDetail { code, message },
            diagnostics,
        }
    }
}

/// What went wrong.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ErrorDetail {
    /// A stable kebab-case name, e.g. `invalid-transition`, `missing-token`, `plan-invalid`.
    pub code: &'static str,
    /// What is wrong and what to do about it.
    pub message: String,
}

/// A problem found in a plan. `muster_core`'s `Diagnostic` is serialised as it is; this type only
/// describes that JSON, and a test keeps the two equal.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "Diagnostic")]
pub(crate) struct DiagnosticDoc {
    pub severity: DiagnosticSeverity,
    /// A stable kebab-case name for the kind of problem, e.g. `unknown-reference`.
    pub code: String,
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationDoc>,
}

/// Errors make a plan unusable; warnings do not.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DiagnosticSeverity {
    Error,
    Warning,
}

/// Where in the plan's files a problem is. Lines and columns count from 1.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "Location")]
pub(crate) struct LocationDoc {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Byte offset within the file.
    pub offset: usize,
    /// Length in bytes.
    pub length: usize,
}

impl From<&Diagnostic> for DiagnosticDoc {
    fn from(diagnostic: &Diagnostic) -> Self {
        let Diagnostic {
            severity,
            code,
            message,
            hint,
            location,
        } = diagnostic;
        Self {
            severity: match severity {
                diagnostic::Severity::Error => DiagnosticSeverity::Error,
                diagnostic::Severity::Warning => DiagnosticSeverity::Warning,
            },
            code: (*code).to_owned(),
            message: message.clone(),
            hint: hint.clone(),
            location: location.as_ref().map(|location| {
                let diagnostic::Location {
                    file,
                    line,
                    column,
                    offset,
                    length,
                } = location;
                LocationDoc {
                    file: file.clone(),
                    line: *line,
                    column: *column,
                    offset: *offset,
                    length: *length,
                }
            }),
        }
    }
}

/// `GET /healthz`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Health {
    /// Always `ok`: the process answers.
    pub status: &'static str,
}

/// `GET /readyz` when the database answers.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Ready {
    /// Always `ready`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
}

/// The plan in force.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct PlanBody<'a> {
    /// The organisation the plan is for.
    pub organization: &'a str,
    /// The file or folder the plan is reloaded from; `null` when it was handed in directly.
    pub path: Option<String>,
    /// When this plan was loaded, in milliseconds since the Unix epoch.
    pub loaded_at: Millis,
    /// Warnings the plan was accepted with.
    #[schemars(with = "Vec<DiagnosticDoc>")]
    pub warnings: &'a [Diagnostic],
    pub plan: &'a Plan,
}

/// A plan reload that took effect.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ReloadedPlan<'a> {
    /// Always `true`.
    pub reloaded: bool,
    pub organization: &'a str,
    /// When the new plan was loaded, in milliseconds since the Unix epoch.
    pub loaded_at: Millis,
    /// Warnings the new plan was accepted with.
    #[schemars(with = "Vec<DiagnosticDoc>")]
    pub warnings: &'a [Diagnostic],
}

/// An incident with its runbook checklist.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct IncidentDetail {
    #[serde(flatten)]
    pub incident: Incident,
    /// The runbook's steps in phase order, with what is done and what waits for approval.
    pub checklist: Vec<ChecklistItem>,
    /// The audiences owed updates while it is open: last update, next due, overdue.
    pub communications: Vec<Cadence>,
    /// The deadlines that apply: legal ones and messages due after resolution.
    pub deadlines: Vec<Deadline>,
}

impl From<IncidentView> for IncidentDetail {
    fn from(view: IncidentView) -> Self {
        let IncidentView {
            incident,
            checklist,
            communications,
            deadlines,
        } = view;
        Self {
            incident,
            checklist,
            communications,
            deadlines,
        }
    }
}

/// What a command did.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CommandOutcome {
    /// The incident after the command.
    pub incident: Incident,
    /// The events the command appended, in order.
    pub events: Vec<Event>,
}

impl From<Outcome> for CommandOutcome {
    fn from(outcome: Outcome) -> Self {
        let Outcome { incident, events } = outcome;
        Self { incident, events }
    }
}

/// One page of incidents, most recently declared first.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct IncidentList {
    pub incidents: Vec<Incident>,
    /// How many incidents match the filter in all.
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
}

/// An incident's events in order.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Timeline {
    pub incident: IncidentId,
    pub events: Vec<Event>,
}

/// The audit of every incident's hash chain.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Audit {
    /// `true` when no chain is broken.
    pub clean: bool,
    /// How many incidents were checked.
    pub incidents: usize,
    /// How many events were checked.
    pub events: usize,
    /// The first broken link of each incident whose chain breaks.
    pub broken: Vec<BrokenLink>,
}

/// Where an incident's chain breaks.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct BrokenLink {
    pub incident: String,
    /// The first event that does not verify.
    pub seq: u64,
    pub reason: String,
}

impl From<AuditReport> for Audit {
    fn from(report: AuditReport) -> Self {
        let clean = report.is_clean();
        let AuditReport {
            incidents,
            events,
            broken,
        } = report;
        Self {
            clean,
            incidents,
            events,
            broken: broken
                .into_iter()
                .map(|entry| {
                    let BrokenEntry {
                        incident,
                        seq,
                        reason,
                    } = entry;
                    BrokenLink {
                        incident,
                        seq,
                        reason,
                    }
                })
                .collect(),
        }
    }
}

/// The access role of a token. `Role` is also the name of a plan role, so in the document the
/// token's role is called `TokenRole`; its schema is the access role's own.
pub(crate) struct TokenRole;

impl JsonSchema for TokenRole {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TokenRole".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::TokenRole").into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        Role::json_schema(generator)
    }
}

/// The API tokens, without their secrets (only their hashes are stored).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TokenList {
    pub tokens: Vec<TokenInfo>,
}

/// An API token as listed.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TokenInfo {
    pub name: String,
    #[schemars(with = "TokenRole")]
    pub role: Role,
    /// The plan person the token acts for, if any.
    pub person: Option<PersonId>,
    /// Milliseconds since the Unix epoch.
    pub created_at: Millis,
    /// Milliseconds since the Unix epoch; `null` while the token is valid.
    pub revoked_at: Option<Millis>,
}

impl From<TokenRecord> for TokenInfo {
    fn from(record: TokenRecord) -> Self {
        let TokenRecord {
            name,
            role,
            person,
            created_at,
            revoked_at,
        } = record;
        Self {
            name,
            role,
            person,
            created_at,
            revoked_at,
        }
    }
}

/// A token to create.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    /// Letters, digits, `-`, `_`, `.` or `@`; unique.
    pub name: String,
    #[schemars(with = "TokenRole")]
    pub role: Role,
    /// The plan person this token acts for: approvals made with it are theirs.
    #[serde(default)]
    pub person: Option<PersonId>,
}

/// A created token. The secret is shown this once; only its hash is stored.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CreatedToken {
    pub name: String,
    #[schemars(with = "TokenRole")]
    pub role: Role,
    pub person: Option<PersonId>,
    /// Send as `Authorization: Bearer <secret>`.
    pub secret: String,
}

/// The running plan's integrations with the keys made for them through the API.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct IntegrationList {
    pub integrations: Vec<IntegrationInfo>,
}

/// An integration of the plan.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct IntegrationInfo {
    pub id: IntegrationId,
    /// The payload format it speaks, and so where it posts: `alertmanager`, `webhook` or
    /// `pagerduty`.
    #[serde(rename = "type")]
    pub kind: IntegrationKind,
    pub name: Option<String>,
    /// Most alerts accepted per second or minute, e.g. `500/s`.
    pub rate_limit: Option<String>,
    /// Whether the plan's `key_env` names a secret that is set on this server.
    pub plan_key: bool,
    /// Keys made through the API, revoked ones included; never their secrets.
    pub keys: Vec<IntegrationKeyInfo>,
}

/// A key made through the API, as listed.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct IntegrationKeyInfo {
    pub name: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: Millis,
    /// Milliseconds since the Unix epoch; `null` while the key works.
    pub revoked_at: Option<Millis>,
}

impl From<IntegrationKeyRecord> for IntegrationKeyInfo {
    fn from(record: IntegrationKeyRecord) -> Self {
        Self {
            name: record.name,
            created_at: record.created_at,
            revoked_at: record.revoked_at,
        }
    }
}

/// A key to make for an integration.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewIntegrationKey {
    /// Letters, digits, `-`, `_`, `.` or `@`, at most 64; unique among the integration's live
    /// keys.
    pub name: String,
}

/// A key just made. The secret is shown this once; only its hash is stored.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CreatedIntegrationKey {
    pub integration: String,
    pub name: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: Millis,
    /// The sender's key: `Authorization: Bearer <secret>` or `?key=<secret>` (Alertmanager and
    /// webhooks), or the `routing_key` (PagerDuty events).
    pub secret: String,
}

/// Alerts as processed, most recently seen first.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AlertList {
    pub alerts: Vec<AlertInfo>,
}

/// Where a processed alert went.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AlertDisposition {
    /// Part of an incident.
    Incident,
    /// Held for a responder to declare or attach.
    Triage,
    /// Recorded and otherwise ignored by a route.
    Ignored,
    /// A watchdog alert that keeps a heartbeat alive.
    Heartbeat,
}

impl From<Disposition> for AlertDisposition {
    fn from(disposition: Disposition) -> Self {
        match disposition {
            Disposition::Incident => Self::Incident,
            Disposition::Triage => Self::Triage,
            Disposition::Ignored => Self::Ignored,
            Disposition::Heartbeat => Self::Heartbeat,
        }
    }
}

/// One alert (by integration and key) after its latest notification.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AlertInfo {
    pub integration: String,
    pub key: String,
    /// `firing`, `acknowledged` or `resolved`.
    pub status: String,
    pub summary: String,
    pub severity: Option<String>,
    /// The route that matched it.
    pub route: String,
    pub group: String,
    pub disposition: AlertDisposition,
    /// The incident it is part of.
    pub incident: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub first_seen: Millis,
    /// Milliseconds since the Unix epoch.
    pub last_seen: Millis,
    /// How many notifications of this alert were stored.
    pub occurrences: i64,
    pub labels: serde_json::Value,
}

impl From<AlertRecord> for AlertInfo {
    fn from(record: AlertRecord) -> Self {
        let AlertRecord {
            integration,
            key,
            status,
            summary,
            severity,
            route,
            group,
            disposition,
            incident,
            first_seen,
            last_seen,
            occurrences,
            labels,
        } = record;
        Self {
            integration,
            key,
            status,
            summary,
            severity,
            route,
            group,
            disposition: disposition.into(),
            incident,
            first_seen,
            last_seen,
            occurrences,
            labels,
        }
    }
}

/// How to qualify the incident declared from a triaged alert; its title is the alert's
/// summary. Severity comes from `severity`, from `urgent` and `important`, or from the
/// scenario.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertDeclaration {
    #[serde(default)]
    pub severity: Option<SeverityId>,
    #[serde(default)]
    pub urgent: Option<bool>,
    #[serde(default)]
    pub important: Option<bool>,
    #[serde(default)]
    pub category: Option<CategoryId>,
    /// A scenario of the plan: its category, severity and runbook are the defaults.
    #[serde(default)]
    pub scenario: Option<ScenarioId>,
}

impl From<AlertDeclaration> for TriageDeclaration {
    fn from(body: AlertDeclaration) -> Self {
        let AlertDeclaration {
            severity,
            urgent,
            important,
            category,
            scenario,
        } = body;
        Self {
            severity,
            urgent,
            important,
            category,
            scenario,
        }
    }
}

/// The open incident a triaged alert joins.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertAttachment {
    pub incident: IncidentId,
}

#[cfg(test)]
mod tests {
    use muster_core::diagnostic::{Diagnostic, Location, Severity};

    use super::DiagnosticDoc;

    #[test]
    fn the_diagnostic_description_serialises_like_the_diagnostic() {
        let full = Diagnostic {
            severity: Severity::Warning,
            code: "schedule-gap",
            message: "nobody is on call".to_owned(),
            hint: Some("add a layer".to_owned()),
            location: Some(Location {
                file: "plan.yaml".to_owned(),
                line: 3,
                column: 5,
                offset: 40,
                length: 7,
            }),
        };
        let bare = Diagnostic {
            severity: Severity::Error,
            hint: None,
            location: None,
            ..full.clone()
        };
        for diagnostic in [full, bare] {
            assert_eq!(
                serde_json::to_value(&diagnostic).unwrap(),
                serde_json::to_value(DiagnosticDoc::from(&diagnostic)).unwrap()
            );
        }
    }
}
