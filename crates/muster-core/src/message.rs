//! Messages written from the plan's templates.
//!
//! A template is minijinja (Jinja) text: `{{ incident.title }}`, `{% if ... %}...{% endif %}`,
//! filters such as `lower` and `replace`. Messages are plain text or Markdown, so nothing is
//! HTML-escaped. Every variable a template may read is listed in [`VARIABLES`]: `plan check`
//! refuses any other, and rendering refuses an undefined value instead of sending an empty
//! string. Times are shown in the plan's time zone, e.g. `2026-11-21 14:05 UTC`.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value};

use crate::incident::event::{Event, EventKind, Millis};
use crate::incident::state::Incident;
use crate::plan::oncall::zone;
use crate::plan::{CategoryId, Plan, Template};

/// Every variable path a template may use, with what it holds: for plan check and for
/// documentation. Names not listed here are refused by `plan check`; under `incident.roles` the
/// plan's role ids may also be named one by one (`incident.roles.commander`).
pub const VARIABLES: &[(&str, &str)] = &[
    ("incident.id", "The incident's id, e.g. INC-20261121-001"),
    ("incident.title", "The incident's title"),
    (
        "incident.summary",
        "What is known so far, as written at declaration (empty when none)",
    ),
    ("incident.severity", "Severity id, e.g. P0"),
    ("incident.severity_name", "Severity name, e.g. Critical"),
    ("incident.category", "Category id (empty when none)"),
    ("incident.category_name", "Category name (empty when none)"),
    (
        "incident.status",
        "Triage, Investigating, Identified, Monitoring, Resolved or Closed",
    ),
    ("incident.drill", "true for a drill (a boolean)"),
    ("incident.tags", "The incident's tags (a list)"),
    (
        "incident.commander",
        "Name of whoever holds the plan's first role, else that role's primary",
    ),
    (
        "incident.roles",
        "Role id to the name of the person holding it, else the role's primary (a mapping)",
    ),
    (
        "incident.impact",
        "Impact and affected components as last published on the status page, else \"Under assessment\"",
    ),
    ("incident.started_at", "When impact began"),
    ("incident.detected_at", "When the incident was detected"),
    ("incident.declared_at", "When the incident was declared"),
    (
        "incident.acknowledged_at",
        "When it was acknowledged (empty until then)",
    ),
    (
        "incident.resolved_at",
        "When it was resolved (empty until then)",
    ),
    (
        "incident.duration",
        "From start to resolution, or to now while open, e.g. 1h 25m",
    ),
    (
        "incident.resolution",
        "The resolution summary (empty until resolved)",
    ),
    ("organization.name", "The organization's name"),
    (
        "organization.emergency_contact",
        "The plan's emergency contact (empty when none)",
    ),
    (
        "organization.hotline",
        "The plan's hotline (empty when none)",
    ),
    (
        "organization.status_page_url",
        "The public status page's address (empty when none)",
    ),
    ("status_page_url", "Same as organization.status_page_url"),
    (
        "audience",
        "The communications-table audience the message is for (empty when none)",
    ),
    (
        "next_update",
        "When the next update is due, or \"at the next milestone\" when no cadence applies",
    ),
    ("now", "The time the message is written"),
    (
        "root_cause",
        "The root cause once set (none before): root_cause.tag and root_cause.text",
    ),
    (
        "root_cause.tag",
        "The root-cause tag, e.g. oracle-staleness",
    ),
    ("root_cause.text", "The root cause in words"),
    (
        "action_items",
        "The action items (a list of number, title, owner, due, status, horizon, root_cause)",
    ),
    (
        "went_well",
        "What the timeline shows went well against the plan (a list of lines)",
    ),
    (
        "went_poorly",
        "What the timeline shows went poorly against the plan (a list of lines)",
    ),
    (
        "timeline",
        "The incident's events, oldest first, without notification deliveries: a list of {time, actor, event}",
    ),
];

/// What a message is rendered from.
#[derive(Debug, Clone, Copy)]
pub struct MessageInput<'a> {
    pub plan: &'a Plan,
    pub incident: &'a Incident,
    /// The incident's timeline, oldest first (for `timeline`).
    pub events: &'a [Event],
    pub now: Millis,
    /// The communications-table audience the message is for, if any.
    pub audience: Option<&'a str>,
    /// When the next update to that audience is due, if a cadence applies.
    pub next_update: Option<Millis>,
}

/// A message written from a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: Option<String>,
    pub body: String,
}

/// Which text of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Subject,
    Body,
}

impl Part {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Body => "body",
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with a template's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The text is not a valid template.
    Syntax(String),
    /// The template reads a variable Muster does not provide.
    UnknownVariable(String),
    /// Writing the message failed otherwise (an unknown filter, a filter given the wrong kind of
    /// value, ...).
    Render(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Syntax(detail) => write!(f, "syntax error: {detail}"),
            Problem::UnknownVariable(name) => write!(f, "unknown variable '{name}'"),
            Problem::Render(detail) => f.write_str(detail),
        }
    }
}

/// A problem at a place in a template's text; line and column are 1-based, columns count
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextProblem {
    pub line: usize,
    pub column: usize,
    pub problem: Problem,
    /// What to do about it, when there is more to say than the problem.
    pub hint: Option<String>,
}

/// A template that could not be written out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template {template}, {part}, line {line}, column {column}: {problem}")]
pub struct MessageError {
    /// The template's id (or a built-in template's name).
    pub template: String,
    pub part: Part,
    pub line: usize,
    pub column: usize,
    pub problem: Problem,
}

/// The one template environment: strict about undefined values, no auto-escaping.
fn environment<'source>() -> Environment<'source> {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    environment.set_auto_escape_callback(|_| AutoEscape::None);
    environment.set_debug(false);
    environment
}

/// The values a template sees, from the incident, its timeline and the plan.
#[must_use]
pub fn context(input: &MessageInput<'_>) -> Value {
    let MessageInput {
        plan,
        incident,
        events,
        now,
        audience,
        next_update,
    } = *input;
    let zone = zone(plan.timezone()).unwrap_or(TimeZone::UTC);
    let time = |at: Millis| clock(&zone, at);
    let optional_time = |at: Option<Millis>| at.map(time).unwrap_or_default();
    let severity_name = plan
        .severity(incident.severity.as_str())
        .map_or(incident.severity.as_str(), |severity| {
            severity.name.as_str()
        });
    let category = incident.category.as_ref().map(CategoryId::as_str);
    let category_name = category.map_or("", |id| {
        plan.category(id)
            .map_or(id, |category| category.name.as_str())
    });
    let mut roles: BTreeMap<String, Value> = plan
        .roles
        .iter()
        .map(|role| {
            let holder = incident.roles.get(&role.id).unwrap_or(&role.primary);
            (
                role.id.to_string(),
                Value::from(person_name(plan, holder.as_str())),
            )
        })
        .collect();
    for (role, person) in &incident.roles {
        roles
            .entry(role.to_string())
            .or_insert_with(|| Value::from(person_name(plan, person.as_str())));
    }
    let commander = plan.roles.first().map_or_else(String::new, |role| {
        let holder = incident.roles.get(&role.id).unwrap_or(&role.primary);
        person_name(plan, holder.as_str())
    });
    let ended = incident.resolved_at.unwrap_or(now);
    let incident_value: BTreeMap<&str, Value> = BTreeMap::from([
        ("id", Value::from(incident.id.to_string())),
        ("title", Value::from(incident.title.as_str())),
        (
            "summary",
            Value::from(incident.summary.as_deref().unwrap_or_default()),
        ),
        ("severity", Value::from(incident.severity.as_str())),
        ("severity_name", Value::from(severity_name)),
        ("category", Value::from(category.unwrap_or_default())),
        ("category_name", Value::from(category_name)),
        ("status", Value::from(title_case(incident.status.as_str()))),
        ("drill", Value::from(incident.drill)),
        (
            "tags",
            Value::from(incident.tags.iter().cloned().collect::<Vec<String>>()),
        ),
        ("commander", Value::from(commander)),
        ("roles", Value::from(roles)),
        ("impact", Value::from(impact(plan, events))),
        ("started_at", Value::from(time(incident.started_at))),
        ("detected_at", Value::from(time(incident.detected_at))),
        ("declared_at", Value::from(time(incident.declared_at))),
        (
            "acknowledged_at",
            Value::from(optional_time(incident.acknowledged_at)),
        ),
        (
            "resolved_at",
            Value::from(optional_time(incident.resolved_at)),
        ),
        (
            "duration",
            Value::from(duration_words(ended - incident.started_at)),
        ),
        (
            "resolution",
            Value::from(incident.resolution.as_deref().unwrap_or_default()),
        ),
    ]);
    let organization = &plan.organization;
    let status_page_url = organization.status_page_url.as_deref().unwrap_or_default();
    let organization_value: BTreeMap<&str, Value> = BTreeMap::from([
        ("name", Value::from(organization.name.as_str())),
        (
            "emergency_contact",
            Value::from(
                organization
                    .emergency_contact
                    .as_deref()
                    .unwrap_or_default(),
            ),
        ),
        (
            "hotline",
            Value::from(organization.hotline.as_deref().unwrap_or_default()),
        ),
        ("status_page_url", Value::from(status_page_url)),
    ]);
    let timeline: Vec<Value> = events
        .iter()
        .filter(|event| !matches!(event.kind, EventKind::Notified { .. }))
        .map(|event| {
            Value::from(BTreeMap::from([
                ("time", Value::from(time(event.at))),
                ("actor", Value::from(person_name(plan, &event.actor))),
                ("event", Value::from(event.kind.describe())),
            ]))
        })
        .collect();
    let mut values = BTreeMap::from([
        ("incident", Value::from(incident_value)),
        ("organization", Value::from(organization_value)),
        ("status_page_url", Value::from(status_page_url)),
        ("audience", Value::from(audience.unwrap_or_default())),
        (
            "next_update",
            Value::from(next_update.map_or_else(|| "at the next milestone".to_owned(), time)),
        ),
        ("now", Value::from(time(now))),
        ("timeline", Value::from(timeline)),
    ]);
    values.extend(crate::postmortem::values(plan, incident, now));
    Value::from(values)
}

/// A time as messages show it, in the plan's zone: `2026-11-21 14:05 UTC`.
fn clock(zone: &TimeZone, at: Millis) -> String {
    Timestamp::from_millisecond(at).map_or_else(
        |_| String::new(),
        |at| {
            at.to_zoned(zone.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string()
        },
    )
}

/// A length of time in words: `1h 25m`, `2d 3h`, `0m`.
fn duration_words(millis: Millis) -> String {
    let minutes = millis.max(0) / 60_000;
    let (days, hours, minutes) = (minutes / (24 * 60), minutes / 60 % 24, minutes % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days}d"));
    }
    if hours > 0 {
        parts.push(format!("{hours}h"));
    }
    if minutes > 0 || parts.is_empty() {
        parts.push(format!("{minutes}m"));
    }
    parts.join(" ")
}

fn title_case(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// A person's display name; ids that name nobody (a token, `system`) are shown as written.
fn person_name(plan: &Plan, id: &str) -> String {
    plan.person(id)
        .map_or_else(|| id.to_owned(), |person| person.name.clone())
}

/// The impact as last published on the status page, with the affected components' names.
fn impact(plan: &Plan, events: &[Event]) -> String {
    let published = events.iter().rev().find_map(|event| match &event.kind {
        EventKind::UpdatePublished {
            impact, components, ..
        } => Some((impact, components)),
        _ => None,
    });
    let Some((impact, components)) = published else {
        return "Under assessment".to_owned();
    };
    let names: Vec<&str> = components
        .iter()
        .map(|id| {
            plan.status_page
                .iter()
                .flat_map(|page| &page.components)
                .find(|component| component.id == *id)
                .map_or(id.as_str(), |component| component.name.as_str())
        })
        .collect();
    if names.is_empty() {
        impact.title().to_owned()
    } else {
        format!("{}: {}", impact.title(), names.join(", "))
    }
}

/// Writes a plan template's subject (without surrounding whitespace) and body.
pub fn render(template: &Template, context: &Value) -> Result<Rendered, MessageError> {
    let name = template.id.as_str();
    let subject = template
        .subject
        .as_deref()
        .map(|subject| {
            render_part(name, Part::Subject, subject, context).map(|text| text.trim().to_owned())
        })
        .transpose()?;
    let body = render_part(name, Part::Body, &template.body, context)?;
    Ok(Rendered { subject, body })
}

/// Writes a template kept in code (a built-in document) under `name`.
pub fn render_source(name: &str, source: &str, context: &Value) -> Result<String, MessageError> {
    render_part(name, Part::Body, source, context)
}

fn render_part(
    name: &str,
    part: Part,
    source: &str,
    context: &Value,
) -> Result<String, MessageError> {
    let environment = environment();
    environment
        .template_from_named_str(name, source)
        .and_then(|template| template.render(context.clone()))
        .map_err(|error| {
            let found = text_problem(source, &error);
            MessageError {
                template: name.to_owned(),
                part,
                line: found.line,
                column: found.column,
                problem: found.problem,
            }
        })
}

/// Checks one template text as `plan check` does: its syntax, then every variable it reads
/// against [`VARIABLES`] (and the plan's role ids under `incident.roles`). Variables the
/// template defines itself (`{% set %}`, loop variables) are its own business.
#[must_use]
pub fn check_text(source: &str, plan: &Plan) -> Vec<TextProblem> {
    let environment = environment();
    let template = match environment.template_from_named_str("template", source) {
        Ok(template) => template,
        Err(error) => return vec![text_problem(source, &error)],
    };
    let globals: Vec<&str> = environment.globals().map(|(name, _)| name).collect();
    let mut problems: Vec<TextProblem> = template
        .undeclared_variables(true)
        .into_iter()
        .filter(|name| {
            let root = name.split('.').next().unwrap_or_default();
            !globals.contains(&root) && !is_known_variable(name, plan)
        })
        .map(|name| {
            let (line, column) =
                find_variable(source, &name).map_or((1, 1), |offset| text_position(source, offset));
            TextProblem {
                line,
                column,
                problem: Problem::UnknownVariable(name),
                hint: None,
            }
        })
        .collect();
    problems.sort_by_cached_key(|found| (found.line, found.column, found.problem.to_string()));
    problems
}

/// Whether Muster provides `name`: a listed variable, a mapping that holds listed ones
/// (`incident`), or one of the plan's roles under `incident.roles`.
#[must_use]
pub fn is_known_variable(name: &str, plan: &Plan) -> bool {
    VARIABLES.iter().any(|(known, _)| {
        *known == name
            || known
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('.'))
    }) || name
        .strip_prefix("incident.roles.")
        .is_some_and(|role| plan.role(role).is_some())
}

/// 1-based line and column (in characters) of a byte offset in a text.
fn text_position(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Where a variable path is first read inside a `{{ }}` or `{% %}` tag.
fn find_variable(source: &str, name: &str) -> Option<usize> {
    source.match_indices(name).map(|(at, _)| at).find(|&at| {
        let before = &source[..at];
        let after = &source[at + name.len()..];
        let opened = before.rfind("{{").max(before.rfind("{%"));
        let closed = before.rfind("}}").max(before.rfind("%}"));
        // Inside a tag: its opening comes after the last closing (None sorts first).
        opened > closed
            && !before.ends_with(|c: char| is_name_char(c) || c == '.')
            && !after.starts_with(is_name_char)
    })
}

/// The dotted variable path around a byte range (an undefined value's place), and where it
/// starts: `.foo.bar` in `incident.title.foo.bar` gives the whole path.
fn variable_around(source: &str, range: std::ops::Range<usize>) -> (usize, String) {
    let end = range.end.min(source.len());
    let mut start = range.start.min(end);
    while !source.is_char_boundary(start) {
        start -= 1;
    }
    let start = source[..start]
        .rfind(|c: char| !(is_name_char(c) || c == '.'))
        .map_or(0, |at| at + 1);
    let text = source.get(start..end).unwrap_or_default();
    let text = text
        .find(|c: char| !(is_name_char(c) || c == '.'))
        .map_or(text, |at| &text[..at]);
    (start, text.trim_matches('.').to_owned())
}

/// A template engine error as a problem at its place in the text.
fn text_problem(source: &str, error: &minijinja::Error) -> TextProblem {
    let detail = error.detail().unwrap_or_default();
    let range = error.range();
    let fallback = (error.line().unwrap_or(1), 1);
    let at = |offset: usize| text_position(source, offset);
    let (place, problem, hint) = match error.kind() {
        ErrorKind::SyntaxError => {
            if detail.starts_with("unexpected end of input")
                && let Some(open) = unclosed(source)
            {
                return TextProblem {
                    line: at(open.offset).0,
                    column: at(open.offset).1,
                    problem: Problem::Syntax(format!("{detail}: {}", open.problem)),
                    hint: Some(open.hint),
                };
            }
            (
                range.map_or(fallback, |range| at(range.start)),
                Problem::Syntax(detail.to_owned()),
                None,
            )
        }
        ErrorKind::UndefinedError => match range {
            Some(range) => {
                let (start, name) = variable_around(source, range);
                (at(start), Problem::UnknownVariable(name), None)
            }
            None => (
                fallback,
                Problem::Render("undefined value".to_owned()),
                None,
            ),
        },
        kind => (
            range.map_or(fallback, |range| at(range.start)),
            Problem::Render(if detail.is_empty() {
                kind.to_string()
            } else {
                format!("{kind}: {detail}")
            }),
            None,
        ),
    };
    TextProblem {
        line: place.0,
        column: place.1,
        problem,
        hint,
    }
}

/// A tag or block left open at the end of a template.
struct Unclosed {
    offset: usize,
    problem: String,
    hint: String,
}

/// The innermost tag or block a template leaves open: a `{{` or `{%` without its end, or a
/// block (`{% if %}`, `{% for %}`, ...) without its `{% end... %}`.
fn unclosed(source: &str) -> Option<Unclosed> {
    const BLOCKS: &[&str] = &[
        "if",
        "for",
        "macro",
        "call",
        "filter",
        "with",
        "autoescape",
        "block",
        "raw",
    ];
    let mut open: Vec<(usize, &str)> = Vec::new();
    let mut at = 0;
    while let Some(found) = source[at..].find('{') {
        let start = at + found;
        let tail = &source[start..];
        let close = if tail.starts_with("{{") {
            "}}"
        } else if tail.starts_with("{%") {
            "%}"
        } else if tail.starts_with("{#") {
            "#}"
        } else {
            at = start + 1;
            continue;
        };
        let Some(length) = tail[2..].find(close) else {
            return Some(Unclosed {
                offset: start,
                problem: format!("the {} here is never closed", &tail[..2]),
                hint: format!("end it with {close}"),
            });
        };
        at = start + 2 + length + 2;
        if close != "%}" {
            continue;
        }
        let inside = tail[2..2 + length]
            .trim_start_matches(['-', '+'])
            .trim_start();
        let word = inside
            .split(|c: char| !is_name_char(c))
            .next()
            .unwrap_or("");
        if word == "raw" {
            // Nothing inside a raw block is a tag.
            match source[at..].find("endraw") {
                Some(end) => at += end,
                None => open.push((start, "raw")),
            }
        } else if BLOCKS.contains(&word) || (word == "set" && !inside.contains('=')) {
            open.push((start, word));
        } else if let Some(ended) = word.strip_prefix("end")
            && open.last().is_some_and(|(_, block)| *block == ended)
        {
            open.pop();
        }
    }
    open.pop().map(|(offset, block)| Unclosed {
        offset,
        problem: format!("the {{% {block} %}} here is never closed"),
        hint: format!("end the block with {{% end{block} %}}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::event::{Impact, IncidentId, NotifyOutcome, PublicState, Status};
    use crate::plan::{ComponentId, PersonId, RoleId, SeverityId};

    const MINUTE: Millis = 60_000;
    /// 2026-11-21 14:05 UTC.
    const DECLARED: Millis = 1_795_269_900_000;

    /// The zkp-protocol example plan, whose templates are the starter set.
    fn plan() -> Plan {
        let files = [
            (
                "communications.yaml",
                include_str!("../../../examples/zkp-protocol/communications.yaml"),
            ),
            (
                "drills.yaml",
                include_str!("../../../examples/zkp-protocol/drills.yaml"),
            ),
            (
                "oncall.yaml",
                include_str!("../../../examples/zkp-protocol/oncall.yaml"),
            ),
            (
                "people.yaml",
                include_str!("../../../examples/zkp-protocol/people.yaml"),
            ),
            (
                "plan.yaml",
                include_str!("../../../examples/zkp-protocol/plan.yaml"),
            ),
            (
                "runbooks.yaml",
                include_str!("../../../examples/zkp-protocol/runbooks.yaml"),
            ),
            (
                "templates.yaml",
                include_str!("../../../examples/zkp-protocol/templates.yaml"),
            ),
        ];
        let sources: Vec<crate::plan::Source<'_>> = files
            .iter()
            .map(|(name, text)| crate::plan::Source { name, text })
            .collect();
        let now = Timestamp::from_millisecond(DECLARED).unwrap();
        let loaded = crate::plan::load(&sources, now);
        assert_eq!(loaded.errors(), 0, "{:#?}", loaded.diagnostics);
        loaded.plan.unwrap()
    }

    fn event(seq: u64, minutes: i64, actor: &str, kind: EventKind) -> Event {
        Event {
            incident: IncidentId::new(jiff::civil::date(2026, 11, 21), 1),
            seq,
            at: DECLARED + minutes * MINUTE,
            actor: actor.to_owned(),
            kind,
            hash: String::new(),
        }
    }

    /// A proof-generation outage: declared, acknowledged, published, identified, resolved.
    fn timeline() -> Vec<Event> {
        let kinds = [
            (
                0,
                "alice",
                EventKind::Declared {
                    title: "Proof generation outage".to_owned(),
                    severity: SeverityId::from("P0"),
                    category: Some("service-outage".into()),
                    scenario: None,
                    runbook: None,
                    summary: Some("the prover pool rejects every request".to_owned()),
                    started_at: DECLARED - 10 * MINUTE,
                    detected_at: DECLARED - 5 * MINUTE,
                    drill: false,
                    tags: vec!["prover".to_owned()],
                },
            ),
            (
                3,
                "alice",
                EventKind::Acknowledged {
                    person: Some(PersonId::from("alice")),
                },
            ),
            (
                4,
                "alice",
                EventKind::RoleAssigned {
                    role: RoleId::from("incident-commander"),
                    person: PersonId::from("bob"),
                    previous: None,
                },
            ),
            (
                5,
                "system",
                EventKind::Notified {
                    delivery: 1,
                    channel: "war-room".to_owned(),
                    destination: "#incident".to_owned(),
                    person: None,
                    outcome: NotifyOutcome::Sent,
                    attempt: 1,
                    detail: None,
                    folded: 0,
                },
            ),
            (
                6,
                "bob",
                EventKind::StatusChanged {
                    from: Status::Triage,
                    to: Status::Investigating,
                    note: None,
                },
            ),
            (
                8,
                "eve",
                EventKind::UpdatePublished {
                    state: PublicState::Investigating,
                    title: "Proof generation unavailable".to_owned(),
                    message: "We are investigating.".to_owned(),
                    components: vec![
                        ComponentId::from("proof-generation"),
                        ComponentId::from("api"),
                    ],
                    impact: Impact::PartialOutage,
                },
            ),
        ];
        kinds
            .into_iter()
            .enumerate()
            .map(|(index, (minutes, actor, kind))| event(index as u64 + 1, minutes, actor, kind))
            .collect()
    }

    fn resolved(mut events: Vec<Event>) -> Vec<Event> {
        let seq = events.len() as u64 + 1;
        events.push(event(
            seq,
            40,
            "bob",
            EventKind::StatusChanged {
                from: Status::Investigating,
                to: Status::Identified,
                note: None,
            },
        ));
        events.push(event(
            seq + 1,
            70,
            "bob",
            EventKind::RootCauseSet {
                tag: "prover-config".to_owned(),
                text: "A configuration change halved the prover pool".to_owned(),
            },
        ));
        events.push(event(
            seq + 2,
            75,
            "bob",
            EventKind::Resolved {
                summary: "Prover pool restarted with the fixed configuration".to_owned(),
            },
        ));
        events
    }

    fn render_all(plan: &Plan, events: &[Event], now: Millis) -> BTreeMap<String, Rendered> {
        let incident = Incident::fold(events).unwrap();
        let context = context(&MessageInput {
            plan,
            incident: &incident,
            events,
            now,
            audience: Some("Users"),
            next_update: Some(DECLARED + 30 * MINUTE),
        });
        plan.templates
            .iter()
            .map(|template| {
                let rendered = render(template, &context)
                    .unwrap_or_else(|error| panic!("{}: {error}", template.id));
                (template.id.to_string(), rendered)
            })
            .collect()
    }

    #[test]
    fn the_starter_templates_render_an_open_incident() {
        let plan = plan();
        let messages = render_all(&plan, &timeline(), DECLARED + 10 * MINUTE);
        let declaration = &messages["internal-declaration"];
        assert_eq!(declaration.subject, None);
        assert_eq!(
            declaration.body,
            "🚨 **INCIDENT DECLARED** 🚨\n\n\
             **Incident ID**: INC-20261121-001\n\
             **Severity**: P0\n\
             **Summary**: the prover pool rejects every request\n\
             **IC**: @Bob Jones\n\
             **Status**: Investigating\n\n\
             **Impact**:\n\
             - Partial outage: Proof generation service, API\n\n\
             **Next Update**: 2026-11-21 14:35 UTC\n\n\
             **War Room**: #incident-20261121-001"
        );
        let email = &messages["customer-email"];
        assert_eq!(
            email.subject.as_deref(),
            Some("[P0] Service Advisory - Proof generation outage")
        );
        assert!(
            email
                .body
                .contains("We are currently experiencing Proof generation outage.")
        );
        assert!(
            email
                .body
                .contains("**What happened**: the prover pool rejects every request\n")
        );
        assert!(email.body.contains("next update: 2026-11-21 14:35 UTC."));
        assert!(
            email
                .body
                .contains("For real-time status: https://status.vey.example\n")
        );
        assert!(email.body.ends_with("The Vey Team"));
        let update = &messages["status-update"];
        assert_eq!(update.subject.as_deref(), Some("Proof generation outage"));
        assert_eq!(
            update.body,
            "Status: Investigating\n\
             Components: Partial outage: Proof generation service, API\n\n\
             2026-11-21 14:15 UTC - Investigating\n\
             We are investigating reports of Proof generation outage. Our team is looking into this with high priority."
        );
        let advisory = &messages["security-advisory"];
        assert_eq!(
            advisory.subject.as_deref(),
            Some("Security Advisory - ZKP Circuit Update Required")
        );
        assert!(
            advisory
                .body
                .contains("Impact: Partial outage: Proof generation service, API\n")
        );
        assert!(advisory.body.ends_with("Support: security@vey.example"));
    }

    #[test]
    fn the_starter_templates_render_a_resolved_incident() {
        let plan = plan();
        let messages = render_all(&plan, &resolved(timeline()), DECLARED + 80 * MINUTE);
        let update = &messages["status-update"];
        assert!(
            update.body.starts_with("Status: Resolved\n"),
            "{}",
            update.body
        );
        assert!(update.body.ends_with(
            "2026-11-21 15:25 UTC - Resolved\nThe issue has been fully resolved. All systems are operational."
        ));
        let all_clear = &messages["all-clear"];
        assert_eq!(
            all_clear.subject.as_deref(),
            Some("Proof generation outage - Resolved")
        );
        assert_eq!(
            all_clear.body,
            "2026-11-21 15:20 UTC - Resolved\n\
             The issue has been fully resolved. All systems are operational.\n\n\
             Incident reference: INC-20261121-001. For support: support@vey.example"
        );
        assert!(
            messages["customer-email"]
                .body
                .contains("**Status**: Resolved\n")
        );
    }

    #[test]
    fn the_context_holds_every_listed_variable() {
        let plan = plan();
        let events = resolved(timeline());
        let incident = Incident::fold(&events).unwrap();
        let context = context(&MessageInput {
            plan: &plan,
            incident: &incident,
            events: &events,
            now: DECLARED + 80 * MINUTE,
            audience: None,
            next_update: None,
        });
        for (name, _) in VARIABLES {
            let source = format!("{{{{ {name} }}}}");
            render_source("variables", &source, &context)
                .unwrap_or_else(|error| panic!("{name}: {error}"));
        }
        let read = |source: &str| render_source("read", source, &context).unwrap();
        assert_eq!(read("{{ incident.duration }}"), "1h 25m");
        assert_eq!(read("{{ incident.started_at }}"), "2026-11-21 13:55 UTC");
        assert_eq!(
            read("{{ incident.acknowledged_at }}"),
            "2026-11-21 14:08 UTC"
        );
        assert_eq!(read("{{ incident.category_name }}"), "Service Outage");
        assert_eq!(read("{{ incident.severity_name }}"), "Critical");
        assert_eq!(read("{{ incident.tags | join(', ') }}"), "prover");
        assert_eq!(read("{% if not incident.drill %}real{% endif %}"), "real");
        assert_eq!(
            read("{{ incident.roles['technical-lead'] }}"),
            "Charlie Brown"
        );
        assert_eq!(
            read("[{{ audience }}] {{ next_update }}"),
            "[] at the next milestone"
        );
        assert_eq!(
            read("{{ incident.resolution }}"),
            "Prover pool restarted with the fixed configuration"
        );
        let timeline = read(
            "{% for entry in timeline %}{{ entry.time }} {{ entry.actor }}: {{ entry.event }}\n{% endfor %}",
        );
        let lines: Vec<&str> = timeline.lines().collect();
        assert_eq!(
            lines.len(),
            events.len() - 1,
            "deliveries are left out: {timeline}"
        );
        assert_eq!(
            lines[0],
            "2026-11-21 14:05 UTC Alice Smith: Declared P0 (service-outage): Proof generation outage"
        );
        assert!(lines[4].starts_with("2026-11-21 14:13 UTC Eve Adams: "));
    }

    #[test]
    fn an_unknown_variable_at_render_time_is_an_error_naming_it() {
        let plan = plan();
        let events = timeline();
        let incident = Incident::fold(&events).unwrap();
        let context = context(&MessageInput {
            plan: &plan,
            incident: &incident,
            events: &events,
            now: DECLARED,
            audience: None,
            next_update: None,
        });
        let error =
            render_source("notice", "Hello\n  {{ incident.titel }} there", &context).unwrap_err();
        assert_eq!(
            error.problem,
            Problem::UnknownVariable("incident.titel".to_owned())
        );
        assert_eq!((error.line, error.column), (2, 6));
        assert_eq!(
            error.to_string(),
            "template notice, body, line 2, column 6: unknown variable 'incident.titel'"
        );
        let error = render_source("notice", "{% if nope %}x{% endif %}", &context).unwrap_err();
        assert_eq!(error.problem, Problem::UnknownVariable("nope".to_owned()));
        let error =
            render_source("notice", "{{ incident.title.words.first }}", &context).unwrap_err();
        assert_eq!(
            error.problem,
            Problem::UnknownVariable("incident.title.words.first".to_owned())
        );
    }

    #[test]
    fn filters_work_and_nothing_is_escaped() {
        let plan = plan();
        let events = timeline();
        let incident = Incident::fold(&events).unwrap();
        let context = context(&MessageInput {
            plan: &plan,
            incident: &incident,
            events: &events,
            now: DECLARED,
            audience: Some("Users & <partners>"),
            next_update: None,
        });
        let read = |source: &str| render_source("read", source, &context).unwrap();
        assert_eq!(
            read("#incident-{{ incident.id | lower | replace('inc-', '') }}"),
            "#incident-20261121-001"
        );
        assert_eq!(read("{{ audience }}"), "Users & <partners>");
        assert_eq!(read("{{ incident.status | upper }}"), "INVESTIGATING");
    }

    #[test]
    fn plan_check_finds_syntax_errors_and_unknown_variables() {
        let plan = plan();
        let problems = check_text("a\nb {% if incident.drill %}\nc\n", &plan);
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].line, problems[0].column), (2, 3));
        assert_eq!(
            problems[0].problem.to_string(),
            "syntax error: unexpected end of input, expected end of block: the {% if %} here is never closed"
        );
        assert_eq!(
            problems[0].hint.as_deref(),
            Some("end the block with {% endif %}")
        );
        let problems = check_text("x {{ incident.title }\n", &plan);
        assert_eq!((problems[0].line, problems[0].column), (1, 21));
        let problems = check_text("{{ incident.title\n", &plan);
        assert_eq!((problems[0].line, problems[0].column), (1, 1));
        let problems = check_text(
            "{% set x = 1 %}{% for e in timeline %}{{ e.time }}{{ loop.index }}{% endfor %}\n\
             {{ x }} {{ range(2) | join }} {{ incident.roles.nobody }} {{ incident }}\n\
             {{ incident.titel }} {{ incident.roles['incident-commander'] }}",
            &plan,
        );
        let found: Vec<_> = problems
            .iter()
            .map(|problem| (problem.line, problem.column, problem.problem.to_string()))
            .collect();
        assert_eq!(
            found,
            vec![
                (2, 34, "unknown variable 'incident.roles.nobody'".to_owned()),
                (3, 4, "unknown variable 'incident.titel'".to_owned()),
            ]
        );
    }

    #[test]
    fn the_other_example_plans_templates_render() {
        for (name, text) in [
            (
                "startup.yaml",
                include_str!("../../../examples/startup.yaml"),
            ),
            (
                "client-team.yaml",
                include_str!("../../../examples/client-team.yaml"),
            ),
        ] {
            let now = Timestamp::from_millisecond(DECLARED).unwrap();
            let loaded = crate::plan::load(&[crate::plan::Source { name, text }], now);
            let plan = loaded.plan.unwrap();
            assert!(plan.templates.len() >= 3, "{name}");
            let mut events = timeline();
            events.truncate(1);
            let incident = Incident::fold(&events).unwrap();
            let context = context(&MessageInput {
                plan: &plan,
                incident: &incident,
                events: &events,
                now: DECLARED,
                audience: None,
                next_update: Some(DECLARED + 60 * MINUTE),
            });
            for template in &plan.templates {
                let rendered =
                    render(template, &context).unwrap_or_else(|error| panic!("{name}: {error}"));
                assert!(
                    rendered.body.contains("Proof generation outage"),
                    "{name}: {}",
                    template.id
                );
            }
        }
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words(0), "0m");
        assert_eq!(duration_words(85 * MINUTE), "1h 25m");
        assert_eq!(
            duration_words(2 * 24 * 60 * MINUTE + 3 * 60 * MINUTE),
            "2d 3h"
        );
        assert_eq!(duration_words(-5), "0m");
    }
}
