//! `muster incident …`: the CLI as a client of a running server.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use muster_core::incident::IncidentId;
use muster_core::incident::signature::approval_message;
use serde_json::{Map, Value, json};

use crate::cli::client::{CallError, Client, ServerArgs};
use crate::cli::followup;
use crate::cli::table;

#[derive(Debug, Args)]
pub struct IncidentArgs {
    #[command(subcommand)]
    command: IncidentCommand,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Debug, Subcommand)]
enum IncidentCommand {
    /// Declare an incident, from a scenario of the plan or ad hoc.
    Declare(DeclareArgs),
    /// List incidents, newest first.
    List(ListArgs),
    /// Show an incident and its runbook checklist.
    Show { id: IncidentId },
    /// Acknowledge an incident (stops escalation).
    Ack {
        id: IncidentId,
        /// The person acknowledging (defaults to the token's person).
        #[arg(long = "as")]
        person: Option<String>,
    },
    /// Give a person one of the plan's incident roles.
    Assign {
        id: IncidentId,
        role: String,
        person: String,
    },
    /// Move an incident to another status (triage, investigating, identified, monitoring).
    Status {
        id: IncidentId,
        status: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Change the severity, by name or by urgency and importance.
    Severity(SeverityArgs),
    /// Add a note to the timeline.
    Note { id: IncidentId, text: String },
    /// Mark a runbook step done.
    Step {
        id: IncidentId,
        step: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Ask for a decision of the plan (e.g. pausing a contract) to be approved.
    Request {
        id: IncidentId,
        decision: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Approve a decision.
    Approve {
        id: IncidentId,
        decision: String,
        /// The approver (a person of the plan).
        #[arg(long = "as")]
        approver: String,
        /// Signature of the text `muster incident approval-message` prints, for signed decisions.
        #[arg(long)]
        signature: Option<String>,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Print the exact text an approver signs for a decision (no server needed).
    ApprovalMessage {
        id: IncidentId,
        decision: String,
        #[arg(long = "as")]
        approver: String,
    },
    /// Tag an incident.
    Tag { id: IncidentId, tag: String },
    /// Resolve an incident; the summary says what fixed it.
    Resolve {
        id: IncidentId,
        #[arg(long)]
        summary: String,
    },
    /// Reopen a resolved or closed incident.
    Reopen {
        id: IncidentId,
        #[arg(long)]
        reason: String,
    },
    /// Close a resolved incident once its post-mortem is done.
    Close {
        id: IncidentId,
        #[arg(long)]
        note: Option<String>,
    },
    /// Show every event of an incident, in order.
    Timeline { id: IncidentId },
    /// Send a message from a plan template (rendered by the server) or your own text, or
    /// preview the rendered template without sending it.
    Message(followup::MessageArgs),
    /// Mark a deadline met (a legal deadline's id, or `message:AUDIENCE`).
    DeadlineMet(followup::DeadlineMetArgs),
    /// Record the root cause, tagged so repeat incidents can be found.
    RootCause(followup::RootCauseArgs),
    /// Add an action item with an owner and a due date.
    Action(followup::ActionArgs),
    /// Change an action item's status, owner or due date.
    ActionUpdate(followup::ActionUpdateArgs),
    /// Print the post-mortem (the saved version, or a draft), save a new version, publish it.
    Postmortem(followup::PostmortemArgs),
}

#[derive(Debug, Args)]
struct DeclareArgs {
    /// What is happening, in a line.
    #[arg(long)]
    title: String,
    /// The plan scenario this is; its category, severity and runbook apply.
    #[arg(long)]
    scenario: Option<String>,
    #[arg(long)]
    severity: Option<String>,
    /// Qualify by the plan's matrix: is it urgent?
    #[arg(long)]
    urgent: Option<bool>,
    /// Qualify by the plan's matrix: is it important?
    #[arg(long)]
    important: Option<bool>,
    #[arg(long)]
    category: Option<String>,
    #[arg(long)]
    summary: Option<String>,
    /// When impact began (RFC 3339), if before detection.
    #[arg(long)]
    started_at: Option<jiff::Timestamp>,
    /// When it was noticed (RFC 3339); defaults to now.
    #[arg(long)]
    detected_at: Option<jiff::Timestamp>,
    /// This is an exercise.
    #[arg(long)]
    drill: bool,
    #[arg(long = "tag")]
    tags: Vec<String>,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only these statuses (comma-separated).
    #[arg(long)]
    status: Option<String>,
    /// Only open incidents.
    #[arg(long, conflicts_with = "finished")]
    open: bool,
    /// Only resolved or closed incidents.
    #[arg(long)]
    finished: bool,
    #[arg(long)]
    severity: Option<String>,
    #[arg(long)]
    category: Option<String>,
    #[arg(long)]
    drill: Option<bool>,
    #[arg(long)]
    tag: Option<String>,
    #[arg(long)]
    limit: Option<u32>,
    #[arg(long)]
    offset: Option<u64>,
}

#[derive(Debug, Args)]
struct SeverityArgs {
    id: IncidentId,
    /// The new severity; or give --urgent and --important to re-qualify.
    severity: Option<String>,
    #[arg(long, requires = "important", conflicts_with = "severity")]
    urgent: Option<bool>,
    #[arg(long, requires = "urgent")]
    important: Option<bool>,
    /// Why it changes (kept on the timeline).
    #[arg(long)]
    reason: String,
}

pub fn run(args: &IncidentArgs) -> Result<ExitCode> {
    if let IncidentCommand::ApprovalMessage {
        id,
        decision,
        approver,
    } = &args.command
    {
        print!(
            "{}",
            approval_message(id, &decision.as_str().into(), &approver.as_str().into())
        );
        return Ok(ExitCode::SUCCESS);
    }
    let server = &args.server;
    match &args.command {
        IncidentCommand::Message(command) => return followup::message(server, command),
        IncidentCommand::DeadlineMet(command) => return followup::deadline_met(server, command),
        IncidentCommand::RootCause(command) => return followup::root_cause(server, command),
        IncidentCommand::Action(command) => return followup::action(server, command),
        IncidentCommand::ActionUpdate(command) => return followup::action_update(server, command),
        IncidentCommand::Postmortem(command) => return followup::postmortem(server, command),
        _ => {}
    }
    let client = Client::new(&args.server)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match runtime.block_on(call(&client, &args.command)) {
        Ok(body) => {
            if args.server.json {
                println!("{}", serde_json::to_string_pretty(&body)?);
            } else {
                print!("{}", human(&args.command, &body));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(CallError::Refused(message)) => {
            eprintln!("error: {message}");
            Ok(ExitCode::FAILURE)
        }
        Err(CallError::Unavailable(message)) => {
            eprintln!("error: {message}");
            Ok(ExitCode::from(crate::cli::EXIT_USAGE))
        }
    }
}

/// Adds `key: value` to a JSON object when the value is present.
fn put(body: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        body.insert(key.to_owned(), value.into());
    }
}

fn command_path(id: &IncidentId) -> String {
    format!("/api/incidents/{id}/commands")
}

async fn call(client: &Client, command: &IncidentCommand) -> Result<Value, CallError> {
    let send = |id: &IncidentId, body: Value| {
        let path = command_path(id);
        async move { client.post(&path, &body).await }
    };
    match command {
        IncidentCommand::Declare(args) => {
            let mut body = Map::new();
            body.insert("title".into(), args.title.clone().into());
            put(&mut body, "scenario", args.scenario.clone());
            put(&mut body, "severity", args.severity.clone());
            put(&mut body, "urgent", args.urgent);
            put(&mut body, "important", args.important);
            put(&mut body, "category", args.category.clone());
            put(&mut body, "summary", args.summary.clone());
            put(
                &mut body,
                "started_at",
                args.started_at.map(jiff::Timestamp::as_millisecond),
            );
            put(
                &mut body,
                "detected_at",
                args.detected_at.map(jiff::Timestamp::as_millisecond),
            );
            body.insert("drill".into(), args.drill.into());
            body.insert("tags".into(), args.tags.clone().into());
            client.post("/api/incidents", &Value::Object(body)).await
        }
        IncidentCommand::List(args) => {
            let mut query: Vec<(&str, String)> = Vec::new();
            let mut add = |key, value: Option<String>| {
                if let Some(value) = value {
                    query.push((key, value));
                }
            };
            add("status", args.status.clone());
            add(
                "open",
                (args.open || args.finished).then(|| args.open.to_string()),
            );
            add("severity", args.severity.clone());
            add("category", args.category.clone());
            add("drill", args.drill.map(|drill| drill.to_string()));
            add("tag", args.tag.clone());
            add("limit", args.limit.map(|limit| limit.to_string()));
            add("offset", args.offset.map(|offset| offset.to_string()));
            client.get("/api/incidents", &query).await
        }
        IncidentCommand::Show { id } => client.get(&format!("/api/incidents/{id}"), &[]).await,
        IncidentCommand::Timeline { id } => {
            client
                .get(&format!("/api/incidents/{id}/timeline"), &[])
                .await
        }
        IncidentCommand::Ack { id, person } => {
            let mut body = Map::new();
            body.insert("command".into(), "acknowledge".into());
            put(&mut body, "person", person.clone());
            send(id, Value::Object(body)).await
        }
        IncidentCommand::Assign { id, role, person } => {
            send(
                id,
                json!({"command": "assign_role", "role": role, "person": person}),
            )
            .await
        }
        IncidentCommand::Status { id, status, note } => {
            send(
                id,
                json!({"command": "change_status", "to": status, "note": note}),
            )
            .await
        }
        IncidentCommand::Severity(args) => {
            let body = match (&args.severity, args.urgent, args.important) {
                (_, Some(urgent), Some(important)) => json!({
                    "command": "qualify", "urgent": urgent, "important": important,
                    "reason": args.reason,
                }),
                (Some(severity), _, _) => json!({
                    "command": "change_severity", "to": severity, "reason": args.reason,
                }),
                _ => {
                    return Err(CallError::Refused(
                        "give the new severity, or --urgent and --important to re-qualify"
                            .to_owned(),
                    ));
                }
            };
            send(&args.id, body).await
        }
        IncidentCommand::Note { id, text } => {
            send(id, json!({"command": "add_note", "text": text})).await
        }
        IncidentCommand::Step { id, step, note } => {
            send(
                id,
                json!({"command": "complete_step", "step": step, "note": note}),
            )
            .await
        }
        IncidentCommand::Request {
            id,
            decision,
            reason,
        } => {
            send(
                id,
                json!({"command": "request_decision", "decision": decision, "reason": reason}),
            )
            .await
        }
        IncidentCommand::Approve {
            id,
            decision,
            approver,
            signature,
            comment,
        } => {
            send(
                id,
                json!({
                    "command": "approve", "decision": decision, "approver": approver,
                    "signature": signature, "comment": comment,
                }),
            )
            .await
        }
        IncidentCommand::Tag { id, tag } => {
            send(id, json!({"command": "add_tag", "tag": tag})).await
        }
        IncidentCommand::Resolve { id, summary } => {
            send(id, json!({"command": "resolve", "summary": summary})).await
        }
        IncidentCommand::Reopen { id, reason } => {
            send(id, json!({"command": "reopen", "reason": reason})).await
        }
        IncidentCommand::Close { id, note } => {
            send(id, json!({"command": "close", "note": note})).await
        }
        IncidentCommand::ApprovalMessage { .. } => unreachable!("answered without a server"),
        IncidentCommand::Message(_)
        | IncidentCommand::DeadlineMet(_)
        | IncidentCommand::RootCause(_)
        | IncidentCommand::Action(_)
        | IncidentCommand::ActionUpdate(_)
        | IncidentCommand::Postmortem(_) => unreachable!("run by the followup module"),
    }
}

pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn time(value: &Value) -> String {
    value.as_i64().map(table::time).unwrap_or_default()
}

fn incident_rows(incidents: &[Value]) -> String {
    let rows: Vec<Vec<String>> = incidents
        .iter()
        .map(|incident| {
            vec![
                text(&incident["id"]),
                text(&incident["severity"]),
                text(&incident["status"]),
                text(&incident["category"]),
                time(&incident["declared_at"]),
                format!(
                    "{}{}",
                    if incident["drill"] == Value::Bool(true) {
                        "[drill] "
                    } else {
                        ""
                    },
                    text(&incident["title"])
                ),
            ]
        })
        .collect();
    table::render(
        &["ID", "SEVERITY", "STATUS", "CATEGORY", "DECLARED", "TITLE"],
        &rows,
    )
}

pub(crate) fn describe(incident: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {}  {}  {}",
        text(&incident["id"]),
        text(&incident["severity"]),
        text(&incident["status"]),
        text(&incident["title"])
    );
    let field = |out: &mut String, label: &str, value: String| {
        if !value.is_empty() {
            let _ = writeln!(out, "  {label:<13} {value}");
        }
    };
    field(&mut out, "category", text(&incident["category"]));
    field(&mut out, "scenario", text(&incident["scenario"]));
    field(&mut out, "runbook", text(&incident["runbook"]));
    if incident["drill"] == Value::Bool(true) {
        field(&mut out, "drill", "yes".to_owned());
    }
    for (label, key) in [
        ("started", "started_at"),
        ("detected", "detected_at"),
        ("declared", "declared_at"),
        ("acknowledged", "acknowledged_at"),
        ("mitigated", "mitigated_at"),
        ("resolved", "resolved_at"),
        ("closed", "closed_at"),
    ] {
        field(&mut out, label, time(&incident[key]));
    }
    if let Some(roles) = incident["roles"].as_object() {
        for (role, person) in roles {
            field(&mut out, role, text(person));
        }
    }
    if let Some(tags) = incident["tags"].as_array()
        && !tags.is_empty()
    {
        field(
            &mut out,
            "tags",
            tags.iter().map(text).collect::<Vec<_>>().join(", "),
        );
    }
    field(&mut out, "resolution", text(&incident["resolution"]));
    out
}

fn checklist(items: &[Value]) -> String {
    let mut out = String::new();
    let mut phase = String::new();
    for item in items {
        let this_phase = text(&item["phase"]);
        if this_phase != phase {
            let _ = writeln!(out, "{this_phase}");
            phase = this_phase;
        }
        let done = !item["done_at"].is_null();
        let approvals = &item["approvals"];
        let gate = if approvals.is_null() {
            String::new()
        } else {
            format!(
                "  [needs {}: {}/{} approvals]",
                text(&item["decision"]),
                text(&approvals["have"]),
                text(&approvals["need"])
            )
        };
        let _ = writeln!(
            out,
            "  [{}] {:<24} {}{}",
            if done { "x" } else { " " },
            text(&item["step"]),
            text(&item["title"]),
            if done { String::new() } else { gate }
        );
    }
    out
}

pub(crate) fn event_line(event: &Value) -> String {
    let kind = &event["kind"];
    let mut details: Vec<String> = kind
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .filter(|(key, _)| key.as_str() != "type")
                .map(|(key, value)| format!("{key}={}", text(value)))
                .collect()
        })
        .unwrap_or_default();
    details.sort();
    format!(
        "{:>4}  {}  {:<18}  {:<20}  {}\n",
        text(&event["seq"]),
        time(&event["at"]),
        text(&kind["type"]),
        text(&event["actor"]),
        details.join(" ")
    )
}

fn human(command: &IncidentCommand, body: &Value) -> String {
    match command {
        IncidentCommand::List(_) => {
            let incidents = body["incidents"].as_array().cloned().unwrap_or_default();
            format!(
                "{}{} of {} incidents\n",
                incident_rows(&incidents),
                incidents.len(),
                text(&body["total"])
            )
        }
        IncidentCommand::Show { .. } => {
            let items = body["checklist"].as_array().cloned().unwrap_or_default();
            let mut out = describe(body);
            if !items.is_empty() {
                out.push_str("\nChecklist\n");
                out.push_str(&checklist(&items));
            }
            let list = |key: &str| body[key].as_array().cloned().unwrap_or_default();
            out.push_str(&followup::communications(&list("communications")));
            out.push_str(&followup::deadlines(&list("deadlines")));
            out
        }
        IncidentCommand::Timeline { .. } => body["events"]
            .as_array()
            .map(|events| events.iter().map(event_line).collect())
            .unwrap_or_default(),
        _ => {
            let events = body["events"].as_array().cloned().unwrap_or_default();
            let mut out = describe(&body["incident"]);
            for event in &events {
                out.push_str(&event_line(event));
            }
            out
        }
    }
}
