//! The plan as code: model, loading with positions, validation, rendering, readiness.

pub mod coverage;
pub mod ical;
pub mod load;
pub mod model;
pub mod oncall;
pub mod render;
pub mod structure;
pub mod validate;
pub mod values;
pub mod yaml;

pub use load::{Loaded, Source, load};
pub use model::*;

/// The JSON Schema of a plan file, for editor completion and for the structural check.
/// Generated once per process: it only depends on the model types.
#[must_use]
pub fn json_schema() -> &'static serde_json::Value {
    static SCHEMA: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::to_value(schemars::schema_for!(Plan)).unwrap_or_default())
}
