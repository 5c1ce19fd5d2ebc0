//! What follows the first page, in the UI: on the incident page the audiences owed updates and
//! the message form, the deadlines, the root cause and action items, and where the post-mortem
//! stands; the post-mortem editor (`/incidents/{id}/postmortem`); the action items across
//! incidents (`/action-items`); and the Markdown rendering a post-mortem is shown with.
//!
//! Every change is an engine command sent through the incident page's `act`, so the API's
//! rules and role checks apply unchanged; this module only reads and shows.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use muster_core::incident::comms::{self, Cadence, Deadline, DeadlineSource};
use muster_core::incident::{ActionItem, ActionStatus, Horizon, Incident, IncidentId, Millis};
use muster_core::plan::render::harmless_url;
use muster_core::plan::values::{Target, TargetKind};
use muster_core::plan::{Channel, ChannelId, Plan, TemplateId};
use muster_engine::{Engine, EngineError, IncidentView};
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

use crate::ui::{
    ActionForm, Chrome, Session, Times, day_of, duration, person_name, refused, render,
};

// ---------------------------------------------------------------------------------------------
// Markdown

/// A post-mortem (or any Markdown a responder wrote) as HTML: tables, strikethrough and task
/// lists. Nothing in it reaches the page as markup of its own: raw HTML is shown as text,
/// images become links to them (nothing is loaded from elsewhere), and links may only use
/// schemes that cannot run code.
pub(crate) fn markdown_html(source: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(source, options).map(neutralize);
    let mut html = String::with_capacity(source.len() + source.len() / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

fn neutralize(event: Event<'_>) -> Event<'_> {
    match event {
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
        Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
        Event::Start(
            Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }
            | Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            },
        ) => Event::Start(Tag::Link {
            link_type,
            dest_url: if harmless_url(&dest_url) {
                dest_url
            } else {
                CowStr::Borrowed("#")
            },
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// The incident page's sections

/// Who a plan reference stands for on this incident: "Incident commander: Alice Example".
fn owner_text(plan: &Plan, incident: &Incident, target: Option<&Target>) -> String {
    let Some(target) = target else {
        return "nobody named".to_owned();
    };
    let names: Vec<String> = comms::people(plan, incident, target)
        .iter()
        .map(|person| person_name(plan, person.as_str()))
        .collect();
    let label = match target.kind {
        TargetKind::Role => plan.role(&target.id).map(|role| role.name.clone()),
        TargetKind::Team => plan.team(&target.id).map(|team| team.name.clone()),
        TargetKind::Schedule => plan
            .schedule(&target.id)
            .map(|schedule| schedule.name.clone().unwrap_or_else(|| target.id.clone())),
        TargetKind::Person | TargetKind::Channel => None,
    };
    match (label, names.is_empty()) {
        (Some(label), false) => format!("{label}: {}", names.join(", ")),
        (Some(label), true) => label,
        (None, false) => names.join(", "),
        (None, true) => target.to_string(),
    }
}

/// A channel as the communications show it: its id, and how a message gets there when Muster
/// does not post it itself.
fn channel_text(plan: &Plan, channel: &ChannelId) -> String {
    match plan.channels.get(channel) {
        Some(Channel::Manual { .. }) => format!("{channel} (post by hand)"),
        Some(Channel::StatusPage {}) => format!("{channel} (use the status page form)"),
        _ => channel.to_string(),
    }
}

fn channels_text(plan: &Plan, channels: &[ChannelId]) -> String {
    if channels.is_empty() {
        return "no channel".to_owned();
    }
    channels
        .iter()
        .map(|channel| channel_text(plan, channel))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `due in 12m` or `overdue by 5m`.
fn relative(due: Millis, now: Millis) -> String {
    if now > due {
        format!("overdue by {}", duration(now - due))
    } else {
        format!("due in {}", duration(due - now))
    }
}

/// An element id made from free text (audiences, deadline keys).
fn anchor(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// One audience owed updates.
#[derive(Debug)]
pub(crate) struct CadenceView {
    pub anchor: String,
    pub audience: String,
    pub every: String,
    pub last: String,
    pub due: String,
    pub due_iso: String,
    /// `overdue` when the update is late.
    pub class: &'static str,
    pub owner: String,
    pub channels: String,
}

impl CadenceView {
    fn of(cadence: &Cadence, plan: &Plan, incident: &Incident, times: &Times, now: Millis) -> Self {
        let late = cadence.overdue || now > cadence.due_at;
        Self {
            anchor: anchor(&cadence.audience),
            audience: cadence.audience.clone(),
            every: cadence.every_text.clone(),
            last: if cadence.last == incident.declared_at {
                format!("none since the declaration, {}", times.show(cadence.last))
            } else {
                format!(
                    "{} ({} ago)",
                    times.show(cadence.last),
                    duration(now - cadence.last)
                )
            },
            due: relative(cadence.due_at, now),
            due_iso: Times::iso(cadence.due_at),
            class: if late { "overdue" } else { "" },
            owner: owner_text(plan, incident, cadence.owner.as_ref()),
            channels: channels_text(plan, &cadence.channels),
        }
    }
}

/// One deadline running (or waiting to start) for the incident.
#[derive(Debug)]
pub(crate) struct DeadlineView {
    pub anchor: String,
    pub key: String,
    pub title: String,
    pub rule: String,
    /// Absolute in the plan's zone and relative, or when it starts.
    pub due: String,
    pub state: String,
    /// `met`, `missed`, `overdue` or empty.
    pub class: &'static str,
    pub owner: String,
    pub authority: String,
    pub content: String,
    /// For a due message: the audience and its channels.
    pub message: String,
    pub met: bool,
}

/// The event a rule's anchor names, in words: `resolved+2d` starts at "resolution".
fn anchor_words(rule: &str) -> &'static str {
    let name: String = rule.chars().take_while(char::is_ascii_alphabetic).collect();
    match name.as_str() {
        "started" => "the start",
        "detected" => "detection",
        "declared" => "declaration",
        "acknowledged" => "acknowledgement",
        "mitigated" => "mitigation",
        "resolved" => "resolution",
        "closed" => "closing",
        _ => "its anchor",
    }
}

impl DeadlineView {
    fn of(
        deadline: &Deadline,
        plan: &Plan,
        incident: &Incident,
        times: &Times,
        now: Millis,
    ) -> Self {
        let due = match (deadline.due_at, deadline.met_at) {
            (Some(at), Some(_)) => times.show(at),
            (Some(at), None) => format!("{} ({})", times.show(at), relative(at, now)),
            (None, _) => format!("starts at {}", anchor_words(&deadline.rule)),
        };
        let (state, class) = match deadline.met_at {
            Some(at) => (format!("met {}", times.show(at)), "met"),
            None if deadline.missed => ("missed".to_owned(), "missed"),
            None if deadline.overdue(now) => ("overdue".to_owned(), "overdue"),
            None if deadline.due_at.is_some() => ("running".to_owned(), ""),
            None => ("not started yet".to_owned(), ""),
        };
        let (authority, content, message) = match &deadline.source {
            DeadlineSource::Legal { authority, content } => (
                authority.clone().unwrap_or_default(),
                content.clone().unwrap_or_default(),
                String::new(),
            ),
            DeadlineSource::Message {
                audience,
                channels,
                postmortem,
                ..
            } => (
                String::new(),
                String::new(),
                if *postmortem {
                    format!(
                        "{audience} via {}; met by publishing the post-mortem",
                        channels_text(plan, channels)
                    )
                } else {
                    format!(
                        "{audience} via {}; met by a message to them",
                        channels_text(plan, channels)
                    )
                },
            ),
        };
        Self {
            anchor: anchor(&deadline.key),
            key: deadline.key.clone(),
            title: deadline.title.clone(),
            rule: deadline.rule.clone(),
            due,
            state,
            class,
            owner: owner_text(plan, incident, deadline.owner.as_ref()),
            authority,
            content,
            message,
            met: deadline.met_at.is_some(),
        }
    }
}

/// One action item as the tables show it.
#[derive(Debug)]
pub(crate) struct ItemView {
    pub incident: String,
    pub number: u32,
    pub title: String,
    pub owner: String,
    pub horizon: &'static str,
    pub due: String,
    pub due_iso: String,
    pub status: &'static str,
    pub overdue: bool,
    pub drill: bool,
}

impl ItemView {
    fn new(
        plan: &Plan,
        times: &Times,
        now: Millis,
        incident: String,
        number: u32,
        item: &muster_core::incident::ActionItem,
        drill: bool,
    ) -> Self {
        Self {
            incident,
            number,
            title: item.title.clone(),
            owner: person_name(plan, item.owner.as_str()),
            horizon: item.horizon.words(),
            due: day_of(times.zone(), item.due_at).to_string(),
            due_iso: Times::iso(item.due_at),
            status: item.status.as_str(),
            overdue: item.overdue(now),
            drill,
        }
    }
}

/// What the message form holds: what was chosen and typed, a preview filled in, or the
/// refusal to show above it.
#[derive(Debug, Default, Clone)]
pub(crate) struct MessageForm {
    pub audience: String,
    pub template: String,
    pub channels: Vec<String>,
    pub subject: String,
    pub body: String,
    pub problem: Option<String>,
    /// Said after a preview: what was rendered.
    pub previewed: Option<String>,
}

impl MessageForm {
    /// The form as it was submitted.
    pub(crate) fn typed(form: &ActionForm) -> Self {
        Self {
            audience: form.get("audience").unwrap_or_default().to_owned(),
            template: form.get("template").unwrap_or_default().to_owned(),
            channels: form.all("channels"),
            subject: form.get("subject").unwrap_or_default().to_owned(),
            body: form.get("body").unwrap_or_default().to_owned(),
            problem: None,
            previewed: None,
        }
    }

    /// Fills subject and body from the template, for the audience chosen. A refusal (an
    /// unknown template, a template error) is kept as the form's problem and answered 422;
    /// other failures are the page to show instead.
    pub(crate) async fn preview(
        &mut self,
        engine: &Engine,
        chrome: &Chrome,
        id: &IncidentId,
    ) -> Result<StatusCode, Response> {
        if self.template.is_empty() {
            self.problem = Some("Choose a template to preview; nothing was sent.".to_owned());
            return Ok(StatusCode::UNPROCESSABLE_ENTITY);
        }
        let audience = (!self.audience.is_empty()).then_some(self.audience.as_str());
        let template = TemplateId::from(self.template.as_str());
        match engine.preview_message(id, audience, &template).await {
            Ok(rendered) => {
                self.subject = rendered.subject.unwrap_or_default();
                self.body = rendered.body;
                self.previewed = Some(format!(
                    "Preview of “{}”{}: edit it below, then send. Nothing was sent yet.",
                    self.template,
                    audience.map(|a| format!(" for {a}")).unwrap_or_default()
                ));
                Ok(StatusCode::OK)
            }
            Err(EngineError::Rejected(rejection)) => {
                self.problem = Some(format!("{}; nothing was sent.", rejection.message));
                Ok(StatusCode::UNPROCESSABLE_ENTITY)
            }
            Err(error) => Err(refused(Some(chrome), &error)),
        }
    }
}

/// The incident page's communications, deadlines, root cause, action items and post-mortem.
#[derive(Debug)]
pub(crate) struct Sections {
    pub communications: Vec<CadenceView>,
    /// Audiences a message may go to (value and label); "channels only" is the form's own.
    pub audiences: Vec<(String, String)>,
    pub templates: Vec<(String, String)>,
    /// Channels a message may name (id and label): every channel but the status page.
    pub channels: Vec<(String, String)>,
    /// Channels posted by hand, with what they are.
    pub manual: Vec<(String, String)>,
    pub status_page_channel: bool,
    pub message: MessageForm,
    pub deadlines: Vec<DeadlineView>,
    pub root_cause: Option<(String, String)>,
    pub items: Vec<ItemView>,
    pub horizons: Vec<(&'static str, &'static str)>,
    pub item_statuses: Vec<&'static str>,
    pub people: Vec<(String, String)>,
    pub postmortem: String,
    pub zone: String,
}

/// Where the post-mortem stands, in words.
fn postmortem_state(incident: &Incident, times: &Times) -> String {
    let Some(postmortem) = &incident.postmortem else {
        return "Not started: no version saved yet.".to_owned();
    };
    let saved = format!(
        "Version {} saved {}",
        postmortem.version,
        times.show(postmortem.saved_at)
    );
    match postmortem.published_version {
        None => format!("{saved}; not published."),
        Some(published) => format!(
            "{saved}; version {published} published internally{}.",
            if postmortem.public {
                " and on the status page"
            } else {
                ""
            }
        ),
    }
}

impl Sections {
    pub(crate) fn build(
        plan: &Plan,
        view: &IncidentView,
        times: &Times,
        now: Millis,
        mut message: MessageForm,
    ) -> Self {
        let incident = &view.incident;
        let mut audiences: Vec<(String, String)> = Vec::new();
        let mut add = |audience: &str, label: String| {
            let listed = plan
                .communications
                .iter()
                .any(|c| c.audience == audience && comms::applies(c.when.as_ref(), incident));
            if listed && !audiences.iter().any(|(known, _)| known == audience) {
                audiences.push((audience.to_owned(), label));
            }
        };
        for cadence in &view.communications {
            add(
                &cadence.audience,
                format!("{} (every {})", cadence.audience, cadence.every_text),
            );
        }
        for deadline in &view.deadlines {
            if let DeadlineSource::Message { audience, .. } = &deadline.source {
                add(audience, format!("{audience} (due {})", deadline.rule));
            }
        }
        // A fresh form starts on the first audience and its template.
        if message.audience.is_empty()
            && message.template.is_empty()
            && message.body.is_empty()
            && message.problem.is_none()
            && let Some((audience, _)) = audiences.first()
        {
            message.audience.clone_from(audience);
            message.template = plan
                .communications
                .iter()
                .find(|c| &c.audience == audience)
                .and_then(|c| c.template.as_ref())
                .map(ToString::to_string)
                .unwrap_or_default();
        }
        let mut channels = Vec::new();
        let mut manual = Vec::new();
        let mut status_page_channel = false;
        for (id, channel) in &plan.channels {
            match channel {
                Channel::StatusPage {} => status_page_channel = true,
                Channel::Manual { description } => {
                    manual.push((id.to_string(), description.clone()));
                    channels.push((id.to_string(), format!("{id} (post by hand)")));
                }
                other => channels.push((id.to_string(), format!("{id} ({})", other.kind()))),
            }
        }
        let items = incident
            .action_items
            .iter()
            .map(|(number, item)| {
                ItemView::new(
                    plan,
                    times,
                    now,
                    incident.id.to_string(),
                    *number,
                    item,
                    incident.drill,
                )
            })
            .collect();
        Self {
            communications: view
                .communications
                .iter()
                .map(|cadence| CadenceView::of(cadence, plan, incident, times, now))
                .collect(),
            audiences,
            templates: plan
                .templates
                .iter()
                .map(|t| (t.id.to_string(), format!("{} ({})", t.title, t.id)))
                .collect(),
            channels,
            manual,
            status_page_channel,
            message,
            deadlines: view
                .deadlines
                .iter()
                .map(|deadline| DeadlineView::of(deadline, plan, incident, times, now))
                .collect(),
            root_cause: incident
                .root_cause
                .as_ref()
                .map(|cause| (cause.tag.clone(), cause.text.clone())),
            items,
            horizons: Horizon::ALL
                .iter()
                .map(|horizon| (horizon.as_str(), horizon.words()))
                .collect(),
            item_statuses: ActionStatus::ALL.iter().map(|s| s.as_str()).collect(),
            people: plan
                .people
                .iter()
                .map(|p| (p.id.to_string(), p.name.clone()))
                .collect(),
            postmortem: postmortem_state(incident, times),
            zone: times.zone().iana_name().unwrap_or("UTC").to_owned(),
        }
    }
}

/// What the glance block flags in red: updates past their due time (as the communications
/// show them) and deadlines missed or past due.
pub(crate) fn alarms(plan: &Plan, incident: &Incident, now: Millis) -> Vec<String> {
    let mut alarms = Vec::new();
    for cadence in comms::cadences(plan, incident) {
        if cadence.overdue || now > cadence.due_at {
            alarms.push(format!("Update overdue: {}", cadence.audience));
        }
    }
    for deadline in comms::deadlines(plan, incident) {
        if deadline.met_at.is_none() && (deadline.missed || deadline.overdue(now)) {
            alarms.push(format!("Deadline missed: {}", deadline.title));
        }
    }
    alarms
}

/// The `due_at` of an action item due on `date` (a day of the plan's zone): the end of that
/// day, so it is overdue from the next morning on.
pub(crate) fn end_of_day(times: &Times, date: &str) -> Result<Millis, String> {
    let date: jiff::civil::Date = date
        .parse()
        .map_err(|_| format!("'{date}' is not a date; write YYYY-MM-DD. Nothing was changed."))?;
    ActionItem::end_of_day(times.zone(), date)
        .ok_or_else(|| format!("{date} is past the calendar's end. Nothing was changed."))
}

// ---------------------------------------------------------------------------------------------
// The post-mortem page

/// The editor's state after a refused save or publish: what was typed and why.
#[derive(Debug, Default)]
pub(crate) struct Editor {
    pub markdown: Option<String>,
    pub note: String,
    pub problem: Option<String>,
}

#[derive(Template)]
#[template(path = "postmortem.html")]
#[allow(clippy::struct_excessive_bools)] // what the template shows or hides, one flag each
struct PostmortemPage {
    chrome: Option<Chrome>,
    csrf: String,
    id: String,
    title: String,
    state: String,
    version: u32,
    markdown: String,
    note: String,
    problem: Option<String>,
    /// The editor holds a fresh draft rather than the saved version.
    from_draft: bool,
    rendered: Option<String>,
    can_act: bool,
    can_publish: bool,
    can_publish_public: bool,
    /// Why publishing on the status page is not offered.
    public_note: String,
}

/// Draws the post-mortem page: the editor holds `editor`'s text, else a fresh draft when
/// `draft`, else the latest saved version (or the draft when none is saved).
pub(crate) async fn postmortem_page(
    engine: &Engine,
    chrome: Chrome,
    id: &IncidentId,
    editor: Editor,
    draft: bool,
    status: StatusCode,
) -> Response {
    let (view, saved) = match tokio::try_join!(engine.incident(id), engine.postmortem(id)) {
        Ok(found) => found,
        Err(error) => return refused(Some(&chrome), &error),
    };
    let times = Times::of(engine);
    let incident = &view.incident;
    let (markdown, from_draft) = match editor.markdown {
        Some(text) => (text, false),
        None if draft || saved.version == 0 => {
            let text = if saved.version == 0 {
                saved.markdown.clone()
            } else {
                match engine.postmortem_draft(id).await {
                    Ok(text) => text,
                    Err(error) => return refused(Some(&chrome), &error),
                }
            };
            (text, true)
        }
        None => (saved.markdown.clone(), false),
    };
    let public_note = if incident.drill {
        "Drills are never published on the status page."
    } else if incident.public_state.is_none() {
        "It was never on the status page, so its post-mortem cannot be published there: publish a status-page update first."
    } else {
        ""
    };
    let mut response = render(&PostmortemPage {
        csrf: chrome.form_token.clone(),
        can_act: chrome.can_act(),
        chrome: Some(chrome),
        id: id.to_string(),
        title: incident.title.clone(),
        state: postmortem_state(incident, &times),
        version: saved.version,
        markdown,
        note: editor.note,
        problem: editor.problem,
        from_draft,
        rendered: (saved.version > 0).then(|| markdown_html(&saved.markdown)),
        can_publish: saved.version > 0,
        can_publish_public: saved.version > 0 && public_note.is_empty(),
        public_note: public_note.to_owned(),
    });
    *response.status_mut() = status;
    response
}

/// `GET /incidents/{id}/postmortem` (`?draft=1` fills the editor with a fresh draft).
pub(crate) async fn postmortem(
    State(engine): State<Arc<Engine>>,
    session: Session,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let chrome = Chrome::new(&engine, &session, "incidents");
    let id = match crate::ui::incidents::parse_id(&chrome, &id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let draft = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .any(|(name, value)| name == "draft" && !value.is_empty() && value != "0");
    postmortem_page(
        &engine,
        chrome,
        &id,
        Editor::default(),
        draft,
        StatusCode::OK,
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Action items across incidents

/// The filter form's current values.
#[derive(Debug, Default)]
struct ItemFilters {
    open: bool,
    overdue: bool,
    owner: String,
    drills: bool,
}

#[derive(Template)]
#[template(path = "action_items.html")]
struct ActionItemsPage {
    chrome: Option<Chrome>,
    items: Vec<ItemView>,
    shown: String,
    problem: Option<String>,
    filters: ItemFilters,
    people: Vec<(String, String)>,
    /// The signed-in user's own open items, when the user acts for a person.
    mine: Option<String>,
}

/// `GET /action-items`: every action item, or the overdue report (`overdue=true`); blank
/// fields are no filter, everything else is the API's own strict parser.
pub(crate) async fn action_items(
    State(engine): State<Arc<Engine>>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Response {
    let chrome = Chrome::new(&engine, &session, "action-items");
    let running = engine.plan();
    let plan = &running.plan;
    let times = Times::of(&engine);
    let now = engine.now();
    let mut filters = ItemFilters::default();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = value.trim().to_owned();
        if value.is_empty() {
            continue;
        }
        match name.as_ref() {
            "open" => filters.open = value == "true",
            "overdue" => filters.overdue = value == "true",
            "owner" => filters.owner.clone_from(&value),
            "drills" => filters.drills = value == "true",
            _ => {}
        }
        pairs.push((name.into_owned(), value));
    }
    let (records, problem) = match crate::query::action_item_query(&pairs, plan, now) {
        Ok(query) => match engine.action_items(&query).await {
            Ok(records) => (records, None),
            Err(error) => return refused(Some(&chrome), &error),
        },
        Err(error) => (Vec::new(), Some(error.message)),
    };
    let items: Vec<ItemView> = records
        .iter()
        .map(|record| ItemView {
            incident: record.incident.clone(),
            number: record.item,
            title: record.title.clone(),
            owner: person_name(plan, record.owner.as_str()),
            horizon: record.horizon.words(),
            due: day_of(times.zone(), record.due_at).to_string(),
            due_iso: Times::iso(record.due_at),
            status: record.status.as_str(),
            overdue: record.status.is_open() && now > record.due_at,
            drill: record.drill,
        })
        .collect();
    let overdue = items.iter().filter(|item| item.overdue).count();
    let shown = match (items.len(), overdue) {
        (0, _) => "No action items match.".to_owned(),
        (1, 0) => "1 action item.".to_owned(),
        (n, 0) => format!("{n} action items."),
        (1, _) => "1 action item, overdue.".to_owned(),
        (n, o) => format!("{n} action items, {o} overdue."),
    };
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = render(&ActionItemsPage {
        mine: session.principal.person.as_ref().map(|person| {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("open", "true")
                .append_pair("owner", person.as_str())
                .finish();
            format!("/action-items?{query}")
        }),
        chrome: Some(chrome),
        items,
        shown,
        problem,
        filters,
        people: plan
            .people
            .iter()
            .map(|p| (p.id.to_string(), p.name.clone()))
            .collect(),
    });
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::{anchor, anchor_words, markdown_html};

    #[test]
    fn raw_html_in_markdown_is_shown_as_text() {
        let html = markdown_html(
            "# Title\n\n<script>alert(1)</script>\n\nText <img src=x onerror=alert(1)> and \
             [a link](javascript:alert(1)) and ![pic](https://example.com/x.png)\n",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(
            html.contains("<a href=\"https://example.com/x.png\">pic</a>"),
            "{html}"
        );
    }

    #[test]
    fn tables_render() {
        let html = markdown_html("| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<table>"), "{html}");
    }

    #[test]
    fn anchors_and_rule_words() {
        assert_eq!(anchor("message:Post-mortem"), "message-post-mortem");
        assert_eq!(anchor_words("resolved+2d"), "resolution");
        assert_eq!(anchor_words("detected+72h"), "detection");
    }
}
