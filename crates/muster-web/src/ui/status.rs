//! The public status page.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use muster_engine::Engine;

pub(crate) async fn page(State(_engine): State<Arc<Engine>>) -> Response {
    "status".into_response()
}

pub(crate) async fn feed(State(_engine): State<Arc<Engine>>) -> Response {
    "feed".into_response()
}

pub(crate) async fn summary(State(_engine): State<Arc<Engine>>) -> Response {
    "{}".into_response()
}
