//! Incident pages: the list with its filters, the declaration form, the incident itself (summary,
//! live timeline, runbook checklist, decisions, alerts, who is on call) and the forms that act on
//! it. Every action is an engine command, so the API's rules and role checks apply unchanged.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use muster_core::access::Role;
use muster_core::incident::checklist::ChecklistItem;
use muster_core::incident::{Command, Event, Impact, Incident, IncidentId, PublicState, Status};
use muster_core::plan::{
    CategoryId, ChannelId, ComponentId, DecisionId, PersonId, Phase, Plan, RoleId, ScenarioId,
    SeverityId, TemplateId,
};
use muster_engine::{Engine, EngineError, IncidentView};
use muster_store::{AlertFilter, IncidentFilter, Store, Work};
use tokio::sync::broadcast::error::RecvError;

use crate::ui::followup::{self, MessageForm};
use crate::ui::{
    ActionForm, Chrome, Session, Times, duration, error_page, midnight, person_name, refused,
    render, see_other, severity_class,
};

/// How often a live page re-reads its incident even without an announcement (events written
/// by another instance are not announced here).
const LIVE_POLL: Duration = Duration::from_secs(3);

/// Tells live streams the server is shutting down, so they end and shutdown is not held up.
#[derive(Debug, Clone)]
pub(crate) struct Closing(pub tokio::sync::watch::Receiver<bool>);

/// The plan's severities as a form offers them: id, and "P0 — Critical".
fn severity_choices(plan: &Plan) -> Vec<(String, String)> {
    plan.severities
        .iter()
        .map(|s| (s.id.to_string(), format!("{} — {}", s.id, s.name)))
        .collect()
}

/// The plan's categories as a form offers them: id and name.
fn category_choices(plan: &Plan) -> Vec<(String, String)> {
    plan.categories
        .iter()
        .map(|c| (c.id.to_string(), c.name.clone()))
        .collect()
}

pub(crate) fn parse_id(chrome: &Chrome, id: &str) -> Result<IncidentId, Response> {
    id.parse().map_err(|message: String| {
        error_page(
            StatusCode::NOT_FOUND,
            Some(chrome),
            "No such incident",
            &message,
        )
    })
}

// ---------------------------------------------------------------------------------------------
// The list

/// One row of the incident list.
#[derive(Debug)]
struct Row {
    id: String,
    title: String,
    severity: String,
    severity_class: String,
    status: &'static str,
    category: String,
    declared: String,
    declared_iso: String,
    drill: bool,
    acknowledged: bool,
}

/// The filter form's current values, so the form shows what is applied.
#[derive(Debug, Default)]
struct Filters {
    status: String,
    severity: String,
    category: String,
    drill: String,
    open: String,
    from: String,
    until: String,
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct ListPage {
    chrome: Option<Chrome>,
    rows: Vec<Row>,
    shown: String,
    problem: Option<String>,
    filters: Filters,
    statuses: Vec<&'static str>,
    severities: Vec<String>,
    categories: Vec<(String, String)>,
    previous: Option<String>,
    next: Option<String>,
}

const PAGE_SIZE: u32 = 50;

/// Reads the list's query as its form sends it: blank fields are no filter, dates are days in
/// the plan's time zone, `page` counts from 1. Everything else is the API's own strict parser.
fn list_filter(
    query: &str,
    plan: &Plan,
    times: &Times,
) -> (Filters, u64, Result<IncidentFilter, String>) {
    let mut filters = Filters::default();
    let mut page = 1_u64;
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let value = value.trim().to_owned();
        if value.is_empty() {
            continue;
        }
        match name.as_ref() {
            "page" => match value.parse::<u64>() {
                Ok(number) if number >= 1 => page = number,
                _ => problems.push(format!(
                    "page: '{value}' is not a page number; use 1 or more"
                )),
            },
            "from" | "until" => {
                let until = name == "until";
                if until {
                    filters.until.clone_from(&value);
                } else {
                    filters.from.clone_from(&value);
                }
                // A day of the plan's zone: `until` takes the whole day in.
                match value.parse::<jiff::civil::Date>() {
                    Ok(date) => {
                        let date = if until {
                            date.tomorrow().unwrap_or(date)
                        } else {
                            date
                        };
                        let start = Times::iso(midnight(times.zone(), date));
                        pairs.push((name.into_owned(), start));
                    }
                    Err(_) => {
                        problems.push(format!("{name}: '{value}' is not a date; write YYYY-MM-DD"));
                    }
                }
            }
            other => {
                match other {
                    "status" => filters.status.clone_from(&value),
                    "severity" => filters.severity.clone_from(&value),
                    "category" => filters.category.clone_from(&value),
                    "drill" => filters.drill.clone_from(&value),
                    "open" => filters.open.clone_from(&value),
                    _ => {}
                }
                pairs.push((other.to_owned(), value));
            }
        }
    }
    if !problems.is_empty() {
        return (filters, page, Err(problems.join("; ")));
    }
    let filter = crate::query::filter(&pairs, plan).map(|mut filter| {
        filter.limit = PAGE_SIZE;
        filter.offset = (page - 1) * u64::from(PAGE_SIZE);
        filter
    });
    (filters, page, filter.map_err(|error| error.message))
}

/// The list's query with another page number.
fn page_link(query: &str, page: u64) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name != "page" && !value.trim().is_empty() {
            out.append_pair(&name, &value);
        }
    }
    out.append_pair("page", &page.to_string());
    format!("/incidents?{}", out.finish())
}

/// `GET /incidents`.
pub(crate) async fn list(
    State(engine): State<Arc<Engine>>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Response {
    let chrome = Chrome::new(&engine, &session, "incidents");
    let running = engine.plan();
    let plan = &running.plan;
    let times = Times::of(&engine);
    let query = query.unwrap_or_default();
    let (filters, page, filter) = list_filter(&query, plan, &times);
    let (listing, problem) = match filter {
        Ok(filter) => match engine.list(&filter).await {
            Ok(listing) => (listing, None),
            Err(error) => return refused(Some(&chrome), &error),
        },
        Err(problem) => (
            muster_store::IncidentPage {
                incidents: Vec::new(),
                total: 0,
            },
            Some(problem),
        ),
    };
    let first = (page - 1) * u64::from(PAGE_SIZE);
    let rows: Vec<Row> = listing
        .incidents
        .iter()
        .map(|incident| Row {
            id: incident.id.to_string(),
            title: incident.title.clone(),
            severity: incident.severity.to_string(),
            severity_class: severity_class(plan, &incident.severity),
            status: incident.status.as_str(),
            category: incident
                .category
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            declared: times.show(incident.declared_at),
            declared_iso: Times::iso(incident.declared_at),
            drill: incident.drill,
            acknowledged: incident.acknowledged_at.is_some(),
        })
        .collect();
    let shown = if rows.is_empty() {
        "No incidents match.".to_owned()
    } else {
        format!(
            "{}–{} of {}",
            first + 1,
            first + rows.len() as u64,
            listing.total
        )
    };
    let next = (first + (rows.len() as u64) < listing.total).then(|| page_link(&query, page + 1));
    let previous = (page > 1).then(|| page_link(&query, page - 1));
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = render(&ListPage {
        chrome: Some(chrome),
        rows,
        shown,
        problem,
        filters,
        statuses: Status::ALL.iter().map(|status| status.as_str()).collect(),
        severities: plan.severities.iter().map(|s| s.id.to_string()).collect(),
        categories: category_choices(plan),
        previous,
        next,
    });
    *response.status_mut() = status;
    response
}

// ---------------------------------------------------------------------------------------------
// Declaring

#[derive(Template)]
#[template(path = "declare.html")]
struct DeclarePage {
    chrome: Option<Chrome>,
    problem: Option<String>,
    scenarios: Vec<(String, String)>,
    severities: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    /// What was typed, shown again after a refusal.
    title: String,
    summary: String,
}

fn declare_page(
    engine: &Engine,
    chrome: Chrome,
    status: StatusCode,
    problem: Option<String>,
    title: String,
    summary: String,
) -> Response {
    let running = engine.plan();
    let plan = &running.plan;
    let mut response = render(&DeclarePage {
        chrome: Some(chrome),
        problem,
        scenarios: plan
            .scenarios
            .iter()
            .map(|s| (s.id.to_string(), format!("{} ({})", s.title, s.severity)))
            .collect(),
        severities: severity_choices(plan),
        categories: category_choices(plan),
        title,
        summary,
    });
    *response.status_mut() = status;
    response
}

/// `GET /incidents/new`.
pub(crate) async fn declare_form(State(engine): State<Arc<Engine>>, session: Session) -> Response {
    let chrome = Chrome::new(&engine, &session, "incidents");
    if let Err(response) = session.require(&chrome, Role::Responder) {
        return response;
    }
    declare_page(
        &engine,
        chrome,
        StatusCode::OK,
        None,
        String::new(),
        String::new(),
    )
}

/// `POST /incidents`: declares from the form.
pub(crate) async fn declare(State(engine): State<Arc<Engine>>, form: ActionForm) -> Response {
    let chrome = Chrome::new(&engine, &form.session, "incidents");
    if let Err(response) = form.session.require(&chrome, Role::Responder) {
        return response;
    }
    let title = form.get("title").unwrap_or_default().to_owned();
    let summary = form.get("summary").unwrap_or_default().to_owned();
    let scenario = form.get("scenario").map(ScenarioId::from);
    let severity = form.get("severity").map(SeverityId::from);
    // Without a named severity or scenario, the urgent x important matrix qualifies it.
    let qualifying = severity.is_none() && scenario.is_none();
    let command = Command::Declare {
        title: title.clone(),
        scenario,
        severity,
        urgent: qualifying.then(|| form.get("urgent").is_some()),
        important: qualifying.then(|| form.get("important").is_some()),
        category: form.get("category").map(CategoryId::from),
        summary: (!summary.is_empty()).then(|| summary.clone()),
        started_at: None,
        detected_at: None,
        drill: form.get("drill").is_some(),
        tags: form
            .get("tags")
            .map(|tags| {
                tags.split(',')
                    .map(str::trim)
                    .filter(|tag| !tag.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    };
    match engine.declare(&form.session.principal, &command).await {
        Ok(outcome) => see_other(&format!("/incidents/{}", outcome.incident.id)),
        Err(EngineError::Rejected(rejection)) => declare_page(
            &engine,
            chrome,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(rejection.message),
            title,
            summary,
        ),
        Err(error) => refused(Some(&chrome), &error),
    }
}

// ---------------------------------------------------------------------------------------------
// The incident page

/// One timeline entry as shown.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    seq: u64,
    kind: &'static str,
    clock: String,
    iso: String,
    actor: String,
    what: String,
}

impl Item {
    fn of(event: &Event, times: &Times) -> Self {
        Self {
            seq: event.seq,
            kind: event.kind.name(),
            clock: times.clock(event.at),
            iso: Times::iso(event.at),
            actor: event.actor.clone(),
            what: event.kind.describe(),
        }
    }
}

/// The incident's state at a glance; re-sent whole to live pages when it changes.
#[derive(Debug, Clone)]
pub(crate) struct Glance {
    status: &'static str,
    severity: String,
    severity_class: String,
    category: String,
    acknowledged: String,
    public_state: String,
    age: String,
    drill: bool,
    /// Updates overdue and deadlines missed, flagged in red.
    alarms: Vec<String>,
}

impl Glance {
    fn of(incident: &Incident, plan: &Plan, times: &Times, now: i64) -> Self {
        let acknowledged = match incident.acknowledged_at {
            Some(at) => format!(
                "{} ({} after detection)",
                times.show(at),
                duration(at - incident.detected_at)
            ),
            None => "no".to_owned(),
        };
        let end = incident.resolved_at.unwrap_or(now);
        Self {
            status: incident.status.as_str(),
            severity: incident.severity.to_string(),
            severity_class: severity_class(plan, &incident.severity),
            category: incident
                .category
                .as_ref()
                .map_or_else(|| "none".to_owned(), ToString::to_string),
            acknowledged,
            public_state: incident.public_state.map_or_else(
                || "not published".to_owned(),
                |state| state.title().to_owned(),
            ),
            age: duration(end - incident.detected_at),
            drill: incident.drill,
            alarms: followup::alarms(plan, incident, now),
        }
    }
}

#[derive(Template)]
#[template(path = "incident_glance.html")]
struct GlanceFragment {
    g: Glance,
}

#[derive(Template)]
#[template(path = "timeline_item.html")]
struct ItemFragment {
    item: Item,
}

/// A runbook step as the checklist shows it.
#[derive(Debug)]
struct StepView {
    id: String,
    title: String,
    class: &'static str,
    budget: String,
    owner: String,
    details: String,
    command: String,
    gate: String,
    done: bool,
    blocked: bool,
}

#[derive(Debug)]
struct PhaseView {
    title: &'static str,
    steps: Vec<StepView>,
}

/// A decision the incident may need, with its approvals.
#[derive(Debug)]
struct DecisionView {
    id: String,
    title: String,
    requested: bool,
    progress: String,
    met: bool,
    signed: bool,
    approvals: Vec<String>,
    /// Who may still approve (for a user acting for nobody).
    eligible: Vec<(String, String)>,
}

#[derive(Debug)]
struct AlertView {
    integration: String,
    key: String,
    summary: String,
    status: String,
    last_seen: String,
    occurrences: i64,
}

#[derive(Template)]
#[template(path = "incident.html")]
#[allow(clippy::struct_excessive_bools)] // what the template shows or hides, one flag each
struct IncidentPage {
    chrome: Option<Chrome>,
    csrf: String,
    id: String,
    title: String,
    summary: String,
    scenario: String,
    runbook: String,
    resolution: String,
    tags: Vec<String>,
    facts: Vec<(&'static str, String)>,
    g: Glance,
    open: bool,
    finished_resolved: bool,
    can_act: bool,
    acts_for: Option<String>,
    live: String,
    timeline: Vec<Item>,
    phases: Vec<PhaseView>,
    decisions: Vec<DecisionView>,
    alerts: Vec<AlertView>,
    alert_count: u64,
    roles: Vec<(String, String, String)>,
    people: Vec<(String, String)>,
    on_call: Vec<(String, String)>,
    severities: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    statuses: Vec<&'static str>,
    public_states: Vec<(&'static str, &'static str)>,
    impacts: Vec<(&'static str, &'static str)>,
    components: Vec<(String, String)>,
    public_title: String,
    has_status_page: bool,
    /// Said when the incident is over but the status page still shows it as ongoing.
    public_pending: Option<&'static str>,
    /// Communications, deadlines, root cause, action items and the post-mortem.
    f: followup::Sections,
}

fn step_view(item: &ChecklistItem, plan: &Plan, times: &Times, now: i64) -> StepView {
    let overdue = item.overdue(now);
    let blocked = item.blocked();
    let done = item.done_at.is_some();
    let budget = match (item.done_at, item.due_at, &item.within) {
        (Some(at), _, _) => format!("done {}", times.clock(at)),
        (None, Some(due), Some(within)) if overdue => {
            format!("overdue by {} (budget {within})", duration(now - due))
        }
        (None, Some(due), Some(within)) => format!("{} left of {within}", duration(due - now)),
        _ => String::new(),
    };
    let gate = match (&item.decision, item.approvals) {
        (Some(decision), Some(quorum)) => {
            let title = plan
                .decision(decision.as_str())
                .map_or_else(|| decision.to_string(), |d| d.title.clone());
            format!(
                "Needs “{title}”: {} of {} approvals",
                quorum.have, quorum.need
            )
        }
        _ => String::new(),
    };
    StepView {
        id: item.step.clone(),
        title: item.title.clone(),
        class: if done {
            "done"
        } else if overdue {
            "overdue"
        } else if blocked {
            "blocked"
        } else {
            ""
        },
        budget,
        owner: item.owner.clone().unwrap_or_default(),
        details: item.details.clone().unwrap_or_default(),
        command: item.command.clone().unwrap_or_default(),
        gate,
        done,
        blocked,
    }
}

fn decision_views(plan: &Plan, view: &IncidentView, times: &Times) -> Vec<DecisionView> {
    let mut ids: Vec<DecisionId> = view
        .checklist
        .iter()
        .filter_map(|item| item.decision.clone())
        .collect();
    ids.extend(view.incident.decisions.keys().cloned());
    let mut seen = Vec::new();
    ids.retain(|id| {
        let fresh = !seen.contains(id);
        seen.push(id.clone());
        fresh
    });
    ids.iter()
        .filter_map(|id| plan.decision(id.as_str()))
        .map(|decision| {
            let state = view.incident.decisions.get(&decision.id);
            let approvals: BTreeMap<PersonId, i64> =
                state.map(|s| s.approvals.clone()).unwrap_or_default();
            let quorum = muster_core::incident::state::quorum(plan, decision, &approvals);
            DecisionView {
                id: decision.id.to_string(),
                title: decision.title.clone(),
                requested: state.is_some_and(|s| s.requested_at.is_some()),
                progress: format!("{} of {} approvals", quorum.have, quorum.need),
                met: quorum.met(),
                signed: decision.signed,
                approvals: approvals
                    .iter()
                    .map(|(person, at)| {
                        format!(
                            "{} at {}",
                            person_name(plan, person.as_str()),
                            times.clock(*at)
                        )
                    })
                    .collect(),
                eligible: muster_core::incident::state::eligible_approvers(plan, decision)
                    .into_iter()
                    .filter(|person| !approvals.contains_key(person))
                    .map(|person| (person.to_string(), person_name(plan, person.as_str())))
                    .collect(),
            }
        })
        .collect()
}

/// `GET /incidents/{id}`.
pub(crate) async fn page(
    State(engine): State<Arc<Engine>>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    let chrome = Chrome::new(&engine, &session, "incidents");
    let id = match parse_id(&chrome, &id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    show(
        &engine,
        &session,
        chrome,
        &id,
        MessageForm::default(),
        StatusCode::OK,
    )
    .await
}

/// Draws the incident page, its message form holding `message` (a preview, or what was typed
/// before a refusal), answered with `status`.
async fn show(
    engine: &Engine,
    session: &Session,
    chrome: Chrome,
    id: &IncidentId,
    message: MessageForm,
    status: StatusCode,
) -> Response {
    let id = id.clone();
    let (view, events) = match tokio::try_join!(engine.incident(&id), engine.timeline(&id)) {
        Ok(found) => found,
        Err(error) => return refused(Some(&chrome), &error),
    };
    let alerts = engine
        .store()
        .alerts(&AlertFilter {
            incident: Some(id.to_string()),
            limit: Some(50),
            ..AlertFilter::default()
        })
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(%error, incident = %id, "alerts of an incident could not be read");
            Vec::new()
        });
    let running = engine.plan();
    let plan = &running.plan;
    let times = Times::of(engine);
    let now = engine.now();
    let incident = &view.incident;

    // Budgets stop counting when the incident is resolved.
    let clock_now = incident.resolved_at.unwrap_or(now);
    let mut phases: Vec<PhaseView> = Vec::new();
    for phase in Phase::ALL {
        let steps: Vec<StepView> = view
            .checklist
            .iter()
            .filter(|item| item.phase == phase)
            .map(|item| step_view(item, plan, &times, clock_now))
            .collect();
        if !steps.is_empty() {
            phases.push(PhaseView {
                title: phase.title(),
                steps,
            });
        }
    }
    let mut facts: Vec<(&'static str, String)> = vec![
        ("Started", times.show(incident.started_at)),
        ("Detected", times.show(incident.detected_at)),
        ("Declared", times.show(incident.declared_at)),
    ];
    for (label, at) in [
        ("Mitigated", incident.mitigated_at),
        ("Resolved", incident.resolved_at),
        ("Closed", incident.closed_at),
    ] {
        if let Some(at) = at {
            facts.push((label, times.show(at)));
        }
    }
    let at = jiff::Timestamp::from_millisecond(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let on_call = muster_core::plan::oncall::summary(plan, at)
        .into_iter()
        .map(|schedule| {
            let who = match &schedule.now {
                Some(shift) => format!(
                    "{} until {}",
                    person_name(plan, shift.person.as_str()),
                    times.show(shift.end.as_millisecond())
                ),
                None => "nobody".to_owned(),
            };
            (schedule.name, who)
        })
        .collect();
    let page = IncidentPage {
        csrf: chrome.form_token.clone(),
        chrome: Some(chrome.clone()),
        id: incident.id.to_string(),
        title: incident.title.clone(),
        summary: incident.summary.clone().unwrap_or_default(),
        scenario: incident
            .scenario
            .as_ref()
            .and_then(|id| plan.scenario(id.as_str()))
            .map(|s| s.title.clone())
            .unwrap_or_default(),
        runbook: incident
            .runbook
            .as_ref()
            .and_then(|id| plan.runbook(id.as_str()))
            .map(|r| r.title.clone())
            .unwrap_or_default(),
        resolution: incident.resolution.clone().unwrap_or_default(),
        tags: incident.tags.iter().cloned().collect(),
        facts,
        g: Glance::of(incident, plan, &times, now),
        open: incident.status.is_open(),
        finished_resolved: incident.status == Status::Resolved,
        can_act: chrome.can_act(),
        acts_for: session.principal.person.as_ref().map(ToString::to_string),
        live: format!(
            "/incidents/{}/live?after={}",
            incident.id, incident.last_seq
        ),
        timeline: events
            .iter()
            .rev()
            .map(|event| Item::of(event, &times))
            .collect(),
        decisions: decision_views(plan, &view, &times),
        phases,
        alerts: alerts
            .into_iter()
            .map(|alert| AlertView {
                integration: alert.integration,
                key: alert.key,
                summary: alert.summary,
                status: alert.status,
                last_seen: times.show(alert.last_seen),
                occurrences: alert.occurrences,
            })
            .collect(),
        alert_count: incident.alert_count,
        roles: plan
            .roles
            .iter()
            .map(|role| {
                (
                    role.id.to_string(),
                    role.name.clone(),
                    incident
                        .roles
                        .get(&role.id)
                        .map(|person| person_name(plan, person.as_str()))
                        .unwrap_or_default(),
                )
            })
            .collect(),
        people: plan
            .people
            .iter()
            .map(|p| (p.id.to_string(), p.name.clone()))
            .collect(),
        on_call,
        severities: severity_choices(plan),
        categories: category_choices(plan),
        statuses: [
            Status::Investigating,
            Status::Identified,
            Status::Monitoring,
        ]
        .iter()
        .map(|status| status.as_str())
        .collect(),
        public_states: PublicState::ALL
            .iter()
            .map(|state| (state.as_str(), state.title()))
            .collect(),
        impacts: Impact::ALL
            .iter()
            .map(|impact| (impact.as_str(), impact.title()))
            .collect(),
        components: plan
            .status_page
            .iter()
            .flat_map(|page| &page.components)
            .map(|c| (c.id.to_string(), c.name.clone()))
            .collect(),
        public_title: incident
            .public_title
            .clone()
            .unwrap_or_else(|| incident.title.clone()),
        has_status_page: plan.status_page.is_some() && !incident.drill,
        public_pending: incident
            .public_state
            .filter(|state| !incident.status.is_open() && *state != PublicState::Resolved)
            .map(PublicState::title),
        f: followup::Sections::build(plan, &view, &times, now, message),
    };
    let mut response = render(&page);
    *response.status_mut() = status;
    response
}

// ---------------------------------------------------------------------------------------------
// Live updates

/// Where a live page starts: after the `Last-Event-ID` its browser saw (on reconnect), else
/// after the `after` the page was drawn with.
fn live_start(headers: &HeaderMap, query: Option<&str>) -> u64 {
    headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok())
        .or_else(|| {
            form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .find(|(name, _)| name == "after")
                .and_then(|(_, value)| value.parse().ok())
        })
        .unwrap_or(0)
}

struct Live {
    engine: Arc<Engine>,
    id: IncidentId,
    after: u64,
    changes: tokio::sync::broadcast::Receiver<IncidentId>,
    ready: VecDeque<SseEvent>,
    closing: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Live {
    /// Reads events after the last one sent and queues them (and a fresh glance) for sending.
    async fn catch_up(&mut self) {
        // The projection row says whether anything is new; the timeline is read only then.
        let Ok(Some(head)) = self.engine.store().head(&self.id).await else {
            return;
        };
        if head.incident.last_seq <= self.after {
            return;
        }
        let Ok(events) = self.engine.timeline(&self.id).await else {
            return;
        };
        let times = Times::of(&self.engine);
        let after = self.after;
        for event in events.iter().filter(|event| event.seq > after) {
            if let Ok(html) = (ItemFragment {
                item: Item::of(event, &times),
            })
            .render()
            {
                self.ready.push_back(
                    SseEvent::default()
                        .event("timeline")
                        .id(event.seq.to_string())
                        .data(html),
                );
            }
            self.after = event.seq;
        }
        let running = self.engine.plan();
        if let Some(incident) = Incident::fold(&events)
            && let Ok(html) = (GlanceFragment {
                g: Glance::of(&incident, &running.plan, &times, self.engine.now()),
            })
            .render()
        {
            self.ready
                .push_back(SseEvent::default().event("summary").data(html));
        }
    }

    /// The next event to send; `None` ends the stream (the server is shutting down).
    async fn next(mut self) -> Option<(Result<SseEvent, Infallible>, Self)> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some((Ok(event), self));
            }
            let closing = async {
                match &mut self.closing {
                    Some(closing) => {
                        let _ = closing.wait_for(|closing| *closing).await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let wake = tokio::select! {
                () = closing => return None,
                change = self.changes.recv() => match change {
                    Ok(changed) => changed == self.id,
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => return None,
                },
                () = tokio::time::sleep(LIVE_POLL) => true,
            };
            if wake {
                self.catch_up().await;
            }
        }
    }
}

/// `GET /incidents/{id}/live`: the timeline as server-sent events — `timeline` events carry
/// a rendered timeline item, `summary` events the incident at a glance.
pub(crate) async fn live(
    State(engine): State<Arc<Engine>>,
    session: Session,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    closing: Option<Extension<Closing>>,
) -> Response {
    let chrome = Chrome::new(&engine, &session, "incidents");
    let id = match parse_id(&chrome, &id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    // Subscribe before reading, so nothing committed in between is missed.
    let changes = engine.changes();
    if let Err(error) = engine.incident(&id).await {
        return refused(Some(&chrome), &error);
    }
    let mut live = Live {
        engine: engine.clone(),
        id,
        after: live_start(&headers, query.as_deref()),
        changes,
        ready: VecDeque::new(),
        closing: closing.map(|Extension(Closing(closing))| closing),
    };
    live.catch_up().await;
    let stream = futures_util::stream::unfold(live, Live::next);
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Actions

/// What a form field must hold, said the way the page labels it.
fn required<'f>(form: &'f ActionForm, name: &str, what: &str) -> Result<&'f str, String> {
    form.get(name)
        .ok_or_else(|| format!("Fill in {what}; nothing was changed."))
}

fn parsed<T: std::str::FromStr<Err = String>>(
    form: &ActionForm,
    name: &str,
    what: &str,
) -> Result<T, String> {
    required(form, name, what)?.parse()
}

/// Where the post-mortem page's forms return to (instead of a part of the incident page).
const POSTMORTEM_PAGE: &str = "postmortem-page";

/// The command a form asks for, and the part of the page to return to.
fn command_of(
    action: &str,
    form: &ActionForm,
    times: &Times,
) -> Result<Option<(Command, &'static str)>, String> {
    let note = |name: &str| form.get(name).map(str::to_owned);
    Ok(Some(match action {
        "ack" => (Command::Acknowledge { person: None }, "summary"),
        "note" => (
            Command::AddNote {
                text: required(form, "text", "the note")?.to_owned(),
            },
            "timeline",
        ),
        "severity" => (
            Command::ChangeSeverity {
                to: SeverityId::from(required(form, "to", "the new severity")?),
                reason: required(form, "reason", "the reason for the change")?.to_owned(),
            },
            "summary",
        ),
        "category" => (
            Command::ChangeCategory {
                to: CategoryId::from(required(form, "to", "the new category")?),
                reason: required(form, "reason", "the reason for the change")?.to_owned(),
            },
            "summary",
        ),
        "status" => (
            Command::ChangeStatus {
                to: parsed(form, "to", "the new status")?,
                note: note("note"),
            },
            "summary",
        ),
        "role" => (
            Command::AssignRole {
                role: RoleId::from(required(form, "role", "the role")?),
                person: PersonId::from(required(form, "person", "who takes the role")?),
            },
            "roles",
        ),
        "step" => (
            Command::CompleteStep {
                step: required(form, "step", "the step")?.to_owned(),
                note: note("note"),
            },
            "checklist",
        ),
        "request" => (
            Command::RequestDecision {
                decision: DecisionId::from(required(form, "decision", "the decision")?),
                reason: note("reason"),
            },
            "decisions",
        ),
        "approve" => {
            let approver = match (&form.session.principal.person, form.get("approver")) {
                (Some(person), _) => person.clone(),
                (None, Some(approver)) => PersonId::from(approver),
                (None, None) => return Err("Choose who approves; nothing was changed.".to_owned()),
            };
            (
                Command::Approve {
                    decision: DecisionId::from(required(form, "decision", "the decision")?),
                    approver,
                    comment: note("comment"),
                    signature: note("signature"),
                },
                "decisions",
            )
        }
        "publish" => (
            Command::PublishUpdate {
                state: parsed(form, "state", "the status-page state")?,
                message: required(form, "message", "the public message")?.to_owned(),
                title: note("title"),
                components: form
                    .all("components")
                    .into_iter()
                    .map(ComponentId)
                    .collect(),
                impact: match form.get("impact") {
                    Some(impact) => impact.parse()?,
                    None => Impact::default(),
                },
            },
            "publish",
        ),
        "tag" => (
            Command::AddTag {
                tag: required(form, "tag", "the tag")?.to_owned(),
            },
            "summary",
        ),
        "resolve" => (
            Command::Resolve {
                summary: required(form, "summary", "what fixed it")?.to_owned(),
            },
            "summary",
        ),
        "reopen" => (
            Command::Reopen {
                reason: required(form, "reason", "why it is reopened")?.to_owned(),
            },
            "summary",
        ),
        "close" => (Command::Close { note: note("note") }, "summary"),
        "message" => (
            Command::SendMessage {
                audience: note("audience"),
                template: form.get("template").map(TemplateId::from),
                channels: form.all("channels").into_iter().map(ChannelId).collect(),
                subject: note("subject"),
                body: note("body"),
            },
            "communications",
        ),
        "deadline" => (
            Command::CompleteDeadline {
                deadline: required(form, "deadline", "the deadline")?.to_owned(),
                note: note("note"),
            },
            "deadlines",
        ),
        "root-cause" => (
            Command::SetRootCause {
                tag: required(form, "tag", "the root-cause tag")?.to_owned(),
                text: required(form, "text", "what went wrong")?.to_owned(),
            },
            "follow-up",
        ),
        "action-item" => (
            Command::AddActionItem {
                title: required(form, "title", "the action item")?.to_owned(),
                owner: PersonId::from(required(form, "owner", "its owner")?),
                horizon: parsed(form, "horizon", "its horizon")?,
                due_at: form
                    .get("due")
                    .map(|day| followup::end_of_day(times, day))
                    .transpose()?,
                root_cause: None,
            },
            "follow-up",
        ),
        "action-item-status" => (
            Command::UpdateActionItem {
                item: required(form, "item", "the action item")?
                    .parse()
                    .map_err(|_| "That is not an action item number; nothing was changed.")?,
                status: Some(parsed(form, "status", "its new status")?),
                owner: None,
                due_at: None,
                note: note("note"),
            },
            "follow-up",
        ),
        "save-postmortem" => (
            Command::SavePostmortem {
                markdown: required(form, "markdown", "the post-mortem")?.to_owned(),
                note: note("note"),
            },
            POSTMORTEM_PAGE,
        ),
        "publish-postmortem" => (
            Command::PublishPostmortem {
                public: form.get("public") == Some("true"),
            },
            POSTMORTEM_PAGE,
        ),
        _ => return Ok(None),
    }))
}

/// `POST /incidents/{id}/{action}`: one form of the incident page.
pub(crate) async fn act(
    State(engine): State<Arc<Engine>>,
    Path((id, action)): Path<(String, String)>,
    form: ActionForm,
) -> Response {
    let chrome = Chrome::new(&engine, &form.session, "incidents");
    let id = match parse_id(&chrome, &id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    if let Err(response) = form.session.require(&chrome, Role::Responder) {
        return response;
    }
    let times = Times::of(&engine);
    let (command, anchor) = match command_of(&action, &form, &times) {
        Ok(Some(found)) => found,
        Ok(None) => {
            return error_page(
                StatusCode::NOT_FOUND,
                Some(&chrome),
                "No such action",
                &format!("The incident page has no action '{action}'."),
            );
        }
        Err(problem) => {
            return error_page(StatusCode::BAD_REQUEST, Some(&chrome), "Not done", &problem);
        }
    };
    // A preview sends nothing: the page comes back with the rendered text to edit.
    if action == "message" && form.get("preview").is_some() {
        let mut message = MessageForm::typed(&form);
        return match message.preview(&engine, &chrome, &id).await {
            Ok(status) => show(&engine, &form.session, chrome, &id, message, status).await,
            Err(response) => response,
        };
    }
    match engine.execute(&form.session.principal, &id, &command).await {
        Ok(_) if anchor == POSTMORTEM_PAGE => see_other(&format!("/incidents/{id}/postmortem")),
        Ok(_) => see_other(&format!("/incidents/{id}#{anchor}")),
        // Refusals of the forms with much typed into them come back with the text kept.
        Err(EngineError::Rejected(rejection)) if action == "message" => {
            let mut message = MessageForm::typed(&form);
            message.problem = Some(format!("{}; nothing was sent.", rejection.message));
            show(
                &engine,
                &form.session,
                chrome,
                &id,
                message,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(EngineError::Rejected(rejection)) if anchor == POSTMORTEM_PAGE => {
            let editor = followup::Editor {
                markdown: (action == "save-postmortem")
                    .then(|| form.get("markdown").unwrap_or_default().to_owned()),
                note: form.get("note").unwrap_or_default().to_owned(),
                problem: Some(format!("{}; nothing was changed.", rejection.message)),
            };
            followup::postmortem_page(
                &engine,
                chrome,
                &id,
                editor,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => refused(Some(&chrome), &error),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::{live_start, page_link};

    #[test]
    fn a_reconnecting_browser_resumes_after_the_last_event_it_saw() {
        let mut headers = HeaderMap::new();
        assert_eq!(live_start(&headers, Some("after=7")), 7);
        headers.insert("last-event-id", HeaderValue::from_static("12"));
        assert_eq!(live_start(&headers, Some("after=7")), 12);
        assert_eq!(live_start(&HeaderMap::new(), None), 0);
    }

    #[test]
    fn paging_keeps_the_filters_and_drops_blank_fields() {
        assert_eq!(
            page_link("status=triage&severity=&page=2", 3),
            "/incidents?status=triage&page=3"
        );
    }
}
