//! The background loops of `muster serve`: intake writer, alert processor, timers, deliveries.
//! Each wakes when told there is work, and polls the database anyway (other instances add work
//! too, and timers come due by themselves), so a timer fires within [`POLL`] of its time.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::{Engine, EngineError, Wake};

/// Longest a loop sleeps before looking at the database again.
pub const POLL: Duration = Duration::from_millis(250);

/// Pause after an error before trying again.
const BACKOFF: Duration = Duration::from_secs(1);

/// Runs `step` until `until` turns: again at once while it finds work, else after a wake-up or
/// [`POLL`].
fn spawn_loop<F, Fut>(
    tasks: &mut JoinSet<()>,
    engine: &Arc<Engine>,
    mut until: watch::Receiver<bool>,
    what: &'static str,
    wake: fn(&Wake) -> &Notify,
    step: F,
) where
    F: Fn(Arc<Engine>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<usize, EngineError>> + Send,
{
    let engine = Arc::clone(engine);
    tasks.spawn(async move {
        loop {
            match step(Arc::clone(&engine)).await {
                Ok(count) if count > 0 => continue,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "{what} failed; retrying");
                    tokio::time::sleep(BACKOFF).await;
                }
            }
            tokio::select! {
                () = wake(&engine.wake).notified() => {}
                () = tokio::time::sleep(POLL) => {}
                _ = until.changed() => return,
            }
        }
    });
}

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
        spawn_loop(
            &mut tasks,
            self,
            stop.clone(),
            "alert processing",
            |wake| &wake.alerts,
            |engine| async move { engine.process_alerts().await },
        );
        spawn_loop(
            &mut tasks,
            self,
            stop.clone(),
            "timers",
            |wake| &wake.timers,
            |engine| async move { engine.fire_due_timers().await },
        );
        spawn_loop(
            &mut tasks,
            self,
            stop,
            "deliveries",
            |wake| &wake.deliveries,
            |engine| async move { engine.deliver_due().await },
        );
        tasks
    }
}
