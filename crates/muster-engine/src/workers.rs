//! The background loops of `muster serve`: intake writer, alert processor, timers, deliveries.
//! Each wakes when told there is work, and polls the database anyway (other instances add work
//! too, and timers come due by themselves), so a timer fires within [`POLL`] of its time.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::Engine;

/// Longest a loop sleeps before looking at the database again.
pub const POLL: Duration = Duration::from_millis(250);

/// Pause after an error before trying again.
const BACKOFF: Duration = Duration::from_secs(1);

impl Engine {
    /// Starts the background work; it stops when `stop` turns true.
    pub fn start_workers(self: &Arc<Self>, stop: watch::Receiver<bool>) -> JoinSet<()> {
        let mut tasks = JoinSet::new();
        let intake = self.start_intake();
        let mut until = stop.clone();
        tasks.spawn(async move {
            // The HTTP server has drained its requests before `stop` turns, so nothing waits on
            // the writer by then.
            tokio::select! {
                _ = intake => {}
                _ = until.changed() => {}
            }
        });
        let engine = Arc::clone(self);
        let mut until = stop.clone();
        tasks.spawn(async move {
            loop {
                let busy = match engine.process_alerts().await {
                    Ok(count) => count > 0,
                    Err(error) => {
                        tracing::warn!(%error, "alert processing failed; retrying");
                        tokio::time::sleep(BACKOFF).await;
                        false
                    }
                };
                if busy {
                    continue;
                }
                tokio::select! {
                    () = engine.wake.alerts.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                    _ = until.changed() => return,
                }
            }
        });
        let engine = Arc::clone(self);
        let mut until = stop.clone();
        tasks.spawn(async move {
            loop {
                let busy = match engine.fire_due_timers().await {
                    Ok(count) => count > 0,
                    Err(error) => {
                        tracing::warn!(%error, "timers failed; retrying");
                        tokio::time::sleep(BACKOFF).await;
                        false
                    }
                };
                if busy {
                    continue;
                }
                tokio::select! {
                    () = engine.wake.timers.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                    _ = until.changed() => return,
                }
            }
        });
        let engine = Arc::clone(self);
        let mut until = stop;
        tasks.spawn(async move {
            loop {
                let busy = match engine.deliver_due().await {
                    Ok(count) => count > 0,
                    Err(error) => {
                        tracing::warn!(%error, "deliveries failed; retrying");
                        tokio::time::sleep(BACKOFF).await;
                        false
                    }
                };
                if busy {
                    continue;
                }
                tokio::select! {
                    () = engine.wake.deliveries.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                    _ = until.changed() => return,
                }
            }
        });
        tasks
    }
}
