//! Alert intake: integration keys, per-integration rate limits, and the group commit that makes
//! "accepted" mean "on disk" without one fsync per alert.
//!
//! Requests queue for one writer task. It takes whatever has queued up (up to
//! [`MAX_BATCH`] alerts), stores it in one transaction, and only then answers every request of
//! the batch. Under load, batches grow and the cost of each commit is shared; at rest a lone
//! request is committed at once.

use std::collections::HashMap;
use std::sync::Arc;

use muster_core::alert::Alert;
use muster_core::incident::Millis;
use muster_core::plan::{Integration, IntegrationKind};
use muster_store::{Accepted, NewAlertEvent, StoreError, Work};
use tokio::sync::{mpsc, oneshot};

use crate::Engine;

/// Most alerts stored in one transaction.
pub const MAX_BATCH: usize = 2048;

/// Requests waiting for the writer; beyond this, intake answers "unavailable" at once.
const QUEUE_DEPTH: usize = 4096;

type Reply = oneshot::Sender<Result<Vec<Accepted>, StoreError>>;

/// The group-commit queue.
#[derive(Debug, Clone)]
pub(crate) struct Queue {
    requests: mpsc::Sender<(Vec<NewAlertEvent>, Reply)>,
}

/// Why alerts were not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// Over the integration's rate limit; nothing was stored.
    #[error(
        "integration {integration} is over its rate limit of {limit}; retry after {retry_after_secs} s"
    )]
    RateLimited {
        integration: String,
        limit: String,
        retry_after_secs: u64,
    },
    /// Storage is unavailable or overloaded; nothing was stored, the sender should retry.
    #[error("alerts cannot be stored right now ({0}); nothing was accepted, retry")]
    Unavailable(String),
}

/// A token bucket per integration.
#[derive(Debug, Default)]
pub(crate) struct Limits {
    buckets: HashMap<String, (f64, Millis)>,
}

impl Limits {
    /// Takes `count` tokens, or says how long (in seconds) until there are enough.
    fn take(&mut self, integration: &Integration, count: usize, now: Millis) -> Result<(), u64> {
        let Some(limit) = integration.rate_limit else {
            return Ok(());
        };
        let rate = limit.per_second();
        let capacity = f64::from(limit.count);
        let (tokens, at) = self
            .buckets
            .entry(integration.id.to_string())
            .or_insert((capacity, now));
        #[allow(clippy::cast_precision_loss)]
        let elapsed = (now - *at).max(0) as f64 / 1000.0;
        *tokens = (*tokens + elapsed * rate).min(capacity);
        *at = now;
        #[allow(clippy::cast_precision_loss)]
        let wanted = count as f64;
        // A request bigger than the whole bucket (an Alertmanager group of many alerts) passes
        // when the bucket is full and leaves it in debt, so it is not refused forever and what
        // follows waits until the debt is paid.
        if *tokens >= wanted.min(capacity) {
            *tokens -= wanted;
            Ok(())
        } else {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let wait = ((wanted.min(capacity) - *tokens) / rate).ceil().max(1.0) as u64;
            Err(wait)
        }
    }
}

/// Compares two secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

impl Engine {
    /// The integration of this kind whose key is `key`, if any.
    #[must_use]
    pub fn integration_by_key(&self, kind: IntegrationKind, key: &str) -> Option<Integration> {
        if key.is_empty() {
            return None;
        }
        let running = self.plan();
        running
            .plan
            .integrations
            .iter()
            .filter(|integration| integration.kind == kind)
            .find(|integration| {
                self.plan_key(integration)
                    .is_some_and(|secret| same_secret(&secret, key))
            })
            .cloned()
    }

    /// The secret the plan's `key_env` of this integration names, when it is set.
    pub(crate) fn plan_key(&self, integration: &Integration) -> Option<String> {
        integration
            .key_env
            .as_deref()
            .and_then(|name| (self.options.secrets)(name))
            .filter(|secret| !secret.is_empty())
    }

    /// The integration of this kind whose key is `key`: a plan key (compared in constant time),
    /// else a live key made through the API, looked up by its hash on every call so a revoked key
    /// is refused at once on every instance. A key of an integration no longer in the plan, or of
    /// another kind, finds nothing.
    pub async fn integration_for_key(
        &self,
        kind: IntegrationKind,
        key: &str,
    ) -> Result<Option<Integration>, StoreError> {
        if let Some(integration) = self.integration_by_key(kind, key) {
            return Ok(Some(integration));
        }
        let key = key.trim();
        if key.is_empty() {
            return Ok(None);
        }
        let Some(id) = self
            .store
            .integration_of_key(&crate::auth::secret_hash(key))
            .await?
        else {
            return Ok(None);
        };
        Ok(self
            .plan()
            .plan
            .integration(&id)
            .filter(|integration| integration.kind == kind)
            .cloned())
    }

    /// Stores alerts durably and answers once they are committed: `Stored` or `Duplicate` per
    /// alert, in order. Wakes the alert processor.
    pub async fn accept_alerts(
        &self,
        integration: &Integration,
        alerts: &[Alert],
    ) -> Result<Vec<Accepted>, IntakeError> {
        let now = self.now();
        let mut counted = self.stats.intake(integration.kind, alerts.len());
        if let Err(wait) = self
            .limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take(integration, alerts.len().max(1), now)
        {
            return Err(IntakeError::RateLimited {
                integration: integration.id.to_string(),
                limit: integration
                    .rate_limit
                    .map(|limit| limit.to_string())
                    .unwrap_or_default(),
                retry_after_secs: wait,
            });
        }
        let batch: Vec<NewAlertEvent> = alerts
            .iter()
            .map(|alert| NewAlertEvent {
                integration: integration.id.to_string(),
                key: alert.key.clone(),
                action: alert.action.as_str().to_owned(),
                dedup: alert.dedup.clone(),
                received_at: now,
                body: serde_json::to_string(alert).unwrap_or_default(),
            })
            .collect();
        let result = match self.intake.get() {
            Some(queue) => {
                let (reply, answer) = oneshot::channel();
                queue
                    .requests
                    .try_send((batch, reply))
                    .map_err(|_| IntakeError::Unavailable("the intake queue is full".to_owned()))?;
                answer
                    .await
                    .map_err(|_| IntakeError::Unavailable("the intake writer stopped".to_owned()))?
            }
            None => self.store.accept_alerts(&batch).await,
        };
        let accepted = result.map_err(|error| {
            tracing::warn!(%error, "alert intake could not store a batch");
            IntakeError::Unavailable(error.to_string())
        })?;
        self.wake.alerts.notify_one();
        counted.stored();
        Ok(accepted)
    }

    /// Starts the group-commit writer; intake goes through it from then on.
    pub(crate) fn start_intake(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let (requests, mut queue) = mpsc::channel::<(Vec<NewAlertEvent>, Reply)>(QUEUE_DEPTH);
        let _ = self.intake.set(Queue { requests });
        let engine = Arc::clone(self);
        tokio::spawn(async move {
            while let Some(first) = queue.recv().await {
                let mut batch = vec![first];
                let mut size = batch[0].0.len();
                while size < MAX_BATCH {
                    match queue.try_recv() {
                        Ok(next) => {
                            size += next.0.len();
                            batch.push(next);
                        }
                        Err(_) => break,
                    }
                }
                let rows: Vec<NewAlertEvent> = batch
                    .iter()
                    .flat_map(|(rows, _)| rows.iter().cloned())
                    .collect();
                let mut result = engine.store.accept_alerts(&rows).await;
                for (rows, reply) in batch {
                    let part = match &mut result {
                        Ok(all) => Ok(all.drain(..rows.len()).collect()),
                        Err(error) => Err(StoreError::Database(error.to_string())),
                    };
                    let _ = reply.send(part);
                }
            }
        })
    }
}
