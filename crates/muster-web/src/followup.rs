//! The API of what follows the first page: message previews, the post-mortem, action items.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use muster_core::incident::{ActionStatus, Horizon, IncidentId, Millis};
use muster_core::plan::{PersonId, TemplateId};
use muster_engine::Engine;
use muster_engine::followup::PostmortemView;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::handlers::incident_id;
use crate::json::ApiJson;
use crate::query;

type Shared = State<Arc<Engine>>;

/// What to preview: a plan template, for an audience of the communications table.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreviewRequest {
    pub template: TemplateId,
    /// Fills `audience` and `next_update` from the communications table.
    #[serde(default)]
    pub audience: Option<String>,
}

/// A rendered message, as `send_message` without a body would send it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Preview {
    pub subject: Option<String>,
    pub body: String,
}

/// The post-mortem: the latest saved version, or the draft when none is saved (`version` 0).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Postmortem {
    pub incident: IncidentId,
    pub version: u32,
    pub markdown: String,
    pub published_version: Option<u32>,
    /// Published on the status page too.
    pub public: bool,
}

impl From<PostmortemView> for Postmortem {
    fn from(view: PostmortemView) -> Self {
        let PostmortemView {
            incident,
            version,
            markdown,
            published_version,
            public,
        } = view;
        Self {
            incident,
            version,
            markdown,
            published_version,
            public,
        }
    }
}

/// A fresh draft written from the incident as it is now.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Draft {
    pub incident: IncidentId,
    pub markdown: String,
}

/// One action item, with the incident it came from.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ActionItemInfo {
    pub incident: String,
    /// Its number within the incident (for `update_action_item`).
    pub item: u32,
    pub title: String,
    pub owner: PersonId,
    pub horizon: Horizon,
    pub status: ActionStatus,
    pub root_cause: Option<String>,
    pub created_at: Millis,
    pub due_at: Millis,
    pub closed_at: Option<Millis>,
    /// Open and past its due date.
    pub overdue: bool,
}

/// Action items, soonest due first.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ActionItemList {
    pub items: Vec<ActionItemInfo>,
}

pub(crate) async fn preview(
    State(engine): Shared,
    path: Result<Path<String>, PathRejection>,
    ApiJson(request): ApiJson<PreviewRequest>,
) -> Result<Json<Preview>, ApiError> {
    let id = incident_id(path)?;
    let rendered = engine
        .preview_message(&id, request.audience.as_deref(), &request.template)
        .await?;
    Ok(Json(Preview {
        subject: rendered.subject,
        body: rendered.body,
    }))
}

pub(crate) async fn postmortem(
    State(engine): Shared,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Postmortem>, ApiError> {
    let id = incident_id(path)?;
    Ok(Json(engine.postmortem(&id).await?.into()))
}

pub(crate) async fn draft(
    State(engine): Shared,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Draft>, ApiError> {
    let id = incident_id(path)?;
    let markdown = engine.postmortem_draft(&id).await?;
    Ok(Json(Draft {
        incident: id,
        markdown,
    }))
}

pub(crate) async fn action_items(
    State(engine): Shared,
    pairs: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<ActionItemList>, ApiError> {
    let Query(pairs) = pairs.map_err(|rejection| {
        ApiError::bad_request(
            "invalid-query",
            format!("the query string cannot be read: {}", rejection.body_text()),
        )
    })?;
    let now = engine.now();
    let filter = query::action_item_query(&pairs, &engine.plan().plan, now)?;
    let items = engine.action_items(&filter).await?;
    Ok(Json(ActionItemList {
        items: items
            .into_iter()
            .map(|record| ActionItemInfo {
                overdue: record.status.is_open() && now > record.due_at,
                incident: record.incident,
                item: record.item,
                title: record.title,
                owner: record.owner,
                horizon: record.horizon,
                status: record.status,
                root_cause: record.root_cause,
                created_at: record.created_at,
                due_at: record.due_at,
                closed_at: record.closed_at,
            })
            .collect(),
    }))
}
