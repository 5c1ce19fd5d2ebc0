//! Muster's domain, kept pure: the plan model and everything that can be decided about a plan
//! without touching the outside world.
//!
//! Architecture invariant: this crate performs no IO and reads no clock. Callers hand in file
//! contents and `now`; the crate hands back values and diagnostics.

pub mod access;
pub mod alert;
pub mod diagnostic;
pub mod incident;
pub mod message;
pub mod metrics;
pub mod plan;
pub mod postmortem;
