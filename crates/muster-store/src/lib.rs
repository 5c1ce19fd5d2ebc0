//! Where incidents live: the [`Store`] trait and its two backends, SQLite (the embedded default,
//! one file in WAL mode) and PostgreSQL (for several instances), each with its own append-only
//! migrations in `migrations/<backend>/`.
//!
//! Invariants kept by every backend:
//! - Events are only ever inserted. The `events` table refuses `UPDATE` and `DELETE` (triggers),
//!   and `(incident, seq)` is unique, so two writers racing on one incident cannot both append the
//!   same place in its chain: the second gets [`StoreError::Conflict`] and nothing it sent is kept.
//! - An append stores the events and the incident's projection row in one transaction, so the
//!   projection used for listing always matches the events.
//! - Events are stored as they will be hashed: `body` is the JSON of the event kind, exactly the
//!   bytes written, so `muster audit verify` reads what is on disk ([`RawEvent`]).
//! - A call returns `Ok` only once the data is committed (SQLite `synchronous=FULL`).

use std::fmt;

use muster_core::access::Role;
use muster_core::incident::{Event, EventKind, Incident, IncidentId, Millis, Status};
use muster_core::plan::{CategoryId, PersonId, SeverityId};
use serde::{Deserialize, Serialize};

mod common;
mod postgres;
mod sqlite;
pub mod testing;
mod work;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use work::{
    Accepted, AlertFilter, AlertRecord, AlertUpdate, DeliveryOutcome, DeliveryRecord,
    DeliveryState, Disposition, Effects, IntegrationKeyRecord, NewAlertEvent, NewDelivery,
    NewTimer, StoredAlertEvent, TakenAlert, TimerRecord,
};

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer appended to this incident first; re-read it and decide again.
    #[error("{incident} changed while this command was being applied (event {seq} already exists)")]
    Conflict { incident: IncidentId, seq: u64 },
    /// A token with this name already exists.
    #[error("a token named '{0}' already exists; pick another name or revoke it first")]
    TokenNameTaken(String),
    /// The integration has a live key with this name.
    #[error(
        "integration {integration} already has a key named '{name}'; pick another name or revoke that key first"
    )]
    IntegrationKeyNameTaken { integration: String, name: String },
    /// The alert to take into an incident is no longer in triage; nothing was kept.
    #[error("alert {key} of {integration} is no longer in triage")]
    NotInTriage { integration: String, key: String },
    /// The database URL names no backend Muster has.
    #[error(
        "'{0}' is not a database Muster can use; give a file path, sqlite://PATH or postgres://USER@HOST/DB"
    )]
    UnknownScheme(String),
    /// A stored row could not be read back (it was changed outside Muster, or is corrupt).
    #[error("stored data for {what} cannot be read: {reason}")]
    Corrupt { what: String, reason: String },
    /// The timer being fired is gone: another instance fired it, or it was cancelled or
    /// re-armed. Nothing of the append was kept.
    #[error("timer {0} is gone (fired, cancelled or re-armed)")]
    TimerGone(i64),
    /// The delivery's claim was taken over by another instance; its outcome was not recorded.
    #[error("delivery {0} is no longer claimed by this instance")]
    ClaimLost(i64),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Database(error.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migration(error.to_string())
    }
}

/// The projection of one incident with where its chain ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub incident: Incident,
    /// Hash of the incident's last event (`incident.last_seq`).
    pub last_hash: String,
}

/// An event exactly as stored, before any decoding: what the audit recomputes hashes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    pub incident: String,
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    /// JSON of the [`EventKind`], as written.
    pub body: String,
    pub hash: String,
}

impl RawEvent {
    /// Decodes the stored row; the error says what is wrong with it.
    pub fn decode(&self) -> Result<Event, String> {
        let incident: IncidentId = self.incident.parse()?;
        let seq = u64::try_from(self.seq).map_err(|_| format!("negative sequence {}", self.seq))?;
        let kind: EventKind = serde_json::from_str(&self.body)
            .map_err(|error| format!("its body is not a valid event: {error}"))?;
        Ok(Event {
            incident,
            seq,
            at: self.at,
            actor: self.actor.clone(),
            kind,
            hash: self.hash.clone(),
        })
    }
}

/// Which incidents to list. Every field narrows the result; the default lists the 50 most
/// recently declared incidents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IncidentFilter {
    /// Any of these statuses (empty: any status).
    pub status: Vec<Status>,
    /// Only open (not resolved or closed) incidents, or only finished ones.
    pub open: Option<bool>,
    /// Any of these severities (empty: any).
    pub severity: Vec<SeverityId>,
    /// Any of these categories (empty: any).
    pub category: Vec<CategoryId>,
    pub drill: Option<bool>,
    /// Carries this tag.
    pub tag: Option<String>,
    /// Declared at or after (ms since epoch).
    pub declared_from: Option<Millis>,
    /// Declared before (ms since epoch).
    pub declared_until: Option<Millis>,
    /// At most this many, most recently declared first (1..=500).
    pub limit: u32,
    /// Skip this many of the matching incidents.
    pub offset: u64,
}

impl IncidentFilter {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 500;
}

impl Default for IncidentFilter {
    fn default() -> Self {
        Self {
            status: Vec::new(),
            open: None,
            severity: Vec::new(),
            category: Vec::new(),
            drill: None,
            tag: None,
            declared_from: None,
            declared_until: None,
            limit: Self::DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

/// One page of a listing and how many incidents match in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentPage {
    pub incidents: Vec<Incident>,
    pub total: u64,
}

/// When an incident was declared, detected, acknowledged and resolved, with what dashboards
/// and metrics group by: one narrow row per incident, read without decoding its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentTimes {
    pub severity: SeverityId,
    pub category: Option<CategoryId>,
    pub status: Status,
    pub drill: bool,
    pub declared_at: Millis,
    /// When impact began (at or before detection).
    pub started_at: Millis,
    pub detected_at: Millis,
    pub acknowledged_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    /// The root-cause tag, once one is set.
    pub root_cause: Option<String>,
}

/// An action item as the overdue report and the metrics read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionItemRecord {
    pub incident: String,
    pub item: u32,
    pub title: String,
    pub owner: PersonId,
    pub horizon: muster_core::incident::Horizon,
    pub status: muster_core::incident::ActionStatus,
    pub root_cause: Option<String>,
    pub created_at: Millis,
    pub due_at: Millis,
    pub closed_at: Option<Millis>,
    pub drill: bool,
}

/// Which action items to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionItemQuery {
    /// Only items still open (open or in progress).
    pub open: bool,
    /// Only open items due before this time (the overdue report).
    pub due_before: Option<Millis>,
    /// Only items created in `[from, until)`.
    pub created: Option<(Millis, Millis)>,
    pub owner: Option<String>,
    /// Drill incidents' items too.
    pub drills: bool,
}

/// A stored API token. The secret itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub name: String,
    pub role: Role,
    /// The plan person this token acts for, if any: approvals made with it are theirs.
    pub person: Option<PersonId>,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

/// Storage for incidents, their events and API tokens.
pub trait Store: Send + Sync {
    /// Appends `events` (consecutive, for one incident, continuing its chain) and writes
    /// `state`, the incident after them, to the projection; all or nothing.
    /// [`StoreError::Conflict`] when any of those sequence numbers is already taken.
    fn append(
        &self,
        events: &[Event],
        state: &Incident,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.append_with(events, state, &NO_EFFECTS, 0)
    }

    /// [`Store::append`] with side effects committed in the same transaction (timers, deliveries,
    /// delivery outcomes, the alert group served). `now` stamps timer and delivery changes.
    /// [`StoreError::TimerGone`] when the timer of `effects.fire` is gone.
    fn append_with(
        &self,
        events: &[Event],
        state: &Incident,
        effects: &Effects,
        now: Millis,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The next incident number for a day (1, 2, …), never handed out twice.
    fn next_incident_number(
        &self,
        day: jiff::civil::Date,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;

    /// The incident's projection and where its chain ends.
    fn head(
        &self,
        id: &IncidentId,
    ) -> impl Future<Output = Result<Option<Head>, StoreError>> + Send;

    /// The incident's events in order.
    fn events(
        &self,
        id: &IncidentId,
    ) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;

    /// Every incident that has events, as stored (the audit walks these, not the projection).
    fn incident_ids(&self) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// One incident's events exactly as stored, in sequence order.
    fn raw_events(
        &self,
        incident: &str,
    ) -> impl Future<Output = Result<Vec<RawEvent>, StoreError>> + Send;

    fn list(
        &self,
        filter: &IncidentFilter,
    ) -> impl Future<Output = Result<IncidentPage, StoreError>> + Send;

    /// Stores a new token by the SHA-256 (hex) of its secret.
    fn create_token(
        &self,
        record: &TokenRecord,
        secret_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The token whose secret hashes to `secret_hash`, revoked or not.
    fn token_by_hash(
        &self,
        secret_hash: &str,
    ) -> impl Future<Output = Result<Option<TokenRecord>, StoreError>> + Send;

    fn tokens(&self) -> impl Future<Output = Result<Vec<TokenRecord>, StoreError>> + Send;

    /// Marks a token revoked; `false` when there is no unrevoked token by that name.
    fn revoke_token(
        &self,
        name: &str,
        at: Millis,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Whether the database answers.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The status page's material: every `update_published` event (and public
    /// `postmortem_published` event) of the incidents still open on the page or updated at or
    /// after `since`, oldest first. Nothing else is ever read for it.
    fn published(
        &self,
        since: Millis,
    ) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;

    /// The times of the incidents declared in `[from, until)`, oldest first; drills only when
    /// `drills` is true.
    fn incident_times(
        &self,
        from: Millis,
        until: Millis,
        drills: bool,
    ) -> impl Future<Output = Result<Vec<IncidentTimes>, StoreError>> + Send;

    /// Action items across incidents, soonest due first.
    fn action_items(
        &self,
        query: &ActionItemQuery,
    ) -> impl Future<Output = Result<Vec<ActionItemRecord>, StoreError>> + Send;
}

/// The engine's durable work queues: accepted alerts and their processed state, timers,
/// deliveries, leases, cursors and settings (see the `work` module for how each stays exactly
/// once across instances).
pub trait Work: Send + Sync {
    /// Commits side effects on their own.
    fn apply(
        &self,
        effects: &Effects,
        now: Millis,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores alert notifications in one transaction (group commit), skipping resends of
    /// a stored notification (same integration and dedup identity).
    fn accept_alerts(
        &self,
        batch: &[NewAlertEvent],
    ) -> impl Future<Output = Result<Vec<Accepted>, StoreError>> + Send;

    /// Stored alert events after `after`, in order.
    fn alert_events_after(
        &self,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StoredAlertEvent>, StoreError>> + Send;

    /// Writes processed alert states and moves the named cursor, in one transaction.
    fn record_alerts(
        &self,
        updates: &[AlertUpdate],
        cursor: &str,
        position: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Where the named cursor stands (0 before the first record).
    fn cursor(&self, name: &str) -> impl Future<Output = Result<i64, StoreError>> + Send;

    fn alerts(
        &self,
        filter: &AlertFilter,
    ) -> impl Future<Output = Result<Vec<AlertRecord>, StoreError>> + Send;

    /// Stores a key made through the API by the SHA-256 (hex) of its secret;
    /// [`StoreError::IntegrationKeyNameTaken`] when the integration has a live key of that name.
    fn create_integration_key(
        &self,
        record: &IntegrationKeyRecord,
        secret_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// An integration's API keys, revoked ones included, by name.
    fn integration_keys(
        &self,
        integration: &str,
    ) -> impl Future<Output = Result<Vec<IntegrationKeyRecord>, StoreError>> + Send;

    /// Marks an integration's live key revoked; `false` when it has no live key by that name.
    fn revoke_integration_key(
        &self,
        integration: &str,
        name: &str,
        at: Millis,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The integration whose live (unrevoked) API key hashes to `secret_hash`.
    fn integration_of_key(
        &self,
        secret_hash: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// The value of a server-wide setting; the first caller's `proposed` value wins and is kept.
    fn setting(
        &self,
        name: &str,
        proposed: &str,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// The incident last recorded as serving an alert group.
    fn group_incident(
        &self,
        group: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// Takes or renews the named lease for `holder` until `until`; `false` while another
    /// holder's lease runs.
    fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: Millis,
        until: Millis,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Claims pending timers due by `now` that nobody else holds, for `holder` until `until`.
    fn claim_timers(
        &self,
        now: Millis,
        holder: &str,
        until: Millis,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<TimerRecord>, StoreError>> + Send;

    /// Claims pending deliveries due by `now` that nobody else holds.
    fn claim_deliveries(
        &self,
        now: Millis,
        holder: &str,
        until: Millis,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<DeliveryRecord>, StoreError>> + Send;

    /// Claims every pending delivery for a destination (due or not) that nobody else holds:
    /// what a bundle folds in.
    fn claim_destination(
        &self,
        destination: &str,
        holder: &str,
        now: Millis,
        until: Millis,
    ) -> impl Future<Output = Result<Vec<DeliveryRecord>, StoreError>> + Send;

    /// When a destination was last sent to.
    fn last_sent(
        &self,
        destination: &str,
    ) -> impl Future<Output = Result<Option<Millis>, StoreError>> + Send;

    /// Releases a claimed delivery to be tried at `next_at` without counting an attempt.
    fn postpone(
        &self,
        id: i64,
        holder: &str,
        next_at: Millis,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

static NO_EFFECTS: Effects = Effects {
    schedule: Vec::new(),
    cancel: Vec::new(),
    cancel_subject: None,
    fire: None,
    deliveries: Vec::new(),
    outcomes: Vec::new(),
    group: None,
    take_alert: None,
};

/// The backend chosen by a database URL.
#[derive(Debug, Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl AnyStore {
    /// Opens (creating and migrating as needed) the database a URL names: `postgres://…` or
    /// `postgresql://…`; `sqlite://PATH`, `sqlite:PATH` or a plain file path. Any other scheme is
    /// an error, never a new empty file.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        match Backend::of(url)? {
            Backend::Postgres => Ok(AnyStore::Postgres(PostgresStore::open(url).await?)),
            Backend::Sqlite(path) => Ok(AnyStore::Sqlite(SqliteStore::open(&path).await?)),
        }
    }

    /// `sqlite` or `postgres`, for logs and health output.
    #[must_use]
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }
}

/// What a database URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    /// A SQLite file (or `:memory:`).
    Sqlite(String),
}

impl Backend {
    pub fn of(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Backend::Postgres);
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StoreError::UnknownScheme(url.to_owned()));
            }
            return Ok(Backend::Sqlite(path.to_owned()));
        }
        // `scheme:` followed by anything that is not a Windows drive letter is some other
        // database, or a typo; refuse it rather than create a file named after it.
        if let Some((scheme, _)) = url.split_once(':')
            && scheme.len() > 1
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Err(StoreError::UnknownScheme(url.to_owned()));
        }
        if url.is_empty() {
            return Err(StoreError::UnknownScheme(url.to_owned()));
        }
        Ok(Backend::Sqlite(url.to_owned()))
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Postgres => f.write_str("postgres"),
            Backend::Sqlite(path) => write!(f, "sqlite ({path})"),
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($store) => $call.await,
            AnyStore::Postgres($store) => $call.await,
        }
    };
}

impl Store for AnyStore {
    async fn append_with(
        &self,
        events: &[Event],
        state: &Incident,
        effects: &Effects,
        now: Millis,
    ) -> Result<(), StoreError> {
        dispatch!(self, store => store.append_with(events, state, effects, now))
    }

    async fn next_incident_number(&self, day: jiff::civil::Date) -> Result<u32, StoreError> {
        dispatch!(self, store => store.next_incident_number(day))
    }

    async fn head(&self, id: &IncidentId) -> Result<Option<Head>, StoreError> {
        dispatch!(self, store => store.head(id))
    }

    async fn events(&self, id: &IncidentId) -> Result<Vec<Event>, StoreError> {
        dispatch!(self, store => store.events(id))
    }

    async fn incident_ids(&self) -> Result<Vec<String>, StoreError> {
        dispatch!(self, store => store.incident_ids())
    }

    async fn raw_events(&self, incident: &str) -> Result<Vec<RawEvent>, StoreError> {
        dispatch!(self, store => store.raw_events(incident))
    }

    async fn list(&self, filter: &IncidentFilter) -> Result<IncidentPage, StoreError> {
        dispatch!(self, store => store.list(filter))
    }

    async fn published(&self, since: Millis) -> Result<Vec<Event>, StoreError> {
        dispatch!(self, store => store.published(since))
    }

    async fn incident_times(
        &self,
        from: Millis,
        until: Millis,
        drills: bool,
    ) -> Result<Vec<IncidentTimes>, StoreError> {
        dispatch!(self, store => store.incident_times(from, until, drills))
    }

    async fn action_items(
        &self,
        query: &ActionItemQuery,
    ) -> Result<Vec<ActionItemRecord>, StoreError> {
        dispatch!(self, store => store.action_items_matching(query))
    }

    async fn create_token(
        &self,
        record: &TokenRecord,
        secret_hash: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self, store => store.create_token(record, secret_hash))
    }

    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        dispatch!(self, store => store.token_by_hash(secret_hash))
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        dispatch!(self, store => store.tokens())
    }

    async fn revoke_token(&self, name: &str, at: Millis) -> Result<bool, StoreError> {
        dispatch!(self, store => store.revoke_token(name, at))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, store => store.ping())
    }
}

impl Work for AnyStore {
    async fn apply(&self, effects: &Effects, now: Millis) -> Result<(), StoreError> {
        dispatch!(self, store => store.apply(effects, now))
    }

    async fn accept_alerts(&self, batch: &[NewAlertEvent]) -> Result<Vec<Accepted>, StoreError> {
        dispatch!(self, store => store.accept_alerts(batch))
    }

    async fn alert_events_after(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredAlertEvent>, StoreError> {
        dispatch!(self, store => store.alert_events_after(after, limit))
    }

    async fn record_alerts(
        &self,
        updates: &[AlertUpdate],
        cursor: &str,
        position: i64,
    ) -> Result<(), StoreError> {
        dispatch!(self, store => store.record_alerts(updates, cursor, position))
    }

    async fn cursor(&self, name: &str) -> Result<i64, StoreError> {
        dispatch!(self, store => store.cursor(name))
    }

    async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        dispatch!(self, store => store.alerts(filter))
    }

    async fn create_integration_key(
        &self,
        record: &IntegrationKeyRecord,
        secret_hash: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self, store => store.create_integration_key(record, secret_hash))
    }

    async fn integration_keys(
        &self,
        integration: &str,
    ) -> Result<Vec<IntegrationKeyRecord>, StoreError> {
        dispatch!(self, store => store.integration_keys(integration))
    }

    async fn revoke_integration_key(
        &self,
        integration: &str,
        name: &str,
        at: Millis,
    ) -> Result<bool, StoreError> {
        dispatch!(self, store => store.revoke_integration_key(integration, name, at))
    }

    async fn integration_of_key(&self, secret_hash: &str) -> Result<Option<String>, StoreError> {
        dispatch!(self, store => store.integration_of_key(secret_hash))
    }

    async fn setting(&self, name: &str, proposed: &str) -> Result<String, StoreError> {
        dispatch!(self, store => store.setting(name, proposed))
    }

    async fn group_incident(&self, group: &str) -> Result<Option<String>, StoreError> {
        dispatch!(self, store => store.group_incident(group))
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: Millis,
        until: Millis,
    ) -> Result<bool, StoreError> {
        dispatch!(self, store => store.acquire_lease(name, holder, now, until))
    }

    async fn claim_timers(
        &self,
        now: Millis,
        holder: &str,
        until: Millis,
        limit: u32,
    ) -> Result<Vec<TimerRecord>, StoreError> {
        dispatch!(self, store => store.claim_timers(now, holder, until, limit))
    }

    async fn claim_deliveries(
        &self,
        now: Millis,
        holder: &str,
        until: Millis,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        dispatch!(self, store => store.claim_deliveries(now, holder, until, limit))
    }

    async fn claim_destination(
        &self,
        destination: &str,
        holder: &str,
        now: Millis,
        until: Millis,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        dispatch!(self, store => store.claim_destination(destination, holder, now, until))
    }

    async fn last_sent(&self, destination: &str) -> Result<Option<Millis>, StoreError> {
        dispatch!(self, store => store.last_sent(destination))
    }

    async fn postpone(&self, id: i64, holder: &str, next_at: Millis) -> Result<(), StoreError> {
        dispatch!(self, store => store.postpone(id, holder, next_at))
    }
}
