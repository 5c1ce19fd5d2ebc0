//! Readiness: how well the plan would carry a team through an incident today, as a score out of
//! 100 with the shortfalls that cost points.
//!
//! Six parts, each scored 0 to 100 as the share of things in good order: scenarios with a runbook,
//! scenarios with a detection, roles with a backup, paging severities that reach a person around
//! the clock, drills done on time, and people with two ways to reach them. An empty section scores zero
//! with a finding, because a plan that says nothing about something is not ready for it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::plan::model::{Plan, ScenarioId};
use crate::plan::oncall::{self, Gap};

/// How far ahead the escalation part looks for hours in which nobody would be paged. Four weeks
/// cover every weekly rotation several times over and a month-end or holiday week.
pub const ESCALATION_HORIZON_DAYS: i64 = 28;

/// How many gaps of one policy are spelled out before the rest are only counted.
const GAPS_LISTED: usize = 3;

/// Width of the score bar in the text report, in characters.
const BAR_WIDTH: u32 = 20;

/// The readiness report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Readiness {
    /// Weighted mean of the parts' scores, 0 to 100, rounded to one decimal.
    pub score: f64,
    pub parts: Vec<Part>,
}

/// One aspect of readiness.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part {
    /// Stable machine name, e.g. `runbook-coverage`.
    pub key: &'static str,
    pub title: String,
    /// 0 to 100, rounded to one decimal.
    pub score: f64,
    pub weight: f64,
    /// One line, e.g. "4 of 5 scenarios have a runbook".
    pub summary: String,
    /// One line per shortfall, naming the thing and what to do about it.
    pub findings: Vec<String>,
}

/// Scores the plan's readiness at `now`.
///
/// `drills_done` adds last-drill dates known outside the plan (for instance given on the command
/// line); for each scenario the latest date from either source counts.
///
/// All six parts weigh 1.0. Each measures a different way a response fails (nobody knows what to
/// do, nobody notices, a role is empty, nobody is paged, the team is out of practice, a page does
/// not arrive) and none is clearly less harmful than another, so equal weights keep the score easy
/// to explain: it is the plain mean of the parts.
#[must_use]
pub fn readiness(
    plan: &Plan,
    now: Timestamp,
    drills_done: &BTreeMap<ScenarioId, Date>,
) -> Readiness {
    let mut parts = vec![
        runbook_coverage(plan),
        detection_coverage(plan),
        role_backups(plan),
        escalation_around_the_clock(plan, now),
        drills(plan, now, drills_done),
        contact_methods(plan),
    ];
    let total_weight: f64 = parts.iter().map(|part| part.weight).sum();
    let weighted: f64 = parts.iter().map(|part| part.score * part.weight).sum();
    let score = if total_weight > 0.0 {
        weighted / total_weight
    } else {
        0.0
    };
    // Rounding happens once, after the mean, so that the overall score does not carry the
    // parts' rounding errors.
    for part in &mut parts {
        part.score = one_decimal(part.score);
    }
    Readiness {
        score: one_decimal(score),
        parts,
    }
}

impl Readiness {
    /// A report for people: the overall score first, then each part with a bar, its summary and
    /// its findings indented below it.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut text = format!("Readiness: {:.0}/100\n", self.score);
        for part in &self.parts {
            let _ = write!(
                text,
                "\n{} {:>3.0}%  {}\n    {}\n",
                bar(part.score),
                part.score,
                part.title,
                part.summary
            );
            for finding in &part.findings {
                let _ = writeln!(text, "    - {finding}");
            }
        }
        text
    }
}

/// `[#####...............]` for 25.
fn bar(score: f64) -> String {
    let step = 100.0 / f64::from(BAR_WIDTH);
    let filled = (1..=BAR_WIDTH)
        .filter(|cell| f64::from(*cell) * step <= score + step / 2.0)
        .count();
    let width = BAR_WIDTH as usize;
    format!("[{}{}]", "#".repeat(filled), ".".repeat(width - filled))
}

fn one_decimal(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn share(count: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 * 100.0 / total as f64
    }
}

fn part(
    key: &'static str,
    title: &str,
    score: f64,
    summary: String,
    findings: Vec<String>,
) -> Part {
    Part {
        key,
        title: title.to_owned(),
        score,
        weight: 1.0,
        summary,
        findings,
    }
}

/// The organization's zone for dates and times shown to people, with its name. An unknown zone is
/// the validator's to report; here UTC stands in so that the report can still be made.
fn organization_zone(plan: &Plan) -> (TimeZone, String) {
    match oncall::zone(plan.timezone()) {
        Ok(zone) => (zone, plan.timezone().to_owned()),
        Err(_) => (TimeZone::UTC, "UTC".to_owned()),
    }
}

fn runbook_coverage(plan: &Plan) -> Part {
    const KEY: &str = "runbook-coverage";
    const TITLE: &str = "Runbook coverage";
    if plan.scenarios.is_empty() {
        return part(
            KEY,
            TITLE,
            0.0,
            "no scenarios".to_owned(),
            vec!["no scenarios: list the potential issues the team prepares for, each with a runbook".to_owned()],
        );
    }
    let mut findings = Vec::new();
    let mut covered = 0;
    for scenario in &plan.scenarios {
        let Some(runbook_id) = &scenario.runbook else {
            findings.push(format!(
                "scenario {} ({}) has no runbook: write one and name it in the scenario's runbook",
                scenario.id, scenario.title
            ));
            continue;
        };
        match plan.runbook(runbook_id.as_str()) {
            None => findings.push(format!(
                "scenario {} names runbook {runbook_id}, which does not exist: add the runbook or fix the reference",
                scenario.id
            )),
            Some(runbook) if runbook.steps.is_empty() => findings.push(format!(
                "runbook {runbook_id} of scenario {} has no steps: write the response steps",
                scenario.id
            )),
            Some(_) => covered += 1,
        }
    }
    let total = plan.scenarios.len();
    part(
        KEY,
        TITLE,
        share(covered, total),
        format!("{covered} of {total} scenarios have a runbook"),
        findings,
    )
}

/// Whether a detection is an automated signal rather than something a person notices.
fn is_automated(detection: &str) -> bool {
    let detection = detection.trim();
    detection.starts_with("detector:") || detection.starts_with("alert:")
}

fn detection_coverage(plan: &Plan) -> Part {
    const KEY: &str = "detection-coverage";
    const TITLE: &str = "Detection coverage";
    if plan.scenarios.is_empty() {
        return part(
            KEY,
            TITLE,
            0.0,
            "no scenarios".to_owned(),
            vec!["no scenarios: list the potential issues the team prepares for and how each is noticed".to_owned()],
        );
    }
    let mut findings = Vec::new();
    let mut detected = 0;
    let mut automated = 0;
    for scenario in &plan.scenarios {
        let detections: Vec<&str> = scenario
            .detection
            .iter()
            .map(|detection| detection.trim())
            .filter(|detection| !detection.is_empty())
            .collect();
        if detections.is_empty() {
            findings.push(format!(
                "scenario {} ({}) has no detection: say how it is noticed, ideally with a detector: or alert: signal",
                scenario.id, scenario.title
            ));
            continue;
        }
        detected += 1;
        if detections.iter().any(|detection| is_automated(detection)) {
            automated += 1;
        } else {
            findings.push(format!(
                "scenario {} ({}) is only noticed by people: consider a detector: or alert: signal",
                scenario.id, scenario.title
            ));
        }
    }
    let total = plan.scenarios.len();
    part(
        KEY,
        TITLE,
        share(detected, total),
        format!("{detected} of {total} scenarios have a detection, {automated} automated"),
        findings,
    )
}

fn role_backups(plan: &Plan) -> Part {
    const KEY: &str = "role-backups";
    const TITLE: &str = "Role backups";
    if plan.roles.is_empty() {
        return part(
            KEY,
            TITLE,
            0.0,
            "no roles".to_owned(),
            vec!["no roles: define the incident roles (incident commander at least), each with a primary and a backup".to_owned()],
        );
    }
    let mut findings = Vec::new();
    let mut backed = 0;
    for role in &plan.roles {
        match &role.backup {
            None => findings.push(format!(
                "role {} has no backup: name one so the role is filled when {} cannot be reached",
                role.id, role.primary
            )),
            Some(backup) if *backup == role.primary => findings.push(format!(
                "role {} has {} as both primary and backup: name a different backup",
                role.id, role.primary
            )),
            Some(_) => backed += 1,
        }
    }
    let total = plan.roles.len();
    part(
        KEY,
        TITLE,
        share(backed, total),
        format!("{backed} of {total} roles have a backup"),
        findings,
    )
}

fn escalation_around_the_clock(plan: &Plan, now: Timestamp) -> Part {
    const KEY: &str = "escalation-24x7";
    const TITLE: &str = "Escalation around the clock";
    let horizon = SignedDuration::from_hours(24 * ESCALATION_HORIZON_DAYS);
    let end = now.checked_add(horizon).unwrap_or(Timestamp::MAX);
    let (zone, zone_name) = organization_zone(plan);
    let mut findings = Vec::new();
    // Several severities often share a policy; each policy is evaluated and reported once.
    let mut evaluated: BTreeMap<&str, f64> = BTreeMap::new();
    let mut shares = Vec::new();
    for severity in &plan.severities {
        let Some(policy_id) = severity.escalation.as_deref() else {
            findings.push(format!(
                "severity {} has no escalation policy: set escalation to a policy id, or to none if it deliberately pages nobody",
                severity.id
            ));
            shares.push(0.0);
            continue;
        };
        if policy_id == "none" {
            continue;
        }
        let Some(policy) = plan.policy(policy_id) else {
            findings.push(format!(
                "severity {} names escalation policy {policy_id}, which does not exist: add the policy or fix the reference",
                severity.id
            ));
            shares.push(0.0);
            continue;
        };
        let coverage = evaluated.entry(policy_id).or_insert_with(|| {
            match oncall::policy_gaps(plan, policy, now, end) {
                Err(why) => {
                    findings.push(format!("policy {policy_id} cannot be checked: {why}"));
                    0.0
                }
                Ok(gaps) => {
                    let share = covered_share(&gaps, now, end);
                    findings.extend(gap_findings(policy_id, &gaps, share, &zone, &zone_name));
                    share
                }
            }
        });
        shares.push(*coverage);
    }
    if shares.is_empty() {
        let finding = if plan.severities.is_empty() {
            "no severities: define them, each with the escalation policy that pages for it"
        } else {
            "no severity pages anyone: set escalation on the severities that need a person to respond"
        };
        return part(
            KEY,
            TITLE,
            0.0,
            "no severity pages anyone".to_owned(),
            vec![finding.to_owned()],
        );
    }
    // Comparing with 100 exactly is right here: a share is 100 only when the gaps add up to zero.
    let around_the_clock = shares.iter().filter(|share| **share >= 100.0).count();
    let score = shares.iter().sum::<f64>() / shares.len() as f64;
    part(
        KEY,
        TITLE,
        score,
        format!(
            "{around_the_clock} of {} paging severities reach a person at every hour of the next {ESCALATION_HORIZON_DAYS} days",
            shares.len()
        ),
        findings,
    )
}

/// The share of `[from, to)` not inside a gap, 0 to 100.
fn covered_share(gaps: &[Gap], from: Timestamp, to: Timestamp) -> f64 {
    let window = to.duration_since(from).as_secs_f64();
    if window <= 0.0 {
        return 100.0;
    }
    let uncovered: f64 = gaps.iter().map(|gap| gap.duration().as_secs_f64()).sum();
    (100.0 * (1.0 - uncovered / window)).clamp(0.0, 100.0)
}

fn gap_findings(
    policy_id: &str,
    gaps: &[Gap],
    share: f64,
    zone: &TimeZone,
    zone_name: &str,
) -> Vec<String> {
    if gaps.is_empty() {
        return Vec::new();
    }
    let plural = if gaps.len() == 1 { "" } else { "s" };
    let mut findings = vec![format!(
        "policy {policy_id} reaches nobody for {:.0}% of the next {ESCALATION_HORIZON_DAYS} days ({} gap{plural}): add a level that reaches a person at all hours, such as a 24/7 schedule, a role or a team",
        100.0 - share,
        gaps.len()
    )];
    let local = |moment: Timestamp| {
        zone.to_datetime(moment)
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    findings.extend(gaps.iter().take(GAPS_LISTED).map(|gap| {
        format!(
            "policy {policy_id} reaches nobody {} - {} ({zone_name})",
            local(gap.start),
            local(gap.end)
        )
    }));
    if gaps.len() > GAPS_LISTED {
        findings.push(format!(
            "policy {policy_id} reaches nobody in {} more intervals",
            gaps.len() - GAPS_LISTED
        ));
    }
    findings
}

fn drills(plan: &Plan, now: Timestamp, drills_done: &BTreeMap<ScenarioId, Date>) -> Part {
    const KEY: &str = "drills";
    const TITLE: &str = "Drills";
    let Some(drills) = &plan.drills else {
        return part(
            KEY,
            TITLE,
            0.0,
            "no drill cadence".to_owned(),
            vec!["no drill cadence: add a drills section (seed 001 recommends at least every six months)".to_owned()],
        );
    };
    if drills.scenarios.is_empty() {
        return part(
            KEY,
            TITLE,
            0.0,
            "no drill scenarios".to_owned(),
            vec![
                "the drills section names no scenarios: list the scenarios to exercise".to_owned(),
            ],
        );
    }
    let (zone, _) = organization_zone(plan);
    let today = zone.to_datetime(now).date();
    let mut last_drilled: BTreeMap<&ScenarioId, Date> = BTreeMap::new();
    let recorded = drills.history.iter().flat_map(|record| {
        record
            .scenarios
            .iter()
            .map(move |scenario| (scenario, record.date.0))
    });
    for (scenario, date) in
        recorded.chain(drills_done.iter().map(|(scenario, date)| (scenario, *date)))
    {
        let latest = last_drilled.entry(scenario).or_insert(date);
        *latest = (*latest).max(date);
    }
    let mut findings = Vec::new();
    let mut up_to_date = 0;
    for scenario in &drills.scenarios {
        match last_drilled.get(scenario) {
            None => findings.push(format!(
                "scenario {scenario} has never been drilled: run an exercise and record it in drills.history"
            )),
            Some(last) => {
                let due = drills.every.after(*last);
                if due < today {
                    findings.push(format!(
                        "scenario {scenario} was last drilled {last} and was due again {due}: run an exercise"
                    ));
                } else {
                    up_to_date += 1;
                }
            }
        }
    }
    let total = drills.scenarios.len();
    part(
        KEY,
        TITLE,
        share(up_to_date, total),
        format!(
            "{up_to_date} of {total} drill scenarios were exercised within the last {}",
            drills.every
        ),
        findings,
    )
}

fn contact_methods(plan: &Plan) -> Part {
    const KEY: &str = "contact-methods";
    const TITLE: &str = "Contact methods";
    if plan.people.is_empty() {
        return part(
            KEY,
            TITLE,
            0.0,
            "no people".to_owned(),
            vec![
                "no people: list the responders with at least two contact methods each".to_owned(),
            ],
        );
    }
    let mut findings = Vec::new();
    let mut reachable = 0;
    for person in &plan.people {
        let methods = person.contacts.methods();
        match methods.as_slice() {
            [] => findings.push(format!(
                "person {} ({}) has no contact method: add at least two, e.g. email and phone",
                person.id, person.name
            )),
            [(method, _)] => findings.push(format!(
                "person {} ({}) has only one contact method ({method}): add a second so a page still arrives when one fails",
                person.id, person.name
            )),
            _ => reachable += 1,
        }
    }
    let total = plan.people.len();
    part(
        KEY,
        TITLE,
        share(reachable, total),
        format!("{reachable} of {total} people have two or more contact methods"),
        findings,
    )
}
