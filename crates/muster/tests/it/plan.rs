//! `muster plan check|render|coverage|schema` and `muster init` through the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn muster(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(args)
        .current_dir(workspace())
        .env("NO_COLOR", "1")
        .output()
        .expect("the muster binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const AT: &str = "2026-11-21T00:00:00Z";

const EXAMPLES: [&str; 4] = [
    "examples/client-team.yaml",
    "examples/startup.yaml",
    "examples/zkp-protocol",
    "examples/smart-contract-protocol.yaml",
];

#[test]
fn check_passes_on_every_example_strictly() {
    for example in EXAMPLES {
        let output = muster(&["plan", "check", example, "--strict", "--at", AT]);
        assert!(
            output.status.success(),
            "{example}:\n{}{}",
            stdout(&output),
            stderr(&output)
        );
        assert!(
            stdout(&output).ends_with(": 0 errors, 0 warnings\n"),
            "{}",
            stdout(&output)
        );
    }
}

#[test]
fn check_fails_with_located_errors_and_a_summary() {
    let broken = "crates/muster-core/tests/corpus/broken/unknown-reference.yaml";
    let output = muster(&["plan", "check", broken, "--format", "short", "--at", AT]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains(&format!("{broken}:49:14: error[unknown-reference]: there is no runbook 'stolen-fund'\n  hint: did you mean 'stolen-funds'?")),
        "{text}"
    );
    assert!(
        text.ends_with(&format!("{broken}: 1 error, 1 warning\n")),
        "{text}"
    );
}

#[test]
fn human_format_shows_the_offending_line() {
    let broken = "crates/muster-core/tests/corpus/broken/unknown-phase.yaml";
    let output = muster(&["plan", "check", broken, "--at", AT]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains(&format!("{broken}:54:52")), "{text}");
    assert!(
        text.contains("phase: containmnet"),
        "the source line is quoted:\n{text}"
    );
    assert!(text.contains("did you mean 'containment'?"), "{text}");
}

#[test]
fn warnings_pass_unless_strict() {
    let broken = "crates/muster-core/tests/corpus/broken/role-without-backup.yaml";
    let relaxed = muster(&["plan", "check", broken, "--format", "short", "--at", AT]);
    assert_eq!(relaxed.status.code(), Some(0), "{}", stdout(&relaxed));
    let strict = muster(&[
        "plan", "check", broken, "--format", "short", "--strict", "--at", AT,
    ]);
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn json_format_lists_diagnostics_with_locations() {
    let broken = "crates/muster-core/tests/corpus/broken/impossible-quorum.yaml";
    let output = muster(&["plan", "check", broken, "--format", "json", "--at", AT]);
    assert_eq!(output.status.code(), Some(1));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["errors"], 1);
    let diagnostic = &document["diagnostics"][0];
    assert_eq!(diagnostic["code"], "impossible-quorum");
    assert_eq!(diagnostic["severity"], "error");
    assert_eq!(diagnostic["location"]["line"], 56);
    assert_eq!(diagnostic["location"]["column"], 98);
}

#[test]
fn a_missing_plan_is_a_usage_error_that_says_which_path() {
    let output = muster(&["plan", "check", "no/such/plan.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read the plan at no/such/plan.yaml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn render_writes_markdown_and_html_documents() {
    let dir = tempfile::tempdir().unwrap();
    let markdown = dir.path().join("plan.md");
    let html = dir.path().join("plan.html");
    let output = muster(&[
        "plan",
        "render",
        "examples/startup.yaml",
        "-o",
        markdown.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = std::fs::read_to_string(&markdown).unwrap();
    assert!(text.contains("Janet R"), "{text}");
    assert!(text.contains("Stolen User Funds") || text.contains("Stolen user funds"));
    let output = muster(&[
        "plan",
        "render",
        "examples/zkp-protocol",
        "--format",
        "html",
        "-o",
        html.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!doctype html>") || page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<table"));
}

#[test]
fn render_refuses_a_plan_with_errors() {
    let broken = "crates/muster-core/tests/corpus/broken/unknown-reference.yaml";
    let output = muster(&["plan", "render", broken]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(stderr(&output).contains("there is no runbook 'stolen-fund'"));
}

#[test]
fn coverage_reports_a_score_in_text_and_json() {
    let output = muster(&["plan", "coverage", "examples/startup.yaml", "--at", AT]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stdout(&output).is_empty());
    let output = muster(&[
        "plan",
        "coverage",
        "examples/startup.yaml",
        "--at",
        AT,
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let score = report["score"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&score));
    let keys: Vec<&str> = report["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|part| part["key"].as_str().unwrap())
        .collect();
    for key in [
        "runbook-coverage",
        "detection-coverage",
        "role-backups",
        "escalation-24x7",
        "drills",
        "contact-methods",
    ] {
        assert!(keys.contains(&key), "missing part {key} in {keys:?}");
    }
}

#[test]
fn coverage_takes_last_drill_dates_and_rejects_unknown_scenarios() {
    let output = muster(&[
        "plan",
        "coverage",
        "examples/startup.yaml",
        "--at",
        AT,
        "--last-drill",
        "no-such-scenario=2026-10-01",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no-such-scenario"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn schema_is_json_schema_for_the_plan() {
    let output = muster(&["plan", "schema"]);
    assert!(output.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        schema["$schema"]
            .as_str()
            .unwrap()
            .contains("json-schema.org")
    );
    for section in [
        "severities",
        "scenarios",
        "runbooks",
        "decisions",
        "communications",
        "escalation_policies",
    ] {
        assert!(
            schema["properties"][section].is_object(),
            "schema lacks {section}"
        );
    }
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn init_writes_a_starter_plan_that_checks_clean_and_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("muster.yaml");
    let path_text = path.to_str().unwrap();
    let output = muster(&["init", path_text]);
    assert!(output.status.success(), "{}", stderr(&output));
    let check = muster(&["plan", "check", path_text, "--strict", "--at", AT]);
    assert!(check.status.success(), "{}", stdout(&check));
    let again = muster(&["init", path_text]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already exists"));
}
