//! What can happen to an incident, as appended facts. Events are never updated or deleted; the
//! incident's state is a fold over them (`state.rs`) and each stored event is chained to the one
//! before it by a hash (`chain.rs`).

use std::fmt::{self, Write as _};
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::plan::{
    CategoryId, ChannelId, ComponentId, DecisionId, PersonId, RoleId, RunbookId, ScenarioId,
    SeverityId, TemplateId,
};

/// Milliseconds since the Unix epoch, the one time representation stored and hashed.
pub type Millis = i64;

/// `INC-YYYYMMDD-NNN`: the day of declaration and a per-day number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IncidentId {
    pub date: jiff::civil::Date,
    pub number: u32,
}

impl IncidentId {
    #[must_use]
    pub fn new(date: jiff::civil::Date, number: u32) -> Self {
        Self { date, number }
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "INC-{:04}{:02}{:02}-{:03}",
            self.date.year(),
            self.date.month(),
            self.date.day(),
            self.number
        )
    }
}

impl FromStr for IncidentId {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let error = || format!("'{text}' is not an incident id; ids look like INC-20251207-001");
        let rest = text.strip_prefix("INC-").ok_or_else(error)?;
        let (day, number) = rest.split_once('-').ok_or_else(error)?;
        if day.len() != 8 || number.len() < 3 || !day.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error());
        }
        let year: i16 = day[..4].parse().map_err(|_| error())?;
        let month: i8 = day[4..6].parse().map_err(|_| error())?;
        let day_of_month: i8 = day[6..].parse().map_err(|_| error())?;
        let date = jiff::civil::Date::new(year, month, day_of_month).map_err(|_| error())?;
        let number: u32 = number.parse().map_err(|_| error())?;
        if number == 0 {
            return Err(error());
        }
        Ok(Self { date, number })
    }
}

impl Serialize for IncidentId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IncidentId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for IncidentId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "IncidentId".into()
    }

    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^INC-[0-9]{8}-[0-9]{3,}$",
            "examples": ["INC-20251207-001"]
        })
    }
}

/// Where an incident stands, as responders and the public follow it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Triage,
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    /// The post-mortem is done.
    Closed,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Triage,
        Status::Investigating,
        Status::Identified,
        Status::Monitoring,
        Status::Resolved,
        Status::Closed,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Triage => "triage",
            Status::Investigating => "investigating",
            Status::Identified => "identified",
            Status::Monitoring => "monitoring",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    /// Still being worked on.
    #[must_use]
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == text.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!(
                    "'{text}' is not a status; use one of triage, investigating, identified, monitoring, resolved, closed"
                )
            })
    }
}

/// The four states an incident shows on the public status page (seed 002).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PublicState {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl PublicState {
    pub const ALL: [PublicState; 4] = [
        PublicState::Investigating,
        PublicState::Identified,
        PublicState::Monitoring,
        PublicState::Resolved,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PublicState::Investigating => "investigating",
            PublicState::Identified => "identified",
            PublicState::Monitoring => "monitoring",
            PublicState::Resolved => "resolved",
        }
    }

    /// As the status page shows it, e.g. `Investigating`.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            PublicState::Investigating => "Investigating",
            PublicState::Identified => "Identified",
            PublicState::Monitoring => "Monitoring",
            PublicState::Resolved => "Resolved",
        }
    }
}

impl fmt::Display for PublicState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PublicState {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        PublicState::ALL
            .into_iter()
            .find(|state| state.as_str() == text.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!(
                    "'{text}' is not a status-page state; use one of investigating, identified, monitoring, resolved"
                )
            })
    }
}

/// How badly a public incident affects the components it names, worst last.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    #[default]
    Degraded,
    PartialOutage,
    MajorOutage,
}

impl Impact {
    pub const ALL: [Impact; 3] = [Impact::Degraded, Impact::PartialOutage, Impact::MajorOutage];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::Degraded => "degraded",
            Impact::PartialOutage => "partial_outage",
            Impact::MajorOutage => "major_outage",
        }
    }

    /// As the status page shows it, e.g. `Partial outage`.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Impact::Degraded => "Degraded performance",
            Impact::PartialOutage => "Partial outage",
            Impact::MajorOutage => "Major outage",
        }
    }
}

impl FromStr for Impact {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Impact::ALL
            .into_iter()
            .find(|impact| impact.as_str() == text.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!(
                    "'{text}' is not an impact; use one of degraded, partial_outage, major_outage"
                )
            })
    }
}

/// How soon an action item is due (seed 002's categories of follow-up work).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Horizon {
    /// Critical fixes, within a week.
    Immediate,
    /// Important improvements, within a month.
    ShortTerm,
    /// Systemic changes, within three months.
    LongTerm,
}

impl Horizon {
    pub const ALL: [Horizon; 3] = [Horizon::Immediate, Horizon::ShortTerm, Horizon::LongTerm];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Horizon::Immediate => "immediate",
            Horizon::ShortTerm => "short-term",
            Horizon::LongTerm => "long-term",
        }
    }

    /// The due date an item gets when none is given: one week, one month (30 days) or three
    /// months (90 days) after it was added.
    #[must_use]
    pub fn span_millis(self) -> Millis {
        const DAY: Millis = 24 * 60 * 60 * 1000;
        match self {
            Horizon::Immediate => 7 * DAY,
            Horizon::ShortTerm => 30 * DAY,
            Horizon::LongTerm => 90 * DAY,
        }
    }

    #[must_use]
    pub fn words(self) -> &'static str {
        match self {
            Horizon::Immediate => "Immediate (1 week)",
            Horizon::ShortTerm => "Short-term (1 month)",
            Horizon::LongTerm => "Long-term (3 months)",
        }
    }
}

impl FromStr for Horizon {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Horizon::ALL
            .into_iter()
            .find(|horizon| horizon.as_str() == text.trim())
            .ok_or_else(|| {
                format!("'{text}' is not a horizon; use immediate, short-term or long-term")
            })
    }
}

/// Where an action item stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ActionStatus {
    Open,
    InProgress,
    Done,
    /// Decided against; counts as closed but not as completed.
    Dropped,
}

impl ActionStatus {
    pub const ALL: [ActionStatus; 4] = [
        ActionStatus::Open,
        ActionStatus::InProgress,
        ActionStatus::Done,
        ActionStatus::Dropped,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InProgress => "in-progress",
            ActionStatus::Done => "done",
            ActionStatus::Dropped => "dropped",
        }
    }

    /// Still work to do.
    #[must_use]
    pub fn is_open(self) -> bool {
        matches!(self, ActionStatus::Open | ActionStatus::InProgress)
    }
}

impl fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ActionStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        ActionStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text.trim())
            .ok_or_else(|| {
                format!(
                    "'{text}' is not an action-item status; use open, in-progress, done or dropped"
                )
            })
    }
}

/// One thing that happened to an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventKind {
    Declared {
        title: String,
        severity: SeverityId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        category: Option<CategoryId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scenario: Option<ScenarioId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        runbook: Option<RunbookId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary: Option<String>,
        /// When impact began; may be earlier than detection.
        started_at: Millis,
        detected_at: Millis,
        #[serde(default)]
        drill: bool,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tags: Vec<String>,
    },
    SeverityChanged {
        from: SeverityId,
        to: SeverityId,
        reason: String,
    },
    CategoryChanged {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<CategoryId>,
        to: CategoryId,
        reason: String,
    },
    StatusChanged {
        from: Status,
        to: Status,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    Acknowledged {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        person: Option<PersonId>,
    },
    RoleAssigned {
        role: RoleId,
        person: PersonId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<PersonId>,
    },
    NoteAdded {
        text: String,
    },
    StepCompleted {
        runbook: RunbookId,
        step: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    DecisionRequested {
        decision: DecisionId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    ApprovalGiven {
        decision: DecisionId,
        approver: PersonId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
        /// The approver's signature over `signature::approval_message`, as given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
        /// The approver's key (as written in the plan) that verified the signature, so it can be
        /// checked again from the timeline alone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    TagAdded {
        tag: String,
    },
    AlertLinked {
        alert: String,
    },
    Resolved {
        summary: String,
    },
    /// Alerts from monitoring joined the incident (one event per processed batch).
    AlertsAttached {
        /// The first few alerts of the batch.
        alerts: Vec<AttachedAlert>,
        /// How many more the batch held beyond those listed.
        #[serde(default, skip_serializing_if = "is_zero")]
        more: u64,
        /// The last alert event (intake sequence number) included; later batches start after it.
        through: i64,
    },
    /// Every alert attached to the incident has been resolved by its source.
    AlertsResolved {
        count: u64,
    },
    /// A level of the escalation policy was paged.
    Escalated {
        policy: String,
        /// 1-based level and round (repeat) of the ladder.
        level: u32,
        round: u32,
        targets: Vec<String>,
        /// The people the targets reached at that moment.
        people: Vec<PersonId>,
    },
    /// Nobody acknowledged within the severity's acknowledgement SLA.
    AckOverdue {
        sla: String,
    },
    /// The internal update cadence came round without an update.
    UpdateDue {
        every: String,
    },
    /// What happened to one notification: sent, being retried, given up on, or sent inside
    /// another (bundled) notification.
    Notified {
        delivery: i64,
        channel: String,
        destination: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        person: Option<PersonId>,
        outcome: NotifyOutcome,
        attempt: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        /// Further notifications folded into this one.
        #[serde(default, skip_serializing_if = "is_zero")]
        folded: u64,
    },
    Reopened {
        reason: String,
    },
    /// An update published to the public status page. Only these events are ever shown there.
    UpdatePublished {
        state: PublicState,
        /// The incident's title as the public sees it.
        title: String,
        message: String,
        /// Status-page components affected, from the plan's `status_page`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        components: Vec<ComponentId>,
        #[serde(default)]
        impact: Impact,
    },
    Closed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A message went out to an audience of the communications table (or to channels).
    MessageSent {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audience: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<TemplateId>,
        channels: Vec<ChannelId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        body: String,
    },
    /// An audience's update cadence came round; its owner was reminded.
    CommunicationDue {
        audience: String,
        every: String,
        due_at: Millis,
    },
    /// An update is late: flagged on the incident and escalated to the commander.
    CommunicationOverdue {
        audience: String,
        due_at: Millis,
    },
    /// A deadline is coming up; its owner was reminded.
    DeadlineNear {
        deadline: String,
        title: String,
        due_at: Millis,
    },
    /// A deadline passed without being met.
    DeadlineMissed {
        deadline: String,
        title: String,
        due_at: Millis,
    },
    /// A deadline was met: the authority notified, the report filed.
    DeadlineMet {
        deadline: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// What caused the incident; the tag finds repeat incidents of the same cause.
    RootCauseSet {
        tag: String,
        text: String,
    },
    ActionItemAdded {
        /// 1-based number within the incident.
        item: u32,
        title: String,
        owner: PersonId,
        due_at: Millis,
        horizon: Horizon,
        /// The root-cause tag the item addresses.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        root_cause: Option<String>,
    },
    ActionItemUpdated {
        item: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<ActionStatus>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<PersonId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_at: Option<Millis>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A version of the post-mortem document was saved.
    PostmortemSaved {
        version: u32,
        markdown: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A saved version was published internally, and to the status page when `public` (the
    /// text is then carried here, since the status page reads nothing else).
    PostmortemPublished {
        version: u32,
        public: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        markdown: Option<String>,
    },
}

impl EventKind {
    /// A stable name for the kind of event, as stored and shown on timelines.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Declared { .. } => "declared",
            EventKind::SeverityChanged { .. } => "severity_changed",
            EventKind::CategoryChanged { .. } => "category_changed",
            EventKind::StatusChanged { .. } => "status_changed",
            EventKind::Acknowledged { .. } => "acknowledged",
            EventKind::RoleAssigned { .. } => "role_assigned",
            EventKind::NoteAdded { .. } => "note_added",
            EventKind::StepCompleted { .. } => "step_completed",
            EventKind::DecisionRequested { .. } => "decision_requested",
            EventKind::ApprovalGiven { .. } => "approval_given",
            EventKind::TagAdded { .. } => "tag_added",
            EventKind::AlertLinked { .. } => "alert_linked",
            EventKind::Resolved { .. } => "resolved",
            EventKind::AlertsAttached { .. } => "alerts_attached",
            EventKind::AlertsResolved { .. } => "alerts_resolved",
            EventKind::Escalated { .. } => "escalated",
            EventKind::AckOverdue { .. } => "ack_overdue",
            EventKind::UpdateDue { .. } => "update_due",
            EventKind::Notified { .. } => "notified",
            EventKind::Reopened { .. } => "reopened",
            EventKind::UpdatePublished { .. } => "update_published",
            EventKind::Closed { .. } => "closed",
            EventKind::MessageSent { .. } => "message_sent",
            EventKind::CommunicationDue { .. } => "communication_due",
            EventKind::CommunicationOverdue { .. } => "communication_overdue",
            EventKind::DeadlineNear { .. } => "deadline_near",
            EventKind::DeadlineMissed { .. } => "deadline_missed",
            EventKind::DeadlineMet { .. } => "deadline_met",
            EventKind::RootCauseSet { .. } => "root_cause_set",
            EventKind::ActionItemAdded { .. } => "action_item_added",
            EventKind::ActionItemUpdated { .. } => "action_item_updated",
            EventKind::PostmortemSaved { .. } => "postmortem_saved",
            EventKind::PostmortemPublished { .. } => "postmortem_published",
        }
    }
}

impl EventKind {
    /// What happened, in one line of plain text, as timelines show it (the actor and time are
    /// shown beside it, not in it).
    #[must_use]
    pub fn describe(&self) -> String {
        fn or_none(text: Option<&String>) -> String {
            text.map(|text| format!(": {text}")).unwrap_or_default()
        }
        match self {
            EventKind::Declared {
                title,
                severity,
                category,
                drill,
                ..
            } => format!(
                "Declared {}{severity}{}: {title}",
                if *drill { "drill " } else { "" },
                category
                    .as_ref()
                    .map(|category| format!(" ({category})"))
                    .unwrap_or_default()
            ),
            EventKind::SeverityChanged { from, to, reason } => {
                format!("Severity {from} \u{2192} {to}: {reason}")
            }
            EventKind::CategoryChanged { from, to, reason } => format!(
                "Category {} \u{2192} {to}: {reason}",
                from.as_ref().map_or("none", |from| from.as_str())
            ),
            EventKind::StatusChanged { from, to, note } => {
                format!("Status {from} \u{2192} {to}{}", or_none(note.as_ref()))
            }
            EventKind::Acknowledged { person } => match person {
                Some(person) => format!("Acknowledged by {person}"),
                None => "Acknowledged".to_owned(),
            },
            EventKind::RoleAssigned {
                role,
                person,
                previous,
            } => match previous {
                Some(previous) => format!("{role}: {person} (was {previous})"),
                None => format!("{role}: {person}"),
            },
            EventKind::NoteAdded { text } => format!("Note: {text}"),
            EventKind::StepCompleted { step, note, .. } => {
                format!("Step {step} done{}", or_none(note.as_ref()))
            }
            EventKind::DecisionRequested { decision, reason } => {
                format!("Decision {decision} requested{}", or_none(reason.as_ref()))
            }
            EventKind::ApprovalGiven {
                decision,
                approver,
                comment,
                signature,
                ..
            } => format!(
                "{approver} approved {decision}{}{}",
                if signature.is_some() { " (signed)" } else { "" },
                or_none(comment.as_ref())
            ),
            EventKind::TagAdded { tag } => format!("Tagged {tag}"),
            EventKind::AlertLinked { alert } => format!("Alert linked: {alert}"),
            EventKind::Resolved { summary } => format!("Resolved: {summary}"),
            EventKind::AlertsAttached { alerts, more, .. } => {
                let mut text = format!(
                    "{} alert{} attached",
                    alerts.len() as u64 + more,
                    if alerts.len() as u64 + more == 1 {
                        ""
                    } else {
                        "s"
                    }
                );
                if let Some(first) = alerts.first() {
                    let _ = write!(text, ": {}", first.summary);
                }
                text
            }
            EventKind::AlertsResolved { count } => {
                format!("All {count} attached alerts resolved at the source")
            }
            EventKind::Escalated {
                policy,
                level,
                round,
                people,
                ..
            } => {
                let people: Vec<&str> = people.iter().map(PersonId::as_str).collect();
                format!(
                    "Paged level {level}{} of {policy}: {}",
                    if *round > 1 {
                        format!(" (round {round})")
                    } else {
                        String::new()
                    },
                    if people.is_empty() {
                        "nobody reachable".to_owned()
                    } else {
                        people.join(", ")
                    }
                )
            }
            EventKind::AckOverdue { sla } => format!("Not acknowledged within {sla}"),
            EventKind::UpdateDue { every } => format!("Update due (every {every})"),
            EventKind::Notified {
                channel,
                destination,
                outcome,
                attempt,
                detail,
                folded,
                ..
            } => {
                let what = match outcome {
                    NotifyOutcome::Sent => "Sent",
                    NotifyOutcome::Retrying => "Retrying",
                    NotifyOutcome::Failed => "Failed to send",
                    NotifyOutcome::Folded => "Bundled",
                };
                let mut text = format!("{what} via {channel} to {destination}");
                if *attempt > 1 {
                    let _ = write!(text, " (attempt {attempt})");
                }
                if *folded > 0 {
                    let _ = write!(text, " with {folded} more folded in");
                }
                text + &or_none(detail.as_ref())
            }
            EventKind::Reopened { reason } => format!("Reopened: {reason}"),
            EventKind::UpdatePublished {
                state,
                title,
                message,
                ..
            } => format!("Status page: {} \u{2014} {title}: {message}", state.title()),
            EventKind::Closed { note } => format!("Closed{}", or_none(note.as_ref())),
            EventKind::MessageSent {
                audience,
                channels,
                subject,
                ..
            } => {
                let channels: Vec<&str> = channels.iter().map(ChannelId::as_str).collect();
                format!(
                    "Message to {} via {}{}",
                    audience.as_deref().unwrap_or("channels"),
                    channels.join(", "),
                    or_none(subject.as_ref())
                )
            }
            EventKind::CommunicationDue {
                audience, every, ..
            } => {
                format!("Update to {audience} due (every {every})")
            }
            EventKind::CommunicationOverdue { audience, due_at } => {
                format!("Update to {audience} overdue (was due {})", clock(*due_at))
            }
            EventKind::DeadlineNear { title, due_at, .. } => {
                format!("Deadline coming up: {title}, due {}", clock(*due_at))
            }
            EventKind::DeadlineMissed { title, due_at, .. } => {
                format!("Deadline missed: {title} (was due {})", clock(*due_at))
            }
            EventKind::DeadlineMet { deadline, note } => {
                format!("Deadline met: {deadline}{}", or_none(note.as_ref()))
            }
            EventKind::RootCauseSet { tag, text } => format!("Root cause [{tag}]: {text}"),
            EventKind::ActionItemAdded {
                item,
                title,
                owner,
                horizon,
                ..
            } => format!(
                "Action item #{item} ({}) for {owner}: {title}",
                horizon.as_str()
            ),
            EventKind::ActionItemUpdated {
                item,
                status,
                owner,
                due_at,
                note,
            } => {
                let mut parts = Vec::new();
                if let Some(status) = status {
                    parts.push(status.as_str().to_owned());
                }
                if let Some(owner) = owner {
                    parts.push(format!("owner {owner}"));
                }
                if let Some(due_at) = due_at {
                    parts.push(format!("due {}", clock(*due_at)));
                }
                format!(
                    "Action item #{item}: {}{}",
                    parts.join(", "),
                    or_none(note.as_ref())
                )
            }
            EventKind::PostmortemSaved { version, note, .. } => {
                format!(
                    "Post-mortem version {version} saved{}",
                    or_none(note.as_ref())
                )
            }
            EventKind::PostmortemPublished {
                version, public, ..
            } => format!(
                "Post-mortem version {version} published {}",
                if *public {
                    "internally and on the status page"
                } else {
                    "internally"
                }
            ),
        }
    }
}

/// A time in a one-line description: UTC to the minute (pages show their own zone beside it).
fn clock(at: Millis) -> String {
    jiff::Timestamp::from_millisecond(at).map_or_else(
        |_| at.to_string(),
        |t| t.strftime("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// An alert as listed on an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AttachedAlert {
    pub integration: String,
    pub key: String,
    pub summary: String,
}

/// What became of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotifyOutcome {
    Sent,
    Retrying,
    Failed,
    /// Sent inside another notification to the same destination (bundled).
    Folded,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// An event as stored: which incident, its place in that incident's sequence, when, by whom,
/// what, and the hash that chains it to the event before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    pub incident: IncidentId,
    /// 1 for the declaration, then consecutive.
    pub seq: u64,
    pub at: Millis,
    /// Who caused it: a token's name, a person id, or `system`.
    pub actor: String,
    pub kind: EventKind,
    /// Hex SHA-256 of the previous event's hash and this event's canonical bytes.
    pub hash: String,
}
