//! Commands in, events out: the engine takes a command from the API or the CLI, asks the core
//! whether it is allowed (`muster_core::incident::decide`), seals the resulting events onto the
//! incident's hash chain and appends them through the store. It also holds the running plan,
//! authenticates tokens and runs the audit.
//!
//! Invariants:
//! - The engine never changes state the core has not decided: every stored event comes out of
//!   `decide`, and the projection written with it is the fold of the incident's events.
//! - Two writers racing on one incident cannot both win: the store refuses the second append and
//!   the engine decides again on the fresh state (a few times, then reports the incident busy).
//! - The plan is swapped only for one that checks without errors.

pub mod acklink;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod deliver;
pub mod followup;
pub mod intake;
pub mod keys;
pub mod paging;
pub mod plan_files;
mod report;
pub mod stats;
pub mod timers;
pub mod workers;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use muster_core::access::Role;
use muster_core::diagnostic::Diagnostic;
use muster_core::incident::checklist::{ChecklistItem, checklist};
use muster_core::incident::comms;
use muster_core::incident::escalation::{self, LadderStep};
use muster_core::incident::{
    Command, Event, EventKind, Incident, IncidentId, Link, Millis, Rejection, chain, decide,
};
use muster_core::plan::Plan;
use muster_store::{
    AnyStore, Effects, IncidentFilter, IncidentPage, NewTimer, Store, StoreError, Work,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

pub use audit::{AuditReport, BrokenEntry};
pub use auth::{Principal, TokenError};
pub use clock::{Clock, ManualClock, SystemClock};

/// How often a command is decided again after losing a race on the same incident.
const MAX_ATTEMPTS: usize = 8;

/// How many announced changes a slow live page may fall behind before it is told to re-read.
const CHANGES_BUFFER: usize = 1024;

/// Why the engine did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The plan's rules refuse the command; nothing changed.
    #[error("{0}")]
    Rejected(Rejection),
    #[error("there is no incident {0}")]
    NotFound(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many writers on one incident at once; nothing changed, try again.
    #[error("{0} is being changed by others right now; nothing was changed, try again")]
    Busy(IncidentId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EngineError {
    /// A refusal by the rules, with its code and a message that says what to do instead.
    #[must_use]
    pub fn rejected(code: &'static str, message: impl Into<String>) -> Self {
        EngineError::Rejected(Rejection {
            code,
            message: message.into(),
        })
    }

    /// A stable kebab-case code for API clients.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Rejected(rejection) => rejection.code,
            EngineError::NotFound(_) => "unknown-incident",
            EngineError::Forbidden(_) => "forbidden",
            EngineError::Busy(_) => "busy",
            EngineError::Store(_) => "storage",
        }
    }
}

/// What a command did: the incident after it and the events it appended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub incident: Incident,
    pub events: Vec<Event>,
}

/// An incident as a responder looks at it: its state and its runbook checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentView {
    #[serde(flatten)]
    pub incident: Incident,
    pub checklist: Vec<ChecklistItem>,
    /// The audiences owed updates while it is open, with when the next is due.
    #[serde(default)]
    pub communications: Vec<comms::Cadence>,
    /// The deadlines that apply to it: legal ones and due messages.
    #[serde(default)]
    pub deadlines: Vec<comms::Deadline>,
}

/// The plan the server runs and where it came from.
#[derive(Debug)]
pub struct RunningPlan {
    pub plan: Plan,
    /// Where it is re-read from on reload; `None` for a plan handed in directly (tests).
    pub path: Option<PathBuf>,
    pub loaded_at: Millis,
    /// Warnings it was accepted with.
    pub warnings: Vec<Diagnostic>,
}

/// Why a reload kept the running plan.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("the plan was not loaded from a file, so there is nothing to reload")]
    NoPath,
    #[error("{0}")]
    Unreadable(String),
    /// The new plan has errors; the running plan stays.
    #[error("the plan has {} error(s); the running plan stays", .0.iter().filter(|d| d.severity == muster_core::diagnostic::Severity::Error).count())]
    Invalid(Vec<Diagnostic>),
}

/// Reads a secret by environment variable name.
pub type SecretLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// How the engine reaches the outside world.
#[derive(Clone)]
pub struct EngineOptions {
    /// This instance's name in leases and claims.
    pub instance: String,
    /// Where people reach this server: the base of incident and acknowledge links.
    pub public_url: String,
    /// Reads secrets (integration keys, channel credentials) by variable name.
    pub secrets: SecretLookup,
    /// Base URLs of the notification services.
    pub endpoints: muster_notify::Endpoints,
}

impl std::fmt::Debug for EngineOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineOptions")
            .field("instance", &self.instance)
            .field("public_url", &self.public_url)
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl Default for EngineOptions {
    fn default() -> Self {
        let mut suffix = [0u8; 4];
        let _ = getrandom::fill(&mut suffix);
        Self {
            instance: format!("{}-{:08x}", std::process::id(), u32::from_be_bytes(suffix)),
            public_url: "http://127.0.0.1:8080".to_owned(),
            secrets: Arc::new(|name| std::env::var(name).ok()),
            endpoints: muster_notify::Endpoints::default(),
        }
    }
}

/// Wakes the background workers when there is work for them.
#[derive(Debug, Default)]
pub(crate) struct Wake {
    pub alerts: Notify,
    pub timers: Notify,
    pub deliveries: Notify,
}

/// The running system: plan, store and clock.
#[derive(Debug)]
pub struct Engine {
    store: AnyStore,
    plan: RwLock<Arc<RunningPlan>>,
    clock: Arc<dyn Clock>,
    options: EngineOptions,
    wake: Wake,
    intake: OnceLock<intake::Queue>,
    limits: Mutex<intake::Limits>,
    sender: OnceLock<Result<muster_notify::Sender, String>>,
    ack_key: tokio::sync::OnceCell<Vec<u8>>,
    /// The incidents this instance has just appended events to, for live pages.
    changed: tokio::sync::broadcast::Sender<IncidentId>,
    stats: stats::Stats,
}

impl Engine {
    #[must_use]
    pub fn new(store: AnyStore, plan: RunningPlan, clock: Arc<dyn Clock>) -> Self {
        Self::with_options(store, plan, clock, EngineOptions::default())
    }

    #[must_use]
    pub fn with_options(
        store: AnyStore,
        plan: RunningPlan,
        clock: Arc<dyn Clock>,
        options: EngineOptions,
    ) -> Self {
        Self {
            store,
            plan: RwLock::new(Arc::new(plan)),
            clock,
            options,
            wake: Wake::default(),
            intake: OnceLock::new(),
            limits: Mutex::new(intake::Limits::default()),
            sender: OnceLock::new(),
            ack_key: tokio::sync::OnceCell::new(),
            changed: tokio::sync::broadcast::channel(CHANGES_BUFFER).0,
            stats: stats::Stats::default(),
        }
    }

    #[must_use]
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    #[must_use]
    pub fn store(&self) -> &AnyStore {
        &self.store
    }

    /// This instance's health counters.
    #[must_use]
    pub fn stats(&self) -> &stats::Stats {
        &self.stats
    }

    #[must_use]
    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// Announces each incident this instance appends events to, as it commits them. Events
    /// written by another instance are not announced: a live page also re-reads now and then.
    /// A receiver that falls behind gets `Lagged` and should re-read what it shows.
    #[must_use]
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<IncidentId> {
        self.changed.subscribe()
    }

    /// How many receivers of [`Engine::changes`] are alive (live pages open now).
    #[must_use]
    pub fn change_listeners(&self) -> usize {
        self.changed.receiver_count()
    }

    /// The plan in force now.
    #[must_use]
    pub fn plan(&self) -> Arc<RunningPlan> {
        self.plan
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Re-reads the plan from its path; swaps it in only when it has no errors.
    pub fn reload_plan(&self) -> Result<Arc<RunningPlan>, ReloadError> {
        let path = self.plan().path.clone().ok_or(ReloadError::NoPath)?;
        let now = self.now();
        let at = jiff::Timestamp::from_millisecond(now).unwrap_or_else(|_| jiff::Timestamp::now());
        let (_, loaded) = plan_files::load(&path, at).map_err(ReloadError::Unreadable)?;
        let Some(plan) = loaded.clean_plan().cloned() else {
            return Err(ReloadError::Invalid(loaded.diagnostics));
        };
        let running = Arc::new(RunningPlan {
            plan,
            path: Some(path),
            loaded_at: now,
            warnings: loaded.diagnostics,
        });
        *self
            .plan
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = running.clone();
        tracing::info!(plan = %running.plan.organization.name, "plan reloaded");
        Ok(running)
    }

    /// Declares a new incident. The id's day is today in the plan's time zone.
    pub async fn declare(
        &self,
        principal: &Principal,
        command: &Command,
    ) -> Result<Outcome, EngineError> {
        require(principal, Role::Responder)?;
        if !matches!(command, Command::Declare { .. }) {
            return Err(EngineError::rejected(
                "not-a-declaration",
                "a new incident starts with a declare command",
            ));
        }
        let outcome = self
            .declare_as(
                &principal.actor(),
                command,
                Vec::new(),
                Effects::default(),
                None,
            )
            .await?;
        tracing::info!(incident = %outcome.incident.id, actor = %principal.name, "incident declared");
        Ok(outcome)
    }

    /// Declares an incident on behalf of `actor` (a person, a token, or the system), appending
    /// `extra` events after the declaration and committing `effects` with it; `group` is the
    /// alert group the incident will serve, recorded in the same transaction, and a triaged
    /// alert in `effects.take_alert` joins the new incident in it too.
    pub(crate) async fn declare_as(
        &self,
        actor: &str,
        command: &Command,
        extra: Vec<EventKind>,
        mut effects: Effects,
        group: Option<&str>,
    ) -> Result<Outcome, EngineError> {
        let running = self.plan();
        let now = self.now();
        let mut kinds = decide(&running.plan, None, command, now).map_err(EngineError::Rejected)?;
        kinds.extend(extra);
        let day = local_day(&running.plan, now);
        let number = self.store.next_incident_number(day).await?;
        let id = IncidentId::new(day, number);
        effects.group = group.map(|group| (group.to_owned(), id.to_string()));
        if let Some(taken) = &mut effects.take_alert {
            taken.incident = id.to_string();
        }
        self.commit(&running.plan, &id, None, actor, now, kinds, effects)
            .await
    }

    /// Seals `kinds` onto the incident's chain, adds what they set in motion (timers; the first
    /// page when the ladder starts at once) and appends everything in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn commit(
        &self,
        plan: &Plan,
        id: &IncidentId,
        head: Option<&muster_store::Head>,
        actor: &str,
        now: Millis,
        kinds: Vec<EventKind>,
        mut effects: Effects,
    ) -> Result<Outcome, EngineError> {
        let link = head.map(|head| Link {
            seq: head.incident.last_seq,
            hash: &head.last_hash,
        });
        let before = head.map(|head| &head.incident);
        let mut events = seal_all(id, link, now, actor, kinds);
        let mut incident = events
            .iter()
            .fold(before.cloned(), Incident::apply)
            .expect("a declaration starts an incident and an existing one stays one");
        let reaction = escalation::react(plan, before, &incident, &events);
        let subject = id.to_string();
        if reaction.cancel_all {
            effects.cancel_subject = Some(subject.clone());
        }
        for kind in &reaction.cancel {
            effects.cancel.push((kind.clone(), subject.clone()));
        }
        for arm in reaction.arm {
            // A ladder that starts at once pages in this same transaction: no timer round trip
            // between the alert and the first notification.
            if arm.kind == escalation::ESCALATE
                && arm.due_at <= now
                && let Ok(step) = serde_json::from_str::<LadderStep>(&arm.payload)
                && let Some(page) = escalation::escalate(plan, &incident, step, now)
            {
                let last = events.last().expect("at least one event");
                let sealed = chain::seal_after(
                    id,
                    Some(Link {
                        seq: last.seq,
                        hash: &last.hash,
                    }),
                    now,
                    "escalation",
                    page.event.clone(),
                );
                incident = Incident::apply(Some(incident), &sealed).expect("still an incident");
                events.push(sealed);
                effects
                    .deliveries
                    .extend(paging::page_deliveries(self, plan, &incident, &page, now).await);
                if let Some(next) = &page.next {
                    effects.schedule.push(timer(&subject, next));
                }
                continue;
            }
            effects.schedule.push(timer(&subject, &arm));
        }
        self.store
            .append_with(&events, &incident, &effects, now)
            .await?;
        self.stats.committed(head.is_none());
        if !effects.deliveries.is_empty() {
            self.wake.deliveries.notify_one();
        }
        if !effects.schedule.is_empty() {
            self.wake.timers.notify_one();
        }
        // Nobody listening is fine: live pages come and go.
        let _ = self.changed.send(id.clone());
        Ok(Outcome { incident, events })
    }

    /// Appends what `decide` makes of the incident's current state, deciding again when another
    /// writer got there first. `None` from `decide` appends nothing; no events with effects
    /// commit the effects alone (a timer that finds nothing to do is still removed).
    pub(crate) async fn record<F>(
        &self,
        id: &IncidentId,
        actor: &str,
        decide: F,
    ) -> Result<Option<Outcome>, EngineError>
    where
        F: Fn(&Plan, &Incident, Millis) -> Result<Option<(Vec<EventKind>, Effects)>, EngineError>
            + Send
            + Sync,
    {
        for _ in 0..MAX_ATTEMPTS {
            let head = self
                .store
                .head(id)
                .await?
                .ok_or_else(|| EngineError::NotFound(id.to_string()))?;
            let running = self.plan();
            let now = self.now().max(head.incident.updated_at);
            let Some((kinds, effects)) = decide(&running.plan, &head.incident, now)? else {
                return Ok(None);
            };
            if kinds.is_empty() {
                if !effects.is_empty() {
                    self.store.apply(&effects, now).await?;
                }
                return Ok(None);
            }
            match self
                .commit(&running.plan, id, Some(&head), actor, now, kinds, effects)
                .await
            {
                Ok(outcome) => return Ok(Some(outcome)),
                Err(EngineError::Store(StoreError::Conflict { .. })) => {
                    tracing::debug!(incident = %id, "lost a race; deciding again");
                }
                Err(error) => return Err(error),
            }
        }
        Err(EngineError::Busy(id.clone()))
    }

    /// Applies a command to an existing incident.
    pub async fn execute(
        &self,
        principal: &Principal,
        id: &IncidentId,
        command: &Command,
    ) -> Result<Outcome, EngineError> {
        require(principal, Role::Responder)?;
        if matches!(command, Command::Declare { .. }) {
            return Err(EngineError::rejected(
                "already-declared",
                format!("{id} is already declared; declare a new incident instead"),
            ));
        }
        principal.may_approve(command)?;
        // An acknowledgement without a name is the caller's own, when the token acts for someone.
        let defaulted;
        let command = match (command, &principal.person) {
            (Command::Acknowledge { person: None }, Some(person)) => {
                defaulted = Command::Acknowledge {
                    person: Some(person.clone()),
                };
                &defaulted
            }
            _ => command,
        };
        match command {
            Command::SendMessage { .. } => return self.send_message(principal, id, command).await,
            Command::PublishPostmortem { public } => {
                return self.publish_postmortem(principal, id, *public).await;
            }
            _ => {}
        }
        let outcome = self
            .record(id, &principal.actor(), |plan, incident, now| {
                let kinds =
                    decide(plan, Some(incident), command, now).map_err(EngineError::Rejected)?;
                Ok(Some((kinds, Effects::default())))
            })
            .await?;
        outcome.ok_or_else(|| {
            EngineError::rejected(
                "no-change",
                format!("the command changes nothing about {id}"),
            )
        })
    }

    pub async fn incident(&self, id: &IncidentId) -> Result<IncidentView, EngineError> {
        let head = self
            .store
            .head(id)
            .await?
            .ok_or_else(|| EngineError::NotFound(id.to_string()))?;
        let running = self.plan();
        Ok(IncidentView {
            checklist: checklist(&running.plan, &head.incident),
            communications: comms::cadences(&running.plan, &head.incident),
            deadlines: comms::deadlines(&running.plan, &head.incident),
            incident: head.incident,
        })
    }

    pub async fn timeline(&self, id: &IncidentId) -> Result<Vec<Event>, EngineError> {
        let events = self.store.events(id).await?;
        if events.is_empty() {
            return Err(EngineError::NotFound(id.to_string()));
        }
        Ok(events)
    }

    pub async fn list(&self, filter: &IncidentFilter) -> Result<IncidentPage, EngineError> {
        Ok(self.store.list(filter).await?)
    }

    /// Recomputes every incident's chain from the stored bytes.
    pub async fn verify_audit(&self) -> Result<AuditReport, EngineError> {
        Ok(audit::verify(&self.store).await?)
    }

    /// Whether the store answers (for `/readyz`).
    pub async fn ready(&self) -> Result<(), EngineError> {
        Ok(self.store.ping().await?)
    }

    /// Finds the principal a bearer token stands for.
    pub async fn authenticate(&self, secret: &str) -> Result<Principal, TokenError> {
        auth::authenticate(&self.store, secret).await
    }

    /// Creates a token and returns its secret, shown this once.
    pub async fn create_token(
        &self,
        name: &str,
        role: Role,
        person: Option<&str>,
    ) -> Result<String, TokenError> {
        let running = self.plan();
        auth::create_token(
            &self.store,
            Some(&running.plan),
            name,
            role,
            person,
            self.now(),
        )
        .await
    }
}

fn timer(subject: &str, arm: &escalation::Arm) -> NewTimer {
    NewTimer {
        kind: arm.kind.clone(),
        subject: subject.to_owned(),
        due_at: arm.due_at,
        payload: arm.payload.clone(),
    }
}

pub(crate) fn require(principal: &Principal, role: Role) -> Result<(), EngineError> {
    if principal.role.allows(role) {
        Ok(())
    } else {
        Err(EngineError::Forbidden(format!(
            "token '{}' has role {}; this needs {role} or above",
            principal.name, principal.role
        )))
    }
}

fn local_day(plan: &Plan, now: Millis) -> jiff::civil::Date {
    let at = jiff::Timestamp::from_millisecond(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let zone = jiff::tz::TimeZone::get(plan.timezone()).unwrap_or(jiff::tz::TimeZone::UTC);
    at.to_zoned(zone).date()
}

fn seal_all(
    id: &IncidentId,
    previous: Option<Link<'_>>,
    at: Millis,
    actor: &str,
    kinds: Vec<muster_core::incident::EventKind>,
) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::with_capacity(kinds.len());
    let mut link = previous.map(|link| (link.seq, link.hash.to_owned()));
    for kind in kinds {
        let event = chain::seal_after(
            id,
            link.as_ref().map(|(seq, hash)| Link { seq: *seq, hash }),
            at,
            actor,
            kind,
        );
        link = Some((event.seq, event.hash.clone()));
        events.push(event);
    }
    events
}
