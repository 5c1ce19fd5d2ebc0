//! What an alert becomes: the plan's first route whose matchers all hold for the alert's
//! labels, and the group the alert joins, so that a burst of alerts becomes one incident.
//!
//! This runs for every alert received, so it only reads the plan; the one string it builds is
//! the group key.

use std::collections::BTreeMap;

use crate::alert::Alert;
use crate::incident::qualify;
use crate::plan::model::{
    CategoryId, Integration, Plan, Route, RouteAction, ScenarioId, SeverityId,
};
use crate::plan::values::Matcher;

/// `rule_id` and group prefix of alerts that no route matches.
pub const UNROUTED: &str = "unrouted";

/// The outcome of routing one alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    /// Position of the matching route in `routes`, `None` when no route matched.
    pub rule: Option<usize>,
    /// The route's id, `route-<n>` (counting from 1) for a route without one, or `unrouted`.
    pub rule_id: String,
    /// Unmatched alerts are held in triage.
    pub action: RouteAction,
    pub scenario: Option<ScenarioId>,
    /// The severity an incident declared from this alert gets (see [`severity`]); `None` when
    /// the route does not say.
    pub severity: Option<SeverityId>,
    pub urgent: Option<bool>,
    pub important: Option<bool>,
    /// The route's category, else the scenario's.
    pub category: Option<CategoryId>,
    pub auto_resolve: bool,
    /// The route's tags (a scenario's own tags come with the scenario).
    pub tags: Vec<String>,
    /// Alerts with the same group share one open incident (or triage item). The rule id, then
    /// `|label=value` for each `group_by` label in order (an absent label has the empty value):
    /// `treasury|chain=mainnet`. Unrouted alerts group by integration:
    /// `unrouted|integration=prometheus`. A `|` or `\` inside an id or value is written `\|`
    /// or `\\`, so different values never give the same key.
    pub group: String,
}

/// Whether every matcher holds for these labels (absent labels have the empty value).
#[must_use]
pub fn matches_all(matchers: &[Matcher], labels: &BTreeMap<String, String>) -> bool {
    matchers
        .iter()
        .all(|matcher| matcher.matches(labels.get(&matcher.label).map(String::as_str)))
}

/// The first route that matches the alert's labels, or triage when none does.
///
/// A watchdog alert is not an incident: check [`heartbeat`] first.
#[must_use]
pub fn route(plan: &Plan, alert: &Alert) -> Routing {
    plan.routes
        .iter()
        .enumerate()
        .find(|(_, rule)| matches_all(&rule.matchers, &alert.labels))
        .map_or_else(
            || unrouted(alert),
            |(index, rule)| routed(plan, index, rule, alert),
        )
}

/// The integration the alert came through, when the alert is that integration's heartbeat
/// (every heartbeat matcher holds). A heartbeat without matchers recognises nothing.
#[must_use]
pub fn heartbeat<'a>(plan: &'a Plan, alert: &Alert) -> Option<&'a Integration> {
    let integration = plan.integration(&alert.integration)?;
    let beat = integration.heartbeat.as_ref()?;
    (!beat.matchers.is_empty() && matches_all(&beat.matchers, &alert.labels)).then_some(integration)
}

/// The id a route is known by: its own, or `route-<n>` counting from 1.
#[must_use]
pub fn rule_id(index: usize, rule: &Route) -> String {
    rule.id
        .clone()
        .unwrap_or_else(|| format!("route-{}", index + 1))
}

/// The severity of incidents a route declares: its `severity`, else what the qualification
/// matrix says of its `urgent` and `important` (when both are given), else its scenario's.
#[must_use]
pub fn severity(plan: &Plan, rule: &Route) -> Option<SeverityId> {
    rule.severity
        .clone()
        .or_else(|| match (rule.urgent, rule.important) {
            (Some(urgent), Some(important)) => qualify(plan, urgent, important),
            _ => None,
        })
        .or_else(|| {
            let scenario = plan.scenario(rule.scenario.as_ref()?.as_str())?;
            Some(scenario.severity.clone())
        })
}

fn routed(plan: &Plan, index: usize, rule: &Route, alert: &Alert) -> Routing {
    let id = rule_id(index, rule);
    let mut group = String::with_capacity(id.len() + 24 * rule.group_by.len());
    push_escaped(&mut group, &id);
    for label in &rule.group_by {
        group.push('|');
        push_escaped(&mut group, label);
        group.push('=');
        push_escaped(
            &mut group,
            alert.labels.get(label).map_or("", String::as_str),
        );
    }
    let scenario = || {
        rule.scenario
            .as_ref()
            .and_then(|scenario| plan.scenario(scenario.as_str()))
    };
    Routing {
        rule: Some(index),
        rule_id: id,
        action: rule.action,
        scenario: rule.scenario.clone(),
        severity: severity(plan, rule),
        urgent: rule.urgent,
        important: rule.important,
        category: rule
            .category
            .clone()
            .or_else(|| scenario().map(|scenario| scenario.category.clone())),
        auto_resolve: rule.auto_resolve,
        tags: rule.tags.clone(),
        group,
    }
}

fn unrouted(alert: &Alert) -> Routing {
    let mut group = String::with_capacity(UNROUTED.len() + 13 + alert.integration.len());
    group.push_str(UNROUTED);
    group.push_str("|integration=");
    push_escaped(&mut group, &alert.integration);
    Routing {
        rule: None,
        rule_id: UNROUTED.to_owned(),
        action: RouteAction::Triage,
        scenario: None,
        severity: None,
        urgent: None,
        important: None,
        category: None,
        auto_resolve: false,
        tags: Vec::new(),
        group,
    }
}

fn push_escaped(out: &mut String, text: &str) {
    if !text.contains(['|', '\\']) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        if c == '|' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
}
