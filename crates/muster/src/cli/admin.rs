//! Commands that work on the database directly, without a running server: `muster token …` (so
//! the first token can be made before anyone can log in) and `muster audit verify`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use muster_core::access::Role;
use muster_engine::{audit, auth, plan_files};
use muster_store::Store;

use crate::cli::serve::DatabaseArg;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown only this once).
    Create(CreateTokenArgs),
    /// List tokens (never their secrets).
    List(DatabaseOnly),
    /// Revoke a token by name; requests with it are refused from then on.
    Revoke(RevokeTokenArgs),
}

#[derive(Debug, Args)]
pub struct CreateTokenArgs {
    /// A name to recognise it by, e.g. `alice-laptop` or `ci`.
    #[arg(long)]
    name: String,
    /// viewer (read), responder (declare and work incidents) or admin (also tokens, plan reload, audit).
    #[arg(long)]
    role: Role,
    /// The plan person the token acts for; approvals made with it are theirs.
    #[arg(long)]
    person: Option<String>,
    /// Check `--person` against this plan.
    #[arg(long, env = "MUSTER_PLAN")]
    plan: Option<PathBuf>,
    #[command(flatten)]
    database: DatabaseArg,
}

#[derive(Debug, Args)]
pub struct RevokeTokenArgs {
    name: String,
    #[command(flatten)]
    database: DatabaseArg,
}

#[derive(Debug, Args)]
pub struct DatabaseOnly {
    #[command(flatten)]
    database: DatabaseArg,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every incident's hash chain from the stored events; exit 1 on any break.
    Verify(DatabaseOnly),
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub fn token(command: TokenCommand) -> Result<ExitCode> {
    runtime()?.block_on(async {
        match command {
            TokenCommand::Create(args) => {
                let plan = match &args.plan {
                    Some(path) => {
                        let (_, loaded) = plan_files::load(path, jiff::Timestamp::now())
                            .map_err(anyhow::Error::msg)?;
                        loaded.plan
                    }
                    None => None,
                };
                let store = args.database.open().await?;
                let secret = auth::create_token(
                    &store,
                    plan.as_ref(),
                    &args.name,
                    args.role,
                    args.person.as_deref(),
                    jiff::Timestamp::now().as_millisecond(),
                )
                .await?;
                println!("{secret}");
                eprintln!(
                    "token '{}' ({}) created; this is the only time its secret is shown",
                    args.name.trim(),
                    args.role
                );
                Ok(ExitCode::SUCCESS)
            }
            TokenCommand::List(args) => {
                let store = args.database.open().await?;
                let tokens = store.tokens().await?;
                if args.json {
                    println!("{}", serde_json::to_string_pretty(&tokens)?);
                } else {
                    let rows = tokens
                        .iter()
                        .map(|token| {
                            vec![
                                token.name.clone(),
                                token.role.to_string(),
                                token
                                    .person
                                    .as_ref()
                                    .map(ToString::to_string)
                                    .unwrap_or_default(),
                                crate::cli::table::time(token.created_at),
                                token
                                    .revoked_at
                                    .map(crate::cli::table::time)
                                    .unwrap_or_default(),
                            ]
                        })
                        .collect::<Vec<_>>();
                    print!(
                        "{}",
                        crate::cli::table::render(
                            &["NAME", "ROLE", "PERSON", "CREATED", "REVOKED"],
                            &rows
                        )
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            TokenCommand::Revoke(args) => {
                let store = args.database.open().await?;
                if store
                    .revoke_token(&args.name, jiff::Timestamp::now().as_millisecond())
                    .await?
                {
                    println!("token '{}' revoked", args.name);
                    Ok(ExitCode::SUCCESS)
                } else {
                    eprintln!("there is no unrevoked token named '{}'", args.name);
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    })
}

pub fn audit(command: AuditCommand) -> Result<ExitCode> {
    let AuditCommand::Verify(args) = command;
    runtime()?.block_on(async {
        let store = args.database.open().await?;
        let report = audit::verify(&store).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            for broken in &report.broken {
                println!(
                    "BROKEN {} event {}: {}",
                    broken.incident, broken.seq, broken.reason
                );
            }
            println!(
                "{} incidents, {} events checked: {}",
                report.incidents,
                report.events,
                if report.is_clean() {
                    "every chain holds".to_owned()
                } else {
                    format!("{} broken", report.broken.len())
                }
            );
        }
        Ok(if report.is_clean() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}
