//! The plan as the human document: Markdown that reads like the source documents (the same
//! tables in the same order of ideas), and a standalone HTML page made from that Markdown.
//!
//! Rendering never fails. A plan that does not pass `plan check` still renders: a reference that
//! points nowhere is shown as the raw identifier, so the author can see what is missing.
//!
//! Every piece of plan text is user input. It is escaped before it enters the Markdown, and the
//! HTML conversion turns any raw HTML that still reaches the parser into text.

use std::collections::{BTreeMap, HashMap, HashSet};
// Writing into a `String` cannot fail, so the `fmt::Result` of `write!` is ignored throughout.
use std::fmt::Write as _;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

use crate::plan::model::{
    Category, CategoryId, Channel, ChannelId, Communication, Decision, EscalationPolicy,
    IntegrationKind, Person, PersonId, Plan, Role, Route, RouteAction, Runbook, Scenario, Schedule,
    Severity, Step, TeamId, TeamKind, Template, TemplateKind,
};
use crate::plan::values::{
    Cadence, Condition, Duration, NotifyWhen, RelativeTime, Target, TargetKind,
};

/// The plan as a complete Markdown document with GitHub-flavoured tables.
#[must_use]
pub fn markdown(plan: &Plan) -> String {
    let mut document = Document::new(plan);
    document.write();
    document.finish()
}

/// The plan as a standalone HTML5 page: the Markdown document converted with its headings
/// anchored, a table of contents, and a small stylesheet that reads well on a phone and on paper.
#[must_use]
pub fn html(plan: &Plan) -> String {
    let source = markdown(plan);
    let mut events: Vec<Event<'_>> = Parser::new_ext(&source, Options::ENABLE_TABLES)
        .map(neutralize)
        .collect();
    anchor_headings(&mut events);
    let mut body = String::with_capacity(source.len() * 2);
    pulldown_cmark::html::push_html(&mut body, events.into_iter());
    let title = escape_html(&document_title(plan));
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n{STYLESHEET}</style>\n</head>\n<body>\n<main>\n\
         {body}</main>\n</body>\n</html>\n"
    )
}

/// Kept short and free of external resources so the page works offline, prints cleanly and
/// scrolls wide tables sideways on a phone instead of squeezing them.
const STYLESHEET: &str = "\
body { font: 16px/1.5 system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif; color: #1b1b1b; background: #fff; margin: 0 auto; max-width: 62rem; padding: 1rem; }
h1, h2, h3, h4 { line-height: 1.25; }
h2 { border-bottom: 2px solid #d0d0d0; padding-bottom: 0.2rem; margin-top: 2.5rem; }
table { border-collapse: collapse; display: block; overflow-x: auto; margin: 1rem 0; }
th, td { border: 1px solid #9a9a9a; padding: 0.35rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #eeeeee; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
pre { background: #f5f5f5; border: 1px solid #d8d8d8; padding: 0.75rem; overflow-x: auto; white-space: pre-wrap; }
a { color: #0b4fa8; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  table { display: table; }
  h2, h3, h4 { break-after: avoid; }
  tr, pre { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
";

/// The ten steps of a live exercise, as the start-up emergency-response plan describes them.
/// Step 2 names the moderator when the plan does.
const EXERCISE_STEPS: [&str; 10] = [
    "Invite all members of the core response team",
    "Assign one team member to act as the Moderator (also acts as exercise recorder)",
    "The Moderator describes a scenario that indicates a potential emergency",
    "Core response team members describe the steps to take out loud",
    "When possible, team members execute the steps (possibly using a live environment)",
    "If the steps include discovery, the Moderator declares what issues are found",
    "The team proceeds through all steps of the plan until the Moderator declares completion",
    "The Moderator reads back the steps taken and conclusion",
    "The team discusses mistakes made or issues found in plan, the Moderator records findings",
    "The Moderator chooses another scenario and steps 3-9 are repeated",
];

fn document_title(plan: &Plan) -> String {
    let organization = one_line(&plan.organization.name);
    if organization.is_empty() {
        "Incident Response Plan".to_owned()
    } else {
        format!("{organization} Incident Response Plan")
    }
}

/// Builds the Markdown text block by block. Every block ends with a blank line so blocks never
/// run into each other, whatever order the sections come in.
struct Document<'p> {
    plan: &'p Plan,
    out: String,
    slugs: Slugger,
    /// Second-level sections in order, as `(title, anchor)`, for the table of contents.
    sections: Vec<(String, String)>,
    /// Runbooks by id, and the potential issues that use each: large plans hold thousands of
    /// both, and scanning one list per item of the other would be quadratic.
    runbooks: HashMap<&'p str, &'p Runbook>,
    used_for: HashMap<&'p str, Vec<&'p Scenario>>,
}

impl<'p> Document<'p> {
    fn new(plan: &'p Plan) -> Self {
        Self {
            plan,
            out: String::with_capacity(16 * 1024),
            slugs: Slugger::default(),
            sections: Vec::new(),
            // Inserted last to first so that, as with `Plan::runbook`, the first of two
            // runbooks sharing an id is the one found.
            runbooks: plan
                .runbooks
                .iter()
                .rev()
                .map(|runbook| (runbook.id.as_str(), runbook))
                .collect(),
            used_for: plan
                .scenarios
                .iter()
                .filter_map(|scenario| Some((scenario.runbook.as_ref()?.as_str(), scenario)))
                .fold(HashMap::new(), |mut used_for, (runbook, scenario)| {
                    used_for
                        .entry(runbook)
                        .or_insert_with(Vec::new)
                        .push(scenario);
                    used_for
                }),
        }
    }

    fn finish(mut self) -> String {
        let end = self.out.trim_end().len();
        self.out.truncate(end);
        self.out.push('\n');
        self.out
    }

    fn write(&mut self) {
        self.heading(1, &document_title(self.plan));
        self.summary();
        // The contents list is built last, when every section's anchor is known, and placed
        // here. Its own heading is registered now so anchors are numbered in document order.
        self.slugs.slug("Contents");
        let contents_at = self.out.len();
        self.quick_reference();
        self.severities();
        self.categories();
        self.qualification();
        self.potential_issues();
        self.response_procedures();
        self.escalation();
        self.teams(TeamKind::Core);
        self.teams(TeamKind::Extended);
        self.other_contacts();
        self.roles();
        self.schedules();
        self.communications();
        self.decisions();
        self.deadlines();
        self.channels();
        self.alert_sources();
        self.templates();
        self.status_page();
        self.drills();
        self.training();
        self.targets();
        self.document_control();

        let mut contents = "## Contents\n\n".to_owned();
        for (title, anchor) in &self.sections {
            let _ = writeln!(contents, "- [{}](#{anchor})", escape(title));
        }
        contents.push('\n');
        self.out.insert_str(contents_at, &contents);
    }

    // Block writers. Their arguments are Markdown already, except where a name says `raw`.

    fn heading(&mut self, level: usize, raw: &str) {
        let text = one_line(raw);
        let anchor = self.slugs.slug(&text);
        if level == 2 {
            self.sections.push((text.clone(), anchor));
        }
        self.out.push_str(&"#".repeat(level));
        self.out.push(' ');
        self.out.push_str(&escape(&text));
        self.out.push_str("\n\n");
    }

    fn paragraph(&mut self, markdown: &str) {
        if markdown.trim().is_empty() {
            return;
        }
        self.out.push_str(markdown);
        self.out.push_str("\n\n");
    }

    /// User prose: blank lines separate paragraphs, single line breaks are joined.
    fn prose(&mut self, raw: &str) {
        let paragraphs = paragraphs(raw);
        for paragraph in paragraphs {
            self.paragraph(&escape(&paragraph));
        }
    }

    fn bullets(&mut self, items: &[String]) {
        if items.is_empty() {
            return;
        }
        for item in items {
            self.out.push_str("- ");
            self.out.push_str(item);
            self.out.push('\n');
        }
        self.out.push('\n');
    }

    fn numbered(&mut self, items: &[String]) {
        if items.is_empty() {
            return;
        }
        for (index, item) in items.iter().enumerate() {
            let _ = writeln!(self.out, "{}. {item}", index + 1);
        }
        self.out.push('\n');
    }

    fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) {
        let row = |cells: &mut dyn Iterator<Item = &str>| {
            let cells: Vec<&str> = cells.collect();
            format!("| {} |\n", cells.join(" | "))
        };
        self.out.push_str(&row(&mut headers.iter().copied()));
        self.out.push_str(&row(&mut headers.iter().map(|_| "---")));
        for cells in rows {
            // A table cell holds one line; the cell helpers guarantee it, this keeps it true.
            debug_assert!(cells.iter().all(|cell| !cell.contains('\n')));
            self.out
                .push_str(&row(&mut cells.iter().map(String::as_str)));
        }
        self.out.push('\n');
    }

    fn code_block(&mut self, info: &str, raw: &str) {
        let text = raw.replace("\r\n", "\n").replace('\r', "\n");
        let text = text.trim_end_matches('\n');
        // A fence longer than any run of backticks in the text cannot be closed by the text.
        let fence = "`".repeat(longest_run(text, '`').max(2) + 1);
        let _ = write!(self.out, "{fence}{info}\n{text}\n{fence}\n\n");
    }

    fn none_defined(&mut self, what: &str) {
        self.paragraph(&format!("No {what} defined."));
    }

    // Sections, in the order of the document.

    fn summary(&mut self) {
        let organization = &self.plan.organization;
        if let Some(summary) = &organization.summary {
            self.prose(summary);
        }
        if !organization.principles.is_empty() {
            self.paragraph("**Principles**:");
            let items: Vec<String> = organization.principles.iter().map(|p| escape(p)).collect();
            self.bullets(&items);
        }
    }

    fn quick_reference(&mut self) {
        let organization = &self.plan.organization;
        let mut items = Vec::new();
        if let Some(contact) = present(organization.emergency_contact.as_deref()) {
            items.push(format!("**Emergency contact**: {}", email_or_text(contact)));
        }
        if let Some(hotline) = present(organization.hotline.as_deref()) {
            items.push(format!("**Incident hotline**: {}", escape(hotline)));
        }
        if let Some(url) = present(organization.status_page_url.as_deref()) {
            items.push(format!("**Status page**: {}", url_or_text(url)));
        }
        if items.is_empty() && self.plan.severities.is_empty() {
            return;
        }
        self.heading(2, "Quick reference");
        self.bullets(&items);
        if self.plan.severities.is_empty() {
            return;
        }
        self.heading(3, "Severity classification");
        let rows: Vec<Vec<String>> = self
            .plan
            .severities
            .iter()
            .map(|severity| {
                let examples: Vec<String> = severity
                    .examples
                    .iter()
                    .take(2)
                    .map(|e| one_line(e))
                    .collect();
                vec![
                    format!("**{}**", escape(&severity_label(severity))),
                    escape(&severity.ack_within.words()),
                    escape(&examples.join(", ")),
                ]
            })
            .collect();
        self.table(&["Level", "Response time", "Example"], &rows);
    }

    fn severities(&mut self) {
        self.heading(2, "Severity levels");
        let plan = self.plan;
        if plan.severities.is_empty() {
            self.none_defined("severity levels are");
            return;
        }
        let rows: Vec<Vec<String>> = plan
            .severities
            .iter()
            .map(|severity| {
                vec![
                    escape(severity.id.as_str()),
                    escape(&severity.name),
                    yes_no(severity.urgent),
                    yes_no(severity.important),
                    escape(&severity.ack_within.words()),
                    severity
                        .action_within
                        .map(|d| escape(&capitalize(&d.words())))
                        .unwrap_or_default(),
                    escape(&severity_updates(severity)),
                    severity
                        .resolve_target
                        .map(|d| escape(&d.words()))
                        .unwrap_or_default(),
                    escape(&self.severity_escalation(severity)),
                ]
            })
            .collect();
        self.table(
            &[
                "Level",
                "Name",
                "Urgent",
                "Important",
                "Acknowledge within",
                "Action within",
                "Updates",
                "Resolve target",
                "Escalation",
            ],
            &rows,
        );
        for severity in &plan.severities {
            let description = present(severity.description.as_deref());
            if description.is_none() && severity.examples.is_empty() {
                continue;
            }
            self.heading(3, &severity_label(severity));
            if let Some(description) = description {
                self.paragraph(&format!("**Definition**: {}", escape(description)));
            }
            if !severity.examples.is_empty() {
                self.paragraph("**Examples**:");
                let items: Vec<String> = severity.examples.iter().map(|e| escape(e)).collect();
                self.bullets(&items);
            }
        }
    }

    fn severity_escalation(&self, severity: &Severity) -> String {
        let policy = severity.escalation.as_deref().map(str::trim).map(|id| {
            if id == "none" {
                "None".to_owned()
            } else {
                self.plan
                    .policy(id)
                    .map_or_else(|| id.to_owned(), policy_name)
            }
        });
        let note = present(severity.notify_note.as_deref()).map(one_line);
        [policy, note]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn categories(&mut self) {
        let plan = self.plan;
        if plan.categories.is_empty() {
            return;
        }
        self.heading(2, "Categories");
        let rows: Vec<Vec<String>> = plan
            .categories
            .iter()
            .map(|category| {
                vec![
                    escape(&category.name),
                    escape(category.description.as_deref().unwrap_or_default()),
                    escape(&join_lines(&category.examples, "; ")),
                ]
            })
            .collect();
        self.table(&["Category", "Description", "Examples"], &rows);
    }

    fn qualification(&mut self) {
        let plan = self.plan;
        if plan.qualification.is_empty() && plan.severities.is_empty() {
            return;
        }
        self.heading(2, "Qualification matrix");
        let derived = plan.qualification.is_empty();
        if derived {
            self.paragraph(
                "An incident's severity follows from whether it is urgent and whether it is \
                 important, as the severity levels define them.",
            );
        } else {
            self.paragraph(
                "An incident's severity follows from whether it is urgent and whether it is \
                 important.",
            );
        }
        let cell = |urgent: bool, important: bool| -> String {
            let severity = if derived {
                plan.severities
                    .iter()
                    .find(|s| s.urgent == urgent && s.important == important)
                    .map(severity_label)
            } else {
                plan.qualification
                    .iter()
                    .find(|rule| rule.urgent == urgent && rule.important == important)
                    .map(|rule| self.severity_name(rule.severity.as_str()))
            };
            escape(&severity.unwrap_or_else(|| "Not defined".to_owned()))
        };
        let rows = vec![
            vec!["**Urgent**".to_owned(), cell(true, true), cell(true, false)],
            vec![
                "**Not urgent**".to_owned(),
                cell(false, true),
                cell(false, false),
            ],
        ];
        self.table(&["", "Important", "Not important"], &rows);
    }

    fn potential_issues(&mut self) {
        self.heading(2, "Potential issues");
        let plan = self.plan;
        if plan.scenarios.is_empty() {
            self.none_defined("potential issues are");
            return;
        }
        let rows: Vec<Vec<String>> = plan
            .scenarios
            .iter()
            .map(|scenario| {
                let detection: Vec<String> = scenario
                    .detection
                    .iter()
                    .map(|d| detection_words(d))
                    .collect();
                let runbook = scenario.runbook.as_ref().map_or_else(
                    || "No runbook".to_owned(),
                    |id| self.runbook_title(id.as_str()),
                );
                vec![
                    escape(&self.category_name(scenario.category.as_str())),
                    escape(&scenario.title),
                    escape(&detection.join("; ")),
                    escape(&self.severity_name(scenario.severity.as_str())),
                    escape(&runbook),
                ]
            })
            .collect();
        self.table(
            &["Category", "Issue", "Detection", "Severity", "Runbook"],
            &rows,
        );
        let described: Vec<String> = plan
            .scenarios
            .iter()
            .filter_map(|scenario| {
                present(scenario.description.as_deref()).map(|description| {
                    format!("**{}**: {}", escape(&scenario.title), escape(description))
                })
            })
            .collect();
        self.bullets(&described);
    }

    fn response_procedures(&mut self) {
        self.heading(2, "Response procedures");
        let plan = self.plan;
        if plan.runbooks.is_empty() {
            self.none_defined("response procedures are");
        }
        for runbook in &plan.runbooks {
            self.runbook(runbook);
        }
        let uncovered: Vec<String> = plan
            .scenarios
            .iter()
            .filter(|scenario| {
                scenario
                    .runbook
                    .as_ref()
                    .is_none_or(|id| !self.runbooks.contains_key(id.as_str()))
            })
            .map(|scenario| one_line(&scenario.title))
            .collect();
        if !uncovered.is_empty() && !plan.runbooks.is_empty() {
            self.paragraph(&format!(
                "**Potential issues without a response procedure**: {}.",
                escape(&uncovered.join(", "))
            ));
        }
    }

    fn runbook(&mut self, runbook: &Runbook) {
        self.heading(3, &runbook.title);
        if let Some(description) = &runbook.description {
            self.prose(description);
        }
        let used_for: Vec<String> = self
            .used_for
            .get(runbook.id.as_str())
            .into_iter()
            .flatten()
            .map(|scenario| one_line(&scenario.title))
            .collect();
        if used_for.is_empty() {
            self.paragraph("**Used for**: no potential issue yet.");
        } else {
            self.paragraph(&format!("**Used for**: {}.", escape(&used_for.join(", "))));
        }
        if runbook.steps.is_empty() {
            self.paragraph("No steps are written yet.");
        } else {
            let with_owner = runbook.steps.iter().any(|step| step.owner.is_some());
            let rows: Vec<Vec<String>> = runbook
                .steps
                .iter()
                .enumerate()
                .map(|(index, step)| self.step_row(index + 1, step, with_owner))
                .collect();
            let mut headers = vec!["Step", "Phase", "Within"];
            if with_owner {
                headers.push("Owner");
            }
            headers.extend(["Details", "Approval needed"]);
            self.table(&headers, &rows);
        }
        if let Some(template) = &runbook.template {
            self.paragraph(&format!(
                "**First message**: {}",
                escape(&self.template_title(template.as_str()))
            ));
        }
        for (index, step) in runbook.steps.iter().enumerate() {
            if let Some(command) = present(step.command.as_deref()) {
                self.paragraph(&format!("**Step {}, {}**:", index + 1, escape(&step.title)));
                self.code_block("sh", command);
            }
        }
    }

    fn step_row(&self, number: usize, step: &Step, with_owner: bool) -> Vec<String> {
        let mut cells = vec![
            format!("{number}. {}", escape(&step.title)),
            escape(step.phase.title()),
            step.within.map(|d| escape(&d.words())).unwrap_or_default(),
        ];
        if with_owner {
            cells.push(
                step.owner
                    .as_ref()
                    .map(|owner| escape(&self.target_name(owner)))
                    .unwrap_or_default(),
            );
        }
        cells.push(escape(step.details.as_deref().unwrap_or_default()));
        cells.push(
            step.decision
                .as_ref()
                .map(|id| escape(&self.decision_summary(id.as_str())))
                .unwrap_or_default(),
        );
        cells
    }

    fn escalation(&mut self) {
        let plan = self.plan;
        let has_timing = plan.categories.iter().any(|c| !c.notify.is_empty())
            || plan.scenarios.iter().any(|s| !s.notify.is_empty());
        if !has_timing && plan.escalation_policies.is_empty() {
            return;
        }
        self.heading(2, "Escalation process");
        if has_timing {
            self.escalation_timing();
        }
        for policy in &plan.escalation_policies {
            self.escalation_policy(policy);
        }
    }

    /// Seed 001's table: when each team hears of an incident, by category, with a row for every
    /// potential issue whose own timing differs from its category's.
    fn escalation_timing(&mut self) {
        let plan = self.plan;
        // Only teams that some timing mentions get a column, in the plan's order of teams; a
        // team the plan does not define comes last, under its raw id.
        let mentioned: Vec<&TeamId> = plan
            .categories
            .iter()
            .flat_map(|c| c.notify.keys())
            .chain(plan.scenarios.iter().flat_map(|s| s.notify.keys()))
            .collect();
        let mut teams: Vec<TeamId> = plan
            .teams
            .iter()
            .filter(|team| mentioned.contains(&&team.id))
            .map(|team| team.id.clone())
            .collect();
        for team in mentioned {
            if !teams.contains(team) {
                teams.push(team.clone());
            }
        }
        let row = |label: String, timing: &BTreeMap<TeamId, _>| -> Vec<String> {
            let mut cells = vec![escape(&label)];
            cells.extend(teams.iter().map(|team| {
                timing
                    .get(team)
                    .map(|when: &NotifyWhen| escape(when.words()))
                    .unwrap_or_default()
            }));
            cells
        };
        let mut rows: Vec<Vec<String>> = plan
            .categories
            .iter()
            .map(|category| row(category.name.clone(), &category.notify))
            .collect();
        for scenario in &plan.scenarios {
            let timing = plan.notify_timing(scenario);
            let category_timing = plan
                .category(scenario.category.as_str())
                .map(|category| category.notify.clone())
                .unwrap_or_default();
            if timing != category_timing {
                let label = format!(
                    "{} ({})",
                    one_line(&scenario.title),
                    self.category_name(scenario.category.as_str())
                );
                rows.push(row(label, &timing));
            }
        }
        let names: Vec<String> = teams
            .iter()
            .map(|team| self.team_name(team.as_str()))
            .map(|name| escape(&name))
            .collect();
        let mut headers = vec!["Category"];
        headers.extend(names.iter().map(String::as_str));
        self.table(&headers, &rows);
    }

    fn escalation_policy(&mut self, policy: &EscalationPolicy) {
        let plan = self.plan;
        self.heading(3, &policy_name(policy));
        let used_by: Vec<String> = plan
            .severities
            .iter()
            .filter(|severity| {
                severity.escalation.as_deref().map(str::trim) == Some(policy.id.as_str())
            })
            .map(severity_label)
            .collect();
        if !used_by.is_empty() {
            self.paragraph(&format!("**Used by**: {}.", escape(&used_by.join(", "))));
        }
        if !policy.via.is_empty() {
            let via: Vec<&str> = policy.via.iter().map(ChannelId::as_str).collect();
            self.paragraph(&format!(
                "**People are paged through**: {}.",
                escape(&via.join(", "))
            ));
        }
        let levels: Vec<String> = policy
            .levels
            .iter()
            .map(|level| {
                let when = if level.after.as_secs() == 0 {
                    "Immediately".to_owned()
                } else {
                    format!("After {}", level.after.words())
                };
                let whom: Vec<String> = level
                    .notify
                    .iter()
                    .map(|target| self.target_detail(target))
                    .collect();
                let whom = if whom.is_empty() {
                    "nobody".to_owned()
                } else {
                    whom.join(", ")
                };
                escape(&format!("{when}: notify {whom}"))
            })
            .collect();
        if levels.is_empty() {
            self.paragraph("No levels are defined: this policy notifies nobody.");
            return;
        }
        self.numbered(&levels);
        let repeat = match policy.repeat {
            0 => "If nobody acknowledges, the ladder does not run again.".to_owned(),
            1 => "If nobody acknowledges, the whole ladder runs once more.".to_owned(),
            times => format!("If nobody acknowledges, the whole ladder runs {times} more times."),
        };
        self.paragraph(&repeat);
    }

    fn teams(&mut self, kind: TeamKind) {
        let plan = self.plan;
        let teams: Vec<_> = plan.teams.iter().filter(|team| team.kind == kind).collect();
        if teams.is_empty() {
            return;
        }
        let (title, second_column) = match kind {
            TeamKind::Core => ("Core response team", "Categories"),
            TeamKind::Extended => ("Extended response team", "Role"),
        };
        self.heading(2, title);
        for team in &teams {
            if let Some(description) = present(team.description.as_deref()) {
                self.paragraph(&format!(
                    "**{}**: {}",
                    escape(&team.name),
                    escape(description)
                ));
            }
        }
        // One row per person, even when they belong to several teams of this kind.
        let mut members: Vec<&str> = Vec::new();
        for team in &teams {
            for member in &team.members {
                if !members.contains(&member.as_str()) {
                    members.push(member.as_str());
                }
            }
        }
        let several = teams.len() > 1;
        let rows: Vec<Vec<String>> = members
            .iter()
            .map(|id| {
                let person = plan.person(id);
                let in_teams: Vec<_> = teams
                    .iter()
                    .filter(|team| team.members.iter().any(|member| member.as_str() == *id))
                    .collect();
                let mut cells = vec![escape(&self.person_name(id))];
                if several {
                    let names: Vec<String> =
                        in_teams.iter().map(|team| one_line(&team.name)).collect();
                    cells.push(escape(&names.join(", ")));
                }
                let second = match kind {
                    TeamKind::Core => {
                        // A person's own categories say more than their teams' (seed 001
                        // gives Janet "Hacker, Protocol" and David "Protocol, Network").
                        let own = person
                            .map(|person| &person.categories)
                            .filter(|own| !own.is_empty());
                        let mut categories: Vec<String> = Vec::new();
                        let listed: Vec<&CategoryId> = match own {
                            Some(own) => own.iter().collect(),
                            None => in_teams.iter().flat_map(|team| &team.categories).collect(),
                        };
                        for category in listed {
                            let name = self.category_name(category.as_str());
                            if !categories.contains(&name) {
                                categories.push(name);
                            }
                        }
                        categories.join(", ")
                    }
                    TeamKind::Extended => person.map(person_role).unwrap_or_default(),
                };
                cells.push(escape(&second));
                cells.extend(contact_cells(person));
                cells
            })
            .collect();
        let mut headers = vec!["Name"];
        if several {
            headers.push("Team");
        }
        headers.extend([second_column, "Email", "Chat", "Phone"]);
        self.table(&headers, &rows);
    }

    /// People who belong to no team still need to be reachable: role holders, approvers,
    /// external contacts.
    fn other_contacts(&mut self) {
        let plan = self.plan;
        let others: Vec<&Person> = plan
            .people
            .iter()
            .filter(|person| {
                !plan
                    .teams
                    .iter()
                    .any(|team| team.members.contains(&person.id))
            })
            .collect();
        if others.is_empty() {
            return;
        }
        self.heading(2, "Other contacts");
        let rows: Vec<Vec<String>> = others
            .iter()
            .map(|person| {
                let mut cells = vec![escape(&person.name), escape(&person_role(person))];
                cells.extend(contact_cells(Some(person)));
                cells
            })
            .collect();
        self.table(&["Name", "Role", "Email", "Chat", "Phone"], &rows);
    }

    fn roles(&mut self) {
        let plan = self.plan;
        if plan.roles.is_empty() {
            return;
        }
        self.heading(2, "Roles and responsibilities");
        for role in &plan.roles {
            self.heading(3, &role_title(role));
            let mut items = vec![format!(
                "**Primary**: {}",
                escape(&self.person_name(role.primary.as_str()))
            )];
            if let Some(backup) = &role.backup {
                items.push(format!(
                    "**Backup**: {}",
                    escape(&self.person_name(backup.as_str()))
                ));
            }
            self.bullets(&items);
            if !role.duties.is_empty() {
                self.paragraph("**Responsibilities**:");
                let duties: Vec<String> = role.duties.iter().map(|d| escape(d)).collect();
                self.bullets(&duties);
            }
        }
    }

    fn schedules(&mut self) {
        let plan = self.plan;
        if plan.schedules.is_empty() {
            return;
        }
        self.heading(2, "On-call schedules");
        for schedule in &plan.schedules {
            self.schedule(schedule);
        }
    }

    fn schedule(&mut self, schedule: &Schedule) {
        self.heading(3, &schedule_name(schedule));
        let zone = match present(schedule.timezone.as_deref()) {
            Some(zone) => one_line(zone),
            None => format!("{} (the organization's)", self.plan.timezone()),
        };
        self.paragraph(&format!(
            "**Time zone**: {}. Hand-off times and overrides are in this zone.",
            escape(&zone)
        ));
        if schedule.rotations.is_empty() {
            self.paragraph("No rotations are defined: nobody is on call.");
        } else {
            let rows: Vec<Vec<String>> = schedule
                .rotations
                .iter()
                .enumerate()
                .map(|(index, rotation)| {
                    let name = present(rotation.name.as_deref())
                        .map_or_else(|| format!("Layer {}", index + 1), one_line);
                    vec![
                        escape(&name),
                        escape(&self.people_names(rotation.members.iter().map(PersonId::as_str))),
                        escape(&rotation.every.words()),
                        escape(&rotation.handoff.to_string()),
                        escape(&rotation.start.to_string()),
                        escape(
                            &rotation
                                .active
                                .map_or_else(|| "Always".to_owned(), |window| window.to_string()),
                        ),
                    ]
                })
                .collect();
            self.table(
                &[
                    "Rotation", "Members", "Shift", "Hand-off", "Starts", "Active",
                ],
                &rows,
            );
            if schedule.rotations.len() > 1 {
                self.paragraph("Where rotations overlap, the later one in this table wins.");
            }
        }
        if !schedule.overrides.is_empty() {
            self.paragraph("**Overrides**:");
            let rows: Vec<Vec<String>> = schedule
                .overrides
                .iter()
                .map(|item| {
                    vec![
                        escape(&self.person_name(item.person.as_str())),
                        escape(&item.from.to_string()),
                        escape(&item.to.to_string()),
                        escape(item.reason.as_deref().unwrap_or_default()),
                    ]
                })
                .collect();
            self.table(&["Person", "From", "To", "Reason"], &rows);
        }
    }

    fn communications(&mut self) {
        let plan = self.plan;
        if plan.communications.is_empty() {
            return;
        }
        self.heading(2, "Communications process");
        let rows: Vec<Vec<String>> = plan
            .communications
            .iter()
            .map(|communication| {
                let channels: Vec<String> = communication
                    .channels
                    .iter()
                    .map(|channel| self.channel_label(channel))
                    .collect();
                vec![
                    escape(&self.communication_label(communication)),
                    escape(&communication_timing(communication)),
                    escape(&channels.join(", ")),
                    escape(&self.target_name(&communication.owner)),
                ]
            })
            .collect();
        self.table(
            &["Communication", "Timing", "Channel", "Responsibility"],
            &rows,
        );
    }

    fn communication_label(&self, communication: &Communication) -> String {
        let audience = one_line(&communication.audience);
        match &communication.when {
            None | Some(Condition::Always) => audience,
            Some(condition) => format!("{audience} ({} only)", self.condition_words(condition)),
        }
    }

    fn decisions(&mut self) {
        let plan = self.plan;
        if plan.decisions.is_empty() {
            return;
        }
        self.heading(2, "Decision process");
        let rows: Vec<Vec<String>> = plan
            .decisions
            .iter()
            .map(|decision| {
                vec![
                    escape(&decision.title),
                    escape(&self.target_names(&decision.required)),
                    escape(&self.target_names(&decision.additional)),
                    quorum(decision).to_string(),
                    yes_no(decision.signed),
                ]
            })
            .collect();
        self.table(
            &[
                "Decision",
                "Required approvers",
                "Additional approvers",
                "Quorum",
                "Signed",
            ],
            &rows,
        );
        self.paragraph(
            "The quorum is the number of approvals needed before the action may be taken; \
             approvals from additional approvers count toward it.",
        );
    }

    fn deadlines(&mut self) {
        let plan = self.plan;
        if plan.deadlines.is_empty() {
            return;
        }
        self.heading(2, "Deadlines");
        let with_owner = plan
            .deadlines
            .iter()
            .any(|deadline| deadline.owner.is_some());
        let rows: Vec<Vec<String>> = plan
            .deadlines
            .iter()
            .map(|deadline| {
                let mut cells = vec![
                    escape(&deadline.title),
                    escape(&capitalize(&self.condition_words(&deadline.when))),
                    escape(&capitalize(&deadline.due.words())),
                    escape(deadline.authority.as_deref().unwrap_or_default()),
                    escape(deadline.content.as_deref().unwrap_or_default()),
                ];
                if with_owner {
                    cells.push(
                        deadline
                            .owner
                            .as_ref()
                            .map(|owner| escape(&self.target_name(owner)))
                            .unwrap_or_default(),
                    );
                }
                cells
            })
            .collect();
        let mut headers = vec!["Deadline", "Applies to", "Clock", "Authority", "Content"];
        if with_owner {
            headers.push("Owner");
        }
        self.table(&headers, &rows);
    }

    fn channels(&mut self) {
        let plan = self.plan;
        if plan.channels.is_empty() {
            return;
        }
        self.heading(2, "Notification channels");
        let rows: Vec<Vec<String>> = plan
            .channels
            .iter()
            .map(|(id, channel)| {
                let secrets: Vec<String> =
                    channel.secret_envs().into_iter().map(code_cell).collect();
                vec![
                    escape(id.as_str()),
                    escape(kind_title(channel.kind())),
                    escape(&channel_where(channel)),
                    secrets.join(", "),
                ]
            })
            .collect();
        self.table(&["Channel", "Type", "Where", "Secret from"], &rows);
        self.paragraph(
            "Secrets are read from the environment variables named here; their values are never \
             written in the plan.",
        );
    }

    /// Where alerts come from (each source's key and heartbeat) and what each routing rule
    /// makes of them, in the order the rules are tried.
    fn alert_sources(&mut self) {
        let plan = self.plan;
        if plan.integrations.is_empty() && plan.routes.is_empty() {
            return;
        }
        self.heading(2, "Alert sources and routing");
        if !plan.integrations.is_empty() {
            let rows: Vec<Vec<String>> = plan
                .integrations
                .iter()
                .map(|integration| {
                    let name = match present(integration.name.as_deref()) {
                        Some(name) => format!(
                            "{}: {}",
                            code_cell(integration.id.as_str()),
                            escape(&one_line(name))
                        ),
                        None => code_cell(integration.id.as_str()),
                    };
                    let heartbeat = integration
                        .heartbeat
                        .as_ref()
                        .map(|beat| {
                            let matchers: Vec<String> = beat
                                .matchers
                                .iter()
                                .map(|m| code_cell(&m.to_string()))
                                .collect();
                            format!(
                                "{} at least every {}, else a {} incident",
                                matchers.join(", "),
                                beat.every.words(),
                                escape(&self.severity_name(beat.severity.as_str())),
                            )
                        })
                        .unwrap_or_default();
                    vec![
                        name,
                        match integration.kind {
                            IntegrationKind::Alertmanager => "Alertmanager webhook",
                            IntegrationKind::Pagerduty => "PagerDuty Events API v2",
                            IntegrationKind::Webhook => "JSON webhook",
                        }
                        .to_owned(),
                        integration
                            .key_env
                            .as_deref()
                            .map_or_else(|| "API keys only".to_owned(), code_cell),
                        heartbeat,
                    ]
                })
                .collect();
            self.table(&["Source", "Format", "Key from", "Heartbeat"], &rows);
        }
        if !plan.routes.is_empty() {
            self.paragraph(
                "Each alert follows the first rule that matches its labels. Alerts of one rule \
                 with the same values of its grouping labels form one incident.",
            );
            let rows: Vec<Vec<String>> = plan
                .routes
                .iter()
                .enumerate()
                .map(|(index, route)| {
                    let matchers: Vec<String> = route
                        .matchers
                        .iter()
                        .map(|m| code_cell(&m.to_string()))
                        .collect();
                    let group_by: Vec<String> = route
                        .group_by
                        .iter()
                        .map(|label| code_cell(label))
                        .collect();
                    vec![
                        (index + 1).to_string(),
                        escape(&crate::alert::route::rule_id(index, route)),
                        if matchers.is_empty() {
                            "Every alert".to_owned()
                        } else {
                            matchers.join(", ")
                        },
                        escape(&self.route_outcome(route)),
                        group_by.join(", "),
                    ]
                })
                .collect();
            self.table(&["#", "Rule", "Matches", "Becomes", "Grouped by"], &rows);
        }
        if plan.routes.iter().all(|route| !route.matchers.is_empty()) {
            self.paragraph("Alerts that no rule matches are held in triage for a responder.");
        }
    }

    /// What a route makes of its alerts, in words.
    fn route_outcome(&self, route: &Route) -> String {
        let plan = self.plan;
        let mut what = match route.action {
            RouteAction::Declare => "Declare".to_owned(),
            RouteAction::Attach => "Attach to the group's open incident, else triage".to_owned(),
            RouteAction::Triage => return "Triage".to_owned(),
            RouteAction::Ignore => return "Ignore (recorded only)".to_owned(),
        };
        let severity = crate::alert::route::severity(plan, route);
        let mut parts = Vec::new();
        parts.extend(
            route
                .scenario
                .as_ref()
                .map(|id| self.scenario_title(id.as_str())),
        );
        parts.extend(severity.map(|id| self.severity_name(id.as_str())));
        parts.extend(
            route
                .category
                .as_ref()
                .map(|id| self.category_name(id.as_str())),
        );
        if !parts.is_empty() {
            let _ = write!(what, ": {}", parts.join(", "));
        }
        if route.auto_resolve {
            what.push_str("; resolved when its alerts resolve");
        }
        what
    }

    fn templates(&mut self) {
        let plan = self.plan;
        if plan.templates.is_empty() {
            return;
        }
        self.heading(2, "Message templates");
        for template in &plan.templates {
            self.template(template);
        }
    }

    fn template(&mut self, template: &Template) {
        let plan = self.plan;
        self.heading(3, &template.title);
        let mut items = vec![format!("**Kind**: {}", template_kind(template.kind))];
        let mut used_by: Vec<String> = plan
            .runbooks
            .iter()
            .filter(|runbook| runbook.template.as_ref() == Some(&template.id))
            .map(|runbook| format!("response procedure {}", one_line(&runbook.title)))
            .collect();
        used_by.extend(
            plan.communications
                .iter()
                .filter(|c| c.template.as_ref() == Some(&template.id))
                .map(|c| format!("communication to {}", one_line(&c.audience))),
        );
        // Communications to one audience may differ only in which incidents they cover.
        let mut seen = HashSet::new();
        used_by.retain(|entry| seen.insert(entry.clone()));
        if !used_by.is_empty() {
            items.push(format!("**Used by**: {}", escape(&used_by.join(", "))));
        }
        if let Some(subject) = present(template.subject.as_deref()) {
            items.push(format!("**Subject**: {}", escape(subject)));
        }
        self.bullets(&items);
        self.code_block("text", &template.body);
    }

    fn status_page(&mut self) {
        let Some(page) = &self.plan.status_page else {
            return;
        };
        self.heading(2, "Status page");
        let mut title = format!("**Title**: {}", escape(&page.title));
        if let Some(url) = present(self.plan.organization.status_page_url.as_deref()) {
            let _ = write!(title, ", at {}", url_or_text(url));
        }
        self.paragraph(&title);
        if page.components.is_empty() {
            self.paragraph("No components are listed.");
            return;
        }
        let rows: Vec<Vec<String>> = page
            .components
            .iter()
            .map(|component| {
                vec![
                    escape(&component.name),
                    escape(component.description.as_deref().unwrap_or_default()),
                ]
            })
            .collect();
        self.table(&["Component", "Description"], &rows);
    }

    fn drills(&mut self) {
        let Some(drills) = &self.plan.drills else {
            return;
        };
        self.heading(2, "Live exercises");
        let mut items = vec![format!(
            "**Cadence**: every {}",
            escape(&drills.every.to_string())
        )];
        if let Some(duration) = drills.duration {
            items.push(format!("**Duration**: {}", escape(&duration.words())));
        }
        let moderator = drills
            .moderator
            .as_ref()
            .map(|target| self.target_with_holder(target));
        if let Some(moderator) = &moderator {
            items.push(format!("**Moderator**: {}", escape(moderator)));
        }
        self.bullets(&items);
        if !drills.scenarios.is_empty() {
            self.paragraph("**Scenarios to practise**:");
            let scenarios: Vec<String> = drills
                .scenarios
                .iter()
                .map(|id| escape(&self.scenario_title(id.as_str())))
                .collect();
            self.bullets(&scenarios);
        }
        if !drills.criteria.is_empty() {
            self.paragraph("**Evaluation criteria**:");
            let criteria: Vec<String> = drills.criteria.iter().map(|c| escape(c)).collect();
            self.bullets(&criteria);
        }
        self.heading(3, "How to run an exercise");
        let steps: Vec<String> = EXERCISE_STEPS
            .iter()
            .enumerate()
            .map(|(index, step)| match (index, &moderator) {
                (1, Some(moderator)) => escape(&format!(
                    "{moderator} acts as the Moderator and exercise recorder"
                )),
                _ => escape(step),
            })
            .collect();
        self.numbered(&steps);
        if !drills.history.is_empty() {
            self.heading(3, "Exercises held");
            let rows: Vec<Vec<String>> = drills
                .history
                .iter()
                .map(|record| {
                    let scenarios: Vec<String> = record
                        .scenarios
                        .iter()
                        .map(|id| self.scenario_title(id.as_str()))
                        .collect();
                    vec![
                        escape(&record.date.to_string()),
                        escape(&scenarios.join(", ")),
                        escape(record.notes.as_deref().unwrap_or_default()),
                    ]
                })
                .collect();
            self.table(&["Date", "Scenarios", "Notes"], &rows);
        }
    }

    fn training(&mut self) {
        let Some(training) = &self.plan.training else {
            return;
        };
        self.heading(2, "Training");
        let mut items = vec![format!(
            "**Cadence**: every {}",
            escape(&training.every.to_string())
        )];
        if let Some(duration) = training.duration {
            items.push(format!("**Duration**: {}", escape(&duration.words())));
        }
        self.bullets(&items);
        if !training.topics.is_empty() {
            self.paragraph("**Topics**:");
            let topics: Vec<String> = training.topics.iter().map(|t| escape(t)).collect();
            self.bullets(&topics);
        }
    }

    fn targets(&mut self) {
        let plan = self.plan;
        let targets = plan.targets.as_ref();
        if targets.is_none() && plan.severities.is_empty() {
            return;
        }
        self.heading(2, "Targets");
        let mut rows = Vec::new();
        if let Some(mttd) = targets.and_then(|t| t.mttd) {
            rows.push(vec![
                "Mean time to detect (MTTD)".to_owned(),
                escape(&format!("Under {}", mttd.words())),
            ]);
        }
        let per_severity = |value: &dyn Fn(&Severity) -> Option<String>| -> Vec<String> {
            plan.severities
                .iter()
                .filter_map(|severity| {
                    value(severity).map(|words| format!("{words} ({})", severity.id))
                })
                .collect()
        };
        let acknowledge = per_severity(&|severity| Some(severity.ack_within.words()));
        if !acknowledge.is_empty() {
            rows.push(vec![
                "Mean time to acknowledge (MTTA)".to_owned(),
                escape(&format!("Under {}", acknowledge.join(", "))),
            ]);
        }
        let resolve = per_severity(&|severity| severity.resolve_target.map(Duration::words));
        if !resolve.is_empty() {
            rows.push(vec![
                "Mean time to resolve (MTTR)".to_owned(),
                escape(&format!("Under {}", resolve.join(", "))),
            ]);
        }
        if let Some(rate) = targets.and_then(|t| t.repeat_rate_percent) {
            rows.push(vec![
                "Repeat incidents (same root cause)".to_owned(),
                escape(&format!("Under {rate}%")),
            ]);
        }
        if let Some(coverage) = targets.and_then(|t| t.runbook_coverage_percent) {
            let mut text = format!("At least {coverage}%");
            if !plan.scenarios.is_empty() {
                let covered = plan
                    .scenarios
                    .iter()
                    .filter(|scenario| {
                        scenario
                            .runbook
                            .as_ref()
                            .is_some_and(|id| self.runbooks.contains_key(id.as_str()))
                    })
                    .count();
                let verb = if covered == 1 { "has" } else { "have" };
                let _ = write!(
                    text,
                    " (this plan: {covered} of {} potential issues {verb} a runbook)",
                    plan.scenarios.len()
                );
            }
            rows.push(vec!["Runbook coverage".to_owned(), escape(&text)]);
        }
        self.table(&["Measure", "Target"], &rows);
    }

    fn document_control(&mut self) {
        let Some(document) = &self.plan.document else {
            return;
        };
        self.heading(2, "Document control");
        let mut items = Vec::new();
        if let Some(owner) = present(document.owner.as_deref()) {
            items.push(format!("**Document owner**: {}", escape(owner)));
        }
        if let Some(every) = document.review_every {
            items.push(format!("**Review**: every {}", escape(&every.to_string())));
        }
        if let Some(next) = document.next_review {
            items.push(format!("**Next review**: {}", escape(&next.to_string())));
        }
        self.bullets(&items);
        if !document.revisions.is_empty() {
            self.heading(3, "Revision history");
            let rows: Vec<Vec<String>> = document
                .revisions
                .iter()
                .map(|revision| {
                    vec![
                        escape(&revision.version),
                        escape(&revision.date),
                        escape(&revision.author),
                        escape(&revision.changes),
                    ]
                })
                .collect();
            self.table(&["Version", "Date", "Author", "Changes"], &rows);
        }
    }

    // Names. Each returns plain text (not Markdown) and falls back to the raw identifier when a
    // reference points nowhere.

    fn person_name(&self, id: &str) -> String {
        self.plan
            .person(id)
            .map_or_else(|| id.to_owned(), |person| one_line(&person.name))
    }

    fn people_names<'a>(&self, ids: impl Iterator<Item = &'a str>) -> String {
        ids.map(|id| self.person_name(id))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn severity_name(&self, id: &str) -> String {
        self.plan
            .severity(id)
            .map_or_else(|| id.to_owned(), severity_label)
    }

    fn category_name(&self, id: &str) -> String {
        self.plan.category(id).map_or_else(
            || id.to_owned(),
            |category: &Category| one_line(&category.name),
        )
    }

    fn team_name(&self, id: &str) -> String {
        self.plan
            .team(id)
            .map_or_else(|| id.to_owned(), |team| one_line(&team.name))
    }

    fn runbook_title(&self, id: &str) -> String {
        self.runbooks
            .get(id)
            .map_or_else(|| id.to_owned(), |runbook| one_line(&runbook.title))
    }

    fn scenario_title(&self, id: &str) -> String {
        self.plan.scenario(id).map_or_else(
            || id.to_owned(),
            |scenario: &Scenario| one_line(&scenario.title),
        )
    }

    fn template_title(&self, id: &str) -> String {
        self.plan
            .template(id)
            .map_or_else(|| id.to_owned(), |template| one_line(&template.title))
    }

    /// "Pause contract (CEO, COO)": the decision and who must approve it.
    fn decision_summary(&self, id: &str) -> String {
        match self.plan.decision(id) {
            None => id.to_owned(),
            Some(decision) if decision.required.is_empty() => one_line(&decision.title),
            Some(decision) => format!(
                "{} ({})",
                one_line(&decision.title),
                self.target_names(&decision.required)
            ),
        }
    }

    fn channel_label(&self, id: &ChannelId) -> String {
        let Some(channel) = self.plan.channels.get(id) else {
            return id.to_string();
        };
        match channel {
            Channel::Manual { description } => one_line(description),
            Channel::StatusPage {} => "Status page".to_owned(),
            Channel::Slack {
                channel: Some(name),
                ..
            } if !name.trim().is_empty() => format!("Slack {}", one_line(name)),
            Channel::Email { to, .. } if !to.is_empty() => {
                format!("Email to {}", join_lines(to, ", "))
            }
            // A channel named after its kind ("pagerduty") reads as the kind alone.
            other if id.as_str().eq_ignore_ascii_case(other.kind()) => {
                kind_title(other.kind()).to_owned()
            }
            other => format!("{} {id}", kind_title(other.kind())),
        }
    }

    /// The short name of whoever a reference points at, as a table cell shows it.
    fn target_name(&self, target: &Target) -> String {
        let id = target.id.as_str();
        match target.kind {
            TargetKind::Person => self.person_name(id),
            TargetKind::Team => self.team_name(id),
            TargetKind::Role => self
                .plan
                .role(id)
                .map_or_else(|| id.to_owned(), |role| one_line(&role.name)),
            TargetKind::Schedule => self
                .plan
                .schedule(id)
                .map_or_else(|| id.to_owned(), schedule_name),
            TargetKind::Channel => self.channel_label(&ChannelId::from(id)),
        }
    }

    /// A role with the person who holds it, "Incident Commander (Alice Smith)", so a reader
    /// knows whom to ask; any other reference by its name.
    fn target_with_holder(&self, target: &Target) -> String {
        match (target.kind, self.plan.role(&target.id)) {
            (TargetKind::Role, Some(role)) => format!(
                "{} ({})",
                one_line(&role.name),
                self.person_name(role.primary.as_str())
            ),
            _ => self.target_name(target),
        }
    }

    fn target_names(&self, targets: &[Target]) -> String {
        targets
            .iter()
            .map(|target| self.target_name(target))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whoever a reference points at, with the people behind it, for escalation ladders:
    /// "role Incident Commander (Alice Smith, backup Bob Jones)".
    fn target_detail(&self, target: &Target) -> String {
        let id = target.id.as_str();
        match target.kind {
            TargetKind::Person => self.person_name(id),
            TargetKind::Role => match self.plan.role(id) {
                None => format!("role {id}"),
                Some(role) => {
                    let mut people = self.person_name(role.primary.as_str());
                    if let Some(backup) = &role.backup {
                        let _ = write!(people, ", backup {}", self.person_name(backup.as_str()));
                    }
                    format!("role {} ({people})", one_line(&role.name))
                }
            },
            TargetKind::Team => match self.plan.team(id) {
                None => format!("team {id}"),
                Some(team) if team.members.is_empty() => format!("team {}", one_line(&team.name)),
                Some(team) => format!(
                    "team {} ({})",
                    one_line(&team.name),
                    self.people_names(team.members.iter().map(PersonId::as_str))
                ),
            },
            TargetKind::Schedule => format!("whoever is on call in {}", self.target_name(target)),
            TargetKind::Channel => format!("channel {}", self.target_name(target)),
        }
    }

    fn condition_words(&self, condition: &Condition) -> String {
        match condition {
            Condition::Always => "all incidents".to_owned(),
            Condition::Tag(tag) => format!("incidents tagged {}", one_line(tag)),
            Condition::Severity(id) => format!("{} incidents", self.severity_name(id)),
            Condition::Category(id) => format!("{} incidents", self.category_name(id)),
            Condition::Scenario(id) => format!("{} incidents", self.scenario_title(id)),
        }
    }
}

fn severity_label(severity: &Severity) -> String {
    let name = one_line(&severity.name);
    if name.is_empty() {
        severity.id.to_string()
    } else {
        format!("{} - {name}", severity.id)
    }
}

fn severity_updates(severity: &Severity) -> String {
    let cadence = severity
        .update_every
        .map(|cadence| capitalize(&cadence.words()));
    let note = present(severity.update_note.as_deref()).map(one_line);
    [cadence, note]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ")
}

fn policy_name(policy: &EscalationPolicy) -> String {
    present(policy.name.as_deref()).map_or_else(|| policy.id.to_string(), one_line)
}

fn schedule_name(schedule: &Schedule) -> String {
    present(schedule.name.as_deref()).map_or_else(|| schedule.id.to_string(), one_line)
}

fn role_title(role: &Role) -> String {
    let name = one_line(&role.name);
    match present(role.short.as_deref()) {
        Some(short) => format!("{name} ({})", one_line(short)),
        None => name,
    }
}

/// What an extended-team member or outside contact does: title, organization, purpose.
fn person_role(person: &Person) -> String {
    [&person.title, &person.organization, &person.purpose]
        .into_iter()
        .filter_map(|value| present(value.as_deref()).map(one_line))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Email, chat and phone cells; chat is the first handle on any chat platform.
fn contact_cells(person: Option<&Person>) -> [String; 3] {
    let Some(person) = person else {
        return Default::default();
    };
    let contacts = &person.contacts;
    let chat = [
        &contacts.chat,
        &contacts.slack,
        &contacts.telegram,
        &contacts.discord,
        &contacts.matrix,
    ]
    .into_iter()
    .find_map(|handle| present(handle.as_deref()));
    [
        present(contacts.email.as_deref())
            .map(email_or_text)
            .unwrap_or_default(),
        chat.map(escape).unwrap_or_default(),
        present(contacts.phone.as_deref())
            .map(escape)
            .unwrap_or_default(),
    ]
}

fn communication_timing(communication: &Communication) -> String {
    let parts: Vec<String> = [
        communication.every.map(Cadence::words),
        communication.due.map(RelativeTime::words),
        present(communication.timing.as_deref()).map(one_line),
    ]
    .into_iter()
    .flatten()
    .collect();
    capitalize(&parts.join("; "))
}

fn quorum(decision: &Decision) -> u32 {
    decision
        .quorum
        .unwrap_or_else(|| u32::try_from(decision.required.len()).unwrap_or(u32::MAX))
}

/// Detection as a reader says it: automated signals are named as such.
fn detection_words(detection: &str) -> String {
    let detection = one_line(detection);
    if let Some(detector) = detection.strip_prefix("detector:") {
        format!("Detector {}", detector.trim())
    } else if let Some(alert) = detection.strip_prefix("alert:") {
        format!("Alert {}", alert.trim())
    } else {
        detection
    }
}

fn kind_title(kind: &str) -> &str {
    match kind {
        "slack" => "Slack",
        "discord" => "Discord",
        "telegram" => "Telegram",
        "matrix" => "Matrix",
        "email" => "Email",
        "webhook" => "Webhook",
        "pagerduty" => "PagerDuty",
        "status-page" => "Status page",
        "manual" => "Manual",
        other => other,
    }
}

/// Where a channel delivers, without any secret.
fn channel_where(channel: &Channel) -> String {
    match channel {
        Channel::Slack { channel, .. } => channel.as_deref().map(one_line).unwrap_or_default(),
        Channel::Discord { .. } | Channel::Pagerduty { .. } => String::new(),
        Channel::Telegram { chat_id, .. } => format!("chat {}", one_line(chat_id)),
        Channel::Matrix {
            homeserver,
            room_id,
            ..
        } => format!("room {} on {}", one_line(room_id), one_line(homeserver)),
        Channel::Email { to, .. } if to.is_empty() => "each paged person's own address".to_owned(),
        Channel::Email { to, .. } => join_lines(to, ", "),
        Channel::Webhook { url, .. } => one_line(url),
        Channel::StatusPage {} => "the public status page".to_owned(),
        Channel::Manual { description } => format!("by hand: {}", one_line(description)),
    }
}

fn template_kind(kind: TemplateKind) -> &'static str {
    match kind {
        TemplateKind::InternalDeclaration => "internal declaration",
        TemplateKind::StatusUpdate => "status update",
        TemplateKind::CustomerEmail => "customer email",
        TemplateKind::SecurityAdvisory => "security advisory",
        TemplateKind::AllClear => "all clear",
        TemplateKind::PostMortem => "post-mortem",
        TemplateKind::Other => "other",
    }
}

// Text helpers.

fn present(value: Option<&str>) -> Option<&str> {
    value.filter(|text| !text.trim().is_empty())
}

fn yes_no(value: bool) -> String {
    if value { "Yes" } else { "No" }.to_owned()
}

/// Joins the lines of user text with single spaces: a table cell, list item or heading holds
/// exactly one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn join_lines(items: &[String], separator: &str) -> String {
    items
        .iter()
        .map(|item| one_line(item))
        .filter(|item| !item.is_empty())
        .collect::<Vec<_>>()
        .join(separator)
}

fn paragraphs(text: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(one_line(&current));
                current.clear();
            }
        } else {
            current.push_str(line);
            current.push(' ');
        }
    }
    if !current.trim().is_empty() {
        paragraphs.push(one_line(&current));
    }
    paragraphs
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn longest_run(text: &str, wanted: char) -> usize {
    let mut longest = 0;
    let mut current = 0;
    for c in text.chars() {
        if c == wanted {
            current += 1;
            longest = longest.max(current);
        } else {
            current = 0;
        }
    }
    longest
}

/// Escapes user text so that Markdown shows it exactly as written, on one line.
///
/// Only what would change meaning is escaped, so the Markdown stays readable as plain text:
/// code, emphasis, links, raw HTML and math markers wherever they could open something, `|` so a table keeps
/// its columns, `_` unless it sits inside a word (where it cannot start emphasis), `&` when it
/// would spell an entity, and the markers that only matter at the start of a line (bullets,
/// ordered-list numbers, headings, quotes) or at the end of a heading (closing `#`s), because
/// the text may open a paragraph, a list item or a heading.
fn escape(text: &str) -> String {
    let line = one_line(text);
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len() + 8);
    // An ordered-list marker is up to nine digits, then `.` or `)`, then a space or the end.
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    let number_marker = (1..=9).contains(&digits)
        && chars
            .get(digits)
            .is_some_and(|next| *next == '.' || *next == ')')
        && chars
            .get(digits + 1)
            .is_none_or(|next| next.is_whitespace());
    // A bullet, quote, heading or setext underline at the start; `-`, `+` and `=` only count
    // when no word follows, so phone numbers and negative numbers stay as written.
    let leading_marker = match chars.first() {
        Some('>' | '#') => true,
        Some('-' | '+' | '=') => !chars.get(1).is_some_and(|next| next.is_alphanumeric()),
        _ => false,
    };
    // A run of `#` at the very end would be taken as a heading's closing sequence.
    let closing_hashes = chars.len() - chars.iter().rev().take_while(|c| **c == '#').count();
    let word = |index: Option<usize>| {
        index
            .and_then(|index| chars.get(index))
            .is_some_and(|c| c.is_alphanumeric())
    };
    for (index, c) in chars.iter().enumerate() {
        let special = match c {
            '\\' | '`' | '*' | '[' | ']' | '|' | '~' | '$' => true,
            // Tags, comments and autolinks all need something other than a space after `<`.
            '<' => chars
                .get(index + 1)
                .is_some_and(|next| !next.is_whitespace()),
            '_' => !(word(index.checked_sub(1)) && word(Some(index + 1))),
            '&' => spells_entity(&chars[index + 1..]),
            '#' => index >= closing_hashes,
            _ => false,
        };
        let at_marker = (index == 0 && leading_marker) || (number_marker && index == digits);
        if special || at_marker {
            out.push('\\');
        }
        out.push(*c);
    }
    out
}

/// Whether the characters after an `&` would make it an entity such as `&amp;` or `&#35;`.
fn spells_entity(rest: &[char]) -> bool {
    let name = rest
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '#')
        .count();
    name > 0 && rest.get(name) == Some(&';')
}

/// Whether text can be used as a link destination without escaping: no spaces, no characters
/// that end or confuse a destination, no pipes that would split a table cell.
fn link_safe(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|c| {
            !c.is_whitespace()
                && !c.is_control()
                && !matches!(
                    c,
                    '<' | '>' | '(' | ')' | '[' | ']' | '\\' | '|' | '`' | '"'
                )
        })
}

fn email_or_text(address: &str) -> String {
    let address = address.trim();
    if address.contains('@') && !address.contains(':') && link_safe(address) {
        format!("[{}](mailto:{address})", escape(address))
    } else {
        escape(address)
    }
}

fn url_or_text(url: &str) -> String {
    let url = url.trim();
    let web = url.starts_with("https://") || url.starts_with("http://");
    if web && link_safe(url) {
        format!("[{}]({url})", escape(url))
    } else {
        escape(url)
    }
}

/// An identifier such as an environment variable name, as inline code in a table cell. Text
/// that would need the code span's own escaping rules is shown as plain escaped text instead.
fn code_cell(text: &str) -> String {
    let text = one_line(text);
    if text.is_empty() || text.contains('`') || text.contains('|') {
        escape(&text)
    } else {
        format!("`{text}`")
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Makes sure nothing from the plan reaches the page as markup: raw HTML becomes text (the
/// renderer escapes it, so this is the second line of defence) and links may only use schemes
/// that cannot run code.
fn neutralize(event: Event<'_>) -> Event<'_> {
    match event {
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
        Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !harmless_url(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: CowStr::Borrowed("#"),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) if !harmless_url(&dest_url) => Event::Start(Tag::Image {
            link_type,
            dest_url: CowStr::Borrowed("#"),
            title,
            id,
        }),
        other => other,
    }
}

/// Whether a link in user-written Markdown may stay: relative links and `http`, `https`,
/// `mailto` and `tel` ones (never `javascript:` or `data:`).
#[must_use]
pub fn harmless_url(url: &str) -> bool {
    let url = url.trim();
    let scheme_end = url.find(':');
    let path_start = url.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        // A colon after the first slash, question mark or hash belongs to the path: relative.
        (Some(colon), Some(path)) if path < colon => true,
        (None, _) => true,
        (Some(colon), _) => {
            let scheme = url[..colon].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto" | "tel")
        }
    }
}

/// Gives every heading the anchor the Markdown's table of contents links to.
fn anchor_headings(events: &mut [Event<'_>]) {
    let mut slugs = Slugger::default();
    let mut index = 0;
    while index < events.len() {
        if matches!(events[index], Event::Start(Tag::Heading { .. })) {
            let mut text = String::new();
            let mut end = index + 1;
            while end < events.len() && !matches!(events[end], Event::End(TagEnd::Heading(_))) {
                if let Event::Text(part) | Event::Code(part) = &events[end] {
                    text.push_str(part);
                }
                end += 1;
            }
            let anchor = slugs.slug(&one_line(&text));
            if let Event::Start(Tag::Heading { id, .. }) = &mut events[index] {
                *id = Some(CowStr::from(anchor));
            }
            index = end;
        }
        index += 1;
    }
}

/// Heading anchors the way GitHub makes them, so the same links work on GitHub and in the HTML
/// page: lower case, spaces to hyphens, punctuation dropped, and `-1`, `-2` … on repeats.
#[derive(Debug, Default)]
struct Slugger {
    seen: HashMap<String, usize>,
}

impl Slugger {
    fn slug(&mut self, text: &str) -> String {
        let base: String = text
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                '-' | '_' => Some(c),
                c if c.is_alphanumeric() => Some(c),
                _ => None,
            })
            .collect();
        let base = if base.is_empty() {
            "section".to_owned()
        } else {
            base
        };
        let mut slug = base.clone();
        while self.seen.contains_key(&slug) {
            let count = self.seen.entry(base.clone()).or_insert(0);
            *count += 1;
            slug = format!("{base}-{count}");
        }
        self.seen.insert(slug.clone(), 0);
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_text_literal_on_one_line() {
        assert_eq!(escape("a | b"), "a \\| b");
        assert_eq!(escape("<script>"), "\\<script>");
        assert_eq!(escape("line one\nline two"), "line one line two");
        assert_eq!(escape("- not a list"), "\\- not a list");
        assert_eq!(escape("1. not a list"), "1\\. not a list");
        assert_eq!(escape("1.0"), "1.0");
        assert_eq!(escape("2)"), "2\\)");
        assert_eq!(escape("+19995551212"), "+19995551212");
        assert_eq!(escape("Slack #emergency"), "Slack #emergency");
        assert_eq!(escape("# not a heading"), "\\# not a heading");
        assert_eq!(escape("Channel ##"), "Channel \\#\\#");
        assert_eq!(escape("> not a quote, 3 > 2"), "\\> not a quote, 3 > 2");
        assert_eq!(
            escape("affecting < 10% or <10%"),
            "affecting < 10% or \\<10%"
        );
        assert_eq!(
            escape("snake_case and _emphasis_"),
            "snake_case and \\_emphasis\\_"
        );
        assert_eq!(escape("AT&T & co &amp; &#35;"), "AT&T & co \\&amp; \\&#35;");
        assert_eq!(
            escape("*bold* `code` [link] ~strike~ $math$"),
            "\\*bold\\* \\`code\\` \\[link\\] \\~strike\\~ \\$math\\$"
        );
        assert_eq!(escape("back\\slash"), "back\\\\slash");
    }

    #[test]
    fn slugs_follow_github() {
        let mut slugs = Slugger::default();
        assert_eq!(slugs.slug("P0 - Critical"), "p0---critical");
        assert_eq!(
            slugs.slug("Roles and responsibilities"),
            "roles-and-responsibilities"
        );
        assert_eq!(slugs.slug("Deadlines"), "deadlines");
        assert_eq!(slugs.slug("Deadlines"), "deadlines-1");
        assert_eq!(slugs.slug("Deadlines"), "deadlines-2");
        assert_eq!(slugs.slug("!!"), "section");
    }

    #[test]
    fn only_harmless_links_survive() {
        assert!(harmless_url("#contents"));
        assert!(harmless_url("https://status.example"));
        assert!(harmless_url("mailto:a@b.example"));
        assert!(!harmless_url("javascript:alert(1)"));
        assert!(!harmless_url(" JavaScript:alert(1)"));
        assert!(harmless_url("docs/page?x=a:b"));
    }
}
