//! `muster audit verify`: every incident's chain recomputed from the bytes on disk.

use muster_core::incident::chain;
use muster_store::{Store, StoreError};
use serde::Serialize;

/// What the audit found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    pub incidents: usize,
    pub events: usize,
    /// The first broken link of each incident whose chain breaks.
    pub broken: Vec<BrokenEntry>,
}

/// A broken link, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenEntry {
    pub incident: String,
    pub seq: u64,
    pub reason: String,
}

impl AuditReport {
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.broken.is_empty()
    }
}

/// Walks every incident that has stored events; an event that cannot even be decoded is a
/// broken link at that event.
pub async fn verify<S: Store>(store: &S) -> Result<AuditReport, StoreError> {
    let mut report = AuditReport::default();
    for incident in store.incident_ids().await? {
        let raw = store.raw_events(&incident).await?;
        report.incidents += 1;
        report.events += raw.len();
        let mut events = Vec::with_capacity(raw.len());
        let mut undecodable = None;
        for row in &raw {
            match row.decode() {
                Ok(event) => events.push(event),
                Err(reason) => {
                    undecodable = Some(BrokenEntry {
                        incident: incident.clone(),
                        seq: u64::try_from(row.seq).unwrap_or(0),
                        reason: format!("the stored event cannot be read: {reason}"),
                    });
                    break;
                }
            }
        }
        // Links before an unreadable event are still checked: an earlier break is reported first.
        if let Err(link) = chain::verify(&events) {
            report.broken.push(BrokenEntry {
                incident: link.incident,
                seq: link.seq,
                reason: link.reason,
            });
        } else if let Some(entry) = undecodable {
            report.broken.push(entry);
        }
    }
    Ok(report)
}
