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

pub mod audit;
pub mod auth;
pub mod clock;
pub mod plan_files;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use muster_core::access::Role;
use muster_core::diagnostic::Diagnostic;
use muster_core::incident::checklist::{ChecklistItem, checklist};
use muster_core::incident::{
    Command, Event, Incident, IncidentId, Link, Millis, Rejection, chain, decide,
};
use muster_core::plan::Plan;
use muster_store::{AnyStore, IncidentFilter, IncidentPage, Store, StoreError};
use serde::{Deserialize, Serialize};

pub use audit::{AuditReport, BrokenEntry};
pub use auth::{Principal, TokenError};
pub use clock::{Clock, ManualClock, SystemClock};

/// How often a command is decided again after losing a race on the same incident.
const MAX_ATTEMPTS: usize = 8;

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

/// The running system: plan, store and clock.
#[derive(Debug)]
pub struct Engine {
    store: AnyStore,
    plan: RwLock<Arc<RunningPlan>>,
    clock: Arc<dyn Clock>,
}

impl Engine {
    #[must_use]
    pub fn new(store: AnyStore, plan: RunningPlan, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            plan: RwLock::new(Arc::new(plan)),
            clock,
        }
    }

    #[must_use]
    pub fn store(&self) -> &AnyStore {
        &self.store
    }

    #[must_use]
    pub fn now(&self) -> Millis {
        self.clock.now()
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
            return Err(EngineError::Rejected(Rejection {
                code: "not-a-declaration",
                message: "a new incident starts with a declare command".to_owned(),
            }));
        }
        let running = self.plan();
        let now = self.now();
        let kinds = decide(&running.plan, None, command, now).map_err(EngineError::Rejected)?;
        let day = local_day(&running.plan, now);
        let number = self.store.next_incident_number(day).await?;
        let id = IncidentId::new(day, number);
        let events = seal_all(&id, None, now, &principal.actor(), kinds);
        let incident = Incident::fold(&events).expect("a declaration starts an incident");
        self.store.append(&events, &incident).await?;
        tracing::info!(incident = %id, actor = %principal.name, "incident declared");
        Ok(Outcome { incident, events })
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
            return Err(EngineError::Rejected(Rejection {
                code: "already-declared",
                message: format!("{id} is already declared; declare a new incident instead"),
            }));
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
        for _ in 0..MAX_ATTEMPTS {
            let head = self
                .store
                .head(id)
                .await?
                .ok_or_else(|| EngineError::NotFound(id.to_string()))?;
            let running = self.plan();
            let now = self.now().max(head.incident.updated_at);
            let kinds = decide(&running.plan, Some(&head.incident), command, now)
                .map_err(EngineError::Rejected)?;
            let link = Link {
                seq: head.incident.last_seq,
                hash: &head.last_hash,
            };
            let events = seal_all(id, Some(link), now, &principal.actor(), kinds);
            let incident = events
                .iter()
                .fold(Some(head.incident), Incident::apply)
                .expect("an existing incident stays one");
            match self.store.append(&events, &incident).await {
                Ok(()) => return Ok(Outcome { incident, events }),
                Err(StoreError::Conflict { .. }) => {
                    tracing::debug!(incident = %id, "lost a race; deciding again");
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(EngineError::Busy(id.clone()))
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

fn require(principal: &Principal, role: Role) -> Result<(), EngineError> {
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
