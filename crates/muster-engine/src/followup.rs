//! What follows the first page: messages written from the plan's templates and sent through
//! its channels, the post-mortem (drafted from the timeline, saved in versions, published), and
//! the action items across incidents.

use muster_core::incident::{
    Command, Event, EventKind, Incident, IncidentId, Millis, comms, state,
};
use muster_core::message::{self, MessageInput, Rendered};
use muster_core::plan::{Channel, ChannelId, Plan, TemplateId};
use muster_core::postmortem;
use muster_notify::Authored;
use muster_store::{ActionItemQuery, ActionItemRecord, Effects, NewDelivery, Store};

use crate::{Engine, EngineError, Outcome, Principal, paging};

/// The post-mortem as it stands: the latest saved version, or the draft when none is saved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PostmortemView {
    pub incident: IncidentId,
    /// 0 for the unsaved draft.
    pub version: u32,
    pub markdown: String,
    pub published_version: Option<u32>,
    pub public: bool,
}

fn rejected(code: &'static str, message: String) -> EngineError {
    EngineError::rejected(code, message)
}

/// The text of version `version` of the post-mortem, from the timeline.
fn saved_version(events: &[Event], version: u32) -> Option<&str> {
    events.iter().rev().find_map(|event| match &event.kind {
        EventKind::PostmortemSaved {
            version: saved,
            markdown,
            ..
        } if *saved == version => Some(markdown.as_str()),
        _ => None,
    })
}

/// When the update after the one being written is due: one cadence of the audience from now;
/// none for an audience without a cadence.
fn next_update(plan: &Plan, incident: &Incident, audience: &str, now: Millis) -> Option<Millis> {
    comms::cadences(plan, incident)
        .iter()
        .find(|cadence| cadence.audience == audience)
        .map(|cadence| now + cadence.every)
}

/// The audience a message is for: the one named, else the audience of the communications table
/// that uses the template for this incident.
fn audience_of<'a>(
    plan: &'a Plan,
    incident: &Incident,
    audience: Option<&'a str>,
    template: &TemplateId,
) -> Option<&'a str> {
    audience.or_else(|| {
        plan.communications
            .iter()
            .find(|c| {
                c.template.as_ref() == Some(template) && comms::applies(c.when.as_ref(), incident)
            })
            .map(|c| c.audience.as_str())
    })
}

impl Engine {
    async fn incident_and_timeline(
        &self,
        id: &IncidentId,
    ) -> Result<(Incident, Vec<Event>), EngineError> {
        let events = self.timeline(id).await?;
        let incident =
            Incident::fold(&events).ok_or_else(|| EngineError::NotFound(id.to_string()))?;
        Ok((incident, events))
    }

    /// Renders `template` for the incident (and audience) without sending anything: what
    /// `send_message` without a body would send.
    pub async fn preview_message(
        &self,
        id: &IncidentId,
        audience: Option<&str>,
        template: &TemplateId,
    ) -> Result<Rendered, EngineError> {
        let (incident, events) = self.incident_and_timeline(id).await?;
        let running = self.plan();
        render(
            &running.plan,
            &incident,
            &events,
            self.now(),
            audience,
            template,
        )
    }

    /// Sends a message: renders the template when no body is given (an unknown variable
    /// refuses the message before anything is recorded), records `message_sent` and queues one
    /// delivery per channel that Muster can post to (manual channels are recorded as posted by
    /// hand).
    pub(crate) async fn send_message(
        &self,
        principal: &Principal,
        id: &IncidentId,
        command: &Command,
    ) -> Result<Outcome, EngineError> {
        let Command::SendMessage {
            audience,
            template,
            channels,
            subject,
            body,
        } = command
        else {
            unreachable!("send_message is only called with SendMessage");
        };
        let mut command = command.clone();
        if body.as_deref().is_none_or(|body| body.trim().is_empty()) {
            let Some(template) = template else {
                return Err(rejected(
                    "missing-text",
                    "the message has no body; write one or name a template".to_owned(),
                ));
            };
            let (incident, events) = self.incident_and_timeline(id).await?;
            let running = self.plan();
            let rendered = render(
                &running.plan,
                &incident,
                &events,
                self.now(),
                audience.as_deref(),
                template,
            )?;
            command = Command::SendMessage {
                audience: audience.clone(),
                template: Some(template.clone()),
                channels: channels.clone(),
                subject: subject.clone().or(rendered.subject),
                body: Some(rendered.body),
            };
        }
        // The messages are written from the incident as it is now, and queued in the same
        // transaction that records them: a message on the timeline is a message on its way.
        let head = self
            .store
            .head(id)
            .await?
            .ok_or_else(|| EngineError::NotFound(id.to_string()))?;
        let running = self.plan();
        let planned = state::decide(&running.plan, Some(&head.incident), &command, self.now())
            .map_err(EngineError::Rejected)?;
        let mut messages = Vec::new();
        for kind in &planned {
            if let EventKind::MessageSent {
                channels,
                subject,
                body,
                ..
            } = kind
            {
                messages.extend(
                    self.messages(
                        &running.plan,
                        &head.incident,
                        channels,
                        subject.as_deref(),
                        body,
                    )
                    .await,
                );
            }
        }
        let outcome = self
            .record(id, &principal.actor(), |plan, incident, now| {
                let kinds = state::decide(plan, Some(incident), &command, now)
                    .map_err(EngineError::Rejected)?;
                if kinds != planned {
                    // The incident changed under the message (e.g. the severity and with it
                    // the channels): write it again rather than send what was not recorded.
                    return Err(EngineError::Busy(incident.id.clone()));
                }
                // The message is the next event: its sequence number names its destination.
                let seq = incident.last_seq + 1;
                let deliveries = messages
                    .iter()
                    .map(|(channel, message)| NewDelivery {
                        incident: Some(incident.id.to_string()),
                        channel: channel.to_string(),
                        destination: format!("channel:{channel}/message:{seq}"),
                        person: None,
                        message: message.clone(),
                        next_at: now,
                    })
                    .collect();
                Ok(Some((
                    kinds,
                    Effects {
                        deliveries,
                        ..Effects::default()
                    },
                )))
            })
            .await?
            .ok_or_else(|| rejected("no-change", format!("nothing was sent for {id}")))?;
        Ok(outcome)
    }

    /// The message for each channel Muster posts to (manual channels are posted by hand, the
    /// status page has its own command), as stored in a delivery. Each message gets a
    /// destination of its own (`channel:ID/message:SEQ`), so throttling never folds a written
    /// message into a page or another message.
    async fn messages(
        &self,
        plan: &Plan,
        incident: &Incident,
        channels: &[ChannelId],
        subject: Option<&str>,
        body: &str,
    ) -> Vec<(ChannelId, String)> {
        let mut out = Vec::new();
        for channel_id in channels {
            match plan.channels.get(channel_id) {
                None | Some(Channel::Manual { .. } | Channel::StatusPage {}) => continue,
                Some(_) => {}
            }
            let headline = subject.unwrap_or("Message").to_owned();
            let mut message = paging::message(self, plan, incident, headline, None).await;
            message.authored = Some(Authored {
                subject: subject.map(str::to_owned),
                body: body.to_owned(),
            });
            out.push((
                channel_id.clone(),
                serde_json::to_string(&message).unwrap_or_default(),
            ));
        }
        out
    }

    /// Publishes the latest saved post-mortem version.
    pub(crate) async fn publish_postmortem(
        &self,
        principal: &Principal,
        id: &IncidentId,
        public: bool,
    ) -> Result<Outcome, EngineError> {
        let events = self.timeline(id).await?;
        self.record(id, &principal.actor(), |_, incident, _| {
            let version = incident.postmortem.as_ref().map_or(0, |pm| pm.version);
            // A version saved after the timeline was read: read it again.
            let markdown = match saved_version(&events, version) {
                Some(markdown) => markdown,
                None if version == 0 => "",
                None => return Err(EngineError::Busy(incident.id.clone())),
            };
            let kind = state::publish_postmortem(incident, public, markdown)
                .map_err(EngineError::Rejected)?;
            Ok(Some((vec![kind], Effects::default())))
        })
        .await?
        .ok_or_else(|| rejected("no-change", format!("nothing to publish for {id}")))
    }

    /// The post-mortem: the latest saved version, else a draft written from the incident.
    pub async fn postmortem(&self, id: &IncidentId) -> Result<PostmortemView, EngineError> {
        let (incident, events) = self.incident_and_timeline(id).await?;
        let saved = incident.postmortem.clone().unwrap_or_default();
        let markdown = match saved_version(&events, saved.version) {
            Some(text) if saved.version > 0 => text.to_owned(),
            _ => self.draft(&incident, &events)?,
        };
        Ok(PostmortemView {
            incident: id.clone(),
            version: saved.version,
            markdown,
            published_version: saved.published_version,
            public: saved.public,
        })
    }

    /// A fresh draft from the incident as it is now, whatever was saved.
    pub async fn postmortem_draft(&self, id: &IncidentId) -> Result<String, EngineError> {
        let (incident, events) = self.incident_and_timeline(id).await?;
        self.draft(&incident, &events)
    }

    fn draft(&self, incident: &Incident, events: &[Event]) -> Result<String, EngineError> {
        let running = self.plan();
        let input = MessageInput {
            plan: &running.plan,
            incident,
            events,
            now: self.now(),
            audience: None,
            next_update: None,
        };
        postmortem::draft(&input).map_err(|error| rejected("template-error", error.to_string()))
    }

    /// Action items across incidents (the overdue report with `due_before`).
    pub async fn action_items(
        &self,
        query: &ActionItemQuery,
    ) -> Result<Vec<ActionItemRecord>, EngineError> {
        Ok(self.store.action_items(query).await?)
    }
}

fn render(
    plan: &Plan,
    incident: &Incident,
    events: &[Event],
    now: Millis,
    audience: Option<&str>,
    template: &TemplateId,
) -> Result<Rendered, EngineError> {
    let Some(found) = plan.template(template.as_str()) else {
        let known: Vec<&str> = plan.templates.iter().map(|t| t.id.as_str()).collect();
        return Err(rejected(
            "unknown-reference",
            format!(
                "the plan has no template '{template}'; it has {}",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        ));
    };
    let audience = audience_of(plan, incident, audience, template);
    let input = MessageInput {
        plan,
        incident,
        events,
        now,
        audience,
        next_update: audience.and_then(|audience| next_update(plan, incident, audience, now)),
    };
    let context = message::context(&input);
    message::render(found, &context).map_err(|error| rejected("template-error", error.to_string()))
}
