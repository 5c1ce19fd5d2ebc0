//! The alert processor: reads accepted alerts in order and makes them what the plan's routes
//! say — a new incident, more alerts on the open incident of their group, a triage item, or
//! nothing — and keeps heartbeats alive.
//!
//! Exactly once: one instance at a time holds the processor's lease. An incident records the
//! last alert event attached to it (`alerts_through`), and a declaration records its group in the
//! same transaction; so a batch processed again after a crash attaches nothing twice and declares
//! nothing twice. The cursor moves only after the batch's effects are committed.

use std::collections::{BTreeMap, HashMap};

use muster_core::access::Role;
use muster_core::alert::{Alert, AlertAction, Routing, heartbeat, route};
use muster_core::incident::escalation::HEARTBEAT;
use muster_core::incident::{AttachedAlert, Command, EventKind, IncidentId, Millis};
use muster_core::plan::{CategoryId, RouteAction, ScenarioId, SeverityId};
use muster_store::{
    AlertFilter, AlertRecord, AlertUpdate, Disposition, Effects, NewTimer, Store, StoreError,
    TakenAlert, Work,
};

use crate::auth::Principal;
use crate::{Engine, EngineError, Outcome, require};

/// The processor's cursor and lease name.
pub const PROCESSOR: &str = "alert-processor";

/// How long the processor's lease lasts; the holder renews it on every round (at least every
/// [`crate::workers::POLL`]), so a dead holder is replaced within this time.
const LEASE_MS: Millis = 10_000;

/// Alert events read per batch.
const BATCH: u32 = 1000;

/// Alerts listed by name on one timeline event; the rest are counted.
const LISTED: usize = 5;

struct Item {
    seq: i64,
    received_at: Millis,
    alert: Alert,
    routing: Routing,
}

fn status_of(action: AlertAction) -> &'static str {
    match action {
        AlertAction::Trigger => "firing",
        AlertAction::Acknowledge => "acknowledged",
        AlertAction::Resolve => "resolved",
    }
}

fn update(item: &Item, disposition: Disposition, incident: Option<String>) -> AlertUpdate {
    AlertUpdate {
        integration: item.alert.integration.clone(),
        key: item.alert.key.clone(),
        status: status_of(item.alert.action).to_owned(),
        summary: item.alert.summary.clone(),
        severity: item.alert.severity.clone(),
        route: item.routing.rule_id.clone(),
        group: item.routing.group.clone(),
        disposition,
        incident,
        seen_at: item.received_at,
        seq: item.seq,
        labels: serde_json::to_string(&item.alert.labels).unwrap_or_else(|_| "{}".to_owned()),
    }
}

/// The integrations the alerts came from, in order of first appearance: "prometheus and pd".
fn sources(items: &[&Item]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for item in items {
        if !names.contains(&item.alert.integration.as_str()) {
            names.push(&item.alert.integration);
        }
    }
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

fn attached(items: &[&Item]) -> EventKind {
    EventKind::AlertsAttached {
        alerts: items
            .iter()
            .take(LISTED)
            .map(|item| AttachedAlert {
                integration: item.alert.integration.clone(),
                key: item.alert.key.clone(),
                summary: item.alert.summary.clone(),
            })
            .collect(),
        more: items.len().saturating_sub(LISTED) as u64,
        through: items.iter().map(|item| item.seq).max().unwrap_or(0),
    }
}

/// How to qualify an incident declared from a triaged alert; its title is the alert's summary.
/// Severity comes from `severity`, from `urgent` and `important`, or from the scenario, as for
/// any declaration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriageDeclaration {
    pub severity: Option<SeverityId>,
    pub urgent: Option<bool>,
    pub important: Option<bool>,
    pub category: Option<CategoryId>,
    pub scenario: Option<ScenarioId>,
}

/// The timeline event of one triaged alert joining an incident. It names no intake position
/// (`through` 0): the alert was processed already, so the processor's resume point stays.
fn attached_record(alert: &AlertRecord) -> EventKind {
    EventKind::AlertsAttached {
        alerts: vec![AttachedAlert {
            integration: alert.integration.clone(),
            key: alert.key.clone(),
            summary: alert.summary.clone(),
        }],
        more: 0,
        through: 0,
    }
}

/// Why an alert cannot be taken from triage, in its current state.
fn not_in_triage(alert: &AlertRecord) -> EngineError {
    let what = format!("alert {} of {}", alert.key, alert.integration);
    let message = match (alert.disposition, &alert.incident) {
        (Disposition::Incident, Some(incident)) => {
            format!("{what} is already part of {incident}; nothing was changed")
        }
        (Disposition::Triage, _) => format!("{what} changed meanwhile; nothing was changed, retry"),
        (disposition, _) => format!(
            "{what} is not held in triage (it is {}, by route {}); only triaged alerts can be declared or attached",
            disposition.as_str(),
            alert.route
        ),
    };
    EngineError::rejected("not-in-triage", message)
}

impl Engine {
    /// Alerts as processed, newest first.
    pub async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRecord>, EngineError> {
        Ok(self.store.alerts(filter).await?)
    }

    /// One alert's processed state, if it has any.
    async fn stored_alert(
        &self,
        integration: &str,
        key: &str,
    ) -> Result<Option<AlertRecord>, StoreError> {
        let found = self
            .store
            .alerts(&AlertFilter {
                integration: Some(integration.to_owned()),
                key: Some(key.to_owned()),
                limit: Some(1),
                ..AlertFilter::default()
            })
            .await?;
        Ok(found.into_iter().next())
    }

    async fn alert(&self, integration: &str, key: &str) -> Result<AlertRecord, EngineError> {
        self.stored_alert(integration, key).await?.ok_or_else(|| {
            EngineError::rejected(
                "unknown-alert",
                format!(
                    "there is no alert '{key}' of integration '{integration}'; list the alerts in triage with GET /api/alerts?disposition=triage"
                ),
            )
        })
    }

    /// The alert, if it is held in triage.
    async fn triaged(&self, integration: &str, key: &str) -> Result<AlertRecord, EngineError> {
        let alert = self.alert(integration, key).await?;
        if alert.disposition == Disposition::Triage {
            Ok(alert)
        } else {
            Err(not_in_triage(&alert))
        }
    }

    /// An alert taken from triage by someone else between the check and the commit: the
    /// refusal says what became of it.
    async fn lost_to_another(&self, error: EngineError, alert: &AlertRecord) -> EngineError {
        match error {
            EngineError::Store(StoreError::NotInTriage { .. }) => {
                match self.alert(&alert.integration, &alert.key).await {
                    Ok(now) => not_in_triage(&now),
                    Err(error) => error,
                }
            }
            error => error,
        }
    }

    /// Declares an incident from an alert held in triage. The declaration, the alert's
    /// `alerts_attached` event and the alert leaving triage commit in one transaction; a repeat
    /// finds the alert no longer in triage and changes nothing.
    pub async fn declare_from_alert(
        &self,
        principal: &Principal,
        integration: &str,
        key: &str,
        how: &TriageDeclaration,
    ) -> Result<Outcome, EngineError> {
        require(principal, Role::Responder)?;
        let alert = self.triaged(integration, key).await?;
        let title = if alert.summary.trim().is_empty() {
            alert.key.clone()
        } else {
            alert.summary.clone()
        };
        let command = Command::Declare {
            title,
            scenario: how.scenario.clone(),
            severity: how.severity.clone(),
            urgent: how.urgent,
            important: how.important,
            category: how.category.clone(),
            summary: Some(format!(
                "Declared from alert {} of {}, held in triage by route {}.",
                alert.key, alert.integration, alert.route
            )),
            started_at: None,
            detected_at: Some(alert.first_seen.min(self.now())),
            drill: false,
            tags: Vec::new(),
        };
        let effects = Effects {
            take_alert: Some(TakenAlert {
                integration: alert.integration.clone(),
                key: alert.key.clone(),
                incident: String::new(),
            }),
            ..Effects::default()
        };
        let outcome = match self
            .declare_as(
                &principal.actor(),
                &command,
                vec![attached_record(&alert)],
                effects,
                None,
            )
            .await
        {
            Ok(outcome) => outcome,
            Err(error) => return Err(self.lost_to_another(error, &alert).await),
        };
        tracing::info!(incident = %outcome.incident.id, alert = %alert.key, integration = %alert.integration, by = %principal.name, "incident declared from a triaged alert");
        Ok(outcome)
    }

    /// Attaches an alert held in triage to an open incident: the `alerts_attached` event and
    /// the alert leaving triage commit in one transaction; a repeat changes nothing.
    pub async fn attach_alert(
        &self,
        principal: &Principal,
        integration: &str,
        key: &str,
        incident: &IncidentId,
    ) -> Result<Outcome, EngineError> {
        require(principal, Role::Responder)?;
        let alert = self.triaged(integration, key).await?;
        let recorded = self
            .record(incident, &principal.actor(), |_, state, _| {
                if !state.status.is_open() {
                    return Err(EngineError::rejected(
                        "incident-finished",
                        format!(
                            "{} is {}; reopen it first, or declare a new incident from the alert",
                            state.id, state.status
                        ),
                    ));
                }
                let effects = Effects {
                    take_alert: Some(TakenAlert {
                        integration: alert.integration.clone(),
                        key: alert.key.clone(),
                        incident: state.id.to_string(),
                    }),
                    ..Effects::default()
                };
                Ok(Some((vec![attached_record(&alert)], effects)))
            })
            .await;
        let outcome = match recorded {
            Ok(Some(outcome)) => outcome,
            Ok(None) => return Err(not_in_triage(&alert)),
            Err(error) => return Err(self.lost_to_another(error, &alert).await),
        };
        tracing::info!(incident = %incident, alert = %alert.key, integration = %alert.integration, by = %principal.name, "triaged alert attached");
        Ok(outcome)
    }

    /// Processes one batch of accepted alerts, if this instance holds (or takes) the
    /// processor's lease. Returns how many alert events were processed.
    pub async fn process_alerts(&self) -> Result<usize, EngineError> {
        let now = self.now();
        let holder = self.options.instance.clone();
        if !self
            .store
            .acquire_lease(PROCESSOR, &holder, now, now + LEASE_MS)
            .await?
        {
            return Ok(0);
        }
        let cursor = self.store.cursor(PROCESSOR).await?;
        let stored = self.store.alert_events_after(cursor, BATCH).await?;
        let Some(last) = stored.last().map(|event| event.seq) else {
            return Ok(0);
        };
        let running = self.plan();
        let plan = &running.plan;
        let mut updates = Vec::with_capacity(stored.len());
        let mut heartbeats = Effects::default();
        let mut groups: BTreeMap<String, Vec<Item>> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        // Labels and summaries of this batch's triggers, for the resolves that follow them.
        let mut known: HashMap<(String, String), (BTreeMap<String, String>, String)> =
            HashMap::new();
        for event in &stored {
            let mut alert: Alert = match serde_json::from_str(&event.body) {
                Ok(alert) => alert,
                Err(error) => {
                    tracing::error!(seq = event.seq, %error, "stored alert cannot be read; skipped");
                    continue;
                }
            };
            let id = (alert.integration.clone(), alert.key.clone());
            if alert.action == AlertAction::Trigger {
                known.insert(id, (alert.labels.clone(), alert.summary.clone()));
            } else if alert.labels.keys().all(|name| name == "integration") {
                self.complete_from_trigger(&mut alert, known.get(&id))
                    .await?;
            }
            let routing = route(plan, &alert);
            let item = Item {
                seq: event.seq,
                received_at: event.received_at,
                alert,
                routing,
            };
            if let Some(integration) = heartbeat(plan, &item.alert)
                && let Some(beat) = &integration.heartbeat
            {
                heartbeats.schedule.push(NewTimer {
                    kind: HEARTBEAT.to_owned(),
                    subject: integration.id.to_string(),
                    due_at: item.received_at + beat.every.as_millis(),
                    payload: "{}".to_owned(),
                });
                updates.push(update(&item, Disposition::Heartbeat, None));
                continue;
            }
            match item.routing.action {
                RouteAction::Ignore => updates.push(update(&item, Disposition::Ignored, None)),
                RouteAction::Triage => updates.push(update(&item, Disposition::Triage, None)),
                RouteAction::Declare | RouteAction::Attach => {
                    let group = item.routing.group.clone();
                    if !groups.contains_key(&group) {
                        order.push(group.clone());
                    }
                    groups.entry(group).or_default().push(item);
                }
            }
        }
        let mut resolved_on = Vec::new();
        for group in order {
            let items = groups.remove(&group).unwrap_or_default();
            let incident = self.attach_group(&group, &items).await?;
            for item in &items {
                let disposition = if incident.is_some() {
                    Disposition::Incident
                } else {
                    Disposition::Triage
                };
                updates.push(update(item, disposition, incident.clone()));
            }
            if let Some(incident) = incident
                && items
                    .iter()
                    .any(|item| item.alert.action == AlertAction::Resolve)
            {
                let auto = items.iter().any(|item| item.routing.auto_resolve);
                resolved_on.push((incident, auto));
            }
        }
        if !heartbeats.is_empty() {
            self.store.apply(&heartbeats, now).await?;
            self.wake.timers.notify_one();
        }
        self.store.record_alerts(&updates, PROCESSOR, last).await?;
        for (incident, auto) in resolved_on {
            self.check_all_resolved(&incident, auto).await?;
        }
        Ok(stored.len())
    }

    /// Fills in an acknowledge or resolve that carries no labels from the alert it names: a
    /// PagerDuty `acknowledge` or `resolve` may carry nothing but its `dedup_key`. The labels the
    /// alert was triggered with, and its summary, route it to the same group, so it reaches the
    /// incident it belongs to. (Alertmanager's resolves carry the alert's labels and need none.)
    async fn complete_from_trigger(
        &self,
        alert: &mut Alert,
        in_batch: Option<&(BTreeMap<String, String>, String)>,
    ) -> Result<(), EngineError> {
        let (labels, summary) = if let Some((labels, summary)) = in_batch {
            (labels.clone(), summary.clone())
        } else {
            let Some(stored) = self.stored_alert(&alert.integration, &alert.key).await? else {
                return Ok(());
            };
            let labels: BTreeMap<String, String> =
                serde_json::from_value(stored.labels).unwrap_or_default();
            (labels, stored.summary)
        };
        let mut merged = labels;
        merged.extend(std::mem::take(&mut alert.labels));
        alert.labels = merged;
        // A PagerDuty acknowledge or resolve has no payload: its summary is its key.
        if alert.summary.trim().is_empty() || alert.summary == alert.key {
            alert.summary = summary;
        }
        Ok(())
    }

    /// Attaches a group's alerts to its open incident, or declares one when the route says so
    /// and something is firing. The incident, or `None` for triage.
    async fn attach_group(
        &self,
        group: &str,
        items: &[Item],
    ) -> Result<Option<String>, EngineError> {
        if let Some(id) = self.store.group_incident(group).await?
            && let Ok(id) = id.parse::<IncidentId>()
            && let Some(head) = self.store.head(&id).await?
            && head.incident.status.is_open()
        {
            let outcome = self
                .record(&id, "intake", |_, incident, _| {
                    // Resolves are not new alerts: they are counted by `alerts_resolved`.
                    let fresh: Vec<&Item> = items
                        .iter()
                        .filter(|item| {
                            item.seq > incident.alerts_through
                                && item.alert.action == AlertAction::Trigger
                        })
                        .collect();
                    if fresh.is_empty() || !incident.status.is_open() {
                        return Ok(None);
                    }
                    Ok(Some((vec![attached(&fresh)], Effects::default())))
                })
                .await;
            match outcome {
                Ok(_) => return Ok(Some(id.to_string())),
                Err(EngineError::NotFound(_)) => {}
                Err(error) => return Err(error),
            }
        }
        let first = &items[0];
        let firing: Vec<&Item> = items
            .iter()
            .filter(|item| item.alert.action == AlertAction::Trigger)
            .collect();
        if first.routing.action != RouteAction::Declare || firing.is_empty() {
            return Ok(None);
        }
        let lead = firing[0];
        let command = Command::Declare {
            title: lead.alert.summary.clone(),
            scenario: lead.routing.scenario.clone(),
            // Routing already qualified urgent x important into a severity.
            severity: lead.routing.severity.clone(),
            urgent: None,
            important: None,
            category: lead.routing.category.clone(),
            summary: Some(format!(
                "Declared from {} alert(s) of {} (route {}).",
                firing.len(),
                sources(&firing),
                lead.routing.rule_id
            )),
            // A source's clock may run ahead of ours: impact never starts after detection.
            started_at: firing
                .iter()
                .filter_map(|item| item.alert.starts_at)
                .min()
                .map(|start| start.min(lead.received_at)),
            detected_at: Some(lead.received_at),
            drill: false,
            tags: lead.routing.tags.clone(),
        };
        match self
            .declare_as(
                "intake",
                &command,
                vec![attached(&firing)],
                Effects::default(),
                Some(group),
            )
            .await
        {
            Ok(outcome) => {
                tracing::info!(incident = %outcome.incident.id, group, "incident declared from alerts");
                Ok(Some(outcome.incident.id.to_string()))
            }
            Err(EngineError::Rejected(rejection)) => {
                tracing::warn!(group, reason = %rejection.message, "alerts held in triage: the route cannot declare");
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// Records that every alert of the incident is resolved (and resolves the incident when its
    /// route says so), once the last firing one resolves.
    async fn check_all_resolved(&self, incident: &str, auto: bool) -> Result<(), EngineError> {
        let alerts = self
            .store
            .alerts(&AlertFilter {
                incident: Some(incident.to_owned()),
                limit: Some(500),
                ..AlertFilter::default()
            })
            .await?;
        if alerts.is_empty() || alerts.iter().any(|alert| alert.status != "resolved") {
            return Ok(());
        }
        let Ok(id) = incident.parse::<IncidentId>() else {
            return Ok(());
        };
        let count = alerts.len() as u64;
        self.record(&id, "intake", |plan, state, now| {
            if !state.status.is_open() {
                return Ok(None);
            }
            let mut kinds = vec![EventKind::AlertsResolved { count }];
            if auto {
                let summary = format!("All {count} alert(s) were resolved by their sources.");
                let resolve = Command::Resolve { summary };
                if let Ok(more) = muster_core::incident::decide(plan, Some(state), &resolve, now) {
                    kinds.extend(more);
                }
            }
            Ok(Some((kinds, Effects::default())))
        })
        .await
        .map(|_| ())
    }
}
