//! The runbook as a responder works it: every step of the incident's runbook in phase order, what
//! is done, and what still waits for a decision's quorum.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::incident::event::Millis;
use crate::incident::state::{Incident, Quorum, quorum};
use crate::plan::{DecisionId, Phase, Plan};

/// One runbook step and where the incident stands with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChecklistItem {
    pub phase: Phase,
    pub step: String,
    pub title: String,
    /// Time budget from declaration, e.g. `5m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<String>,
    /// When the time budget runs out: declaration plus `within`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The decision that gates this step, and how far it is from its quorum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals: Option<Quorum>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<Millis>,
}

impl ChecklistItem {
    /// Not done, and its gate (if any) is not yet approved.
    #[must_use]
    pub fn blocked(&self) -> bool {
        self.done_at.is_none() && self.approvals.is_some_and(|quorum| !quorum.met())
    }

    /// Not done and past its time budget at `now`.
    #[must_use]
    pub fn overdue(&self, now: Millis) -> bool {
        self.done_at.is_none() && self.due_at.is_some_and(|due| now > due)
    }
}

/// The incident's runbook steps, grouped by phase in the order of `Phase::ALL` and, within a
/// phase, in the runbook's order. Empty when the incident follows no runbook the plan still has.
#[must_use]
pub fn checklist(plan: &Plan, incident: &Incident) -> Vec<ChecklistItem> {
    let Some(runbook) = incident
        .runbook
        .as_ref()
        .and_then(|id| plan.runbook(id.as_str()))
    else {
        return Vec::new();
    };
    let mut items: Vec<ChecklistItem> = runbook
        .steps
        .iter()
        .map(|step| {
            let approvals = step
                .decision
                .as_ref()
                .and_then(|id| plan.decision(id.as_str()))
                .map(|decision| {
                    let given = incident
                        .decisions
                        .get(&decision.id)
                        .map(|state| state.approvals.clone())
                        .unwrap_or_default();
                    quorum(plan, decision, &given)
                });
            ChecklistItem {
                phase: step.phase,
                step: step.id.clone(),
                title: step.title.clone(),
                within: step.within.as_ref().map(ToString::to_string),
                due_at: step
                    .within
                    .map(|within| incident.declared_at + within.as_millis()),
                details: step.details.clone(),
                command: step.command.clone(),
                owner: step.owner.as_ref().map(ToString::to_string),
                decision: step.decision.clone(),
                approvals,
                done_at: incident.steps_done.get(&step.id).copied(),
            }
        })
        .collect();
    items.sort_by_key(|item| Phase::ALL.iter().position(|phase| *phase == item.phase));
    items
}
