//! Command-line parsing and dispatch. Each subcommand lives in its own module and returns the
//! process exit code; errors are reported once, here.

mod admin;
mod alert;
mod client;
mod followup;
mod incident;
mod integration;
mod oncall;
mod plan;
mod report;
mod serve;
mod table;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Incident response for web3 production teams: the plan as code, run as a server.
#[derive(Debug, Parser)]
#[command(name = "muster", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check, render and score an incident-response plan (offline).
    #[command(subcommand)]
    Plan(plan::PlanCommand),
    /// Write a commented starter plan to get going.
    Init(plan::InitArgs),
    /// Who is on call now and next, and on-call calendars (offline, from the plan file).
    #[command(subcommand)]
    Oncall(oncall::OncallCommand),
    /// Run the server: API, incident engine, storage (SQLite at ./muster.db by default).
    Serve(serve::ServeArgs),
    /// Work incidents through a running server (its address and a token from flags or the environment).
    Incident(incident::IncidentArgs),
    /// Action items across incidents, soonest due first (through a server).
    ActionItems(followup::ActionItemsArgs),
    /// Alerts as processed, and triage: declare from or attach a held alert (through a server).
    Alert(alert::AlertArgs),
    /// The plan's integrations and the keys senders use (through a server).
    Integration(integration::IntegrationArgs),
    /// Manage API tokens, directly in the database.
    #[command(subcommand)]
    Token(admin::TokenCommand),
    /// Check the tamper-evident timeline, directly in the database.
    #[command(subcommand)]
    Audit(admin::AuditCommand),
    /// The team's numbers over a period (MTTD, MTTA, MTTR, deadlines, repeats, action items),
    /// directly from the database.
    Report(report::ReportArgs),
}

/// Exit code for a problem with the invocation or the environment (unreadable file, bad flag).
pub const EXIT_USAGE: u8 = 2;

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Plan(command) => plan::run(command),
        Command::Init(args) => plan::init(&args),
        Command::Oncall(command) => oncall::run(command),
        Command::Serve(args) => serve::run(&args),
        Command::Incident(args) => incident::run(&args),
        Command::ActionItems(args) => followup::action_items(&args),
        Command::Alert(args) => alert::run(&args),
        Command::Integration(args) => integration::run(&args),
        Command::Token(command) => admin::token(command),
        Command::Audit(command) => admin::audit(command),
        Command::Report(args) => report::run(&args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
