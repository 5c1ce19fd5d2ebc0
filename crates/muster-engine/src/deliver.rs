//! Sending deliveries. Due deliveries are claimed, grouped by destination and sent one
//! destination per task, so a dead channel (timeouts, refusals) delays nothing else.
//!
//! Throttle and bundle: a destination gets at most one message per [`THROTTLE_MS`] (or its
//! channel's `throttle`); what comes
//! due meanwhile waits, and the next message carries everything pending for that destination
//! (the oldest delivery's message, saying how many were folded in). Every outcome — sent, folded,
//! retried, failed — is recorded on the incident's timeline with the delivery's new state, in one
//! transaction.

use std::collections::BTreeMap;
use std::sync::Arc;

use muster_core::incident::{EventKind, IncidentId, Millis, NotifyOutcome};
use muster_core::plan::{ChannelId, PersonId};
use muster_notify::{Destination, Message, Sender, backoff};
use muster_store::{DeliveryOutcome, DeliveryRecord, DeliveryState, Effects, Work};

use crate::{Engine, EngineError};

/// At most one message per destination in this window, unless its channel says otherwise.
pub const THROTTLE_MS: Millis = muster_core::plan::DEFAULT_THROTTLE.as_millis();

/// Attempts before a delivery is given up on.
pub const MAX_ATTEMPTS: i64 = 6;

/// How long a claim on a delivery lasts (longer than a send can take).
const CLAIM_MS: Millis = 60_000;

fn jitter() -> f64 {
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    f64::from(byte[0]) / 256.0
}

impl Engine {
    fn sender(&self) -> Result<&Sender, String> {
        self.sender
            .get_or_init(Sender::new)
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Sends what is due now, one task per destination. Returns how many deliveries were claimed.
    pub async fn deliver_due(self: &Arc<Self>) -> Result<usize, EngineError> {
        let now = self.now();
        let claimed = self
            .store
            .claim_deliveries(now, &self.options.instance, now + CLAIM_MS, 64)
            .await?;
        let count = claimed.len();
        let mut by_destination: BTreeMap<String, Vec<DeliveryRecord>> = BTreeMap::new();
        for delivery in claimed {
            by_destination
                .entry(delivery.destination.clone())
                .or_default()
                .push(delivery);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (destination, deliveries) in by_destination {
            let engine = Arc::clone(self);
            tasks.spawn(async move {
                if let Err(error) = engine.deliver_to(&destination, deliveries).await {
                    tracing::warn!(destination, %error, "delivery round failed; it will be retried");
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        Ok(count)
    }

    async fn deliver_to(
        &self,
        destination: &str,
        claimed: Vec<DeliveryRecord>,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let holder = self.options.instance.clone();
        let throttle = claimed
            .first()
            .and_then(|delivery| {
                self.plan()
                    .plan
                    .channels
                    .get(&ChannelId::from(delivery.channel.as_str()))
                    .map(|channel| channel.throttle().as_millis())
            })
            .unwrap_or(THROTTLE_MS);
        if throttle > 0
            && let Some(last) = self.store.last_sent(destination).await?
            && now < last + throttle
        {
            for delivery in &claimed {
                self.store
                    .postpone(delivery.id, &holder, last + throttle)
                    .await?;
            }
            return Ok(());
        }
        let mut bundle = self
            .store
            .claim_destination(destination, &holder, now, now + CLAIM_MS)
            .await?;
        if bundle.is_empty() {
            return Ok(());
        }
        let head = bundle.remove(0);
        let mut message: Message = match serde_json::from_str(&head.message) {
            Ok(message) => message,
            Err(error) => {
                return self
                    .record_outcomes(
                        &head,
                        &[],
                        DeliveryState::Failed,
                        head.attempts + 1,
                        Some(format!("the stored message cannot be read: {error}")),
                    )
                    .await;
            }
        };
        message.folded = u32::try_from(bundle.len()).unwrap_or(u32::MAX);
        let attempts = head.attempts + 1;
        let result = self.send(&head, &message).await;
        match result {
            Ok(detail) => {
                self.record_outcomes(&head, &bundle, DeliveryState::Sent, attempts, Some(detail))
                    .await
            }
            Err((retryable, retry_after, error)) => {
                let state = if retryable && attempts < MAX_ATTEMPTS {
                    let attempt = u32::try_from(attempts).unwrap_or(u32::MAX);
                    let wait = backoff(attempt, retry_after, jitter());
                    let wait = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                    DeliveryState::Retry(now.saturating_add(wait))
                } else {
                    DeliveryState::Failed
                };
                tracing::warn!(destination, delivery = head.id, attempts, %error, "notification not delivered");
                self.record_outcomes(&head, &[], state, attempts, Some(error))
                    .await
            }
        }
    }

    /// Sends one message; on failure, whether to retry, the service's wait, and the reason.
    async fn send(
        &self,
        delivery: &DeliveryRecord,
        message: &Message,
    ) -> Result<String, (bool, Option<std::time::Duration>, String)> {
        let running = self.plan();
        let channel = running
            .plan
            .channels
            .iter()
            .find(|(id, _)| id.as_str() == delivery.channel)
            .map(|(_, channel)| channel)
            .ok_or_else(|| {
                (
                    false,
                    None,
                    format!("the plan has no channel '{}' any more", delivery.channel),
                )
            })?;
        let secrets = self.options.secrets.clone();
        let lookup = move |name: &str| secrets(name);
        let destination = Destination::resolve(channel, &lookup, &self.options.endpoints)
            .map_err(|why| (false, None, why))?
            .ok_or_else(|| {
                (
                    false,
                    None,
                    format!("channel '{}' is not one Muster sends to", delivery.channel),
                )
            })?;
        let sender = self.sender().map_err(|why| (true, None, why))?;
        let now_unix = self.now() / 1000;
        sender
            .send(&destination, message, &delivery.id.to_string(), now_unix)
            .await
            .map(|sent| format!("{} {}", sent.status, sent.detail).trim().to_owned())
            .map_err(|error| (error.retryable, error.retry_after, error.message))
    }

    /// Records the head delivery's outcome (and the folded ones) with timeline events, per
    /// incident, each in one transaction with the delivery rows.
    async fn record_outcomes(
        &self,
        head: &DeliveryRecord,
        folded: &[DeliveryRecord],
        state: DeliveryState,
        attempts: i64,
        detail: Option<String>,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let holder = self.options.instance.clone();
        let outcome = match &state {
            DeliveryState::Sent => NotifyOutcome::Sent,
            DeliveryState::Retry(_) => NotifyOutcome::Retrying,
            DeliveryState::Failed => NotifyOutcome::Failed,
            DeliveryState::Folded(_) => NotifyOutcome::Folded,
        };
        self.stats.notified(outcome, folded.len());
        let error = match &state {
            DeliveryState::Sent => None,
            _ => detail.clone(),
        };
        let mut entries = vec![(
            head,
            DeliveryOutcome {
                id: head.id,
                holder: holder.clone(),
                state: state.clone(),
                attempts,
                error,
                at: now,
            },
            outcome,
            detail,
            folded.len() as u64,
        )];
        for delivery in folded {
            entries.push((
                delivery,
                DeliveryOutcome {
                    id: delivery.id,
                    holder: holder.clone(),
                    state: DeliveryState::Folded(head.id),
                    attempts: delivery.attempts,
                    error: None,
                    at: now,
                },
                NotifyOutcome::Folded,
                Some(format!("sent inside delivery {}", head.id)),
                0,
            ));
        }
        let mut by_incident: BTreeMap<Option<String>, Vec<_>> = BTreeMap::new();
        for entry in entries {
            by_incident
                .entry(entry.0.incident.clone())
                .or_default()
                .push(entry);
        }
        for (incident, entries) in by_incident {
            let effects = Effects {
                outcomes: entries.iter().map(|entry| entry.1.clone()).collect(),
                ..Effects::default()
            };
            let id = incident
                .as_deref()
                .and_then(|id| id.parse::<IncidentId>().ok());
            let Some(id) = id else {
                self.store.apply(&effects, now).await?;
                continue;
            };
            let kinds: Vec<EventKind> = entries
                .iter()
                .map(
                    |(delivery, record, outcome, detail, folded)| EventKind::Notified {
                        delivery: delivery.id,
                        channel: delivery.channel.clone(),
                        destination: delivery.destination.clone(),
                        person: delivery.person.clone().map(PersonId),
                        outcome: *outcome,
                        attempt: u32::try_from(record.attempts).unwrap_or(u32::MAX),
                        detail: detail.clone(),
                        folded: *folded,
                    },
                )
                .collect();
            let result = self
                .record(&id, "notifier", |_, _, _| {
                    Ok(Some((kinds.clone(), effects.clone())))
                })
                .await;
            match result {
                Ok(_) => {}
                Err(EngineError::NotFound(_)) => self.store.apply(&effects, now).await?,
                Err(error) => return Err(error),
            }
        }
        if matches!(state, DeliveryState::Retry(_)) {
            self.wake.deliveries.notify_one();
        }
        Ok(())
    }
}
