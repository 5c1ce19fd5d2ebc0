//! `muster integration …`: the plan's integrations and the keys made for them, through a
//! running server.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::cli::client::{ServerArgs, run_call, segment};
use crate::cli::incident::text;
use crate::cli::table;

#[derive(Debug, Args)]
pub struct IntegrationArgs {
    #[command(subcommand)]
    command: IntegrationCommand,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Debug, Subcommand)]
enum IntegrationCommand {
    /// List the plan's integrations, whether their plan key is set, and their API keys.
    List,
    /// Make or revoke an integration's keys (admin token).
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Make a key for an integration; its secret is printed this once.
    Create {
        /// The integration's id in the plan.
        integration: String,
        /// A name for the key, unique among the integration's live keys.
        #[arg(long)]
        name: String,
    },
    /// Revoke an integration's key; senders using it are refused at once.
    Revoke {
        /// The integration's id in the plan.
        integration: String,
        /// The key's name.
        name: String,
    },
}

pub fn run(args: &IntegrationArgs) -> Result<ExitCode> {
    match &args.command {
        IntegrationCommand::List => run_call(
            &args.server,
            async |client| client.get("/api/integrations", &[]).await,
            list,
        ),
        IntegrationCommand::Key(KeyCommand::Create { integration, name }) => run_call(
            &args.server,
            async |client| {
                client
                    .post(
                        &format!("/api/integrations/{}/keys", segment(integration)),
                        &json!({ "name": name }),
                    )
                    .await
            },
            created,
        ),
        IntegrationCommand::Key(KeyCommand::Revoke { integration, name }) => run_call(
            &args.server,
            async |client| {
                client
                    .delete(&format!(
                        "/api/integrations/{}/keys/{}",
                        segment(integration),
                        segment(name)
                    ))
                    .await
            },
            |_| format!("Revoked key '{name}' of integration {integration}.\n"),
        ),
    }
}

fn list(body: &Value) -> String {
    let integrations = body["integrations"].as_array().cloned().unwrap_or_default();
    let rows: Vec<Vec<String>> = integrations
        .iter()
        .map(|integration| {
            let keys: Vec<String> = integration["keys"]
                .as_array()
                .map(|keys| {
                    keys.iter()
                        .filter(|key| key["revoked_at"].is_null())
                        .map(|key| text(&key["name"]))
                        .collect()
                })
                .unwrap_or_default();
            vec![
                text(&integration["id"]),
                text(&integration["type"]),
                text(&integration["rate_limit"]),
                if integration["plan_key"] == Value::Bool(true) {
                    "set".to_owned()
                } else {
                    "-".to_owned()
                },
                keys.join(", "),
            ]
        })
        .collect();
    table::render(&["ID", "TYPE", "RATE LIMIT", "PLAN KEY", "API KEYS"], &rows)
}

fn created(body: &Value) -> String {
    format!(
        "Key '{}' of integration {} (shown this once; only its hash is stored):\n{}\n",
        text(&body["name"]),
        text(&body["integration"]),
        text(&body["secret"])
    )
}
