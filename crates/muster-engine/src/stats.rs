//! Muster's own health counters: what this instance took in, sent and fired since it started.
//! Plain atomics, bumped where the work happens and read by `/metrics`; they live in memory and
//! start from zero with the process, as Prometheus counters do.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use muster_core::incident::{Millis, NotifyOutcome};
use muster_core::plan::IntegrationKind;

/// The integration kinds, in the order their counters are kept.
pub const INTEGRATION_KINDS: [IntegrationKind; 3] = [
    IntegrationKind::Alertmanager,
    IntegrationKind::Pagerduty,
    IntegrationKind::Webhook,
];

/// Counters of this instance's work. Every method is a single atomic operation.
#[derive(Debug, Default)]
pub struct Stats {
    alerts_received: [AtomicU64; INTEGRATION_KINDS.len()],
    alerts_rejected: AtomicU64,
    sent: AtomicU64,
    failed: AtomicU64,
    retrying: AtomicU64,
    folded: AtomicU64,
    timers_fired: AtomicU64,
    last_timer_lag: AtomicI64,
    max_timer_lag: AtomicI64,
    incidents_declared: AtomicU64,
}

/// A copy of every counter at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// Alerts stored, per kind in the order of [`INTEGRATION_KINDS`].
    pub alerts_received: [u64; INTEGRATION_KINDS.len()],
    /// Alerts refused after their key was accepted: over the rate limit, or not storable.
    pub alerts_rejected: u64,
    /// Notifications sent (a bundle counts once, its folded deliveries in `folded`).
    pub sent: u64,
    /// Notifications given up on.
    pub failed: u64,
    /// Failed attempts that will be tried again.
    pub retrying: u64,
    /// Deliveries folded into another one's message.
    pub folded: u64,
    /// Due timers taken up to fire.
    pub timers_fired: u64,
    /// How late the last timer fired, in ms after it was due.
    pub last_timer_lag_ms: i64,
    /// The latest a timer has fired, in ms after it was due.
    pub max_timer_lag_ms: i64,
    /// Incidents this instance declared (through the API, the UI or from alerts).
    pub incidents_declared: u64,
}

impl Stats {
    /// A batch of alerts offered to intake: counted as received when [`Intake::stored`] is
    /// called, as rejected if the guard is dropped before (whatever path refused it).
    #[must_use]
    pub fn intake(&self, kind: IntegrationKind, alerts: usize) -> Intake<'_> {
        Intake {
            stats: self,
            kind,
            alerts: alerts as u64,
            stored: false,
        }
    }

    /// A delivery's outcome, with how many others were folded into its message.
    pub fn notified(&self, outcome: NotifyOutcome, folded: usize) {
        let counter = match outcome {
            NotifyOutcome::Sent => &self.sent,
            NotifyOutcome::Failed => &self.failed,
            NotifyOutcome::Retrying => &self.retrying,
            NotifyOutcome::Folded => &self.folded,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.folded.fetch_add(folded as u64, Ordering::Relaxed);
    }

    /// A due timer taken up `lag` ms after it was due.
    pub fn timer_fired(&self, lag: Millis) {
        self.timers_fired.fetch_add(1, Ordering::Relaxed);
        self.last_timer_lag.store(lag, Ordering::Relaxed);
        self.max_timer_lag.fetch_max(lag, Ordering::Relaxed);
    }

    /// A commit of an incident's events; `declared` when it started the incident.
    pub fn committed(&self, declared: bool) {
        if declared {
            self.incidents_declared.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Snapshot {
            alerts_received: self.alerts_received.each_ref().map(read),
            alerts_rejected: read(&self.alerts_rejected),
            sent: read(&self.sent),
            failed: read(&self.failed),
            retrying: read(&self.retrying),
            folded: read(&self.folded),
            timers_fired: read(&self.timers_fired),
            last_timer_lag_ms: self.last_timer_lag.load(Ordering::Relaxed),
            max_timer_lag_ms: self.max_timer_lag.load(Ordering::Relaxed),
            incidents_declared: read(&self.incidents_declared),
        }
    }
}

impl Snapshot {
    /// Alerts stored, of every kind.
    #[must_use]
    pub fn alerts_received_total(&self) -> u64 {
        self.alerts_received.iter().sum()
    }
}

/// Counts one intake batch once, whichever way it ends.
#[derive(Debug)]
pub struct Intake<'a> {
    stats: &'a Stats,
    kind: IntegrationKind,
    alerts: u64,
    stored: bool,
}

impl Intake<'_> {
    /// The batch is on disk.
    pub fn stored(&mut self) {
        self.stored = true;
    }
}

impl Drop for Intake<'_> {
    fn drop(&mut self) {
        let counter = if self.stored {
            let slot = INTEGRATION_KINDS
                .iter()
                .position(|kind| *kind == self.kind)
                .unwrap_or_default();
            &self.stats.alerts_received[slot]
        } else {
            &self.stats.alerts_rejected
        };
        counter.fetch_add(self.alerts, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_way_an_intake_ends() {
        let stats = Stats::default();
        stats.intake(IntegrationKind::Pagerduty, 3).stored();
        drop(stats.intake(IntegrationKind::Webhook, 2));
        stats.notified(NotifyOutcome::Sent, 4);
        stats.notified(NotifyOutcome::Retrying, 0);
        stats.timer_fired(250);
        stats.timer_fired(40);
        stats.committed(true);
        stats.committed(false);
        let seen = stats.snapshot();
        assert_eq!(seen.alerts_received, [0, 3, 0]);
        assert_eq!(seen.alerts_received_total(), 3);
        assert_eq!(seen.alerts_rejected, 2);
        assert_eq!(
            (seen.sent, seen.retrying, seen.failed, seen.folded),
            (1, 1, 0, 4)
        );
        assert_eq!(seen.timers_fired, 2);
        assert_eq!((seen.last_timer_lag_ms, seen.max_timer_lag_ms), (40, 250));
        assert_eq!(seen.incidents_declared, 1);
    }
}
