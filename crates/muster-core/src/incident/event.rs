//! What can happen to an incident, as appended facts. Events are never updated or deleted; the
//! incident's state is a fold over them (`state.rs`) and each stored event is chained to the one
//! before it by a hash (`chain.rs`).

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::plan::{CategoryId, DecisionId, PersonId, RoleId, RunbookId, ScenarioId, SeverityId};

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
    Closed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
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
            EventKind::Closed { .. } => "closed",
        }
    }
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
