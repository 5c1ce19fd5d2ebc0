//! The plan: everything a team writes down before an incident, as typed data.
//!
//! Field names are the YAML keys. Every struct refuses unknown keys so that a typo is reported
//! (with a suggestion) instead of silently ignored. References between sections are plain
//! identifiers here; `validate` checks that each one points at something that exists.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::plan::values::{
    Cadence, Condition, Date, Duration, LocalDateTime, Matcher, NotifyWhen, Period, RateLimit,
    RelativeTime, Target, TargetKind, TimeOfWeek, TimeWindow,
};

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

identifier!(
    /// A severity level such as `P0`.
    SeverityId
);
identifier!(
    /// An incident category such as `network-wide`.
    CategoryId
);
identifier!(
    /// A person in the plan.
    PersonId
);
identifier!(
    /// A team (core or extended response team).
    TeamId
);
identifier!(
    /// A role such as `incident-commander`.
    RoleId
);
identifier!(
    /// An on-call schedule.
    ScheduleId
);
identifier!(
    /// An escalation policy.
    PolicyId
);
identifier!(
    /// A potential issue the team has prepared for.
    ScenarioId
);
identifier!(
    /// A runbook (response procedure).
    RunbookId
);
identifier!(
    /// A decision that needs approval.
    DecisionId
);
identifier!(
    /// A notification channel.
    ChannelId
);
identifier!(
    /// A status-page component.
    ComponentId
);
identifier!(
    /// A message template.
    TemplateId
);
identifier!(
    /// A source of alerts (an Alertmanager, a PagerDuty-compatible sender, a webhook).
    IntegrationId
);

/// The whole plan. Sections may be spread over several files of a folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Muster incident-response plan")]
pub struct Plan {
    /// Format version of this file; currently always 1.
    pub version: u32,
    pub organization: Organization,
    /// Ordered from most to least critical.
    #[serde(default)]
    pub severities: Vec<Severity>,
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Urgent x important -> severity. When absent, the severities' own flags decide.
    #[serde(default)]
    pub qualification: Vec<QualificationRule>,
    #[serde(default)]
    pub people: Vec<Person>,
    #[serde(default)]
    pub teams: Vec<Team>,
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub schedules: Vec<Schedule>,
    #[serde(default)]
    pub escalation_policies: Vec<EscalationPolicy>,
    /// Potential issues: category, issue, how it is detected and answered.
    #[serde(default)]
    pub scenarios: Vec<Scenario>,
    /// Response procedures.
    #[serde(default)]
    pub runbooks: Vec<Runbook>,
    /// Actions that need approval before anyone takes them.
    #[serde(default)]
    pub decisions: Vec<Decision>,
    /// Who is told what, when, where, and by whom.
    #[serde(default)]
    pub communications: Vec<Communication>,
    /// Legal and regulatory clocks.
    #[serde(default)]
    pub deadlines: Vec<Deadline>,
    /// Where alerts come from: each integration has its own key and payload format.
    #[serde(default)]
    pub integrations: Vec<Integration>,
    /// What an alert becomes, first matching rule wins: declare an incident, attach to the open
    /// incident of its group, hold in triage, or ignore. Unmatched alerts are held in triage.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Notification endpoints, by id. Secrets are named by environment variable, never written here.
    #[serde(default)]
    pub channels: BTreeMap<ChannelId, Channel>,
    /// Message templates (declaration, customer email, status update, advisory, all-clear).
    #[serde(default)]
    pub templates: Vec<Template>,
    #[serde(default)]
    pub status_page: Option<StatusPage>,
    /// How post-mortems are written and when one must be published before closing.
    #[serde(default)]
    pub postmortem: Option<PostmortemPolicy>,
    #[serde(default)]
    pub drills: Option<Drills>,
    #[serde(default)]
    pub training: Option<Training>,
    /// Targets the team is measured against.
    #[serde(default)]
    pub targets: Option<Targets>,
    /// Ownership and review cycle of the plan document itself.
    #[serde(default)]
    pub document: Option<DocumentInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub name: String,
    /// IANA time zone used to show times, e.g. `UTC` or `Europe/Berlin`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// One paragraph shown at the top of the rendered plan.
    #[serde(default)]
    pub summary: Option<String>,
    /// Emergency contact address or handle published in the quick reference.
    #[serde(default)]
    pub emergency_contact: Option<String>,
    #[serde(default)]
    pub hotline: Option<String>,
    #[serde(default)]
    pub status_page_url: Option<String>,
    /// Principles the plan commits to (shown as a list under the summary).
    #[serde(default)]
    pub principles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Severity {
    pub id: SeverityId,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub urgent: bool,
    pub important: bool,
    /// Acknowledgement SLA: escalation fires when it is missed.
    pub ack_within: Duration,
    /// When action must have started, if the plan says so.
    #[serde(default)]
    pub action_within: Option<Duration>,
    /// Internal update cadence while the incident is open.
    #[serde(default)]
    pub update_every: Option<Cadence>,
    /// Target time to resolve (MTTR target).
    #[serde(default)]
    pub resolve_target: Option<Duration>,
    /// Escalation policy id, or `none` when this severity deliberately pages nobody.
    #[serde(default)]
    pub escalation: Option<String>,
    /// Who is told, in words, e.g. "Immediate notification to C-level".
    #[serde(default)]
    pub notify_note: Option<String>,
    /// How updates happen, in words, when no cadence applies.
    #[serde(default)]
    pub update_note: Option<String>,
    #[serde(default)]
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub examples: Vec<String>,
    /// When each team hears of an incident of this category (escalation process).
    #[serde(default)]
    pub notify: BTreeMap<TeamId, NotifyWhen>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QualificationRule {
    pub urgent: bool,
    pub important: bool,
    pub severity: SeverityId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    /// Job title or function, e.g. "Security Consultant".
    #[serde(default)]
    pub title: Option<String>,
    /// Set for people outside the organization (consultants, law enforcement, vendors).
    #[serde(default)]
    pub organization: Option<String>,
    /// Why this contact exists, for external contacts.
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    /// Incident categories this person responds to, when narrower than their team's.
    #[serde(default)]
    pub categories: Vec<CategoryId>,
    #[serde(default)]
    pub contacts: Contacts,
    /// Public keys for signed approvals: `ed25519:<base64>` or `eth:0x<address>`.
    #[serde(default)]
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contacts {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// A chat handle where the platform is not one of the named ones.
    #[serde(default)]
    pub chat: Option<String>,
    #[serde(default)]
    pub slack: Option<String>,
    #[serde(default)]
    pub telegram: Option<String>,
    #[serde(default)]
    pub discord: Option<String>,
    #[serde(default)]
    pub matrix: Option<String>,
}

impl Contacts {
    /// The ways this person can be reached, as `(method, address)` pairs.
    #[must_use]
    pub fn methods(&self) -> Vec<(&'static str, &str)> {
        [
            ("email", &self.email),
            ("phone", &self.phone),
            ("chat", &self.chat),
            ("slack", &self.slack),
            ("telegram", &self.telegram),
            ("discord", &self.discord),
            ("matrix", &self.matrix),
        ]
        .into_iter()
        .filter_map(|(method, value)| {
            value
                .as_deref()
                .filter(|address| !address.trim().is_empty())
                .map(|address| (method, address))
        })
        .collect()
    }
}

/// Whether a team is the core response team or the extended one (seed 001's two tables).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TeamKind {
    #[default]
    Core,
    Extended,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    #[serde(default)]
    pub kind: TeamKind,
    #[serde(default)]
    pub description: Option<String>,
    pub members: Vec<PersonId>,
    /// Categories of incident this team responds to.
    #[serde(default)]
    pub categories: Vec<CategoryId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    /// Short form used in tables, e.g. `IC`.
    #[serde(default)]
    pub short: Option<String>,
    pub primary: PersonId,
    #[serde(default)]
    pub backup: Option<PersonId>,
    #[serde(default)]
    pub duties: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub id: ScheduleId,
    #[serde(default)]
    pub name: Option<String>,
    /// IANA time zone the hand-off times are written in; defaults to the organization's.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Layers; where several cover the same moment, the later one wins.
    pub rotations: Vec<Rotation>,
    #[serde(default)]
    pub overrides: Vec<Override>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    #[serde(default)]
    pub name: Option<String>,
    pub members: Vec<PersonId>,
    /// Length of one shift, e.g. `1w`, `1d`, `12h`.
    pub every: Duration,
    /// When shifts change: `mon 09:00` for weekly rotations, `09:00` for daily ones.
    pub handoff: TimeOfWeek,
    /// First day of the rotation (`YYYY-MM-DD`), when the first member starts.
    pub start: Date,
    /// Restrict the layer to part of the week, e.g. `mon-fri 09:00-17:00`.
    #[serde(default)]
    pub active: Option<TimeWindow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub person: PersonId,
    /// Local date-time in the schedule's zone, `YYYY-MM-DDTHH:MM`.
    pub from: LocalDateTime,
    pub to: LocalDateTime,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicy {
    pub id: PolicyId,
    #[serde(default)]
    pub name: Option<String>,
    /// How many times the whole ladder runs again when nobody acknowledges.
    #[serde(default)]
    pub repeat: u32,
    /// Channels that page the people of each level: an email channel writes to the person's
    /// address (unless it has a fixed `to`), a chat channel posts a message that mentions them.
    /// Empty: every email channel without a fixed `to`.
    #[serde(default)]
    pub via: Vec<ChannelId>,
    pub levels: Vec<EscalationLevel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationLevel {
    /// Delay after the incident is declared (or after the previous repeat started).
    pub after: Duration,
    /// `person:ID`, `team:ID`, `role:ID`, `schedule:ID` or `channel:ID`.
    pub notify: Vec<Target>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: ScenarioId,
    pub category: CategoryId,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// How the issue is noticed: free text, or `detector:ID` / `alert:NAME` for automated signals.
    #[serde(default)]
    pub detection: Vec<String>,
    pub severity: SeverityId,
    #[serde(default)]
    pub runbook: Option<RunbookId>,
    /// Overrides the category's notification timing for these teams.
    #[serde(default)]
    pub notify: BTreeMap<TeamId, NotifyWhen>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Incident phases from detection to follow-up (seed 002's six phases).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Detection,
    Containment,
    Investigation,
    Eradication,
    Recovery,
    PostIncident,
}

impl Phase {
    pub const ALL: [Phase; 6] = [
        Phase::Detection,
        Phase::Containment,
        Phase::Investigation,
        Phase::Eradication,
        Phase::Recovery,
        Phase::PostIncident,
    ];

    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Phase::Detection => "Detection and triage",
            Phase::Containment => "Containment",
            Phase::Investigation => "Investigation",
            Phase::Eradication => "Eradication",
            Phase::Recovery => "Recovery",
            Phase::PostIncident => "Post-incident",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Runbook {
    pub id: RunbookId,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub steps: Vec<Step>,
    /// Template to use for the first outward message of this kind of incident.
    #[serde(default)]
    pub template: Option<TemplateId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    pub title: String,
    pub phase: Phase,
    /// Time budget from declaration, e.g. `5m`.
    #[serde(default)]
    pub within: Option<Duration>,
    /// How to do it: tools, scripts, methods.
    #[serde(default)]
    pub details: Option<String>,
    /// A command to run, shown verbatim.
    #[serde(default)]
    pub command: Option<String>,
    /// A decision that must reach its quorum before this step may be marked done.
    #[serde(default)]
    pub decision: Option<DecisionId>,
    /// Who does it: `role:ID`, `person:ID`, `team:ID`, or `schedule:ID` for whoever is on call.
    #[serde(default)]
    pub owner: Option<Target>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub id: DecisionId,
    pub title: String,
    /// Every one of these must approve unless `quorum` says fewer.
    pub required: Vec<Target>,
    /// May also approve; their approvals count toward the quorum.
    #[serde(default)]
    pub additional: Vec<Target>,
    /// Approvals needed; defaults to the number of required approvers.
    #[serde(default)]
    pub quorum: Option<u32>,
    /// Approvals must be signed with a key listed on the approver.
    #[serde(default)]
    pub signed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Communication {
    /// Who the message is for, e.g. "Users" or "Internal post-mortem".
    pub audience: String,
    /// Repeat while the incident is open, e.g. `1h`, `4h`, `hourly`.
    #[serde(default)]
    pub every: Option<Cadence>,
    /// One-off deadline relative to an incident time, e.g. `resolved+2d`.
    #[serde(default)]
    pub due: Option<RelativeTime>,
    /// Timing in words when neither cadence nor deadline fits, e.g. "Open until completion".
    #[serde(default)]
    pub timing: Option<String>,
    pub channels: Vec<ChannelId>,
    /// Who sends it: `role:ID`, `person:ID`, `team:ID`, or `schedule:ID` for whoever is on call.
    pub owner: Target,
    /// Only for incidents matching this condition (e.g. `severity:P0`), otherwise always.
    #[serde(default)]
    pub when: Option<Condition>,
    #[serde(default)]
    pub template: Option<TemplateId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    pub id: String,
    pub title: String,
    /// Which incidents start this clock, e.g. `tag:personal-data`.
    pub when: Condition,
    /// e.g. `detected+72h`.
    pub due: RelativeTime,
    #[serde(default)]
    pub authority: Option<String>,
    /// What the notification must contain.
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub owner: Option<Target>,
}

/// The payload format an integration speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum IntegrationKind {
    /// Prometheus Alertmanager webhook, payload version 4.
    Alertmanager,
    /// PagerDuty Events API v2 (`POST /v2/enqueue`); the key is the routing key.
    Pagerduty,
    /// Any JSON body, read through the integration's `mapping`.
    Webhook,
}

impl IntegrationKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationKind::Alertmanager => "alertmanager",
            IntegrationKind::Pagerduty => "pagerduty",
            IntegrationKind::Webhook => "webhook",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Integration {
    pub id: IntegrationId,
    #[serde(rename = "type")]
    pub kind: IntegrationKind,
    #[serde(default)]
    pub name: Option<String>,
    /// Environment variable holding the integration's key (the bearer token, or for PagerDuty
    /// the routing key). Keys made with the API work as well.
    #[serde(default)]
    pub key_env: Option<String>,
    /// Most alerts accepted per second or minute, e.g. `500/s`; more are refused with 429.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// A watchdog alert this source sends all the time; when it stops, an incident is raised.
    #[serde(default)]
    pub heartbeat: Option<Heartbeat>,
    /// For `webhook` integrations: where each field of an alert is in the posted JSON.
    #[serde(default)]
    pub mapping: Option<WebhookMapping>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// Which alerts are the watchdog, e.g. `["alertname=Watchdog"]`.
    pub matchers: Vec<Matcher>,
    /// Raise an incident when no watchdog alert arrived for this long.
    pub every: Duration,
    /// Severity of the incident raised when the watchdog stops.
    pub severity: SeverityId,
    #[serde(default)]
    pub category: Option<CategoryId>,
}

/// JSON Pointers (RFC 6901) into a generic webhook's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookMapping {
    /// Pointer to an array of alerts; without it the whole body is one alert. The other
    /// pointers are then read inside each element.
    #[serde(default)]
    pub alerts: Option<String>,
    /// The alert's identity: repeats with the same key are the same alert.
    pub key: String,
    pub summary: String,
    /// The alert's status; values listed in `resolved` mean the source resolved it.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default = "default_resolved_values")]
    pub resolved: Vec<String>,
    #[serde(default)]
    pub severity: Option<String>,
    /// Label name -> pointer; labels are what routes match on.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Pointer to a link for responders (a dashboard, a transaction on an explorer).
    #[serde(default)]
    pub link: Option<String>,
}

fn default_resolved_values() -> Vec<String> {
    vec!["resolved".to_owned()]
}

/// What a matching alert becomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RouteAction {
    /// Declare an incident, or attach to the open incident of the same group.
    #[default]
    Declare,
    /// Attach to the open incident of the same group; with none, hold in triage.
    Attach,
    /// Hold the alert in triage for a responder to declare or dismiss.
    Triage,
    /// Record the alert and do nothing else.
    Ignore,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Stable name of the rule; alert groups are keyed on it (the position when absent).
    #[serde(default)]
    pub id: Option<String>,
    /// Every matcher must hold, e.g. `["alertname=TreasuryOutflow", "chain=~mainnet|base"]`.
    /// Labels include `integration` (the integration id); empty matches every alert.
    #[serde(default)]
    pub matchers: Vec<Matcher>,
    #[serde(default)]
    pub action: RouteAction,
    /// The potential issue; its category, severity and runbook are the defaults.
    #[serde(default)]
    pub scenario: Option<ScenarioId>,
    #[serde(default)]
    pub severity: Option<SeverityId>,
    #[serde(default)]
    pub urgent: Option<bool>,
    #[serde(default)]
    pub important: Option<bool>,
    #[serde(default)]
    pub category: Option<CategoryId>,
    /// Labels whose values split alerts into groups; one open incident per group. Empty: all
    /// alerts of this rule form one group.
    #[serde(default)]
    pub group_by: Vec<String>,
    /// Resolve the incident when every alert attached to it has been resolved by its source.
    #[serde(default)]
    pub auto_resolve: bool,
    /// Tags given to incidents this rule declares.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// At most one message per contact in this window, unless the channel says otherwise.
pub const DEFAULT_THROTTLE: Duration = Duration::from_mins(1);

/// A notification endpoint. Secrets are referenced by environment variable name (`*_env`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Channel {
    Slack {
        webhook_url_env: String,
        #[serde(default)]
        channel: Option<String>,
    },
    Discord {
        webhook_url_env: String,
    },
    Telegram {
        token_env: String,
        chat_id: String,
    },
    Matrix {
        homeserver: String,
        room_id: String,
        token_env: String,
    },
    /// Email over SMTP. The server comes from `smtp_url_env` (`smtp://host:port` for
    /// STARTTLS when offered, `smtps://host:port` for TLS from the first byte, user and password
    /// in the URL); the message goes to `to`, or to the paged person's address.
    Email {
        #[serde(default)]
        to: Vec<String>,
        #[serde(default)]
        from: Option<String>,
        #[serde(default)]
        smtp_url_env: Option<String>,
    },
    /// A generic webhook, signed with HMAC-SHA256. A machine receiver (a team's own automation)
    /// may want every message: `throttle` sets the quiet time per contact (default 1 minute,
    /// `0s` sends every message as it comes).
    Webhook {
        url: String,
        secret_env: String,
        #[serde(default)]
        throttle: Option<Duration>,
    },
    Pagerduty {
        routing_key_env: String,
    },
    /// Muster's own public status page.
    StatusPage {},
    /// Posted by a person by hand (a blog post, a tweet); Muster reminds and records.
    Manual {
        description: String,
    },
}

impl Channel {
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Channel::Slack { .. } => "slack",
            Channel::Discord { .. } => "discord",
            Channel::Telegram { .. } => "telegram",
            Channel::Matrix { .. } => "matrix",
            Channel::Email { .. } => "email",
            Channel::Webhook { .. } => "webhook",
            Channel::Pagerduty { .. } => "pagerduty",
            Channel::StatusPage {} => "status-page",
            Channel::Manual { .. } => "manual",
        }
    }

    /// How long a contact of this channel hears nothing after a message: what comes due
    /// meanwhile is folded into the next one.
    #[must_use]
    pub fn throttle(&self) -> Duration {
        match self {
            Channel::Webhook {
                throttle: Some(throttle),
                ..
            } => *throttle,
            _ => DEFAULT_THROTTLE,
        }
    }

    /// The environment variables holding this channel's secrets.
    #[must_use]
    pub fn secret_envs(&self) -> Vec<&str> {
        match self {
            Channel::Slack {
                webhook_url_env, ..
            }
            | Channel::Discord { webhook_url_env } => vec![webhook_url_env],
            Channel::Telegram { token_env, .. } | Channel::Matrix { token_env, .. } => {
                vec![token_env]
            }
            Channel::Webhook { secret_env, .. } => vec![secret_env],
            Channel::Pagerduty { routing_key_env } => vec![routing_key_env],
            Channel::Email { smtp_url_env, .. } => {
                smtp_url_env.iter().map(String::as_str).collect()
            }
            Channel::StatusPage {} | Channel::Manual { .. } => vec![],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TemplateKind {
    InternalDeclaration,
    StatusUpdate,
    CustomerEmail,
    SecurityAdvisory,
    AllClear,
    /// The post-mortem document: the draft Muster writes from an incident uses it.
    PostMortem,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: TemplateId,
    pub title: String,
    pub kind: TemplateKind,
    #[serde(default)]
    pub subject: Option<String>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostmortemPolicy {
    /// The template the draft is written in (kind `post-mortem`); Muster's own follows the
    /// usual outline (summary, timeline, root cause, what went well and poorly, action items,
    /// lessons) when none is named.
    #[serde(default)]
    pub template: Option<TemplateId>,
    /// Severities whose incidents cannot be closed before a post-mortem is published.
    #[serde(default)]
    pub required_for: Vec<SeverityId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusPage {
    pub title: String,
    #[serde(default)]
    pub components: Vec<Component>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub id: ComponentId,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Drills {
    /// How often a live exercise must run, e.g. `6 months`.
    pub every: Period,
    /// Typical length of one exercise, e.g. `2h`.
    #[serde(default)]
    pub duration: Option<Duration>,
    /// Who moderates (and records) exercises: `role:ID` or `person:ID`.
    #[serde(default)]
    pub moderator: Option<Target>,
    pub scenarios: Vec<ScenarioId>,
    /// What the exercise is judged on.
    #[serde(default)]
    pub criteria: Vec<String>,
    /// Exercises already held; the latest date per scenario drives "overdue".
    #[serde(default)]
    pub history: Vec<DrillRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillRecord {
    pub date: Date,
    pub scenarios: Vec<ScenarioId>,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Training {
    pub every: Period,
    #[serde(default)]
    pub duration: Option<Duration>,
    #[serde(default)]
    pub topics: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// Mean time to detect.
    #[serde(default)]
    pub mttd: Option<Duration>,
    /// Share of incidents with the same root cause as an earlier one, in percent.
    #[serde(default)]
    pub repeat_rate_percent: Option<f64>,
    /// Share of scenarios with a runbook, in percent.
    #[serde(default)]
    pub runbook_coverage_percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentInfo {
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub review_every: Option<Period>,
    #[serde(default)]
    pub next_review: Option<Date>,
    #[serde(default)]
    pub revisions: Vec<Revision>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Revision {
    pub version: String,
    pub date: String,
    pub author: String,
    pub changes: String,
}

macro_rules! lookup {
    ($method:ident, $field:ident, $id:ty, $item:ty) => {
        #[must_use]
        pub fn $method(&self, id: &str) -> Option<&$item> {
            self.$field.iter().find(|item| item.id.as_str() == id)
        }
    };
}

impl Plan {
    lookup!(severity, severities, SeverityId, Severity);
    lookup!(category, categories, CategoryId, Category);
    lookup!(person, people, PersonId, Person);
    lookup!(team, teams, TeamId, Team);
    lookup!(role, roles, RoleId, Role);
    lookup!(schedule, schedules, ScheduleId, Schedule);
    lookup!(policy, escalation_policies, PolicyId, EscalationPolicy);
    lookup!(scenario, scenarios, ScenarioId, Scenario);
    lookup!(runbook, runbooks, RunbookId, Runbook);
    lookup!(decision, decisions, DecisionId, Decision);
    lookup!(template, templates, TemplateId, Template);
    lookup!(integration, integrations, IntegrationId, Integration);

    /// The people a reference stands for, whatever the hour: a person, a team's members, a
    /// role's primary and backup, every member of a schedule's rotations; a channel is nobody.
    #[must_use]
    pub fn members_of(&self, target: &Target) -> BTreeSet<&PersonId> {
        match target.kind {
            TargetKind::Person => self
                .person(&target.id)
                .map(|person| &person.id)
                .into_iter()
                .collect(),
            TargetKind::Team => self
                .team(&target.id)
                .map(|team| team.members.iter().collect())
                .unwrap_or_default(),
            TargetKind::Role => self
                .role(&target.id)
                .map(|role| {
                    std::iter::once(&role.primary)
                        .chain(role.backup.as_ref())
                        .collect()
                })
                .unwrap_or_default(),
            TargetKind::Schedule => self
                .schedule(&target.id)
                .map(|schedule| {
                    schedule
                        .rotations
                        .iter()
                        .flat_map(|rotation| &rotation.members)
                        .collect()
                })
                .unwrap_or_default(),
            TargetKind::Channel => BTreeSet::new(),
        }
    }

    /// The organization's time zone name, `UTC` when the plan names none.
    #[must_use]
    pub fn timezone(&self) -> &str {
        self.organization.timezone.as_deref().unwrap_or("UTC")
    }

    /// How the team hears of an incident of this scenario: the category's timing, overridden
    /// per team by the scenario's own.
    #[must_use]
    pub fn notify_timing(&self, scenario: &Scenario) -> BTreeMap<TeamId, NotifyWhen> {
        let mut timing = self
            .category(scenario.category.as_str())
            .map(|category| category.notify.clone())
            .unwrap_or_default();
        timing.extend(
            scenario
                .notify
                .iter()
                .map(|(team, when)| (team.clone(), *when)),
        );
        timing
    }
}
