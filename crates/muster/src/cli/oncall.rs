//! `muster oncall now|next|calendar`: who is on call, read offline from the plan file.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use jiff::{SignedDuration, Timestamp};
use muster_core::plan::oncall::{self, ScheduleNow, Shift};
use muster_core::plan::structure::did_you_mean;
use muster_core::plan::{Plan, Schedule, ical};
use serde_json::json;

use crate::cli::table;

#[derive(Debug, Subcommand)]
pub enum OncallCommand {
    /// Who is on call now for each schedule: since and until when, and how to reach them.
    Now(ShowArgs),
    /// Who takes over next for each schedule, and when.
    Next(ShowArgs),
    /// Write a schedule's shifts as an iCalendar file (`> on-call.ics`) for calendar apps.
    Calendar(CalendarArgs),
}

/// Where the plan is and the moment to ask about.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The plan file or folder.
    #[arg(long, env = "MUSTER_PLAN", default_value = "muster.yaml")]
    plan: PathBuf,
    /// Ask as of this instant (RFC 3339) instead of now.
    #[arg(long, value_name = "TIMESTAMP")]
    at: Option<Timestamp>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    plan: PlanArgs,
    /// Only this schedule (its id).
    #[arg(long, value_name = "ID")]
    schedule: Option<String>,
    /// Print JSON (every schedule's `now` and `next`, as `GET /api/oncall` answers) instead of a
    /// table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct CalendarArgs {
    #[command(flatten)]
    plan: PlanArgs,
    /// The schedule (its id).
    #[arg(long, value_name = "ID")]
    schedule: String,
    /// How many days ahead to cover; the shift on call now is included whole.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u16).range(1..=3660))]
    days: u16,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(command: OncallCommand) -> Result<ExitCode> {
    match command {
        OncallCommand::Now(args) => show(&args, false),
        OncallCommand::Next(args) => show(&args, true),
        OncallCommand::Calendar(args) => calendar(&args),
    }
}

/// The schedule named `id`, or a message saying which ones exist.
fn find_schedule<'p>(plan: &'p Plan, id: &str) -> Result<&'p Schedule, String> {
    plan.schedule(id).ok_or_else(|| {
        let ids: Vec<&str> = plan
            .schedules
            .iter()
            .map(|schedule| schedule.id.as_str())
            .collect();
        let guess = did_you_mean(id, ids.iter().copied())
            .map(|guess| format!("did you mean '{guess}'? "))
            .unwrap_or_default();
        if ids.is_empty() {
            format!("the plan has no schedule '{id}'; it defines no schedules")
        } else {
            format!(
                "the plan has no schedule '{id}'; {guess}schedules: {}",
                ids.join(", ")
            )
        }
    })
}

fn show(args: &ShowArgs, next: bool) -> Result<ExitCode> {
    let at = args.plan.at.unwrap_or_else(Timestamp::now);
    let Some(plan) = super::plan::load_clean(&args.plan.plan, Some(at))? else {
        return Ok(ExitCode::FAILURE);
    };
    let mut schedules = oncall::summary(&plan, at);
    if let Some(id) = &args.schedule {
        if let Err(message) = find_schedule(&plan, id) {
            eprintln!("error: {message}");
            return Ok(ExitCode::FAILURE);
        }
        schedules.retain(|entry| entry.schedule.as_str() == id);
    }
    let out = if args.json {
        serde_json::to_string_pretty(&json!({ "at": at, "schedules": schedules }))? + "\n"
    } else if schedules.is_empty() {
        "the plan defines no schedules\n".to_owned()
    } else if next {
        next_table(&plan, &schedules)
    } else {
        now_table(&plan, &schedules)
    };
    std::io::stdout().write_all(out.as_bytes())?;
    for entry in &schedules {
        if let Some(error) = &entry.error {
            eprintln!("error: {error}");
        }
    }
    Ok(if schedules.iter().any(|entry| entry.error.is_some()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `Lena Hartmann (lena)`, or the id alone for someone the plan does not list.
fn person(plan: &Plan, shift: &Shift) -> String {
    plan.person(shift.person.as_str()).map_or_else(
        || shift.person.to_string(),
        |person| format!("{} ({})", person.name, person.id),
    )
}

fn contacts(plan: &Plan, shift: &Shift) -> String {
    plan.person(shift.person.as_str())
        .map(|person| {
            person
                .contacts
                .methods()
                .iter()
                .map(|(method, address)| format!("{method} {address}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// An instant on the schedule's wall clock, with the zone's abbreviation: `Mon 2026-03-30 09:00 CEST`.
fn local(at: Timestamp, zone: &str) -> String {
    match oncall::zone(zone) {
        Ok(zone) => at
            .to_zoned(zone)
            .strftime("%a %Y-%m-%d %H:%M %Z")
            .to_string(),
        Err(_) => at.strftime("%a %Y-%m-%d %H:%M UTC").to_string(),
    }
}

fn now_table(plan: &Plan, schedules: &[ScheduleNow]) -> String {
    let rows: Vec<Vec<String>> = schedules
        .iter()
        .map(|entry| {
            let zone = entry.timezone.as_str();
            match &entry.now {
                Some(shift) => vec![
                    entry.schedule.to_string(),
                    person(plan, shift),
                    local(shift.start, zone),
                    local(shift.end, zone),
                    zone.to_owned(),
                    contacts(plan, shift),
                ],
                None => vec![
                    entry.schedule.to_string(),
                    "nobody".to_owned(),
                    "-".to_owned(),
                    entry
                        .next
                        .as_ref()
                        .map_or_else(|| "-".to_owned(), |next| local(next.start, zone)),
                    zone.to_owned(),
                    String::new(),
                ],
            }
        })
        .collect();
    table::render(
        &["SCHEDULE", "ON CALL", "SINCE", "UNTIL", "ZONE", "CONTACTS"],
        &rows,
    )
}

fn next_table(plan: &Plan, schedules: &[ScheduleNow]) -> String {
    let rows: Vec<Vec<String>> = schedules
        .iter()
        .map(|entry| {
            let zone = entry.timezone.as_str();
            let now = entry
                .now
                .as_ref()
                .map_or_else(|| "nobody".to_owned(), |shift| person(plan, shift));
            match &entry.next {
                Some(shift) => vec![
                    entry.schedule.to_string(),
                    now,
                    person(plan, shift),
                    local(shift.start, zone),
                    local(shift.end, zone),
                    zone.to_owned(),
                    contacts(plan, shift),
                ],
                None => vec![
                    entry.schedule.to_string(),
                    now,
                    "nobody within a year".to_owned(),
                    "-".to_owned(),
                    "-".to_owned(),
                    zone.to_owned(),
                    String::new(),
                ],
            }
        })
        .collect();
    table::render(
        &[
            "SCHEDULE", "NOW", "NEXT", "FROM", "UNTIL", "ZONE", "CONTACTS",
        ],
        &rows,
    )
}

fn calendar(args: &CalendarArgs) -> Result<ExitCode> {
    let now = args.plan.at.unwrap_or_else(Timestamp::now);
    let Some(plan) = super::plan::load_clean(&args.plan.plan, Some(now))? else {
        return Ok(ExitCode::FAILURE);
    };
    let schedule = match find_schedule(&plan, &args.schedule) {
        Ok(schedule) => schedule,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let to = now
        .checked_add(SignedDuration::from_hours(24 * i64::from(args.days)))
        .context("the calendar would end outside the supported range of times")?;
    let text = match ical::calendar(&plan, schedule, now, to, now) {
        Ok(text) => text,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(ExitCode::FAILURE);
        }
    };
    write_output(args.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}

fn write_output(output: Option<&Path>, text: &str) -> Result<()> {
    if let Some(file) = output {
        std::fs::write(file, text).with_context(|| format!("cannot write {}", file.display()))
    } else {
        std::io::stdout().write_all(text.as_bytes())?;
        Ok(())
    }
}
