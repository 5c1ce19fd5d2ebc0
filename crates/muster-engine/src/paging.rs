//! Turning a page (who to reach, through which channels) into deliveries: one per contact, each
//! with its message already written, so a delivery can be sent and retried on its own.
//!
//! Destinations name the contact reached, which is what throttling and bundling count by:
//! `email:ADDRESS` for an email written to a person, `channel:ID` for a channel's own audience,
//! `channel:ID/person:ID` for a chat message mentioning a person (and `channel:ID/message:SEQ`
//! for a message a responder wrote, see `followup.rs`).

use muster_core::incident::escalation::Page;
use muster_core::incident::{Incident, Millis};
use muster_core::plan::{Channel, ChannelId, Person, PersonId, Plan};
use muster_notify::{Message, Recipient};
use muster_store::NewDelivery;

use crate::Engine;

/// The message about `incident` with `headline`, for `recipient` if any.
pub(crate) async fn message(
    engine: &Engine,
    plan: &Plan,
    incident: &Incident,
    headline: String,
    recipient: Option<(&Person, Option<String>)>,
) -> Message {
    let severity = plan.severity(incident.severity.as_str());
    let mut lines = Vec::new();
    if let Some(summary) = &incident.summary {
        lines.push(summary.clone());
    }
    if incident.alert_count > 0 {
        lines.push(format!("{} alert(s) attached", incident.alert_count));
    }
    if let Some(step) = incident
        .runbook
        .as_ref()
        .and_then(|id| plan.runbook(id.as_str()))
        .and_then(|runbook| {
            runbook
                .steps
                .iter()
                .find(|step| !incident.steps_done.contains_key(&step.id))
        })
    {
        lines.push(format!("Next step: {}", step.title));
    }
    let base = engine.options.public_url.trim_end_matches('/');
    let ack_url = match recipient {
        Some((person, _)) if incident.acknowledged_at.is_none() => engine
            .ack_link(&incident.id.to_string(), &person.id)
            .await
            .ok()
            .map(|token| format!("{base}/ack/{token}")),
        _ => None,
    };
    Message {
        incident: incident.id.to_string(),
        title: incident.title.clone(),
        severity: incident.severity.to_string(),
        severity_name: severity.map(|severity| severity.name.clone()),
        status: incident.status.to_string(),
        headline,
        lines,
        drill: incident.drill,
        url: Some(format!("{base}/incidents/{}", incident.id)),
        ack_url,
        folded: 0,
        recipient: recipient.map(|(person, handle)| Recipient {
            person: person.id.to_string(),
            name: person.name.clone(),
            email: person.contacts.email.clone(),
            handle,
        }),
        authored: None,
    }
}

fn handle_for(channel: &Channel, person: &Person) -> Option<String> {
    let contacts = &person.contacts;
    match channel {
        Channel::Slack { .. } => contacts.slack.clone(),
        Channel::Discord { .. } => contacts.discord.clone(),
        Channel::Telegram { .. } => contacts.telegram.clone(),
        Channel::Matrix { .. } => contacts.matrix.clone(),
        _ => contacts.chat.clone(),
    }
}

fn encode(message: &Message) -> String {
    serde_json::to_string(message).unwrap_or_default()
}

/// Deliveries that tell `people` (through `via`) and `channels` about the incident.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn deliveries(
    engine: &Engine,
    plan: &Plan,
    incident: &Incident,
    headline: &str,
    people: &[PersonId],
    via: &[ChannelId],
    channels: &[ChannelId],
    now: Millis,
) -> Vec<NewDelivery> {
    let mut out: Vec<NewDelivery> = Vec::new();
    let id = incident.id.to_string();
    for channel_id in channels {
        if !plan.channels.contains_key(channel_id) {
            continue;
        }
        let message = message(engine, plan, incident, headline.to_owned(), None).await;
        out.push(NewDelivery {
            incident: Some(id.clone()),
            channel: channel_id.to_string(),
            destination: format!("channel:{channel_id}"),
            person: None,
            message: encode(&message),
            next_at: now,
        });
    }
    for person_id in people {
        let Some(person) = plan.person(person_id.as_str()) else {
            continue;
        };
        for channel_id in via {
            let Some(channel) = plan.channels.get(channel_id) else {
                continue;
            };
            let destination = match channel {
                Channel::Email { to, .. } if to.is_empty() => {
                    let Some(address) = person.contacts.email.as_deref() else {
                        continue;
                    };
                    format!("email:{address}")
                }
                Channel::StatusPage {} | Channel::Manual { .. } => continue,
                _ => format!("channel:{channel_id}/person:{person_id}"),
            };
            if out
                .iter()
                .any(|delivery| delivery.destination == destination)
            {
                continue;
            }
            let handle = handle_for(channel, person);
            let message = message(
                engine,
                plan,
                incident,
                headline.to_owned(),
                Some((person, handle)),
            )
            .await;
            out.push(NewDelivery {
                incident: Some(id.clone()),
                channel: channel_id.to_string(),
                destination,
                person: Some(person_id.to_string()),
                message: encode(&message),
                next_at: now,
            });
        }
    }
    out
}

/// Deliveries for one level of the escalation ladder.
pub(crate) async fn page_deliveries(
    engine: &Engine,
    plan: &Plan,
    incident: &Incident,
    page: &Page,
    now: Millis,
) -> Vec<NewDelivery> {
    let headline = match &page.event {
        muster_core::incident::EventKind::Escalated {
            level,
            round,
            policy,
            ..
        } => {
            let levels = plan.policy(policy).map_or(0, |policy| policy.levels.len());
            if *round > 1 {
                format!("Paged: escalation level {level} of {levels}, round {round}")
            } else {
                format!("Paged: escalation level {level} of {levels}")
            }
        }
        _ => "Paged".to_owned(),
    };
    deliveries(
        engine,
        plan,
        incident,
        &headline,
        &page.people,
        &page.via,
        &page.channels,
        now,
    )
    .await
}
