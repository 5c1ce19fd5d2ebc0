//! The communications table and the deadlines, running: which audiences of an incident are
//! owed an update and when, which deadlines run and when they fall due, what a timer for one of
//! them does when it fires, and the rules for sending a message or marking a deadline met.
//!
//! An audience's clock: its last update is the latest of the declaration, a message sent to
//! it by name, a message on one of its channels, and (for audiences with a status-page channel)
//! the last status-page update. The update is due `every` after that. At the due time its
//! owner is reminded (`communication_due`); `grace` later, still without an update, it is
//! flagged overdue (`communication_overdue`) and escalated to the commander. The next cycle
//! starts from the missed due time. A timer that fires late (a server that was down) speaks
//! for the latest cycle only, so a backlog folds into one reminder per audience.
//!
//! A deadline's clock: the plan's `deadlines` (legal, by id) and the communications with a
//! `due` (by `message:AUDIENCE`) that apply to the incident, once their anchor time is known
//! (`resolved+2d` starts at resolution). Its owner is reminded `lead` before it (a day before
//! for clocks of two days or more, a quarter of the span for shorter ones); at the due time, if
//! nobody marked it met, it is flagged missed and escalated.
//!
//! Nothing here reads a clock: callers pass `now`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::incident::event::{EventKind, Millis};
use crate::incident::state::{Incident, Rejection};
use crate::plan::structure::did_you_mean;
use crate::plan::values::{Anchor, Condition, RelativeTime, Target, TargetKind};
use crate::plan::{Channel, ChannelId, PersonId, Plan, TemplateId, TemplateKind};

/// Timer kinds, as stored: `update:AUDIENCE` and `deadline:KEY`.
pub const UPDATE_PREFIX: &str = "update:";
pub const DEADLINE_PREFIX: &str = "deadline:";
/// The key of a communication with a one-off `due`.
pub const MESSAGE_PREFIX: &str = "message:";

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;

/// The audience an incident gets from its severity's `update_every` when the communications
/// table has no cadence of its own for the incident.
pub const INTERNAL_UPDATES: &str = "Internal updates";

/// Whether `condition` (absent: always) holds for the incident.
#[must_use]
pub fn applies(condition: Option<&Condition>, incident: &Incident) -> bool {
    match condition {
        None | Some(Condition::Always) => true,
        Some(Condition::Tag(tag)) => incident.tags.contains(tag),
        Some(Condition::Severity(id)) => incident.severity.as_str() == id,
        Some(Condition::Category(id)) => {
            incident.category.as_ref().is_some_and(|c| c.as_str() == id)
        }
        Some(Condition::Scenario(id)) => {
            incident.scenario.as_ref().is_some_and(|s| s.as_str() == id)
        }
    }
}

/// When an incident reached `anchor`, if it has.
#[must_use]
pub fn anchor_time(incident: &Incident, anchor: Anchor) -> Option<Millis> {
    match anchor {
        Anchor::Started => Some(incident.started_at),
        Anchor::Detected => Some(incident.detected_at),
        Anchor::Declared => Some(incident.declared_at),
        Anchor::Acknowledged => incident.acknowledged_at,
        Anchor::Mitigated => incident.mitigated_at,
        Anchor::Resolved => incident.resolved_at,
        Anchor::Closed => incident.closed_at,
    }
}

/// When a relative time falls for the incident, once its anchor is known.
#[must_use]
pub fn due_time(incident: &Incident, due: RelativeTime) -> Option<Millis> {
    anchor_time(incident, due.anchor).map(|at| at + due.offset.as_millis())
}

/// One audience owed updates at a cadence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Cadence {
    pub audience: String,
    pub every: Millis,
    /// As the plan wrote it, e.g. `30m`.
    pub every_text: String,
    pub owner: Option<Target>,
    pub channels: Vec<ChannelId>,
    pub template: Option<TemplateId>,
    /// The last update (or the declaration).
    pub last: Millis,
    /// The update now owed.
    pub due_at: Millis,
    /// That update was flagged overdue and none went out since.
    pub overdue: bool,
}

impl Cadence {
    /// How long after the due time a missing update is flagged: a third of the cadence, at
    /// most 15 minutes.
    #[must_use]
    pub fn grace(&self) -> Millis {
        (self.every / 3).clamp(MINUTE, 15 * MINUTE)
    }
}

fn status_page_channel(plan: &Plan, channel: &ChannelId) -> bool {
    matches!(plan.channels.get(channel), Some(Channel::StatusPage { .. }))
}

/// The last update an audience with these channels got.
fn last_update(plan: &Plan, incident: &Incident, audience: &str, channels: &[ChannelId]) -> Millis {
    let mut last = incident.declared_at;
    if let Some(at) = incident.sent_to.get(audience) {
        last = last.max(*at);
    }
    for channel in channels {
        if let Some(at) = incident.sent_on.get(channel) {
            last = last.max(*at);
        }
        if status_page_channel(plan, channel)
            && let Some(at) = incident.public_updated_at
        {
            last = last.max(at);
        }
    }
    last
}

/// The audiences owed updates at a cadence while the incident is open: each cadence entry of
/// the communications table that applies (the first for each audience), else the severity's
/// `update_every` as [`INTERNAL_UPDATES`] owned by the plan's first role.
#[must_use]
pub fn cadences(plan: &Plan, incident: &Incident) -> Vec<Cadence> {
    if !incident.status.is_open() {
        return Vec::new();
    }
    let mut out: Vec<Cadence> = Vec::new();
    for communication in &plan.communications {
        let Some(every) = communication.every else {
            continue;
        };
        if !applies(communication.when.as_ref(), incident)
            || out.iter().any(|c| c.audience == communication.audience)
        {
            continue;
        }
        out.push(cadence(
            plan,
            incident,
            &communication.audience,
            every.0.as_millis(),
            every.0.to_string(),
            Some(communication.owner.clone()),
            communication.channels.clone(),
            communication.template.clone(),
        ));
    }
    if out.is_empty()
        && let Some(every) = plan
            .severity(incident.severity.as_str())
            .and_then(|severity| severity.update_every)
    {
        out.push(cadence(
            plan,
            incident,
            INTERNAL_UPDATES,
            every.0.as_millis(),
            every.0.to_string(),
            plan.roles.first().map(|role| Target {
                kind: TargetKind::Role,
                id: role.id.to_string(),
            }),
            Vec::new(),
            None,
        ));
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn cadence(
    plan: &Plan,
    incident: &Incident,
    audience: &str,
    every: Millis,
    every_text: String,
    owner: Option<Target>,
    channels: Vec<ChannelId>,
    template: Option<TemplateId>,
) -> Cadence {
    let every = every.max(MINUTE);
    let last = last_update(plan, incident, audience, &channels);
    let mut due_at = last + every;
    let mut overdue = false;
    if let Some(flagged) = incident.updates_overdue.get(audience)
        && *flagged >= due_at
    {
        // The update due at `flagged` was missed: the next one is owed a cycle later.
        overdue = true;
        due_at = *flagged + every;
    }
    Cadence {
        audience: audience.to_owned(),
        every,
        every_text,
        owner,
        channels,
        template,
        last,
        due_at,
        overdue,
    }
}

/// Where a deadline comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum DeadlineSource {
    /// The plan's `deadlines` (legal and regulatory).
    Legal {
        authority: Option<String>,
        content: Option<String>,
    },
    /// A communication with a one-off `due`.
    Message {
        audience: String,
        channels: Vec<ChannelId>,
        template: Option<TemplateId>,
        /// Met by publishing the post-mortem rather than by a message.
        postmortem: bool,
    },
}

/// A deadline running for an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Deadline {
    /// The legal deadline's id, or `message:AUDIENCE`.
    pub key: String,
    pub title: String,
    /// As the plan wrote it, e.g. `detected+72h`.
    pub rule: String,
    /// `None` until the anchor is reached (e.g. not resolved yet).
    pub due_at: Option<Millis>,
    pub owner: Option<Target>,
    pub met_at: Option<Millis>,
    pub missed: bool,
    #[serde(flatten)]
    pub source: DeadlineSource,
    #[serde(skip)]
    offset: Millis,
}

impl Deadline {
    /// How long before the due time the owner is reminded.
    #[must_use]
    pub fn lead(&self) -> Millis {
        if self.offset >= 2 * DAY {
            DAY
        } else {
            (self.offset / 4).max(MINUTE)
        }
    }

    /// Not met and past due at `now`.
    #[must_use]
    pub fn overdue(&self, now: Millis) -> bool {
        self.met_at.is_none() && self.due_at.is_some_and(|due| now > due)
    }
}

fn is_postmortem(plan: &Plan, template: Option<&TemplateId>) -> bool {
    template
        .and_then(|id| plan.template(id.as_str()))
        .is_some_and(|template| template.kind == TemplateKind::PostMortem)
}

/// The deadlines that apply to the incident, legal ones first, each once.
#[must_use]
pub fn deadlines(plan: &Plan, incident: &Incident) -> Vec<Deadline> {
    let mut out: Vec<Deadline> = Vec::new();
    for deadline in &plan.deadlines {
        if !applies(Some(&deadline.when), incident) {
            continue;
        }
        out.push(Deadline {
            key: deadline.id.clone(),
            title: deadline.title.clone(),
            rule: deadline.due.to_string(),
            due_at: due_time(incident, deadline.due),
            owner: deadline.owner.clone(),
            met_at: incident.deadlines_met.get(&deadline.id).copied(),
            missed: incident.deadlines_missed.contains_key(&deadline.id),
            source: DeadlineSource::Legal {
                authority: deadline.authority.clone(),
                content: deadline.content.clone(),
            },
            offset: deadline.due.offset.as_millis(),
        });
    }
    for communication in &plan.communications {
        let Some(due) = communication.due else {
            continue;
        };
        let key = format!("{MESSAGE_PREFIX}{}", communication.audience);
        if !applies(communication.when.as_ref(), incident) || out.iter().any(|d| d.key == key) {
            continue;
        }
        let postmortem = is_postmortem(plan, communication.template.as_ref());
        let met_at = if postmortem {
            incident
                .postmortem
                .as_ref()
                .and_then(|postmortem| postmortem.published_at)
        } else {
            // A message to the audience after the clock started meets it.
            let start = anchor_time(incident, due.anchor).unwrap_or(Millis::MAX);
            let sent = last_update(plan, incident, &communication.audience, &[]);
            (sent >= start && sent > incident.declared_at).then_some(sent)
        }
        .or_else(|| incident.deadlines_met.get(&key).copied());
        out.push(Deadline {
            title: communication.audience.clone(),
            rule: due.to_string(),
            due_at: due_time(incident, due),
            owner: Some(communication.owner.clone()),
            met_at,
            missed: incident.deadlines_missed.contains_key(&key),
            source: DeadlineSource::Message {
                audience: communication.audience.clone(),
                channels: communication.channels.clone(),
                template: communication.template.clone(),
                postmortem,
            },
            offset: due.offset.as_millis(),
            key,
        });
    }
    out
}

/// A timer the incident should have: kind, due time, and what it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub kind: String,
    pub due_at: Millis,
}

/// Every communications and deadline timer the incident should have now. Comparing this before
/// and after a change tells which timers to arm and which to cancel.
#[must_use]
pub fn clocks(plan: &Plan, incident: &Incident) -> Vec<Clock> {
    let mut out = Vec::new();
    for cadence in cadences(plan, incident) {
        let reminded = incident
            .updates_reminded
            .get(&cadence.audience)
            .is_some_and(|at| *at >= cadence.due_at);
        out.push(Clock {
            kind: format!("{UPDATE_PREFIX}{}", cadence.audience),
            due_at: if reminded {
                cadence.due_at + cadence.grace()
            } else {
                cadence.due_at
            },
        });
    }
    for deadline in deadlines(plan, incident) {
        let Some(due_at) = deadline.due_at else {
            continue;
        };
        if deadline.met_at.is_some() || deadline.missed {
            continue;
        }
        let near = incident
            .deadlines_near
            .get(&deadline.key)
            .is_some_and(|at| *at >= due_at);
        out.push(Clock {
            kind: format!("{DEADLINE_PREFIX}{}", deadline.key),
            due_at: if near {
                due_at
            } else {
                due_at - deadline.lead()
            },
        });
    }
    out
}

/// Whom a firing tells.
#[derive(Debug, Clone, PartialEq)]
pub struct Reminder {
    pub event: EventKind,
    pub headline: String,
    pub people: Vec<PersonId>,
}

/// The people a target reaches for this incident: a role's holder on the incident, else the
/// plan's people for the target.
#[must_use]
pub fn people(plan: &Plan, incident: &Incident, target: &Target) -> Vec<PersonId> {
    if target.kind == TargetKind::Role
        && let Some(holder) = incident
            .roles
            .iter()
            .find_map(|(role, holder)| (role.as_str() == target.id).then_some(holder))
    {
        return vec![holder.clone()];
    }
    if target.kind == TargetKind::Role
        && let Some(role) = plan.role(&target.id)
    {
        return vec![role.primary.clone()];
    }
    plan.members_of(target).into_iter().cloned().collect()
}

/// Whoever holds the plan's first role (the incident commander in every seed), else its
/// primary: overdue updates and missed deadlines are escalated to them.
#[must_use]
pub fn commander(plan: &Plan, incident: &Incident) -> Option<PersonId> {
    let role = plan.roles.first()?;
    Some(
        incident
            .roles
            .get(&role.id)
            .cloned()
            .unwrap_or_else(|| role.primary.clone()),
    )
}

fn with_commander(plan: &Plan, incident: &Incident, mut people: Vec<PersonId>) -> Vec<PersonId> {
    if let Some(commander) = commander(plan, incident)
        && !people.contains(&commander)
    {
        people.push(commander);
    }
    people
}

/// What the timer `kind` does at `now`: a reminder, an overdue flag, or nothing (an update
/// went out, the deadline was met, the clock is gone).
#[must_use]
pub fn fire(plan: &Plan, incident: &Incident, kind: &str, now: Millis) -> Option<Reminder> {
    if let Some(audience) = kind.strip_prefix(UPDATE_PREFIX) {
        let cadence = cadences(plan, incident)
            .into_iter()
            .find(|c| c.audience == audience)?;
        // Late firings speak for the latest cycle that has come round.
        let mut due_at = cadence.due_at;
        if now >= due_at + cadence.every {
            due_at += (now - due_at) / cadence.every * cadence.every;
        }
        if now < due_at {
            return None;
        }
        let owners = cadence
            .owner
            .as_ref()
            .map(|owner| people(plan, incident, owner))
            .unwrap_or_default();
        if now >= due_at + cadence.grace() {
            return Some(Reminder {
                headline: format!(
                    "Update to {audience} overdue (every {}): {}",
                    cadence.every_text, incident.title
                ),
                event: EventKind::CommunicationOverdue {
                    audience: audience.to_owned(),
                    due_at,
                },
                people: with_commander(plan, incident, owners),
            });
        }
        if incident
            .updates_reminded
            .get(audience)
            .is_some_and(|at| *at >= due_at)
        {
            return None;
        }
        return Some(Reminder {
            headline: format!(
                "Update to {audience} due now (every {}): {}",
                cadence.every_text, incident.title
            ),
            event: EventKind::CommunicationDue {
                audience: audience.to_owned(),
                every: cadence.every_text,
                due_at,
            },
            people: owners,
        });
    }
    let key = kind.strip_prefix(DEADLINE_PREFIX)?;
    let deadline = deadlines(plan, incident)
        .into_iter()
        .find(|d| d.key == key)?;
    let due_at = deadline.due_at?;
    if deadline.met_at.is_some() || deadline.missed {
        return None;
    }
    let owners = deadline
        .owner
        .as_ref()
        .map(|owner| people(plan, incident, owner))
        .unwrap_or_default();
    if now >= due_at {
        return Some(Reminder {
            headline: format!("Deadline missed: {} ({})", deadline.title, incident.title),
            event: EventKind::DeadlineMissed {
                deadline: deadline.key,
                title: deadline.title,
                due_at,
            },
            people: with_commander(plan, incident, owners),
        });
    }
    let near = incident
        .deadlines_near
        .get(key)
        .is_some_and(|at| *at >= due_at);
    if near || now < due_at - deadline.lead() {
        return None;
    }
    let people = if owners.is_empty() {
        commander(plan, incident).into_iter().collect()
    } else {
        owners
    };
    Some(Reminder {
        headline: format!(
            "Deadline in {}: {} ({})",
            words(due_at - now),
            deadline.title,
            incident.title
        ),
        event: EventKind::DeadlineNear {
            deadline: deadline.key,
            title: deadline.title,
            due_at,
        },
        people,
    })
}

/// "2h 5m", "3d 4h", "45m".
#[must_use]
pub fn words(span: Millis) -> String {
    let minutes = span.max(0) / MINUTE;
    let (days, hours, minutes) = (minutes / (24 * 60), minutes / 60 % 24, minutes % 60);
    match (days, hours, minutes) {
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

fn unknown_audience(plan: &Plan, incident: &Incident, audience: &str) -> Rejection {
    let known: Vec<&str> = plan
        .communications
        .iter()
        .filter(|c| applies(c.when.as_ref(), incident))
        .map(|c| c.audience.as_str())
        .collect();
    let hint = did_you_mean(audience, known.iter().copied()).map_or_else(
        || {
            if known.is_empty() {
                String::new()
            } else {
                format!("; it has {}", known.join(", "))
            }
        },
        |guess| format!("; did you mean '{guess}'?"),
    );
    Rejection {
        code: "unknown-reference",
        message: format!(
            "the communications table has no audience '{audience}' for {}{hint}",
            incident.id
        ),
    }
}

/// The event for sending a message. The body must be there by now (the engine renders a
/// template without one before deciding).
pub(crate) fn send_message(
    plan: &Plan,
    incident: &Incident,
    audience: Option<&str>,
    template: Option<&TemplateId>,
    channels: &[ChannelId],
    subject: Option<&str>,
    body: Option<&str>,
) -> Result<EventKind, Rejection> {
    let audience = audience.map(str::trim).filter(|a| !a.is_empty());
    let entry = match audience {
        Some(audience) => Some(
            plan.communications
                .iter()
                .find(|c| c.audience == audience && applies(c.when.as_ref(), incident))
                .ok_or_else(|| unknown_audience(plan, incident, audience))?,
        ),
        None => None,
    };
    if let Some(template) = template
        && plan.template(template.as_str()).is_none()
    {
        let known: Vec<&str> = plan.templates.iter().map(|t| t.id.as_str()).collect();
        let hint = did_you_mean(template.as_str(), known.iter().copied())
            .map(|guess| format!("; did you mean '{guess}'?"))
            .unwrap_or_default();
        return Err(Rejection {
            code: "unknown-reference",
            message: format!("the plan has no template '{template}'{hint}"),
        });
    }
    let channels: Vec<ChannelId> = if channels.is_empty() {
        entry.map(|c| c.channels.clone()).unwrap_or_default()
    } else {
        channels.to_vec()
    };
    if channels.is_empty() {
        return Err(Rejection {
            code: "no-channels",
            message: "name an audience of the communications table or the channels to send on"
                .to_owned(),
        });
    }
    for channel in &channels {
        if !plan.channels.contains_key(channel) {
            let hint = did_you_mean(
                channel.as_str(),
                plan.channels.keys().map(ChannelId::as_str),
            )
            .map(|guess| format!("; did you mean '{guess}'?"))
            .unwrap_or_default();
            return Err(Rejection {
                code: "unknown-reference",
                message: format!("the plan has no channel '{channel}'{hint}"),
            });
        }
        if status_page_channel(plan, channel) {
            return Err(Rejection {
                code: "status-page-channel",
                message: format!(
                    "'{channel}' is the status page; publish status-page updates with publish_update (state, message, components)"
                ),
            });
        }
    }
    let body = body.map(str::trim).unwrap_or_default();
    if body.is_empty() {
        return Err(Rejection {
            code: "missing-text",
            message: "the message has no body; write one or name a template".to_owned(),
        });
    }
    let mut body = body.to_owned();
    let mut subject = subject
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if incident.drill {
        body = format!("[DRILL] {body}");
        subject = subject.map(|s| format!("[DRILL] {s}"));
    }
    Ok(EventKind::MessageSent {
        audience: audience.map(str::to_owned),
        template: template.cloned(),
        channels,
        subject,
        body,
    })
}

/// The event for marking a deadline met.
pub(crate) fn complete_deadline(
    plan: &Plan,
    incident: &Incident,
    key: &str,
    note: Option<&str>,
) -> Result<EventKind, Rejection> {
    let running = deadlines(plan, incident);
    let Some(deadline) = running.iter().find(|d| d.key == key.trim()) else {
        let hint = did_you_mean(key, running.iter().map(|d| d.key.as_str())).map_or_else(
            || {
                if running.is_empty() {
                    "; none applies to it".to_owned()
                } else {
                    let keys: Vec<&str> = running.iter().map(|d| d.key.as_str()).collect();
                    format!("; it has {}", keys.join(", "))
                }
            },
            |guess| format!("; did you mean '{guess}'?"),
        );
        return Err(Rejection {
            code: "unknown-reference",
            message: format!("no deadline '{key}' runs for {}{hint}", incident.id),
        });
    };
    if let Some(at) = deadline.met_at {
        return Err(Rejection {
            code: "no-change",
            message: format!(
                "'{}' was already met (at {})",
                deadline.title,
                jiff::Timestamp::from_millisecond(at)
                    .map_or_else(|_| at.to_string(), |t| t.to_string())
            ),
        });
    }
    Ok(EventKind::DeadlineMet {
        deadline: deadline.key.clone(),
        note: note
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
    })
}
