//! Plan pages: the rendered plan, scenarios with their runbooks, on-call week view.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use muster_engine::Engine;

use crate::ui::Session;

pub(crate) async fn document(State(_engine): State<Arc<Engine>>, _session: Session) -> Response {
    crate::ui::see_other("/incidents")
}

pub(crate) async fn scenarios(State(_engine): State<Arc<Engine>>, _session: Session) -> Response {
    crate::ui::see_other("/incidents")
}

pub(crate) async fn oncall(State(_engine): State<Arc<Engine>>, _session: Session) -> Response {
    crate::ui::see_other("/incidents")
}
