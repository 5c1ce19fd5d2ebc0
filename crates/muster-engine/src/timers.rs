//! Firing due timers. Each firing commits what it causes together with marking the timer done
//! (`Effects::fire`), so a timer two instances both claimed still fires once.

use muster_core::incident::comms;
use muster_core::incident::escalation::{self, ACK_SLA, ESCALATE, HEARTBEAT, LadderStep};
use muster_core::incident::{Command, EventKind, IncidentId};
use muster_store::{Effects, NewTimer, Store, StoreError, TimerRecord, Work};

use crate::{Engine, EngineError, paging};

/// How long a claim on a timer lasts before another instance may take it over: when an
/// instance dies between claiming and firing, another fires the timer within this time. A claim
/// that outlives it does no harm: a timer's row goes in the transaction that fires it, so only
/// one of two claimants can fire it.
const CLAIM_MS: i64 = 5_000;

fn fired(id: i64) -> Effects {
    Effects {
        fire: Some(id),
        ..Effects::default()
    }
}

impl Engine {
    /// Fires every timer due now that no other instance holds. Returns how many fired.
    pub async fn fire_due_timers(&self) -> Result<usize, EngineError> {
        let now = self.now();
        let timers = self
            .store
            .claim_timers(now, &self.options.instance, now + CLAIM_MS, 64)
            .await?;
        let count = timers.len();
        for timer in timers {
            let lag = now - timer.due_at;
            self.stats.timer_fired(lag);
            tracing::debug!(kind = %timer.kind, subject = %timer.subject, lag_ms = lag, "timer due");
            match self.fire(&timer).await {
                Ok(()) | Err(EngineError::Store(StoreError::TimerGone(_))) => {}
                Err(error) => {
                    tracing::warn!(kind = %timer.kind, subject = %timer.subject, %error, "timer failed; it will be tried again");
                }
            }
        }
        Ok(count)
    }

    async fn fire(&self, timer: &TimerRecord) -> Result<(), EngineError> {
        if timer.kind == HEARTBEAT {
            return self.heartbeat_lost(timer).await;
        }
        let Ok(id) = timer.subject.parse::<IncidentId>() else {
            self.store.apply(&fired(timer.id), self.now()).await?;
            return Ok(());
        };
        let outcome = match timer.kind.as_str() {
            ESCALATE => {
                let Ok(step) = serde_json::from_str::<LadderStep>(&timer.payload) else {
                    self.store.apply(&fired(timer.id), self.now()).await?;
                    return Ok(());
                };
                self.escalate(&id, timer.id, step).await
            }
            ACK_SLA => self
                .record(&id, "escalation", |plan, incident, _| {
                    let kinds = escalation::ack_overdue(plan, incident)
                        .into_iter()
                        .collect();
                    Ok(Some((kinds, fired(timer.id))))
                })
                .await
                .map(|_| ()),
            kind if kind.starts_with(comms::UPDATE_PREFIX)
                || kind.starts_with(comms::DEADLINE_PREFIX) =>
            {
                self.communication(&id, timer).await
            }
            _ => {
                self.store.apply(&fired(timer.id), self.now()).await?;
                Ok(())
            }
        };
        match outcome {
            Err(EngineError::NotFound(_)) => {
                self.store.apply(&fired(timer.id), self.now()).await?;
                Ok(())
            }
            other => other,
        }
    }

    async fn escalate(
        &self,
        id: &IncidentId,
        timer: i64,
        step: LadderStep,
    ) -> Result<(), EngineError> {
        // Deliveries need the incident as it is after the page; work it out first, then commit.
        let Some(head) = self.store.head(id).await? else {
            return Err(EngineError::NotFound(id.to_string()));
        };
        let running = self.plan();
        let now = self.now().max(head.incident.updated_at);
        let Some(page) = escalation::escalate(&running.plan, &head.incident, step, now) else {
            self.store.apply(&fired(timer), now).await?;
            return Ok(());
        };
        let mut after = head.incident.clone();
        if let EventKind::Escalated { level, round, .. } = &page.event {
            after.escalation = Some((*level, *round));
        }
        let mut effects = fired(timer);
        effects.deliveries = paging::page_deliveries(self, &running.plan, &after, &page, now).await;
        if let Some(next) = &page.next {
            effects.schedule.push(NewTimer {
                kind: next.kind.clone(),
                subject: id.to_string(),
                due_at: next.due_at,
                payload: next.payload.clone(),
            });
        }
        let event = page.event.clone();
        self.record(id, "escalation", move |_, incident, _| {
            if incident.acknowledged_at.is_some() || !incident.status.is_open() {
                return Ok(Some((Vec::new(), fired(timer))));
            }
            Ok(Some((vec![event.clone()], effects.clone())))
        })
        .await?;
        Ok(())
    }

    /// A communications or deadline timer: the reminder or overdue flag `comms::fire` says,
    /// told to the people it names through the severity's policy channels. The next timer of
    /// the clock is armed by the commit, from the incident as it is after the event.
    async fn communication(&self, id: &IncidentId, timer: &TimerRecord) -> Result<(), EngineError> {
        let Some(head) = self.store.head(id).await? else {
            return Err(EngineError::NotFound(id.to_string()));
        };
        let running = self.plan();
        let plan = &running.plan;
        let now = self.now().max(head.incident.updated_at);
        let Some(reminder) = comms::fire(plan, &head.incident, &timer.kind, now) else {
            self.store.apply(&fired(timer.id), now).await?;
            return Ok(());
        };
        let mut effects = fired(timer.id);
        let via = escalation::policy(plan, &head.incident)
            .map(|policy| escalation::via_channels(plan, policy))
            .unwrap_or_default();
        effects.deliveries = paging::deliveries(
            self,
            plan,
            &head.incident,
            &reminder.headline,
            &reminder.people,
            &via,
            &[],
            now,
        )
        .await;
        let event = reminder.event;
        let kind = timer.kind.clone();
        let timer = timer.id;
        self.record(id, "communications", move |plan, incident, now| {
            // Decided again on the incident as it is now: an update that went out meanwhile
            // wins over the reminder.
            if comms::fire(plan, incident, &kind, now).map(|r| r.event) != Some(event.clone()) {
                return Ok(Some((Vec::new(), fired(timer))));
            }
            Ok(Some((vec![event.clone()], effects.clone())))
        })
        .await?;
        Ok(())
    }

    /// An integration's watchdog went quiet: declare an incident for it, unless one is open.
    async fn heartbeat_lost(&self, timer: &TimerRecord) -> Result<(), EngineError> {
        let running = self.plan();
        let now = self.now();
        let Some(integration) = running.plan.integration(&timer.subject) else {
            self.store.apply(&fired(timer.id), now).await?;
            return Ok(());
        };
        let Some(beat) = &integration.heartbeat else {
            self.store.apply(&fired(timer.id), now).await?;
            return Ok(());
        };
        let group = format!("heartbeat|{}", integration.id);
        if let Some(open) = self.store.group_incident(&group).await?
            && let Ok(open) = open.parse::<IncidentId>()
            && let Some(head) = self.store.head(&open).await?
            && head.incident.status.is_open()
        {
            self.store.apply(&fired(timer.id), now).await?;
            return Ok(());
        }
        let name = integration
            .name
            .as_deref()
            .unwrap_or(integration.id.as_str());
        let command = Command::Declare {
            title: format!("Heartbeat lost: {name}"),
            scenario: None,
            severity: Some(beat.severity.clone()),
            urgent: None,
            important: None,
            category: beat.category.clone(),
            summary: Some(format!(
                "No watchdog alert from {name} for {}: alerts from it may not be reaching anyone.",
                beat.every
            )),
            started_at: Some(timer.due_at - beat.every.as_millis()),
            detected_at: Some(now),
            drill: false,
            tags: vec!["heartbeat".to_owned()],
        };
        let outcome = self
            .declare_as(
                "heartbeat",
                &command,
                Vec::new(),
                fired(timer.id),
                Some(&group),
            )
            .await?;
        tracing::warn!(incident = %outcome.incident.id, integration = %integration.id, "heartbeat lost");
        Ok(())
    }
}
