//! The meaning check: references that point nowhere, duplicates, people nobody can reach,
//! escalation that reaches nobody, gaps in on-call cover, decisions that cannot be signed,
//! alert integrations that cannot be read and routes that cannot apply.
//!
//! Findings carry a path into the plan (`scenarios[3].runbook`); the loader turns paths into
//! file, line and column.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;

use crate::alert::route::{UNROUTED, rule_id};
use crate::alert::{is_label_name, webhook};
use crate::diagnostic::Severity;
use crate::incident::qualify;
use crate::message::{self, Part, Problem};
use crate::plan::model::{
    Channel, ChannelId, IntegrationKind, PersonId, Plan, RouteAction, RunbookId,
};
use crate::plan::oncall;
use crate::plan::structure::did_you_mean;
use crate::plan::values::{Condition, MatchOp, Target, TargetKind};
use crate::plan::yaml::{Path, Segment, TextPosition};

/// How far ahead on-call gaps are looked for.
pub const LOOKAHEAD_DAYS: i64 = 28;

/// One problem, addressed by its path in the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub path: Path,
    /// Point at the key rather than its value (for problems with the key itself).
    pub on_key: bool,
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
    /// A place inside the value the path names (a line and column of a template's text), when
    /// the problem is there rather than with the whole value.
    pub inner: Option<TextPosition>,
}

macro_rules! path {
    ($($segment:expr),* $(,)?) => {
        vec![$(Segment::from($segment)),*]
    };
}

struct Checker<'plan> {
    plan: &'plan Plan,
    findings: Vec<Finding>,
}

fn ids<'a, T>(items: &'a [T], id: impl Fn(&'a T) -> &'a str) -> Vec<&'a str> {
    items.iter().map(id).collect()
}

fn looks_like_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_uppercase() || first == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Checks a public key written as `ed25519:<base64 of 32 bytes>` or `eth:0x<40 hex digits>`.
fn key_problem(key: &str) -> Option<String> {
    if let Some(encoded) = key.strip_prefix("ed25519:") {
        let base64_ok = encoded.len() == 44
            && encoded.ends_with('=')
            && !encoded[..43].contains('=')
            && encoded[..43]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
        return (!base64_ok).then(|| {
            format!("'{key}' is not an ed25519 public key: expected 32 bytes in standard base64 (44 characters ending in '=')")
        });
    }
    if let Some(address) = key.strip_prefix("eth:") {
        let hex_ok = address.len() == 42
            && address.starts_with("0x")
            && address[2..].bytes().all(|b| b.is_ascii_hexdigit());
        return (!hex_ok).then(|| {
            format!("'{key}' is not an Ethereum address: expected eth:0x followed by 40 hex digits")
        });
    }
    Some(format!(
        "'{key}' is not a key this plan understands; write ed25519:<base64> or eth:0x<address>"
    ))
}

impl<'plan> Checker<'plan> {
    fn push(
        &mut self,
        severity: Severity,
        path: Path,
        code: &'static str,
        message: String,
        hint: Option<String>,
    ) {
        self.findings.push(Finding {
            path,
            on_key: false,
            severity,
            code,
            message,
            hint,
            inner: None,
        });
    }

    fn error(&mut self, path: Path, code: &'static str, message: String, hint: Option<String>) {
        self.push(Severity::Error, path, code, message, hint);
    }

    fn warn(&mut self, path: Path, code: &'static str, message: String, hint: Option<String>) {
        self.push(Severity::Warning, path, code, message, hint);
    }

    /// An error about a mapping key itself rather than its value.
    fn error_on_key(
        &mut self,
        path: Path,
        code: &'static str,
        message: String,
        hint: Option<String>,
    ) {
        self.error(path, code, message, hint);
        if let Some(finding) = self.findings.last_mut() {
            finding.on_key = true;
        }
    }

    /// Reports a reference to `id` among `known` ids of `what` (e.g. "runbook") that matches none.
    fn reference(&mut self, path: Path, what: &str, id: &str, known: &[&str]) -> bool {
        if known.contains(&id) {
            return true;
        }
        let hint = match did_you_mean(id, known.iter().copied()) {
            Some(guess) => format!("did you mean '{guess}'?"),
            None if known.is_empty() => format!("the plan defines no {what} yet"),
            None if known.len() <= 12 => format!("defined: {}", known.join(", ")),
            None => format!("define a {what} with id '{id}' or use an existing one"),
        };
        self.error(
            path,
            "unknown-reference",
            format!("there is no {what} '{id}'"),
            Some(hint),
        );
        false
    }

    fn known(&self, kind: TargetKind) -> Vec<&'plan str> {
        let plan = self.plan;
        match kind {
            TargetKind::Person => ids(&plan.people, |p| p.id.as_str()),
            TargetKind::Team => ids(&plan.teams, |t| t.id.as_str()),
            TargetKind::Role => ids(&plan.roles, |r| r.id.as_str()),
            TargetKind::Schedule => ids(&plan.schedules, |s| s.id.as_str()),
            TargetKind::Channel => plan.channels.keys().map(ChannelId::as_str).collect(),
        }
    }

    fn target(&mut self, path: Path, target: &Target, allowed: &[TargetKind]) -> bool {
        if !allowed.contains(&target.kind) {
            let allowed_words: Vec<&str> = allowed.iter().map(|kind| kind.as_str()).collect();
            self.error(
                path,
                "wrong-reference-kind",
                format!("'{target}' cannot be used here"),
                Some(format!("refer to a {}", allowed_words.join(", a "))),
            );
            return false;
        }
        let known = self.known(target.kind);
        self.reference(path, target.kind.as_str(), &target.id, &known)
    }

    fn duplicates<'a>(&mut self, section: &str, items: impl Iterator<Item = &'a str>, what: &str) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (index, id) in items.enumerate() {
            if let Some(first) = seen.get(id) {
                self.error(
                    path![section, index, "id"],
                    "duplicate-id",
                    format!("{what} '{id}' is defined twice"),
                    Some(format!(
                        "item {} of {section} has the same id; ids must be unique",
                        first + 1
                    )),
                );
            } else {
                seen.insert(id, index);
            }
        }
    }

    fn timezone(&mut self, path: Path, name: &str) -> bool {
        if jiff::tz::TimeZone::get(name).is_ok() {
            return true;
        }
        self.error(
            path,
            "unknown-timezone",
            format!("'{name}' is not a known time zone"),
            Some("use an IANA name such as UTC, Europe/Berlin or America/New_York".to_owned()),
        );
        false
    }

    fn condition(&mut self, path: Path, condition: &Condition) {
        let plan = self.plan;
        match condition {
            Condition::Severity(id) => {
                self.reference(
                    path,
                    "severity",
                    id,
                    &ids(&plan.severities, |s| s.id.as_str()),
                );
            }
            Condition::Category(id) => {
                self.reference(
                    path,
                    "category",
                    id,
                    &ids(&plan.categories, |c| c.id.as_str()),
                );
            }
            Condition::Scenario(id) => {
                self.reference(
                    path,
                    "scenario",
                    id,
                    &ids(&plan.scenarios, |s| s.id.as_str()),
                );
            }
            Condition::Always | Condition::Tag(_) => {}
        }
    }

    fn check_organization_and_severities(&mut self) {
        let plan = self.plan;
        if plan.version != 1 {
            self.error(
                path!["version"],
                "unsupported-version",
                format!("plan version {} is not supported", plan.version),
                Some("this Muster reads version: 1".to_owned()),
            );
        }
        if let Some(zone) = &plan.organization.timezone {
            self.timezone(path!["organization", "timezone"], zone);
        }
        if plan.severities.is_empty() {
            self.error(
                path!["severities"],
                "no-severities",
                "the plan defines no severity levels".to_owned(),
                Some(
                    "add severities, most critical first (e.g. P0 with ack_within: 15m)".to_owned(),
                ),
            );
        }
        self.duplicates(
            "severities",
            plan.severities.iter().map(|s| s.id.as_str()),
            "severity",
        );
        let policies = ids(&plan.escalation_policies, |p| p.id.as_str());
        let mut previous_ack: Option<(&str, u64)> = None;
        for (index, severity) in plan.severities.iter().enumerate() {
            match severity.escalation.as_deref() {
                None => self.error(
                    path!["severities", index],
                    "no-escalation",
                    format!("severity {} has no escalation policy", severity.id),
                    Some("set escalation: to a policy id, or to none if this severity deliberately pages nobody".to_owned()),
                ),
                Some("none") => {}
                Some(policy) => {
                    self.reference(path!["severities", index, "escalation"], "escalation policy", policy, &policies);
                }
            }
            let ack = severity.ack_within.as_secs();
            if let Some((more_critical, faster)) = previous_ack
                && ack < faster
            {
                self.warn(
                    path!["severities", index, "ack_within"],
                    "severity-order",
                    format!(
                        "{} must be acknowledged sooner ({}) than the more critical {more_critical} ({})",
                        severity.id,
                        severity.ack_within,
                        crate::plan::values::Duration::from_secs(faster)
                    ),
                    Some("severities are listed most critical first; check the order or the SLAs".to_owned()),
                );
            }
            previous_ack = Some((severity.id.as_str(), ack));
        }
    }

    fn check_categories_and_qualification(&mut self) {
        let plan = self.plan;
        self.duplicates(
            "categories",
            plan.categories.iter().map(|c| c.id.as_str()),
            "category",
        );
        let teams = ids(&plan.teams, |t| t.id.as_str());
        for (index, category) in plan.categories.iter().enumerate() {
            for team in category.notify.keys() {
                self.reference(
                    path!["categories", index, "notify", team.as_str()],
                    "team",
                    team.as_str(),
                    &teams,
                );
            }
        }
        let severities = ids(&plan.severities, |s| s.id.as_str());
        let mut seen: HashMap<(bool, bool), usize> = HashMap::new();
        for (index, rule) in plan.qualification.iter().enumerate() {
            self.reference(
                path!["qualification", index, "severity"],
                "severity",
                rule.severity.as_str(),
                &severities,
            );
            let key = (rule.urgent, rule.important);
            if let Some(first) = seen.get(&key) {
                self.error(
                    path!["qualification", index],
                    "conflicting-qualification",
                    format!(
                        "urgent: {}, important: {} is qualified twice",
                        rule.urgent, rule.important
                    ),
                    Some(format!("rule {} already covers it; keep one", first + 1)),
                );
            } else {
                seen.insert(key, index);
            }
        }
        if !plan.qualification.is_empty() {
            let missing: Vec<String> = [(true, true), (true, false), (false, true), (false, false)]
                .into_iter()
                .filter(|key| !seen.contains_key(key))
                .map(|(urgent, important)| format!("urgent: {urgent}, important: {important}"))
                .collect();
            if !missing.is_empty() {
                self.warn(
                    path!["qualification"],
                    "incomplete-qualification",
                    format!(
                        "the qualification matrix does not say what {} is",
                        missing.join(" or ")
                    ),
                    Some(
                        "add a rule for each combination so every incident gets a severity"
                            .to_owned(),
                    ),
                );
            }
        }
    }

    fn check_people_and_teams(&mut self) {
        let plan = self.plan;
        let categories = ids(&plan.categories, |c| c.id.as_str());
        self.duplicates(
            "people",
            plan.people.iter().map(|p| p.id.as_str()),
            "person",
        );
        for (index, person) in plan.people.iter().enumerate() {
            let methods = person.contacts.methods();
            if methods.is_empty() {
                self.error(
                    path!["people", index],
                    "unreachable-person",
                    format!("{} ({}) has no way to be reached", person.name, person.id),
                    Some("add contacts: with at least an email, phone or chat handle".to_owned()),
                );
            }
            if let Some(email) = &person.contacts.email
                && !email.contains('@')
            {
                self.error(
                    path!["people", index, "contacts", "email"],
                    "invalid-value",
                    format!("'{email}' is not an email address"),
                    None,
                );
            }
            if let Some(zone) = &person.timezone {
                self.timezone(path!["people", index, "timezone"], zone);
            }
            for (category_index, category) in person.categories.iter().enumerate() {
                self.reference(
                    path!["people", index, "categories", category_index],
                    "category",
                    category.as_str(),
                    &categories,
                );
            }
            for (key_index, key) in person.keys.iter().enumerate() {
                if let Some(problem) = key_problem(key) {
                    self.error(
                        path!["people", index, "keys", key_index],
                        "invalid-key",
                        problem,
                        None,
                    );
                }
            }
        }
        let people = ids(&plan.people, |p| p.id.as_str());
        self.duplicates("teams", plan.teams.iter().map(|t| t.id.as_str()), "team");
        for (index, team) in plan.teams.iter().enumerate() {
            if team.members.is_empty() {
                self.error(
                    path!["teams", index, "members"],
                    "empty-team",
                    format!("team {} has no members", team.id),
                    Some("list the people who respond for this team".to_owned()),
                );
            }
            for (member_index, member) in team.members.iter().enumerate() {
                self.reference(
                    path!["teams", index, "members", member_index],
                    "person",
                    member.as_str(),
                    &people,
                );
            }
            for (category_index, category) in team.categories.iter().enumerate() {
                self.reference(
                    path!["teams", index, "categories", category_index],
                    "category",
                    category.as_str(),
                    &categories,
                );
            }
        }
        self.duplicates("roles", plan.roles.iter().map(|r| r.id.as_str()), "role");
        for (index, role) in plan.roles.iter().enumerate() {
            self.reference(
                path!["roles", index, "primary"],
                "person",
                role.primary.as_str(),
                &people,
            );
            match &role.backup {
                Some(backup) => {
                    self.reference(
                        path!["roles", index, "backup"],
                        "person",
                        backup.as_str(),
                        &people,
                    );
                    if backup == &role.primary {
                        self.warn(
                            path!["roles", index, "backup"],
                            "no-backup",
                            format!(
                                "the backup for {} is the primary ({}) again",
                                role.name, role.primary
                            ),
                            Some(
                                "name a different person so the role survives one absence"
                                    .to_owned(),
                            ),
                        );
                    }
                }
                None => self.warn(
                    path!["roles", index],
                    "no-backup",
                    format!("role {} has no backup", role.name),
                    Some(
                        "add backup: with a second person for when the primary is away".to_owned(),
                    ),
                ),
            }
        }
    }

    fn check_schedules(&mut self, now: Timestamp) {
        let plan = self.plan;
        let people = ids(&plan.people, |p| p.id.as_str());
        self.duplicates(
            "schedules",
            plan.schedules.iter().map(|s| s.id.as_str()),
            "schedule",
        );
        let horizon = now + jiff::SignedDuration::from_hours(24 * LOOKAHEAD_DAYS);
        for (index, schedule) in plan.schedules.iter().enumerate() {
            let mut sound = true;
            if let Some(zone) = &schedule.timezone {
                sound &= self.timezone(path!["schedules", index, "timezone"], zone);
            }
            if schedule.rotations.is_empty() {
                self.error(
                    path!["schedules", index, "rotations"],
                    "empty-schedule",
                    format!("schedule {} has no rotation", schedule.id),
                    None,
                );
                continue;
            }
            for (rotation_index, rotation) in schedule.rotations.iter().enumerate() {
                let here = path!["schedules", index, "rotations", rotation_index];
                if rotation.members.is_empty() {
                    self.error(
                        [here.clone(), path!["members"]].concat(),
                        "empty-rotation",
                        "this rotation has no members".to_owned(),
                        None,
                    );
                    sound = false;
                }
                if rotation.every.as_secs() == 0 {
                    self.error(
                        [here.clone(), path!["every"]].concat(),
                        "invalid-value",
                        "a shift cannot last zero time".to_owned(),
                        Some("write the shift length, e.g. every: 1w".to_owned()),
                    );
                    sound = false;
                }
                for (member_index, member) in rotation.members.iter().enumerate() {
                    sound &= self.reference(
                        [here.clone(), path!["members", member_index]].concat(),
                        "person",
                        member.as_str(),
                        &people,
                    );
                }
            }
            for (override_index, cover) in schedule.overrides.iter().enumerate() {
                let here = path!["schedules", index, "overrides", override_index];
                sound &= self.reference(
                    [here.clone(), path!["person"]].concat(),
                    "person",
                    cover.person.as_str(),
                    &people,
                );
                if cover.to <= cover.from {
                    self.error(
                        [here, path!["to"]].concat(),
                        "invalid-value",
                        format!(
                            "this override ends ({}) before it starts ({})",
                            cover.to, cover.from
                        ),
                        None,
                    );
                    sound = false;
                }
            }
            if !sound {
                continue;
            }
            if let Ok(gaps) = oncall::gaps(plan, schedule, now, horizon)
                && let Some(first) = gaps.first()
            {
                let zone = schedule.timezone.as_deref().unwrap_or(plan.timezone());
                self.warn(
                    path!["schedules", index],
                    "schedule-gap",
                    format!(
                        "schedule {} has nobody on call for {} period{} in the next {LOOKAHEAD_DAYS} days, first {} ({zone})",
                        schedule.id,
                        gaps.len(),
                        if gaps.len() == 1 { "" } else { "s" },
                        local_range(first.start, first.end, zone),
                    ),
                    Some("add a rotation layer or an override for those hours, or make sure the escalation policy has another level that covers them".to_owned()),
                );
            }
        }
    }

    fn check_escalation(&mut self, now: Timestamp) {
        let plan = self.plan;
        self.duplicates(
            "escalation_policies",
            plan.escalation_policies.iter().map(|p| p.id.as_str()),
            "escalation policy",
        );
        let horizon = now + jiff::SignedDuration::from_hours(24 * LOOKAHEAD_DAYS);
        let all = [
            TargetKind::Person,
            TargetKind::Team,
            TargetKind::Role,
            TargetKind::Schedule,
            TargetKind::Channel,
        ];
        for (index, policy) in plan.escalation_policies.iter().enumerate() {
            if policy.levels.is_empty() {
                self.error(
                    path!["escalation_policies", index, "levels"],
                    "unreachable-escalation",
                    format!(
                        "escalation policy {} has no levels and reaches nobody",
                        policy.id
                    ),
                    Some(
                        "add a level such as { after: 0m, notify: [schedule:primary] }".to_owned(),
                    ),
                );
                continue;
            }
            let mut sound = true;
            let mut previous_after = 0;
            for (level_index, level) in policy.levels.iter().enumerate() {
                let here = path!["escalation_policies", index, "levels", level_index];
                if level.notify.is_empty() {
                    self.error(
                        [here.clone(), path!["notify"]].concat(),
                        "unreachable-escalation",
                        format!("level {} of {} notifies nobody", level_index + 1, policy.id),
                        None,
                    );
                }
                for (target_index, target) in level.notify.iter().enumerate() {
                    sound &= self.target(
                        [here.clone(), path!["notify", target_index]].concat(),
                        target,
                        &all,
                    );
                }
                if level.after.as_secs() < previous_after {
                    self.error(
                        [here.clone(), path!["after"]].concat(),
                        "escalation-order",
                        format!("level {} fires before the level above it", level_index + 1),
                        Some("list levels in the order they fire, with growing delays".to_owned()),
                    );
                }
                previous_after = level.after.as_secs();
            }
            if !sound {
                continue;
            }
            let reaches_a_person =
                policy
                    .levels
                    .iter()
                    .flat_map(|level| &level.notify)
                    .any(|target| match target.kind {
                        TargetKind::Person | TargetKind::Role | TargetKind::Schedule => true,
                        TargetKind::Team => plan
                            .team(&target.id)
                            .is_some_and(|team| !team.members.is_empty()),
                        TargetKind::Channel => false,
                    });
            if !reaches_a_person {
                self.error(
                    path!["escalation_policies", index],
                    "unreachable-escalation",
                    format!(
                        "escalation policy {} only notifies channels and never pages a person",
                        policy.id
                    ),
                    Some("add a level that notifies a schedule, role, team or person".to_owned()),
                );
                continue;
            }
            if let Ok(gaps) = oncall::policy_gaps(plan, policy, now, horizon)
                && let Some(first) = gaps.first()
            {
                self.warn(
                    path!["escalation_policies", index],
                    "unreachable-escalation",
                    format!(
                        "escalation policy {} reaches nobody for {} period{} in the next {LOOKAHEAD_DAYS} days, first {} ({})",
                        policy.id,
                        gaps.len(),
                        if gaps.len() == 1 { "" } else { "s" },
                        local_range(first.start, first.end, plan.timezone()),
                        plan.timezone(),
                    ),
                    Some("add a level that notifies a role or a 24/7 schedule".to_owned()),
                );
            }
        }
    }

    fn check_scenarios_and_runbooks(&mut self) {
        let plan = self.plan;
        let categories = ids(&plan.categories, |c| c.id.as_str());
        let severities = ids(&plan.severities, |s| s.id.as_str());
        let runbooks = ids(&plan.runbooks, |r| r.id.as_str());
        let teams = ids(&plan.teams, |t| t.id.as_str());
        let decisions = ids(&plan.decisions, |d| d.id.as_str());
        let templates = ids(&plan.templates, |t| t.id.as_str());
        self.duplicates(
            "scenarios",
            plan.scenarios.iter().map(|s| s.id.as_str()),
            "scenario",
        );
        for (index, scenario) in plan.scenarios.iter().enumerate() {
            self.reference(
                path!["scenarios", index, "category"],
                "category",
                scenario.category.as_str(),
                &categories,
            );
            self.reference(
                path!["scenarios", index, "severity"],
                "severity",
                scenario.severity.as_str(),
                &severities,
            );
            match &scenario.runbook {
                Some(runbook) => {
                    self.reference(
                        path!["scenarios", index, "runbook"],
                        "runbook",
                        runbook.as_str(),
                        &runbooks,
                    );
                }
                None => self.warn(
                    path!["scenarios", index],
                    "no-runbook",
                    format!("scenario '{}' has no runbook", scenario.title),
                    Some(
                        "write the response steps as a runbook and name it with runbook:"
                            .to_owned(),
                    ),
                ),
            }
            if scenario
                .detection
                .iter()
                .all(|signal| signal.trim().is_empty())
            {
                self.warn(
                    path!["scenarios", index],
                    "no-detection",
                    format!("nobody will notice '{}': it has no detection", scenario.title),
                    Some("add detection: with the alert or signal that reveals it (e.g. detector:finality-lag)".to_owned()),
                );
            }
            for team in scenario.notify.keys() {
                self.reference(
                    path!["scenarios", index, "notify", team.as_str()],
                    "team",
                    team.as_str(),
                    &teams,
                );
            }
        }
        self.duplicates(
            "runbooks",
            plan.runbooks.iter().map(|r| r.id.as_str()),
            "runbook",
        );
        let used: HashSet<&str> = plan
            .scenarios
            .iter()
            .filter_map(|s| s.runbook.as_ref())
            .map(RunbookId::as_str)
            .collect();
        // A schedule owner means "whoever is on call", e.g. the first responder.
        let owners = [
            TargetKind::Person,
            TargetKind::Role,
            TargetKind::Team,
            TargetKind::Schedule,
        ];
        for (index, runbook) in plan.runbooks.iter().enumerate() {
            if runbook.steps.is_empty() {
                self.error(
                    path!["runbooks", index, "steps"],
                    "empty-runbook",
                    format!("runbook {} has no steps", runbook.id),
                    None,
                );
            }
            if !used.contains(runbook.id.as_str()) {
                self.warn(
                    path!["runbooks", index, "id"],
                    "unused-runbook",
                    format!("no scenario uses runbook {}", runbook.id),
                    Some("name it from a scenario's runbook: or remove it".to_owned()),
                );
            }
            if let Some(template) = &runbook.template {
                self.reference(
                    path!["runbooks", index, "template"],
                    "template",
                    template.as_str(),
                    &templates,
                );
            }
            let mut step_ids: HashMap<&str, usize> = HashMap::new();
            for (step_index, step) in runbook.steps.iter().enumerate() {
                let here = path!["runbooks", index, "steps", step_index];
                if let Some(first) = step_ids.insert(step.id.as_str(), step_index) {
                    self.error(
                        [here.clone(), path!["id"]].concat(),
                        "duplicate-id",
                        format!("step '{}' appears twice in runbook {}", step.id, runbook.id),
                        Some(format!("step {} has the same id", first + 1)),
                    );
                }
                if let Some(decision) = &step.decision {
                    self.reference(
                        [here.clone(), path!["decision"]].concat(),
                        "decision",
                        decision.as_str(),
                        &decisions,
                    );
                }
                if let Some(owner) = &step.owner {
                    self.target([here, path!["owner"]].concat(), owner, &owners);
                }
            }
        }
    }

    fn check_decisions(&mut self) {
        let plan = self.plan;
        self.duplicates(
            "decisions",
            plan.decisions.iter().map(|d| d.id.as_str()),
            "decision",
        );
        let approvers = [TargetKind::Person, TargetKind::Role, TargetKind::Team];
        for (index, decision) in plan.decisions.iter().enumerate() {
            if decision.required.is_empty() {
                self.error(
                    path!["decisions", index, "required"],
                    "no-approvers",
                    format!("decision '{}' names no required approver", decision.title),
                    Some("list who must approve, e.g. required: [role:ceo, role:coo]".to_owned()),
                );
            }
            let mut sound = true;
            for (list, targets) in [
                ("required", &decision.required),
                ("additional", &decision.additional),
            ] {
                for (target_index, target) in targets.iter().enumerate() {
                    sound &= self.target(
                        path!["decisions", index, list, target_index],
                        target,
                        &approvers,
                    );
                }
            }
            if !sound {
                continue;
            }
            let possible = decision.required.len() + decision.additional.len();
            if let Some(quorum) = decision.quorum {
                if quorum == 0 {
                    self.error(
                        path!["decisions", index, "quorum"],
                        "invalid-value",
                        "a quorum of zero lets anyone act without approval".to_owned(),
                        Some(
                            "remove quorum: to require every required approver, or set at least 1"
                                .to_owned(),
                        ),
                    );
                } else if quorum as usize > possible {
                    self.error(
                        path!["decisions", index, "quorum"],
                        "impossible-quorum",
                        format!("decision '{}' needs {quorum} approvals but only {possible} approvers are listed", decision.title),
                        Some("lower the quorum or list more approvers".to_owned()),
                    );
                }
            }
            if decision.signed {
                for (list, targets) in [
                    ("required", &decision.required),
                    ("additional", &decision.additional),
                ] {
                    for (target_index, target) in targets.iter().enumerate() {
                        let keyless: Vec<&str> = plan
                            .members_of(target)
                            .into_iter()
                            .map(PersonId::as_str)
                            .filter(|person| plan.person(person).is_some_and(|p| p.keys.is_empty()))
                            .collect();
                        if !keyless.is_empty() {
                            let who = if target.kind == TargetKind::Person {
                                format!("{} has", target.id)
                            } else {
                                format!("{target} includes {}, with", keyless.join(", "))
                            };
                            self.error(
                                path!["decisions", index, list, target_index],
                                "approver-without-key",
                                format!(
                                    "decision '{}' must be signed, but {who} no public key",
                                    decision.title,
                                ),
                                Some("add keys: [ed25519:…] or [eth:0x…] to each approver, or set signed: false".to_owned()),
                            );
                        }
                    }
                }
            }
        }
    }

    fn check_communications(&mut self) {
        let plan = self.plan;
        let channels: Vec<&str> = plan.channels.keys().map(ChannelId::as_str).collect();
        let templates = ids(&plan.templates, |t| t.id.as_str());
        // A schedule owner means "whoever is on call", e.g. the first responder.
        let owners = [
            TargetKind::Person,
            TargetKind::Role,
            TargetKind::Team,
            TargetKind::Schedule,
        ];
        for (index, communication) in plan.communications.iter().enumerate() {
            let here = path!["communications", index];
            match (
                &communication.every,
                &communication.due,
                &communication.timing,
            ) {
                (Some(_), Some(_), _) => self.error(
                    here.clone(),
                    "ambiguous-timing",
                    format!(
                        "'{}' has both a cadence (every) and a deadline (due)",
                        communication.audience
                    ),
                    Some("split it into two communications".to_owned()),
                ),
                (None, None, None) => self.warn(
                    here.clone(),
                    "no-timing",
                    format!("'{}' does not say when it is sent", communication.audience),
                    Some(
                        "add every: (e.g. 1h), due: (e.g. resolved+2d) or timing: in words"
                            .to_owned(),
                    ),
                ),
                _ => {}
            }
            if communication.channels.is_empty() {
                self.error(
                    [here.clone(), path!["channels"]].concat(),
                    "no-channel",
                    format!("'{}' goes out on no channel", communication.audience),
                    None,
                );
            }
            for (channel_index, channel) in communication.channels.iter().enumerate() {
                self.reference(
                    [here.clone(), path!["channels", channel_index]].concat(),
                    "channel",
                    channel.as_str(),
                    &channels,
                );
            }
            self.target(
                [here.clone(), path!["owner"]].concat(),
                &communication.owner,
                &owners,
            );
            if let Some(condition) = &communication.when {
                self.condition([here.clone(), path!["when"]].concat(), condition);
            }
            if let Some(template) = &communication.template {
                self.reference(
                    [here, path!["template"]].concat(),
                    "template",
                    template.as_str(),
                    &templates,
                );
            }
        }
        if let Some(policy) = &plan.postmortem {
            if let Some(template) = &policy.template
                && self.reference(
                    path!["postmortem", "template"],
                    "template",
                    template.as_str(),
                    &templates,
                )
                && plan
                    .template(template.as_str())
                    .is_some_and(|t| t.kind != crate::plan::model::TemplateKind::PostMortem)
            {
                self.warn(
                    path!["postmortem", "template"],
                    "template-kind",
                    format!("template '{template}' is not of kind post-mortem"),
                    Some("set kind: post-mortem on the template".to_owned()),
                );
            }
            let severities = ids(&plan.severities, |s| s.id.as_str());
            for (index, severity) in policy.required_for.iter().enumerate() {
                self.reference(
                    path!["postmortem", "required_for", index],
                    "severity",
                    severity.as_str(),
                    &severities,
                );
            }
        }
        self.duplicates(
            "deadlines",
            plan.deadlines.iter().map(|d| d.id.as_str()),
            "deadline",
        );
        for (index, deadline) in plan.deadlines.iter().enumerate() {
            self.condition(path!["deadlines", index, "when"], &deadline.when);
            if let Some(owner) = &deadline.owner {
                self.target(path!["deadlines", index, "owner"], owner, &owners);
            }
        }
        for (id, channel) in &plan.channels {
            let here = path!["channels", id.as_str()];
            for env in channel.secret_envs() {
                if !looks_like_env_name(env) {
                    self.error(
                        here.clone(),
                        "secret-in-plan",
                        format!("channel {id} names its secret '{env}', which is not an environment variable name"),
                        Some("put the secret in an environment variable (e.g. SLACK_WEBHOOK_URL) and write its name here; never write the secret itself into the plan".to_owned()),
                    );
                }
            }
            match channel {
                Channel::Webhook { url, .. }
                    if !(url.starts_with("https://") || url.starts_with("http://")) =>
                {
                    self.error(
                        [here.clone(), path!["url"]].concat(),
                        "invalid-value",
                        format!("'{url}' is not an http(s) URL"),
                        None,
                    );
                }
                Channel::Email { to, .. } => {
                    for (address_index, address) in to.iter().enumerate() {
                        if !address.contains('@') {
                            self.error(
                                [here.clone(), path!["to", address_index]].concat(),
                                "invalid-value",
                                format!("'{address}' is not an email address"),
                                None,
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        self.duplicates(
            "templates",
            plan.templates.iter().map(|t| t.id.as_str()),
            "template",
        );
        if let Some(page) = &plan.status_page {
            let mut seen = HashSet::new();
            for (index, component) in page.components.iter().enumerate() {
                if !seen.insert(component.id.as_str()) {
                    self.error(
                        path!["status_page", "components", index, "id"],
                        "duplicate-id",
                        format!("status-page component '{}' is listed twice", component.id),
                        None,
                    );
                }
            }
        }
    }

    /// Every template's subject and body: valid template syntax, and only variables Muster
    /// provides. Findings point inside the text, at the broken tag or the unknown variable.
    fn check_templates(&mut self) {
        let plan = self.plan;
        let variables: Vec<&str> = message::VARIABLES.iter().map(|(name, _)| *name).collect();
        for (index, template) in plan.templates.iter().enumerate() {
            let parts = [
                (Part::Subject, template.subject.as_deref()),
                (Part::Body, Some(template.body.as_str())),
            ];
            for (part, text) in parts {
                let Some(text) = text else { continue };
                for found in message::check_text(text, plan) {
                    let (code, text, hint) = match found.problem {
                        Problem::UnknownVariable(name) => {
                            let guess = did_you_mean(&name, variables.iter().copied())
                                .map(|guess| format!("did you mean '{guess}'? "))
                                .unwrap_or_default();
                            (
                                "template-variable",
                                format!(
                                    "template '{}' ({part}) uses '{name}', which Muster does not provide",
                                    template.id
                                ),
                                Some(format!("{guess}known variables: {}", variables.join(", "))),
                            )
                        }
                        problem => (
                            "template-syntax",
                            format!("template '{}' ({part}): {problem}", template.id),
                            found.hint,
                        ),
                    };
                    self.error(path!["templates", index, part.as_str()], code, text, hint);
                    if let Some(finding) = self.findings.last_mut() {
                        finding.inner = Some(TextPosition {
                            line: found.line,
                            column: found.column,
                        });
                    }
                }
            }
        }
    }

    fn check_integrations(&mut self) {
        let plan = self.plan;
        self.duplicates(
            "integrations",
            plan.integrations.iter().map(|i| i.id.as_str()),
            "integration",
        );
        let severities = ids(&plan.severities, |s| s.id.as_str());
        let categories = ids(&plan.categories, |c| c.id.as_str());
        for (index, integration) in plan.integrations.iter().enumerate() {
            let id = &integration.id;
            let kind = integration.kind.as_str();
            let example_env = format!(
                "MUSTER_{}_KEY",
                id.as_str()
                    .to_ascii_uppercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            );
            match &integration.key_env {
                None => self.warn(
                    path!["integrations", index],
                    "no-key-env",
                    format!("integration {id} names no key_env, so only keys made with the API will be accepted"),
                    Some(format!(
                        "set key_env: to the environment variable that holds its key, e.g. {example_env}"
                    )),
                ),
                Some(env) if !looks_like_env_name(env) => self.error(
                    path!["integrations", index, "key_env"],
                    "secret-in-plan",
                    format!("integration {id} names its key '{env}', which is not an environment variable name"),
                    Some(format!("put the key in an environment variable (e.g. {example_env}) and write its name here; never write the key itself into the plan")),
                ),
                Some(_) => {}
            }
            match (&integration.mapping, integration.kind) {
                (None, IntegrationKind::Webhook) => self.error(
                    path!["integrations", index],
                    "missing-value",
                    format!("webhook integration {id} has no mapping, so its alerts cannot be read"),
                    Some("add mapping: with JSON Pointers to at least the key and summary, e.g. { key: /id, summary: /title }".to_owned()),
                ),
                (Some(_), IntegrationKind::Alertmanager | IntegrationKind::Pagerduty) => self.error(
                    path!["integrations", index, "mapping"],
                    "invalid-value",
                    format!("{kind} integration {id} reads the {kind} format and takes no mapping"),
                    Some("remove mapping:, or set type: webhook to read any JSON through it".to_owned()),
                ),
                (Some(mapping), IntegrationKind::Webhook) => {
                    let here = path!["integrations", index, "mapping"];
                    let pointers = [
                        ("alerts", mapping.alerts.as_deref()),
                        ("key", Some(mapping.key.as_str())),
                        ("summary", Some(mapping.summary.as_str())),
                        ("status", mapping.status.as_deref()),
                        ("severity", mapping.severity.as_deref()),
                        ("link", mapping.link.as_deref()),
                    ];
                    for (field, pointer) in pointers {
                        if let Some(pointer) = pointer {
                            self.pointer([here.clone(), path![field]].concat(), pointer);
                        }
                    }
                    for (name, pointer) in &mapping.labels {
                        let at = [here.clone(), path!["labels", name.as_str()]].concat();
                        if name == "integration" {
                            self.error_on_key(
                                at.clone(),
                                "invalid-value",
                                "the integration label always holds the integration's id".to_owned(),
                                Some("give this label another name".to_owned()),
                            );
                        } else if !is_label_name(name) {
                            self.error_on_key(
                                at.clone(),
                                "invalid-value",
                                format!("'{name}' is not a label name"),
                                Some("use letters, digits, '_', '.' and '-', not starting with a digit".to_owned()),
                            );
                        }
                        self.pointer(at, pointer);
                    }
                }
                (None, _) => {}
            }
            if let Some(beat) = &integration.heartbeat {
                let here = path!["integrations", index, "heartbeat"];
                if beat.matchers.is_empty() {
                    self.error(
                        [here.clone(), path!["matchers"]].concat(),
                        "missing-value",
                        format!("the heartbeat of {id} has no matchers, so no alert counts as its watchdog"),
                        Some("name the watchdog alert, e.g. matchers: [alertname=Watchdog]".to_owned()),
                    );
                }
                if beat.every.as_secs() == 0 {
                    self.error(
                        [here.clone(), path!["every"]].concat(),
                        "invalid-value",
                        "a heartbeat expected every zero time is always overdue".to_owned(),
                        Some("write the longest time allowed between two watchdog alerts, e.g. every: 5m".to_owned()),
                    );
                }
                self.reference(
                    [here.clone(), path!["severity"]].concat(),
                    "severity",
                    beat.severity.as_str(),
                    &severities,
                );
                if let Some(category) = &beat.category {
                    self.reference(
                        [here, path!["category"]].concat(),
                        "category",
                        category.as_str(),
                        &categories,
                    );
                }
            }
        }
    }

    /// Reports a mapping value that is not an RFC 6901 JSON Pointer.
    fn pointer(&mut self, path: Path, pointer: &str) {
        if let Some(problem) = webhook::pointer_problem(pointer) {
            self.error(
                path,
                "invalid-value",
                problem,
                Some(
                    "write a JSON Pointer such as /alert/id (RFC 6901), or '' for the whole alert"
                        .to_owned(),
                ),
            );
        }
    }

    fn check_routes(&mut self) {
        let plan = self.plan;
        let scenarios = ids(&plan.scenarios, |s| s.id.as_str());
        let severities = ids(&plan.severities, |s| s.id.as_str());
        let categories = ids(&plan.categories, |c| c.id.as_str());
        let integrations = ids(&plan.integrations, |i| i.id.as_str());
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut catch_all: Option<String> = None;
        for (index, route) in plan.routes.iter().enumerate() {
            let here = path!["routes", index];
            let name = rule_id(index, route);
            if let Some(id) = &route.id {
                if let Some(first) = seen.get(id.as_str()) {
                    self.error(
                        path!["routes", index, "id"],
                        "duplicate-id",
                        format!("route '{id}' is defined twice"),
                        Some(format!(
                            "item {} of routes has the same id; ids must be unique",
                            first + 1
                        )),
                    );
                } else {
                    seen.insert(id, index);
                }
                let numbered = id
                    .strip_prefix("route-")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
                if id == UNROUTED || numbered {
                    self.error(
                        path!["routes", index, "id"],
                        "invalid-value",
                        format!("route id '{id}' is reserved"),
                        Some(format!("'{UNROUTED}' names alerts no route matches and route-<n> the routes without an id; choose another id")),
                    );
                }
            }
            for (matcher_index, matcher) in route.matchers.iter().enumerate() {
                if matcher.label == "integration" && matcher.op == MatchOp::Equal {
                    self.reference(
                        [here.clone(), path!["matchers", matcher_index]].concat(),
                        "integration",
                        &matcher.value,
                        &integrations,
                    );
                }
            }
            if let Some(scenario) = &route.scenario {
                self.reference(
                    [here.clone(), path!["scenario"]].concat(),
                    "scenario",
                    scenario.as_str(),
                    &scenarios,
                );
            }
            if let Some(severity) = &route.severity {
                self.reference(
                    [here.clone(), path!["severity"]].concat(),
                    "severity",
                    severity.as_str(),
                    &severities,
                );
            }
            if let Some(category) = &route.category {
                self.reference(
                    [here.clone(), path!["category"]].concat(),
                    "category",
                    category.as_str(),
                    &categories,
                );
            }
            for (label_index, label) in route.group_by.iter().enumerate() {
                if !is_label_name(label) {
                    self.error(
                        [here.clone(), path!["group_by", label_index]].concat(),
                        "invalid-value",
                        format!("'{label}' is not a label name"),
                        Some("group_by lists the labels whose values split alerts into groups, e.g. [alertname, chain]".to_owned()),
                    );
                }
            }
            if route.action == RouteAction::Declare
                && route.severity.is_none()
                && route.scenario.is_none()
            {
                match (route.urgent, route.important) {
                    (Some(urgent), Some(important)) => {
                        if qualify(plan, urgent, important).is_none() {
                            self.error(
                                here.clone(),
                                "missing-value",
                                format!("route {name} declares incidents as urgent: {urgent}, important: {important}, but the plan gives that combination no severity"),
                                Some("add a qualification rule for that combination, or give the route a severity:".to_owned()),
                            );
                        }
                    }
                    _ => self.error(
                        here.clone(),
                        "missing-value",
                        format!(
                            "route {name} declares incidents without saying how severe they are"
                        ),
                        Some(
                            "give it a scenario:, a severity:, or both urgent: and important:"
                                .to_owned(),
                        ),
                    ),
                }
            }
            if let Some(first) = &catch_all {
                self.warn(
                    here,
                    "unreachable-route",
                    format!("route {name} never applies: route {first} before it matches every alert"),
                    Some("routes are tried in order and the first match wins; put catch-all routes last".to_owned()),
                );
            } else if route.matchers.is_empty() {
                catch_all = Some(name);
            }
        }
    }

    fn check_drills(&mut self, now: Timestamp) {
        let plan = self.plan;
        let Some(drills) = &plan.drills else { return };
        let scenarios = ids(&plan.scenarios, |s| s.id.as_str());
        for (index, scenario) in drills.scenarios.iter().enumerate() {
            self.reference(
                path!["drills", "scenarios", index],
                "scenario",
                scenario.as_str(),
                &scenarios,
            );
        }
        if let Some(moderator) = &drills.moderator {
            self.target(
                path!["drills", "moderator"],
                moderator,
                &[TargetKind::Person, TargetKind::Role],
            );
        }
        let zone = jiff::tz::TimeZone::get(plan.timezone()).unwrap_or(jiff::tz::TimeZone::UTC);
        let today = now.to_zoned(zone).date();
        for (index, record) in drills.history.iter().enumerate() {
            for (scenario_index, scenario) in record.scenarios.iter().enumerate() {
                self.reference(
                    path!["drills", "history", index, "scenarios", scenario_index],
                    "scenario",
                    scenario.as_str(),
                    &scenarios,
                );
            }
            if record.date.0 > today {
                self.warn(
                    path!["drills", "history", index, "date"],
                    "future-drill",
                    format!("a drill is recorded on {}, which has not happened yet", record.date),
                    Some("record drills after they are held; planned drills follow from drills.every".to_owned()),
                );
            }
        }
    }
}

fn local_range(start: Timestamp, end: Timestamp, zone: &str) -> String {
    let zone = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let format = |at: Timestamp| {
        at.to_zoned(zone.clone())
            .strftime("%a %Y-%m-%d %H:%M")
            .to_string()
    };
    format!("{} – {}", format(start), format(end))
}

/// Checks everything about a well-formed plan that its structure alone cannot say.
#[must_use]
pub fn validate(plan: &Plan, now: Timestamp) -> Vec<Finding> {
    let mut checker = Checker {
        plan,
        findings: Vec::new(),
    };
    checker.check_organization_and_severities();
    checker.check_categories_and_qualification();
    checker.check_people_and_teams();
    checker.check_schedules(now);
    checker.check_escalation(now);
    checker.check_scenarios_and_runbooks();
    checker.check_decisions();
    checker.check_communications();
    checker.check_templates();
    checker.check_integrations();
    checker.check_routes();
    checker.check_drills(now);
    checker.findings
}
