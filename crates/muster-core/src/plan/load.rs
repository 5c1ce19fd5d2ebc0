//! Loading a plan from source texts: YAML, then structure, then meaning. Every problem of every
//! stage that can run is reported, each at its file, line and column.

use crate::diagnostic::{Diagnostic, Location, Severity};
use crate::plan::model::Plan;
use crate::plan::structure::Walker;
use crate::plan::validate::{self, Finding};
use crate::plan::yaml::{self, Loc, Node, YamlProblem};

/// One file of a plan: its display name (usually the path) and its text.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

/// The outcome of loading: the plan when it could be read, and every problem found.
#[derive(Debug)]
pub struct Loaded {
    pub plan: Option<Plan>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    #[must_use]
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    #[must_use]
    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == severity)
            .count()
    }

    /// The plan, if it loaded without errors (warnings are allowed).
    #[must_use]
    pub fn clean_plan(&self) -> Option<&Plan> {
        (self.errors() == 0).then_some(self.plan.as_ref()).flatten()
    }
}

/// Turns tree locations into file locations with byte offsets, computing line starts once per file.
struct Locator<'a> {
    sources: &'a [Source<'a>],
    line_starts: Vec<Option<Vec<usize>>>,
}

impl<'a> Locator<'a> {
    fn new(sources: &'a [Source<'a>]) -> Self {
        Self {
            sources,
            line_starts: vec![None; sources.len()],
        }
    }

    fn location(&mut self, loc: Loc) -> Option<Location> {
        let source = self.sources.get(loc.file)?;
        let starts = self.line_starts[loc.file].get_or_insert_with(|| {
            std::iter::once(0)
                .chain(source.text.match_indices('\n').map(|(at, _)| at + 1))
                .collect()
        });
        let line_start = starts.get(loc.line.saturating_sub(1)).copied().unwrap_or(0);
        let rest = &source.text[line_start..];
        let byte_of = |chars: usize| {
            rest.char_indices()
                .nth(chars)
                .map_or(rest.len(), |(at, _)| at)
        };
        let start = byte_of(loc.column.saturating_sub(1));
        let end = byte_of(loc.column.saturating_sub(1) + loc.length.max(1));
        Some(Location {
            file: source.name.to_owned(),
            line: loc.line,
            column: loc.column,
            offset: line_start + start,
            length: end.saturating_sub(start),
        })
    }

    fn problem_diagnostic(&mut self, problem: YamlProblem) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code: problem.code,
            message: problem.message,
            hint: problem.hint,
            location: self.location(problem.loc),
        }
    }

    fn finding_diagnostic(&mut self, root: &Node, finding: Finding) -> Diagnostic {
        let inside = finding
            .inner
            .filter(|_| !finding.on_key)
            .and_then(|position| Some((position, root.find(&finding.path)?)));
        let loc = if let Some((position, node)) = inside {
            let text = self
                .sources
                .get(node.loc.file)
                .map_or("", |source| source.text);
            node.locate_inside(text, position)
        } else if finding.on_key {
            root.locate_key(&finding.path)
        } else {
            root.locate(&finding.path)
        };
        Diagnostic {
            severity: finding.severity,
            code: finding.code,
            message: finding.message,
            hint: finding.hint,
            location: self.location(loc),
        }
    }
}

/// Loads and checks a plan. `now` is used for checks that look ahead in time (on-call gaps over
/// the coming weeks).
#[must_use]
pub fn load(sources: &[Source<'_>], now: jiff::Timestamp) -> Loaded {
    let mut locator = Locator::new(sources);
    let texts: Vec<&str> = sources.iter().map(|source| source.text).collect();
    let (root, problems) = yaml::parse_all(&texts);
    let mut diagnostics: Vec<Diagnostic> = problems
        .into_iter()
        .map(|problem| locator.problem_diagnostic(problem))
        .collect();
    let Some(root) = root else {
        if diagnostics.is_empty() {
            diagnostics.push(Diagnostic {
                severity: Severity::Error,
                code: "empty-plan",
                message: "the plan is empty".to_owned(),
                hint: Some("run `muster init` for a commented starter plan".to_owned()),
                location: None,
            });
        }
        return Loaded {
            plan: None,
            diagnostics,
        };
    };
    let schema = crate::plan::json_schema();
    let mut walker = Walker::new(schema);
    let json = walker.walk(&root, schema, "the plan");
    diagnostics.extend(
        walker
            .problems
            .into_iter()
            .map(|problem| locator.problem_diagnostic(problem)),
    );
    let plan = json.and_then(|json| match serde_json::from_value::<Plan>(json) {
        Ok(plan) => Some(plan),
        Err(error) => {
            diagnostics.push(Diagnostic {
                severity: Severity::Error,
                code: "unreadable",
                message: format!("the plan could not be read: {error}"),
                hint: None,
                location: locator.location(root.loc),
            });
            None
        }
    });
    if let Some(plan) = &plan {
        for finding in validate::validate(plan, now) {
            diagnostics.push(locator.finding_diagnostic(&root, finding));
        }
    }
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            d.location.as_ref().map(|l| {
                (
                    sources.iter().position(|s| s.name == l.file),
                    l.line,
                    l.column,
                )
            })
        };
        key(a).cmp(&key(b))
    });
    Loaded { plan, diagnostics }
}
