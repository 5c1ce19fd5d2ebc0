//! Command-line parsing and dispatch. Each subcommand lives in its own module and returns the
//! process exit code; errors are reported once, here.

mod plan;

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
}

/// Exit code for a problem with the invocation or the environment (unreadable file, bad flag).
pub const EXIT_USAGE: u8 = 2;

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Plan(command) => plan::run(command),
        Command::Init(args) => plan::init(&args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
