//! `muster serve`: the server on SQLite by default, PostgreSQL on request.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use muster_core::diagnostic::Severity;
use muster_engine::{Engine, EngineOptions, ReloadError, RunningPlan, SystemClock, plan_files};
use muster_store::AnyStore;

/// The database used when none is named: a SQLite file in the working directory.
pub const DEFAULT_DATABASE: &str = "./muster.db";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The plan file or folder to run.
    #[arg(long, env = "MUSTER_PLAN")]
    plan: PathBuf,
    #[command(flatten)]
    database: DatabaseArg,
    /// Address to listen on; port 0 picks a free port (the address is printed).
    #[arg(long, env = "MUSTER_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// The address people reach this server at, for links in notifications (incident pages,
    /// acknowledge links); defaults to `http://` and the listening address.
    #[arg(long, env = "MUSTER_PUBLIC_URL")]
    public_url: Option<String>,
    /// Telegram Bot API base URL (for a self-hosted Bot API server).
    #[arg(long, env = "MUSTER_TELEGRAM_API", hide = true)]
    telegram_api: Option<String>,
    /// PagerDuty Events API v2 URL to forward to.
    #[arg(long, env = "MUSTER_PAGERDUTY_EVENTS_URL", hide = true)]
    pagerduty_events_url: Option<String>,
}

/// `--database`, shared by every command that opens the database directly.
#[derive(Debug, Args)]
pub struct DatabaseArg {
    /// A SQLite file (`./muster.db`, `sqlite://PATH`) or `postgres://USER@HOST/DB`.
    #[arg(long = "database", env = "MUSTER_DATABASE_URL", default_value = DEFAULT_DATABASE)]
    pub url: String,
}

impl DatabaseArg {
    pub async fn open(&self) -> Result<AnyStore> {
        AnyStore::open(&self.url)
            .await
            .with_context(|| format!("cannot open the database {}", redact(&self.url)))
    }
}

/// A database URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((credentials, host)) = rest.split_once('@')
        && let Some((user, _)) = credentials.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

pub fn run(args: &ServeArgs) -> Result<ExitCode> {
    init_logging();
    let (_, loaded) =
        plan_files::load(&args.plan, jiff::Timestamp::now()).map_err(anyhow::Error::msg)?;
    let Some(plan) = loaded.clean_plan().cloned() else {
        for diagnostic in loaded
            .diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == Severity::Error)
        {
            eprintln!("{diagnostic}");
        }
        eprintln!(
            "the plan has errors; the server does not start on a broken plan (`muster plan check {}` shows them all)",
            args.plan.display()
        );
        return Ok(ExitCode::FAILURE);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = args.database.open().await?;
        let backend = store.backend();
        let running = RunningPlan {
            plan,
            path: Some(args.plan.clone()),
            loaded_at: jiff::Timestamp::now().as_millisecond(),
            warnings: loaded.diagnostics,
        };
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr()?;
        let mut options = EngineOptions {
            public_url: args
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{address}")),
            ..EngineOptions::default()
        };
        if let Some(api) = &args.telegram_api {
            options.endpoints.telegram_api.clone_from(api);
        }
        if let Some(url) = &args.pagerduty_events_url {
            options.endpoints.pagerduty_events.clone_from(url);
        }
        let engine = Arc::new(Engine::with_options(
            store,
            running,
            Arc::new(SystemClock),
            options,
        ));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut workers = engine.start_workers(stopped);
        tokio::spawn(reload_on_hangup(engine.clone()));
        // Scripts wait for this line; keep its shape.
        println!(
            "muster listening on http://{address} (database: {backend} {}, plan: {})",
            redact(&args.database.url),
            args.plan.display()
        );
        eprintln!(
            "web UI at http://{address}/ (sign in with a token from `muster token create`); public status page at http://{address}/status"
        );
        tracing::info!(%address, backend, "serving");
        muster_web::serve(engine, listener, shutdown_signal()).await?;
        let _ = stop.send(true);
        // Workers finish their step in hand; one stuck on the database does not hold the exit
        // (what it had not committed is done again by the next instance to run).
        let drained = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while workers.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("background work did not finish within 10 s; stopping anyway");
        }
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter: tracing_subscriber::filter::Targets = std::env::var("MUSTER_LOG")
        .ok()
        .and_then(|spec| spec.parse().ok())
        .unwrap_or_else(|| "info,sqlx=warn".parse().expect("a valid default filter"));
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .try_init();
}

#[cfg(unix)]
async fn reload_on_hangup(engine: Arc<Engine>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; reload the plan with POST /api/plan/reload");
        return;
    };
    while hangups.recv().await.is_some() {
        // Reading and checking the plan is file IO and CPU work: off the async workers.
        let reloading = engine.clone();
        let Ok(outcome) = tokio::task::spawn_blocking(move || reloading.reload_plan()).await else {
            tracing::error!("SIGHUP: the reload failed unexpectedly; the running plan stays");
            continue;
        };
        match outcome {
            Ok(running) => {
                tracing::info!(warnings = running.warnings.len(), "SIGHUP: plan reloaded");
            }
            Err(ReloadError::Invalid(diagnostics)) => {
                for diagnostic in diagnostics
                    .iter()
                    .filter(|diagnostic| diagnostic.severity == Severity::Error)
                {
                    tracing::error!("{diagnostic}");
                }
                tracing::error!("SIGHUP: the new plan has errors; the running plan stays");
            }
            Err(error) => tracing::error!("SIGHUP: {error}; the running plan stays"),
        }
    }
}

#[cfg(not(unix))]
async fn reload_on_hangup(_engine: Arc<Engine>) {}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
