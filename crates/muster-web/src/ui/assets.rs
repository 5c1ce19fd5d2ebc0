//! The stylesheet and the small script, compiled in. They change only with the binary, so they
//! are cached for a day and revalidated by their version.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../../assets/muster.css");
const JS: &str = include_str!("../../assets/muster.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::ETAG, concat!("\"", env!("CARGO_PKG_VERSION"), "\"")),
        ],
        body,
    )
        .into_response()
}

pub(crate) async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

pub(crate) async fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}
