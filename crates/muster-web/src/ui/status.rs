//! The public status page: `/status` (HTML without JavaScript), `/status/feed.atom`,
//! `/status/summary.json` and the public post-mortems (`/status/incidents/{id}/postmortem`), for
//! the public and without signing in.
//!
//! Everything here is computed from the `update_published` events and the public
//! `postmortem_published` events the store returns for the page
//! ([`muster_store::Store::published`]) and from the plan's `status_page`: never from notes,
//! the incident projection or any other event, so nothing a responder writes internally can
//! reach the public. [`Summary::build`] is the whole computation, pure and tested on its own.
//!
//! Rules the page follows:
//! - An incident is active while its latest public state is not `resolved`.
//! - An update that names no components keeps the components named before it; its impact is
//!   the incident's impact from then on.
//! - A component's status is the worst impact of the active incidents naming it; the banner is
//!   the worst over active incidents, an incident naming no component counting as degraded
//!   (its impact describes components, and it names none).
//! - The history covers [`HISTORY_DAYS`] days in the plan's time zone (today last); a day takes
//!   the worst impact any incident had on the component while it was active that day.
//! - An incident shown on the page whose post-mortem was published publicly links to it; the
//!   post-mortem page shows the latest public version's Markdown (raw HTML in it as text) under
//!   the incident's public title, and nothing else.
//! - Answers are `Cache-Control: no-cache`, so a published update shows at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Span;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use muster_core::incident::{Event, EventKind, Impact, IncidentId, Millis, PublicState};
use muster_core::plan::{ComponentId, StatusPage};
use muster_engine::{Engine, RunningPlan};
use muster_store::{Store, StoreError};
use serde::Serialize;

use crate::error::ApiError;
use crate::ui::followup::markdown_html;
use crate::ui::{Times, day_of, midnight, plain_error, render};

/// How many days the history shows, today included.
pub(crate) const HISTORY_DAYS: usize = 90;
/// The most entries the Atom feed carries.
const FEED_ENTRIES: usize = 50;
/// The page runs no script and loads nothing but its own inline style, whatever a message holds.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// One published update, as the public saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Update {
    pub seq: u64,
    pub at: Millis,
    pub state: PublicState,
    pub message: String,
}

/// An incident as the status page knows it: only what was published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicIncident {
    pub id: IncidentId,
    /// The public title of the latest update.
    pub title: String,
    pub state: PublicState,
    pub impact: Impact,
    /// The components the latest update names (or the last ones named before it).
    pub components: Vec<ComponentId>,
    /// The first update's time.
    pub started_at: Millis,
    /// The latest update's time (for a resolved incident, when it was resolved).
    pub updated_at: Millis,
    /// Every update, newest first.
    pub updates: Vec<Update>,
}

impl PublicIncident {
    /// What the incident adds to the banner.
    fn overall_impact(&self) -> Impact {
        if self.components.is_empty() {
            Impact::Degraded
        } else {
            self.impact
        }
    }
}

/// A component of the plan's status page, now and over the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ComponentStatus {
    pub id: ComponentId,
    pub name: String,
    pub description: Option<String>,
    /// `None`: operational.
    pub impact: Option<Impact>,
    /// One per day of [`Summary::days`]: the worst impact that day, `None` when there was none.
    pub days: Vec<Option<Impact>>,
}

/// Everything the status page, its feed and its summary show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    /// The banner: `None` when all systems are operational.
    pub status: Option<Impact>,
    /// The plan's components in plan order (none without a `status_page`).
    pub components: Vec<ComponentStatus>,
    /// The history's days in the plan's time zone, oldest first, today last.
    pub days: Vec<Date>,
    /// Incidents whose latest state is not resolved, most recently updated first.
    pub active: Vec<PublicIncident>,
    /// Incidents resolved within the history's days, most recently resolved first.
    pub past: Vec<PublicIncident>,
    /// The newest update's time, if there is any.
    pub updated_at: Option<Millis>,
}

/// A stretch of an incident between two of its updates.
struct Stretch<'a> {
    from: Millis,
    until: Millis,
    state: PublicState,
    impact: Impact,
    components: &'a [ComponentId],
}

/// The first day of the history, in the plan's time zone.
fn first_day(now: Millis, zone: &TimeZone) -> Date {
    let today = day_of(zone, now);
    let back = i64::try_from(HISTORY_DAYS - 1).unwrap_or(0);
    today.checked_sub(Span::new().days(back)).unwrap_or(today)
}

/// When the history begins: the start of its first day in the plan's time zone. Incidents
/// resolved before it are no longer shown.
pub(crate) fn history_start(now: Millis, zone: &TimeZone) -> Millis {
    midnight(zone, first_day(now, zone))
}

impl Summary {
    /// The page's state at `now` from the published updates `events` (as the store returns them:
    /// any order is accepted, other kinds of events are ignored), days counted in `zone`.
    pub(crate) fn build(
        page: Option<&StatusPage>,
        events: &[Event],
        now: Millis,
        zone: &TimeZone,
    ) -> Summary {
        let first = first_day(now, zone);
        let start = history_start(now, zone);
        let days: Vec<Date> = first
            .series(Span::new().days(1))
            .take(HISTORY_DAYS)
            .collect();
        let index_of = |at: Millis| -> i64 {
            first
                .until(day_of(zone, at))
                .map_or(0, |span| i64::from(span.get_days()))
        };

        let mut by_incident: BTreeMap<&IncidentId, Vec<&Event>> = BTreeMap::new();
        for event in events {
            if matches!(event.kind, EventKind::UpdatePublished { .. }) {
                by_incident.entry(&event.incident).or_default().push(event);
            }
        }

        let mut components: Vec<ComponentStatus> = page
            .map(|page| {
                page.components
                    .iter()
                    .map(|component| ComponentStatus {
                        id: component.id.clone(),
                        name: component.name.clone(),
                        description: component.description.clone(),
                        impact: None,
                        days: vec![None; days.len()],
                    })
                    .collect()
            })
            .unwrap_or_default();

        let mut active = Vec::new();
        let mut past = Vec::new();
        let mut updated_at: Option<Millis> = None;
        for (id, mut updates) in by_incident {
            updates.sort_by_key(|event| event.seq);
            let mut stretches: Vec<Stretch> = Vec::with_capacity(updates.len());
            let mut named: &[ComponentId] = &[];
            let mut incident: Option<PublicIncident> = None;
            for (position, event) in updates.iter().enumerate() {
                let EventKind::UpdatePublished {
                    state,
                    title,
                    message,
                    components,
                    impact,
                } = &event.kind
                else {
                    continue;
                };
                if !components.is_empty() {
                    named = components;
                }
                let until = updates
                    .get(position + 1)
                    .map_or(now, |next| next.at)
                    .max(event.at);
                stretches.push(Stretch {
                    from: event.at,
                    until,
                    state: *state,
                    impact: *impact,
                    components: named,
                });
                let update = Update {
                    seq: event.seq,
                    at: event.at,
                    state: *state,
                    message: message.clone(),
                };
                let current = incident.get_or_insert_with(|| PublicIncident {
                    id: id.clone(),
                    title: String::new(),
                    state: *state,
                    impact: *impact,
                    components: Vec::new(),
                    started_at: event.at,
                    updated_at: event.at,
                    updates: Vec::new(),
                });
                current.title.clone_from(title);
                current.state = *state;
                current.impact = *impact;
                current.components = named.to_vec();
                current.updated_at = event.at;
                current.updates.push(update);
                updated_at = Some(updated_at.map_or(event.at, |newest| newest.max(event.at)));
            }
            let Some(mut incident) = incident else {
                continue;
            };
            incident.updates.reverse();

            for stretch in stretches
                .iter()
                .filter(|stretch| stretch.state != PublicState::Resolved)
            {
                let from = index_of(stretch.from).max(0);
                let last = index_of((stretch.until - 1).max(stretch.from))
                    .min(i64::try_from(days.len()).unwrap_or(0) - 1);
                for component in components
                    .iter_mut()
                    .filter(|component| stretch.components.contains(&component.id))
                {
                    for day in from..=last {
                        if let Some(cell) = usize::try_from(day)
                            .ok()
                            .and_then(|day| component.days.get_mut(day))
                        {
                            *cell = (*cell).max(Some(stretch.impact));
                        }
                    }
                }
            }

            if incident.state != PublicState::Resolved {
                active.push(incident);
            } else if incident.updated_at >= start {
                past.push(incident);
            }
        }

        for incident in &active {
            for component in components
                .iter_mut()
                .filter(|component| incident.components.contains(&component.id))
            {
                component.impact = component.impact.max(Some(incident.impact));
            }
        }
        let status = active.iter().map(PublicIncident::overall_impact).max();
        active.sort_by(|a, b| (b.updated_at, &b.id).cmp(&(a.updated_at, &a.id)));
        past.sort_by(|a, b| (b.updated_at, &b.id).cmp(&(a.updated_at, &a.id)));

        Summary {
            status,
            components,
            days,
            active,
            past,
            updated_at,
        }
    }
}

/// What one request reads: the running plan, the page's updates and their summary.
struct Published {
    running: Arc<RunningPlan>,
    times: Times,
    now: Millis,
    events: Vec<Event>,
    summary: Summary,
}

impl Published {
    async fn load(engine: &Engine) -> Result<Self, StoreError> {
        let running = engine.plan();
        let times = Times::of(engine);
        let now = engine.now();
        let events = engine
            .store()
            .published(history_start(now, times.zone()))
            .await?;
        let summary = Summary::build(
            running.plan.status_page.as_ref(),
            &events,
            now,
            times.zone(),
        );
        Ok(Self {
            running,
            times,
            now,
            events,
            summary,
        })
    }

    /// The page's title: the status page's own, else the organization's name.
    fn title(&self) -> String {
        self.running.plan.status_page.as_ref().map_or_else(
            || format!("{} status", self.running.plan.organization.name),
            |page| page.title.clone(),
        )
    }

    /// The incident's latest post-mortem published on the status page: when, and its text.
    fn postmortem_of(&self, id: &IncidentId) -> Option<(&Event, &str)> {
        self.events
            .iter()
            .filter(|event| &event.incident == id)
            .filter_map(|event| match &event.kind {
                EventKind::PostmortemPublished {
                    public: true,
                    markdown: Some(markdown),
                    ..
                } => Some((event, markdown.as_str())),
                _ => None,
            })
            .max_by_key(|(event, _)| event.seq)
    }

    /// A component's name on the page (its id when the plan no longer has it).
    fn component_name(&self, id: &ComponentId) -> String {
        self.running
            .plan
            .status_page
            .as_ref()
            .and_then(|page| page.components.iter().find(|component| &component.id == id))
            .map_or_else(|| id.to_string(), |component| component.name.clone())
    }
}

fn status_class(impact: Option<Impact>) -> &'static str {
    impact.map_or("operational", Impact::as_str)
}

fn status_text(impact: Option<Impact>) -> &'static str {
    impact.map_or("Operational", Impact::title)
}

fn banner_text(impact: Option<Impact>) -> &'static str {
    impact.map_or("All systems operational", Impact::title)
}

fn fresh(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn storage_failed(error: &StoreError) -> Response {
    tracing::error!(%error, "the status page could not be read");
    plain_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Status unavailable",
        "The status could not be read just now; try again in a moment.",
    )
}

#[derive(Debug)]
struct UpdateRow {
    state: &'static str,
    state_class: &'static str,
    message: String,
    shown: String,
    iso: String,
}

#[derive(Debug)]
struct IncidentRow {
    anchor: String,
    title: String,
    /// Where its public post-mortem is, if it has one.
    postmortem: Option<String>,
    state: &'static str,
    impact: &'static str,
    impact_class: &'static str,
    components: String,
    updates: Vec<UpdateRow>,
}

#[derive(Debug)]
struct ComponentRow {
    id: String,
    name: String,
    description: Option<String>,
    status: &'static str,
    class: &'static str,
}

#[derive(Debug)]
struct DayCell {
    class: &'static str,
    label: String,
}

#[derive(Debug)]
struct HistoryRow {
    id: String,
    name: String,
    cells: Vec<DayCell>,
    /// `No incidents`, `3 days with incidents`.
    note: String,
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusHtml {
    title: String,
    organization: String,
    banner: &'static str,
    banner_class: &'static str,
    components: Vec<ComponentRow>,
    active: Vec<IncidentRow>,
    history: Vec<HistoryRow>,
    first_day: String,
    past: Vec<IncidentRow>,
    updated: String,
    updated_iso: String,
    zone: String,
}

impl Published {
    fn incident_row(&self, incident: &PublicIncident) -> IncidentRow {
        let names: Vec<String> = incident
            .components
            .iter()
            .map(|id| self.component_name(id))
            .collect();
        IncidentRow {
            anchor: incident.id.to_string(),
            title: incident.title.clone(),
            postmortem: self
                .postmortem_of(&incident.id)
                .map(|_| format!("/status/incidents/{}/postmortem", incident.id)),
            state: incident.state.title(),
            impact: incident.impact.title(),
            impact_class: if incident.state == PublicState::Resolved {
                "resolved"
            } else {
                incident.impact.as_str()
            },
            components: names.join(", "),
            updates: incident
                .updates
                .iter()
                .map(|update| UpdateRow {
                    state: update.state.title(),
                    state_class: update.state.as_str(),
                    message: update.message.clone(),
                    shown: self.times.show(update.at),
                    iso: Times::iso(update.at),
                })
                .collect(),
        }
    }

    fn html(&self) -> StatusHtml {
        let summary = &self.summary;
        let history = summary
            .components
            .iter()
            .map(|component| {
                let cells: Vec<DayCell> = summary
                    .days
                    .iter()
                    .zip(&component.days)
                    .map(|(day, impact)| DayCell {
                        class: status_class(*impact),
                        label: format!("{day}: {}", status_text(*impact)),
                    })
                    .collect();
                let troubled = component.days.iter().filter(|day| day.is_some()).count();
                HistoryRow {
                    id: component.id.to_string(),
                    name: component.name.clone(),
                    cells,
                    note: match troubled {
                        0 => "No incidents".to_owned(),
                        1 => "1 day with incidents".to_owned(),
                        n => format!("{n} days with incidents"),
                    },
                }
            })
            .collect();
        StatusHtml {
            title: self.title(),
            organization: self.running.plan.organization.name.clone(),
            banner: banner_text(summary.status),
            banner_class: status_class(summary.status),
            components: summary
                .components
                .iter()
                .map(|component| ComponentRow {
                    id: component.id.to_string(),
                    name: component.name.clone(),
                    description: component.description.clone(),
                    status: status_text(component.impact),
                    class: status_class(component.impact),
                })
                .collect(),
            active: summary
                .active
                .iter()
                .map(|incident| self.incident_row(incident))
                .collect(),
            history,
            first_day: summary
                .days
                .first()
                .map(ToString::to_string)
                .unwrap_or_default(),
            past: summary
                .past
                .iter()
                .map(|incident| self.incident_row(incident))
                .collect(),
            updated: self.times.show(self.now),
            updated_iso: Times::iso(self.now),
            zone: self.times.zone().iana_name().unwrap_or("UTC").to_owned(),
        }
    }
}

/// `GET /status`: the page.
pub(crate) async fn page(State(engine): State<Arc<Engine>>) -> Response {
    let published = match Published::load(&engine).await {
        Ok(published) => published,
        Err(error) => return storage_failed(&error),
    };
    let mut response = fresh(render(&published.html()));
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response
}

#[derive(Debug)]
struct FeedEntry {
    id: String,
    title: String,
    updated: String,
    link: String,
    content: String,
}

#[derive(Template)]
#[template(path = "status_feed.xml")]
struct StatusFeed {
    id: String,
    title: String,
    organization: String,
    updated: String,
    self_url: String,
    page_url: String,
    entries: Vec<FeedEntry>,
}

/// Text as XML 1.0 allows it: characters it cannot carry at all (most control characters),
/// even escaped, are dropped. Escaping itself is the template's.
fn xml_text(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
        })
        .collect()
}

impl Published {
    /// Where this server's page is, for links in the feed.
    fn base_url(engine: &Engine) -> String {
        engine.options().public_url.trim_end_matches('/').to_owned()
    }

    fn feed(&self, base: &str) -> StatusFeed {
        let page_url = self
            .running
            .plan
            .organization
            .status_page_url
            .clone()
            .unwrap_or_else(|| format!("{base}/status"));
        let mut updates: Vec<&Event> = self
            .events
            .iter()
            .filter(|event| {
                matches!(
                    event.kind,
                    EventKind::UpdatePublished { .. }
                        | EventKind::PostmortemPublished {
                            public: true,
                            markdown: Some(_),
                            ..
                        }
                )
            })
            .collect();
        updates.sort_by(|a, b| (b.at, &b.incident, b.seq).cmp(&(a.at, &a.incident, a.seq)));
        let entries = updates
            .iter()
            .take(FEED_ENTRIES)
            .filter_map(|event| {
                if let EventKind::PostmortemPublished {
                    markdown: Some(markdown),
                    ..
                } = &event.kind
                {
                    return Some(FeedEntry {
                        id: format!("urn:muster:{}:{}", event.incident, event.seq),
                        title: xml_text(&format!(
                            "{} \u{2014} Post-mortem",
                            self.public_title(&event.incident)
                        )),
                        updated: Times::iso(event.at),
                        link: format!("{base}/status/incidents/{}/postmortem", event.incident),
                        content: xml_text(markdown),
                    });
                }
                let EventKind::UpdatePublished {
                    state,
                    title,
                    message,
                    ..
                } = &event.kind
                else {
                    return None;
                };
                Some(FeedEntry {
                    id: format!("urn:muster:{}:{}", event.incident, event.seq),
                    title: xml_text(&format!("{title} \u{2014} {}", state.title())),
                    updated: Times::iso(event.at),
                    link: format!("{page_url}#{}", event.incident),
                    content: xml_text(message),
                })
            })
            .collect();
        StatusFeed {
            id: page_url.clone(),
            title: xml_text(&self.title()),
            organization: xml_text(&self.running.plan.organization.name),
            updated: Times::iso(self.summary.updated_at.unwrap_or(self.now)),
            self_url: format!("{base}/status/feed.atom"),
            page_url,
            entries,
        }
    }
}

/// `GET /status/feed.atom`: every published update as an Atom entry, newest first.
pub(crate) async fn feed(State(engine): State<Arc<Engine>>) -> Response {
    let published = match Published::load(&engine).await {
        Ok(published) => published,
        Err(error) => return storage_failed(&error),
    };
    let feed = published.feed(&Published::base_url(&engine));
    let mut response = render(&feed);
    if response.status().is_success() {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/atom+xml; charset=utf-8"),
        );
    }
    fresh(response)
}

impl Published {
    /// The title the status page shows for an incident: its latest update's.
    fn public_title(&self, id: &IncidentId) -> String {
        self.summary
            .active
            .iter()
            .chain(&self.summary.past)
            .find(|incident| &incident.id == id)
            .map_or_else(|| id.to_string(), |incident| incident.title.clone())
    }
}

#[derive(Template)]
#[template(path = "status_postmortem.html")]
struct PostmortemHtml {
    page_title: String,
    title: String,
    organization: String,
    html: String,
    published: String,
    published_iso: String,
    zone: String,
}

/// `GET /status/incidents/{id}/postmortem`: the incident's public post-mortem, else a 404.
pub(crate) async fn postmortem(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
) -> Response {
    let published = match Published::load(&engine).await {
        Ok(published) => published,
        Err(error) => return storage_failed(&error),
    };
    let found = id
        .parse::<IncidentId>()
        .ok()
        .and_then(|id| published.postmortem_of(&id).map(|found| (id, found)));
    let mut response = match found {
        Some((id, (event, markdown))) => render(&PostmortemHtml {
            page_title: published.title(),
            title: published.public_title(&id),
            organization: published.running.plan.organization.name.clone(),
            html: markdown_html(markdown),
            published: published.times.show(event.at),
            published_iso: Times::iso(event.at),
            zone: published
                .times
                .zone()
                .iana_name()
                .unwrap_or("UTC")
                .to_owned(),
        }),
        None => plain_error(
            StatusCode::NOT_FOUND,
            "No such post-mortem",
            "No post-mortem is published for this incident on the status page.",
        ),
    };
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    fresh(response)
}

/// `GET /status/summary.json`.
#[derive(Debug, Serialize)]
struct SummaryBody {
    page: PageBody,
    status: StatusBody,
    components: Vec<ComponentBody>,
    incidents: Vec<IncidentBody>,
}

#[derive(Debug, Serialize)]
struct PageBody {
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    updated_at: String,
}

#[derive(Debug, Serialize)]
struct StatusBody {
    /// `none`, `degraded`, `partial_outage` or `major_outage`.
    indicator: &'static str,
    description: &'static str,
}

#[derive(Debug, Serialize)]
struct ComponentBody {
    id: ComponentId,
    name: String,
    status: &'static str,
}

#[derive(Debug, Serialize)]
struct IncidentBody {
    id: IncidentId,
    title: String,
    state: PublicState,
    impact: Impact,
    components: Vec<ComponentId>,
    started_at: String,
    updated_at: String,
    updates: Vec<UpdateBody>,
}

#[derive(Debug, Serialize)]
struct UpdateBody {
    state: PublicState,
    message: String,
    at: String,
}

impl Published {
    fn body(&self) -> SummaryBody {
        let summary = &self.summary;
        SummaryBody {
            page: PageBody {
                title: self.title(),
                url: self.running.plan.organization.status_page_url.clone(),
                updated_at: Times::iso(summary.updated_at.unwrap_or(self.now)),
            },
            status: StatusBody {
                indicator: summary.status.map_or("none", Impact::as_str),
                description: banner_text(summary.status),
            },
            components: summary
                .components
                .iter()
                .map(|component| ComponentBody {
                    id: component.id.clone(),
                    name: component.name.clone(),
                    status: status_class(component.impact),
                })
                .collect(),
            incidents: summary
                .active
                .iter()
                .map(|incident| IncidentBody {
                    id: incident.id.clone(),
                    title: incident.title.clone(),
                    state: incident.state,
                    impact: incident.impact,
                    components: incident.components.clone(),
                    started_at: Times::iso(incident.started_at),
                    updated_at: Times::iso(incident.updated_at),
                    updates: incident
                        .updates
                        .iter()
                        .map(|update| UpdateBody {
                            state: update.state,
                            message: update.message.clone(),
                            at: Times::iso(update.at),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// `GET /status/summary.json`: the page as JSON, for widgets and scripts; readable from any
/// site, as it is public and carries no credentials.
pub(crate) async fn summary(State(engine): State<Arc<Engine>>) -> Response {
    let published = match Published::load(&engine).await {
        Ok(published) => published,
        Err(error) => {
            tracing::error!(%error, "the status summary could not be read");
            return ApiError::storage(&error).into_response();
        }
    };
    let mut response = fresh(Json(published.body()).into_response());
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    use muster_core::plan::Component;

    const HOUR: Millis = 3_600_000;
    const DAY: Millis = 24 * HOUR;

    fn at(time: &str) -> Millis {
        time.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn page() -> StatusPage {
        StatusPage {
            title: "Harbor Status".to_owned(),
            components: ["vaults", "oracles", "app"]
                .into_iter()
                .map(|id| Component {
                    id: ComponentId::from(id),
                    name: id.to_uppercase(),
                    description: None,
                })
                .collect(),
        }
    }

    fn incident(number: u32) -> IncidentId {
        IncidentId::new(jiff::civil::date(2026, 1, 1), number)
    }

    fn update(
        incident: &IncidentId,
        seq: u64,
        at: Millis,
        state: PublicState,
        impact: Impact,
        components: &[&str],
    ) -> Event {
        Event {
            incident: incident.clone(),
            seq,
            at,
            actor: "responder".to_owned(),
            kind: EventKind::UpdatePublished {
                state,
                title: format!("Incident {}", incident.number),
                message: format!("update {seq}"),
                components: components.iter().copied().map(ComponentId::from).collect(),
                impact,
            },
            hash: String::new(),
        }
    }

    fn component<'a>(summary: &'a Summary, id: &str) -> &'a ComponentStatus {
        summary
            .components
            .iter()
            .find(|component| component.id.as_str() == id)
            .unwrap()
    }

    /// The impact on `id` on `day`, from the history.
    fn on_day(summary: &Summary, id: &str, day: Date) -> Option<Impact> {
        let index = summary.days.iter().position(|d| *d == day).unwrap();
        component(summary, id).days[index]
    }

    #[test]
    fn nothing_published_means_all_systems_operational() {
        let summary = Summary::build(
            Some(&page()),
            &[],
            at("2026-05-01T12:00:00Z"),
            &TimeZone::UTC,
        );
        assert_eq!(summary.status, None);
        assert_eq!(banner_text(summary.status), "All systems operational");
        assert!(summary.components.iter().all(|c| c.impact.is_none()));
        assert!(summary.active.is_empty() && summary.past.is_empty());
        assert_eq!(summary.days.len(), HISTORY_DAYS);
        assert_eq!(*summary.days.last().unwrap(), jiff::civil::date(2026, 5, 1));
        assert_eq!(summary.days[0], jiff::civil::date(2026, 2, 1));
        assert!(
            summary
                .components
                .iter()
                .all(|c| c.days.iter().all(Option::is_none))
        );
        assert_eq!(summary.updated_at, None);
    }

    #[test]
    fn days_follow_the_plan_time_zone_across_a_daylight_saving_change() {
        // Berlin moves from CET (+01:00) to CEST (+02:00) on 29 March 2026; the history's days
        // are Berlin's calendar days on both sides of the change.
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let now = at("2026-03-30T12:00:00+02:00");
        let id = incident(1);
        let events = [
            // 00:30 on the 30th in Berlin is still the 29th in UTC, and is before a day
            // boundary counted in fixed 24-hour steps from the window's CET midnight.
            update(
                &id,
                2,
                at("2026-03-30T00:30:00+02:00"),
                PublicState::Investigating,
                Impact::MajorOutage,
                &["vaults"],
            ),
            update(
                &id,
                3,
                at("2026-03-30T01:00:00+02:00"),
                PublicState::Resolved,
                Impact::MajorOutage,
                &["vaults"],
            ),
        ];
        let summary = Summary::build(Some(&page()), &events, now, &berlin);
        assert_eq!(summary.days.len(), HISTORY_DAYS);
        assert_eq!(
            *summary.days.last().unwrap(),
            jiff::civil::date(2026, 3, 30)
        );
        assert!(
            summary
                .days
                .windows(2)
                .all(|pair| pair[0].tomorrow().unwrap() == pair[1]),
            "consecutive days"
        );
        assert_eq!(
            on_day(&summary, "vaults", jiff::civil::date(2026, 3, 30)),
            Some(Impact::MajorOutage)
        );
        assert_eq!(
            on_day(&summary, "vaults", jiff::civil::date(2026, 3, 29)),
            None
        );

        // Just before midnight on the day of the change stays on that day.
        let id = incident(2);
        let events = [
            update(
                &id,
                2,
                at("2026-03-29T23:40:00+02:00"),
                PublicState::Investigating,
                Impact::Degraded,
                &["oracles"],
            ),
            update(
                &id,
                3,
                at("2026-03-29T23:50:00+02:00"),
                PublicState::Resolved,
                Impact::Degraded,
                &["oracles"],
            ),
        ];
        let summary = Summary::build(Some(&page()), &events, now, &berlin);
        assert_eq!(
            on_day(&summary, "oracles", jiff::civil::date(2026, 3, 29)),
            Some(Impact::Degraded)
        );
        assert_eq!(
            on_day(&summary, "oracles", jiff::civil::date(2026, 3, 30)),
            None
        );

        // The history starts at Berlin's midnight (CET, before the change) 89 days back.
        assert_eq!(history_start(now, &berlin), at("2025-12-31T00:00:00+01:00"));
    }

    #[test]
    fn an_incident_colours_every_day_it_was_active_until_today() {
        let now = at("2026-05-10T12:00:00Z");
        let id = incident(1);
        let events = [update(
            &id,
            2,
            now - 3 * DAY,
            PublicState::Investigating,
            Impact::PartialOutage,
            &["app"],
        )];
        let summary = Summary::build(Some(&page()), &events, now, &TimeZone::UTC);
        let app = component(&summary, "app");
        let coloured: Vec<usize> = (0..HISTORY_DAYS)
            .filter(|&day| app.days[day].is_some())
            .collect();
        assert_eq!(coloured, vec![86, 87, 88, 89]);
        assert!(
            component(&summary, "vaults")
                .days
                .iter()
                .all(Option::is_none)
        );
    }

    #[test]
    fn the_worst_impact_of_active_incidents_sets_components_and_the_banner() {
        let now = at("2026-05-10T12:00:00Z");
        let (a, b) = (incident(1), incident(2));
        let events = [
            update(
                &a,
                2,
                now - 5 * HOUR,
                PublicState::Investigating,
                Impact::Degraded,
                &["vaults", "oracles"],
            ),
            update(
                &b,
                2,
                now - 4 * HOUR,
                PublicState::Identified,
                Impact::MajorOutage,
                &["vaults"],
            ),
        ];
        let summary = Summary::build(Some(&page()), &events, now, &TimeZone::UTC);
        assert_eq!(
            component(&summary, "vaults").impact,
            Some(Impact::MajorOutage)
        );
        assert_eq!(
            component(&summary, "oracles").impact,
            Some(Impact::Degraded)
        );
        assert_eq!(component(&summary, "app").impact, None);
        assert_eq!(summary.status, Some(Impact::MajorOutage));
        assert_eq!(banner_text(summary.status), "Major outage");
        assert_eq!(
            summary
                .active
                .iter()
                .map(|i| i.id.clone())
                .collect::<Vec<_>>(),
            vec![b.clone(), a.clone()],
            "most recently updated first"
        );

        // A later update lowers the impact: the latest one counts, not the worst ever.
        let mut events = events.to_vec();
        events.push(update(
            &b,
            3,
            now - HOUR,
            PublicState::Monitoring,
            Impact::PartialOutage,
            &["vaults"],
        ));
        let summary = Summary::build(Some(&page()), &events, now, &TimeZone::UTC);
        assert_eq!(
            component(&summary, "vaults").impact,
            Some(Impact::PartialOutage)
        );
        assert_eq!(summary.status, Some(Impact::PartialOutage));
        // Today's cell keeps the worst of the day.
        assert_eq!(
            on_day(&summary, "vaults", jiff::civil::date(2026, 5, 10)),
            Some(Impact::MajorOutage)
        );

        // An incident naming no component counts as degraded, whatever impact it gives.
        let c = incident(3);
        let events = [update(
            &c,
            2,
            now - HOUR,
            PublicState::Investigating,
            Impact::MajorOutage,
            &[],
        )];
        let summary = Summary::build(Some(&page()), &events, now, &TimeZone::UTC);
        assert_eq!(summary.status, Some(Impact::Degraded));
        assert!(summary.components.iter().all(|c| c.impact.is_none()));
    }

    #[test]
    fn an_update_naming_no_components_keeps_those_named_before() {
        let now = at("2026-05-10T12:00:00Z");
        let id = incident(1);
        let events = [
            update(
                &id,
                2,
                now - 2 * HOUR,
                PublicState::Investigating,
                Impact::PartialOutage,
                &["oracles"],
            ),
            update(
                &id,
                5,
                now - HOUR,
                PublicState::Identified,
                Impact::PartialOutage,
                &[],
            ),
        ];
        let summary = Summary::build(Some(&page()), &events, now, &TimeZone::UTC);
        assert_eq!(
            summary.active[0].components,
            vec![ComponentId::from("oracles")]
        );
        assert_eq!(
            component(&summary, "oracles").impact,
            Some(Impact::PartialOutage)
        );
        assert_eq!(summary.active[0].state, PublicState::Identified);
        assert_eq!(
            summary.active[0]
                .updates
                .iter()
                .map(|u| u.seq)
                .collect::<Vec<_>>(),
            vec![5, 2],
            "newest first"
        );
        assert_eq!(summary.active[0].started_at, now - 2 * HOUR);
        assert_eq!(summary.active[0].updated_at, now - HOUR);
        assert_eq!(summary.updated_at, Some(now - HOUR));
    }

    #[test]
    fn resolved_incidents_leave_the_active_list_for_past_incidents() {
        let now = at("2026-05-10T12:00:00Z");
        let (a, b) = (incident(1), incident(2));
        let events = [
            update(
                &a,
                2,
                now - 3 * DAY,
                PublicState::Investigating,
                Impact::MajorOutage,
                &["vaults"],
            ),
            update(
                &b,
                2,
                now - 2 * DAY,
                PublicState::Investigating,
                Impact::Degraded,
                &["app"],
            ),
            update(
                &a,
                4,
                now - 2 * DAY + HOUR,
                PublicState::Resolved,
                Impact::MajorOutage,
                &["vaults"],
            ),
            update(
                &b,
                3,
                now - DAY,
                PublicState::Resolved,
                Impact::Degraded,
                &["app"],
            ),
        ];
        let summary = Summary::build(Some(&page()), &events, now, &TimeZone::UTC);
        assert!(summary.active.is_empty());
        assert_eq!(summary.status, None);
        assert_eq!(component(&summary, "vaults").impact, None);
        assert_eq!(
            summary
                .past
                .iter()
                .map(|i| i.id.clone())
                .collect::<Vec<_>>(),
            vec![b, a],
            "most recently resolved first"
        );
        assert_eq!(summary.past[1].updates.len(), 2);
        // The history still shows the days it was out, and not after it was resolved.
        let vaults = component(&summary, "vaults");
        assert_eq!(
            &vaults.days[86..],
            &[
                Some(Impact::MajorOutage),
                Some(Impact::MajorOutage),
                None,
                None
            ]
        );
    }

    #[test]
    fn an_incident_resolved_91_days_ago_is_not_in_the_history() {
        let now = at("2026-05-10T12:00:00Z");
        let (old, recent) = (incident(1), incident(2));
        let events = [
            update(
                &old,
                2,
                now - 95 * DAY,
                PublicState::Investigating,
                Impact::MajorOutage,
                &["vaults"],
            ),
            update(
                &old,
                3,
                now - 91 * DAY,
                PublicState::Resolved,
                Impact::MajorOutage,
                &["vaults"],
            ),
            update(
                &recent,
                2,
                now - 92 * DAY,
                PublicState::Investigating,
                Impact::PartialOutage,
                &["oracles"],
            ),
            update(
                &recent,
                3,
                now - 89 * DAY,
                PublicState::Resolved,
                Impact::PartialOutage,
                &["oracles"],
            ),
        ];
        let summary = Summary::build(Some(&page()), &events, now, &TimeZone::UTC);
        assert_eq!(
            summary
                .past
                .iter()
                .map(|i| i.id.clone())
                .collect::<Vec<_>>(),
            vec![recent]
        );
        assert!(
            component(&summary, "vaults")
                .days
                .iter()
                .all(Option::is_none)
        );
        // The one resolved within the window shows from the window's first day to its end.
        let oracles = component(&summary, "oracles");
        assert_eq!(oracles.days[0], Some(Impact::PartialOutage));
        assert_eq!(oracles.days[1], None);
        assert!(summary.active.is_empty());
    }

    #[test]
    fn without_a_status_page_active_incidents_still_show() {
        let now = at("2026-05-10T12:00:00Z");
        let id = incident(1);
        let events = [update(
            &id,
            2,
            now - HOUR,
            PublicState::Investigating,
            Impact::PartialOutage,
            &["vaults"],
        )];
        let summary = Summary::build(None, &events, now, &TimeZone::UTC);
        assert!(summary.components.is_empty());
        assert_eq!(summary.active.len(), 1);
        assert_eq!(summary.status, Some(Impact::PartialOutage));
    }

    #[test]
    fn other_events_are_never_read() {
        let now = at("2026-05-10T12:00:00Z");
        let id = incident(1);
        let note = Event {
            incident: id.clone(),
            seq: 3,
            at: now - HOUR,
            actor: "responder".to_owned(),
            kind: EventKind::NoteAdded {
                text: "internal".to_owned(),
            },
            hash: String::new(),
        };
        let summary = Summary::build(Some(&page()), &[note], now, &TimeZone::UTC);
        assert_eq!(
            summary,
            Summary::build(Some(&page()), &[], now, &TimeZone::UTC)
        );
    }

    #[test]
    fn feed_text_drops_what_xml_cannot_carry() {
        assert_eq!(xml_text("a\u{0}b\u{8}c\td\ne"), "abc\td\ne");
        assert_eq!(
            xml_text("<script>"),
            "<script>",
            "escaping is the template's"
        );
    }
}
