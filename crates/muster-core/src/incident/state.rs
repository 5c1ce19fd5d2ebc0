//! The incident as a pure fold over its events, and the rules that turn a command into events
//! or a rejection that changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::incident::comms;
use crate::incident::event::{
    ActionStatus, Event, EventKind, Horizon, Impact, IncidentId, Millis, PublicState, Status,
};
use crate::incident::signature;
use crate::plan::structure::did_you_mean;
use crate::plan::{
    CategoryId, ChannelId, ComponentId, Decision, DecisionId, PersonId, Plan, RoleId, RunbookId,
    ScenarioId, SeverityId, TemplateId,
};

/// Approvals gathered for one decision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DecisionState {
    pub requested_at: Option<Millis>,
    pub approvals: BTreeMap<PersonId, Millis>,
}

/// What caused an incident, with the tag that finds others of the same cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RootCause {
    pub tag: String,
    pub text: String,
}

/// Follow-up work from an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActionItem {
    pub title: String,
    pub owner: PersonId,
    pub due_at: Millis,
    pub horizon: Horizon,
    pub status: ActionStatus,
    pub root_cause: Option<String>,
    pub created_at: Millis,
    /// When it was done or dropped.
    pub closed_at: Option<Millis>,
}

impl ActionItem {
    #[must_use]
    pub fn overdue(&self, now: Millis) -> bool {
        self.status.is_open() && now > self.due_at
    }

    /// The `due_at` of an item due on `day` in `zone`: the last millisecond of that day, so it
    /// is overdue from the next midnight on. `None` past the calendar's end.
    #[must_use]
    pub fn end_of_day(zone: &jiff::tz::TimeZone, day: jiff::civil::Date) -> Option<Millis> {
        let next = day.tomorrow().ok()?.to_zoned(zone.clone()).ok()?;
        Some(next.timestamp().as_millisecond() - 1)
    }
}

/// Where the post-mortem stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PostmortemState {
    /// The latest saved version (1-based) and when it was saved.
    pub version: u32,
    pub saved_at: Millis,
    pub published_version: Option<u32>,
    pub published_at: Option<Millis>,
    /// Also on the public status page.
    pub public: bool,
}

/// Everything known about an incident, derived from its events and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Incident {
    pub id: IncidentId,
    pub title: String,
    pub summary: Option<String>,
    pub status: Status,
    pub severity: SeverityId,
    pub category: Option<CategoryId>,
    pub scenario: Option<ScenarioId>,
    pub runbook: Option<RunbookId>,
    pub drill: bool,
    pub tags: BTreeSet<String>,
    pub alerts: Vec<String>,
    pub roles: BTreeMap<RoleId, PersonId>,
    pub started_at: Millis,
    pub detected_at: Millis,
    pub declared_at: Millis,
    pub acknowledged_at: Option<Millis>,
    pub mitigated_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    pub closed_at: Option<Millis>,
    pub resolution: Option<String>,
    /// Runbook steps marked done, by step id.
    pub steps_done: BTreeMap<String, Millis>,
    pub decisions: BTreeMap<DecisionId, DecisionState>,
    pub notes: u32,
    /// Alerts from monitoring attached to the incident, in all.
    #[serde(default)]
    pub alert_count: u64,
    /// The last alert event (intake sequence number) attached; alert batches are attached once.
    #[serde(default)]
    pub alerts_through: i64,
    /// The last escalation level paged (1-based) and its round, if any.
    #[serde(default)]
    pub escalation: Option<(u32, u32)>,
    /// Where the incident stands on the public status page, if it was ever published there.
    #[serde(default)]
    pub public_state: Option<PublicState>,
    /// The title the status page shows.
    #[serde(default)]
    pub public_title: Option<String>,
    /// When the status page was last updated for it.
    #[serde(default)]
    pub public_updated_at: Option<Millis>,
    /// When a message last went out on each channel.
    #[serde(default)]
    pub sent_on: BTreeMap<ChannelId, Millis>,
    /// When a message last went out to each audience of the communications table.
    #[serde(default)]
    pub sent_to: BTreeMap<String, Millis>,
    /// Per audience, the due time of the last update its owner was reminded of.
    #[serde(default)]
    pub updates_reminded: BTreeMap<String, Millis>,
    /// Per audience, the due time of the last update flagged overdue.
    #[serde(default)]
    pub updates_overdue: BTreeMap<String, Millis>,
    /// Deadlines (by key) whose owner was reminded, met, and missed.
    #[serde(default)]
    pub deadlines_near: BTreeMap<String, Millis>,
    #[serde(default)]
    pub deadlines_met: BTreeMap<String, Millis>,
    #[serde(default)]
    pub deadlines_missed: BTreeMap<String, Millis>,
    #[serde(default)]
    pub root_cause: Option<RootCause>,
    /// By number, from 1.
    #[serde(default)]
    pub action_items: BTreeMap<u32, ActionItem>,
    #[serde(default)]
    pub postmortem: Option<PostmortemState>,
    pub last_seq: u64,
    pub updated_at: Millis,
}

impl Incident {
    /// Applies one event. Events are facts already accepted, so this never fails; an event that
    /// makes no sense for the state (which `decide` never produces) leaves it as it was.
    #[must_use]
    pub fn apply(state: Option<Self>, event: &Event) -> Option<Self> {
        let at = event.at;
        if let EventKind::Declared {
            title,
            severity,
            category,
            scenario,
            runbook,
            summary,
            started_at,
            detected_at,
            drill,
            tags,
        } = &event.kind
        {
            if state.is_some() {
                return state;
            }
            return Some(Incident {
                id: event.incident.clone(),
                title: title.clone(),
                summary: summary.clone(),
                status: Status::Triage,
                severity: severity.clone(),
                category: category.clone(),
                scenario: scenario.clone(),
                runbook: runbook.clone(),
                drill: *drill,
                tags: tags.iter().cloned().collect(),
                alerts: Vec::new(),
                roles: BTreeMap::new(),
                started_at: *started_at,
                detected_at: *detected_at,
                declared_at: at,
                acknowledged_at: None,
                mitigated_at: None,
                resolved_at: None,
                closed_at: None,
                resolution: None,
                steps_done: BTreeMap::new(),
                decisions: BTreeMap::new(),
                notes: 0,
                alert_count: 0,
                alerts_through: 0,
                escalation: None,
                public_state: None,
                public_title: None,
                public_updated_at: None,
                sent_on: BTreeMap::new(),
                sent_to: BTreeMap::new(),
                updates_reminded: BTreeMap::new(),
                updates_overdue: BTreeMap::new(),
                deadlines_near: BTreeMap::new(),
                deadlines_met: BTreeMap::new(),
                deadlines_missed: BTreeMap::new(),
                root_cause: None,
                action_items: BTreeMap::new(),
                postmortem: None,
                last_seq: event.seq,
                updated_at: at,
            });
        }
        let mut incident = state?;
        incident.last_seq = event.seq;
        incident.updated_at = at;
        match &event.kind {
            EventKind::SeverityChanged { to, .. } => incident.severity = to.clone(),
            EventKind::CategoryChanged { to, .. } => incident.category = Some(to.clone()),
            EventKind::StatusChanged { to, .. } => {
                incident.status = *to;
                if *to == Status::Monitoring && incident.mitigated_at.is_none() {
                    incident.mitigated_at = Some(at);
                }
            }
            EventKind::Acknowledged { .. } => {
                incident.acknowledged_at.get_or_insert(at);
            }
            EventKind::RoleAssigned { role, person, .. } => {
                incident.roles.insert(role.clone(), person.clone());
            }
            EventKind::NoteAdded { .. } => incident.notes += 1,
            EventKind::StepCompleted { step, .. } => {
                incident.steps_done.entry(step.clone()).or_insert(at);
            }
            EventKind::DecisionRequested { decision, .. } => {
                incident
                    .decisions
                    .entry(decision.clone())
                    .or_default()
                    .requested_at
                    .get_or_insert(at);
            }
            EventKind::ApprovalGiven {
                decision, approver, ..
            } => {
                let state = incident.decisions.entry(decision.clone()).or_default();
                state.requested_at.get_or_insert(at);
                state.approvals.entry(approver.clone()).or_insert(at);
            }
            EventKind::TagAdded { tag } => {
                incident.tags.insert(tag.clone());
            }
            EventKind::AlertLinked { alert } => {
                if !incident.alerts.contains(alert) {
                    incident.alerts.push(alert.clone());
                }
            }
            EventKind::AlertsAttached {
                alerts,
                more,
                through,
            } => {
                incident.alert_count += alerts.len() as u64 + more;
                incident.alerts_through = incident.alerts_through.max(*through);
            }
            EventKind::Escalated { level, round, .. } => {
                incident.escalation = Some((*level, *round));
            }
            EventKind::Declared { .. }
            | EventKind::AlertsResolved { .. }
            | EventKind::AckOverdue { .. }
            | EventKind::UpdateDue { .. }
            | EventKind::Notified { .. } => {}
            EventKind::Resolved { summary } => {
                incident.status = Status::Resolved;
                incident.resolved_at = Some(at);
                incident.mitigated_at.get_or_insert(at);
                incident.resolution = Some(summary.clone());
            }
            EventKind::Reopened { .. } => {
                incident.status = Status::Investigating;
                incident.resolved_at = None;
                incident.closed_at = None;
            }
            EventKind::UpdatePublished { state, title, .. } => {
                incident.public_state = Some(*state);
                incident.public_title = Some(title.clone());
                incident.public_updated_at = Some(at);
            }
            EventKind::Closed { .. } => {
                incident.status = Status::Closed;
                incident.closed_at = Some(at);
            }
            EventKind::MessageSent {
                audience, channels, ..
            } => {
                for channel in channels {
                    incident.sent_on.insert(channel.clone(), at);
                }
                if let Some(audience) = audience {
                    incident.sent_to.insert(audience.clone(), at);
                }
            }
            EventKind::CommunicationDue {
                audience, due_at, ..
            } => {
                incident.updates_reminded.insert(audience.clone(), *due_at);
            }
            EventKind::CommunicationOverdue { audience, due_at } => {
                incident.updates_reminded.insert(audience.clone(), *due_at);
                incident.updates_overdue.insert(audience.clone(), *due_at);
            }
            EventKind::DeadlineNear {
                deadline, due_at, ..
            } => {
                incident.deadlines_near.insert(deadline.clone(), *due_at);
            }
            EventKind::DeadlineMissed {
                deadline, due_at, ..
            } => {
                incident.deadlines_near.insert(deadline.clone(), *due_at);
                incident.deadlines_missed.insert(deadline.clone(), *due_at);
            }
            EventKind::DeadlineMet { deadline, .. } => {
                incident.deadlines_met.entry(deadline.clone()).or_insert(at);
            }
            EventKind::RootCauseSet { tag, text } => {
                incident.root_cause = Some(RootCause {
                    tag: tag.clone(),
                    text: text.clone(),
                });
            }
            EventKind::ActionItemAdded {
                item,
                title,
                owner,
                due_at,
                horizon,
                root_cause,
            } => {
                incident.action_items.insert(
                    *item,
                    ActionItem {
                        title: title.clone(),
                        owner: owner.clone(),
                        due_at: *due_at,
                        horizon: *horizon,
                        status: ActionStatus::Open,
                        root_cause: root_cause.clone(),
                        created_at: at,
                        closed_at: None,
                    },
                );
            }
            EventKind::ActionItemUpdated {
                item,
                status,
                owner,
                due_at,
                ..
            } => {
                if let Some(action) = incident.action_items.get_mut(item) {
                    if let Some(status) = status {
                        action.status = *status;
                        action.closed_at = (!status.is_open()).then_some(at);
                    }
                    if let Some(owner) = owner {
                        action.owner = owner.clone();
                    }
                    if let Some(due_at) = due_at {
                        action.due_at = *due_at;
                    }
                }
            }
            EventKind::PostmortemSaved { version, .. } => {
                let postmortem = incident
                    .postmortem
                    .get_or_insert_with(PostmortemState::default);
                postmortem.version = *version;
                postmortem.saved_at = at;
            }
            EventKind::PostmortemPublished {
                version, public, ..
            } => {
                let postmortem = incident
                    .postmortem
                    .get_or_insert_with(PostmortemState::default);
                postmortem.published_version = Some(*version);
                postmortem.published_at = Some(at);
                postmortem.public = postmortem.public || *public;
            }
        }
        Some(incident)
    }

    /// Folds stored events, in order, into the incident they describe.
    #[must_use]
    pub fn fold(events: &[Event]) -> Option<Self> {
        events.iter().fold(None, Self::apply)
    }
}

/// What someone asks to happen to an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    Declare {
        title: String,
        /// The potential issue this is; its category, severity and runbook are the defaults.
        #[serde(default)]
        scenario: Option<ScenarioId>,
        #[serde(default)]
        severity: Option<SeverityId>,
        /// Qualify by the plan's urgent x important matrix instead of naming a severity.
        #[serde(default)]
        urgent: Option<bool>,
        #[serde(default)]
        important: Option<bool>,
        #[serde(default)]
        category: Option<CategoryId>,
        #[serde(default)]
        summary: Option<String>,
        /// When impact began, if earlier than detection (back-dating).
        #[serde(default)]
        started_at: Option<Millis>,
        /// When it was noticed; defaults to now.
        #[serde(default)]
        detected_at: Option<Millis>,
        #[serde(default)]
        drill: bool,
        #[serde(default)]
        tags: Vec<String>,
    },
    Acknowledge {
        #[serde(default)]
        person: Option<PersonId>,
    },
    ChangeSeverity {
        to: SeverityId,
        reason: String,
    },
    /// Re-qualify by urgency and importance.
    Qualify {
        urgent: bool,
        important: bool,
        reason: String,
    },
    ChangeCategory {
        to: CategoryId,
        reason: String,
    },
    ChangeStatus {
        to: Status,
        #[serde(default)]
        note: Option<String>,
    },
    AssignRole {
        role: RoleId,
        person: PersonId,
    },
    AddNote {
        text: String,
    },
    CompleteStep {
        step: String,
        #[serde(default)]
        note: Option<String>,
    },
    RequestDecision {
        decision: DecisionId,
        #[serde(default)]
        reason: Option<String>,
    },
    Approve {
        decision: DecisionId,
        approver: PersonId,
        #[serde(default)]
        comment: Option<String>,
        /// The approver's signature over `signature::approval_message` for this incident,
        /// decision and approver: `0x…` hex for an `eth:` key, base64 for an `ed25519:` key.
        /// Required when the decision is `signed: true`; checked whenever it is given.
        #[serde(default)]
        signature: Option<String>,
    },
    AddTag {
        tag: String,
    },
    LinkAlert {
        alert: String,
    },
    Resolve {
        summary: String,
    },
    Reopen {
        reason: String,
    },
    /// Publishes an update to the public status page.
    PublishUpdate {
        state: PublicState,
        message: String,
        /// The public title; defaults to the one published before, then to the incident's.
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        components: Vec<ComponentId>,
        #[serde(default)]
        impact: Impact,
    },
    Close {
        #[serde(default)]
        note: Option<String>,
    },
    /// Sends a message to an audience of the communications table, or to channels. Without a
    /// body, the template is rendered from the incident first (previewing shows the same text).
    SendMessage {
        #[serde(default)]
        audience: Option<String>,
        #[serde(default)]
        template: Option<TemplateId>,
        /// Defaults to the audience's channels.
        #[serde(default)]
        channels: Vec<ChannelId>,
        #[serde(default)]
        subject: Option<String>,
        #[serde(default)]
        body: Option<String>,
    },
    /// Marks a deadline met: a legal deadline's id, or `message:AUDIENCE` for a due message.
    CompleteDeadline {
        deadline: String,
        #[serde(default)]
        note: Option<String>,
    },
    SetRootCause {
        /// Lowercase words joined by dashes, e.g. `oracle-staleness`; incidents with the same
        /// tag are repeats.
        tag: String,
        text: String,
    },
    AddActionItem {
        title: String,
        owner: PersonId,
        horizon: Horizon,
        /// Defaults to one week, one month or three months from now, by horizon.
        #[serde(default)]
        due_at: Option<Millis>,
        /// Defaults to the incident's root-cause tag.
        #[serde(default)]
        root_cause: Option<String>,
    },
    UpdateActionItem {
        item: u32,
        #[serde(default)]
        status: Option<ActionStatus>,
        #[serde(default)]
        owner: Option<PersonId>,
        #[serde(default)]
        due_at: Option<Millis>,
        #[serde(default)]
        note: Option<String>,
    },
    /// Saves a new version of the post-mortem (Markdown).
    SavePostmortem {
        markdown: String,
        #[serde(default)]
        note: Option<String>,
    },
    /// Publishes the latest saved version, internally and, when `public`, on the status page.
    PublishPostmortem {
        #[serde(default)]
        public: bool,
    },
}

/// Why a command was refused. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    /// A stable kebab-case name, e.g. `invalid-transition`.
    pub code: &'static str,
    pub message: String,
}

fn reject<T>(code: &'static str, message: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection {
        code,
        message: message.into(),
    })
}

fn unknown(what: &str, id: &str, known: impl IntoIterator<Item = String>) -> Rejection {
    let known: Vec<String> = known.into_iter().collect();
    let suggestion = did_you_mean(id, known.iter().map(String::as_str))
        .map(|guess| format!("; did you mean '{guess}'?"))
        .unwrap_or_default();
    Rejection {
        code: "unknown-reference",
        message: format!("the plan has no {what} '{id}'{suggestion}"),
    }
}

fn required_text(value: &str, what: &str) -> Result<String, Rejection> {
    let value = value.trim();
    if value.is_empty() {
        return reject("missing-text", format!("{what} must not be empty"));
    }
    Ok(value.to_owned())
}

/// The severity the plan's matrix gives to urgent x important: its qualification rules, or else
/// the first severity whose own flags match.
#[must_use]
pub fn qualify(plan: &Plan, urgent: bool, important: bool) -> Option<SeverityId> {
    if !plan.qualification.is_empty() {
        return plan
            .qualification
            .iter()
            .find(|rule| rule.urgent == urgent && rule.important == important)
            .map(|rule| rule.severity.clone());
    }
    plan.severities
        .iter()
        .find(|severity| severity.urgent == urgent && severity.important == important)
        .map(|severity| severity.id.clone())
}

/// Who may approve a decision.
#[must_use]
pub fn eligible_approvers(plan: &Plan, decision: &Decision) -> BTreeSet<PersonId> {
    decision
        .required
        .iter()
        .chain(&decision.additional)
        .flat_map(|target| plan.members_of(target))
        .cloned()
        .collect()
}

/// How far a decision is from its quorum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Quorum {
    pub have: usize,
    pub need: usize,
}

impl Quorum {
    #[must_use]
    pub fn met(self) -> bool {
        self.have >= self.need
    }
}

/// With an explicit quorum, that many distinct eligible approvers; without one, every required
/// approver, each by a different person (a role counts when its primary or backup approved).
#[must_use]
pub fn quorum(plan: &Plan, decision: &Decision, approvals: &BTreeMap<PersonId, Millis>) -> Quorum {
    if let Some(need) = decision.quorum {
        let eligible = eligible_approvers(plan, decision);
        let have = approvals
            .keys()
            .filter(|person| eligible.contains(*person))
            .count();
        return Quorum {
            have,
            need: need as usize,
        };
    }
    let candidates: Vec<Vec<&PersonId>> = decision
        .required
        .iter()
        .map(|target| {
            plan.members_of(target)
                .into_iter()
                .filter_map(|person| approvals.get_key_value(person).map(|(key, _)| key))
                .collect()
        })
        .collect();
    Quorum {
        have: distinct_matches(&candidates),
        need: decision.required.len(),
    }
}

/// How many required approvers can be satisfied by different people at once (a maximum
/// bipartite matching): the CEO's and the COO's approval are two people, even when one person
/// could stand in for either.
fn distinct_matches(candidates: &[Vec<&PersonId>]) -> usize {
    fn assign<'a>(
        slot: usize,
        candidates: &[Vec<&'a PersonId>],
        taken_by: &mut BTreeMap<&'a PersonId, usize>,
        visited: &mut BTreeSet<&'a PersonId>,
    ) -> bool {
        for person in &candidates[slot] {
            if !visited.insert(person) {
                continue;
            }
            let free = match taken_by.get(person).copied() {
                None => true,
                Some(other) => assign(other, candidates, taken_by, visited),
            };
            if free {
                taken_by.insert(person, slot);
                return true;
            }
        }
        false
    }
    let mut taken_by = BTreeMap::new();
    (0..candidates.len())
        .filter(|slot| assign(*slot, candidates, &mut taken_by, &mut BTreeSet::new()))
        .count()
}

/// What an incident's events would be after a command, or why it is refused.
pub fn decide(
    plan: &Plan,
    incident: Option<&Incident>,
    command: &Command,
    now: Millis,
) -> Result<Vec<EventKind>, Rejection> {
    let Some(incident) = incident else {
        let Command::Declare { .. } = command else {
            return reject("unknown-incident", "there is no such incident");
        };
        return declare(plan, command, now);
    };
    let open = incident.status.is_open();
    let allowed_when_finished = matches!(
        command,
        Command::Declare { .. }
            | Command::AddNote { .. }
            | Command::Reopen { .. }
            | Command::Close { .. }
            | Command::AddTag { .. }
            | Command::PublishUpdate { .. }
            | Command::SendMessage { .. }
            | Command::CompleteDeadline { .. }
            | Command::SetRootCause { .. }
            | Command::AddActionItem { .. }
            | Command::UpdateActionItem { .. }
            | Command::SavePostmortem { .. }
            | Command::PublishPostmortem { .. }
    );
    if !open && !allowed_when_finished {
        return reject(
            "incident-finished",
            format!(
                "{} is {}; reopen it first (with a reason) to change it",
                incident.id, incident.status
            ),
        );
    }
    let event = match command {
        Command::Declare { .. } => {
            return reject(
                "already-declared",
                format!("{} is already declared", incident.id),
            );
        }
        Command::Acknowledge { person } => {
            if let Some(at) = incident.acknowledged_at {
                return reject(
                    "already-acknowledged",
                    format!(
                        "{} was already acknowledged (at {})",
                        incident.id,
                        show_time(at)
                    ),
                );
            }
            if let Some(person) = person
                && plan.person(person.as_str()).is_none()
            {
                return Err(unknown(
                    "person",
                    person.as_str(),
                    plan.people.iter().map(|p| p.id.to_string()),
                ));
            }
            EventKind::Acknowledged {
                person: person.clone(),
            }
        }
        Command::ChangeSeverity { to, reason } => change_severity(plan, incident, to, reason)?,
        Command::Qualify {
            urgent,
            important,
            reason,
        } => {
            let Some(to) = qualify(plan, *urgent, *important) else {
                return reject(
                    "unqualified",
                    format!(
                        "the plan's qualification matrix has no severity for urgent: {urgent}, important: {important}"
                    ),
                );
            };
            change_severity(plan, incident, &to, reason)?
        }
        Command::ChangeCategory { to, reason } => {
            if plan.category(to.as_str()).is_none() {
                return Err(unknown(
                    "category",
                    to.as_str(),
                    plan.categories.iter().map(|c| c.id.to_string()),
                ));
            }
            if incident.category.as_ref() == Some(to) {
                return reject(
                    "no-change",
                    format!("{} is already in category {to}", incident.id),
                );
            }
            EventKind::CategoryChanged {
                from: incident.category.clone(),
                to: to.clone(),
                reason: required_text(reason, "the reason for the change")?,
            }
        }
        Command::ChangeStatus { to, note } => {
            match to {
                Status::Resolved => {
                    return reject(
                        "invalid-transition",
                        "resolve with a resolution summary instead of setting the status",
                    );
                }
                Status::Closed => {
                    return reject("invalid-transition", "close a resolved incident with close");
                }
                _ if *to == incident.status => {
                    return reject("no-change", format!("{} is already {to}", incident.id));
                }
                _ => {}
            }
            EventKind::StatusChanged {
                from: incident.status,
                to: *to,
                note: note.clone().filter(|note| !note.trim().is_empty()),
            }
        }
        Command::AssignRole { role, person } => {
            if plan.role(role.as_str()).is_none() {
                return Err(unknown(
                    "role",
                    role.as_str(),
                    plan.roles.iter().map(|r| r.id.to_string()),
                ));
            }
            if plan.person(person.as_str()).is_none() {
                return Err(unknown(
                    "person",
                    person.as_str(),
                    plan.people.iter().map(|p| p.id.to_string()),
                ));
            }
            let previous = incident.roles.get(role).cloned();
            if previous.as_ref() == Some(person) {
                return reject("no-change", format!("{person} already holds {role}"));
            }
            EventKind::RoleAssigned {
                role: role.clone(),
                person: person.clone(),
                previous,
            }
        }
        Command::AddNote { text } => EventKind::NoteAdded {
            text: required_text(text, "a note")?,
        },
        Command::CompleteStep { step, note } => complete_step(plan, incident, step, note.as_ref())?,
        Command::RequestDecision { decision, reason } => {
            let Some(plan_decision) = plan.decision(decision.as_str()) else {
                return Err(unknown(
                    "decision",
                    decision.as_str(),
                    plan.decisions.iter().map(|d| d.id.to_string()),
                ));
            };
            let state = incident.decisions.get(decision);
            if state.is_some_and(|state| state.requested_at.is_some()) {
                return reject(
                    "already-requested",
                    format!("decision '{}' is already requested", plan_decision.title),
                );
            }
            EventKind::DecisionRequested {
                decision: decision.clone(),
                reason: reason.clone().filter(|reason| !reason.trim().is_empty()),
            }
        }
        Command::Approve {
            decision,
            approver,
            comment,
            signature,
        } => approve(
            plan,
            incident,
            decision,
            approver,
            comment.as_ref(),
            signature.as_ref(),
        )?,
        Command::AddTag { tag } => {
            let tag = required_text(tag, "a tag")?;
            if incident.tags.contains(&tag) {
                return reject(
                    "no-change",
                    format!("{} is already tagged {tag}", incident.id),
                );
            }
            EventKind::TagAdded { tag }
        }
        Command::LinkAlert { alert } => {
            let alert = required_text(alert, "an alert reference")?;
            if incident.alerts.contains(&alert) {
                return reject("no-change", format!("alert {alert} is already linked"));
            }
            EventKind::AlertLinked { alert }
        }
        Command::Resolve { summary } => EventKind::Resolved {
            summary: required_text(summary, "a resolution summary (what fixed it)")?,
        },
        Command::Reopen { reason } => {
            if open {
                return reject(
                    "invalid-transition",
                    format!("{} is still open ({})", incident.id, incident.status),
                );
            }
            EventKind::Reopened {
                reason: required_text(reason, "the reason for reopening")?,
            }
        }
        Command::PublishUpdate {
            state,
            message,
            title,
            components,
            impact,
        } => publish(
            plan,
            incident,
            *state,
            message,
            title.as_deref(),
            components,
            *impact,
        )?,
        Command::Close { note } => {
            if incident.status != Status::Resolved {
                return reject(
                    "invalid-transition",
                    format!(
                        "only a resolved incident can be closed; {} is {}",
                        incident.id, incident.status
                    ),
                );
            }
            if let Some(policy) = &plan.postmortem
                && !incident.drill
                && policy.required_for.contains(&incident.severity)
                && incident
                    .postmortem
                    .as_ref()
                    .is_none_or(|postmortem| postmortem.published_version.is_none())
            {
                return reject(
                    "postmortem-required",
                    format!(
                        "the plan requires a published post-mortem before a {} incident is closed; save and publish one first",
                        incident.severity
                    ),
                );
            }
            EventKind::Closed {
                note: note.clone().filter(|note| !note.trim().is_empty()),
            }
        }
        Command::SendMessage {
            audience,
            template,
            channels,
            subject,
            body,
        } => comms::send_message(
            plan,
            incident,
            audience.as_deref(),
            template.as_ref(),
            channels,
            subject.as_deref(),
            body.as_deref(),
        )?,
        Command::CompleteDeadline { deadline, note } => {
            comms::complete_deadline(plan, incident, deadline, note.as_deref())?
        }
        Command::SetRootCause { tag, text } => {
            let tag = root_cause_tag(tag)?;
            let text = required_text(text, "the root cause (what went wrong, technically)")?;
            if incident
                .root_cause
                .as_ref()
                .is_some_and(|cause| cause.tag == tag && cause.text == text)
            {
                return reject("no-change", "that is already the root cause");
            }
            EventKind::RootCauseSet { tag, text }
        }
        Command::AddActionItem {
            title,
            owner,
            horizon,
            due_at,
            root_cause,
        } => {
            known_person(plan, owner)?;
            let root_cause = match root_cause {
                Some(tag) => Some(root_cause_tag(tag)?),
                None => incident.root_cause.as_ref().map(|cause| cause.tag.clone()),
            };
            let item = incident
                .action_items
                .keys()
                .max()
                .map_or(1, |last| last + 1);
            EventKind::ActionItemAdded {
                item,
                title: required_text(title, "the action item's title")?,
                owner: owner.clone(),
                due_at: due_at.unwrap_or(now + horizon.span_millis()),
                horizon: *horizon,
                root_cause,
            }
        }
        Command::UpdateActionItem {
            item,
            status,
            owner,
            due_at,
            note,
        } => {
            let Some(current) = incident.action_items.get(item) else {
                return reject(
                    "unknown-action-item",
                    format!(
                        "{} has no action item #{item}; it has {}",
                        incident.id,
                        match incident.action_items.len() {
                            0 => "none".to_owned(),
                            n => format!("#1 to #{n}"),
                        }
                    ),
                );
            };
            if let Some(owner) = owner {
                known_person(plan, owner)?;
            }
            let status = status.filter(|status| *status != current.status);
            let owner = owner.clone().filter(|owner| *owner != current.owner);
            let due_at = due_at.filter(|due_at| *due_at != current.due_at);
            let note = note.clone().filter(|note| !note.trim().is_empty());
            if status.is_none() && owner.is_none() && due_at.is_none() && note.is_none() {
                return reject(
                    "no-change",
                    format!(
                        "action item #{item} already is as given; change its status, owner or due date, or add a note"
                    ),
                );
            }
            EventKind::ActionItemUpdated {
                item: *item,
                status,
                owner,
                due_at,
                note,
            }
        }
        Command::SavePostmortem { markdown, note } => {
            if markdown.trim().is_empty() {
                return reject("missing-text", "the post-mortem must not be empty");
            }
            if markdown.len() > MAX_POSTMORTEM_BYTES {
                return reject(
                    "too-long",
                    format!(
                        "the post-mortem is {} KiB; at most {} KiB is kept",
                        markdown.len() / 1024,
                        MAX_POSTMORTEM_BYTES / 1024
                    ),
                );
            }
            EventKind::PostmortemSaved {
                version: incident.postmortem.as_ref().map_or(1, |pm| pm.version + 1),
                markdown: markdown.clone(),
                note: note.clone().filter(|note| !note.trim().is_empty()),
            }
        }
        Command::PublishPostmortem { .. } => {
            return reject(
                "needs-text",
                "publishing reads the saved post-mortem; the engine does that",
            );
        }
    };
    Ok(vec![event])
}

/// A public update: only for real incidents, only to components the plan's status page has.
fn publish(
    plan: &Plan,
    incident: &Incident,
    state: PublicState,
    message: &str,
    title: Option<&str>,
    components: &[ComponentId],
    impact: Impact,
) -> Result<EventKind, Rejection> {
    if incident.drill {
        return reject(
            "drill",
            format!(
                "{} is a drill; drills are never published to the status page",
                incident.id
            ),
        );
    }
    let Some(page) = &plan.status_page else {
        return reject(
            "no-status-page",
            "the plan has no status_page; add one (title and components) to publish updates",
        );
    };
    let mut named: Vec<ComponentId> = Vec::new();
    for component in components {
        if !page.components.iter().any(|known| &known.id == component) {
            return Err(unknown(
                "status-page component",
                component.as_str(),
                page.components.iter().map(|c| c.id.to_string()),
            ));
        }
        if !named.contains(component) {
            named.push(component.clone());
        }
    }
    let title = match title.map(str::trim).filter(|title| !title.is_empty()) {
        Some(title) => title.to_owned(),
        None => incident
            .public_title
            .clone()
            .unwrap_or_else(|| incident.title.clone()),
    };
    Ok(EventKind::UpdatePublished {
        state,
        title,
        message: required_text(message, "the public message")?,
        components: named,
        impact,
    })
}

fn approve(
    plan: &Plan,
    incident: &Incident,
    decision: &DecisionId,
    approver: &PersonId,
    comment: Option<&String>,
    signature: Option<&String>,
) -> Result<EventKind, Rejection> {
    let Some(plan_decision) = plan.decision(decision.as_str()) else {
        return Err(unknown(
            "decision",
            decision.as_str(),
            plan.decisions.iter().map(|d| d.id.to_string()),
        ));
    };
    let eligible = eligible_approvers(plan, plan_decision);
    if !eligible.contains(approver) {
        let names: Vec<String> = eligible.iter().map(ToString::to_string).collect();
        return reject(
            "not-an-approver",
            format!(
                "{approver} may not approve '{}'; its approvers are {}",
                plan_decision.title,
                names.join(", ")
            ),
        );
    }
    if incident
        .decisions
        .get(decision)
        .is_some_and(|state| state.approvals.contains_key(approver))
    {
        return reject(
            "already-approved",
            format!("{approver} has already approved '{}'", plan_decision.title),
        );
    }
    let message = signature::approval_message(&incident.id, decision, approver);
    let signature = signature
        .map(|text| text.trim())
        .filter(|text| !text.is_empty());
    let key = match signature {
        None if plan_decision.signed => {
            return reject(
                "signature-required",
                format!(
                    "'{}' needs a signed approval (the plan sets signed: true): {approver} signs the approval text with a key the plan lists for them and gives the signature with the approval; `muster incident approval-message` prints the text, which is {message:?}",
                    plan_decision.title
                ),
            );
        }
        None => None,
        Some(text) => {
            let keys = plan
                .person(approver.as_str())
                .map(|person| person.keys.as_slice())
                .unwrap_or_default();
            match signature::verify_approval(keys, &message, text) {
                Ok(key) => Some(key),
                Err(error) => {
                    return reject(
                        "bad-signature",
                        format!(
                            "{approver}'s signature on '{}' does not count: {error}",
                            plan_decision.title
                        ),
                    );
                }
            }
        }
    };
    Ok(EventKind::ApprovalGiven {
        decision: decision.clone(),
        approver: approver.clone(),
        comment: comment
            .cloned()
            .filter(|comment| !comment.trim().is_empty()),
        signature: key.as_ref().and(signature).map(str::to_owned),
        key,
    })
}

/// The longest post-mortem kept (Markdown source).
pub const MAX_POSTMORTEM_BYTES: usize = 256 * 1024;

fn known_person(plan: &Plan, person: &PersonId) -> Result<(), Rejection> {
    if plan.person(person.as_str()).is_none() {
        return Err(unknown(
            "person",
            person.as_str(),
            plan.people.iter().map(|p| p.id.to_string()),
        ));
    }
    Ok(())
}

/// Root-cause tags are compared as written, so they are kept to one spelling: lowercase
/// letters, digits and dashes.
fn root_cause_tag(tag: &str) -> Result<String, Rejection> {
    let tag = tag.trim();
    let valid = !tag.is_empty()
        && tag.len() <= 64
        && tag
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return reject(
            "invalid-tag",
            format!(
                "'{tag}' is not a root-cause tag; use lowercase letters, digits and dashes, e.g. oracle-staleness"
            ),
        );
    }
    Ok(tag.to_owned())
}

/// Publishing the latest saved post-mortem: `markdown` is that version's text (read from the
/// timeline by the caller).
pub fn publish_postmortem(
    incident: &Incident,
    public: bool,
    markdown: &str,
) -> Result<EventKind, Rejection> {
    let Some(postmortem) = &incident.postmortem else {
        return reject(
            "no-postmortem",
            format!(
                "{} has no saved post-mortem; save one (start from the draft) before publishing",
                incident.id
            ),
        );
    };
    if public && incident.drill {
        return reject(
            "drill",
            format!(
                "{} is a drill; drills are never published to the status page",
                incident.id
            ),
        );
    }
    if public && incident.public_state.is_none() {
        return reject(
            "not-on-status-page",
            format!(
                "{} was never on the status page; publish a status-page update first, the public post-mortem is shown under it",
                incident.id
            ),
        );
    }
    if postmortem.published_version == Some(postmortem.version) && (postmortem.public || !public) {
        return reject(
            "no-change",
            format!("version {} is already published", postmortem.version),
        );
    }
    Ok(EventKind::PostmortemPublished {
        version: postmortem.version,
        public,
        markdown: public.then(|| markdown.to_owned()),
    })
}

fn show_time(at: Millis) -> String {
    jiff::Timestamp::from_millisecond(at).map_or_else(|_| at.to_string(), |t| t.to_string())
}

fn change_severity(
    plan: &Plan,
    incident: &Incident,
    to: &SeverityId,
    reason: &str,
) -> Result<EventKind, Rejection> {
    if plan.severity(to.as_str()).is_none() {
        return Err(unknown(
            "severity",
            to.as_str(),
            plan.severities.iter().map(|s| s.id.to_string()),
        ));
    }
    if &incident.severity == to {
        return reject("no-change", format!("{} is already {to}", incident.id));
    }
    Ok(EventKind::SeverityChanged {
        from: incident.severity.clone(),
        to: to.clone(),
        reason: required_text(reason, "the reason for the change")?,
    })
}

fn complete_step(
    plan: &Plan,
    incident: &Incident,
    step: &str,
    note: Option<&String>,
) -> Result<EventKind, Rejection> {
    let Some(runbook_id) = &incident.runbook else {
        return reject("no-runbook", format!("{} follows no runbook", incident.id));
    };
    let Some(runbook) = plan.runbook(runbook_id.as_str()) else {
        return reject(
            "unknown-reference",
            format!("runbook {runbook_id} is no longer in the plan"),
        );
    };
    let Some(plan_step) = runbook.steps.iter().find(|candidate| candidate.id == step) else {
        return Err(unknown(
            &format!("step in runbook {runbook_id} called"),
            step,
            runbook.steps.iter().map(|s| s.id.clone()),
        ));
    };
    if incident.steps_done.contains_key(step) {
        return reject(
            "already-done",
            format!("step '{}' is already done", plan_step.title),
        );
    }
    if let Some(decision_id) = &plan_step.decision {
        let Some(decision) = plan.decision(decision_id.as_str()) else {
            return reject(
                "unknown-reference",
                format!("decision {decision_id} is no longer in the plan"),
            );
        };
        let approvals = incident
            .decisions
            .get(decision_id)
            .map(|state| state.approvals.clone())
            .unwrap_or_default();
        let quorum = quorum(plan, decision, &approvals);
        if !quorum.met() {
            return reject(
                "needs-approval",
                format!(
                    "step '{}' needs decision '{}' approved first: {} of {} approvals",
                    plan_step.title, decision.title, quorum.have, quorum.need
                ),
            );
        }
    }
    Ok(EventKind::StepCompleted {
        runbook: runbook_id.clone(),
        step: step.to_owned(),
        note: note.cloned().filter(|note| !note.trim().is_empty()),
    })
}

fn declare(plan: &Plan, command: &Command, now: Millis) -> Result<Vec<EventKind>, Rejection> {
    let Command::Declare {
        title,
        scenario,
        severity,
        urgent,
        important,
        category,
        summary,
        started_at,
        detected_at,
        drill,
        tags,
    } = command
    else {
        return reject("unknown-incident", "there is no such incident");
    };
    let title = required_text(title, "the incident title")?;
    let plan_scenario = match scenario {
        Some(id) => Some(plan.scenario(id.as_str()).ok_or_else(|| {
            unknown(
                "scenario",
                id.as_str(),
                plan.scenarios.iter().map(|s| s.id.to_string()),
            )
        })?),
        None => None,
    };
    let severity = match (severity, urgent, important) {
        (Some(severity), None, None) => severity.clone(),
        (None, Some(urgent), Some(important)) => qualify(plan, *urgent, *important).ok_or_else(|| Rejection {
            code: "unqualified",
            message: format!("the plan's qualification matrix has no severity for urgent: {urgent}, important: {important}"),
        })?,
        (None, None, None) => match plan_scenario {
            Some(scenario) => scenario.severity.clone(),
            None => {
                return reject(
                    "missing-severity",
                    "say how severe it is: a severity, urgent and important, or a scenario from the plan",
                );
            }
        },
        _ => {
            return reject(
                "ambiguous-severity",
                "give either a severity or both urgent and important, not a mix",
            );
        }
    };
    if plan.severity(severity.as_str()).is_none() {
        return Err(unknown(
            "severity",
            severity.as_str(),
            plan.severities.iter().map(|s| s.id.to_string()),
        ));
    }
    let category = category
        .clone()
        .or_else(|| plan_scenario.map(|scenario| scenario.category.clone()));
    if let Some(category) = &category
        && plan.category(category.as_str()).is_none()
    {
        return Err(unknown(
            "category",
            category.as_str(),
            plan.categories.iter().map(|c| c.id.to_string()),
        ));
    }
    let detected_at = detected_at.unwrap_or(now);
    if detected_at > now {
        return reject("time-in-future", "the detection time is in the future");
    }
    let started_at = started_at.unwrap_or(detected_at);
    if started_at > detected_at {
        return reject(
            "time-order",
            "impact cannot start after it was detected; give an earlier start or leave it out",
        );
    }
    let mut clean_tags: Vec<String> = Vec::new();
    for tag in tags
        .iter()
        .chain(plan_scenario.into_iter().flat_map(|s| &s.tags))
    {
        let tag = tag.trim();
        if !tag.is_empty() && !clean_tags.iter().any(|known| known == tag) {
            clean_tags.push(tag.to_owned());
        }
    }
    Ok(vec![EventKind::Declared {
        title,
        severity,
        category,
        scenario: scenario.clone(),
        runbook: plan_scenario.and_then(|scenario| scenario.runbook.clone()),
        summary: summary.clone().filter(|summary| !summary.trim().is_empty()),
        started_at,
        detected_at,
        drill: *drill,
        tags: clean_tags,
    }])
}
