//! Integration tests for the plan: checking, rendering, on-call maths and readiness.

mod check;
mod coverage;
mod examples;
mod incident;
mod oncall;
mod render;
mod signature;
