//! The post-mortem draft: seed 002's outline (summary, timeline, root cause, what went well,
//! what went poorly, action items, lessons learned) filled from the incident. The timeline table
//! comes from the event log; "went well" and "went poorly" start from what the log shows about
//! the plan's promises (acknowledgement SLA, resolve target, update cadence, deadlines, runbook
//! budgets); the people write the rest. A plan may bring its own template (kind `post-mortem`)
//! with the same variables.

use minijinja::Value;

use crate::incident::checklist::checklist;
use crate::incident::comms;
use crate::incident::event::Millis;
use crate::incident::state::Incident;
use crate::message::{self, MessageError, MessageInput};
use crate::plan::oncall::zone;
use crate::plan::{Plan, Template, TemplateKind};

/// Muster's own outline, used when the plan names no post-mortem template.
pub const OUTLINE: &str = r"# Incident Post-Mortem: {{ incident.id }}

## Summary
- **Incident**: {{ incident.title }}
- **Severity**: {{ incident.severity }} ({{ incident.severity_name }})
- **Duration**: {{ incident.started_at }} - {{ incident.resolved_at or 'ongoing' }} ({{ incident.duration }})
- **Impact**: {{ incident.impact }}
{%- if incident.summary %}

{{ incident.summary }}
{%- endif %}
{%- if incident.resolution %}

**Resolution**: {{ incident.resolution }}
{%- endif %}

## Timeline
| Time | Event |
|------|-------|
{%- for row in timeline %}
| {{ row.time }} | {{ row.event | replace('|', '\\|') | replace('\n', ' ') }} ({{ row.actor }}) |
{%- endfor %}

## Root Cause
{% if root_cause %}{{ root_cause.text }} (`{{ root_cause.tag }}`){% else %}[Technical explanation]{% endif %}

## What Went Well
{%- for item in went_well %}
- {{ item }}
{%- else %}
- [Item 1]
{%- endfor %}

## What Went Poorly
{%- for item in went_poorly %}
- {{ item }}
{%- else %}
- [Item 1]
{%- endfor %}

## Action Items
| Action | Owner | Deadline | Status |
|--------|-------|----------|--------|
{%- for item in action_items %}
| {{ item.title | replace('|', '\\|') }} | {{ item.owner }} | {{ item.due }} | {{ item.status }} |
{%- else %}
| ... | ... | ... | ... |
{%- endfor %}

## Lessons Learned
[Key takeaways]
";

/// The plan's post-mortem template: the one `postmortem.template` names, else the first of kind
/// `post-mortem`.
#[must_use]
pub fn template(plan: &Plan) -> Option<&Template> {
    plan.postmortem
        .as_ref()
        .and_then(|policy| policy.template.as_ref())
        .and_then(|id| plan.template(id.as_str()))
        .or_else(|| {
            plan.templates
                .iter()
                .find(|template| template.kind == TemplateKind::PostMortem)
        })
}

fn span(millis: Millis) -> String {
    comms::words(millis)
}

/// What the log shows went well and what went poorly, against the plan's promises.
#[must_use]
pub fn findings(plan: &Plan, incident: &Incident, now: Millis) -> (Vec<String>, Vec<String>) {
    let mut well = Vec::new();
    let mut poorly = Vec::new();
    let severity = plan.severity(incident.severity.as_str());
    let detection = incident.detected_at - incident.started_at;
    if let Some(target) = plan.targets.as_ref().and_then(|targets| targets.mttd) {
        if detection <= target.as_millis() {
            well.push(format!(
                "Detected {} after impact began (target {target})",
                span(detection)
            ));
        } else {
            poorly.push(format!(
                "Detected {} after impact began (target {target})",
                span(detection)
            ));
        }
    }
    if let Some(severity) = severity {
        let sla = severity.ack_within;
        match incident.acknowledged_at {
            Some(at) if at - incident.detected_at <= sla.as_millis() => well.push(format!(
                "Acknowledged {} after detection, within the {sla} SLA",
                span(at - incident.detected_at)
            )),
            Some(at) => poorly.push(format!(
                "Acknowledged {} after detection, past the {sla} SLA",
                span(at - incident.detected_at)
            )),
            None => poorly.push("Never acknowledged".to_owned()),
        }
        if let Some(target) = severity.resolve_target {
            let end = incident.resolved_at.unwrap_or(now);
            let took = end - incident.detected_at;
            let line = format!(
                "{} {} after detection (target {target})",
                if incident.resolved_at.is_some() {
                    "Resolved"
                } else {
                    "Still open"
                },
                span(took)
            );
            if incident.resolved_at.is_some() && took <= target.as_millis() {
                well.push(line);
            } else {
                poorly.push(line);
            }
        }
    }
    for (audience, due) in &incident.updates_overdue {
        poorly.push(format!(
            "The update to {audience} due {} went out late",
            clock(plan, *due)
        ));
    }
    for deadline in comms::deadlines(plan, incident) {
        if deadline.missed {
            poorly.push(format!("Deadline missed: {}", deadline.title));
        } else if let (Some(met), Some(due)) = (deadline.met_at, deadline.due_at)
            && met <= due
        {
            well.push(format!("Deadline met in time: {}", deadline.title));
        }
    }
    let items = checklist(plan, incident);
    let late: Vec<&str> = items
        .iter()
        .filter(|item| match (item.done_at, item.due_at) {
            (Some(done), Some(due)) => done > due,
            _ => false,
        })
        .map(|item| item.title.as_str())
        .collect();
    let done = items.iter().filter(|item| item.done_at.is_some()).count();
    if !items.is_empty() && late.is_empty() && done == items.len() {
        well.push("Every runbook step was done within its time budget".to_owned());
    }
    if !late.is_empty() {
        poorly.push(format!(
            "Runbook steps done after their time budget: {}",
            late.join(", ")
        ));
    }
    (well, poorly)
}

fn clock(plan: &Plan, at: Millis) -> String {
    let zone = zone(plan.timezone()).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_millisecond(at).map_or_else(
        |_| at.to_string(),
        |t| t.to_zoned(zone).strftime("%Y-%m-%d %H:%M %Z").to_string(),
    )
}

/// The values every template sees beyond the incident's own: `root_cause`, `action_items`
/// (number, title, owner's name, due date, status, horizon, root cause), `went_well`,
/// `went_poorly`.
#[must_use]
pub fn values(plan: &Plan, incident: &Incident, now: Millis) -> Vec<(&'static str, Value)> {
    let (went_well, went_poorly) = findings(plan, incident, now);
    let action_items: Vec<Value> = incident
        .action_items
        .iter()
        .map(|(number, item)| {
            let owner = plan
                .person(item.owner.as_str())
                .map_or(item.owner.as_str(), |person| person.name.as_str());
            minijinja::context! {
                number => number,
                title => item.title.as_str(),
                owner => owner,
                due => clock(plan, item.due_at),
                status => item.status.as_str(),
                horizon => item.horizon.words(),
                root_cause => item.root_cause.as_deref(),
            }
        })
        .collect();
    let root_cause = incident.root_cause.as_ref().map(|cause| {
        minijinja::context! { tag => cause.tag.as_str(), text => cause.text.as_str() }
    });
    vec![
        ("root_cause", root_cause.unwrap_or(Value::from(()))),
        ("action_items", Value::from(action_items)),
        ("went_well", Value::from(went_well)),
        ("went_poorly", Value::from(went_poorly)),
    ]
}

/// The draft for the incident, in the plan's template or [`OUTLINE`].
pub fn draft(input: &MessageInput<'_>) -> Result<String, MessageError> {
    let context = message::context(input);
    match template(input.plan) {
        Some(template) => message::render(template, &context).map(|rendered| rendered.body),
        None => message::render_source("post-mortem", OUTLINE, &context),
    }
}
