//! Muster's HTTP API: JSON over axum in front of the [`Engine`], with bearer-token
//! authentication, one error shape, and an OpenAPI 3.1 document.
//!
//! Invariants:
//! - Routes, their least roles and their documentation come from one table ([`routes`]); the
//!   router and [`openapi`] are both built from it.
//! - A caller's token and role are checked before anything else about the request is read, so a
//!   caller who may not make a request learns nothing from its body's problems.
//! - Every failure is `{"error": {"code", "message"}}` with a stable kebab-case code and a
//!   message that says what to do; storage details go to the log, not to the client.
//! - Tokens are never logged: request logs carry method, path, status and duration only.

mod ack;
mod auth;
mod body;
mod error;
mod followup;
mod handlers;
pub mod intake;
mod json;
mod metrics;
mod oncall;
mod openapi;
mod query;
mod routes;
mod ui;

use std::sync::Arc;

use muster_engine::Engine;

pub use routes::{Method, Route, routes};

/// The largest JSON body accepted, in bytes (64 KiB).
pub const BODY_LIMIT: usize = 64 * 1024;

/// The API over `engine`: every route of [`routes`], with JSON answers for unknown paths and
/// methods too.
pub fn router(engine: Arc<Engine>) -> axum::Router {
    routes::build(engine)
}

/// Serves the API on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    engine: Arc<Engine>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, database = engine.store().backend(), "serving the API");
    }
    // Live pages hold their connections open; they are told to end when shutdown begins, so
    // the graceful shutdown does not wait for browsers to go away.
    let (closing, closed) = tokio::sync::watch::channel(false);
    let app = router(engine).layer(axum::Extension(ui::Closing(closed)));
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = closing.send(true);
        })
        .await
}

/// The OpenAPI 3.1 document of the API, also served at `GET /api/openapi.json`.
#[must_use]
pub fn openapi() -> serde_json::Value {
    openapi::document().clone()
}
