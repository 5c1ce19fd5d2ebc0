//! The team's numbers over a period: the store's narrow incident rows and action items, turned
//! into [`muster_core::metrics::Report`] with the running plan and the engine's clock.

use muster_core::incident::Millis;
use muster_core::metrics::{self, ActionSample, IncidentSample, Report};
use muster_store::{ActionItemQuery, ActionItemRecord, IncidentTimes, Store};

use crate::{Engine, EngineError};

impl Engine {
    /// The report over the incidents declared in `[from, until)` and the action items created
    /// in it, as of now; drill incidents and their action items only when `drills` is true.
    pub async fn report(
        &self,
        from: Millis,
        until: Millis,
        drills: bool,
    ) -> Result<Report, EngineError> {
        let query = ActionItemQuery {
            created: Some((from, until)),
            drills,
            ..ActionItemQuery::default()
        };
        let (times, items) = tokio::try_join!(
            self.store.incident_times(from, until, drills),
            self.store.action_items(&query),
        )?;
        let incidents: Vec<IncidentSample> = times.into_iter().map(sample).collect();
        let actions: Vec<ActionSample> = items.iter().map(action).collect();
        let running = self.plan();
        let mut report = metrics::report(
            &running.plan,
            &incidents,
            &actions,
            (from, until),
            self.now(),
        );
        report.drills_included = drills;
        Ok(report)
    }
}

fn sample(row: IncidentTimes) -> IncidentSample {
    IncidentSample {
        severity: row.severity,
        category: row.category,
        drill: row.drill,
        started_at: row.started_at,
        detected_at: row.detected_at,
        declared_at: row.declared_at,
        acknowledged_at: row.acknowledged_at,
        resolved_at: row.resolved_at,
        root_cause: row.root_cause,
    }
}

fn action(item: &ActionItemRecord) -> ActionSample {
    ActionSample {
        status: item.status,
        due_at: item.due_at,
        created_at: item.created_at,
        closed_at: item.closed_at,
    }
}
