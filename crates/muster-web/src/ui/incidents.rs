//! Incident pages: list, declare, the incident itself with its live timeline, and its actions.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use muster_engine::Engine;

use crate::ui::{ActionForm, Session};

pub(crate) async fn list(State(_engine): State<Arc<Engine>>, _session: Session) -> Response {
    crate::ui::see_other("/")
}

pub(crate) async fn declare_form(State(_engine): State<Arc<Engine>>, _session: Session) -> Response {
    crate::ui::see_other("/")
}

pub(crate) async fn declare(State(_engine): State<Arc<Engine>>, _form: ActionForm) -> Response {
    crate::ui::see_other("/")
}

pub(crate) async fn page(
    State(_engine): State<Arc<Engine>>,
    _session: Session,
    Path(_id): Path<String>,
) -> Response {
    crate::ui::see_other("/")
}

pub(crate) async fn live(
    State(_engine): State<Arc<Engine>>,
    _session: Session,
    Path(_id): Path<String>,
) -> Response {
    crate::ui::see_other("/")
}

pub(crate) async fn act(
    State(_engine): State<Arc<Engine>>,
    Path((_id, _action)): Path<(String, String)>,
    _form: ActionForm,
) -> Response {
    crate::ui::see_other("/")
}
