//! The plan as code: model, loading with positions, validation, rendering, readiness.

pub mod coverage;
pub mod model;
pub mod oncall;
pub mod render;
pub mod values;

pub use model::*;
