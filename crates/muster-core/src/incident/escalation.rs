//! What an incident's events set in motion, as data: timers to arm or cancel, and what a timer
//! does when it fires (a level of the escalation ladder to page, a missed acknowledgement SLA, an
//! update that is due). The engine stores the timers and performs the pages; nothing here reads a
//! clock.
//!
//! The ladder: level `i` of a policy fires at `round_start + levels[i].after`. After the last
//! level, while rounds remain (`repeat`), the ladder starts again one acknowledgement SLA after
//! the last level's delay: `next_round_start = round_start + max(after) + ack_within`. An
//! acknowledgement stops the ladder; resolving or closing cancels every timer of the incident
//! but the deadlines that outlive it. Communications and deadline timers follow `comms`.

use serde::{Deserialize, Serialize};

use crate::incident::comms;
use crate::incident::event::{Event, EventKind, Millis};
use crate::incident::state::Incident;
use crate::plan::oncall::reachable;
use crate::plan::values::{Target, TargetKind};
use crate::plan::{ChannelId, EscalationPolicy, PersonId, Plan};

/// Timer kinds, as stored.
pub const ESCALATE: &str = "escalate";
pub const ACK_SLA: &str = "ack-sla";
/// Reminders of the severity's update cadence before the communications table ran them; such
/// timers left in a store are dropped when they fire.
pub const UPDATE_DUE: &str = "update-due";
pub const HEARTBEAT: &str = "heartbeat";

/// Where the ladder stands when an `escalate` timer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LadderStep {
    /// 0-based level and round.
    pub level: u32,
    pub round: u32,
    pub round_start: Millis,
}

/// A timer to arm, replacing any pending one of the same kind for the incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arm {
    pub kind: String,
    pub due_at: Millis,
    /// JSON read back when it fires.
    pub payload: String,
}

/// What a batch of events asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reaction {
    pub arm: Vec<Arm>,
    /// Timer kinds to cancel for the incident.
    pub cancel: Vec<String>,
    /// Cancel every timer of the incident.
    pub cancel_all: bool,
}

/// The policy that pages for an incident: its severity's, unless that says `none`.
#[must_use]
pub fn policy<'a>(plan: &'a Plan, incident: &Incident) -> Option<&'a EscalationPolicy> {
    let severity = plan.severity(incident.severity.as_str())?;
    let id = severity.escalation.as_deref()?;
    plan.policy(id)
}

fn ladder_timer(step: LadderStep, due_at: Millis) -> Arm {
    Arm {
        kind: ESCALATE.to_owned(),
        due_at,
        payload: serde_json::to_string(&step).unwrap_or_default(),
    }
}

fn start_ladder(plan: &Plan, incident: &Incident, at: Millis) -> Option<Arm> {
    let policy = policy(plan, incident)?;
    let first = policy.levels.first()?;
    Some(ladder_timer(
        LadderStep {
            level: 0,
            round: 0,
            round_start: at,
        },
        at + first.after.as_millis(),
    ))
}

fn ack_sla(plan: &Plan, incident: &Incident) -> Option<Arm> {
    let severity = plan.severity(incident.severity.as_str())?;
    Some(Arm {
        kind: ACK_SLA.to_owned(),
        due_at: incident.declared_at + severity.ack_within.as_millis(),
        payload: "{}".to_owned(),
    })
}

/// The timers `events` (just appended, ending in `after`) arm and cancel.
#[must_use]
pub fn react(
    plan: &Plan,
    before: Option<&Incident>,
    after: &Incident,
    events: &[Event],
) -> Reaction {
    let mut reaction = Reaction::default();
    let was_open = before.is_none_or(|incident| incident.status.is_open());
    if !after.status.is_open() {
        // Paging stops; the deadlines that outlive the incident (post-mortem, legal) are
        // armed again below.
        reaction.cancel_all = was_open;
    }
    if after.status.is_open() {
        for event in events {
            match &event.kind {
                EventKind::Declared { .. } => {
                    reaction.arm.extend(start_ladder(plan, after, event.at));
                    reaction.arm.extend(ack_sla(plan, after));
                }
                EventKind::Acknowledged { .. }
                    if before.is_some_and(|incident| incident.acknowledged_at.is_none()) =>
                {
                    reaction
                        .cancel
                        .extend([ESCALATE.to_owned(), ACK_SLA.to_owned()]);
                }
                // A new severity may mean another policy and SLA: start over unless someone
                // already acknowledged.
                EventKind::SeverityChanged { .. } if after.acknowledged_at.is_none() => {
                    reaction.cancel.push(ESCALATE.to_owned());
                    reaction.arm.extend(start_ladder(plan, after, event.at));
                    reaction.arm.extend(ack_sla(plan, after));
                }
                _ => {}
            }
        }
    }
    // A later arm of the same kind replaces an earlier one; keep only the last of each kind.
    let mut seen: Vec<String> = Vec::new();
    reaction.arm = reaction
        .arm
        .into_iter()
        .rev()
        .filter(|arm| {
            let first = !seen.contains(&arm.kind);
            seen.push(arm.kind.clone());
            first
        })
        .collect();
    reaction.arm.reverse();
    // Communications and deadlines: arm what changed, cancel what no longer runs.
    let old = if reaction.cancel_all {
        Vec::new()
    } else {
        before
            .map(|incident| comms::clocks(plan, incident))
            .unwrap_or_default()
    };
    let new = comms::clocks(plan, after);
    for clock in &new {
        if !old.contains(clock) {
            reaction.arm.push(Arm {
                kind: clock.kind.clone(),
                due_at: clock.due_at,
                payload: "{}".to_owned(),
            });
        }
    }
    for clock in old {
        if !new.iter().any(|c| c.kind == clock.kind) {
            reaction.cancel.push(clock.kind);
        }
    }
    reaction
}

/// One level paged: the event to record, who to reach, and the next step of the ladder.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub event: EventKind,
    pub people: Vec<PersonId>,
    /// Channels named directly by the level (`channel:ID`).
    pub channels: Vec<ChannelId>,
    /// Channels that reach the people (the policy's `via`).
    pub via: Vec<ChannelId>,
    pub next: Option<Arm>,
}

/// What an `escalate` timer does at `now`: nothing when the incident is acknowledged or
/// finished (or its policy is gone), else the page of its level and the next step.
#[must_use]
pub fn escalate(plan: &Plan, incident: &Incident, step: LadderStep, now: Millis) -> Option<Page> {
    if incident.acknowledged_at.is_some() || !incident.status.is_open() {
        return None;
    }
    let policy = policy(plan, incident)?;
    let level = policy.levels.get(step.level as usize)?;
    let at = jiff::Timestamp::from_millisecond(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let mut people: Vec<PersonId> = Vec::new();
    let mut channels = Vec::new();
    for target in &level.notify {
        if target.kind == TargetKind::Channel {
            channels.push(ChannelId(target.id.clone()));
            continue;
        }
        for person in reachable(plan, target, at) {
            if !people.contains(&person) {
                people.push(person);
            }
        }
    }
    let next = next_step(plan, incident, policy, step).map(|(next, due)| ladder_timer(next, due));
    Some(Page {
        event: EventKind::Escalated {
            policy: policy.id.to_string(),
            level: step.level + 1,
            round: step.round + 1,
            targets: level.notify.iter().map(Target::to_string).collect(),
            people: people.clone(),
        },
        people,
        channels,
        via: via_channels(plan, policy),
        next,
    })
}

fn next_step(
    plan: &Plan,
    incident: &Incident,
    policy: &EscalationPolicy,
    step: LadderStep,
) -> Option<(LadderStep, Millis)> {
    let next_level = step.level as usize + 1;
    if let Some(level) = policy.levels.get(next_level) {
        let next = LadderStep {
            level: step.level + 1,
            ..step
        };
        return Some((next, step.round_start + level.after.as_millis()));
    }
    if step.round >= policy.repeat {
        return None;
    }
    let longest = policy
        .levels
        .iter()
        .map(|level| level.after.as_millis())
        .max()
        .unwrap_or(0);
    let sla = plan
        .severity(incident.severity.as_str())
        .map_or(0, |severity| severity.ack_within.as_millis());
    // A ladder whose levels all fire at once and a zero SLA would repeat at the same instant;
    // wait at least a minute between rounds.
    let round_start = step.round_start + (longest + sla).max(60_000);
    let first = policy.levels.first()?.after.as_millis();
    Some((
        LadderStep {
            level: 0,
            round: step.round + 1,
            round_start,
        },
        round_start + first,
    ))
}

/// The channels that page people for a policy: its `via`, else every email channel without a
/// fixed recipient list.
#[must_use]
pub fn via_channels(plan: &Plan, policy: &EscalationPolicy) -> Vec<ChannelId> {
    if !policy.via.is_empty() {
        return policy.via.clone();
    }
    plan.channels
        .iter()
        .filter(|(_, channel)| {
            matches!(channel, crate::plan::Channel::Email { to, .. } if to.is_empty())
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// What an `ack-sla` timer records, unless someone acknowledged or the incident is finished.
#[must_use]
pub fn ack_overdue(plan: &Plan, incident: &Incident) -> Option<EventKind> {
    if incident.acknowledged_at.is_some() || !incident.status.is_open() {
        return None;
    }
    let severity = plan.severity(incident.severity.as_str())?;
    Some(EventKind::AckOverdue {
        sla: severity.ack_within.to_string(),
    })
}
