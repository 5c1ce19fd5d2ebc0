//! The engine's durable work: accepted alerts and their processed state, timers, outgoing
//! notifications, leases and cursors. Written once, compiled for both backends by
//! [`work_queries!`]: the statements are the same text, with `?` placeholders turned into `$n`
//! for PostgreSQL and `FOR UPDATE SKIP LOCKED` added to PostgreSQL's claims.
//!
//! Exactly once, across instances:
//! - A timer fires inside the transaction that appends what it caused: [`Effects::fire`]
//!   deletes its row, and if the row is gone already (fired elsewhere, cancelled, re-armed) the
//!   whole append is refused with [`StoreError::TimerGone`]. Two instances that both claimed it
//!   (a lease ran out) cannot both commit.
//! - Deliveries created by an append are committed with it; their outcome is recorded with the
//!   timeline event that reports it, only by the instance that holds the claim.
//! - Alert events get their `seq` in commit order (PostgreSQL serialises intake commits with a
//!   transaction-level advisory lock), so a reader that has seen `seq = n` never later finds a
//!   committed row below `n`.

use muster_core::incident::Millis;
use serde::{Deserialize, Serialize};

/// Alert events written by one `INSERT` (six parameters each, well under both backends'
/// limits on parameters per statement).
pub(crate) const INSERT_CHUNK: usize = 500;

/// An alert notification to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlertEvent {
    pub integration: String,
    pub key: String,
    pub action: String,
    pub dedup: Option<String>,
    pub received_at: Millis,
    /// JSON of the normalised alert.
    pub body: String,
}

/// What became of one alert of an accepted batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Stored with this sequence number.
    Stored(i64),
    /// A resend of a notification already stored (same integration and dedup identity).
    Duplicate,
}

/// An alert event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAlertEvent {
    pub seq: i64,
    pub received_at: Millis,
    /// JSON of the normalised alert.
    pub body: String,
}

/// Where a processed alert went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Attached to an incident.
    Incident,
    /// Held for a responder to look at.
    Triage,
    /// Recorded and otherwise ignored by a route.
    Ignored,
    /// A watchdog alert that keeps a heartbeat alive.
    Heartbeat,
}

impl Disposition {
    pub const ALL: [Disposition; 4] = [
        Disposition::Triage,
        Disposition::Incident,
        Disposition::Ignored,
        Disposition::Heartbeat,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Incident => "incident",
            Disposition::Triage => "triage",
            Disposition::Ignored => "ignored",
            Disposition::Heartbeat => "heartbeat",
        }
    }

    /// The disposition written `text` (as [`Disposition::as_str`] writes it).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|disposition| disposition.as_str() == text)
    }
}

/// The processed state of one alert after one of its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertUpdate {
    pub integration: String,
    pub key: String,
    /// `firing`, `acknowledged` or `resolved`.
    pub status: String,
    pub summary: String,
    pub severity: Option<String>,
    pub route: String,
    pub group: String,
    pub disposition: Disposition,
    pub incident: Option<String>,
    pub seen_at: Millis,
    /// The alert event this update comes from; older updates than the stored one are ignored.
    pub seq: i64,
    /// JSON object of the labels.
    pub labels: String,
}

/// One alert as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    pub integration: String,
    pub key: String,
    pub status: String,
    pub summary: String,
    pub severity: Option<String>,
    pub route: String,
    pub group: String,
    pub disposition: Disposition,
    pub incident: Option<String>,
    pub first_seen: Millis,
    pub last_seen: Millis,
    /// How many notifications of this alert were stored.
    pub occurrences: i64,
    pub labels: serde_json::Value,
}

/// Which alerts to list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertFilter {
    /// One alert: its integration and key (both, or neither).
    pub integration: Option<String>,
    pub key: Option<String>,
    pub incident: Option<String>,
    pub disposition: Option<Disposition>,
    /// `firing`, `acknowledged` or `resolved`.
    pub status: Option<String>,
    /// At most this many (1..=500, default 100).
    pub limit: Option<u32>,
}

/// A key made through the API for an integration of the plan. Only the SHA-256 of its secret is
/// stored, and never shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationKeyRecord {
    pub integration: String,
    /// Unique among the integration's live keys.
    pub name: String,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

/// A triaged alert taken into an incident: its disposition becomes `incident`. It must still be
/// in triage when the transaction commits, or nothing of the transaction is kept
/// ([`crate::StoreError::NotInTriage`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenAlert {
    pub integration: String,
    pub key: String,
    /// The incident it joins (filled in by a declaration once the incident has its id).
    pub incident: String,
}

/// A timer to (re)arm: it replaces any pending timer of the same kind and subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTimer {
    pub kind: String,
    /// What it is about: an incident id, an integration id.
    pub subject: String,
    pub due_at: Millis,
    /// JSON the engine reads back when the timer fires.
    pub payload: String,
}

/// A pending timer as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerRecord {
    pub id: i64,
    pub kind: String,
    pub subject: String,
    pub due_at: Millis,
    pub payload: String,
}

/// A notification to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub incident: Option<String>,
    /// The plan channel it goes through.
    pub channel: String,
    /// The contact it reaches, for throttling and bundling: `email:alice@example.com`,
    /// `channel:war-room`, `channel:war-room/person:alice`.
    pub destination: String,
    pub person: Option<String>,
    /// JSON of the message.
    pub message: String,
    pub next_at: Millis,
}

/// A notification as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub id: i64,
    pub incident: Option<String>,
    pub channel: String,
    pub destination: String,
    pub person: Option<String>,
    pub message: String,
    /// `pending`, `sent`, `folded` (sent inside another delivery's message) or `failed`.
    pub state: String,
    pub attempts: i64,
    pub next_at: Millis,
    pub created_at: Millis,
    pub finished_at: Option<Millis>,
    pub folded_into: Option<i64>,
    pub last_error: Option<String>,
}

/// What happened to a claimed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryState {
    Sent,
    /// Sent inside the message of this other delivery.
    Folded(i64),
    /// To be tried again at this time.
    Retry(Millis),
    /// Given up on.
    Failed,
}

/// The outcome of a delivery attempt, recorded by the instance holding its claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOutcome {
    pub id: i64,
    pub holder: String,
    pub state: DeliveryState,
    /// Attempts made so far, this one included (unchanged for folded deliveries).
    pub attempts: i64,
    pub error: Option<String>,
    pub at: Millis,
}

/// Side effects committed in the same transaction as an append (or on their own).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// Timers to arm, each replacing a pending one of the same kind and subject.
    pub schedule: Vec<NewTimer>,
    /// Pending timers to cancel, by `(kind, subject)`.
    pub cancel: Vec<(String, String)>,
    /// Cancel (delete) every timer about this subject.
    pub cancel_subject: Option<String>,
    /// The timer whose firing this is: it must still be there, and is deleted.
    pub fire: Option<i64>,
    pub deliveries: Vec<NewDelivery>,
    pub outcomes: Vec<DeliveryOutcome>,
    /// The alert group this incident now serves.
    pub group: Option<(String, String)>,
    /// A triaged alert that joins the incident.
    pub take_alert: Option<TakenAlert>,
}

impl Effects {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self == &Effects::default()
    }
}

pub(crate) fn disposition(text: &str) -> Result<Disposition, crate::StoreError> {
    Disposition::parse(text).ok_or_else(|| crate::StoreError::Corrupt {
        what: "an alert".to_owned(),
        reason: format!("unknown disposition '{text}'"),
    })
}

/// Turns `?` placeholders into `$1, $2, …` for PostgreSQL.
pub(crate) fn numbered(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut n = 0;
    for c in text.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Implements the work queries for one backend. `$pg` says whether placeholders are numbered and
/// claims skip locked rows; `$reader`/`$writer` name the store's pools; `$begin` starts a write
/// transaction.
macro_rules! work_queries {
    ($store:ty, $db:ty, pg: $pg:expr, reader: $reader:ident, writer: $writer:ident, begin: $begin:literal) => {
        impl $store {
            fn sql(text: &'static str) -> sqlx::AssertSqlSafe<String> {
                if $pg {
                    sqlx::AssertSqlSafe($crate::work::numbered(text))
                } else {
                    sqlx::AssertSqlSafe(text.to_owned())
                }
            }

            async fn begin_write(&self) -> Result<sqlx::Transaction<'static, $db>, StoreError> {
                if $begin.is_empty() {
                    Ok(self.$writer.begin().await?)
                } else {
                    Ok(self.$writer.begin_with($begin).await?)
                }
            }

            /// Writes what an append changes besides the events: the narrow row, the state, the
            /// tags and the action items touched by `events`.
            pub(crate) async fn write_projection(
                tx: &mut sqlx::Transaction<'static, $db>,
                id: &str,
                state: &muster_core::incident::Incident,
                state_json: String,
                last_hash: &str,
                events: &[muster_core::incident::Event],
            ) -> Result<(), StoreError> {
                $crate::common::bind_incident(
                    sqlx::query(Self::sql(
                        "INSERT INTO incidents \
                             (id, title, status, severity, category, drill, declared_at, updated_at, \
                              last_seq, last_hash, detected_at, acknowledged_at, resolved_at, \
                              started_at, root_cause) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                         ON CONFLICT (id) DO UPDATE SET \
                             title = excluded.title, status = excluded.status, \
                             severity = excluded.severity, category = excluded.category, \
                             drill = excluded.drill, declared_at = excluded.declared_at, \
                             updated_at = excluded.updated_at, last_seq = excluded.last_seq, \
                             last_hash = excluded.last_hash, detected_at = excluded.detected_at, \
                             acknowledged_at = excluded.acknowledged_at, \
                             resolved_at = excluded.resolved_at, started_at = excluded.started_at, \
                             root_cause = excluded.root_cause",
                    )),
                    id,
                    state,
                    last_hash,
                )?
                .execute(&mut **tx)
                .await?;
                sqlx::query(Self::sql(
                    "INSERT INTO incident_states (id, state) VALUES (?, ?) \
                     ON CONFLICT (id) DO UPDATE SET state = excluded.state",
                ))
                .bind(id)
                .bind(state_json)
                .execute(&mut **tx)
                .await?;
                let tags_changed = events.iter().any(|event| {
                    matches!(
                        event.kind,
                        muster_core::incident::EventKind::Declared { .. }
                            | muster_core::incident::EventKind::TagAdded { .. }
                    )
                });
                if tags_changed {
                    sqlx::query(Self::sql("DELETE FROM incident_tags WHERE incident = ?"))
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                    for tag in &state.tags {
                        sqlx::query(Self::sql(
                            "INSERT INTO incident_tags (incident, tag) VALUES (?, ?)",
                        ))
                        .bind(id)
                        .bind(tag)
                        .execute(&mut **tx)
                        .await?;
                    }
                }
                for event in events {
                    let item = match &event.kind {
                        muster_core::incident::EventKind::ActionItemAdded { item, .. }
                        | muster_core::incident::EventKind::ActionItemUpdated { item, .. } => *item,
                        _ => continue,
                    };
                    let Some(action) = state.action_items.get(&item) else {
                        continue;
                    };
                    sqlx::query(Self::sql(
                        "INSERT INTO action_items \
                             (incident, item, title, owner, horizon, status, root_cause, \
                              created_at, due_at, closed_at, drill) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                         ON CONFLICT (incident, item) DO UPDATE SET \
                             title = excluded.title, owner = excluded.owner, \
                             horizon = excluded.horizon, status = excluded.status, \
                             root_cause = excluded.root_cause, due_at = excluded.due_at, \
                             closed_at = excluded.closed_at",
                    ))
                    .bind(id)
                    .bind(i64::from(item))
                    .bind(action.title.as_str())
                    .bind(action.owner.as_str())
                    .bind(action.horizon.as_str())
                    .bind(action.status.as_str())
                    .bind(action.root_cause.as_deref())
                    .bind(action.created_at)
                    .bind(action.due_at)
                    .bind(action.closed_at)
                    .bind(state.drill)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }

            /// Indexes the status-page updates among `events` (and public post-mortems of
            /// incidents already on the page) inside an append's transaction.
            pub(crate) async fn write_published(
                tx: &mut sqlx::Transaction<'static, $db>,
                id: &str,
                events: &[muster_core::incident::Event],
            ) -> Result<(), StoreError> {
                for event in events {
                    match &event.kind {
                        muster_core::incident::EventKind::UpdatePublished { state, .. } => {
                            sqlx::query(Self::sql(
                                "INSERT INTO public_incidents (incident, state, first_at, last_at) \
                                 VALUES (?, ?, ?, ?) \
                                 ON CONFLICT (incident) DO UPDATE SET \
                                     state = excluded.state, last_at = excluded.last_at",
                            ))
                            .bind(id)
                            .bind(state.as_str())
                            .bind(event.at)
                            .bind(event.at)
                            .execute(&mut **tx)
                            .await?;
                        }
                        // A public post-mortem joins an incident already on the page.
                        muster_core::incident::EventKind::PostmortemPublished {
                            public: true,
                            ..
                        } => {
                            let updated = sqlx::query(Self::sql(
                                "UPDATE public_incidents SET last_at = ? WHERE incident = ?",
                            ))
                            .bind(event.at)
                            .bind(id)
                            .execute(&mut **tx)
                            .await?;
                            if updated.rows_affected() == 0 {
                                continue;
                            }
                        }
                        _ => continue,
                    }
                    sqlx::query(Self::sql(
                        "INSERT INTO public_updates (incident, seq) VALUES (?, ?)",
                    ))
                    .bind(id)
                    .bind($crate::common::to_i64(event.seq, "event")?)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }

            /// Every status-page update of the incidents still open there or updated since
            /// `since`, oldest first.
            pub(crate) async fn published_since(
                &self,
                since: muster_core::incident::Millis,
            ) -> Result<Vec<muster_core::incident::Event>, StoreError> {
                let rows = sqlx::query(Self::sql(
                    // CROSS JOIN keeps SQLite's join order: from the few published incidents
                    // to their events by primary key, never a scan of every event.
                    "SELECT e.incident, e.seq, e.at, e.actor, e.body, e.hash \
                     FROM public_incidents p \
                     CROSS JOIN public_updates u \
                     CROSS JOIN events e \
                     WHERE u.incident = p.incident AND e.incident = u.incident AND e.seq = u.seq \
                         AND (p.last_at >= ? OR p.state <> 'resolved') \
                     ORDER BY e.at, e.incident, e.seq",
                ))
                .bind(since)
                .fetch_all(&self.$reader)
                .await?;
                rows.iter()
                    .map(|row| {
                        let raw = $crate::common::raw_event(row)?;
                        raw.decode().map_err(|reason| StoreError::Corrupt {
                            what: format!("{} event {}", raw.incident, raw.seq),
                            reason,
                        })
                    })
                    .collect()
            }

            /// The times of every incident declared in `[from, until)`, drills included only
            /// when asked, oldest first.
            pub(crate) async fn times_between(
                &self,
                from: muster_core::incident::Millis,
                until: muster_core::incident::Millis,
                drills: bool,
            ) -> Result<Vec<$crate::IncidentTimes>, StoreError> {
                // Two statements rather than one with an OR, so that without drills the read
                // stays on the covering index `(drill, declared_at, …)`.
                let query = if drills {
                    Self::sql(
                        "SELECT severity, category, status, drill, declared_at, started_at, \
                             detected_at, acknowledged_at, resolved_at, root_cause \
                         FROM incidents WHERE declared_at >= ? AND declared_at < ? \
                         ORDER BY declared_at",
                    )
                } else {
                    Self::sql(
                        "SELECT severity, category, status, drill, declared_at, started_at, \
                             detected_at, acknowledged_at, resolved_at, root_cause \
                         FROM incidents WHERE drill = ? AND declared_at >= ? AND declared_at < ? \
                         ORDER BY declared_at",
                    )
                };
                let mut query = sqlx::query(query);
                if !drills {
                    query = query.bind(false);
                }
                let rows = query
                    .bind(from)
                    .bind(until)
                    .fetch_all(&self.$reader)
                    .await?;
                rows.iter().map($crate::common::incident_times).collect()
            }

            /// Action items matching `query`, soonest due first.
            pub(crate) async fn action_items_matching(
                &self,
                query: &$crate::ActionItemQuery,
            ) -> Result<Vec<$crate::ActionItemRecord>, StoreError> {
                // One statement; absent filters bind values that match everything.
                let rows = sqlx::query(Self::sql(
                    "SELECT incident, item, title, owner, horizon, status, root_cause, \
                         created_at, due_at, closed_at, drill \
                     FROM action_items \
                     WHERE (? OR status IN ('open', 'in-progress')) \
                         AND due_at < ? AND created_at >= ? AND created_at < ? \
                         AND (? OR owner = ?) AND (? OR drill = ?) \
                     ORDER BY due_at, incident, item",
                ))
                .bind(!query.open && query.due_before.is_none())
                .bind(query.due_before.unwrap_or(i64::MAX))
                .bind(query.created.map_or(i64::MIN, |(from, _)| from))
                .bind(query.created.map_or(i64::MAX, |(_, until)| until))
                .bind(query.owner.is_none())
                .bind(query.owner.clone().unwrap_or_default())
                .bind(query.drills)
                .bind(false)
                .fetch_all(&self.$reader)
                .await?;
                rows.iter().map($crate::common::action_item).collect()
            }

            /// Writes `effects` inside an open transaction.
            pub(crate) async fn write_effects(
                tx: &mut sqlx::Transaction<'static, $db>,
                effects: &$crate::work::Effects,
                now: muster_core::incident::Millis,
            ) -> Result<(), StoreError> {
                use $crate::work::DeliveryState;
                if let Some(timer) = effects.fire {
                    let fired = sqlx::query(Self::sql("DELETE FROM timers WHERE id = ?"))
                    .bind(timer)
                    .execute(&mut **tx)
                    .await?;
                    if fired.rows_affected() == 0 {
                        return Err(StoreError::TimerGone(timer));
                    }
                }
                if let Some(subject) = &effects.cancel_subject {
                    sqlx::query(Self::sql("DELETE FROM timers WHERE subject = ?"))
                    .bind(subject)
                    .execute(&mut **tx)
                    .await?;
                }
                for (kind, subject) in &effects.cancel {
                    sqlx::query(Self::sql("DELETE FROM timers WHERE kind = ? AND subject = ?"))
                    .bind(kind)
                    .bind(subject)
                    .execute(&mut **tx)
                    .await?;
                }
                for timer in &effects.schedule {
                    Self::arm(tx, timer, now).await?;
                }
                for delivery in &effects.deliveries {
                    sqlx::query(Self::sql(
                        "INSERT INTO deliveries (incident, channel, destination, person, message, \
                             state, attempts, next_at, created_at) \
                         VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
                    ))
                    .bind(&delivery.incident)
                    .bind(&delivery.channel)
                    .bind(&delivery.destination)
                    .bind(&delivery.person)
                    .bind(&delivery.message)
                    .bind(delivery.next_at)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                }
                for outcome in &effects.outcomes {
                    let (state, next_at, folded_into) = match &outcome.state {
                        DeliveryState::Sent => ("sent", None, None),
                        DeliveryState::Folded(into) => ("folded", None, Some(*into)),
                        DeliveryState::Retry(at) => ("pending", Some(*at), None),
                        DeliveryState::Failed => ("failed", None, None),
                    };
                    let finished = if next_at.is_some() { None } else { Some(outcome.at) };
                    let updated = sqlx::query(Self::sql(
                        "UPDATE deliveries SET state = ?, attempts = ?, \
                             next_at = COALESCE(?, next_at), finished_at = ?, folded_into = ?, \
                             last_error = COALESCE(?, last_error), claimed_by = NULL, claimed_until = NULL \
                         WHERE id = ? AND state = 'pending' AND claimed_by = ?",
                    ))
                    .bind(state)
                    .bind(outcome.attempts)
                    .bind(next_at)
                    .bind(finished)
                    .bind(folded_into)
                    .bind(&outcome.error)
                    .bind(outcome.id)
                    .bind(&outcome.holder)
                    .execute(&mut **tx)
                    .await?;
                    if updated.rows_affected() == 0 {
                        return Err(StoreError::ClaimLost(outcome.id));
                    }
                    if matches!(outcome.state, DeliveryState::Sent) {
                        sqlx::query(Self::sql(
                            "INSERT INTO destinations (destination, last_sent_at) \
                             SELECT destination, ? FROM deliveries WHERE id = ? \
                             ON CONFLICT (destination) DO UPDATE SET last_sent_at = excluded.last_sent_at",
                        ))
                        .bind(outcome.at)
                        .bind(outcome.id)
                        .execute(&mut **tx)
                        .await?;
                    }
                }
                if let Some((group, incident)) = &effects.group {
                    sqlx::query(Self::sql(
                        "INSERT INTO alert_groups (grp, incident) VALUES (?, ?) \
                         ON CONFLICT (grp) DO UPDATE SET incident = excluded.incident",
                    ))
                    .bind(group)
                    .bind(incident)
                    .execute(&mut **tx)
                    .await?;
                }
                if let Some(taken) = &effects.take_alert {
                    let updated = sqlx::query(Self::sql(
                        "UPDATE alerts SET disposition = 'incident', incident = ? \
                         WHERE integration = ? AND alert_key = ? AND disposition = 'triage'",
                    ))
                    .bind(&taken.incident)
                    .bind(&taken.integration)
                    .bind(&taken.key)
                    .execute(&mut **tx)
                    .await?;
                    if updated.rows_affected() == 0 {
                        return Err(StoreError::NotInTriage {
                            integration: taken.integration.clone(),
                            key: taken.key.clone(),
                        });
                    }
                }
                Ok(())
            }

            async fn arm(
                tx: &mut sqlx::Transaction<'static, $db>,
                timer: &$crate::work::NewTimer,
                now: muster_core::incident::Millis,
            ) -> Result<(), StoreError> {
                sqlx::query(Self::sql("DELETE FROM timers WHERE kind = ? AND subject = ?"))
                .bind(&timer.kind)
                .bind(&timer.subject)
                .execute(&mut **tx)
                .await?;
                sqlx::query(Self::sql(
                    "INSERT INTO timers (kind, subject, due_at, payload, created_at) \
                     VALUES (?, ?, ?, ?, ?)",
                ))
                .bind(&timer.kind)
                .bind(&timer.subject)
                .bind(timer.due_at)
                .bind(&timer.payload)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }
        }

        impl $crate::Work for $store {
            async fn accept_alerts(
                &self,
                batch: &[$crate::work::NewAlertEvent],
            ) -> Result<Vec<$crate::work::Accepted>, StoreError> {
                use $crate::work::Accepted;
                let mut tx = self.begin_write().await?;
                if $pg {
                    // Serialise intake commits so sequence numbers appear in commit order.
                    sqlx::query("SELECT pg_advisory_xact_lock(7201)")
                        .execute(&mut *tx)
                        .await?;
                }
                // One statement per chunk, not per alert. A repeat inside the batch is a
                // duplicate of its first occurrence; a repeat of a stored alert is left out by
                // the unique index and missing from what the statement returns.
                let mut first_of: std::collections::HashMap<(&str, &str), usize> =
                    std::collections::HashMap::new();
                let mut out = vec![Accepted::Duplicate; batch.len()];
                let mut fresh: Vec<usize> = Vec::with_capacity(batch.len());
                for (at, alert) in batch.iter().enumerate() {
                    match &alert.dedup {
                        Some(dedup) => {
                            if let std::collections::hash_map::Entry::Vacant(first) =
                                first_of.entry((alert.integration.as_str(), dedup.as_str()))
                            {
                                first.insert(at);
                                fresh.push(at);
                            }
                        }
                        None => fresh.push(at),
                    }
                }
                for chunk in fresh.chunks($crate::work::INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO alert_events (integration, alert_key, action, dedup, received_at, body) ",
                    );
                    query.push_values(chunk, |mut row, &at| {
                        let alert = &batch[at];
                        row.push_bind(alert.integration.clone())
                            .push_bind(alert.key.clone())
                            .push_bind(alert.action.clone())
                            .push_bind(alert.dedup.clone())
                            .push_bind(alert.received_at)
                            .push_bind(alert.body.clone());
                    });
                    query.push(
                        " ON CONFLICT (integration, dedup) WHERE dedup IS NOT NULL DO NOTHING \
                         RETURNING seq, integration, dedup",
                    );
                    let mut rows: Vec<(i64, String, Option<String>)> =
                        query.build_query_as().fetch_all(&mut *tx).await?;
                    // Rows are numbered in the order they are given; the statement's answer
                    // may come in any order.
                    rows.sort_unstable_by_key(|row| row.0);
                    let mut undeduplicated = Vec::new();
                    for (seq, integration, dedup) in rows {
                        match dedup {
                            Some(dedup) => {
                                if let Some(&at) =
                                    first_of.get(&(integration.as_str(), dedup.as_str()))
                                {
                                    out[at] = Accepted::Stored(seq);
                                }
                            }
                            None => undeduplicated.push(seq),
                        }
                    }
                    let without_dedup = chunk.iter().filter(|&&at| batch[at].dedup.is_none());
                    for (&at, seq) in without_dedup.zip(undeduplicated) {
                        out[at] = Accepted::Stored(seq);
                    }
                }
                tx.commit().await?;
                Ok(out)
            }

            async fn alert_events_after(
                &self,
                after: i64,
                limit: u32,
            ) -> Result<Vec<$crate::work::StoredAlertEvent>, StoreError> {
                let rows: Vec<(i64, i64, String)> = sqlx::query_as(Self::sql(
                    "SELECT seq, received_at, body FROM alert_events WHERE seq > ? ORDER BY seq LIMIT ?",
                ))
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.$writer)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(seq, received_at, body)| $crate::work::StoredAlertEvent {
                        seq,
                        received_at,
                        body,
                    })
                    .collect())
            }

            async fn record_alerts(
                &self,
                updates: &[$crate::work::AlertUpdate],
                cursor: &str,
                position: i64,
            ) -> Result<(), StoreError> {
                // One row per alert: a batch may hold an alert's trigger and its resolve, and
                // one statement may not change a row twice. The latest update wins; the
                // incident is the latest one named; every update counts as an occurrence.
                let mut merged: Vec<($crate::work::AlertUpdate, i64, i64)> = Vec::new();
                let mut index: std::collections::HashMap<(&str, &str), usize> =
                    std::collections::HashMap::new();
                for update in updates {
                    let id = (update.integration.as_str(), update.key.as_str());
                    if let Some(&at) = index.get(&id) {
                        let (kept, first_seen, count) = &mut merged[at];
                        let incident = update.incident.clone().or_else(|| kept.incident.take());
                        *kept = update.clone();
                        kept.incident = incident;
                        *first_seen = (*first_seen).min(update.seen_at);
                        *count += 1;
                    } else {
                        index.insert(id, merged.len());
                        merged.push((update.clone(), update.seen_at, 1));
                    }
                }
                let mut tx = self.begin_write().await?;
                for chunk in merged.chunks($crate::work::INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO alerts (integration, alert_key, status, summary, severity, route, grp, \
                             disposition, incident, first_seen, last_seen, last_seq, occurrences, labels) ",
                    );
                    query.push_values(chunk, |mut row, (update, first_seen, count)| {
                        row.push_bind(update.integration.clone())
                            .push_bind(update.key.clone())
                            .push_bind(update.status.clone())
                            .push_bind(update.summary.clone())
                            .push_bind(update.severity.clone())
                            .push_bind(update.route.clone())
                            .push_bind(update.group.clone())
                            .push_bind(update.disposition.as_str())
                            .push_bind(update.incident.clone())
                            .push_bind(*first_seen)
                            .push_bind(update.seen_at)
                            .push_bind(update.seq)
                            .push_bind(*count)
                            .push_bind(update.labels.clone());
                    });
                    query.push(
                        " ON CONFLICT (integration, alert_key) DO UPDATE SET \
                             status = excluded.status, summary = excluded.summary, \
                             severity = excluded.severity, route = excluded.route, grp = excluded.grp, \
                             disposition = excluded.disposition, \
                             incident = COALESCE(excluded.incident, alerts.incident), \
                             last_seen = excluded.last_seen, last_seq = excluded.last_seq, \
                             occurrences = alerts.occurrences + excluded.occurrences, \
                             labels = excluded.labels \
                         WHERE alerts.last_seq < excluded.last_seq",
                    );
                    query.build().execute(&mut *tx).await?;
                }
                sqlx::query(Self::sql(
                    "INSERT INTO cursors (name, position) VALUES (?, ?) \
                     ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                ))
                .bind(cursor)
                .bind(position)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn cursor(&self, name: &str) -> Result<i64, StoreError> {
                let position: Option<i64> =
                    sqlx::query_scalar(Self::sql("SELECT position FROM cursors WHERE name = ?"))
                        .bind(name)
                        .fetch_optional(&self.$writer)
                        .await?;
                Ok(position.unwrap_or(0))
            }

            async fn alerts(
                &self,
                filter: &$crate::work::AlertFilter,
            ) -> Result<Vec<$crate::work::AlertRecord>, StoreError> {
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT integration, alert_key, status, summary, severity, route, grp, disposition, \
                         incident, first_seen, last_seen, occurrences, labels FROM alerts WHERE 1 = 1",
                );
                if let Some(integration) = &filter.integration {
                    query.push(" AND integration = ").push_bind(integration.clone());
                }
                if let Some(key) = &filter.key {
                    query.push(" AND alert_key = ").push_bind(key.clone());
                }
                if let Some(incident) = &filter.incident {
                    query.push(" AND incident = ").push_bind(incident.clone());
                }
                if let Some(disposition) = filter.disposition {
                    query.push(" AND disposition = ").push_bind(disposition.as_str());
                }
                if let Some(status) = &filter.status {
                    query.push(" AND status = ").push_bind(status.clone());
                }
                let limit = filter.limit.unwrap_or(100).clamp(1, 500);
                query
                    .push(" ORDER BY last_seen DESC, alert_key LIMIT ")
                    .push_bind(i64::from(limit));
                let rows: Vec<(
                    String,
                    String,
                    String,
                    String,
                    Option<String>,
                    String,
                    String,
                    String,
                    Option<String>,
                    i64,
                    i64,
                    i64,
                    String,
                )> = query.build_query_as().fetch_all(&self.$reader).await?;
                rows.into_iter()
                    .map(|row| {
                        Ok($crate::work::AlertRecord {
                            integration: row.0,
                            key: row.1,
                            status: row.2,
                            summary: row.3,
                            severity: row.4,
                            route: row.5,
                            group: row.6,
                            disposition: $crate::work::disposition(&row.7)?,
                            incident: row.8,
                            first_seen: row.9,
                            last_seen: row.10,
                            occurrences: row.11,
                            labels: serde_json::from_str(&row.12).unwrap_or_default(),
                        })
                    })
                    .collect()
            }

            async fn create_integration_key(
                &self,
                record: &$crate::work::IntegrationKeyRecord,
                secret_hash: &str,
            ) -> Result<(), StoreError> {
                let inserted = sqlx::query(Self::sql(
                    "INSERT INTO integration_keys (secret_hash, integration, name, created_at, revoked_at) \
                     VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                ))
                .bind(secret_hash)
                .bind(&record.integration)
                .bind(&record.name)
                .bind(record.created_at)
                .bind(record.revoked_at)
                .execute(&self.$writer)
                .await?;
                if inserted.rows_affected() == 0 {
                    return Err(StoreError::IntegrationKeyNameTaken {
                        integration: record.integration.clone(),
                        name: record.name.clone(),
                    });
                }
                Ok(())
            }

            async fn integration_keys(
                &self,
                integration: &str,
            ) -> Result<Vec<$crate::work::IntegrationKeyRecord>, StoreError> {
                let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(Self::sql(
                    "SELECT integration, name, created_at, revoked_at FROM integration_keys \
                     WHERE integration = ? ORDER BY name, created_at",
                ))
                .bind(integration)
                .fetch_all(&self.$reader)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(integration, name, created_at, revoked_at)| {
                        $crate::work::IntegrationKeyRecord {
                            integration,
                            name,
                            created_at,
                            revoked_at,
                        }
                    })
                    .collect())
            }

            async fn revoke_integration_key(
                &self,
                integration: &str,
                name: &str,
                at: muster_core::incident::Millis,
            ) -> Result<bool, StoreError> {
                let revoked = sqlx::query(Self::sql(
                    "UPDATE integration_keys SET revoked_at = ? \
                     WHERE integration = ? AND name = ? AND revoked_at IS NULL",
                ))
                .bind(at)
                .bind(integration)
                .bind(name)
                .execute(&self.$writer)
                .await?;
                Ok(revoked.rows_affected() > 0)
            }

            async fn integration_of_key(
                &self,
                secret_hash: &str,
            ) -> Result<Option<String>, StoreError> {
                Ok(sqlx::query_scalar(Self::sql(
                    "SELECT integration FROM integration_keys \
                     WHERE secret_hash = ? AND revoked_at IS NULL",
                ))
                .bind(secret_hash)
                .fetch_optional(&self.$reader)
                .await?)
            }

            async fn setting(
                &self,
                name: &str,
                proposed: &str,
            ) -> Result<String, StoreError> {
                sqlx::query(Self::sql(
                    "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                ))
                .bind(name)
                .bind(proposed)
                .execute(&self.$writer)
                .await?;
                Ok(sqlx::query_scalar(Self::sql("SELECT value FROM settings WHERE name = ?"))
                    .bind(name)
                    .fetch_one(&self.$writer)
                    .await?)
            }

            async fn group_incident(
                &self,
                group: &str,
            ) -> Result<Option<String>, StoreError> {
                Ok(sqlx::query_scalar(Self::sql("SELECT incident FROM alert_groups WHERE grp = ?"))
                    .bind(group)
                    .fetch_optional(&self.$writer)
                    .await?)
            }

            async fn acquire_lease(
                &self,
                name: &str,
                holder: &str,
                now: muster_core::incident::Millis,
                until: muster_core::incident::Millis,
            ) -> Result<bool, StoreError> {
                let taken = sqlx::query(Self::sql(
                    "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
                     WHERE leases.holder = excluded.holder OR leases.until < ?",
                ))
                .bind(name)
                .bind(holder)
                .bind(until)
                .bind(now)
                .execute(&self.$writer)
                .await?;
                Ok(taken.rows_affected() > 0)
            }

            async fn apply(
                &self,
                effects: &$crate::work::Effects,
                now: muster_core::incident::Millis,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                Self::write_effects(&mut tx, effects, now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn claim_timers(
                &self,
                now: muster_core::incident::Millis,
                holder: &str,
                until: muster_core::incident::Millis,
                limit: u32,
            ) -> Result<Vec<$crate::work::TimerRecord>, StoreError> {
                let select = if $pg {
                    "UPDATE timers SET claimed_by = ?, claimed_until = ? WHERE id IN (\
                         SELECT id FROM timers WHERE due_at <= ? \
                         AND (claimed_until IS NULL OR claimed_until < ?) \
                         ORDER BY due_at LIMIT ? FOR UPDATE SKIP LOCKED) \
                     RETURNING id, kind, subject, due_at, payload"
                } else {
                    "UPDATE timers SET claimed_by = ?, claimed_until = ? WHERE id IN (\
                         SELECT id FROM timers WHERE due_at <= ? \
                         AND (claimed_until IS NULL OR claimed_until < ?) \
                         ORDER BY due_at LIMIT ?) \
                     RETURNING id, kind, subject, due_at, payload"
                };
                let rows: Vec<(i64, String, String, i64, String)> =
                    sqlx::query_as(Self::sql(select))
                        .bind(holder)
                        .bind(until)
                        .bind(now)
                        .bind(now)
                        .bind(i64::from(limit))
                        .fetch_all(&self.$writer)
                        .await?;
                let mut timers: Vec<_> = rows.into_iter().map($crate::work::timer_record).collect();
                timers.sort_by_key(|timer| (timer.due_at, timer.id));
                Ok(timers)
            }

            async fn claim_deliveries(
                &self,
                now: muster_core::incident::Millis,
                holder: &str,
                until: muster_core::incident::Millis,
                limit: u32,
            ) -> Result<Vec<$crate::work::DeliveryRecord>, StoreError> {
                let select = if $pg {
                    "UPDATE deliveries SET claimed_by = ?, claimed_until = ? WHERE id IN (\
                         SELECT id FROM deliveries WHERE state = 'pending' AND next_at <= ? \
                         AND (claimed_until IS NULL OR claimed_until < ?) \
                         ORDER BY next_at, id LIMIT ? FOR UPDATE SKIP LOCKED) \
                     RETURNING id, incident, channel, destination, person, message, state, attempts, \
                         next_at, created_at, finished_at, folded_into, last_error"
                } else {
                    "UPDATE deliveries SET claimed_by = ?, claimed_until = ? WHERE id IN (\
                         SELECT id FROM deliveries WHERE state = 'pending' AND next_at <= ? \
                         AND (claimed_until IS NULL OR claimed_until < ?) \
                         ORDER BY next_at, id LIMIT ?) \
                     RETURNING id, incident, channel, destination, person, message, state, attempts, \
                         next_at, created_at, finished_at, folded_into, last_error"
                };
                let rows: Vec<$crate::work::DeliveryRow> = sqlx::query_as(Self::sql(select))
                    .bind(holder)
                    .bind(until)
                    .bind(now)
                    .bind(now)
                    .bind(i64::from(limit))
                    .fetch_all(&self.$writer)
                    .await?;
                let mut deliveries: Vec<_> =
                    rows.into_iter().map($crate::work::delivery_record).collect();
                deliveries.sort_by_key(|delivery| (delivery.next_at, delivery.id));
                Ok(deliveries)
            }

            async fn last_sent(
                &self,
                destination: &str,
            ) -> Result<Option<muster_core::incident::Millis>, StoreError> {
                Ok(sqlx::query_scalar(Self::sql(
                    "SELECT last_sent_at FROM destinations WHERE destination = ?",
                ))
                .bind(destination)
                .fetch_optional(&self.$writer)
                .await?)
            }

            async fn postpone(
                &self,
                id: i64,
                holder: &str,
                next_at: muster_core::incident::Millis,
            ) -> Result<(), StoreError> {
                sqlx::query(Self::sql(
                    "UPDATE deliveries SET next_at = ?, claimed_by = NULL, claimed_until = NULL \
                     WHERE id = ? AND claimed_by = ? AND state = 'pending'",
                ))
                .bind(next_at)
                .bind(id)
                .bind(holder)
                .execute(&self.$writer)
                .await?;
                Ok(())
            }

            async fn claim_destination(
                &self,
                destination: &str,
                holder: &str,
                now: muster_core::incident::Millis,
                until: muster_core::incident::Millis,
            ) -> Result<Vec<$crate::work::DeliveryRecord>, StoreError> {
                let rows: Vec<$crate::work::DeliveryRow> = sqlx::query_as(Self::sql(
                    "UPDATE deliveries SET claimed_by = ?, claimed_until = ? \
                     WHERE destination = ? AND state = 'pending' \
                     AND (claimed_by IS NULL OR claimed_by = ? OR claimed_until < ?) \
                     RETURNING id, incident, channel, destination, person, message, state, attempts, \
                         next_at, created_at, finished_at, folded_into, last_error",
                ))
                .bind(holder)
                .bind(until)
                .bind(destination)
                .bind(holder)
                .bind(now)
                .fetch_all(&self.$writer)
                .await?;
                let mut deliveries: Vec<_> =
                    rows.into_iter().map($crate::work::delivery_record).collect();
                deliveries.sort_by_key(|delivery| delivery.id);
                Ok(deliveries)
            }
        }
    };
}

pub(crate) use work_queries;

pub(crate) type DeliveryRow = (
    i64,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

pub(crate) fn delivery_record(row: DeliveryRow) -> DeliveryRecord {
    DeliveryRecord {
        id: row.0,
        incident: row.1,
        channel: row.2,
        destination: row.3,
        person: row.4,
        message: row.5,
        state: row.6,
        attempts: row.7,
        next_at: row.8,
        created_at: row.9,
        finished_at: row.10,
        folded_into: row.11,
        last_error: row.12,
    }
}

pub(crate) fn timer_record(row: (i64, String, String, i64, String)) -> TimerRecord {
    TimerRecord {
        id: row.0,
        kind: row.1,
        subject: row.2,
        due_at: row.3,
        payload: row.4,
    }
}
