//! What follows the first page, through a running server: messages written from the plan's
//! templates, deadlines met, the root cause, action items and the post-mortem
//! (`muster incident …`), and `muster action-items` across incidents.

use std::cell::OnceCell;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use muster_core::incident::{ActionItem, EventKind, IncidentId};
use muster_core::plan::oncall;
use serde_json::{Map, Value, json};

use crate::cli::client::{CallError, Client, ServerArgs, run_call};
use crate::cli::incident::{event_line, text, time};
use crate::cli::table;

const HORIZONS: [&str; 3] = ["immediate", "short-term", "long-term"];
const STATUSES: [&str; 4] = ["open", "in-progress", "done", "dropped"];

#[derive(Debug, Args)]
pub struct MessageArgs {
    id: IncidentId,
    /// An audience of the plan's communications table: its channels and next update time apply.
    #[arg(long)]
    audience: Option<String>,
    /// A template of the plan; without a body the server renders it from the incident.
    #[arg(long)]
    template: Option<String>,
    /// Send on this channel of the plan (repeatable); defaults to the audience's channels.
    #[arg(long = "channel", value_name = "CHANNEL")]
    channels: Vec<String>,
    /// The subject, instead of the template's.
    #[arg(long)]
    subject: Option<String>,
    /// The text to send, instead of the rendered template.
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,
    /// Read the text to send from this file.
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
    /// Print the rendered subject and body of --template; send nothing.
    #[arg(long, requires = "template", conflicts_with_all = ["body", "body_file"])]
    preview: bool,
}

#[derive(Debug, Args)]
pub struct DeadlineMetArgs {
    id: IncidentId,
    /// The deadline: a legal deadline's id (e.g. `gdpr-breach-notification`) or
    /// `message:AUDIENCE`, as `muster incident show` lists them.
    key: String,
    /// What was done (kept on the timeline).
    #[arg(long)]
    note: Option<String>,
}

#[derive(Debug, Args)]
pub struct RootCauseArgs {
    id: IncidentId,
    /// Lowercase words joined by dashes, e.g. `oracle-staleness`; incidents with the same tag
    /// are repeats.
    tag: String,
    /// What caused the incident.
    text: String,
}

#[derive(Debug, Args)]
pub struct ActionArgs {
    id: IncidentId,
    /// What is to be done.
    #[arg(long)]
    title: String,
    /// Who owns it (a person of the plan).
    #[arg(long)]
    owner: String,
    /// Immediate (due in a week by default), short-term (a month) or long-term (three months).
    #[arg(long, default_value = "immediate", value_parser = HORIZONS)]
    horizon: String,
    /// When it is due: YYYY-MM-DD (the end of that day in the plan's time zone) or an RFC 3339
    /// time (2026-12-01T17:00:00Z); defaults to the horizon's.
    #[arg(long, value_parser = parse_due)]
    due: Option<Due>,
    /// The root-cause tag it addresses; defaults to the incident's.
    #[arg(long)]
    root_cause: Option<String>,
}

#[derive(Debug, Args)]
pub struct ActionUpdateArgs {
    id: IncidentId,
    /// The item's number within the incident (the `#` of `muster action-items`).
    item: u32,
    #[arg(long, value_parser = STATUSES)]
    status: Option<String>,
    /// Hand it to another person of the plan.
    #[arg(long)]
    owner: Option<String>,
    /// A new due date: YYYY-MM-DD (the end of that day in the plan's time zone) or an RFC 3339
    /// time.
    #[arg(long, value_parser = parse_due)]
    due: Option<Due>,
    /// Why (kept on the timeline).
    #[arg(long)]
    note: Option<String>,
}

#[derive(Debug, Args)]
pub struct PostmortemArgs {
    id: IncidentId,
    /// Print a fresh draft written from the incident as it is now, not the saved version.
    #[arg(long, conflicts_with_all = ["save", "publish"])]
    draft: bool,
    /// Save this Markdown file as a new version.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// What changed in this version (kept on the timeline).
    #[arg(long, requires = "save")]
    note: Option<String>,
    /// Publish the latest saved version (the one just saved, with --save).
    #[arg(long)]
    publish: bool,
    /// Publish it on the public status page too.
    #[arg(long, requires = "publish")]
    public: bool,
}

#[derive(Debug, Args)]
pub struct ActionItemsArgs {
    /// Only open items past their due date.
    #[arg(long)]
    overdue: bool,
    /// Only items still open or in progress.
    #[arg(long)]
    open: bool,
    /// Only the items this person owns.
    #[arg(long)]
    owner: Option<String>,
    /// Include the items of drills.
    #[arg(long)]
    drills: bool,
    #[command(flatten)]
    server: ServerArgs,
}

/// A due date as given: a day (its end in the plan's zone) or an instant.
#[derive(Debug, Clone, Copy)]
pub enum Due {
    Day(Date),
    At(Timestamp),
}

fn parse_due(text: &str) -> Result<Due, String> {
    let text = text.trim();
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(Due::At(at));
    }
    if text.len() == 10
        && let Ok(day) = text.parse::<Date>()
    {
        return Ok(Due::Day(day));
    }
    Err(format!(
        "'{text}' is neither a date (YYYY-MM-DD) nor an RFC 3339 time (e.g. 2026-12-01T17:00:00Z)"
    ))
}

/// The running plan's time zone (UTC when it names none).
async fn plan_zone(client: &Client) -> Result<TimeZone, CallError> {
    let plan = client.get("/api/plan", &[]).await?;
    let name = plan["plan"]["organization"]["timezone"]
        .as_str()
        .unwrap_or("UTC");
    Ok(oncall::zone(name).unwrap_or(TimeZone::UTC))
}

/// A due date in milliseconds: a day ends at its last millisecond in the plan's zone.
async fn due_millis(client: &Client, due: Option<Due>) -> Result<Option<i64>, CallError> {
    match due {
        None => Ok(None),
        Some(Due::At(at)) => Ok(Some(at.as_millisecond())),
        Some(Due::Day(day)) => {
            let zone = plan_zone(client).await?;
            ActionItem::end_of_day(&zone, day)
                .map(Some)
                .ok_or_else(|| CallError::Refused(format!("no such due date {day}")))
        }
    }
}

fn read(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {what} from {}", path.display()))
}

fn commands_path(id: &IncidentId) -> String {
    format!("/api/incidents/{id}/commands")
}

/// Adds `key: value` to a JSON object when the value is present.
fn put(body: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        body.insert(key.to_owned(), value.into());
    }
}

/// What a command recorded: one line per event, as timelines describe it.
fn recorded(body: &Value) -> String {
    let id = text(&body["incident"]["id"]);
    let mut out = String::new();
    for event in body["events"].as_array().into_iter().flatten() {
        match serde_json::from_value::<EventKind>(event["kind"].clone()) {
            Ok(kind) => {
                let _ = writeln!(out, "{id} #{}: {}", text(&event["seq"]), kind.describe());
            }
            Err(_) => out.push_str(&event_line(event)),
        }
    }
    out
}

fn with_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Runs one command on the incident and prints what it recorded.
fn command(server: &ServerArgs, id: &IncidentId, body: &Value) -> Result<ExitCode> {
    run_call(
        server,
        async |client| client.post(&commands_path(id), body).await,
        recorded,
    )
}

pub fn message(server: &ServerArgs, args: &MessageArgs) -> Result<ExitCode> {
    let text_body = match &args.body_file {
        Some(path) => Some(read(path, "the message body")?),
        None => args.body.clone(),
    };
    if args.preview {
        let request = json!({"template": args.template, "audience": args.audience});
        let path = format!("/api/incidents/{}/messages/preview", args.id);
        return run_call(
            server,
            async |client| client.post(&path, &request).await,
            |preview| {
                let subject = args
                    .subject
                    .clone()
                    .or_else(|| preview["subject"].as_str().map(str::to_owned));
                let mut out = String::new();
                if let Some(subject) = subject {
                    let _ = write!(out, "Subject: {subject}\n\n");
                }
                out.push_str(&text(&preview["body"]));
                with_newline(out)
            },
        );
    }
    let mut body = Map::new();
    body.insert("command".into(), "send_message".into());
    put(&mut body, "audience", args.audience.clone());
    put(&mut body, "template", args.template.clone());
    if !args.channels.is_empty() {
        body.insert("channels".into(), args.channels.clone().into());
    }
    put(&mut body, "subject", args.subject.clone());
    put(&mut body, "body", text_body);
    command(server, &args.id, &Value::Object(body))
}

pub fn deadline_met(server: &ServerArgs, args: &DeadlineMetArgs) -> Result<ExitCode> {
    command(
        server,
        &args.id,
        &json!({"command": "complete_deadline", "deadline": args.key, "note": args.note}),
    )
}

pub fn root_cause(server: &ServerArgs, args: &RootCauseArgs) -> Result<ExitCode> {
    command(
        server,
        &args.id,
        &json!({"command": "set_root_cause", "tag": args.tag, "text": args.text}),
    )
}

pub fn action(server: &ServerArgs, args: &ActionArgs) -> Result<ExitCode> {
    run_call(
        server,
        async |client| {
            let mut body = Map::new();
            body.insert("command".into(), "add_action_item".into());
            body.insert("title".into(), args.title.clone().into());
            body.insert("owner".into(), args.owner.clone().into());
            body.insert("horizon".into(), args.horizon.clone().into());
            put(&mut body, "due_at", due_millis(client, args.due).await?);
            put(&mut body, "root_cause", args.root_cause.clone());
            client
                .post(&commands_path(&args.id), &Value::Object(body))
                .await
        },
        recorded,
    )
}

pub fn action_update(server: &ServerArgs, args: &ActionUpdateArgs) -> Result<ExitCode> {
    run_call(
        server,
        async |client| {
            let mut body = Map::new();
            body.insert("command".into(), "update_action_item".into());
            body.insert("item".into(), args.item.into());
            put(&mut body, "status", args.status.clone());
            put(&mut body, "owner", args.owner.clone());
            put(&mut body, "due_at", due_millis(client, args.due).await?);
            put(&mut body, "note", args.note.clone());
            client
                .post(&commands_path(&args.id), &Value::Object(body))
                .await
        },
        recorded,
    )
}

pub fn postmortem(server: &ServerArgs, args: &PostmortemArgs) -> Result<ExitCode> {
    let id = &args.id;
    if args.save.is_none() && !args.publish {
        let path = if args.draft {
            format!("/api/incidents/{id}/postmortem/draft")
        } else {
            format!("/api/incidents/{id}/postmortem")
        };
        return run_call(
            server,
            async |client| client.get(&path, &[]).await,
            |body| {
                // The Markdown alone on stdout, so it can be redirected to a file and saved back.
                match body["version"].as_u64() {
                    None => {}
                    Some(0) => eprintln!("{id}: nothing saved yet; this is a draft"),
                    Some(version) => {
                        let published = match body["published_version"].as_u64() {
                            Some(published) if body["public"] == Value::Bool(true) => {
                                format!("; version {published} is published on the status page")
                            }
                            Some(published) => format!("; version {published} is published"),
                            None => String::new(),
                        };
                        eprintln!("{id}: version {version}{published}");
                    }
                }
                with_newline(text(&body["markdown"]))
            },
        );
    }
    let markdown = match &args.save {
        Some(path) => Some(read(path, "the post-mortem")?),
        None => None,
    };
    run_call(
        server,
        async |client| {
            let path = commands_path(id);
            let mut events = Vec::new();
            let mut last = Value::Null;
            if let Some(markdown) = &markdown {
                last = client
                    .post(
                        &path,
                        &json!({"command": "save_postmortem", "markdown": markdown, "note": args.note}),
                    )
                    .await?;
                events.extend(last["events"].as_array().cloned().unwrap_or_default());
            }
            if args.publish {
                last = client
                    .post(
                        &path,
                        &json!({"command": "publish_postmortem", "public": args.public}),
                    )
                    .await?;
                events.extend(last["events"].as_array().cloned().unwrap_or_default());
            }
            Ok(json!({"incident": last["incident"], "events": events}))
        },
        recorded,
    )
}

pub fn action_items(args: &ActionItemsArgs) -> Result<ExitCode> {
    let mut query: Vec<(&str, String)> = Vec::new();
    if args.open {
        query.push(("open", "true".to_owned()));
    }
    if args.overdue {
        query.push(("overdue", "true".to_owned()));
    }
    if let Some(owner) = &args.owner {
        query.push(("owner", owner.clone()));
    }
    if args.drills {
        query.push(("drills", "true".to_owned()));
    }
    let zone = OnceCell::new();
    run_call(
        &args.server,
        async |client| {
            let body = client.get("/api/action-items", &query).await?;
            let listed = body["items"]
                .as_array()
                .is_some_and(|items| !items.is_empty());
            if listed && !args.server.json {
                let _ = zone.set(plan_zone(client).await?);
            }
            Ok(body)
        },
        |body| items_table(body, zone.get().unwrap_or(&TimeZone::UTC)),
    )
}

/// An instant on the plan's wall clock, with the zone's abbreviation: `2026-12-01 23:59 CET`.
fn local(at: &Value, zone: &TimeZone) -> String {
    at.as_i64()
        .and_then(|at| Timestamp::from_millisecond(at).ok())
        .map(|at| {
            at.to_zoned(zone.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .unwrap_or_default()
}

fn items_table(body: &Value, zone: &TimeZone) -> String {
    let items = body["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        return "no action items\n".to_owned();
    }
    let overdue = items
        .iter()
        .filter(|item| item["overdue"] == Value::Bool(true))
        .count();
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            vec![
                text(&item["incident"]),
                text(&item["item"]),
                text(&item["title"]),
                text(&item["owner"]),
                text(&item["horizon"]),
                local(&item["due_at"], zone),
                text(&item["status"]),
                if item["overdue"] == Value::Bool(true) {
                    "OVERDUE".to_owned()
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    format!(
        "{}{} action items, {overdue} overdue\n",
        table::render(
            &[
                "INCIDENT", "#", "TITLE", "OWNER", "HORIZON", "DUE", "STATUS", ""
            ],
            &rows
        ),
        items.len()
    )
}

/// A table indented under a section heading of `muster incident show`.
fn section(title: &str, header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("\n{title}\n");
    for line in table::render(header, rows).lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}

/// The audiences owed updates, for `muster incident show`: when the next is due, and whether
/// the last one was missed.
pub(crate) fn communications(cadences: &[Value]) -> String {
    if cadences.is_empty() {
        return String::new();
    }
    let rows: Vec<Vec<String>> = cadences
        .iter()
        .map(|cadence| {
            let channels: Vec<String> = cadence["channels"]
                .as_array()
                .map(|channels| channels.iter().map(text).collect())
                .unwrap_or_default();
            vec![
                text(&cadence["audience"]),
                text(&cadence["every_text"]),
                format!(
                    "{}{}",
                    time(&cadence["due_at"]),
                    if cadence["overdue"] == Value::Bool(true) {
                        "  OVERDUE"
                    } else {
                        ""
                    }
                ),
                text(&cadence["owner"]),
                channels.join(", "),
            ]
        })
        .collect();
    section(
        "Communications",
        &["AUDIENCE", "EVERY", "NEXT DUE", "OWNER", "CHANNELS"],
        &rows,
    )
}

/// The deadlines that apply, for `muster incident show`: due when, met or missed.
pub(crate) fn deadlines(deadlines: &[Value]) -> String {
    if deadlines.is_empty() {
        return String::new();
    }
    let now = Timestamp::now().as_millisecond();
    let rows: Vec<Vec<String>> = deadlines
        .iter()
        .map(|deadline| {
            let due = &deadline["due_at"];
            let state = if !deadline["met_at"].is_null() {
                format!("met {}", time(&deadline["met_at"]))
            } else if deadline["missed"] == Value::Bool(true) {
                "MISSED".to_owned()
            } else if due.as_i64().is_some_and(|due| now > due) {
                "OVERDUE".to_owned()
            } else {
                "open".to_owned()
            };
            vec![
                text(&deadline["key"]),
                text(&deadline["title"]),
                if due.is_null() {
                    text(&deadline["rule"])
                } else {
                    time(due)
                },
                state,
            ]
        })
        .collect();
    section("Deadlines", &["KEY", "DEADLINE", "DUE", "STATE"], &rows)
}

#[cfg(test)]
mod tests {
    use super::{Due, parse_due};

    #[test]
    fn a_due_date_is_a_day_or_an_instant() {
        assert!(matches!(parse_due("2026-12-01"), Ok(Due::Day(_))));
        assert!(matches!(
            parse_due("2026-12-01T17:00:00Z"),
            Ok(Due::At(at)) if at.as_millisecond() == 1_796_144_400_000
        ));
        assert!(parse_due("2026-12-01T17:00").is_err());
        assert!(parse_due("next week").is_err());
    }
}
