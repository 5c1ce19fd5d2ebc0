//! The dashboard (`/`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use muster_engine::Engine;

use crate::ui::Session;

pub(crate) async fn page(State(_engine): State<Arc<Engine>>, _session: Session) -> Response {
    crate::ui::see_other("/incidents")
}
