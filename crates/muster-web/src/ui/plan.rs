//! Plan pages: the readiness score above the rendered plan (`/plan`), the scenarios with their
//! runbooks (`/plan/scenarios`), and the on-call week (`/oncall`).
//!
//! All three read the running plan only. The plan document is the core's own rendering, which
//! escapes every piece of plan text; only the body of that standalone page is inserted here.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use muster_core::plan::coverage::{self, Readiness};
use muster_core::plan::oncall::{self, ShiftSource};
use muster_core::plan::values::{Target, TargetKind};
use muster_core::plan::{Decision, Phase, Plan, Runbook, Scenario, Schedule, render};
use muster_engine::Engine;

use crate::ui::charts::number;
use crate::ui::dashboard::monday_of;
use crate::ui::{
    Chrome, Session, Times, error_page, instant, midnight, person_name, render as render_page,
    severity_class,
};

pub(crate) async fn document(State(engine): State<Arc<Engine>>, session: Session) -> Response {
    let chrome = Chrome::new(&engine, &session, "plan");
    let running = engine.plan();
    let plan = &running.plan;
    let now = instant(engine.now());
    let readiness = coverage::readiness(plan, now, &BTreeMap::new());
    render_page(&PlanDocumentPage {
        chrome: Some(chrome),
        readiness: ReadinessView::of(&readiness),
        document: document_body(&render::html(plan)),
    })
}

pub(crate) async fn scenarios(State(engine): State<Arc<Engine>>, session: Session) -> Response {
    let chrome = Chrome::new(&engine, &session, "plan");
    let running = engine.plan();
    let plan = &running.plan;
    render_page(&ScenariosPage {
        chrome: Some(chrome),
        scenarios: plan
            .scenarios
            .iter()
            .map(|scenario| ScenarioView::of(plan, scenario))
            .collect(),
    })
}

pub(crate) async fn oncall(
    State(engine): State<Arc<Engine>>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Response {
    let chrome = Chrome::new(&engine, &session, "oncall");
    let asked = match asked_week(query.as_deref()) {
        Ok(asked) => asked,
        Err(message) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                Some(&chrome),
                "Week not understood",
                &message,
            );
        }
    };
    let running = engine.plan();
    let plan = &running.plan;
    let times = Times::of(&engine);
    let now = instant(engine.now());
    let today = now.to_zoned(times.zone().clone()).date();
    let monday = monday_of(asked.unwrap_or(today));
    let week_link = |weeks: i64| {
        monday
            .checked_add(jiff::Span::new().weeks(weeks))
            .map_or_else(
                |_| "/oncall".to_owned(),
                |date| format!("/oncall?week={date}"),
            )
    };
    render_page(&OnCallPage {
        chrome: Some(chrome),
        now: on_call_now(plan, now),
        week: format!(
            "{} to {}",
            monday.strftime("%a %-d %b %Y"),
            add_days(monday, 6).strftime("%a %-d %b %Y")
        ),
        this_week: monday == monday_of(today),
        previous: week_link(-1),
        next: week_link(1),
        schedules: plan
            .schedules
            .iter()
            .map(|schedule| week_of(plan, schedule, monday, now))
            .collect(),
    })
}

/// The body of the core's standalone plan page: what lies between its `<main>` tags. Plan text
/// inside is escaped, so the page's own tags are the first opening and the last closing one.
pub(crate) fn document_body(page: &str) -> String {
    const OPENING: &str = "<body>\n<main>\n";
    let start = page.find(OPENING).map(|at| at + OPENING.len());
    let end = page.rfind("</main>");
    match (start, end) {
        (Some(start), Some(end)) if start <= end => page[start..end].to_owned(),
        _ => String::new(),
    }
}

#[derive(Template)]
#[template(path = "plan_document.html")]
struct PlanDocumentPage {
    chrome: Option<Chrome>,
    readiness: ReadinessView,
    /// HTML rendered and escaped by the core.
    document: String,
}

struct ReadinessView {
    score: String,
    value: f64,
    parts: Vec<PartView>,
}

struct PartView {
    key: &'static str,
    title: String,
    score: String,
    value: f64,
    summary: String,
    findings: Vec<String>,
}

impl ReadinessView {
    fn of(readiness: &Readiness) -> Self {
        Self {
            score: number(readiness.score),
            value: readiness.score,
            parts: readiness
                .parts
                .iter()
                .map(|part| PartView {
                    key: part.key,
                    title: part.title.clone(),
                    score: number(part.score),
                    value: part.score,
                    summary: part.summary.clone(),
                    findings: part.findings.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "plan_scenarios.html")]
struct ScenariosPage {
    chrome: Option<Chrome>,
    scenarios: Vec<ScenarioView>,
}

struct ScenarioView {
    id: String,
    title: String,
    category: String,
    severity: String,
    severity_name: String,
    severity_class: String,
    description: Option<String>,
    detection: Vec<String>,
    tags: String,
    runbook: Option<RunbookView>,
    /// Why there is no runbook to show.
    missing: Option<String>,
}

struct RunbookView {
    id: String,
    title: String,
    description: Option<String>,
    phases: Vec<PhaseView>,
}

struct PhaseView {
    title: &'static str,
    steps: Vec<StepView>,
}

struct StepView {
    id: String,
    title: String,
    within: Option<String>,
    owner: Option<Owner>,
    details: Option<String>,
    command: Option<String>,
    decision: Option<DecisionView>,
}

struct Owner {
    who: String,
    reference: String,
}

struct DecisionView {
    title: String,
    quorum: String,
    signed: bool,
}

impl ScenarioView {
    fn of(plan: &Plan, scenario: &Scenario) -> Self {
        let severity = plan.severity(scenario.severity.as_str());
        let runbook = scenario
            .runbook
            .as_ref()
            .and_then(|id| plan.runbook(id.as_str()));
        let missing = match (&scenario.runbook, runbook) {
            (None, _) => Some("No runbook yet.".to_owned()),
            (Some(id), None) => Some(format!("Runbook {id} is named but does not exist.")),
            (Some(_), Some(_)) => None,
        };
        Self {
            id: scenario.id.to_string(),
            title: scenario.title.clone(),
            category: plan
                .category(scenario.category.as_str())
                .map_or_else(|| scenario.category.to_string(), |c| c.name.clone()),
            severity: scenario.severity.to_string(),
            severity_name: severity.map(|s| s.name.clone()).unwrap_or_default(),
            severity_class: severity_class(plan, &scenario.severity),
            description: scenario.description.clone(),
            detection: scenario.detection.clone(),
            tags: scenario.tags.join(", "),
            runbook: runbook.map(|runbook| RunbookView::of(plan, runbook)),
            missing,
        }
    }
}

impl RunbookView {
    fn of(plan: &Plan, runbook: &Runbook) -> Self {
        Self {
            id: runbook.id.to_string(),
            title: runbook.title.clone(),
            description: runbook.description.clone(),
            phases: Phase::ALL
                .into_iter()
                .map(|phase| PhaseView {
                    title: phase.title(),
                    steps: runbook
                        .steps
                        .iter()
                        .filter(|step| step.phase == phase)
                        .map(|step| StepView {
                            id: step.id.clone(),
                            title: step.title.clone(),
                            within: step
                                .within
                                .map(|within| format!("within {} of declaration", within.words())),
                            owner: step.owner.as_ref().map(|owner| Owner {
                                who: describe(plan, owner),
                                reference: owner.to_string(),
                            }),
                            details: step.details.clone(),
                            command: step.command.clone(),
                            decision: step.decision.as_ref().map(|id| {
                                plan.decision(id.as_str()).map_or_else(
                                    || DecisionView {
                                        title: id.to_string(),
                                        quorum: "not in the plan".to_owned(),
                                        signed: false,
                                    },
                                    |decision| DecisionView::of(plan, decision),
                                )
                            }),
                        })
                        .collect(),
                })
                .filter(|phase| !phase.steps.is_empty())
                .collect(),
        }
    }
}

impl DecisionView {
    fn of(plan: &Plan, decision: &Decision) -> Self {
        let names = |targets: &[Target]| {
            targets
                .iter()
                .map(|target| describe(plan, target))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let quorum = if let Some(need) = decision.quorum {
            let eligible: Vec<Target> = decision
                .required
                .iter()
                .chain(&decision.additional)
                .cloned()
                .collect();
            format!("{need} approvals from {}", names(&eligible))
        } else {
            let mut text = format!(
                "{} approvals: {}, each by a different person",
                decision.required.len(),
                names(&decision.required)
            );
            if !decision.additional.is_empty() {
                let _ = write!(text, "; {} may also approve", names(&decision.additional));
            }
            text
        };
        Self {
            title: decision.title.clone(),
            quorum,
            signed: decision.signed,
        }
    }
}

/// Whom a reference stands for, in the plan's words.
fn describe(plan: &Plan, target: &Target) -> String {
    let named = match target.kind {
        TargetKind::Person => plan.person(&target.id).map(|person| person.name.clone()),
        TargetKind::Team => plan.team(&target.id).map(|team| team.name.clone()),
        TargetKind::Role => plan.role(&target.id).map(|role| role.name.clone()),
        TargetKind::Schedule => plan.schedule(&target.id).map(|schedule| {
            format!(
                "whoever is on call for {}",
                schedule.name.as_deref().unwrap_or(schedule.id.as_str())
            )
        }),
        TargetKind::Channel => Some(format!("channel {}", target.id)),
    };
    named.unwrap_or_else(|| target.to_string())
}

#[derive(Template)]
#[template(path = "oncall.html")]
struct OnCallPage {
    chrome: Option<Chrome>,
    now: Vec<NowView>,
    /// `Mon 2 Mar 2026 to Sun 8 Mar 2026`.
    week: String,
    this_week: bool,
    previous: String,
    next: String,
    schedules: Vec<WeekView>,
}

/// One schedule right now.
struct NowView {
    name: String,
    person: Option<String>,
    until: Option<String>,
    next: Option<String>,
    error: Option<String>,
}

/// One schedule over the week shown.
struct WeekView {
    id: String,
    name: String,
    zone: String,
    days: Vec<DayView>,
    error: Option<String>,
}

struct DayView {
    /// `Mon 2 Mar`.
    title: String,
    today: bool,
    entries: Vec<Entry>,
}

/// A shift, or a stretch with nobody on call, within one day.
struct Entry {
    person: Option<String>,
    /// `09:00–24:00`.
    hours: String,
    /// The rotation's name, or `override`.
    source: Option<String>,
}

/// `?week=YYYY-MM-DD`, when given; any day of the week will do.
fn asked_week(query: Option<&str>) -> Result<Option<Date>, String> {
    let Some(query) = query else {
        return Ok(None);
    };
    let mut asked = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key == "week" && !value.is_empty() {
            let date = value.parse::<Date>().map_err(|_| {
                format!(
                    "'{value}' is not a date; write the week as ?week=YYYY-MM-DD, any day of it"
                )
            })?;
            asked = Some(date);
        }
    }
    Ok(asked)
}

fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(jiff::Span::new().days(days))
        .unwrap_or(date)
}

fn shown(zone: &TimeZone, at: Timestamp) -> String {
    at.to_zoned(zone.clone())
        .strftime("%a %-d %b %H:%M %Z")
        .to_string()
}

fn on_call_now(plan: &Plan, now: Timestamp) -> Vec<NowView> {
    oncall::summary(plan, now)
        .into_iter()
        .map(|entry| {
            let zone = oncall::zone(&entry.timezone).unwrap_or(TimeZone::UTC);
            NowView {
                name: entry.name,
                person: entry
                    .now
                    .as_ref()
                    .map(|shift| person_name(plan, shift.person.as_str())),
                until: entry.now.as_ref().map(|shift| shown(&zone, shift.end)),
                next: entry.next.as_ref().map(|shift| {
                    format!(
                        "{} from {}",
                        person_name(plan, shift.person.as_str()),
                        shown(&zone, shift.start)
                    )
                }),
                error: entry.error,
            }
        })
        .collect()
}

/// The schedule's week from `monday`, day by day in the schedule's own zone.
fn week_of(plan: &Plan, schedule: &Schedule, monday: Date, now: Timestamp) -> WeekView {
    let name = schedule
        .name
        .clone()
        .unwrap_or_else(|| schedule.id.to_string());
    let mut view = WeekView {
        id: schedule.id.to_string(),
        name,
        zone: schedule
            .timezone
            .clone()
            .unwrap_or_else(|| plan.timezone().to_owned()),
        days: Vec::new(),
        error: None,
    };
    let zone = match oncall::schedule_zone(plan, schedule) {
        Ok(zone) => zone,
        Err(error) => {
            view.error = Some(error);
            return view;
        }
    };
    let today = now.to_zoned(zone.clone()).date();
    for offset in 0..7 {
        let date = add_days(monday, offset);
        match day(plan, schedule, &zone, date) {
            Ok(entries) => view.days.push(DayView {
                title: date.strftime("%a %-d %b").to_string(),
                today: date == today,
                entries,
            }),
            Err(error) => {
                view.error = Some(error);
                view.days.clear();
                return view;
            }
        }
    }
    view
}

/// Who is on call on `date`, and when nobody is, in order.
fn day(
    plan: &Plan,
    schedule: &Schedule,
    zone: &TimeZone,
    date: Date,
) -> Result<Vec<Entry>, String> {
    let start = instant(midnight(zone, date));
    let end = instant(midnight(zone, add_days(date, 1)));
    let hours = |from: Timestamp, to: Timestamp| {
        let clock = |at: Timestamp| at.to_zoned(zone.clone()).strftime("%H:%M").to_string();
        let until = if to >= end {
            "24:00".to_owned()
        } else {
            clock(to)
        };
        format!("{}–{until}", clock(from))
    };
    let mut entries: Vec<(Timestamp, Entry)> = oncall::shifts(plan, schedule, start, end)?
        .into_iter()
        .map(|shift| {
            let source = match shift.source {
                ShiftSource::Rotation(index) => schedule
                    .rotations
                    .get(index)
                    .and_then(|rotation| rotation.name.clone()),
                ShiftSource::Override => Some("override".to_owned()),
            };
            (
                shift.start,
                Entry {
                    person: Some(person_name(plan, shift.person.as_str())),
                    hours: hours(shift.start, shift.end),
                    source,
                },
            )
        })
        .collect();
    entries.extend(
        oncall::gaps(plan, schedule, start, end)?
            .into_iter()
            .map(|gap| {
                (
                    gap.start,
                    Entry {
                        person: None,
                        hours: hours(gap.start, gap.end),
                        source: None,
                    },
                )
            }),
    );
    entries.sort_by_key(|(start, _)| *start);
    Ok(entries.into_iter().map(|(_, entry)| entry).collect())
}

#[cfg(test)]
mod tests {
    use muster_core::plan::{Source, load};

    use super::*;

    const PLAN: &str = r#"
version: 1
organization:
  name: "</main><script>alert(1)</script>"
  timezone: Europe/Berlin
people:
  - id: ana
    name: Ana
  - id: ben
    name: "Ben <b>"
schedules:
  - id: day
    name: Days
    rotations:
      - members: [ana, ben]
        every: 1d
        handoff: "09:00"
        start: 2026-03-02
        active: mon-fri 09:00-17:00
"#;

    fn plan() -> Plan {
        let loaded = load(
            &[Source {
                name: "plan.yaml",
                text: PLAN,
            }],
            Timestamp::UNIX_EPOCH,
        );
        loaded.plan.expect("the test plan loads")
    }

    #[test]
    fn the_document_body_is_the_page_between_its_main_tags() {
        let page = render::html(&plan());
        let body = document_body(&page);
        assert!(!body.is_empty());
        assert!(!body.contains("<main>") && !body.contains("</main>"));
        assert!(!body.contains("<html") && !body.contains("<style>"));
        assert!(!body.contains("<script>"), "{body}");
        assert!(body.contains("&lt;script&gt;"), "{body}");
        assert_eq!(document_body("no page at all"), "");
    }

    #[test]
    fn a_day_lists_shifts_and_the_hours_nobody_is_on_call() {
        let plan = plan();
        let schedule = &plan.schedules[0];
        let zone = TimeZone::get("Europe/Berlin").unwrap();
        let monday: Date = "2026-03-02".parse().unwrap();
        let entries = day(&plan, schedule, &zone, monday).unwrap();
        let shown: Vec<(Option<&str>, &str)> = entries
            .iter()
            .map(|entry| (entry.person.as_deref(), entry.hours.as_str()))
            .collect();
        assert_eq!(
            shown,
            vec![
                (None, "00:00–09:00"),
                (Some("Ana"), "09:00–17:00"),
                (None, "17:00–24:00")
            ]
        );
        let tuesday = day(&plan, schedule, &zone, add_days(monday, 1)).unwrap();
        assert_eq!(tuesday[1].person.as_deref(), Some("Ben <b>"));
        let saturday = day(&plan, schedule, &zone, add_days(monday, 5)).unwrap();
        assert_eq!(saturday.len(), 1);
        assert_eq!(saturday[0].person, None);
        assert_eq!(saturday[0].hours, "00:00–24:00");
    }

    #[test]
    fn the_week_is_asked_for_by_any_of_its_days() {
        assert_eq!(asked_week(None), Ok(None));
        assert_eq!(asked_week(Some("")), Ok(None));
        assert_eq!(
            asked_week(Some("week=2026-03-04")),
            Ok(Some("2026-03-04".parse().unwrap()))
        );
        let refused = asked_week(Some("week=%3Cb%3E")).unwrap_err();
        assert!(refused.contains("YYYY-MM-DD"), "{refused}");
    }
}
