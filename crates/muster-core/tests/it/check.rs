//! `plan check` on the example plans (clean) and on a corpus of broken plans, one per kind of
//! mistake, each compared with the exact diagnostics a person would read.

use std::path::{Path, PathBuf};

use muster_core::plan::{self, Loaded, Source};

/// Every check runs as of this instant so on-call look-ahead is reproducible.
pub fn fixed_now() -> jiff::Timestamp {
    "2026-11-21T00:00:00Z".parse().unwrap()
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Reads a plan file or folder the way the command line does: folders in file-name order.
pub fn read_plan(path: &Path) -> Vec<(String, String)> {
    let root = workspace().canonicalize().unwrap();
    let mut files = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(next) = pending.pop() {
        if next.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&next)
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .collect();
            entries.sort();
            entries.reverse();
            pending.extend(entries);
        } else if next.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let next = next.canonicalize().unwrap();
            let name = next
                .strip_prefix(&root)
                .unwrap_or(&next)
                .display()
                .to_string();
            files.push((name, std::fs::read_to_string(&next).unwrap()));
        }
    }
    files
}

pub fn load_files(files: &[(String, String)]) -> Loaded {
    let sources: Vec<Source<'_>> = files
        .iter()
        .map(|(name, text)| Source { name, text })
        .collect();
    plan::load(&sources, fixed_now())
}

fn short(loaded: &Loaded) -> String {
    let mut text = String::new();
    for diagnostic in &loaded.diagnostics {
        text.push_str(&diagnostic.to_string());
        text.push('\n');
    }
    text
}

#[test]
fn every_example_plan_checks_clean() {
    let examples = workspace().join("examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        let loaded = load_files(&read_plan(&path));
        assert!(
            loaded.diagnostics.is_empty(),
            "{} is not clean:\n{}",
            path.display(),
            short(&loaded)
        );
        assert!(loaded.plan.is_some());
        checked += 1;
    }
    assert!(
        checked >= 4,
        "expected the four example plans, found {checked}"
    );
}

#[test]
fn the_starter_plan_checks_clean() {
    let path = workspace().join("crates/muster/starter.yaml");
    let loaded = load_files(&read_plan(&path));
    assert!(loaded.diagnostics.is_empty(), "{}", short(&loaded));
}

/// Each broken plan sits beside a `.expected` file holding the exact diagnostics. Set
/// `MUSTER_BLESS=1` to rewrite the expected files after a deliberate change, then review them.
#[test]
fn broken_plans_report_exactly_the_expected_diagnostics() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/broken");
    let bless = std::env::var_os("MUSTER_BLESS").is_some();
    let mut failures = Vec::new();
    let mut count = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir() || path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    entries.sort();
    for path in entries {
        count += 1;
        let loaded = load_files(&read_plan(&path));
        let actual = short(&loaded);
        let expected_path = path.with_extension("expected");
        if bless {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual.is_empty() {
            failures.push(format!("{}: no diagnostics at all", path.display()));
        } else if actual != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- actual\n{actual}",
                path.display()
            ));
        }
    }
    assert!(
        count >= 20,
        "the corpus should cover every kind of mistake, found {count} plans"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
