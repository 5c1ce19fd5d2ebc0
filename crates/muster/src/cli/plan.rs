//! `muster plan check|render|coverage|schema` and `muster init`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use muster_core::diagnostic::{Diagnostic, Severity};
use muster_core::plan::{self, Loaded, ScenarioId, coverage, render};
use muster_engine::plan_files;

/// The starter plan written by `muster init`; a test keeps it passing `plan check`.
pub const STARTER_PLAN: &str = include_str!("../../starter.yaml");

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Report every problem in a plan, each with file, line, column and a hint.
    Check(CheckArgs),
    /// Write the plan as the human document (Markdown or HTML).
    Render(RenderArgs),
    /// Score the plan's readiness: runbooks, detection, backups, 24/7 escalation, drills, contacts.
    Coverage(CoverageArgs),
    /// Print the JSON Schema of plan files, for editor completion.
    Schema(SchemaArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A plan file, or a folder whose .yaml/.yml files together form the plan.
    path: PathBuf,
    /// How to print problems.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    format: CheckFormat,
    /// Fail on warnings too.
    #[arg(long)]
    strict: bool,
    /// Check as of this instant (RFC 3339) instead of now; on-call gaps are looked for in the
    /// four weeks that follow.
    #[arg(long, value_name = "TIMESTAMP")]
    at: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Source excerpts with the problem underlined.
    Human,
    /// One line per problem (`file:line:column: severity[code]: message`), then the hint.
    Short,
    /// A JSON document with every diagnostic.
    Json,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    path: PathBuf,
    #[arg(long, value_enum, default_value_t = RenderFormat::Markdown)]
    format: RenderFormat,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderFormat {
    Markdown,
    Html,
}

#[derive(Debug, Args)]
pub struct CoverageArgs {
    path: PathBuf,
    #[arg(long, value_enum, default_value_t = CoverageFormat::Text)]
    format: CoverageFormat,
    /// Score as of this instant (RFC 3339) instead of now.
    #[arg(long, value_name = "TIMESTAMP")]
    at: Option<jiff::Timestamp>,
    /// The last drill of a scenario, when it is not recorded in the plan: SCENARIO=YYYY-MM-DD.
    #[arg(long = "last-drill", value_name = "SCENARIO=DATE", value_parser = parse_last_drill)]
    last_drill: Vec<(ScenarioId, jiff::civil::Date)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CoverageFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the starter plan.
    #[arg(default_value = "muster.yaml")]
    path: PathBuf,
    /// Replace the file if it exists.
    #[arg(long)]
    force: bool,
}

fn parse_last_drill(text: &str) -> Result<(ScenarioId, jiff::civil::Date), String> {
    let (scenario, date) = text
        .split_once('=')
        .ok_or_else(|| format!("'{text}' should be SCENARIO=YYYY-MM-DD"))?;
    let date = date
        .parse::<jiff::civil::Date>()
        .map_err(|_| format!("'{date}' is not a date; write YYYY-MM-DD"))?;
    Ok((ScenarioId(scenario.to_owned()), date))
}

pub fn run(command: PlanCommand) -> Result<ExitCode> {
    match command {
        PlanCommand::Check(args) => check(&args),
        PlanCommand::Render(args) => render_plan(&args),
        PlanCommand::Coverage(args) => coverage_report(&args),
        PlanCommand::Schema(args) => {
            let schema = serde_json::to_string_pretty(plan::json_schema())? + "\n";
            write_output(args.output.as_deref(), &schema)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load(path: &Path, at: Option<jiff::Timestamp>) -> Result<(Vec<(String, String)>, Loaded)> {
    plan_files::load(path, at.unwrap_or_else(jiff::Timestamp::now)).map_err(anyhow::Error::msg)
}

fn summary(path: &Path, loaded: &Loaded) -> String {
    let plural =
        |count: usize, word: &str| format!("{count} {word}{}", if count == 1 { "" } else { "s" });
    format!(
        "{}: {}, {}",
        path.display(),
        plural(loaded.errors(), "error"),
        plural(loaded.warnings(), "warning")
    )
}

fn human(diagnostic: &Diagnostic, files: &[(String, String)]) -> String {
    let severity = match diagnostic.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
    };
    let mut report = miette::MietteDiagnostic::new(diagnostic.message.clone())
        .with_code(diagnostic.code)
        .with_severity(severity);
    if let Some(hint) = &diagnostic.hint {
        report = report.with_help(hint.clone());
    }
    let source = diagnostic.location.as_ref().and_then(|location| {
        let (name, text) = files.iter().find(|(name, _)| *name == location.file)?;
        report = report.clone().with_label(miette::LabeledSpan::at(
            location.offset..location.offset + location.length,
            "here",
        ));
        Some(miette::NamedSource::new(name, text.clone()).with_language("yaml"))
    });
    let mut report = miette::Report::new(report);
    if let Some(source) = source {
        report = report.with_source_code(source);
    }
    let location = diagnostic
        .location
        .as_ref()
        .map(|l| format!("{}:{}:{}\n", l.file, l.line, l.column))
        .unwrap_or_default();
    format!("{location}{report:?}")
}

fn check(args: &CheckArgs) -> Result<ExitCode> {
    if args.format == CheckFormat::Human && !std::io::stdout().is_terminal() {
        // Without a terminal the excerpts are still useful, but colours would be noise.
        let _ = miette::set_hook(Box::new(|_| {
            Box::new(
                miette::MietteHandlerOpts::new()
                    .color(false)
                    .unicode(false)
                    .build(),
            )
        }));
    }
    let (files, loaded) = load(&args.path, args.at)?;
    let mut out = String::new();
    match args.format {
        CheckFormat::Json => {
            let document = serde_json::json!({
                "plan": args.path.display().to_string(),
                "errors": loaded.errors(),
                "warnings": loaded.warnings(),
                "diagnostics": loaded.diagnostics,
            });
            out = serde_json::to_string_pretty(&document)? + "\n";
        }
        CheckFormat::Short => {
            for diagnostic in &loaded.diagnostics {
                writeln!(out, "{diagnostic}")?;
            }
            writeln!(out, "{}", summary(&args.path, &loaded))?;
        }
        CheckFormat::Human => {
            for diagnostic in &loaded.diagnostics {
                writeln!(out, "{}", human(diagnostic, &files))?;
            }
            writeln!(out, "{}", summary(&args.path, &loaded))?;
        }
    }
    std::io::stdout().write_all(out.as_bytes())?;
    let failed = loaded.errors() > 0 || (args.strict && loaded.warnings() > 0);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Loads a plan for a command that needs a clean one; prints the errors and fails otherwise.
/// Loads a plan, printing its errors and giving `None` when it has any.
pub(crate) fn load_clean(path: &Path, at: Option<jiff::Timestamp>) -> Result<Option<plan::Plan>> {
    let (_, loaded) = load(path, at)?;
    if loaded.errors() > 0 {
        for diagnostic in loaded
            .diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == Severity::Error)
        {
            eprintln!("{diagnostic}");
        }
        eprintln!(
            "{}\nfix the errors above first (`muster plan check {}` shows them all)",
            summary(path, &loaded),
            path.display()
        );
        return Ok(None);
    }
    Ok(loaded.plan)
}

fn write_output(output: Option<&Path>, text: &str) -> Result<()> {
    if let Some(file) = output {
        std::fs::write(file, text).with_context(|| format!("cannot write {}", file.display()))
    } else {
        std::io::stdout().write_all(text.as_bytes())?;
        Ok(())
    }
}

fn render_plan(args: &RenderArgs) -> Result<ExitCode> {
    let Some(plan) = load_clean(&args.path, None)? else {
        return Ok(ExitCode::FAILURE);
    };
    let document = match args.format {
        RenderFormat::Markdown => render::markdown(&plan),
        RenderFormat::Html => render::html(&plan),
    };
    write_output(args.output.as_deref(), &document)?;
    Ok(ExitCode::SUCCESS)
}

fn coverage_report(args: &CoverageArgs) -> Result<ExitCode> {
    let Some(plan) = load_clean(&args.path, args.at)? else {
        return Ok(ExitCode::FAILURE);
    };
    let drills: BTreeMap<ScenarioId, jiff::civil::Date> = args.last_drill.iter().cloned().collect();
    for scenario in drills.keys() {
        if plan.scenario(scenario.as_str()).is_none() {
            bail!("--last-drill names scenario '{scenario}', which the plan does not define");
        }
    }
    let now = args.at.unwrap_or_else(jiff::Timestamp::now);
    let readiness = coverage::readiness(&plan, now, &drills);
    let text = match args.format {
        CoverageFormat::Text => readiness.to_text(),
        CoverageFormat::Json => serde_json::to_string_pretty(&readiness)? + "\n",
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

pub fn init(args: &InitArgs) -> Result<ExitCode> {
    if args.path.exists() && !args.force {
        bail!(
            "{} already exists; pass --force to replace it",
            args.path.display()
        );
    }
    std::fs::write(&args.path, STARTER_PLAN)
        .with_context(|| format!("cannot write {}", args.path.display()))?;
    println!(
        "wrote a starter plan to {0}\nnext: edit it, then run `muster plan check {0}`",
        args.path.display()
    );
    Ok(ExitCode::SUCCESS)
}
