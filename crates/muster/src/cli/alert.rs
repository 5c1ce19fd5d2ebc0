//! `muster alert …`: alerts as processed, and triage (declare an incident from an alert held in
//! triage, or attach it to an open incident), through a running server.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use muster_core::incident::IncidentId;
use serde_json::{Map, Value, json};

use crate::cli::client::{ServerArgs, run_call, segment};
use crate::cli::incident::{describe, event_line, text, time};
use crate::cli::table;

#[derive(Debug, Args)]
pub struct AlertArgs {
    #[command(subcommand)]
    command: AlertCommand,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Debug, Subcommand)]
enum AlertCommand {
    /// List alerts, most recently seen first.
    List(ListArgs),
    /// Declare an incident from an alert held in triage; its title is the alert's summary.
    Declare(DeclareArgs),
    /// Attach an alert held in triage to an open incident.
    Attach {
        /// The integration the alert came from.
        integration: String,
        /// The alert's key (as `muster alert list` shows it).
        key: String,
        incident: IncidentId,
    },
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only alerts held in triage.
    #[arg(long, conflicts_with = "disposition")]
    triage: bool,
    /// Only alerts that went here: triage, incident, ignored or heartbeat.
    #[arg(long)]
    disposition: Option<String>,
    /// Only alerts in this state at their source: firing, acknowledged or resolved.
    #[arg(long)]
    status: Option<String>,
    /// Only alerts that are part of this incident.
    #[arg(long)]
    incident: Option<IncidentId>,
    /// At most this many (1 to 500, default 100).
    #[arg(long)]
    limit: Option<u32>,
}

#[derive(Debug, Args)]
struct DeclareArgs {
    /// The integration the alert came from.
    integration: String,
    /// The alert's key (as `muster alert list` shows it).
    key: String,
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
    /// The plan scenario this is; its category, severity and runbook apply.
    #[arg(long)]
    scenario: Option<String>,
}

fn alert_path(integration: &str, key: &str, action: &str) -> String {
    format!(
        "/api/alerts/{}/{}/{action}",
        segment(integration),
        segment(key)
    )
}

pub fn run(args: &AlertArgs) -> Result<ExitCode> {
    match &args.command {
        AlertCommand::List(list) => {
            let mut query: Vec<(&str, String)> = Vec::new();
            if list.triage {
                query.push(("disposition", "triage".to_owned()));
            }
            if let Some(disposition) = &list.disposition {
                query.push(("disposition", disposition.clone()));
            }
            if let Some(status) = &list.status {
                query.push(("status", status.clone()));
            }
            if let Some(incident) = &list.incident {
                query.push(("incident", incident.to_string()));
            }
            if let Some(limit) = list.limit {
                query.push(("limit", limit.to_string()));
            }
            run_call(
                &args.server,
                async |client| client.get("/api/alerts", &query).await,
                alerts,
            )
        }
        AlertCommand::Declare(declare) => {
            let mut body = Map::new();
            let mut put = |name: &str, value: Option<Value>| {
                if let Some(value) = value {
                    body.insert(name.to_owned(), value);
                }
            };
            put("severity", declare.severity.clone().map(Value::from));
            put("urgent", declare.urgent.map(Value::from));
            put("important", declare.important.map(Value::from));
            put("category", declare.category.clone().map(Value::from));
            put("scenario", declare.scenario.clone().map(Value::from));
            let path = alert_path(&declare.integration, &declare.key, "declare");
            let body = Value::Object(body);
            run_call(
                &args.server,
                async |client| client.post(&path, &body).await,
                outcome,
            )
        }
        AlertCommand::Attach {
            integration,
            key,
            incident,
        } => {
            let path = alert_path(integration, key, "attach");
            let body = json!({ "incident": incident.to_string() });
            run_call(
                &args.server,
                async |client| client.post(&path, &body).await,
                outcome,
            )
        }
    }
}

fn alerts(body: &Value) -> String {
    let alerts = body["alerts"].as_array().cloned().unwrap_or_default();
    let rows: Vec<Vec<String>> = alerts
        .iter()
        .map(|alert| {
            vec![
                text(&alert["integration"]),
                text(&alert["key"]),
                text(&alert["status"]),
                text(&alert["disposition"]),
                text(&alert["incident"]),
                time(&alert["last_seen"]),
                text(&alert["summary"]),
            ]
        })
        .collect();
    format!(
        "{}{} alert(s)\n",
        table::render(
            &[
                "INTEGRATION",
                "KEY",
                "STATUS",
                "DISPOSITION",
                "INCIDENT",
                "LAST SEEN",
                "SUMMARY"
            ],
            &rows
        ),
        alerts.len()
    )
}

fn outcome(body: &Value) -> String {
    let mut out = describe(&body["incident"]);
    for event in body["events"].as_array().into_iter().flatten() {
        out.push_str(&event_line(event));
    }
    out
}
